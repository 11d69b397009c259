using ReplayVm.Core.Hart;

namespace ReplayVm.Replay.Timeline;

/// <summary>The kinds of trap a <see cref="TimelineIndex"/> tells apart; combine them to ask about several at once.</summary>
[Flags]
public enum TrapMarkerKinds
{
    None = 0,
    /// <summary>A synchronous exception other than an environment call: faults, illegal instructions, breakpoints, misalignment.</summary>
    Exception = 1,
    /// <summary>ECALL from U, S or M mode (exception codes 8, 9, 11).</summary>
    Ecall = 2,
    /// <summary>Software interrupts (SSI, MSI).</summary>
    SoftwareInterrupt = 4,
    /// <summary>Timer interrupts (STI, MTI).</summary>
    TimerInterrupt = 8,
    /// <summary>External interrupts (SEI, MEI).</summary>
    ExternalInterrupt = 16,
    /// <summary>Every synchronous trap, ecalls included: what "next trap" jumps to.</summary>
    Traps = Exception | Ecall,
    Interrupts = SoftwareInterrupt | TimerInterrupt | ExternalInterrupt,
    All = Traps | Interrupts,
}

/// <summary>
/// Where a trap was taken: the step (for an exception, the trapping instruction's; for an
/// interrupt, the step it was taken before: seeking there shows the interrupted instruction about
/// to run), the pc saved in xepc, the cause and the modes it went from and to.
/// </summary>
public readonly record struct TrapMarker(ulong Step, ulong Pc, byte Cause, bool Interrupt, PrivilegeLevel From, PrivilegeLevel To)
{
    public static TrapMarker Of(in TrapEntry entry) =>
        new(entry.Step, entry.Pc, (byte)entry.Cause, entry.Interrupt, entry.From, entry.To);

    public TrapMarkerKinds Kind => KindOf(Interrupt, Cause);

    /// <summary>The kind of a cause (privileged spec 3.1.15, table 3.6).</summary>
    public static TrapMarkerKinds KindOf(bool interrupt, ulong cause) => (interrupt, cause) switch
    {
        (true, InterruptCause.SupervisorSoftware or InterruptCause.MachineSoftware) => TrapMarkerKinds.SoftwareInterrupt,
        (true, InterruptCause.SupervisorTimer or InterruptCause.MachineTimer) => TrapMarkerKinds.TimerInterrupt,
        (true, _) => TrapMarkerKinds.ExternalInterrupt,
        (false, ExceptionCause.EcallFromU or ExceptionCause.EcallFromS or ExceptionCause.EcallFromM) => TrapMarkerKinds.Ecall,
        _ => TrapMarkerKinds.Exception,
    };

    /// <summary>"illegal instruction", "timer interrupt (M)", "ecall from U": the cause as the spec names it.</summary>
    public string CauseName => TrapCauseNames.Describe(Interrupt, Cause);

    public override string ToString() =>
        $"step {Step}: {CauseName} at pc 0x{Pc:x}, {ModeLetter(From)} -> {ModeLetter(To)}";

    private static char ModeLetter(PrivilegeLevel mode) => mode switch
    {
        PrivilegeLevel.User => 'U',
        PrivilegeLevel.Supervisor => 'S',
        _ => 'M',
    };
}

/// <summary>The names of mcause values (privileged spec 3.1.15, table 3.6).</summary>
public static class TrapCauseNames
{
    public static string Describe(bool interrupt, ulong cause) => interrupt
        ? cause switch
        {
            1 => "software interrupt (S)",
            3 => "software interrupt (M)",
            5 => "timer interrupt (S)",
            7 => "timer interrupt (M)",
            9 => "external interrupt (S)",
            11 => "external interrupt (M)",
            _ => $"interrupt {cause}",
        }
        : cause switch
        {
            0 => "instruction address misaligned",
            1 => "instruction access fault",
            2 => "illegal instruction",
            3 => "breakpoint",
            4 => "load address misaligned",
            5 => "load access fault",
            6 => "store/AMO address misaligned",
            7 => "store/AMO access fault",
            8 => "ecall from U",
            9 => "ecall from S",
            11 => "ecall from M",
            12 => "instruction page fault",
            13 => "load page fault",
            15 => "store/AMO page fault",
            _ => $"exception {cause}",
        };
}
