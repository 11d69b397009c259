namespace ReplayVm.Core.Hart;

/// <summary>The state of the trigger module, copied into snapshots: tselect and each trigger's tdata1/tdata2.</summary>
public readonly record struct TriggerState(ulong Select, ulong Control0, ulong Address0, ulong Control1, ulong Address1);

/// <summary>
/// The debug trigger module (Sdtrig, RISC-V Debug Specification ch. 5) as QEMU 7.2 implements it
/// for M-mode software (target/riscv/debug.c): two triggers, each of type 2 (mcontrol) or type 6
/// (mcontrol6), matching addresses on execute, load and store, whose only action is a breakpoint
/// exception (cause 3) with mtval = 0. This type keeps the CSR state and answers "does this access
/// fire a trigger?"; the hart raises the exception.
///
/// What QEMU 7.2 does, and so what this does (each checked by the triggers guest against QEMU):
/// <list type="bullet">
/// <item>tselect accepts only 0 and 1; a larger value leaves it unchanged. tinfo reads 0x44 (types 2
/// and 6) and ignores writes. tdata3 reads 0 and ignores writes. tcontrol, mcontext and scontext do
/// not exist (illegal instruction), so M-mode triggers fire in M-mode without tcontrol.mte.</item>
/// <item>A tdata1 write whose type is 2 or 6 is legalised: type, the size field (only encodings 0,
/// 1, 2, 3 and 5; others become 0 = any), the mode bits (M, S, U; for type 6 also VS, VU) and the
/// execute/store/load bits are kept; dmode, maskmax, hit, select, timing, action, chain and match
/// read 0. So a data-match request (select = 1) becomes an address match. A write of another type
/// is ignored (QEMU 7.2 aborts on types 1 and 8–14; they are ignored here).</item>
/// <item>A trigger is armed when it has an access bit and a mode bit; it fires when the hart's
/// current mode (not MPRV's effective one) is among its mode bits.</item>
/// <item>Execute: the instruction at pc = tdata2 raises the exception instead of executing.</item>
/// <item>Load/store: the watched range is [tdata2, tdata2 + L) with L = 8 for size 0 and otherwise
/// the size field's encoding itself (so "8 bytes", encoding 5, watches 5 bytes, and "4 bytes",
/// encoding 3, watches 3): QEMU passes the encoding where a length is due. A range that wraps
/// past the top of the address space watches nothing. Which bytes an access is checked with
/// follows QEMU's softmmu: see <see cref="LoadFires"/> and <see cref="StoreFires"/>. LR, FP
/// loads and stores count as loads and stores; AMOs and SC (when it reaches memory) as both.</item>
/// </list>
/// </summary>
public sealed class TriggerModule
{
    /// <summary>QEMU 7.2's RV_MAX_TRIGGERS.</summary>
    public const int Count = 2;

    public const uint TselectCsr = 0x7A0, Tdata1Csr = 0x7A1, Tdata2Csr = 0x7A2, Tdata3Csr = 0x7A3, TinfoCsr = 0x7A4;

    /// <summary>tinfo: one bit per supported type (2 = mcontrol, 6 = mcontrol6).</summary>
    public const ulong Tinfo = (1 << 2) | (1 << 6);

    private const int TypeShift = 60;
    private const ulong Load = 1, Store = 2, Execute = 4;
    private const ulong AccessBits = Load | Store | Execute;
    private const ulong ModeU = 1 << 3, ModeS = 1 << 4, ModeM = 1 << 6;
    private const ulong ModeBits = ModeU | ModeS | ModeM;
    private const ulong Type2SizeLo = 3UL << 16, Type2SizeHi = 3UL << 21;
    private const ulong Type6Size = 0xFUL << 16;
    private const ulong Type6VirtualModes = (1UL << 23) | (1UL << 24); // VS, VU: kept, never matched (no H here)

    private ulong _select;
    private readonly ulong[] _control = new ulong[Count];
    private readonly ulong[] _address = new ulong[Count];

    public TriggerModule() => Reset();

    /// <summary>Some trigger watches instruction fetches.</summary>
    public bool ExecuteArmed { get; private set; }

    /// <summary>Some trigger watches loads or stores.</summary>
    public bool DataArmed { get; private set; }

    /// <summary>As QEMU's reset: tselect 0, each trigger a disarmed type 2 with tdata2 = 0.</summary>
    public void Reset()
    {
        _select = 0;
        for (int i = 0; i < Count; i++)
        {
            _control[i] = 2UL << TypeShift;
            _address[i] = 0;
        }
        UpdateArmed();
    }

    public TriggerState Capture() => new(_select, _control[0], _address[0], _control[1], _address[1]);

    public void Restore(TriggerState state)
    {
        _select = state.Select < Count ? state.Select : 0;
        _control[0] = state.Control0;
        _address[0] = state.Address0;
        _control[1] = state.Control1;
        _address[1] = state.Address1;
        UpdateArmed();
    }

    public static bool IsTriggerCsr(uint csr) => csr is >= TselectCsr and <= TinfoCsr;

    public ulong Read(uint csr) => csr switch
    {
        TselectCsr => _select,
        Tdata1Csr => _control[_select],
        Tdata2Csr => _address[_select],
        TinfoCsr => Tinfo,
        _ => 0, // tdata3: no textra fields in QEMU 7.2
    };

