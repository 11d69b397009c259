using System.Diagnostics;
using ReplayVm.Core;
using ReplayVm.Replay;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica;

/// <summary>The live side: recording the guest, streaming the log, the output rule, protection.</summary>
public sealed partial class ReplicaNode
{
    private readonly List<TraceEvent> _pending = [];
    private readonly Queue<HeldInput> _inputHeld = new();
    private readonly Dictionary<Guid, ulong> _inputAcked = [];
    private readonly LagSamples _lags = new();
    private Endpoint? _backupAddress;
    private LogStream? _backupStream;
    private ulong _published, _ackedFrontier, _backupReplayed, _lastHashStep = ulong.MaxValue;
    private bool _caughtUp, _successorPublished;
    private ulong _joinedAt;
    private long _lastPublishTicks;
    private ulong? _handoverAt;

    /// <summary>Whether a backup currently follows this live replica.</summary>
    public bool Protected => _backupStream is not null;

    /// <summary>An input event the live port handed the guest, or a state hash: into the trace and the next batch.</summary>
    private void LogLive(TraceEvent e)
    {
        _trace?.Append(e);
        _pending.Add(e);
        if (e is not StateHashEvent) _pendingInputs++;
    }

    /// <summary>Events in <see cref="_pending"/> that are inputs (or the end), not state hashes.</summary>
    private int _pendingInputs;

    private int RunLive()
    {
        var machine = _machine!;
        if (_options.Pacer is { } pacer) machine.Pacer = pacer();
        ulong interval = _options.StateHashInterval;
        ulong limit = _maxSteps;
        new Thread(ReconnectLoop) { IsBackground = true, Name = "backup reconnect" }.Start();
        lock (_state) _running = true;
        _profile.Add("start to live", _profile.StartTicks);
        RunResult run;
        while (true)
        {
            ServeJoin();
            var hart = machine.Hart;
            long t = ReplicaProfile.Now();
            if (hart.Steps % interval == 0 && hart.Steps != _lastHashStep) WriteHash();
            _profile.Add("hash", t);
            ulong nextHash = hart.Steps / interval * interval + interval;
            if (nextHash < hart.Steps) nextHash = ulong.MaxValue;
            // A budget already spent (a backup taking over at or past its primary's budget) ends the run here.
            ulong target = Math.Max(hart.Steps, Math.Min(Math.Min(nextHash, hart.Steps + _options.SliceSteps), limit));
            t = ReplicaProfile.Now();
            run = machine.Run(target - hart.Steps);
            _profile.Add("run", t);
            if (run.Reason == Core.StopReason.InstructionLimit && hart.Steps < limit)
            {
                t = ReplicaProfile.Now();
                Publish(force: false);
                _profile.Add("publish", t);
                t = ReplicaProfile.Now();
                Throttle();
                _profile.Add("throttle", t);
                continue;
            }
            if (run.Reason == Core.StopReason.HostRequest && Interlocked.Exchange(ref _handover, null) is { } handover)
            {
                RefuseJoin("the guest is migrating away");
                return HandOver(handover);
            }
            if (run.Reason == Core.StopReason.HostRequest && _role == ReplicaRole.Live && !_stopAsked)
            {
                // A stop for another reason (an input poll's bookkeeping): carry on.
                Publish(force: false);
                continue;
            }
            break;
        }
        RefuseJoin("the guest's run ended");
        if (_role == ReplicaRole.Stopped)
        {
            LeaveAcknowledgements();
            return _exitStatus;
        }
        var final = _hasher!.Compute();
        LogLive(new EndEvent(machine.Hart.Steps, run.Reason, run.ExitCode, final, run.Detail));
        Publish(force: true);
        _final = run;
        // As record says it (the same step, status and line, whichever replica ran the last steps).
        if (run.Reason == Core.StopReason.InstructionLimit) Say($"instruction limit {limit} reached");
        return FinishEnded(ExitStatuses.For(run), Describe(run));
    }

    private volatile bool _stopAsked;

    private void WriteHash()
    {
        _lastHashStep = _machine!.Hart.Steps;
        LogLive(new StateHashEvent(_lastHashStep, _hasher!.Compute()));
    }

