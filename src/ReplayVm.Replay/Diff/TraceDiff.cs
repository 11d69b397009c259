using ReplayVm.Core;

namespace ReplayVm.Replay.Diff;

/// <summary>Tuning for <see cref="TraceDiff"/>; the defaults suit traces of any length.</summary>
public sealed record TraceDiffOptions
{
    /// <summary>Steps between cheap comparisons while scanning for the divergent stretch.</summary>
    public ulong ChunkSteps { get; init; } = 4096;

    /// <summary>Steps single-stepped right after the first input difference, where a divergence almost always is.</summary>
    public ulong FirstWindowSteps { get; init; } = 4096;

    /// <summary>
    /// Also skip to the last state-hash point both traces share and agree on. Faster when the
    /// guest ignores a differing input for a long time, but a state that parts and re-joins
    /// between two agreeing hash points is then missed. Off by default: exactness first.
    /// </summary>
    public bool TrustAgreeingHashPoints { get; init; }

    /// <summary>How to build each machine; by default <see cref="MachineSetup.Build"/>.</summary>
    public MachineFactory? Factory { get; init; }
}

/// <summary>
/// <c>replayvm diff A B</c>: replays two traces in lockstep and finds the first step where their
/// machine states (everything the state hasher covers: counters, pc, mode, registers, CSRs, timer
/// state, RAM) differ.
///
/// Where to look. A replay is a function of the machine setup and the input log, so with equal
/// setups nothing can differ before the first step at which the input logs differ; with equal
/// logs the replays are equal throughout and nothing is run at all. The recorded state hashes
/// the traces share bound the search from above (the first disagreeing one) and, when the input
/// logs agree but a hash does not (a trace that does not replay faithfully), from below (the last
/// agreeing one before it).
///
/// How to find the exact step, fast. From the start point both machines are single-stepped for
/// <see cref="TraceDiffOptions.FirstWindowSteps"/> steps, comparing after every step — a differing
/// input almost always shows within a few instructions. Past that window they run in chunks of
/// <see cref="TraceDiffOptions.ChunkSteps"/> and are compared at each chunk end: registers and
/// CSRs, and only the RAM pages either side wrote since the last comparison (from RAM's write
/// epochs), a few microseconds against the ~30 µs the chunk takes to run. A chunk that ends
/// different is replayed again from scratch (no checkpoints yet) to its start and single-stepped.
/// Cost for a trace of n steps: at most two replays to the divergence, run for A and B on two
/// threads (about n / 150M s each), plus one scan of the stretch after the input difference and a
/// few thousand single steps — about 1.5 s for 10^8 steps; with checkpoints in Core the second
/// replay would go.
/// </summary>
public static class TraceDiff
{
    /// <summary>Bytes of each differing memory range shown in a result.</summary>
    public const int MemoryBytesShown = 16;

    public static TraceDiffResult Compare(TraceFile a, TraceFile b, TraceDiffOptions? options = null)
    {
        options ??= new TraceDiffOptions();
        if (options.ChunkSteps == 0) throw new ArgumentOutOfRangeException(nameof(options), "chunk steps must be at least 1");
        var notes = new List<string>();

        // Past its end record, or past its last surviving event when truncated, a trace says nothing.
        ulong endA = a.End?.Step ?? a.LastStep, endB = b.End?.Step ?? b.LastStep;
        ulong limit = Math.Min(endA, endB);
        var logA = new InputLog(a);
        var logB = new InputLog(b);

        var setup = SetupComparison.Differences(a.Header, b.Header);
        if (setup.Count > 0) return CompareDifferentSetups(a, b, setup, limit, endA, endB, logA, logB, options, notes);

        ulong? inputDiffers = InputLog.FirstDifference(logA, logB, limit);
        var hashes = HashPointComparison.Of(a, b, limit);

        ulong? start = ChooseStart(inputDiffers, hashes, options, notes);
        if (start is { } from)
        {
            var divergence = Search(a, b, from, limit, logA, logB, options, notes);
            if (divergence is not null)
                return new TraceDiffResult(TraceDiffOutcome.StateDiffers, divergence.Step, [], divergence, null, notes);
            if (inputDiffers is { } s)
                notes.Add($"the input logs differ from step {s}, but the machine states never do up to step {limit}");
        }
        else
        {
            // The claim rests on the setups being what their headers say: check the images and
            // embedded disks against their SHA-256 before making it.
            VerifyContents(a, "A");
            VerifyContents(b, "B");
            notes.Add($"same machine (images and disks checked by SHA-256) and same inputs up to step {limit}, " +
                      "and every shared state hash agrees: the replays are equal by determinism (not run)");
        }
        return Ending(a, b, endA, endB, limit, notes);
    }

