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
public sealed partial class Hart
{
    /// <summary>Register slot that absorbs writes to x0, so that x0 always reads zero without a test per write.</summary>
    public const byte ZeroSink = 32;

    private readonly ulong[] _x = new ulong[33];
    private readonly MainMemory _ram;
    private readonly Bus _bus;
    private readonly ulong _ramBase;
    private readonly ulong _ramSize;
    private readonly DecodedInstruction[]?[] _decodedPages;

    public Hart(Bus bus)
    {
        _bus = bus;
        _ram = bus.Ram;
        _ramBase = _ram.Base;
        _ramSize = _ram.Size;
        _decodedPages = _ram.DecodedPages;
        Clock = new GuestClock(this);
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
        Mode = PrivilegeLevel.Machine;
        ResetCsrs();
        _reservationAddress = NoReservation;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref ulong X(int index) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_x), index);

    /// <summary>Runs instructions until <see cref="Steps"/> reaches <see cref="SliceEnd"/>.</summary>
    public void RunSlice(ulong sliceEnd)
    {
        SliceEnd = sliceEnd;
        while (Steps < SliceEnd)
        {
            ulong offset = Pc - _ramBase;
            DecodedInstruction[]? page;
            if (offset < _ramSize && (page = _decodedPages[offset >> MainMemory.PageShift]) is not null)
            {
                ref DecodedInstruction d = ref page[(int)(offset & (MainMemory.PageSize - 1)) >> 1];
                if (d.Op == Opcode.NotDecoded && !DecodeInto(ref d, offset))
                {
                    Steps++;
                    continue;
                }
                Execute(ref d);
            }
            else
            {
                ExecuteUncached(offset);
            }
            Steps++;
        }
    }

    /// <summary>Fetch outside the decode cache: a RAM page seen for the first time, or code in ROM.</summary>
    private void ExecuteUncached(ulong ramOffset)
    {
        if (ramOffset < _ramSize)
        {
            var page = _decodedPages[ramOffset >> MainMemory.PageShift] = new DecodedInstruction[MainMemory.SlotsPerPage];
            ref DecodedInstruction slot = ref page[(int)(ramOffset & (MainMemory.PageSize - 1)) >> 1];
            if (DecodeInto(ref slot, ramOffset)) Execute(ref slot);
            return;
        }
        // Not RAM: fetch through the bus (the boot ROM), 16 bits at a time as the C extension allows.
        if (!_bus.Read(Pc, 2, out ulong low))
        {
            RaiseException(ExceptionCause.InstructionAccessFault, Pc);
            return;
        }
        uint raw = (uint)low;
        if ((raw & 3) == 3)
        {
            if (!_bus.Read(Pc + 2, 2, out ulong high))
            {
                RaiseException(ExceptionCause.InstructionAccessFault, Pc + 2);
                return;
            }
            raw |= (uint)high << 16;
        }
        var d = Decoder.Decode(raw);
        Execute(ref d);
    }

    /// <summary>Decodes the instruction at RAM offset <paramref name="offset"/> into its cache slot.</summary>
    private bool DecodeInto(ref DecodedInstruction slot, ulong offset)
    {
        uint raw = Unsafe.ReadUnaligned<ushort>(ref _ram.At(offset));
        if ((raw & 3) == 3)
        {
            if (offset + 4 > _ramSize)
            {
                // The upper parcel lies beyond RAM (spec 3.7: the fault reports the faulting portion).
                RaiseException(ExceptionCause.InstructionAccessFault, Pc + 2);
                return false;
            }
            raw = Unsafe.ReadUnaligned<uint>(ref _ram.At(offset));
        }
        slot = Decoder.Decode(raw);
        return true;
    }
}
