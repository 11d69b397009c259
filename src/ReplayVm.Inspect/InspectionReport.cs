namespace ReplayVm.Inspect;

/// <summary>What <c>replayvm inspect</c> found in a process or dump: its machines and its managed threads.</summary>
public sealed record InspectionReport(
    string Target,
    bool Live,
    int? ProcessId,
    string RuntimeVersion,
    string? Command,
    IReadOnlyList<MachineReport> Machines,
    IReadOnlyList<ThreadReport> Threads,
    IReadOnlyList<string> Notes);

/// <summary>
/// One machine found on the heap, as it was when the target was suspended or dumped. When
/// <see cref="ExecutingGuestCode"/> is set the hart was stopped inside its run loop: pc and step
/// name the instruction about to run, and the registers may already hold that instruction's
/// results; otherwise (idle, waiting for input, between slices) the state is exactly step <see cref="Step"/>'s.
/// </summary>
public sealed record MachineReport(
    string Role,
    ulong Step,
    ulong Pc,
    string? Symbol,
    string? Instruction,
    string Privilege,
    ulong[] X,
    ulong[] F,
    IReadOnlyList<CsrValue> Csrs,
    IReadOnlyList<string> PendingInterrupts,
    bool WaitingForInterrupt,
    bool ExecutingGuestCode,
    ulong RamSize,
    long ConsoleBytes,
    string ConsoleTail,
    RecordingReport? Recording);

public sealed record CsrValue(string Name, ulong Value);

/// <summary>A recorder's log as the dump holds it.</summary>
public sealed record RecordingReport(
    string? TracePath,
    long EventsLogged,
    long EventsWritten,
    long EventsNotFlushed,
    int ChunksWritten,
    ulong LastEventStep,
    ulong StateHashInterval);

public sealed record ThreadReport(int ManagedId, uint OsId, string? Name, bool IsFinalizer, IReadOnlyList<string> Frames);
