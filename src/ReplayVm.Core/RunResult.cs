namespace ReplayVm.Core;

/// <summary>Why <see cref="Machine.Run"/> returned.</summary>
public enum StopReason
{
    /// <summary>The guest asked to stop (sifive_test finisher or HTIF); see <see cref="RunResult.ExitCode"/>.</summary>
    GuestExit,
    /// <summary>The instruction budget was used up.</summary>
    InstructionLimit,
    /// <summary>The guest traps on the same instruction again and again with no way out (no handler).</summary>
    TrapLoop,
    /// <summary>The host asked the machine to stop (<see cref="Machine.RequestStop"/>).</summary>
    HostRequest,
    /// <summary>A debugger breakpoint or watchpoint stopped the run; see <see cref="Machine.TakeDebugStop"/>.</summary>
    DebugStop,
}

/// <summary>The outcome of a run: why it stopped, the guest's exit code, and how far it got.</summary>
public readonly record struct RunResult(StopReason Reason, int ExitCode, ulong InstructionsRetired, string? Detail);
