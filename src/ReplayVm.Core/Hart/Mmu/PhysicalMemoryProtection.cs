namespace ReplayVm.Core.Hart;

/// <summary>
/// PMP (privileged spec 3.7): 16 entries, each a config byte (R, W, X, A, L) and an address
/// register. Checks are in entry order; the first entry matching any byte of an access decides
/// it, and must cover the whole access. With no match, M-mode succeeds and S/U-mode fails
/// (entries are implemented). Unlocked entries do not constrain M-mode.
/// </summary>
public sealed class PhysicalMemoryProtection
{
    public const int Entries = 16;
    private const byte Read = 1, Write = 2, Execute = 4, Locked = 0x80;
    private const int ModeOff = 0, ModeTor = 1, ModeNa4 = 2, ModeNapot = 3;

    private readonly byte[] _config = new byte[Entries];
    private readonly ulong[] _address = new ulong[Entries];

    /// <summary>
    /// The active entries' byte ranges and config, in priority order, recomputed when an entry
    /// changes: every page walk checks PMP several times (each table read, the leaf, the whole page
    /// for the TLB), so a check must not decode the 16 address registers again.
    /// </summary>
    private readonly ulong[] _activeLow = new ulong[Entries], _activeHigh = new ulong[Entries];
    private readonly byte[] _activeConfig = new byte[Entries];
    private int _activeCount;

    /// <summary>
    /// True if some entry is active (A != OFF). M-mode accesses then need checking too: a locked
    /// entry binds M-mode, and any entry that matches only part of an access makes it fail, in
    /// every mode (3.7.1).
    /// </summary>
    public bool AnyActive { get; private set; }

    public byte GetConfig(int index) => _config[index];
    public ulong GetAddress(int index) => _address[index];

    public void SetConfig(int index, byte value)
    {
        if ((_config[index] & Locked) != 0) return;
        // Bits 6:5 are reserved (read-only zero); R=0,W=1 is reserved: QEMU keeps it, and so do we.
        _config[index] = (byte)(value & 0x9F);
        EntriesChanged();
    }

    public void SetAddress(int index, ulong value)
    {
        if ((_config[index] & Locked) != 0) return;
        // A locked TOR entry also locks the address register below it (3.7.1).
        if (index + 1 < Entries && (_config[index + 1] & Locked) != 0 && ((_config[index + 1] >> 3) & 3) == ModeTor) return;
        _address[index] = value & ((1UL << 54) - 1);
        EntriesChanged();
    }

    /// <summary>Puts back entries copied out with <see cref="GetConfig"/> and <see cref="GetAddress"/> (checkpoints).</summary>
    public void Restore(ReadOnlySpan<byte> config, ReadOnlySpan<ulong> address)
    {
        config.CopyTo(_config);
        address.CopyTo(_address);
        EntriesChanged();
    }

    public void Reset()
    {
        Array.Clear(_config);
        Array.Clear(_address);
        EntriesChanged();
    }

    private void EntriesChanged()
    {
        AnyActive = Array.Exists(_config, c => ((c >> 3) & 3) != ModeOff);
        _activeCount = 0;
        for (int i = 0; i < Entries; i++)
        {
            if (!TryRange(i, _config[i], out ulong lo, out ulong hi)) continue;
            _activeLow[_activeCount] = lo;
            _activeHigh[_activeCount] = hi;
            _activeConfig[_activeCount] = _config[i];
            _activeCount++;
        }
    }

    /// <summary>Whether <paramref name="mode"/> may access [address, address + size) for <paramref name="type"/>.</summary>
    public bool Allows(ulong address, ulong size, AccessType type, PrivilegeLevel mode)
    {
        ulong last = address + size - 1;
        for (int i = 0; i < _activeCount; i++)
        {
            ulong lo = _activeLow[i], hi = _activeHigh[i];
            if (address > hi || last < lo) continue;
            byte cfg = _activeConfig[i];
            if (address < lo || last > hi) return false; // an access matching only partly fails (3.7.1)
            if (mode == PrivilegeLevel.Machine && (cfg & Locked) == 0) return true;
            byte need = type switch { AccessType.Fetch => Execute, AccessType.Load => Read, _ => Write };
            return (cfg & need) != 0;
        }
        return mode == PrivilegeLevel.Machine;
    }

    /// <summary>The inclusive byte range of an active entry.</summary>
    private bool TryRange(int i, byte cfg, out ulong lo, out ulong hi)
    {
        lo = hi = 0;
        ulong a = _address[i];
        switch ((cfg >> 3) & 3)
        {
            case ModeTor:
                lo = i == 0 ? 0 : _address[i - 1] << 2;
                ulong top = a << 2;
                if (top <= lo) return false;
                hi = top - 1;
                return true;
            case ModeNa4:
                lo = a << 2;
                hi = lo + 3;
                return true;
            case ModeNapot:
            {
                int ones = System.Numerics.BitOperations.TrailingZeroCount(~a);
                if (ones >= 54) { lo = 0; hi = ulong.MaxValue; return true; }
                ulong size = 8UL << ones;
                lo = (a & ~((1UL << ones) - 1)) << 2;
                hi = lo + size - 1;
                return true;
            }
        }
        return false;
    }
}
