using ReplayVm.Core.State;

namespace ReplayVm.Replay.Timeline;

/// <summary>
/// Checking the trace's state hashes while the timeline replays. Each hash point (the periodic
/// hashes and the end record's final hash) is checked the first time the replay stands on its
/// step; runs stop there for it. Once checked, a point is not checked again: the machine is
/// deterministic, and re-hashing on every reverse step would only cost latency.
/// </summary>
public sealed partial class Timeline
{
    private readonly List<ulong> _hashSteps = [];
    private readonly List<StateHash> _hashValues = [];
    private readonly List<bool> _hashChecked = [];

    /// <summary>How many of the recording's hash points the replay has checked so far (all matched, or it would have thrown).</summary>
    public int VerifiedHashPoints { get; private set; }

    /// <summary>How many hash points the recording holds.</summary>
    public int HashPointCount => _hashSteps.Count;

    private void CollectHashPoints(IEnumerable<TraceEvent> events)
    {
        var points = new List<(ulong Step, StateHash Hash)>();
        foreach (var e in events)
        {
            if (e is StateHashEvent h) points.Add((h.Step, h.Hash));
            else if (e is EndEvent end) points.Add((end.Step, end.FinalHash));
        }
        foreach (var (step, hash) in points.OrderBy(p => p.Step))
            AddHashPoint(step, hash, isChecked: false);
    }

    private void AddHashPoint(ulong step, StateHash hash, bool isChecked)
    {
        _hashSteps.Add(step);
        _hashValues.Add(hash);
        _hashChecked.Add(isChecked);
        if (isChecked) VerifiedHashPoints++;
    }

    /// <summary>The first unchecked hash point after the position: replay must stop there to check it.</summary>
    private ulong NextUncheckedHashStep()
    {
        for (int i = FirstHashIndexAfter(Position); i < _hashSteps.Count; i++)
            if (!_hashChecked[i]) return _hashSteps[i];
        return ulong.MaxValue;
    }

    /// <summary>Checks the hash points at the position, if any are unchecked; throws <see cref="TimelineException"/> at a mismatch.</summary>
    private void CheckHashHere()
    {
        int first = FirstHashIndexAfter(Position - (Position > 0 ? 1UL : 0UL));
        if (Position == 0) first = 0;
        StateHash? now = null;
        for (int i = first; i < _hashSteps.Count && _hashSteps[i] == Position; i++)
        {
            if (_hashChecked[i]) continue;
            now ??= _hasher.Compute();
            if (now.Value != _hashValues[i])
                throw new TimelineException(
                    $"the replay left its recording at step {Position}: the machine's state hash {now.Value} differs from the recorded {_hashValues[i]} " +
                    "(the trace is damaged, or this ReplayVm runs it differently)");
            _hashChecked[i] = true;
            VerifiedHashPoints++;
        }
    }

    /// <summary>Index of the first hash point whose step is greater than <paramref name="step"/>.</summary>
    private int FirstHashIndexAfter(ulong step) => SortedSteps.FirstAfter(_hashSteps, step);
}
