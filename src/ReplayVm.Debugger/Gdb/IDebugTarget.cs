using ReplayVm.Core.Hart;

namespace ReplayVm.Debugger.Gdb;

/// <summary>
/// What a debugger front end (the gdb server, later a TUI) needs from a machine that can be inspected and
/// run forwards and backwards. The time-travel timeline implements it over a replayed trace; tests
/// implement it with a scripted fake. Calls arrive from one thread at a time; only
/// <see cref="Continue"/> / <see cref="ReverseContinue"/> may be cancelled from another thread through
/// their token.
/// </summary>
public interface IDebugTarget
{
    /// <summary>Instructions retired since the start of the recording: the "when" of the current state.</summary>
    ulong CurrentStep { get; }

    /// <summary>
    /// Null when registers and memory may be written; otherwise why not, in words for the user (a
    /// recording is history: "a recording is read-only ...").
    /// </summary>
    string? WriteRefusal { get; }

    /// <summary>The current privilege mode (privileged spec 1.2, table 1.1).</summary>
    PrivilegeLevel Privilege { get; }

    /// <summary>Reads integer register x<paramref name="index"/> (0..31); x0 reads 0.</summary>
    ulong ReadIntegerRegister(int index);

    /// <summary>Writes x<paramref name="index"/>; false if the target refuses (a replay may forbid writes). Writes to x0 are ignored.</summary>
    bool WriteIntegerRegister(int index, ulong value);

    /// <summary>The address of the next instruction to execute.</summary>
    ulong ReadPc();

    /// <summary>Moves the pc; false if the target refuses.</summary>
    bool WritePc(ulong value);

    /// <summary>Raw 64-bit contents of f<paramref name="index"/> (0..31); single-precision values are NaN-boxed (unprivileged spec 13.2).</summary>
    ulong ReadFloatRegister(int index);

    /// <summary>Writes the raw bits of f<paramref name="index"/>; false if the target refuses.</summary>
    bool WriteFloatRegister(int index, ulong value);

    /// <summary>Reads a CSR by its 12-bit number (fflags = 0x001, frm = 0x002, fcsr = 0x003 included); false if it does not exist.</summary>
    bool TryReadCsr(int number, out ulong value);

    /// <summary>Writes a CSR; false if it does not exist, is read-only, or the target refuses.</summary>
    bool TryWriteCsr(int number, ulong value);

    /// <summary>
    /// Reads memory at a virtual address as the hart currently sees it (current translation and privilege).
    /// False if any byte of the range is unmapped or inaccessible; then the contents of
    /// <paramref name="destination"/> are unspecified.
    /// </summary>
    bool ReadMemory(ulong address, Span<byte> destination);

    /// <summary>Writes memory at a virtual address; false if any byte is unmapped or the target refuses.</summary>
    bool WriteMemory(ulong address, ReadOnlySpan<byte> source);

    /// <summary>
    /// Inserts a breakpoint or watchpoint. <paramref name="length"/> is the breakpoint kind gdb sends
    /// (2 or 4 bytes of instruction) or the number of watched bytes. False if it cannot be set.
    /// Inserting the same point twice is allowed and needs two removals.
    /// </summary>
    bool InsertBreakpoint(BreakpointType type, ulong address, ulong length);

    /// <summary>Removes a point set by <see cref="InsertBreakpoint"/>; false if there was none.</summary>
    bool RemoveBreakpoint(BreakpointType type, ulong address, ulong length);

    /// <summary>Executes one instruction forwards (or stops at the end of the recording).</summary>
    StopEvent Step();

    /// <summary>Undoes one instruction (or stops at the beginning of the recording).</summary>
    StopEvent ReverseStep();

    /// <summary>
    /// Runs forwards until a breakpoint, watchpoint, the end, or cancellation (which stops with
    /// <see cref="StopReason.Interrupted"/>). <paramref name="progress"/>, when given, hears how far a
    /// long run has got, on the running thread.
    /// </summary>
    StopEvent Continue(CancellationToken cancellation, IProgress<RunProgress>? progress = null);

    /// <summary>
    /// Runs backwards to the most recent breakpoint or watchpoint hit before the current position (what
    /// gdb expects from reverse-continue), the beginning, or until cancelled.
    /// </summary>
    StopEvent ReverseContinue(CancellationToken cancellation, IProgress<RunProgress>? progress = null);