    /// <summary>
    /// Closes the batch of events logged since the last one at the current step (the frontier: the
    /// log now covers every step before it), keeps it for later backups and sends it to the
    /// backup; the console output printed so far is held until the backup acknowledges it.
    /// Unless forced, batches are spaced by <see cref="BatchSpacing"/>.
    /// </summary>
    private void Publish(bool force)
    {
        ulong frontier = _machine!.Hart.Steps;
        long now = _clock.ElapsedTicks;
        long produced = Console.Produced;
        bool carries = _pendingInputs > 0 || _port.Clients.HasChanges || produced != _producedAtPublish;
        if (!force)
        {
            if (!carries && frontier == _published) return;
            var spacing = BatchSpacing(_options, carries, _lastBatchCarried);
            if (now - _lastPublishTicks < (long)(spacing.TotalSeconds * Stopwatch.Frequency)) return;
        }
        _lastBatchCarried = carries;
        var changes = _port.Clients.TakeChanges();
        bool frontierOnly = _pending.Count == 0 && changes.Count == 0;
        _profile.Count(frontierOnly ? "frontier-only batches" : "batches");
        _lastPublishTicks = now;
        _producedAtPublish = produced;
        var batch = EncodeBatch(frontier, _pending, changes);
        _pending.Clear();
        _pendingInputs = 0;
        LogStream? stream;
        lock (_history.Sync)
        {
            _history.Add(batch, frontierOnly);
            _published = frontier;
            stream = _backupStream;
        }
        // What this batch covers is held before it goes out: its acknowledgement may come back at once.
        lock (_state)
        {
            _publishTimes.Add(now, frontier);
            if (stream is null)
            {
                Console.ReleaseAll();
                foreach (var (client, consumed) in changes) _inputAcked[client] = consumed;
            }
            else
            {
                Console.Hold(frontier);
                if (changes.Count > 0) _inputHeld.Enqueue(new HeldInput(frontier, changes));
            }
        }
        // Only this thread posts batches, so they go in order; a backup attached meanwhile got this
        // one with the history (added above), before any later batch.
        stream?.Post(MessageType.Log, batch, frontier);
        if (stream is not null) ReadAcknowledgements(stream);
    }

    /// <summary>
    /// On the machine's thread, at each batch: takes the backup's acknowledgements that have
    /// arrived, without blocking (see <see cref="LogStream.Poll"/>), so that the log channel's
    /// receiving thread stays parked while the guest runs. An acknowledgement is read at most a
    /// quiet batch interval after it arrived while the guest runs, and at once whenever this
    /// thread waits (<see cref="LogStream.Leave"/> before every wait); the lag an acknowledgement
    /// shows is then measured when it is read, which overstates it by as much (never understates
    /// it: the lag bound stays on the safe side). Not before the backup has
    /// been named successor (the arbiter's write stays off this thread), nor with a pacer, whose
    /// sleeps inside a slice would leave acknowledgements unread.
    /// </summary>
    private void ReadAcknowledgements(LogStream stream)
    {
        if (_options.Pacer is null && Volatile.Read(ref _successorPublished)) stream.Poll();
    }

    /// <summary>Frames from the current backup that the log channel's receiving thread read, not the machine's (for tests).</summary>
    internal int BackupReceiverFrames => _backupStream?.ReceiverFrames ?? 0;

    /// <summary>Whether the live guest is idle, waiting for input (for tests).</summary>
    internal bool GuestWaitingForInput => _port.Waiting;

    /// <summary>This thread is about to wait: the backup's acknowledgements must be read meanwhile.</summary>
    private void LeaveAcknowledgements() => _backupStream?.Leave();

    /// <summary>
    /// The guest is about to wait idle at the current step: the rate limit of <see cref="Publish"/>
    /// would otherwise leave its last output (the prompt) and the frontier unpublished for as long
    /// as it idles, so publish now if anything moved since the last batch.
    /// </summary>
    private void PublishBeforeIdle()
    {
        if (_pending.Count > 0 || _port.Clients.HasChanges || _machine!.Hart.Steps != _published || Console.Produced != _producedAtPublish)
            Publish(force: true);
        LeaveAcknowledgements();
    }

    /// <summary>Console bytes the guest had printed when the last batch went out.</summary>
    private long _producedAtPublish;

    /// <summary>Whether the last batch carried input (events, consumed client input) or new console output.</summary>
    private bool _lastBatchCarried;

