using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Symbols.Info;

namespace ReplayVm.Debugger.Frames;

/// <summary>
/// One frame of the guest's stack as the unwinder recovered it: its pc, CFA and the registers it
/// knows (x registers by DWARF number 0–31; a register a callee did not save and that is not
/// callee-saved is unknown in callers). Frame 0 is the hart itself.
/// </summary>
public sealed class StackFrame : IFrameContext
{
    private readonly ulong?[] _registers;
    private readonly Hart _hart;

    internal StackFrame(int level, ulong pc, ulong?[] registers, ulong? cfa, Hart hart, DwarfDie? function)
    {
        Level = level;
        Pc = pc;
        _registers = registers;
        Cfa = cfa;
        _hart = hart;
        Function = function;
    }

    public int Level { get; }
    public ulong Pc { get; }
    public ulong? Cfa { get; }
    /// <summary>The function's DWARF entry (null without debug info for this pc).</summary>
    public DwarfDie? Function { get; }

    /// <summary>
    /// Where to look up this frame's line and scope: the pc itself for frame 0, pc − 1 for callers
    /// (their pc is a return address, which may already belong to the next line or function).
    /// </summary>
    public ulong LookupPc => Level == 0 ? Pc : Pc - 1;

    public ulong? Register(int dwarfRegister) => dwarfRegister switch
    {
        0 => 0,
        > 0 and < 32 => _registers[dwarfRegister],
        >= 32 and < 64 when Level == 0 => _hart.GetF(dwarfRegister - 32),
        _ => null,
    };

    public bool ReadMemory(ulong address, Span<byte> destination) => VirtualMemoryView.Read(_hart, address, destination);

    internal ulong?[] Registers => _registers;
}
