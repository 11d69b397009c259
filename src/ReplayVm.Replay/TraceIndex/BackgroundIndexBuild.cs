using System.Runtime.InteropServices;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>How far a <see cref="BackgroundIndexBuild"/> has got.</summary>
public enum IndexBuildState
{
    Running,
    /// <summary>The sidecar is complete and in place beside the trace.</summary>
    Complete,
    /// <summary>Stopped by <see cref="BackgroundIndexBuild.Cancel"/>; nothing was left behind.</summary>
    Cancelled,
    /// <summary>It could not be built (see <see cref="BackgroundIndexBuild.Error"/>); nothing was left behind.</summary>
    Failed,
}

/// <summary>
/// Builds a trace's sidecar on a low-priority background thread while a debugger uses the trace
/// (what <c>debug</c> and <c>gdb</c> do when they find no sound sidecar). The file is written as
/// <c>TRACE.rvindex.tmp-PID-N</c> and renamed over <c>TRACE.rvindex</c> only when complete, so a
/// crash, a quit or a divergence leaves the old sidecar or none, never a half one. While it is
/// written, <see cref="CompleteLength"/> says how many bytes hold whole records, so a timeline can
/// follow the file (<see cref="TraceIndexFile.OpenGrowing"/>) and start from its snapshots as they
/// appear. Building only reads the trace and replays it on a machine of its own: it changes nothing
/// any other machine does, and everything it writes is checked again before use.
/// </summary>
public sealed class BackgroundIndexBuild : IDisposable
{
    private static int _builds;
    private readonly CancellationTokenSource _cancel = new();
    private readonly Thread _thread;
    private readonly object _lock = new();
    private long _completeLength;
    private double _progress;
    /// <summary>Host time since the build started, for <see cref="Pace"/> (never seen by the machine).</summary>
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    private readonly Action<long>? _published;

    private BackgroundIndexBuild(string tracePath, TraceFile trace, TraceIndexOptions options, Action<long>? published)
    {
        _published = published;
        TotalSteps = trace.End?.Step ?? trace.LastStep;
        Traps = Timeline.TimelineIndex.Following(TotalSteps);
        options = options with
        {
            TrapsFound = options.TrapsFound is { } also
                ? (markers, through) => { Traps.Add(markers, through); also(markers, through); }
                : Traps.Add,
        };
        TracePath = tracePath;
        SidecarPath = TraceIndexFormat.SidecarPath(tracePath);
        WorkingPath = $"{SidecarPath}.tmp-{Environment.ProcessId}-{Interlocked.Increment(ref _builds)}";
        _thread = new Thread(() => Build(trace, options)) { IsBackground = true, Name = "index build", Priority = ThreadPriority.Lowest };
    }

    /// <summary>
    /// Starts building the sidecar of the trace at <paramref name="tracePath"/> (already read as
    /// <paramref name="trace"/>). The build runs until complete, cancelled or failed; it never throws to the caller.
    /// <paramref name="published"/> is told, on the build's thread, each new <see cref="CompleteLength"/>
    /// (after the header, each snapshot and the end record): a view may redraw then.
    /// </summary>
    public static BackgroundIndexBuild Start(string tracePath, TraceFile trace, TraceIndexOptions? options = null, Action<long>? published = null)
    {
        var build = new BackgroundIndexBuild(tracePath, trace, options ?? new TraceIndexOptions(), published);
        build._thread.Start();
        return build;
    }

    public string TracePath { get; }

    /// <summary>Where the finished sidecar goes.</summary>
    public string SidecarPath { get; }

    /// <summary>The file being written (renamed to <see cref="SidecarPath"/> when complete).</summary>
    public string WorkingPath { get; }

    /// <summary>The trace file's identity, once hashed (the build's first job); null before.</summary>
    public TraceIdentity? Identity { get; private set; }

    public IndexBuildState State { get; private set; } = IndexBuildState.Running;

    /// <summary>Why the build failed, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>The share of the trace replayed, 0 to 1.</summary>
    public double Progress
    {
        get { lock (_lock) return State == IndexBuildState.Complete ? 1 : _progress; }
    }

    /// <summary>The recording's length: what <see cref="Progress"/> is a share of.</summary>
    public ulong TotalSteps { get; }

    /// <summary>
    /// How fast the build replays (steps per second of wall time since it started) and about how
    /// long it has left at that pace; null until it has measured something. For a progress display only.
    /// </summary>
    public (double StepsPerSecond, TimeSpan Left)? Pace
    {
        get
        {
            double done = Progress, seconds = _clock.Elapsed.TotalSeconds;
            if (State != IndexBuildState.Running || done <= 0 || done >= 1 || seconds <= 0) return null;
            return (done * TotalSteps / seconds, TimeSpan.FromSeconds(seconds * (1 - done) / done));
        }
    }

    /// <summary>Bytes at the start of <see cref="WorkingPath"/> that hold whole records (0 before the header is written).</summary>
    public long CompleteLength => Interlocked.Read(ref _completeLength);

    /// <summary>
    /// The recording's traps and interrupts, found by the build on its way (so a debugger needs no
    /// second replay for them): queryable as they appear, complete when the build is.
    /// </summary>
    public Timeline.TimelineIndex Traps { get; }

    /// <summary>What the build did, once <see cref="IndexBuildState.Complete"/>.</summary>
    public TraceIndexSummary? Summary { get; private set; }

    private readonly List<Action<BackgroundIndexBuild>> _whenFinished = [];