    /// <summary>
    /// How long after the last batch the next may go. Input or new console output that follows a
    /// quiet batch (a key's echo, a prompt) goes after <see cref="ReplicaOptions.BatchInterval"/>;
    /// while input or output keeps coming, and when a batch would only move the frontier or carry
    /// state hashes, every <see cref="ReplicaOptions.QuietBatchInterval"/>. Each batch costs both
    /// replicas thread wake-ups and system calls (a write, the backup's read and acknowledgement,
    /// the primary's read of it): a console-heavy guest printing without pause sent one every 2 ms.
    /// A frontier alone only paces the backup's replay, which the lag bounds tolerate being
    /// coarser, and a state hash only lets the backup check itself a little later.
    /// </summary>
    internal static TimeSpan BatchSpacing(ReplicaOptions options, bool carries, bool lastCarried) =>
        carries && !lastCarried ? options.BatchInterval : options.QuietBatchInterval;

    /// <summary>Client input counts a batch carries, released to the clients once the backup acknowledges its frontier.</summary>
    private sealed class HeldInput(ulong frontier, IReadOnlyList<ClientInputCount> changes)
    {
        public ulong Frontier { get; } = frontier;
        public IReadOnlyList<ClientInputCount> Changes { get; } = changes;
    }

    internal static byte[] EncodeBatch(ulong frontier, IReadOnlyList<TraceEvent> events, IReadOnlyList<ClientInputCount> changes)
    {
        var w = new PayloadWriter().U64(frontier).Blob(events.Count > 0 ? TraceLogCodec.EncodeEvents(events) : []).U32((uint)changes.Count);
        foreach (var (client, consumed) in changes) w.Guid(client).U64(consumed);
        return w.ToArray();
    }

    /// <summary>
    /// The primary slows down (never the backup) when the backup's replay falls more than the
    /// allowed lag behind: more than <see cref="ReplicaOptions.MaxLagSteps"/> steps, or behind
    /// where this replica itself was <see cref="ReplicaOptions.MaxLagTime"/> ago — the bound that
    /// keeps a failover's catch-up short whatever the machine's speed, since the backup then has
    /// at most that much of the primary's running to replay — or, during a migration, more than
    /// the migration's tighter bound, which is what makes the target converge on a guest that runs
    /// as fast as it replays — or when the output held for the backup's acknowledgement fills half
    /// the console history. A handover request ends the wait at once.
    /// </summary>
    private void Throttle()
    {
        ulong frontier = _machine!.Hart.Steps;
        if (!MustWaitForBackup(frontier)) return;
        // Acknowledgements may be waiting unread (they are read at batches): one may end the wait before it starts.
        if (_backupStream is { } stream)
        {
            ReadAcknowledgements(stream);
            if (!MustWaitForBackup(frontier)) return;
        }
        // The backup cannot replay what it has not been sent: give it the log through here first,
        // and a heartbeat, which asks it to acknowledge as soon as it has replayed all of it: the
        // acknowledgement that ends this wait then comes at once, not with the backup's next
        // heartbeat up to an interval later.
        if (_published != frontier || _pending.Count > 0) Publish(force: true);
        _backupStream?.Post(MessageType.Heartbeat, new PayloadWriter().U64(frontier).ToArray(), frontier);
        LeaveAcknowledgements();
        lock (_state)
        {
            while (MustWaitForBackup(frontier, resuming: true))
            {
                if (ReplicaProfile.Enabled)
                {
                    ulong byTime = _publishTimes.StepPublishedBefore(_clock.ElapsedTicks - (long)(_options.MaxLagTime.TotalSeconds * Stopwatch.Frequency));
                    _profile.Count(_backupReplayed < byTime ? "throttle waits (time bound)" : "throttle waits (step bound)");
                }
                // Only a change under this lock ends the wait (an acknowledgement, the backup lost, a
                // handover, a stop): time passing only moves the bound further. Not a timed poll: each
                // wake-up of this thread is a context switch on the core the guest runs on.
                Monitor.Wait(_state, 250);
            }
        }
    }

