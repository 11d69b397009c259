using ReplayVm.Core;

namespace ReplayVm.Replay;

/// <summary>
/// How a trace rebuilt by <c>replayvm inspect --salvage</c> ends: an ordinary host-stop end record
/// (so every ReplayVm that reads format 4 replays it and checks its final hash) whose detail starts
/// with <see cref="DetailPrefix"/>. A replay reports it as "truncated by the host": the history up to
/// the dump, faithfully replayed, of a recording that never finished (docs/trace-format.md).
/// </summary>
public static class SalvagedTrace
{
    public const string DetailPrefix = "salvaged from ";

    public static bool Is(EndEvent end) =>
        end.Reason == StopReason.HostRequest && end.Detail is { } detail && detail.StartsWith(DetailPrefix, StringComparison.Ordinal);
}