    /// <summary>
    /// Runs a gdb <c>monitor</c> command and returns its output text. Commands: <c>when</c> (current
    /// instruction count), <c>seek N</c>, <c>checkpoint</c>, <c>info</c>. Unknown commands return a
    /// one-line explanation rather than throwing. A command that moves (a long seek) may be cancelled
    /// and reports progress like <see cref="Continue"/>.
    /// </summary>
    string Monitor(string command, CancellationToken cancellation = default, IProgress<RunProgress>? progress = null);
}

/// <summary>The kinds of points gdb sets with Z0..Z4; the value is the Z packet's type digit.</summary>
public enum BreakpointType
{
    Software = 0,
    Hardware = 1,
    WriteWatch = 2,
    ReadWatch = 3,
    AccessWatch = 4,
}

/// <summary>Which access triggered a watchpoint.</summary>
public enum WatchKind
{
    Write,
    Read,
    Access,
}

/// <summary>Why execution stopped.</summary>
public enum StopReason
{
    /// <summary>A single step (forward or reverse) completed.</summary>
    StepDone,
    /// <summary>Execution reached a breakpoint; the instruction at <see cref="StopEvent.Pc"/> has not run.</summary>
    Breakpoint,
    /// <summary>
    /// An access hit a watchpoint. The stop comes <em>before</em> the accessing instruction in the
    /// direction of travel: forwards it has not run yet (pc = that instruction); backwards it has not been
    /// undone yet (pc = the instruction after it). gdb treats RISC-V watchpoints as non-steppable (as
    /// Sdtrig triggers fire before the access) and single-steps over the instruction itself, so the user
    /// ends up after the write going forwards and just before it going backwards.
    /// </summary>
    Watchpoint,
    /// <summary>The debugger interrupted the run (Ctrl-C).</summary>
    Interrupted,
    /// <summary>
    /// A forward run reached the last recorded instruction. It is a place, not an exit: the client stays
    /// connected and can go back (when the guest's own exit ended the recording,
    /// <see cref="StopEvent.GuestExitStatus"/> says with what status).
    /// </summary>
    EndOfRecording,
    /// <summary>A reverse run reached the first recorded instruction.</summary>
    BeginningOfRecording,
    /// <summary>
    /// The target is gone for good, with <see cref="StopEvent.ExitStatus"/> (gdb's W packet ends its
    /// session). A recording never reports this: its end is <see cref="EndOfRecording"/>.
    /// </summary>
    Exited,
}

/// <summary>One stop of the target: the reason and the details gdb reports with it.</summary>
public readonly record struct StopEvent(
    StopReason Reason,
    ulong Pc,
    BreakpointType BreakpointType = BreakpointType.Software,
    WatchKind WatchKind = WatchKind.Write,
    ulong WatchAddress = 0,
    int ExitStatus = 0,
    int? GuestExitStatus = null)
{
    public static StopEvent StepDone(ulong pc) => new(StopReason.StepDone, pc);

    public static StopEvent AtBreakpoint(ulong pc, BreakpointType type = BreakpointType.Software) =>
        new(StopReason.Breakpoint, pc, BreakpointType: type);

    public static StopEvent AtWatchpoint(ulong pc, WatchKind kind, ulong address) =>
        new(StopReason.Watchpoint, pc, WatchKind: kind, WatchAddress: address);

    public static StopEvent Interrupted(ulong pc) => new(StopReason.Interrupted, pc);

    /// <summary>At the end of the recording; <paramref name="guestExitStatus"/> when the guest's exit ended it.</summary>
    public static StopEvent EndOfRecording(ulong pc, int? guestExitStatus = null) =>
        new(StopReason.EndOfRecording, pc, GuestExitStatus: guestExitStatus);

    public static StopEvent BeginningOfRecording(ulong pc) => new(StopReason.BeginningOfRecording, pc);

    public static StopEvent Exited(int status) => new(StopReason.Exited, 0, ExitStatus: status);
}

/// <summary>
/// How far a long run has got: <see cref="Position"/> is the event it is at (for a reverse run, how far
/// back it has searched), <see cref="Fraction"/> the part of the way done (0..1), or null when the
/// distance is unknown (a live guest running on).
/// </summary>
public readonly record struct RunProgress(ulong Position, double? Fraction);

/// <summary>
/// The target cannot do what was asked, for a reason the user should read (a damaged recording, a
/// replay that left its recording): the gdb client is told the message. Other exceptions are bugs.
/// </summary>
public sealed class DebugTargetException(string message) : Exception(message);