    public void Write(uint csr, ulong value)
    {
        switch (csr)
        {
            case TselectCsr:
                if (value < Count) _select = value;
                break;
            case Tdata1Csr:
                switch (value >> TypeShift)
                {
                    case 2: _control[_select] = LegaliseMcontrol(value); break;
                    case 6: _control[_select] = LegaliseMcontrol6(value); break;
                }
                break;
            case Tdata2Csr:
                _address[_select] = value;
                break;
        }
        UpdateArmed();
    }

    private static ulong LegaliseMcontrol(ulong value)
    {
        ulong result = (2UL << TypeShift) | (value & (ModeBits | AccessBits));
        ulong size = ((value & Type2SizeHi) >> 19) | ((value & Type2SizeLo) >> 16);
        if (SizeSupported(size)) result |= value & (Type2SizeHi | Type2SizeLo);
        return result;
    }

    private static ulong LegaliseMcontrol6(ulong value)
    {
        ulong result = (6UL << TypeShift) | (value & (Type6VirtualModes | ModeBits | AccessBits));
        if (SizeSupported((value & Type6Size) >> 16)) result |= value & Type6Size;
        return result;
    }

    /// <summary>QEMU's access_size table: any, 1, 2, 4 and 8 bytes (encodings 0, 1, 2, 3, 5).</summary>
    private static bool SizeSupported(ulong encoding) => encoding is 0 or 1 or 2 or 3 or 5;

    private static ulong SizeEncoding(ulong control) => control >> TypeShift == 6
        ? (control & Type6Size) >> 16
        : ((control & Type2SizeHi) >> 19) | ((control & Type2SizeLo) >> 16);

    private void UpdateArmed()
    {
        bool execute = false, data = false;
        for (int i = 0; i < Count; i++)
        {
            ulong c = _control[i];
            if ((c & ModeBits) == 0) continue;
            execute |= (c & Execute) != 0;
            data |= (c & (Load | Store)) != 0;
        }
        ExecuteArmed = execute;
        DataArmed = data;
    }

    /// <summary>The mode bit of mcontrol/mcontrol6 for a privilege level: U bit 3, S bit 4, M bit 6.</summary>
    private static ulong ModeBit(PrivilegeLevel mode) => 1UL << (3 + (int)mode);

    /// <summary>Whether fetching the instruction at <paramref name="pc"/> in <paramref name="mode"/> fires a trigger.</summary>
    public bool ExecuteFires(ulong pc, PrivilegeLevel mode)
    {
        ulong modeBit = ModeBit(mode);
        for (int i = 0; i < Count; i++)
            if ((_control[i] & Execute) != 0 && (_control[i] & modeBit) != 0 && _address[i] == pc) return true;
        return false;
    }

    /// <summary>
    /// Whether a load of <paramref name="size"/> bytes at <paramref name="address"/> fires a load
    /// trigger. QEMU checks an aligned access as itself, and a misaligned one as the two aligned
    /// accesses of the same size that it is split into (softmmu's load_helper).
    /// </summary>
    public bool LoadFires(ulong address, int size, PrivilegeLevel mode) =>
        AlignedChunksFire(address, size, Load, ModeBit(mode));

    /// <summary>
    /// Whether a store fires a store trigger. QEMU checks an aligned store as itself and a
    /// misaligned one that crosses a page as its bytes; a misaligned store within one page is
    /// checked (softmmu's store_helper_unaligned, whose length underflows there) as the range
    /// from the start of its page to its last byte.
    /// </summary>
    public bool StoreFires(ulong address, int size, PrivilegeLevel mode)
    {
        ulong s = (ulong)size;
        ulong start = address;
        if ((address & (s - 1)) != 0 && (address & 0xFFF) + s <= 0x1000) start = address & ~0xFFFUL;
        return AnyFires(start, address + s - start, Store, ModeBit(mode));
    }

    /// <summary>AMOs and an SC that reaches memory: QEMU's atomic lookup checks them as loads and stores at once.</summary>
    public bool AtomicFires(ulong address, int size, PrivilegeLevel mode) =>
        AnyFires(address, (ulong)size, Load | Store, ModeBit(mode));

    private bool AlignedChunksFire(ulong address, int size, ulong access, ulong modeBit)
    {
        ulong s = (ulong)size;
        if ((address & (s - 1)) == 0) return AnyFires(address, s, access, modeBit);
        ulong first = address & ~(s - 1);
        return AnyFires(first, s, access, modeBit) || AnyFires(first + s, s, access, modeBit);
    }

    private bool AnyFires(ulong start, ulong length, ulong access, ulong modeBit)
    {
        for (int i = 0; i < Count; i++)
        {
            ulong c = _control[i];
            if ((c & access) == 0 || (c & modeBit) == 0) continue;
            ulong encoding = SizeEncoding(c);
            ulong watched = encoding == 0 ? 8 : encoding;
            ulong from = _address[i];
            if (from + watched - 1 < from) continue; // QEMU refuses a watchpoint that wraps
            // Inclusive ends, as QEMU compares them, so that an access ending at 2^64 needs no special case.
            if (start <= from + watched - 1 && from <= start + length - 1) return true;
        }
        return false;
    }
}
