namespace ReplayVm.Core.Hart;

/// <summary>
/// One trap entry as the hart took it (privileged spec 3.1.6.1, 3.1.15–3.1.16): an exception or an
/// interrupt, where it interrupted the program and which mode it went from and to.
/// </summary>
/// <param name="Step">For an exception, the step of the instruction that trapped (the trap is that step);
/// for an interrupt, the step it was taken before (an interrupt takes no step of its own).</param>
/// <param name="Cause">The exception code or interrupt number: xcause without its interrupt bit.</param>
/// <param name="Pc">The pc saved in mepc/sepc: where the program resumes after xRET.</param>
public readonly record struct TrapEntry(ulong Step, ulong Cause, bool Interrupt, ulong Pc, ulong Tval, PrivilegeLevel From, PrivilegeLevel To);

/// <summary>One MRET or SRET (privileged spec 3.3.2): the step and pc of the instruction, the mode it leaves and the mode and pc it returns to.</summary>
public readonly record struct TrapReturn(ulong Step, ulong Pc, PrivilegeLevel From, PrivilegeLevel To, ulong Target);

/// <summary>
/// Told of every trap entry and trap return, on the thread running the hart, while it runs: a
/// debugger's index of where traps happen. It must not change the machine (runs stay a function
/// of their inputs) and should return quickly. Not part of the machine's state: snapshots neither
/// save nor restore it.
/// </summary>
public interface ITrapObserver
{
    void TrapTaken(in TrapEntry entry);

    void TrapReturned(in TrapReturn trapReturn);
}
