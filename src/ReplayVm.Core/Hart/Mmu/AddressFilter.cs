namespace ReplayVm.Core.Hart;

/// <summary>
/// A set of physical addresses, by the bits from <c>shift</c> up, that may answer yes for one it does
/// not hold, never no for one it does. Emptied only when nothing it stood for is left (a full TLB flush).
/// </summary>
internal sealed class AddressFilter(int shift, int bits)
{
    private readonly ulong[] _words = new ulong[Math.Max(1, (1 << bits) / 64)];
    private readonly ulong _mask = (1UL << bits) - 1;

    public void Add(ulong address)
    {
        ulong key = (address >> shift) & _mask;
        _words[key >> 6] |= 1UL << (int)(key & 63);
    }

    public bool MayContain(ulong address)
    {
        ulong key = (address >> shift) & _mask;
        return (_words[key >> 6] & (1UL << (int)(key & 63))) != 0;
    }

    public void Clear() => Array.Clear(_words);
}
