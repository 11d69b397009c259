using ReplayVm.Core.Hart;
using ReplayVm.Replay.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Diff;

/// <summary>A divergence query's answer: the step found (null when there is none), and what the search cost.</summary>
/// <param name="StepsReplayed">Steps both timelines replayed for the search, together (restores counted from their checkpoint).</param>
/// <param name="StepsCompared">Steps at which the two states were compared one by one (the rest were skipped in chunks).</param>
public sealed record DivergenceAnswer(ulong? Step, string Message, ulong StepsReplayed, ulong StepsCompared, bool Cancelled = false);

/// <summary>Where a register or memory byte that differs now started to differ, and the last write to it on each side before then.</summary>
/// <param name="Since">The first step of the current stretch in which the two values differ (after <c>Since - 1</c> steps they were equal, or <c>Since</c> is 0).</param>
/// <param name="WriteA">Side A's last write at or before that point: its step (the instruction's), pc and encoding; null when A never wrote it.</param>
/// <param name="InputDifference">The latest step at or before <paramref name="Since"/> where the input logs differ, with each side's event there.</param>
public sealed record DivergeAnswer(string What, ulong Since, ulong ValueA, ulong ValueB, WriteSite? WriteA, WriteSite? WriteB,
    (ulong Step, TraceEvent? A, TraceEvent? B)? InputDifference);

/// <summary>An instruction that wrote a register or memory: its step (seek there to see the state just before it), pc and bits.</summary>
public sealed record WriteSite(ulong Step, ulong Pc, uint? Encoding);

/// <summary>
/// Two recordings as one thing to move about in and compare: a <see cref="ReplayTimeline"/> for
/// each, and where their machine states part and join again. "Differ" means what
/// <see cref="TraceDiff"/> means (counters, pc, mode, registers, every CSR, timer state, RAM; device
/// registers only through their effects), so the first divergence is the step <c>replayvm diff</c>
/// reports. A divergence is a step whose state differs after the step before it was equal (or step
/// 0, when the setups already differ); the runs may join again later and part once more.
///
/// How the search stays cheap and exact. It scans forward from step 0 once, remembering every
/// divergence and re-join it passes (so previous-divergence answers from memory), in stretches of
/// <see cref="ChunkSteps"/>:
/// <list type="bullet">
/// <item>Equal states whose full state hashes (devices included) agree stay equal until the input
/// logs next differ (determinism, as <c>diff</c> argues): the scan jumps there in one replay.</item>
/// <item>Equal states otherwise: a stretch holding an input difference is compared step by step;
/// any other stretch is compared at its end, and only a stretch that ends different is replayed
/// again from its start (a checkpoint) step by step — <c>diff</c>'s chunking, so a part-and-rejoin
/// inside one stretch with agreeing inputs but differing device registers goes unseen, as in <c>diff</c>.</item>
/// <item>Different states: if a RAM page that differed at the stretch's start was written by
/// neither side in it, the states differed throughout (that page did), so the stretch is skipped
/// and the next one is twice as long; otherwise the stretch is halved and retried, and at
/// <see cref="ChunkSteps"/> compared step by step to find where they join.</item>
/// </list>
/// The pages compared are only those either side wrote since the previous comparison (RAM's write
/// epochs), and rewinding restores the timelines' checkpoints rather than replaying from step 0.
/// Not thread-safe, like the timelines it moves.
/// </summary>
public sealed class TimelinePair
{
    public const ulong ChunkSteps = 4096;
    /// <summary>The longest stretch skipped in one go while the states stay apart.</summary>
    private const ulong MaxChunkSteps = 1UL << 22;

    private readonly TimelineSide _a, _b;
    private readonly LockstepPair _pair;
    private readonly InputLog _logA, _logB;
    private readonly List<ulong> _divergences = [], _joins = [];
    private bool _started, _differsAtFrontier;
    private ulong _frontier, _differentChunk = ChunkSteps;
    private ulong _replayed, _compared;

