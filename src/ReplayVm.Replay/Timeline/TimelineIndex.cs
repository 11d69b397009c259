using ReplayVm.Core;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Loading;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Timeline;

/// <summary>Tuning for <see cref="TimelineIndex"/>.</summary>
public sealed record TimelineIndexOptions
{
    /// <summary>Markers kept one by one; past this many only <see cref="Buckets"/> summaries are kept (memory stays bounded).</summary>
    public int MaxExactMarkers { get; init; } = 1_000_000;

    /// <summary>Equal slices of the recording summarised by count, first and last marker of each kind.</summary>
    public int Buckets { get; init; } = 4096;

    /// <summary>Steps replayed between publishing what was found (and looking for cancellation).</summary>
    public ulong ChunkSteps { get; init; } = 1 << 21;

    /// <summary>Images of disks the trace names only by hash (as for <see cref="Timeline"/>).</summary>
    public DiskSupply? Disks { get; init; }
}

/// <summary>How far a <see cref="TimelineIndex"/> has got.</summary>
public enum TimelineIndexState
{
    Running,
    /// <summary>The whole recording has been scanned.</summary>
    Complete,
    Cancelled,
    /// <summary>The replay could not go on (see <see cref="TimelineIndex.Error"/>); what was found before stays.</summary>
    Failed,
}

/// <summary>
/// Where the traps and interrupts of a recording are. They are not in the trace (only inputs
/// are), so the index replays the whole recording once on its own machine and thread, with a
/// <see cref="ITrapObserver"/> on the hart, and keeps each trap's step, sorted by kind. Queries
/// are safe from any thread while the scan goes on: markers appear as it proceeds.
///
/// Memory stays bounded: the first <see cref="TimelineIndexOptions.MaxExactMarkers"/> markers are
/// kept one by one; beyond that (see <see cref="ExactBefore"/>) only per-bucket summaries — count,
/// first and last marker of each kind in each slice of the recording. <see cref="Next"/> and
/// <see cref="Previous"/> always answer with a real marker, but there they may skip markers
/// inside a bucket.
/// </summary>
public sealed class TimelineIndex : IDisposable
{
    private const int KindCount = 5;

    // A monitor rather than a Lock: WaitUntil waits on it for the scan to publish.
    private readonly object _lock = new();
    /// <summary>The scan's own machine; dropped when the scan ends, so a finished index holds no guest RAM.</summary>
    private Machine? _machine;
    private readonly RewindableReplayInput? _input;
    /// <summary>Whether this index replays the recording itself (else it is filled from outside).</summary>
    private readonly bool _scans;
    /// <summary>Completes an index filled from outside.</summary>
    private readonly TaskCompletionSource _fed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimelineIndexOptions _options;
    private readonly CancellationTokenSource _cancel = new();
    private readonly List<TrapMarker>[] _exact = new List<TrapMarker>[KindCount];
    private readonly int[][] _bucketCounts = new int[KindCount][];
    private readonly TrapMarker[][] _bucketFirst = new TrapMarker[KindCount][];
    private readonly TrapMarker[][] _bucketLast = new TrapMarker[KindCount][];
    private readonly long[] _totals = new long[KindCount];
    private readonly Dictionary<(bool Interrupt, byte Cause), long> _byCause = [];
    private readonly Collector _collector = new();
    /// <summary>A sidecar's traps, which answer every query themselves (decoding records as needed); null for an index that keeps its markers.</summary>
    private readonly TraceIndex.SidecarTraps? _stored;
    private readonly int _buckets;
    private int _exactCount;
    private ulong _exactBefore = ulong.MaxValue;
    private ulong _scanned;
    private long _version;
    private TimelineIndexState _state = TimelineIndexState.Running;