    /// <summary>
    /// Different machines: said first, and then — where the states can be compared at all — both
    /// replayed side by side from step 0 to the first step where they really part (nothing is
    /// skipped: equal inputs prove nothing when the machines differ).
    /// </summary>
    private static TraceDiffResult CompareDifferentSetups(TraceFile a, TraceFile b, IReadOnlyList<string> setup, ulong limit, ulong endA, ulong endB,
        InputLog logA, InputLog logB, TraceDiffOptions options, List<string> notes)
    {
        if (!SetupComparison.ComparableStateByState(a.Header.Setup, b.Header.Setup) || a.Header.BoardRevision != b.Header.BoardRevision)
        {
            notes.Add("the machines differ in board or RAM size, so they differ from step 0 and were not replayed side by side");
            return new TraceDiffResult(TraceDiffOutcome.SetupDiffers, 0, setup, null, null, notes);
        }
        var divergence = Search(a, b, 0, limit, logA, logB, options, notes);
        if (divergence is not null) return new TraceDiffResult(TraceDiffOutcome.SetupDiffers, divergence.Step, setup, divergence, null, notes);
        notes.Add($"replayed side by side, the machine states never differ up to step {limit}");
        var ending = Ending(a, b, endA, endB, limit, notes);
        return new TraceDiffResult(TraceDiffOutcome.SetupDiffers, limit, setup, null, ending.Ending, notes);
    }

    private static void VerifyContents(TraceFile trace, string label)
    {
        try
        {
            trace.Header.Setup.VerifyContents();
        }
        catch (Format.TraceFormatException e)
        {
            throw new Format.TraceFormatException($"trace {label}: {e.Message}");
        }
    }

    /// <summary>
    /// How the two replays differ after exactly <paramref name="step"/> steps (registers, CSRs,
    /// memory ranges; no "before" values), or null when they are equal there — e.g. to look a few
    /// steps past the first divergence. The step must lie within both traces.
    /// </summary>
    public static StateDivergence? DifferencesAt(TraceFile a, TraceFile b, ulong step, TraceDiffOptions? options = null)
    {
        options ??= new TraceDiffOptions();
        if (!SetupComparison.ComparableStateByState(a.Header.Setup, b.Header.Setup))
            throw new ArgumentException("different board or RAM size: the states cannot be compared");
        ulong limit = Math.Min(a.End?.Step ?? a.LastStep, b.End?.Step ?? b.LastStep);
        if (step > limit) throw new ArgumentOutOfRangeException(nameof(step), $"step {step} lies past the end of the shorter trace (step {limit})");
        return Pair(a, b, step, options).DifferencesNow(new InputLog(a), new InputLog(b));
    }

    /// <summary>Where the states are known equal and the search begins, or null when nothing can differ.</summary>
    private static ulong? ChooseStart(ulong? inputDiffers, HashPointComparison hashes, TraceDiffOptions options, List<string> notes)
    {
        if (hashes.FirstDisagreeing is { } bad)
            notes.Add($"recorded state hashes first disagree at step {bad}" +
                (hashes.LastAgreeingBefore(bad) is { } good ? $", last agree at step {good}" : ""));
        if (inputDiffers is { } s && (hashes.FirstDisagreeing is not { } firstBad || s <= firstBad))
        {
            if (!options.TrustAgreeingHashPoints) return s;
            ulong? agreed = hashes.LastAgreeingBefore(hashes.FirstDisagreeing ?? ulong.MaxValue);
            return agreed is { } h && h > s ? h : s;
        }
        // Equal inputs yet a disagreeing hash: one recording does not replay faithfully; search
        // from the last agreement and let the replayers name the culprit.
        if (hashes.FirstDisagreeing is { } disagreeing) return hashes.LastAgreeingBefore(disagreeing) ?? 0;
        return null;
    }