    /// <summary>Throws <see cref="ArgumentException"/> (with <see cref="Incomparable"/>'s words) when the traces' states cannot be compared.</summary>
    public TimelinePair(ReplayTimeline a, ReplayTimeline b)
    {
        if (Incomparable(a.Trace.Header, b.Trace.Header) is { } why) throw new ArgumentException(why);
        _a = new TimelineSide("A", a);
        _b = new TimelineSide("B", b);
        _pair = new LockstepPair(_a, _b);
        _logA = new InputLog(a.Trace);
        _logB = new InputLog(b.Trace);
        SetupDifferences = SetupComparison.Differences(a.Trace.Header, b.Trace.Header);
        Limit = Math.Min(a.End, b.End);
    }

    /// <summary>
    /// Why two traces cannot be compared step by step, or null when they can: another board
    /// revision (a machine built by other rules), another board or RAM size.
    /// </summary>
    public static string? Incomparable(TraceHeader a, TraceHeader b)
    {
        if (a.BoardRevision != b.BoardRevision)
            return $"the traces were recorded on different board revisions ({a.BoardRevision} and {b.BoardRevision}) and cannot be compared step by step";
        if (!SetupComparison.ComparableStateByState(a.Setup, b.Setup))
            return "the traces describe machines of a different board or RAM size (" + string.Join("; ", SetupComparison.Differences(a.Setup, b.Setup)) + ") and cannot be compared step by step";
        return null;
    }

    public ReplayTimeline A => _a.Timeline;
    public ReplayTimeline B => _b.Timeline;
    public InputLog InputsA => _logA;
    public InputLog InputsB => _logB;

    /// <summary>How the two setups differ (images, disks, RAM, options), as <c>diff</c> lists them; empty when they are the same machine.</summary>
    public IReadOnlyList<string> SetupDifferences { get; }

    /// <summary>The last step both recordings reach.</summary>
    public ulong Limit { get; }

    /// <summary>How far the scan has compared the runs; divergences up to here are all known.</summary>
    public ulong ScannedTo => _started ? _frontier : 0;

    /// <summary>Divergences found so far (ascending; complete up to <see cref="ScannedTo"/>).</summary>
    public IReadOnlyList<ulong> KnownDivergences => _divergences;

    /// <summary>Steps at which the states became equal again after differing (ascending; complete up to <see cref="ScannedTo"/>).</summary>
    public IReadOnlyList<ulong> KnownJoins => _joins;

    /// <summary>Whether the states differ after <paramref name="step"/> steps, when the scan has got that far; else null.</summary>
    public bool? DiffersAt(ulong step)
    {
        if (!_started || step > _frontier) return null;
        int divergences = _divergences.Count(d => d <= step), joins = _joins.Count(j => j <= step);
        return divergences > joins;
    }

    // ---- queries ----

    public DivergenceAnswer First(CancellationToken cancel = default, IProgress<double>? progress = null) =>
        Search(() => _divergences.Count > 0, () => _divergences.Count > 0 ? _divergences[0] : null,
            found => $"differ at step {found}", () => $"the runs never differ up to step {Limit}", cancel, progress);

    /// <summary>The first divergence after <paramref name="from"/>.</summary>
    public DivergenceAnswer Next(ulong from, CancellationToken cancel = default, IProgress<double>? progress = null) =>
        Search(() => _divergences.Any(d => d > from), () => _divergences.Where(d => d > from).Select(d => (ulong?)d).FirstOrDefault(),
            found => $"differ at step {found}",
            () => _frontier >= Limit && _differsAtFrontier
                ? $"no divergence after step {from}: the runs stay different to step {Limit}"
                : $"no divergence after step {from} (compared to step {Limit})", cancel, progress);

    /// <summary>The last divergence before <paramref name="from"/>.</summary>
    public DivergenceAnswer Previous(ulong from, CancellationToken cancel = default, IProgress<double>? progress = null) =>
        Search(() => _frontier >= from, () => _divergences.Where(d => d < from).Select(d => (ulong?)d).LastOrDefault(),
            found => $"differ at step {found}", () => $"no divergence before step {from}", cancel, progress);

