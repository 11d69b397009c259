namespace ReplayVm.Core.Hart;

/// <summary>A memory range a debugger watches, by virtual address, for reads, writes or both.</summary>
public readonly record struct WatchRange(ulong Address, ulong Length, bool OnRead, bool OnWrite)
{
    public bool Overlaps(ulong address, ulong size) => address < Address + Length && Address < address + size;
}

public enum DebugStopKind
{
    /// <summary>About to execute an instruction at a breakpoint address (it has not run).</summary>
    Breakpoint,
    /// <summary>An instruction accessed a watched range; it has completed.</summary>
    Watchpoint,
    /// <summary>An instruction wrote a watched register (<see cref="DebugStop.Register"/>); it has completed.</summary>
    RegisterWrite,
}

/// <summary>
/// Why a run stopped for the debugger: where, for a watchpoint which access, and for a register
/// write which register.
/// </summary>
public readonly record struct DebugStop(DebugStopKind Kind, ulong Pc, ulong Step, ulong Address, AccessType Access, WatchRange Watch,
    HartRegister Register = default);
