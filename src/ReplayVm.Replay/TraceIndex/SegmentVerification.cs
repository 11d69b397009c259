using System.Text.Json;
using System.Text.Json.Serialization;
using ReplayVm.Core.State;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>
/// What one segment's verification found (<c>replay --segment I/N</c>), as the JSON object it
/// prints: which trace (length and XxHash128 of the file), which segment of how many, the steps it
/// covered and the input cursor at each end, how many state hashes matched, and how it ended.
/// </summary>
public sealed record SegmentResult
{
    public const string CurrentFormat = "replayvm-segment-result/1";

    public required string Format { get; init; }
    public required long TraceLength { get; init; }
    public required string TraceDigest { get; init; }
    public required int Segment { get; init; }
    public required int Segments { get; init; }
    public required ulong Start { get; init; }
    public required ulong End { get; init; }
    public required int[] StartCursor { get; init; }
    public required int[] EndCursor { get; init; }
    public required int HashPointsChecked { get; init; }
    /// <summary>"identical", "diverged", "truncated" (the last segment of a truncated trace), or "bad-index" (its starting snapshot did not hold the trace's state).</summary>
    public required string Outcome { get; init; }
    /// <summary>The divergence as <c>replay</c> states it ("diverged at step S: ..."), or why the index was wrong.</summary>
    public string? Problem { get; init; }
    /// <summary>The state hash where the segment ended (its last hash point), hex.</summary>
    public string? EndHash { get; init; }
    /// <summary>The steps the replay reached (the whole trace's, for the last segment).</summary>
    public required ulong Steps { get; init; }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses one result; anything malformed is a <see cref="SegmentResultException"/>.</summary>
    public static SegmentResult Parse(string json)
    {
        try
        {
            var result = JsonSerializer.Deserialize<SegmentResult>(json, Json) ?? throw new SegmentResultException("it is empty");
            if (result.Format != CurrentFormat) throw new SegmentResultException($"it is not a {CurrentFormat} result (format '{result.Format}')");
            if (result.StartCursor is not { Length: 3 } || result.EndCursor is not { Length: 3 }) throw new SegmentResultException("its input cursors are malformed");
            return result;
        }
        catch (JsonException e)
        {
            throw new SegmentResultException($"it is not a segment result ({e.Message.Split('\n')[0]})");
        }
    }
}

/// <summary>A segment result that cannot be merged: malformed, of another trace, missing, twice, or inconsistent. The message is one line.</summary>
public sealed class SegmentResultException(string message) : Exception(message);

/// <summary>What merging all segments' results says: the same as a serial replay's result.</summary>
public sealed record MergedSegments(ReplayOutcome Outcome, ulong Steps, int HashPointsChecked, string? Divergence);

