using ReplayVm.Core.State;

namespace ReplayVm.Replay.Timeline;

/// <summary>
/// A point a timeline can go back to: the machine snapshot, where the replayed input stood, and
/// how much console output the guest had written. <see cref="Explicit"/> checkpoints were asked
/// for and are never thinned away.
/// </summary>
public sealed class Checkpoint(MachineSnapshot snapshot, InputCursor input, int outputLength, bool isExplicit)
{
    public MachineSnapshot Snapshot { get; } = snapshot;
    public InputCursor Input { get; } = input;
    public int OutputLength { get; } = outputLength;
    public bool Explicit { get; internal set; } = isExplicit;
    public ulong Step => Snapshot.Step;

    /// <summary>RAM pages whose buffers the store counts against this checkpoint (it may inherit them from a dropped one).</summary>
    internal List<int> OwnedPages { get; } = [.. snapshot.PrivatePages];

    public override string ToString() => $"checkpoint @{Step}{(Explicit ? " (explicit)" : "")}";
}