    private DivergenceAnswer Search(Func<bool> enough, Func<ulong?> answer, Func<ulong, string> found, Func<string> none,
        CancellationToken cancel, IProgress<double>? progress)
    {
        ulong origin = A.Position, originB = B.Position;
        ulong replayed = _replayed, compared = _compared;
        _a.Cancel = _b.Cancel = cancel;
        try
        {
            Extend(enough, cancel, progress);
        }
        catch (OperationCanceledException)
        {
            _a.Cancel = _b.Cancel = default;
            Park(origin, originB);
            return new DivergenceAnswer(null, $"cancelled (compared up to step {_frontier})", _replayed - replayed, _compared - compared, Cancelled: true);
        }
        finally
        {
            _a.Cancel = _b.Cancel = default;
        }
        var step = answer();
        if (step is { } s) Park(s, s); else Park(origin, originB);
        return new DivergenceAnswer(step, step is { } at ? found(at) : none(), _replayed - replayed, _compared - compared);
    }

    /// <summary>Leaves both timelines at the given positions (where the user will look next).</summary>
    private void Park(ulong a, ulong b)
    {
        A.Seek(a);
        B.Seek(b);
    }

    // ---- the scan ----

    private void Start()
    {
        if (_started) return;
        Both(0);
        _differsAtFrontier = _pair.TrackDifferences();
        if (_differsAtFrontier) _divergences.Add(0);
        _frontier = 0;
        _started = true;
    }

    private void Extend(Func<bool> enough, CancellationToken cancel, IProgress<double>? progress)
    {
        Start();
        if (enough() || _frontier >= Limit) return;
        Both(_frontier);
        // Back where the scan left off (the user may have moved since): pages changed meanwhile were written, and are compared again.
        if (_pair.UpdateDifferences() != _differsAtFrontier)
            throw new InvalidOperationException($"the states at step {_frontier} compare differently on a second look: replay is not deterministic here");
        while (!enough() && _frontier < Limit)
        {
            cancel.ThrowIfCancellationRequested();
            if (_differsAtFrontier) ScanWhileDifferent(); else ScanWhileEqual();
            progress?.Report((double)_frontier / Limit);
        }
    }

    /// <summary>From equal states at the frontier: on to the next divergence, or at least one stretch further.</summary>
    private void ScanWhileEqual()
    {
        ulong c = _frontier;
        ulong? inputsDiffer = InputLog.FirstDifference(_logA, _logB, c, Limit);
        if (A.ComputeHash() == B.ComputeHash())
        {
            ulong next = inputsDiffer ?? Limit;
            if (next > c)
            {
                Both(next);
                if (_pair.UpdateDifferences())
                    throw new InvalidOperationException($"two equal machines with the same inputs came apart between steps {c} and {next}: replay is not deterministic here");
                _frontier = next;
                return;
            }
        }
        ulong e = Math.Min(c + ChunkSteps, Limit);
        if (inputsDiffer is not { } s || s >= e)
        {
            Both(e);
            if (!_pair.UpdateDifferences())
            {
                _frontier = e;
                return;
            }
            Both(c); // it ended different: find the step, one at a time from the stretch's start
            _pair.UpdateDifferences();
        }
        StepThrough(c, e, lookingFor: true);
    }

    /// <summary>From different states at the frontier: on to where they join, or at least one stretch further.</summary>
    private void ScanWhileDifferent()
    {
        ulong c = _frontier;
        while (true)
        {
            ulong e = Math.Min(c + _differentChunk, Limit);
            Both(e);
            if (_pair.UntouchedPageStillDiffers())
            {
                _pair.UpdateDifferences();
                _frontier = e;
                _differentChunk = Math.Min(_differentChunk * 2, MaxChunkSteps);
                return;
            }
            Both(c);
            _pair.UpdateDifferences();
            if (_differentChunk > ChunkSteps)
            {
                _differentChunk /= 2;
                continue;
            }
            StepThrough(c, e, lookingFor: false);
            return;
        }
    }

    /// <summary>Steps both from <paramref name="from"/> to <paramref name="to"/>, comparing after every step, until "differ" equals <paramref name="lookingFor"/>.</summary>
    private void StepThrough(ulong from, ulong to, bool lookingFor)
    {
        for (ulong s = from + 1; s <= to; s++)
        {
            Both(s);
            _compared++;
            if (_pair.UpdateDifferences() != lookingFor) continue;
            (lookingFor ? _divergences : _joins).Add(s);
            _differsAtFrontier = lookingFor;
            _frontier = s;
            if (!lookingFor) _differentChunk = ChunkSteps;
            return;
        }
        _frontier = to;
    }

