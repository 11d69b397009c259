namespace ReplayVm.Core.Hart;

/// <summary>Exception codes of mcause when the interrupt bit is clear (privileged spec 3.1.15, table 3.6).</summary>
public static class ExceptionCause
{
    public const ulong InstructionMisaligned = 0;
    public const ulong InstructionAccessFault = 1;
    public const ulong IllegalInstruction = 2;
    public const ulong Breakpoint = 3;
    public const ulong LoadMisaligned = 4;
    public const ulong LoadAccessFault = 5;
    public const ulong StoreMisaligned = 6;
    public const ulong StoreAccessFault = 7;
    public const ulong EcallFromU = 8;
    public const ulong EcallFromS = 9;
    public const ulong EcallFromM = 11;
    public const ulong InstructionPageFault = 12;
    public const ulong LoadPageFault = 13;
    public const ulong StorePageFault = 15;
}

/// <summary>Interrupt numbers, which are also their bit positions in mip/mie (privileged spec 3.1.9).</summary>
public static class InterruptCause
{
    public const int SupervisorSoftware = 1;
    public const int MachineSoftware = 3;
    public const int SupervisorTimer = 5;
    public const int MachineTimer = 7;
    public const int SupervisorExternal = 9;
    public const int MachineExternal = 11;

    /// <summary>
    /// The order in which simultaneous interrupts are taken (privileged spec 3.1.9):
    /// MEI, MSI, MTI, SEI, SSI, STI.
    /// </summary>
    public static ReadOnlySpan<int> Priority => [MachineExternal, MachineSoftware, MachineTimer, SupervisorExternal, SupervisorSoftware, SupervisorTimer];
}
