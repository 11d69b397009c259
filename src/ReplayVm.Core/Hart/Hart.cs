using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Hart;

/// <summary>
/// One RV64IMAC hart with M, S and U modes. This file holds the architectural state and the
/// fetch/execute loop; the instruction groups, memory access, CSRs and traps live in the other
/// parts of this partial class.
///
/// Time: the hart counts <see cref="Steps"/> — instructions retired plus exceptions taken — and
/// that count is the machine's only clock (see <see cref="GuestClock"/>). Nothing here reads the
/// host's time, so a run is a function of its initial state and its input log.
/// </summary>
public sealed unsafe partial class Hart
{
    /// <summary>Register slot that absorbs writes to x0, so that x0 always reads zero without a test per write.</summary>
    public const byte ZeroSink = 32;

    private readonly ulong[] _x = GC.AllocateArray<ulong>(33, pinned: true);
    /// <summary>Registers and RAM are pinned: the hot path reaches them through raw pointers, free of bounds checks.</summary>
    private readonly ulong* _xp;
    private readonly byte* _ramPointer;
    private readonly uint* _pageEpochs;
    /// <summary>Decode slot [0] for instructions that are not cached: fetched from outside RAM (the boot
    /// ROM) or split across two pages. Slots [1] and [2] stay empty (<see cref="Opcode.NotDecoded"/>)
    /// forever, so the fast path's step to the next slot (1 or 2 further) always lands on an empty one
    /// and leaves through the full fetch path, without a flag of its own to test.</summary>
    private readonly DecodedInstruction[] _uncachedSlot = GC.AllocateArray<DecodedInstruction>(3, pinned: true);
    /// <summary>Address of slot [0] of <see cref="_uncachedSlot"/>, which is pinned: one compare tells an uncached instruction.</summary>
    private readonly void* _uncachedPointer;
    private readonly MainMemory _ram;
    private readonly Bus _bus;
    private readonly ulong _ramBase;
    private readonly ulong _ramSize;
    private readonly DecodedInstruction[]?[]?[] _decodedChunks;