    /// <summary>Moves both timelines to <paramref name="step"/>, counting the steps replayed.</summary>
    private void Both(ulong step)
    {
        _replayed += Cost(A, step) + Cost(B, step);
        _pair.RunTo(step);
    }

    /// <summary>What a seek to <paramref name="step"/> replays: from here going forward, else from the checkpoint it restores.</summary>
    private static ulong Cost(ReplayTimeline timeline, ulong step)
    {
        ulong from = timeline.Checkpoints.Nearest(step)?.Step ?? 0;
        if (step >= timeline.Position && from <= timeline.Position) from = timeline.Position;
        return step - from;
    }

    // ---- why does this value differ ----

    /// <summary>
    /// For a register that differs at the current (common) position: the step where the two values
    /// started to differ, following the chain of last writes back (each side's last write before
    /// here; if the values already differed before the later of the two, again from there).
    /// The timelines end where they started.
    /// </summary>
    public DivergeAnswer DivergeRegister(HartRegister register, string name, CancellationToken cancel = default) =>
        Diverge(name, timeline => Read(timeline, register),
            timeline => timeline.FindLastRegisterWrite(register, cancel) is { } w ? new WriteSite(w.Step, w.Pc, w.Encoding) : null);

    /// <summary><see cref="DivergeRegister"/> for the byte at a virtual address (as the harts see it now).</summary>
    public DivergeAnswer DivergeMemory(ulong address, CancellationToken cancel = default) =>
        Diverge($"0x{address:x}", timeline => ReadByte(timeline, address),
            timeline => timeline.FindLastMemoryWrite(address, 1, cancel) is { } w ? new WriteSite(w.Step, w.Pc, w.Encoding) : null);

    private DivergeAnswer Diverge(string what, Func<ReplayTimeline, ulong?> read, Func<ReplayTimeline, WriteSite?> lastWrite)
    {
        ulong origin = A.Position;
        if (B.Position != origin) throw new InvalidOperationException("diverge compares the runs at the same step: set the offset to 0 first");
        ulong? a = read(A), b = read(B);
        if (a is null || b is null) throw new InvalidOperationException($"{what} cannot be read at step {origin}");
        if (a == b) throw new InvalidOperationException($"{what} is the same in both runs at step {origin} (0x{a:x})");
        try
        {
            // Each round stands one step before the later of the two last writes, where the values were fixed on both sides.
            while (true)
            {
                var wa = lastWrite(A);
                var wb = lastWrite(B);
                // Neither side writes the value after its last write: both are fixed from the later write on.
                ulong since = Math.Max(wa is null ? 0 : wa.Step + 1, wb is null ? 0 : wb.Step + 1);
                ulong? before = since == 0 ? null : since - 1;
                bool differedBefore = false;
                if (before is { } p)
                {
                    Both(p);
                    differedBefore = read(A) != read(B);
                }
                if (!differedBefore)
                    return new DivergeAnswer(what, since, a.Value, b.Value, wa, wb, InputLog.LastDifferenceAtOrBefore(_logA, _logB, since));
            }
        }
        finally
        {
            Park(origin, origin);
        }
    }

    private static ulong? Read(ReplayTimeline timeline, HartRegister register) => register.File switch
    {
        RegisterFile.Integer => timeline.Machine.Hart.GetX(register.Index),
        RegisterFile.Float => timeline.Machine.Hart.GetF(register.Index),
        _ => null,
    };

    private static ulong? ReadByte(ReplayTimeline timeline, ulong address)
    {
        Span<byte> one = stackalloc byte[1];
        return VirtualMemoryView.Read(timeline.Machine.Hart, address, one) ? one[0] : null;
    }

    /// <summary>How the two states differ at the current common position (registers, CSRs, memory ranges), or null when they are equal.</summary>
    public StateDivergence? DifferencesNow()
    {
        if (A.Position != B.Position) return null;
        return _pair.DifferencesNow(_logA, _logB);
    }
}