    /// <summary>
    /// Whether the backup's replay is further behind <paramref name="frontier"/> than the lag
    /// bounds allow. A primary that waits (<paramref name="resuming"/>) goes on only once the
    /// backup is within half the time bound: resuming as soon as it was just inside the bound, it
    /// ran one slice, found the backup just outside again and waited, a batch and an
    /// acknowledgement per slice (hundreds a second), each waking both replicas' threads.
    /// </summary>
    private bool MustWaitForBackup(ulong frontier, bool resuming = false)
    {
        lock (_state)
        {
            if (_backupStream is null || Volatile.Read(ref _handover) is not null || _role != ReplicaRole.Live) return false;
            // Output waiting for the backup's acknowledgement must stay inside the console history,
            // or a client that keeps up would find it dropped before it was ever released. Half the
            // history leaves room for a slice's output (at most a byte a step) on top.
            if (Console.Unreleased > Console.Capacity / 2) return true;
            if (!_caughtUp) return false;
            ulong required = frontier - Math.Min(frontier, Math.Min(_options.MaxLagSteps, _migrationLagLimit));
            double lagTime = _options.MaxLagTime.TotalSeconds * (resuming ? 0.5 : 1);
            required = Math.Max(required, _publishTimes.StepPublishedBefore(_clock.ElapsedTicks - (long)(lagTime * Stopwatch.Frequency)));
            return _backupReplayed < required;
        }
    }

    /// <summary>When each frontier was published, for the last few seconds: what the lag is in time. Under <c>_state</c>.</summary>
    private readonly PublishTimeline _publishTimes = new();

    /// <summary>The lag bound a migration in progress holds the guest to (<see cref="ulong.MaxValue"/>: none).</summary>
    private ulong _migrationLagLimit = ulong.MaxValue;

    private void OnAck(LogStream stream, ulong received, ulong replayed)
    {
        lock (_state)
        {
            if (!ReferenceEquals(stream, _backupStream)) return;
            if (received > _published) return; // cannot acknowledge what was never sent
            _ackedFrontier = Math.Max(_ackedFrontier, received);
            _backupReplayed = Math.Max(_backupReplayed, replayed);
            ulong lag = _published - Math.Min(_published, _backupReplayed);
            // A backup that joined late first replays the history; it counts as caught up (and the
            // primary starts slowing down for it) once it is within the allowed lag or has replayed
            // up to where it joined.
            if (!_successorPublished && _ackedFrontier >= _joinedAt)
            {
                // From here on the backup holds every step whose output was released: it may succeed us.
                if (!TryPublishSuccessor(stream.Id)) return;
                _successorPublished = true;
            }
            // A backup joining by snapshot has replayed nothing until its snapshot is in: only then is it caught up.
            if (!_caughtUp && ((!_joinedBySnapshot && lag <= _options.MaxLagSteps) || _backupReplayed >= _joinedAt))
            {
                _caughtUp = true;
                Say($"backup {stream.Peer} caught up (replay {lag} steps behind): the guest is protected");
            }
            if (_caughtUp) _lags.Add(lag, _publishTimes.MillisecondsSincePublished(_backupReplayed + 1, _clock.ElapsedTicks));
            Console.ReleaseThrough(_ackedFrontier);
            while (_inputHeld.Count > 0 && _inputHeld.Peek().Frontier <= _ackedFrontier)
                foreach (var (client, consumed) in _inputHeld.Dequeue().Changes) _inputAcked[client] = consumed;
            Monitor.PulseAll(_state);
        }
    }

    private ulong? _handoverAcked;

    /// <summary>The target of a migration has the handover: it goes live at <paramref name="step"/>, and no longer follows this replica.</summary>
    private void OnHandoverAck(LogStream stream, ulong step)
    {
        lock (_state)
        {
            if (!ReferenceEquals(stream, _backupStream)) return;
            _handoverAcked = step;
            Monitor.PulseAll(_state);
        }
    }

    private void OnBackupLost(LogStream stream, string reason)
    {
        lock (_state)
        {
            if (!ReferenceEquals(stream, _backupStream)) return;
            // A migration's target that acknowledged the handover holds the whole log and goes live
            // at that step: its end of the channel closing (it resets it at once) completes the
            // handover, which must not fail because this thread took the lock before the one
            // waiting for the acknowledgement did (nor name no successor under the target's feet).
            if (_handoverAcked is not null) return;
            _backupStream = null;
            // Before any output the lost backup lacks is released: it must never take over now. If
            // that cannot be recorded (the arbiter is lost), nothing more is released: this replica stops.
            if (_role == ReplicaRole.Live && _successorPublished && !TryPublishSuccessor(NoSuccessor)) return;
            _successorPublished = false;
            Console.ReleaseAll();
            while (_inputHeld.Count > 0)
                foreach (var (client, consumed) in _inputHeld.Dequeue().Changes) _inputAcked[client] = consumed;
            Monitor.PulseAll(_state);
        }
        if (_role == ReplicaRole.Live) Say($"backup lost: {reason}; running unprotected{(_backupAddress is null ? "" : $" (retrying {_backupAddress} every second)")}");
    }

