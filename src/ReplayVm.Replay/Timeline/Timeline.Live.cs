using ReplayVm.Core;
using ReplayVm.Core.Input;

namespace ReplayVm.Replay.Timeline;

/// <summary>What a live timeline needs beyond a replayed one: where input comes from and how the recording is written.</summary>
public sealed record LiveTimelineOptions
{
    /// <summary>The live input (console, wall clock, entropy); what it hands over is logged.</summary>
    public required IInputPort Input { get; init; }

    /// <summary>Makes a pacer for each stretch of live running (`--pace`); null runs as fast as the host can.</summary>
    public Func<IGuestPacer>? Pacer { get; init; }

    /// <summary>Steps between the state hashes written into the recording.</summary>
    public ulong StateHashInterval { get; init; } = TraceHeader.DefaultStateHashInterval;

    /// <summary>Written into the header, for humans.</summary>
    public string RecorderName { get; init; } = "ReplayVm";

    public TraceWriterOptions Writer { get; init; } = new();

    /// <summary>How to build the machine (the CLI translates load errors); by default <see cref="MachineSetup.Build"/>.</summary>
    public MachineFactory? Factory { get; init; }
}

/// <summary>
/// Recording while debugging (rr's "record" and "replay" in one session): the timeline is also the
/// recorder. Everything up to the frontier — the furthest step run so far — is replayed from the
/// log like any trace; moving past it runs the guest on live input, logging each input with its
/// step to the trace file and to the in-memory log, writing state hashes every interval, so going
/// back and forth never re-reads the host and the file replays exactly what the session saw.
/// Nothing recorded is lost: the writer flushes after every live stretch, and <see cref="Dispose"/>
/// writes the end record (at the frontier, with its state hash) when the session ends.
/// </summary>
public sealed partial class Timeline
{
    /// <summary>The recording side of a live timeline.</summary>
    private sealed class LiveRecording(LiveTimelineOptions options)
    {
        public IInputPort Input => options.Input;
        public LiveTimelineOptions Options => options;
        public List<TraceEvent> Events { get; } = [];
        public TraceWriter Writer { get; set; } = null!;
        public bool Ended;
        public bool Closed;
    }

    private readonly LiveRecording? _live;
    private ulong _frontier;

    /// <summary>
    /// Starts a live session of <paramref name="setup"/>: builds the machine (throws
    /// <see cref="TimelineException"/> if it cannot be built, before anything is written), writes the
    /// trace header to <paramref name="trace"/> (which the timeline then owns) and stands at step 0.
    /// </summary>
    public static Timeline Record(MachineSetup setup, Stream trace, LiveTimelineOptions live, TimelineOptions? options = null)
    {
        if (live.StateHashInterval == 0) throw new ArgumentOutOfRangeException(nameof(live), "the state-hash interval must be at least 1 step");
        var recording = new LiveRecording(live);
        var header = new TraceHeader(setup, live.StateHashInterval, live.RecorderName);
        var file = new TraceFile(header, recording.Events, 0, 0, 0, null);
        var timeline = new Timeline(file, options, recording, live.Factory, trace);
        return timeline;
    }

    /// <summary>Whether this timeline records as it goes (<see cref="Record"/>).</summary>
    public bool IsLive => _live is not null;

    /// <summary>Whether moving past <see cref="End"/> can run the guest on (a live session whose guest has not ended).</summary>
    public bool CanExtend => _live is { Ended: false, Closed: false };

    private void StartRecording(Stream trace)
    {
        _live!.Writer = new TraceWriter(trace, Trace.Header, _live.Options.Writer);
        var hash = _hasher.Compute();
        var e = new StateHashEvent(0, hash);
        _live.Events.Add(e);
        _live.Writer.Append(e);
        AddHashPoint(0, hash, isChecked: true);
    }