    /// <summary>
    /// Builds the recorded machine (as <see cref="Timeline"/> does) and starts scanning on a
    /// background thread. Throws <see cref="TimelineException"/> when the machine cannot be built.
    /// </summary>
    public TimelineIndex(TraceFile trace, TimelineIndexOptions? options = null)
        : this(trace.End?.Step ?? trace.LastStep, options)
    {
        _input = new RewindableReplayInput(trace.Events);
        Machine machine;
        try
        {
            machine = trace.Header.Setup.Build(_input, _ => { }, _options.Disks);
        }
        catch (Exception e) when (e is GuestImageException or ArgumentException)
        {
            throw new TimelineException($"the trace describes a machine this ReplayVm cannot build: {e.Message}");
        }
        _input.Diverged += machine.RequestStop;
        _machine = machine;
        _scans = true;
        machine.Hart.TrapObserver = _collector;
        Completion = Task.Factory.StartNew(() => Scan(machine), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>An index that something else fills (<see cref="Add"/>, <see cref="Finish"/>): a sidecar's build (or, holding none itself, a sidecar's traps).</summary>
    private TimelineIndex(ulong end, TimelineIndexOptions? options)
    {
        _options = options ?? new TimelineIndexOptions();
        if (_options.Buckets < 1 || _options.ChunkSteps == 0 || _options.MaxExactMarkers < 0)
            throw new ArgumentOutOfRangeException(nameof(options), "buckets and chunk steps must be at least 1, the marker budget not negative");
        End = end;
        _buckets = (int)Math.Min((ulong)_options.Buckets, End + 1);
        for (int k = 0; k < KindCount; k++)
        {
            _exact[k] = [];
            _bucketCounts[k] = new int[_buckets];
            _bucketFirst[k] = new TrapMarker[_buckets];
            _bucketLast[k] = new TrapMarker[_buckets];
        }
        Completion = _fed.Task;
    }

    /// <summary>
    /// An index filled from outside as something else replays the recording (a sidecar's
    /// background build, which finds the traps on its way): <see cref="Add"/> what it finds, in step
    /// order, then <see cref="Finish"/>. Queries work meanwhile, as on a scanning index.
    /// </summary>
    public static TimelineIndex Following(ulong end, TimelineIndexOptions? options = null) => new(end, options);

    /// <summary>
    /// A complete index answering from a sidecar's trap records, decoded as queries need them (no
    /// replay, and nothing read beyond their summaries until asked). Should a record turn out damaged
    /// or forged when decoded, the index becomes <see cref="TimelineIndexState.Failed"/> with a one-line
    /// <see cref="Error"/> and answers nothing more.
    /// </summary>
    public static TimelineIndex Of(ulong end, TraceIndex.SidecarTraps traps, string sidecarPath) => new(end, traps, sidecarPath);

    private TimelineIndex(ulong end, TraceIndex.SidecarTraps traps, string sidecarPath)
        : this(end, new TimelineIndexOptions { Buckets = 1, MaxExactMarkers = 0 }) // it keeps no markers of its own
    {
        _stored = traps;
        _sidecarPath = sidecarPath;
        Finish(TimelineIndexState.Complete, null);
    }

    private readonly string? _sidecarPath;

    /// <summary>A query of the sidecar's traps; a record found damaged fails the index (what it answers from then on: nothing).</summary>
    private T? FromStored<T>(Func<TraceIndex.SidecarTraps, T> query, T? none)
    {
        if (State == TimelineIndexState.Failed) return none;
        try
        {
            return query(_stored!);
        }
        catch (TraceIndex.TraceIndexException e)
        {
            Error = $"index {_sidecarPath} ignored: {e.Message} (run replayvm index to rebuild it)";
            lock (_lock)
            {
                _state = TimelineIndexState.Failed;
                Monitor.PulseAll(_lock);
            }
            Interlocked.Increment(ref _version);
            return none;
        }
    }

    /// <summary>Adds markers found (after every one added before), and says every trap before <paramref name="scannedTo"/> has now been added.</summary>
    public void Add(IReadOnlyList<TrapMarker> markers, ulong scannedTo)
    {
        if (_scans || _stored is not null) throw new InvalidOperationException("a scanning index, or one of a sidecar's traps, finds its own markers");
        Publish(markers, scannedTo);
    }

    /// <summary>Ends an index filled from outside: complete, or why not (what was added stays).</summary>
    public void Finish(TimelineIndexState state, string? error)
    {
        if (_scans || state == TimelineIndexState.Running) throw new InvalidOperationException("only an index filled from outside is finished so");
        Error = error;
        lock (_lock)
        {
            if (_state != TimelineIndexState.Running) return;
            _state = state;
            if (state == TimelineIndexState.Complete) _scanned = Math.Max(_scanned, End);
            Monitor.PulseAll(_lock);
        }
        Interlocked.Increment(ref _version);
        _fed.TrySetResult();
    }

    /// <summary>The recording's last step: the scan's goal.</summary>
    public ulong End { get; }

    /// <summary>Finishes when the scan does (complete, cancelled or failed); it never faults.</summary>
    public Task Completion { get; }

    /// <summary>Steps scanned so far: every trap before this step is in the index.</summary>
    public ulong ScannedStep
    {
        get { lock (_lock) return _scanned; }
    }

    /// <summary>The share of the recording scanned, 0 to 1.</summary>
    public double Progress
    {
        get
        {
            lock (_lock) return _state == TimelineIndexState.Complete || End == 0 ? 1 : (double)_scanned / End;
        }
    }

    public TimelineIndexState State
    {
        get { lock (_lock) return _state; }
    }

    /// <summary>Why the scan failed (<see cref="TimelineIndexState.Failed"/>), else null.</summary>
    public string? Error { get; private set; }

    /// <summary>Grows each time new markers are published: a view redraws when it changes.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Every marker before this step is kept one by one; from it on, only bucket summaries (ulong.MaxValue: all are exact).</summary>
    public ulong ExactBefore
    {
        get { lock (_lock) return _exactBefore; }
    }

    /// <summary>Traps of <paramref name="kinds"/> found so far.</summary>
    public long Count(TrapMarkerKinds kinds)
    {
        if (_stored is not null) return FromStored(t => t.Count(kinds), 0);
        lock (_lock)
        {
            long total = 0;
            for (int k = 0; k < KindCount; k++)
                if (Has(kinds, k)) total += _totals[k];
            return total;
        }
    }

    /// <summary>Traps found so far by cause, e.g. (false, 8) for ecalls from U.</summary>
    public IReadOnlyDictionary<(bool Interrupt, byte Cause), long> CountsByCause()
    {
        if (_stored is not null) return FromStored(t => t.CountsByCause(), new Dictionary<(bool Interrupt, byte Cause), long>())!;
        lock (_lock) return new Dictionary<(bool Interrupt, byte Cause), long>(_byCause);
    }

    /// <summary>The first marker of <paramref name="kinds"/> strictly after <paramref name="afterStep"/> found so far, or null.</summary>
    public TrapMarker? Next(TrapMarkerKinds kinds, ulong afterStep)
    {
        if (afterStep == ulong.MaxValue) return null;
        if (_stored is not null) return FromStored(t => t.Next(kinds, afterStep), null);
        lock (_lock)
        {
            TrapMarker? best = null;
            for (int k = 0; k < KindCount; k++)
                if (Has(kinds, k) && NextOfKind(k, afterStep + 1) is { } m && (best is null || m.Step < best.Value.Step)) best = m;
            return best;
        }
    }

    /// <summary>The last marker of <paramref name="kinds"/> strictly before <paramref name="beforeStep"/> found so far, or null.</summary>
    public TrapMarker? Previous(TrapMarkerKinds kinds, ulong beforeStep)
    {
        if (beforeStep == 0) return null;
        if (_stored is not null) return FromStored(t => t.Previous(kinds, beforeStep), null);
        lock (_lock)
        {
            TrapMarker? best = null;
            for (int k = 0; k < KindCount; k++)
                if (Has(kinds, k) && PreviousOfKind(k, beforeStep - 1) is { } m && (best is null || m.Step > best.Value.Step)) best = m;
            return best;
        }
    }

    /// <summary>Whether some marker of <paramref name="kinds"/> lies in [<paramref name="fromStep"/>, <paramref name="toStep"/>).</summary>
    public bool Any(TrapMarkerKinds kinds, ulong fromStep, ulong toStep) =>
        _stored is not null ? FromStored(t => t.Any(kinds, fromStep, toStep), false)
        : toStep > fromStep && (fromStep == 0 ? FirstAtOrAfterZero(kinds) : Next(kinds, fromStep - 1)) is { } m && m.Step < toStep;

    private TrapMarker? FirstAtOrAfterZero(TrapMarkerKinds kinds)
    {
        lock (_lock)
        {
            TrapMarker? best = null;
            for (int k = 0; k < KindCount; k++)
                if (Has(kinds, k) && NextOfKind(k, 0) is { } m && (best is null || m.Step < best.Value.Step)) best = m;
            return best;
        }
    }

    /// <summary>Waits until <paramref name="done"/> holds (checked as markers are published) or the scan ends; false on timeout.</summary>
    public bool WaitUntil(Func<TimelineIndex, bool> done, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_lock)
        {
            while (true)
            {
                // The predicate takes the (reentrant) lock itself for its queries.
                if (_state != TimelineIndexState.Running || done(this)) return true;
                long left = deadline - Environment.TickCount64;
                if (left <= 0) return false;
                Monitor.Wait(_lock, TimeSpan.FromMilliseconds(Math.Min(left, 100)));
            }
        }
    }