    /// <summary>Names the successor in the arbiter; false (and this replica stops) if it no longer holds the arbiter.</summary>
    private bool TryPublishSuccessor(string token)
    {
        try
        {
            lock (_arbiterLock)
            {
                _successorWritten = true;
                _arbiter.PublishSuccessor(token);
            }
            return true;
        }
        catch (ReplicaException e)
        {
            Stop($"{e.Message}: stopping (another replica may go live)", ExitStatuses.LostArbiter);
            return false;
        }
    }

    /// <summary>This client's input bytes the guest consumed and the backup holds in its log.</summary>
    internal ulong InputAcknowledged(Guid client)
    {
        lock (_state) return _inputAcked.GetValueOrDefault(client);
    }

    /// <summary>
    /// Connects to a backup and has it join: before the guest has run, it gets the log from step 0
    /// and replays it; once the guest runs, the machine's thread stops at the next slice boundary
    /// (step S), and the backup gets the whole log through S (for its trace: one history from step
    /// 0), a snapshot of the machine at S to start its replay from, then the log after S. False,
    /// with <paramref name="why"/> saying why, when it cannot. <paramref name="patience"/> bounds
    /// the connect and handshake: short for the background reconnect, longer when a user asked (a
    /// loaded backup can take seconds to answer).
    /// </summary>
    internal bool ConnectBackup(Endpoint backup, bool quiet, out string why, TimeSpan? patience = null) =>
        UseBackupChannel(backup, ConnectLog(backup, patience), quiet, out why);