    /// <summary>
    /// Calls <paramref name="action"/> once the build has ended, whatever the outcome: on the build's
    /// thread, or at once on this one if it already has.
    /// </summary>
    public void WhenFinished(Action<BackgroundIndexBuild> action)
    {
        lock (_lock)
        {
            if (State == IndexBuildState.Running)
            {
                _whenFinished.Add(action);
                return;
            }
        }
        action(this);
    }

    /// <summary>Waits for the build to end; false on timeout.</summary>
    public bool Wait(TimeSpan timeout) => _thread.Join(timeout);

    /// <summary>Stops the build soon; its working file is deleted.</summary>
    public void Cancel() => _cancel.Cancel();

    /// <summary>
    /// Opens the file being built for reading, as far as it is complete; null before its header is
    /// written. Once the build is complete the same handle reads on to the end (the rename keeps it).
    /// Throws <see cref="TraceIndexException"/> when what was written does not check out.
    /// </summary>
    public TraceIndexFile? OpenGrowing(TraceFile trace)
    {
        long length = CompleteLength;
        if (length == 0 || Identity is not { } identity || State is IndexBuildState.Failed or IndexBuildState.Cancelled) return null;
        // The working file until it is renamed (atomically) over the sidecar: then the finished one.
        foreach (var (path, complete) in new[] { (WorkingPath, length), (SidecarPath, long.MaxValue) })
        {
            try
            {
                return TraceIndexFile.OpenGrowing(path, trace, identity, complete);
            }
            catch (TraceIndexException) when (path == WorkingPath && !File.Exists(path))
            {
            }
        }
        return null;
    }

    /// <summary>
    /// Stops the build without waiting for it: its thread runs at nice 19, and on a loaded machine
    /// it may not get a core for seconds, while the user waits on this call (quitting the debugger,
    /// gdb's Ctrl-C ending a session). The working file is deleted here at once (it is open with
    /// <see cref="FileShare.Delete"/>; the thread's writes then go nowhere), the thread stops at its
    /// next slice and deletes it again if it had only just created it, and nothing it does after
    /// this is reported (no <see cref="WhenFinished"/> action, no published length). A build that
    /// had just completed has renamed its file into place already, or finds it gone and fails: a
    /// sidecar is only ever whole. If the process ends first, the background thread ends with it.
    /// </summary>
    public void Dispose()
    {
        Cancel();
        lock (_lock)
        {
            _disposed = true;
            _whenFinished.Clear();
        }
        if (_thread.Join(0))
        {
            _cancel.Dispose();
            return;
        }
        TryDelete(WorkingPath); // the thread still holds the token: it is left to the collector
    }

    private bool _disposed;

    private void Build(TraceFile trace, TraceIndexOptions options)
    {
        LowerThisThreadsPriority();
        var outcome = IndexBuildState.Complete;
        try
        {
            Identity = TraceIdentity.OfFile(TracePath);
            _cancel.Token.ThrowIfCancellationRequested();
            TraceIndexSummary summary;
            using (var output = new FileStream(WorkingPath, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1 << 20))
            {
                summary = TraceIndexBuilder.Build(trace, Identity.Value, output, options, _cancel.Token,
                    new ProgressSink(this), bytes =>
                    {
                        Interlocked.Exchange(ref _completeLength, bytes);
                        if (!Volatile.Read(ref _disposed)) _published?.Invoke(bytes);
                    });
            }
            if (summary.Replay.Outcome == ReplayOutcome.Diverged)
            {
                Error = $"the trace does not replay ({summary.Replay.Divergence}); no index written";
                outcome = IndexBuildState.Failed;
            }
            else
            {
                File.Move(WorkingPath, SidecarPath, overwrite: true);
                Summary = summary;
            }
        }
        catch (OperationCanceledException)
        {
            outcome = IndexBuildState.Cancelled;
        }
        catch (Exception e)
        {
            // A background build has no caller to throw to: the failure is its result (the session goes on without it).
            Error = e is IOException or UnauthorizedAccessException
                ? $"cannot write {WorkingPath}: {e.Message}"
                : $"building the index failed: {Replayer.PlainMessage(e)}";
            outcome = IndexBuildState.Failed;
        }
        if (outcome != IndexBuildState.Complete) TryDelete(WorkingPath);
        Traps.Finish(outcome switch
        {
            IndexBuildState.Complete => Timeline.TimelineIndexState.Complete,
            IndexBuildState.Cancelled => Timeline.TimelineIndexState.Cancelled,
            _ => Timeline.TimelineIndexState.Failed,
        }, Error);
        Action<BackgroundIndexBuild>[] waiting;
        lock (_lock)
        {
            State = outcome;
            waiting = [.. _whenFinished];
            _whenFinished.Clear();
        }
        foreach (var action in waiting) action(this);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private sealed class ProgressSink(BackgroundIndexBuild build) : IProgress<double>
    {
        public void Report(double value)
        {
            lock (build._lock) build._progress = value;
        }
    }

    /// <summary>
    /// .NET leaves thread priorities alone on Linux, so the build lowers its own with
    /// setpriority(2) on its thread id (a nice value applies per thread there; raising it needs no
    /// privilege): the debugger's own thread and the user's other work keep the cores first.
    /// </summary>
    private static void LowerThisThreadsPriority()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            _ = SetPriority(0 /* PRIO_PROCESS: with a thread id, that thread */, GetThreadId(), 19);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static extern int SetPriority(int which, int who, int priority);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetThreadId();
}