    /// <summary>Stops the scan soon; what was found stays queryable.</summary>
    public void Cancel()
    {
        _cancel.Cancel();
        _machine?.RequestStop();
    }

    public void Dispose()
    {
        Cancel();
        if (_scans) Completion.Wait(); // one filled from outside is not ours to wait for
        _cancel.Dispose();
    }

    private static bool Has(TrapMarkerKinds kinds, int k) => ((int)kinds & (1 << k)) != 0;

    private static int KindIndex(TrapMarkerKinds kind) => System.Numerics.BitOperations.TrailingZeroCount((int)kind);

    private int Bucket(ulong step) => (int)Math.Min((ulong)_buckets - 1, (ulong)((UInt128)step * (ulong)_buckets / ((UInt128)End + 1)));

    /// <summary>The first marker of kind <paramref name="k"/> at or after <paramref name="from"/>: from the exact list, else from the buckets past <see cref="_exactBefore"/>.</summary>
    private TrapMarker? NextOfKind(int k, ulong from)
    {
        var list = _exact[k];
        int i = FirstAtOrAfter(list, from);
        if (i < list.Count) return list[i];
        if (_exactBefore == ulong.MaxValue) return null;
        from = Math.Max(from, _exactBefore);
        int first = Bucket(from);
        if (_bucketCounts[k][first] > 0 && _bucketLast[k][first].Step >= from)
            return _bucketFirst[k][first].Step >= from ? _bucketFirst[k][first] : _bucketLast[k][first];
        for (int b = first + 1; b < _buckets; b++)
            if (_bucketCounts[k][b] > 0) return _bucketFirst[k][b];
        return null;
    }