/// <summary>
/// A long trace verified as independent segments by separate processes, on one machine or a
/// cluster (a Kubernetes Indexed Job: docs/deploy/), then merged. The segments are N contiguous
/// stretches whose ends are snapshots of the trace's sidecar, chosen from the sidecar alone, so
/// every process given the same trace and sidecar picks the same ones. Each segment starts from
/// its snapshot (checked against the trace's state hash there), replays to the next boundary
/// checking every hash point, and reports; <see cref="Merge"/> checks that the reports fit
/// together into the whole trace (same trace, every segment once, contiguous, input cursors and
/// end hashes agreeing with each other and with the trace, the right number of hash points) and
/// gives the result a serial replay gives.
/// </summary>
public static class SegmentVerification
{
    /// <summary>The N + 1 boundary steps: 0, then the snapshot steps nearest to equal shares (never going back), then the end.</summary>
    public static ulong[] Boundaries(TraceFile trace, TraceIndexFile index, int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), "at least one segment");
        ulong end = trace.End?.Step ?? trace.LastStep;
        var steps = index.Snapshots.Select(s => s.Step).Where(s => s > 0 && s < end).ToList();
        var bounds = new ulong[count + 1];
        bounds[count] = end;
        for (int k = 1; k < count; k++)
        {
            ulong target = (ulong)((UInt128)end * (ulong)k / (ulong)count);
            ulong nearest = steps.Count == 0 ? 0 : steps.MinBy(s => s > target ? s - target : target - s);
            bounds[k] = Math.Max(bounds[k - 1], nearest);
        }
        return bounds;
    }

    /// <summary>Verifies segment <paramref name="segment"/> (0-based) of <paramref name="count"/>.</summary>
    public static SegmentResult Verify(TraceFile trace, TraceIdentity identity, TraceIndexFile index, int segment, int count, DiskSupply? disks = null)
    {
        if (segment < 0 || segment >= count) throw new ArgumentOutOfRangeException(nameof(segment), $"segment {segment} of {count}");
        var bounds = Boundaries(trace, index, count);
        ulong start = bounds[segment], end = bounds[segment + 1];
        bool last = segment == count - 1;
        var replayer = new Replayer(trace, _ => { }, disks: disks);
        var startCursor = new Timeline.InputCursor(0, 0, 0);
        SegmentResult Result(string outcome, string? problem, int[] endCursor, string? endHash) => new()
        {
            Format = SegmentResult.CurrentFormat,
            TraceLength = identity.Length,
            TraceDigest = $"{identity.Digest:x32}",
            Segment = segment,
            Segments = count,
            Start = start,
            End = end,
            StartCursor = Cursor(startCursor),
            EndCursor = endCursor,
            HashPointsChecked = replayer.HashPointsChecked,
            Outcome = outcome,
            Problem = problem,
            EndHash = endHash,
            Steps = replayer.Steps,
        };
        if (start > 0)
        {
            int i = index.LatestAtOrBefore(start);
            var snapshot = index.Snapshots[i];
            startCursor = snapshot.Cursor;
            try
            {
                replayer.StartFrom(index.Compose(replayer.Machine, i), snapshot.Cursor);
            }
            catch (Exception e) when (e is TraceIndexException or InvalidDataException or EndOfStreamException or ArgumentException)
            {
                return Result("bad-index", e.Message, Cursor(startCursor), null);
            }
            var now = replayer.ComputeHash();
            if (now != snapshot.Hash)
                return Result("bad-index", $"its snapshot at step {start} restores to state hash {now}, which the trace does not have there", Cursor(startCursor), null);
        }
        if (start == end && !last) return Result("identical", null, Cursor(startCursor), HashAt(trace, end));
        if (last)
        {
            var result = replayer.Run();
            string outcome = result.Outcome switch { ReplayOutcome.Diverged => "diverged", ReplayOutcome.Truncated => "truncated", _ => "identical" };
            return Result(outcome, result.Divergence?.ToString(), Cursor(replayer.InputConsumed), result.Divergence is null ? $"{replayer.ComputeHash()}" : null);
        }
        var divergence = replayer.RunTo(end);
        return divergence is null
            ? Result("identical", null, Cursor(replayer.InputConsumed), $"{replayer.ComputeHash()}")
            : Result("diverged", divergence.ToString(), Cursor(replayer.InputConsumed), null);
    }

    /// <summary>
    /// Checks that <paramref name="results"/> (named by where they came from) cover
    /// <paramref name="trace"/> exactly and agree, and merges them. Throws <see cref="SegmentResultException"/> naming the first result that does not fit.
    /// </summary>
    public static MergedSegments Merge(TraceFile trace, TraceIdentity identity, IReadOnlyList<(string Source, SegmentResult Result)> results)
    {
        if (results.Count == 0) throw new SegmentResultException("no segment results to merge");
        int count = results[0].Result.Segments;
        if (count < 1 || count > TraceIndexFormat.MaxSnapshots) throw new SegmentResultException($"{results[0].Source}: an impossible segment count {count}");
        var bySegment = new (string Source, SegmentResult Result)?[count];
        string digest = $"{identity.Digest:x32}";
        foreach (var (source, r) in results)
        {
            if (r.TraceLength != identity.Length || r.TraceDigest != digest) throw new SegmentResultException($"{source}: it is the result of another trace");
            if (r.Segments != count) throw new SegmentResultException($"{source}: it is one of {r.Segments} segments, others of {count}");
            if (r.Segment < 0 || r.Segment >= count) throw new SegmentResultException($"{source}: segment {r.Segment} of {count} does not exist");
            if (bySegment[r.Segment] is { } other) throw new SegmentResultException($"{source}: segment {r.Segment} is also in {other.Source}");
            bySegment[r.Segment] = (source, r);
        }
        var missing = Enumerable.Range(0, count).Where(i => bySegment[i] is null).ToList();
        if (missing.Count > 0) throw new SegmentResultException($"segment{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Take(10))} of {count} missing");

        ulong end = trace.End?.Step ?? trace.LastStep;
        var hashes = trace.HashPoints.GroupBy(p => p.Step).ToDictionary(g => g.Key, g => g.First().Hash);
        var checkpoints = trace.Events.Where(e => e is StateHashEvent or EndEvent).Select(e => e.Step).ToList();
        int hashPoints = 0;
        for (int i = 0; i < count; i++)
        {
            var (source, r) = bySegment[i]!.Value;
            bool last = i == count - 1;
            if (r.Start != (i == 0 ? 0 : bySegment[i - 1]!.Value.Result.End)) throw new SegmentResultException($"{source}: segment {i} starts at step {r.Start}, where segment {i - 1} did not end");
            if (r.End < r.Start || (last && r.End != end)) throw new SegmentResultException($"{source}: segment {i} ends at step {r.End}");
            if (i > 0 && !r.StartCursor.SequenceEqual(bySegment[i - 1]!.Value.Result.EndCursor))
                throw new SegmentResultException($"{source}: segment {i} starts with other inputs consumed than segment {i - 1} ended with");
            if (r.Start > 0 && !hashes.ContainsKey(r.Start)) throw new SegmentResultException($"{source}: segment {i} starts at step {r.Start}, not a hash point of the trace");
            switch (r.Outcome)
            {
                case "bad-index":
                    throw new SegmentResultException($"{source}: segment {i} could not start: {r.Problem} (rebuild the index with replayvm index)");
                case "diverged":
                    if (r.Problem is null) throw new SegmentResultException($"{source}: segment {i} diverged without saying where");
                    return new MergedSegments(ReplayOutcome.Diverged, r.Steps, hashPoints + r.HashPointsChecked, r.Problem);
                case "identical" or "truncated" when r.Outcome == "identical" || last:
                    break;
                default:
                    throw new SegmentResultException($"{source}: segment {i} has an unknown outcome '{r.Outcome}'");
            }
            // A segment checks every hash point after its start up to its end (segment 0 also one at step 0), the last also the end record.
            int expected = checkpoints.Count(s => (i == 0 ? s >= r.Start : s > r.Start) && s <= r.End);
            if (r.HashPointsChecked != expected)
                throw new SegmentResultException($"{source}: segment {i} says {r.HashPointsChecked} state hashes matched; steps {r.Start}..{r.End} hold {expected}");
            if (!last && r.End > r.Start && (!hashes.TryGetValue(r.End, out var atEnd) || r.EndHash != $"{atEnd}"))
                throw new SegmentResultException($"{source}: segment {i} ended with a state the trace does not have at step {r.End}");
            if (last && r.Outcome == "identical" && trace.End is { } record && r.EndHash != $"{record.FinalHash}")
                throw new SegmentResultException($"{source}: segment {i} ended with a state other than the trace's final one");
            hashPoints += r.HashPointsChecked;
            if (last) return new MergedSegments(r.Outcome == "truncated" ? ReplayOutcome.Truncated : ReplayOutcome.Identical, r.Steps, hashPoints, null);
        }
        throw new InvalidOperationException("unreachable");
    }

    private static int[] Cursor(Timeline.InputCursor c) => [c.Console, c.Clock, c.Entropy];

    private static string? HashAt(TraceFile trace, ulong step) =>
        trace.HashPoints.FirstOrDefault(p => p.Step == step) is { } p ? $"{p.Hash}" : null;
}