    public Hart(Bus bus)
    {
        _bus = bus;
        _ram = bus.Ram;
        _ramBase = _ram.Base;
        _ramSize = _ram.Size;
        _decodedChunks = _ram.DecodedChunks;
        _xp = (ulong*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_x));
        _uncachedPointer = Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_uncachedSlot));
        _ramPointer = _ram.Pointer;
        _pageEpochs = _ram.EpochPointer;
        Clock = new GuestClock(this);
        _ram.CodeInvalidated = CodeChanged;
        _ram.PageTablesWritten = PageTablesChanged;
        Reset();
    }

    public ulong Pc;
    public PrivilegeLevel Mode { get; private set; }

    /// <summary>Instructions retired plus exceptions taken: the hart's position in time.</summary>
    public ulong Steps;

    /// <summary>Exceptions taken so far; <c>Steps - ExceptionsTaken</c> is the retired-instruction count.</summary>
    public ulong ExceptionsTaken { get; private set; }

    public ulong InstructionsRetired => Steps - ExceptionsTaken;

    public GuestClock Clock { get; }

    /// <summary>The running slice stops once <see cref="Steps"/> reaches this; anything that may change
    /// which interrupt is deliverable lowers it so the machine looks again after the current instruction.</summary>
    internal ulong SliceEnd;

    /// <summary>Set by WFI: the machine may skip guest time to the next timer event.</summary>
    public bool WaitingForInterrupt { get; internal set; }

    public ulong GetX(int register) => register is > 0 and < 32 ? _x[register] : 0;

    public void SetX(int register, ulong value)
    {
        if (register is > 0 and < 32) _x[register] = value;
    }

    /// <summary>Stops the running slice after the current instruction.</summary>
    public void EndSlice() => SliceEnd = 0;

    public void Reset()
    {
        Array.Clear(_x);
        Pc = 0x1000;
        ResetCsrs();
        Pmp.Reset();
        Mode = PrivilegeLevel.Machine;
        TranslationChanged();
        _reservationAddress = NoReservation;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref ulong X(int index) => ref _xp[index];

    /// <summary>
    /// The full fetch for <paramref name="pc"/> when its decode slot is not at hand: translates it,
    /// decodes into the page's cache (a first execution) or into the uncached slot (a split
    /// instruction, code outside RAM). Returns the slot to execute, or a null ref when the fetch
    /// faulted (the exception has been raised) or, with <paramref name="retry"/>, must be retried.
    /// Kept out of <see cref="RunSlice"/>, so that its temporaries do not compete for the loop's registers.
    /// An armed execute trigger (Sdtrig) fires here, before the fetch, as in QEMU.
    /// While register watches or execute triggers are set, every instruction is executed from a copy in
    /// the uncached slot, whose empty neighbours turn the fast path off (see <see cref="_uncachedSlot"/>).
    /// </summary>
    /// On a page holding breakpoints (<paramref name="breakpointPage"/>) the slot comes from the page's
    /// breakpoint shadow (see <see cref="BreakpointShadowSlot"/>).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ref DecodedInstruction FetchSlow(ulong pc, bool breakpointPage, out bool retry)
    {
        if (_executeTriggersArmed && ExecuteTriggerFires(pc))
        {
            retry = false;
            return ref Unsafe.NullRef<DecodedInstruction>();
        }
        ref DecodedInstruction d = ref FetchFull(pc, out retry, out var source);
        if (Unsafe.IsNullRef(ref d)) return ref d;
        if (!_stepByStep) return ref breakpointPage ? ref BreakpointShadowSlot(pc, source, ref d) : ref d;
        ref DecodedInstruction uncached = ref MemoryMarshal.GetArrayDataReference(_uncachedSlot);
        if (!Unsafe.AreSame(ref d, ref uncached)) uncached = d;
        return ref uncached;
    }

    /// <summary>The fetch itself, as <see cref="FetchSlow"/> describes it, before any step-by-step copy;
    /// <paramref name="source"/> is the decode page the slot lies in (null for an uncached slot).</summary>
    private ref DecodedInstruction FetchFull(ulong pc, out bool retry, out DecodedInstruction[]? source)
    {
        retry = false;
        source = null;
        ref DecodedInstruction uncached = ref MemoryMarshal.GetArrayDataReference(_uncachedSlot);
        ulong fetch = pc;
        if (_fetchViaTlb)
        {
            if (pc >> 12 == _fetchVirtualPage) fetch = _fetchPhysicalPage | (pc & PageMask);
            else if (!TranslateFetch(pc, out fetch)) return ref Unsafe.NullRef<DecodedInstruction>();
            if ((pc & PageMask) == PageMask - 1)
                return ref FetchAcrossPage(pc, fetch, ref uncached) ? ref uncached : ref Unsafe.NullRef<DecodedInstruction>();
        }
        ulong offset = fetch - _ramBase;
        DecodedInstruction[]? page;
        if (offset < _ramSize && (page = MainMemory.DecodedPageAt(_decodedChunks, offset)) is not null)
        {
            ref DecodedInstruction d = ref page[(offset & (MainMemory.PageSize - 1)) >> 1];
            if (d.Op != Opcode.NotDecoded)
            {
                source = page;
                return ref d;
            }
            if (!DecodeInto(ref d, offset)) return ref Unsafe.NullRef<DecodedInstruction>();
            if (d.Length == 4 && (offset & PageMask) == PageMask - 1)
            {
                // Its upper half lies on the next page, which a store could change without this
                // page knowing: such an instruction is executed from a private slot, never cached.
                uncached = d;
                d = default;
                return ref uncached;
            }
            source = page;
            return ref d;
        }
        return ref FetchUncached(fetch, offset, ref uncached, out retry) ? ref uncached : ref Unsafe.NullRef<DecodedInstruction>();
    }

    /// <summary>
    /// Prepares a fetch that missed the decode cache: a RAM page executed for the first time gets
    /// its (empty) cache page, and the caller retries; code outside RAM (the boot ROM) is fetched
    /// through the bus, 16 bits at a time as the C extension allows, into <paramref name="slot"/>.
    /// Returns false when the fetch faulted (the exception has been raised) or must be retried.
    /// </summary>
    private bool FetchUncached(ulong physical, ulong ramOffset, ref DecodedInstruction slot, out bool retry)
    {
        retry = false;
        if (ramOffset < _ramSize)
        {
            _codeFreePage = ulong.MaxValue; // the page may be the one stores last found without code
            _ram.CreateDecodedPage(ramOffset);
            TranslatorStats.DecodePagesCreated++;
            retry = true;
            return false;
        }
        if (!_bus.Read(physical, 2, out ulong low))
        {
            RaiseException(ExceptionCause.InstructionAccessFault, Pc);
            return false;
        }
        uint raw = (uint)low;
        if ((raw & 3) == 3)
        {
            if (!_bus.Read(physical + 2, 2, out ulong high))
            {
                RaiseException(ExceptionCause.InstructionAccessFault, Pc + 2);
                return false;
            }
            raw |= (uint)high << 16;
        }
        slot = Decoder.Decode(raw);
        return true;
    }

    /// <summary>Decodes the instruction at RAM offset <paramref name="offset"/> into its cache slot.</summary>
    private bool DecodeInto(ref DecodedInstruction slot, ulong offset)
    {
        uint raw = Unsafe.ReadUnaligned<ushort>(_ramPointer + offset);
        if ((raw & 3) == 3)
        {
            if (offset + 4 > _ramSize)
            {
                // The upper parcel lies beyond RAM (spec 3.7: the fault reports the faulting portion).
                RaiseException(ExceptionCause.InstructionAccessFault, Pc + 2);
                return false;
            }
            raw = Unsafe.ReadUnaligned<uint>(_ramPointer + offset);
        }
        slot = Decoder.Decode(raw);
        return true;
    }
}