    /// <summary>Connects a log channel to <paramref name="backup"/>: the channel, or the one-line reason it could not.</summary>
    private (SecureChannel? Channel, string? Failure) ConnectLog(Endpoint backup, TimeSpan? patience = null)
    {
        try
        {
            return (SecureChannel.Connect(backup, _key, Purpose.Log, patience ?? TimeSpan.FromSeconds(2)), null);
        }
        catch (ReplicaException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>Has the backup at the other end of <paramref name="connected"/> join (see <see cref="ConnectBackup"/>).</summary>
    private bool UseBackupChannel(Endpoint backup, (SecureChannel? Channel, string? Failure) connected, bool quiet, out string why)
    {
        why = "";
        if (connected.Channel is not { } channel)
        {
            why = connected.Failure ?? "not connected";
            if (!quiet) Say($"no backup: {why}; running unprotected (retrying every second)");
            return false;
        }
        var stream = new LogStream(channel, _options, OnAck, OnHandoverAck, OnBackupLost);
        bool fromStart;
        lock (_state) fromStart = !_running && Steps == 0;
        if (fromStart)
        {
            if (!Attach(stream, out why, snapshot: null)) return false;
            stream.Start();
            Say($"streaming the log to backup {backup} from step 0");
            return true;
        }
        if (_role != ReplicaRole.Live)
        {
            why = "this replica is no longer live";
            stream.Dispose();
            return false;
        }
        // The machine's thread takes the request at its next slice boundary (or at once, stopped by request).
        var request = new JoinRequest(stream);
        if (Interlocked.CompareExchange(ref _join, request, null) is not null)
        {
            why = "another backup is joining";
            stream.Dispose();
            return false;
        }
        _machine!.RequestStop();
        bool taken = request.Done.Wait(TimeSpan.FromSeconds(30));
        if (!taken && Interlocked.CompareExchange(ref _join, null, request) == request)
        {
            why = "the guest did not reach a slice boundary within 30 s";
            stream.Dispose();
            return false;
        }
        request.Done.Wait();
        if (request.Failure is { } failure)
        {
            why = failure;
            stream.Dispose();
            return false;
        }
        return true;
    }

    /// <summary>A backup waiting for the machine's thread to snapshot the guest for it.</summary>
    private sealed class JoinRequest(LogStream stream)
    {
        public LogStream Stream { get; } = stream;
        public ManualResetEventSlim Done { get; } = new();
        public string? Failure { get; set; }
    }

    private JoinRequest? _join;
    private bool _running, _joinedBySnapshot;

    /// <summary>
    /// On the machine's thread, between runs: publishes the log through the current step S,
    /// snapshots the machine at S and gives the joining backup the header, the log through S and
    /// the snapshot (encoded as the sender sends it), then lets the log after S follow.
    /// </summary>
    private void ServeJoin()
    {
        if (Interlocked.Exchange(ref _join, null) is not { } request) return;
        var clock = Stopwatch.StartNew();
        Publish(force: true);
        var machine = _machine!;
        var snapshot = machine.CaptureSnapshot();
        // The capture was only for the backup: its page copies go with it once sent.
        machine.ForgetSnapshotLineage();
        var hash = _hasher!.Compute();
        var console = Console.CopyRetained();
        double pause = clock.Elapsed.TotalMilliseconds;
        if (!Attach(request.Stream, out string why, (snapshot, hash, console)))
        {
            request.Failure = why;
            request.Done.Set();
            return;
        }
        request.Stream.Start();
        var pages = new List<int>();
        snapshot.ChangedPages(null, pages);
        Say($"streaming the log to backup {request.Stream.Peer} with a snapshot at step {snapshot.Step}: the log through there ({_history.Bytes} bytes) for its trace, then the snapshot ({pages.Count} RAM pages, {snapshot.DeviceStateBytes.Length} bytes of devices and disks, {console.Bytes.Length} console bytes from byte {console.Start}; the guest paused {pause:0.0} ms for it)");
        request.Done.Set();
    }

    /// <summary>A pending join that the machine's thread will no longer serve (the run ended, or the guest migrated).</summary>
    private void RefuseJoin(string why)
    {
        if (Interlocked.Exchange(ref _join, null) is not { } request) return;
        request.Failure = why;
        request.Done.Set();
    }

    /// <summary>Makes <paramref name="stream"/> this replica's backup and queues the header, the log so far and, when joining late, the snapshot.</summary>
    private bool Attach(LogStream stream, out string why, (Core.State.MachineSnapshot Snapshot, Core.State.StateHash Hash, (long Start, byte[] Bytes) Console)? snapshot)
    {
        why = "";
        var header = new PayloadWriter().Text(stream.Id).U8(snapshot is null ? (byte)0 : (byte)1).U64(_maxSteps).Bytes(_history.Header!).ToArray();
        lock (_history.Sync)
        {
            lock (_state)
            {
                if (_backupStream is not null || _role != ReplicaRole.Live)
                {
                    why = _role != ReplicaRole.Live ? "this replica is no longer live" : $"already protected by {_backupStream!.Peer}";
                    stream.Dispose();
                    return false;
                }
                _caughtUp = false;
                _successorPublished = false;
                _joinedAt = _published;
                _joinedBySnapshot = snapshot is not null;
                _backupStream = stream;
            }
            stream.Enqueue(MessageType.Header, header, 0);
            foreach (var batch in _history.Snapshot()) stream.Enqueue(MessageType.Log, batch, _published);
            if (snapshot is { } s) stream.EnqueueMany(SnapshotTransfer.Encode(s.Snapshot, s.Hash, s.Console));
        }
        return true;
    }

    private void ReconnectLoop()
    {
        while (_role == ReplicaRole.Live)
        {
            Thread.Sleep(1000);
            if (_backupAddress is { } address && _backupStream is null && _role == ReplicaRole.Live) ConnectBackup(address, quiet: true, out _);
        }
    }

    /// <summary>
    /// The guest's run ended here (end record logged and published): wait for the backup to hold it,
    /// release the console and its end, tell the backup goodbye, and keep the console open for
    /// clients to collect the end.
    /// </summary>
    private int FinishEnded(int status, string description)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        long t = ReplicaProfile.Now();
        LeaveAcknowledgements();
        lock (_state)
        {
            while (_backupStream is not null && _ackedFrontier < _published && DateTime.UtcNow < deadline) Monitor.Wait(_state, 10);
            _role = ReplicaRole.Ended;
            _exitStatus = status;
        }
        _profile.Add("end acknowledged", t);
        if (_backupStream is { } read)
        {
            _profile.Count("backup frames read by the log channel's thread", read.ReceiverFrames);
            _profile.Count("backup frames read by the machine's thread", read.PollerFrames);
        }
        if (ReplicaProfile.Enabled) Say(_profile.Report("live"));
        Console.ReleaseAll();
        Console.SetEnd(status, description);
        ReportLag();
        // The backup stays a hot spare until the clients have the end: if this replica dies first,
        // the backup takes over and serves them the rest.
        WaitForClientsToCollectEnd();
        var stream = _backupStream;
        if (stream is not null)
        {
            stream.SayGoodbye(_published);
            stream.Close(TimeSpan.FromSeconds(1));
        }
        return status;
    }

    private void ReportLag()
    {
        LagSummary lag;
        int count;
        lock (_state)
        {
            count = _lags.Count;
            lag = _lags.Summary();
        }
        if (count == 0) return;
        Say($"backup replay lag over {count} acknowledgements: median {lag.MedianSteps} steps, max {lag.MaxSteps} steps; in time (since this replica was where the backup's replay is): median {lag.MedianMilliseconds:0.0} ms, max {lag.MaxMilliseconds:0.0} ms; log {_history.Bytes} bytes");
    }

    private static string Describe(RunResult run) => run.Reason switch
    {
        Core.StopReason.GuestExit => $"the guest exited with status {run.ExitCode}",
        Core.StopReason.TrapLoop => run.Detail ?? "the guest is stuck in a trap loop",
        Core.StopReason.InstructionLimit => "the instruction limit was reached",
        _ => "the run was stopped",
    };

    /// <summary>
    /// The guest has stopped for a migration: give the target the log through here and a handover,
    /// wait (bounded) for it to acknowledge them, then let go of the arbiter at once — the target
    /// is already trying to win it — and close the channel.
    /// </summary>
    private int HandOver(HandoverRequest request)
    {
        var clock = Stopwatch.StartNew();
        Publish(force: true);
        ulong step = _machine!.Hart.Steps;
        lock (_state) _handoverAcked = null;
        request.Stream.Leave();
        request.Stream.Enqueue(MessageType.Handover, new PayloadWriter().U64(step).ToArray(), step);
        bool acknowledged;
        lock (_state)
        {
            var deadline = DateTime.UtcNow + HandoverAckLimit;
            // Only the handover's own acknowledgement will do: an acknowledgement of the log through
            // this step may come before the target has read the handover, and a target that sees its
            // primary silent and the arbiter free before then would take over as after a failure.
            while (ReferenceEquals(_backupStream, request.Stream) && _handoverAcked != step && DateTime.UtcNow < deadline) Monitor.Wait(_state, 5);
            acknowledged = ReferenceEquals(_backupStream, request.Stream) && _handoverAcked == step;
        }
        if (!acknowledged)
        {
            // The target went away, or did not answer: carry on as the primary rather than lose the
            // guest. The target never goes live without the handover's acknowledgement reaching us
            // and the arbiter: it is held here until this replica ends.
            bool lost = !ReferenceEquals(_backupStream, request.Stream);
            request.Stream.End($"the target did not acknowledge the handover at step {step}");
            request.Result = lost
                ? $"failed: the target {request.Stream.Peer} went away during the handover at step {step}; the guest runs on here"
                : $"failed: the target {request.Stream.Peer} did not acknowledge the handover at step {step} within {HandoverAckLimit.TotalSeconds:0} s; the guest runs on here";
            request.Done.Set();
            return RunLive();
        }
        lock (_state)
        {
            _role = ReplicaRole.MigratedAway;
            Monitor.PulseAll(_state);
        }
        _arbiter.Dispose();
        double ms = clock.Elapsed.TotalMilliseconds;
        request.Stream.Close(TimeSpan.FromSeconds(5));
        Console.Wake();
        Say($"migrated the guest to {request.Stream.Peer} at step {step} ({ms:0.0} ms from stopping it to the target holding the whole log; log {_history.Bytes} bytes)");
        request.Result = $"migrated to {request.Stream.Peer} at step {step}: stopped {ms:0.0} ms here before the target had the whole log";
        request.Done.Set();
        _migrationAnswered.Wait(MigrationAnswerLimit);
        return 0;
    }

    /// <summary>How long the stopped guest waits for the target to acknowledge the handover before it runs on here.</summary>
    internal static readonly TimeSpan HandoverAckLimit = TimeSpan.FromSeconds(30);
}