    /// <summary>The first differing step in (<paramref name="start"/>, <paramref name="limit"/>], or null.</summary>
    private static StateDivergence? Search(TraceFile a, TraceFile b, ulong start, ulong limit, InputLog logA, InputLog logB,
        TraceDiffOptions options, List<string> notes)
    {
        var pair = Pair(a, b, start, options);
        if (!pair.FullyEqual())
        {
            if (start == 0) return pair.Describe(logA, logB, haveBefore: false);
            // Should not happen (replay is deterministic and the hashes agreed); start over rather than report a wrong step.
            notes.Add($"the states already differ at step {start}, where they should agree; searched again from step 0");
            pair = null;
            return Search(a, b, 0, limit, logA, logB, options, notes);
        }
        if (pair.StepUntilDifferent(Math.Min(limit, start + options.FirstWindowSteps), logA, logB) is { } early) return early;

        while (pair.Steps < limit)
        {
            ulong chunkStart = pair.Steps;
            ulong chunkEnd = chunkStart + Math.Min(options.ChunkSteps, limit - chunkStart);
            pair.RunTo(chunkEnd);
            if (pair.StillEqual()) continue;
            pair = null; // let the old machines go before building two more
            var again = Pair(a, b, chunkStart, options);
            if (!again.FullyEqual() || again.StepUntilDifferent(chunkEnd, logA, logB) is not { } found)
                throw new InvalidOperationException(
                    $"replaying the traces again gave different states in steps {chunkStart}..{chunkEnd}: replay is not deterministic here");
            return found;
        }
        return null;
    }

    private static LockstepPair Pair(TraceFile a, TraceFile b, ulong step, TraceDiffOptions options)
    {
        var pair = new LockstepPair(new ReplaySide("A", a, options.Factory), new ReplaySide("B", b, options.Factory));
        pair.RunTo(step);
        return pair;
    }

    /// <summary>The states agree as far as both traces go: do the traces also end alike?</summary>
    private static TraceDiffResult Ending(TraceFile a, TraceFile b, ulong endA, ulong endB, ulong limit, List<string> notes)
    {
        string? message = null;
        if (endA != endB)
        {
            var (shortName, shortTrace, longName, longEnd) = endA < endB ? ("A", a, "B", endB) : ("B", b, "A", endA);
            message = $"{shortName} ends at step {limit} ({HowItEnds(shortTrace)}), {longName} continues to step {longEnd}";
        }
        else if (a.End is { } x && b.End is { } y && (x.Reason != y.Reason || x.ExitCode != y.ExitCode))
            message = $"both end at step {limit}, A with {HowItEnds(a)} and B with {HowItEnds(b)}";
        else if (a.Truncated != b.Truncated)
            message = $"both reach step {limit}, but {(a.Truncated ? "A" : "B")} is truncated there and {(a.Truncated ? "B" : "A")} ends ({HowItEnds(a.Truncated ? b : a)})";

        if (message is null)
        {
            if (a.Truncated) notes.Add($"both traces are truncated at step {limit}");
            return new TraceDiffResult(TraceDiffOutcome.Identical, limit, [], null, null, notes);
        }
        var ending = new EndingDifference(limit, message, endA, endB, a.Truncated, b.Truncated);
        return new TraceDiffResult(TraceDiffOutcome.EndDiffers, limit, [], null, ending, notes);
    }

    private static string HowItEnds(TraceFile trace) => trace.End is not { } end
        ? "truncated trace"
        : end.Reason switch
        {
            StopReason.GuestExit => $"guest exit {end.ExitCode}",
            StopReason.TrapLoop => "trap loop",
            StopReason.HostRequest => "recording stopped by the host",
            _ => "step limit",
        };
}
