using ReplayVm.Core.State;

namespace ReplayVm.Replay.Diff;

/// <summary>
/// The recorded state hashes two traces share: the steps at which both hashed (periodic hash
/// points, and the final hash when both end at the same step), and whether the hashes agree there.
/// </summary>
internal sealed class HashPointComparison
{
    private readonly List<(ulong Step, bool Agree)> _shared;

    private HashPointComparison(List<(ulong Step, bool Agree)> shared) => _shared = shared;

    public static HashPointComparison Of(TraceFile a, TraceFile b, ulong limit)
    {
        var hashesB = new Dictionary<ulong, StateHash>();
        foreach (var (step, hash) in Points(b)) hashesB.TryAdd(step, hash);
        var shared = new List<(ulong, bool)>();
        foreach (var (step, hash) in Points(a))
            if (step <= limit && hashesB.TryGetValue(step, out var other)) shared.Add((step, hash == other));
        shared.Sort();
        return new HashPointComparison(shared);
    }

    private static IEnumerable<(ulong Step, StateHash Hash)> Points(TraceFile trace)
    {
        foreach (var point in trace.HashPoints) yield return (point.Step, point.Hash);
        if (trace.End is { } end) yield return (end.Step, end.FinalHash);
    }

    public int Count => _shared.Count;

    public ulong? FirstDisagreeing => _shared.FindIndex(p => !p.Agree) is var i and >= 0 ? _shared[i].Step : null;

    /// <summary>The last shared point before <paramref name="step"/> where the hashes agree.</summary>
    public ulong? LastAgreeingBefore(ulong step)
    {
        ulong? found = null;
        foreach (var (s, agree) in _shared)
        {
            if (s >= step) break;
            if (agree) found = s;
        }
        return found;
    }
}
