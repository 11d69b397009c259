using ReplayVm.Core;
using ReplayVm.Core.State;

namespace ReplayVm.Replay;

/// <summary>
/// What a trace says before its events: the machine it ran on (with every image embedded), how
/// often it hashed the state, and which hasher made those hashes.
/// </summary>
public sealed record TraceHeader(MachineSetup Setup, ulong StateHashInterval, string Recorder)
{
    /// <summary>Default distance in steps between state hashes.</summary>
    public const ulong DefaultStateHashInterval = 10_000_000;

    /// <summary>The <see cref="MachineStateHasher.Version"/> whose hashes the trace holds.</summary>
    public int HasherVersion { get; init; } = MachineStateHasher.Version;

    /// <summary>
    /// The <see cref="MachineConfig.BoardRevision"/> the trace was recorded on; 0 for a format-1
    /// trace, which predates the field. A replay on another revision is refused.
    /// </summary>
    public int BoardRevision { get; init; } = MachineConfig.BoardRevision;

    /// <summary>The format version the file was written with (the current one for a header being written).</summary>
    public ushort FormatVersion { get; init; } = Format.TraceFormat.Version;
}
