using ReplayVm.Core.Hart;

namespace ReplayVm.Replay.Diff;

/// <summary>How two traces compare.</summary>
public enum TraceDiffOutcome
{
    /// <summary>Same machine, and the replayed states agree at every step both traces cover, and both end alike.</summary>
    Identical,
    /// <summary>The headers describe different machines; nothing was replayed (<see cref="TraceDiffResult.SetupDifferences"/>).</summary>
    SetupDiffers,
    /// <summary>The machine states part at <see cref="TraceDiffResult.Step"/> (<see cref="TraceDiffResult.Divergence"/>).</summary>
    StateDiffers,
    /// <summary>The states agree as far as both go, but one trace ends earlier or the two end differently (<see cref="TraceDiffResult.Ending"/>).</summary>
    EndDiffers,
}

/// <summary>What <see cref="TraceDiff"/> found; the CLI prints it and exits 0 for <see cref="TraceDiffOutcome.Identical"/>, 1 otherwise.</summary>
public sealed record TraceDiffResult(
    TraceDiffOutcome Outcome,
    ulong Step,
    IReadOnlyList<string> SetupDifferences,
    StateDivergence? Divergence,
    EndingDifference? Ending,
    IReadOnlyList<string> Notes)
{
    public bool Identical => Outcome == TraceDiffOutcome.Identical;

    /// <summary>One line for humans.</summary>
    public string Summary => Outcome switch
    {
        TraceDiffOutcome.Identical => $"traces are identical ({Step} steps compared)",
        TraceDiffOutcome.SetupDiffers => "different machine setup: " + string.Join("; ", SetupDifferences),
        TraceDiffOutcome.StateDiffers => $"states differ from step {Step} (pc 0x{Divergence!.Pc:x})",
        _ => Ending!.Message,
    };
}

/// <summary>
/// The first step at which the two replayed machines differ. <see cref="Step"/> is the step count
/// after which they differ: after <c>Step - 1</c> steps they were equal, so the instruction at
/// <see cref="Pc"/> (executed, or trapped, as step <c>Step</c>) is where they part.
/// </summary>
/// <param name="InstructionBits">The 4 bytes at <see cref="Pc"/> (little-endian, as in memory; the low 16 bits suffice for a compressed instruction); null when unreadable.</param>
/// <param name="Other">Other hashed state with no number: step and exception counters, pc, mode, timer state.</param>
/// <param name="NearbyInputA">Input events of trace A nearest to <see cref="Step"/>.</param>
public sealed record StateDivergence(
    ulong Step,
    ulong Pc,
    PrivilegeLevel Mode,
    uint? InstructionBits,
    MachinePosition A,
    MachinePosition B,
    IReadOnlyList<ValueDifference> IntegerRegisters,
    IReadOnlyList<ValueDifference> FloatRegisters,
    IReadOnlyList<ValueDifference> Csrs,
    IReadOnlyList<NamedDifference> Other,
    IReadOnlyList<MemoryDifference> Memory,
    IReadOnlyList<InputEventSummary> NearbyInputA,
    IReadOnlyList<InputEventSummary> NearbyInputB);

/// <summary>Where one machine is after the divergent step: its pc, mode and console output so far.</summary>
public sealed record MachinePosition(ulong Pc, PrivilegeLevel Mode, long ConsoleBytes, byte[] ConsoleTail);

/// <summary>
/// A register (index 0..31) or CSR (number 0..0xFFF) that differs, with its value before the
/// divergent step and after it, in each trace. A CSR missing on one side reads as null.
/// </summary>
public sealed record ValueDifference(uint Id, ulong? BeforeA, ulong? AfterA, ulong? BeforeB, ulong? AfterB);

public sealed record NamedDifference(string Name, ulong A, ulong B);

/// <summary>
/// Guest-physical bytes [<see cref="Address"/>, +<see cref="Length"/>) differ after the divergent step.
/// The byte arrays show at most <see cref="TraceDiff.MemoryBytesShown"/> bytes from the start of the range;
/// <see cref="Before"/> is the common content before the step (null when it could not be recovered).
/// </summary>
public sealed record MemoryDifference(ulong Address, ulong Length, byte[]? Before, byte[] A, byte[] B);

/// <summary>An input event in short: kind, step and a payload summary (hex and printable text).</summary>
public sealed record InputEventSummary(TraceEventKind Kind, ulong Step, string Payload)
{
    public override string ToString() => $"{Kind} @{Step}: {Payload}";
}

/// <summary>The states agree as far as both traces go, but their ends differ: one stops earlier, or they stop differently.</summary>
public sealed record EndingDifference(ulong Step, string Message, ulong EndA, ulong EndB, bool TruncatedA, bool TruncatedB);
