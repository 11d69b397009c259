using ReplayVm.Core;
using ReplayVm.Core.State;

namespace ReplayVm.Replay;

/// <summary>The kinds of event a trace holds; the numbers are the bytes in the file (docs/trace-format.md).</summary>
public enum TraceEventKind : byte
{
    /// <summary>Bytes handed to the UART receiver at one poll.</summary>
    ConsoleInput = 1,
    /// <summary>The answer to one wall-clock read (Goldfish RTC), nanoseconds since the Unix epoch.</summary>
    WallClock = 2,
    /// <summary>Random bytes handed to the guest (reserved for virtio-rng).</summary>
    Entropy = 3,
    /// <summary>The SHA-256 of an attached disk image as the run found it (reserved for virtio-blk).</summary>
    DiskHash = 4,
    /// <summary>A periodic <see cref="MachineStateHasher"/> digest.</summary>
    StateHash = 5,
    /// <summary>The last event: how the run ended.</summary>
    End = 6,
}

/// <summary>
/// Something that happened at step <see cref="Step"/> (instructions retired plus exceptions taken,
/// <see cref="Core.Hart.Hart.Steps"/>) of a recorded run.
/// </summary>
public abstract record TraceEvent(ulong Step)
{
    public abstract TraceEventKind Kind { get; }
}

public sealed record ConsoleInputEvent(ulong Step, byte[] Bytes) : TraceEvent(Step)
{
    public override TraceEventKind Kind => TraceEventKind.ConsoleInput;
    public bool Equals(ConsoleInputEvent? other) => other is not null && Step == other.Step && Bytes.AsSpan().SequenceEqual(other.Bytes);
    public override int GetHashCode() => HashCode.Combine(Step, Bytes.Length);
    public override string ToString() => $"ConsoleInput @{Step}: {Convert.ToHexString(Bytes)}";
}

public sealed record WallClockEvent(ulong Step, ulong Nanoseconds) : TraceEvent(Step)
{
    public override TraceEventKind Kind => TraceEventKind.WallClock;
}

public sealed record EntropyEvent(ulong Step, byte[] Bytes) : TraceEvent(Step)
{
    public override TraceEventKind Kind => TraceEventKind.Entropy;
    public bool Equals(EntropyEvent? other) => other is not null && Step == other.Step && Bytes.AsSpan().SequenceEqual(other.Bytes);
    public override int GetHashCode() => HashCode.Combine(Step, Bytes.Length);
    public override string ToString() => $"Entropy @{Step}: {Convert.ToHexString(Bytes)}";
}

/// <summary>Disk <paramref name="DiskIndex"/> (attach order) had <paramref name="SizeBytes"/> bytes with this SHA-256.</summary>
public sealed record DiskHashEvent(ulong Step, uint DiskIndex, ulong SizeBytes, byte[] Sha256) : TraceEvent(Step)
{
    public override TraceEventKind Kind => TraceEventKind.DiskHash;
    public bool Equals(DiskHashEvent? other) =>
        other is not null && Step == other.Step && DiskIndex == other.DiskIndex && SizeBytes == other.SizeBytes && Sha256.AsSpan().SequenceEqual(other.Sha256);
    public override int GetHashCode() => HashCode.Combine(Step, DiskIndex, SizeBytes);
}

public sealed record StateHashEvent(ulong Step, StateHash Hash) : TraceEvent(Step)
{
    public override TraceEventKind Kind => TraceEventKind.StateHash;
}

/// <summary>The run ended at <see cref="TraceEvent.Step"/> for <paramref name="Reason"/>, with the guest's exit code and the final state hash.</summary>
public sealed record EndEvent(ulong Step, StopReason Reason, int ExitCode, StateHash FinalHash, string? Detail) : TraceEvent(Step)
{
    public override TraceEventKind Kind => TraceEventKind.End;
}