    /// <summary>The last marker of kind <paramref name="k"/> at or before <paramref name="to"/>.</summary>
    private TrapMarker? PreviousOfKind(int k, ulong to)
    {
        if (_exactBefore != ulong.MaxValue && to >= _exactBefore)
        {
            int last = Bucket(to), stop = Bucket(_exactBefore);
            for (int b = last; b >= stop; b--)
            {
                if (_bucketCounts[k][b] == 0) continue;
                var (firstMarker, lastMarker) = (_bucketFirst[k][b], _bucketLast[k][b]);
                if (lastMarker.Step <= to && lastMarker.Step >= _exactBefore) return lastMarker;
                if (firstMarker.Step <= to && firstMarker.Step >= _exactBefore) return firstMarker;
            }
        }
        var list = _exact[k];
        int i = FirstAtOrAfter(list, to == ulong.MaxValue ? to : to + 1) - 1;
        return i >= 0 ? list[i] : null;
    }

    private static int FirstAtOrAfter(List<TrapMarker> list, ulong step) => SortedSteps.FirstAtOrAfter(list, step, static m => m.Step);

    private void Scan(Machine machine)
    {
        var hart = machine.Hart;
        var outcome = TimelineIndexState.Complete;
        try
        {
            while (hart.Steps < End)
            {
                if (_cancel.IsCancellationRequested)
                {
                    outcome = TimelineIndexState.Cancelled;
                    break;
                }
                var run = machine.Run(Math.Min(_options.ChunkSteps, End - hart.Steps));
                Publish(_collector.Pending, hart.Steps);
                _collector.Pending.Clear();
                if (_input!.Divergence is { } message)
                {
                    Error = $"the replay left its recording at step {_input.DivergenceStep}: {message}";
                    outcome = TimelineIndexState.Failed;
                    break;
                }
                if (run.Reason is StopReason.GuestExit or StopReason.TrapLoop) break;
            }
        }
        catch (Exception e)
        {
            // A background scan has no caller to throw to: the failure is its result.
            Error = $"indexing stopped at step {hart.Steps}: {e.Message}";
            outcome = TimelineIndexState.Failed;
        }
        _machine = null;
        lock (_lock)
        {
            _state = outcome;
            if (outcome == TimelineIndexState.Complete) _scanned = Math.Max(_scanned, End);
            Monitor.PulseAll(_lock);
        }
        Interlocked.Increment(ref _version);
    }

    /// <summary>Moves markers found (by the observer during the last chunk, or by whoever fills the index) into it, under the lock.</summary>
    private void Publish(IReadOnlyList<TrapMarker> found, ulong scannedTo)
    {
        lock (_lock)
        {
            foreach (var marker in found)
            {
                int k = KindIndex(marker.Kind);
                _totals[k]++;
                var cause = (marker.Interrupt, marker.Cause);
                _byCause[cause] = _byCause.GetValueOrDefault(cause) + 1;
                int b = Bucket(marker.Step);
                if (_bucketCounts[k][b]++ == 0) _bucketFirst[k][b] = marker;
                _bucketLast[k][b] = marker;
                if (_exactBefore == ulong.MaxValue && _exactCount < _options.MaxExactMarkers)
                {
                    _exact[k].Add(marker);
                    _exactCount++;
                }
                else if (_exactBefore == ulong.MaxValue)
                {
                    // Markers arrive in step order, so everything before this one has been kept.
                    _exactBefore = marker.Step;
                }
            }
            _scanned = Math.Max(_scanned, scannedTo);
            Monitor.PulseAll(_lock);
        }
        Interlocked.Increment(ref _version);
    }

    /// <summary>Collects trap entries on the scanning thread; the scan publishes them between chunks.</summary>
    private sealed class Collector : ITrapObserver
    {
        public readonly List<TrapMarker> Pending = [];

        public void TrapTaken(in TrapEntry entry) => Pending.Add(TrapMarker.Of(entry));

        public void TrapReturned(in TrapReturn trapReturn) { }
    }
}