    /// <summary>Logs an input the live port handed over: to the rewindable input, the trace file and the in-memory trace.</summary>
    private void LogLive(TraceEvent e)
    {
        _input.Append(e);
        _live!.Events.Add(e);
        _live.Writer.Append(e);
        if (_inputSteps.Count == 0 || _inputSteps[^1] != e.Step) _inputSteps.Add(e.Step);
    }

    /// <summary>
    /// Ends a live recording: writes the end record at the frontier and closes the file. Replay
    /// timelines have nothing to close. Safe to call more than once, from any thread (an emergency
    /// exit may race the normal one), but not while another thread moves the timeline.
    /// </summary>
    public void Dispose()
    {
        if (_live is null) return;
        lock (_live)
        {
            if (!_live.Closed) Close();
        }
    }

    private void Close()
    {
        var live = _live!;
        try
        {
            if (!live.Ended)
            {
                // The end record carries the frontier's state hash: go there (replay only; nothing new runs).
                if (Position != _frontier) Seek(_frontier);
                if (Position == _frontier)
                    AppendEnd(new RunResult(StopReason.HostRequest, 130, Machine.InstructionsRetired, null));
            }
        }
        catch (TimelineException)
        {
            // The log up to here is written and replayable; a trace without an end record reads as truncated.
        }
        finally
        {
            live.Closed = true;
            live.Writer.Dispose();
        }
    }

    private void AppendEnd(RunResult run)
    {
        var end = new EndEvent(_frontier, run.Reason, run.ExitCode, _hasher.Compute(), run.Detail);
        _live!.Events.Add(end);
        _live.Writer.Append(end);
        _live.Writer.Flush();
        AddHashPoint(end.Step, end.FinalHash, isChecked: true);
        _live.Ended = true;
    }

    /// <summary>One movement's live running: a pacer for its stretch, cancellation that stops the machine at once, a flush at the end.</summary>
    private sealed class LiveRun(Timeline timeline, CancellationToken cancel) : IDisposable
    {
        /// <summary>Longest single run at the frontier, so cancellation and the writer's flushes stay prompt.</summary>
        private const ulong MaxSlice = 1 << 20;
        private readonly CancellationTokenRegistration _stop = cancel.Register(timeline.Machine.RequestStop);
        private IGuestPacer? _pacer;
        private bool _ran;

        /// <summary>Where a run from the frontier must stop: the caller's limit, the next hash point, a slice's length.</summary>
        public ulong Limit(ulong limit)
        {
            ulong position = timeline.Position, interval = timeline._live!.Options.StateHashInterval;
            ulong nextHash = position / interval * interval + interval;
            if (nextHash < position) nextHash = ulong.MaxValue;
            return Math.Min(Math.Min(limit, nextHash), position + MaxSlice);
        }

        public RunResult Run(ulong limit, bool stopAtBreakpointHere)
        {
            var live = timeline._live!;
            var machine = timeline.Machine;
            _ran = true;
            timeline._input.Live = true;
            machine.Pacer = _pacer ??= live.Options.Pacer?.Invoke();
            RunResult run;
            try
            {
                run = machine.Run(limit - timeline.Position, stopAtBreakpointHere);
            }
            finally
            {
                machine.Pacer = null;
            }
            timeline._frontier = Math.Max(timeline._frontier, timeline.Position);
            if (timeline.Position % live.Options.StateHashInterval == 0 && timeline.Position == timeline._frontier
                && (timeline._hashSteps.Count == 0 || timeline._hashSteps[^1] != timeline.Position))
            {
                var hash = new StateHashEvent(timeline.Position, timeline._hasher.Compute());
                live.Events.Add(hash);
                live.Writer.Append(hash);
                timeline.AddHashPoint(hash.Step, hash.Hash, isChecked: true);
            }
            if (run.Reason is StopReason.GuestExit or StopReason.TrapLoop) timeline.AppendEnd(run);
            return run;
        }

        public void Dispose()
        {
            _stop.Dispose();
            if (_ran && !timeline._live!.Closed) timeline._live.Writer.Flush();
        }
    }
}
