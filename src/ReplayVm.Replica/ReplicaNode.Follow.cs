using System.Diagnostics;
using ReplayVm.Core;
using ReplayVm.Replay;
using ReplayVm.Replay.Format;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica;

/// <summary>The following side: receiving the log, replaying it live, failover.</summary>
public sealed partial class ReplicaNode
{
    private readonly Queue<TraceEvent> _checks = new();
    private SecureChannel? _upstream;
    private string? _streamId;
    private ulong _frontier, _lastEventStep;
    private bool _primaryGone, _goodbye;

    /// <summary>
    /// A heartbeat came while the replay was behind the log (the primary may be waiting for it):
    /// acknowledge as soon as the replay has caught up with all the log holds. Set under <c>_state</c>.
    /// </summary>
    private bool _ackAtCatchUp;
    private string? _lossReason;
    private long _lossTicks;
    private ulong _stepsAtLoss;
    private bool _profileFirstRun = true;

    /// <summary>Steps between what the log covers and what this backup has replayed.</summary>
    public ulong Lag => _frontier - Math.Min(_frontier, Steps);

    /// <summary>
    /// Serves one primary's log connection: the header, then batches, heartbeats and finally a
    /// goodbye. Acknowledges what it received (after reading every frame already waiting, so
    /// acknowledgements come in batches). A second primary, a log for another machine, or a damaged
    /// batch is refused with one line; a damaged batch also stops this backup, which never runs on
    /// a log it cannot trust.
    /// </summary>
    private void HandleLog(SecureChannel channel)
    {
        lock (_state)
        {
            if (_role != ReplicaRole.Waiting || _upstream is not null)
            {
                string why = _role == ReplicaRole.Live ? "this replica is live (a second primary is refused)" : "this backup already follows a primary (a second primary is refused)";
                Say($"refused a log from {channel.Peer}: {why}");
                TrySend(channel, MessageType.Error, new PayloadWriter().Text(why).ToArray());
                channel.Dispose();
                return;
            }
            _upstream = channel;
        }
        try
        {
            channel.ReceiveTimeout = TimeSpan.FromSeconds(5);
            var (type, payload) = channel.Receive(TraceFormat.MaxHeaderSize);
            if (type != (byte)MessageType.Header) throw new ReplicaException($"the primary at {channel.Peer} did not start with a header");
            TraceHeader header;
            byte[] encodedHeader;
            var hr = new PayloadReader(payload, "header");
            _streamId = hr.Text(64);
            byte mode = hr.U8();
            if (mode > 1) throw new ReplicaException($"the primary at {channel.Peer} asked for an unknown way of joining ({mode})");
            // The primary's --max-instructions: should this backup take over, the run still ends there.
            KeepToBudget(hr.U64());
            try
            {
                encodedHeader = hr.Rest().ToArray();
                header = TraceLogCodec.DecodeHeader(encodedHeader);
            }
            catch (TraceFormatException e)
            {
                throw new ReplicaException($"the log header from {channel.Peer} is not usable: {e.Message}");
            }
            long built = ReplicaProfile.Now();
            Build(header, encodedHeader);
            _profile.Add("build from header", built);
            if (mode == 1) ReceiveState(channel, header);
            lock (_state)
            {
                _role = ReplicaRole.Backup;
                Monitor.PulseAll(_state);
            }
            Say($"following the primary at {channel.Peer} ({Describe(header)})");
            Volatile.Write(ref _lastHeardTicks, _clock.ElapsedTicks);
            var watchdog = new Timer(_ => Watch(channel), null, _options.HeartbeatInterval, _options.HeartbeatInterval);
            try
            {
                ReceiveLog(channel);
            }
            finally
            {
                watchdog.Dispose();
            }
        }
        catch (ReplicaException e)
        {
            TrySend(channel, MessageType.Error, new PayloadWriter().Text(e.Message).ToArray());
            Stop(e.Message, ExitStatuses.Diverged);
        }
        catch (TimeoutException)
        {
            PrimaryLost($"the primary at {channel.Peer} sent no header within 5 s");
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            PrimaryLost($"the log channel from {channel.Peer} broke ({e.Message})");
        }
        finally
        {
            channel.Dispose();
        }
    }

    /// <summary>
    /// Joining a running primary: the log through step S (written to the trace, so it holds one
    /// history from step 0, but not replayed), then a snapshot of the primary at S, restored and
    /// checked against its state hash. The replay then starts at S. Until the snapshot is in, this
    /// backup acknowledges nothing (so no output waits on it, and the primary does not name it
    /// its successor), only keeps the channel alive; a primary lost meanwhile leaves it nothing to
    /// take over with, and it stops.
    /// </summary>
    private void ReceiveState(SecureChannel channel, TraceHeader header)
    {
        var clock = Stopwatch.StartNew();
        channel.ReceiveTimeout = _options.PeerTimeout + TimeSpan.FromSeconds(5);
        SnapshotReceiver? snapshot = null;
        long bytes = 0;
        try
        {
            while (true)
            {
                var (type, payload) = channel.Receive(Math.Max(TraceFormat.MaxChunkRawSize + 4096, SnapshotTransfer.MaxPartFrame));
                bytes += payload.Length;
                switch ((MessageType)type)
                {
                    case MessageType.Log when snapshot is null: ApplyBatch(payload, channel.Peer, replay: false); break;
                    case MessageType.Heartbeat: break;
                    case MessageType.SnapshotBegin when snapshot is null:
                        snapshot = new SnapshotReceiver(payload, _machine!, header.Setup, _frontier, channel.Peer, Console);
                        break;
                    case MessageType.SnapshotPart when snapshot is not null: snapshot.Part(payload); break;
                    case MessageType.SnapshotEnd when snapshot is not null:
                    {
                        snapshot.Restore(_hasher!);
                        _lastHashStep = snapshot.Step;
                        Say($"joined at step {snapshot.Step} by state transfer: {bytes} bytes in {clock.Elapsed.TotalMilliseconds:0} ms, state hash checked; replaying from there");
                        return;
                    }
                    case MessageType.Error:
                    {
                        var r = new PayloadReader(payload, "error");
                        throw new ReplicaException($"the primary at {channel.Peer} ended the log: {r.Text()}");
                    }
                    default: throw new ReplicaException($"the primary at {channel.Peer} sent an unexpected message ({type}) while this backup joined");
                }
                // Keep the channel alive; acknowledge nothing yet.
                if (!channel.HasPendingData) TrySend(channel, MessageType.Ack, new PayloadWriter().U64(0).U64(0).ToArray());
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new ReplicaException($"the primary at {channel.Peer} went away while this backup joined ({e.Message}): it holds no state to take over with; stopping");
        }
    }

    private static string Describe(TraceHeader header) =>
        string.Join(", ", header.Setup.Images.Select(i => $"{i.Role.ToString().ToLowerInvariant()} {i.Name}")) + $", {header.Setup.Config.RamSize >> 20} MiB";

    private void ReceiveLog(SecureChannel channel)
    {
        // No read timeout: silence is judged by the watchdog (and the arbiter), never by a timer alone.
        channel.ReceiveTimeout = Timeout.InfiniteTimeSpan;
        while (true)
        {
            var (type, payload) = channel.Receive();
            Volatile.Write(ref _lastHeardTicks, _clock.ElapsedTicks);
            switch ((MessageType)type)
            {
                case MessageType.Log:
                    ApplyBatch(payload, channel.Peer);
                    // More log: the primary runs again, and every batch is acknowledged as it comes.
                    Volatile.Write(ref _ackAtCatchUp, false);
                    break;
                case MessageType.Heartbeat:
                {
                    var r = new PayloadReader(payload, "heartbeat");
                    ulong frontier = r.U64();
                    r.End();
                    if (frontier < _frontier) throw new ReplicaException($"the log from {channel.Peer} went back from step {_frontier} to {frontier}");
                    // The primary has nothing more for now: it idles, or it waits for this replay to
                    // come within its lag bound. The acknowledgement below reports the replay as it is
                    // now. A wait longer than half the time bound ends only once the replay has caught
                    // up, so one more acknowledgement then ends it at once: otherwise this backup
                    // would sit idle until its next heartbeat (up to an interval later) while the
                    // primary waits for news of it, and a loaded backup makes the primary wait every
                    // few tens of milliseconds.
                    lock (_state)
                    {
                        if (Steps < _frontier)
                        {
                            _ackAtCatchUp = true;
                            Monitor.PulseAll(_state);
                        }
                    }
                    break;
                }
                case MessageType.Goodbye:
                    lock (_state)
                    {
                        _goodbye = true;
                        Monitor.PulseAll(_state);
                    }
                    SendAck(channel);
                    return;
                case MessageType.Handover:
                {
                    var r = new PayloadReader(payload, "handover");
                    ulong step = r.U64();
                    r.End();
                    if (step != _frontier) throw new ReplicaException($"the primary handed over at step {step}, but its log ends at {_frontier}");
                    lock (_state)
                    {
                        _handoverAt = step;
                        _lossTicks = _clock.ElapsedTicks;
                        Monitor.PulseAll(_state);
                    }
                    TrySend(channel, MessageType.HandoverAck, new PayloadWriter().U64(step).ToArray());
                    return;
                }
                case MessageType.Error:
                {
                    var r = new PayloadReader(payload, "error");
                    throw new ReplicaException($"the primary at {channel.Peer} ended the log: {r.Text()}");
                }
                default: throw new ReplicaException($"the primary at {channel.Peer} sent an unexpected message ({type})");
            }
            if (!channel.HasPendingData)
            {
                _profile.Count("acks");
                SendAck(channel);
            }
        }
    }

    /// <summary>Checks and applies one batch: its events go to the port, the trace and the checks; the frontier moves on.</summary>
    internal void ApplyBatch(byte[] payload, string peer, bool replay = true)
    {
        var r = new PayloadReader(payload, "log batch");
        ulong frontier = r.U64();
        var chunk = r.Blob(TraceFormat.MaxChunkRawSize + 1024);
        List<TraceEvent> events = [];
        if (chunk.Length > 0)
        {
            try
            {
                events = TraceLogCodec.DecodeEvents(chunk, $"log batch from {peer}");
            }
            catch (TraceFormatException e)
            {
                throw new ReplicaException($"{e.Message}: stopping this backup (it never replays a log it cannot trust)");
            }
        }
        uint count = r.U32();
        if (count > 1 << 16) throw new ReplicaException($"malformed log batch from {peer} ({count} client entries)");
        var changes = new List<ClientInputCount>((int)count);
        for (uint i = 0; i < count; i++) changes.Add(new ClientInputCount(r.Guid(), r.U64()));
        r.End();
        if (frontier < _frontier) throw new ReplicaException($"the log from {peer} went back from step {_frontier} to {frontier}");
        foreach (var e in events)
        {
            if (e.Step < _lastEventStep || e.Step < _frontier || e.Step > frontier)
                throw new ReplicaException($"the log from {peer} has an event at step {e.Step} outside its batch (steps {_frontier}..{frontier}): stopping this backup");
            _lastEventStep = e.Step;
        }
        foreach (var e in events)
        {
            _trace?.Append(e);
            // Before a snapshot the log only goes to the trace: the snapshot holds its effects.
            if (!replay) continue;
            if (e is StateHashEvent or EndEvent)
            {
                lock (_state) _checks.Enqueue(e);
                if (e is StateHashEvent) _lastHashStep = e.Step;
            }
            else _port.Append(e);
        }
        foreach (var (client, consumed) in changes) _port.Clients.Apply(client, consumed);
        lock (_history.Sync) _history.Add(payload, frontierOnly: events.Count == 0 && changes.Count == 0);
        lock (_state)
        {
            _frontier = frontier;
            _published = frontier;
            Monitor.PulseAll(_state);
        }
    }

    private long _lastHeardTicks;
    private int _watching;
    private bool _suspected;
    private readonly Lock _arbiterLock = new();

    /// <summary>
    /// Every heartbeat interval: acknowledge, and judge the primary's silence. Silence beyond the
    /// heartbeat timeout only makes the primary suspect; the arbiter then decides. If this backup
    /// can win it, the primary is dead (the kernel dropped its file lock, or its lease expired) and
    /// this backup takes over; if the primary still holds it, it is alive — starved, stopped,
    /// paged out — and this backup follows on, however long the silence, up to the peer timeout,
    /// after which the primary has dropped it (it drops a backup silent that long) and it stops.
    /// A loaded machine therefore delays a failover's detection, never fakes one.
    /// </summary>
    private void Watch(SecureChannel channel)
    {
        if (_role != ReplicaRole.Backup) return;
        // The acknowledgement is this backup's heartbeat: needed only when no other went out for an
        // interval (while the log flows, every batch is acknowledged as it comes). Each one wakes a
        // thread of the primary, on the primary's core.
        if (_clock.ElapsedTicks - Volatile.Read(ref _lastAckTicks) >= HeartbeatTicks * 3 / 4) SendAck(channel);
        if (Interlocked.Exchange(ref _watching, 1) != 0) return;
        try
        {
            double silent = (_clock.ElapsedTicks - Volatile.Read(ref _lastHeardTicks)) * 1000.0 / Stopwatch.Frequency;
            if (silent < _options.HeartbeatTimeout.TotalMilliseconds)
            {
                if (_suspected)
                {
                    _suspected = false;
                    Say($"the primary at {channel.Peer} is heard again: still following");
                }
                return;
            }
            lock (_state)
            {
                if (_primaryGone || _goodbye || _handoverAt is not null || _role != ReplicaRole.Backup) return;
            }
            // Frames waiting in the socket are not silence: this backup was the one starved, and its
            // receiving thread has yet to read them.
            if (channel.HasPendingData) return;
            bool won;
            lock (_arbiterLock) won = _arbiter.TryAcquire(TimeSpan.Zero);
            // Whatever the primary sent before it died (and so before the kernel freed its lock) is
            // read first: it may be a goodbye, or the last of the log.
            if (won && channel.HasPendingData) return;
            if (won)
            {
                PrimaryLost($"the primary at {channel.Peer} was silent for {silent:0} ms and no longer holds the arbiter");
                channel.Dispose();
                return;
            }
            if (!_suspected)
            {
                _suspected = true;
                Say($"the primary at {channel.Peer} has been silent for {silent:0} ms but holds the arbiter {_arbiter.Description}: it is alive; still following");
            }
            if (silent >= _options.PeerTimeout.TotalMilliseconds)
            {
                PrimaryLost($"the primary at {channel.Peer} has sent nothing for {silent:0} ms while holding the arbiter (it drops a backup silent for {_options.PeerTimeout.TotalMilliseconds:0} ms)");
                channel.Dispose();
            }
        }
        catch (ReplicaException e)
        {
            Say($"cannot ask the arbiter: {e.Message}");
        }
        finally
        {
            Volatile.Write(ref _watching, 0);
        }
    }

    private long _lastAckTicks;
    private long HeartbeatTicks => (long)(_options.HeartbeatInterval.TotalSeconds * Stopwatch.Frequency);

    private void SendAck(SecureChannel channel)
    {
        Volatile.Write(ref _lastAckTicks, _clock.ElapsedTicks);
        ulong frontier, replayed;
        lock (_state)
        {
            frontier = _frontier;
            replayed = Steps;
        }
        TrySend(channel, MessageType.Ack, new PayloadWriter().U64(frontier).U64(replayed).ToArray());
    }

    private static void TrySend(SecureChannel channel, MessageType type, byte[] payload)
    {
        try
        {
            channel.Send((byte)type, payload);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
        }
    }

    private void PrimaryLost(string reason)
    {
        lock (_state)
        {
            if (_primaryGone || _goodbye || _handoverAt is not null) return;
            _primaryGone = true;
            _lossReason = reason;
            _lossTicks = _clock.ElapsedTicks;
            _stepsAtLoss = Steps;
            Monitor.PulseAll(_state);
        }
    }

    /// <summary>
    /// Replays the log as it arrives. Returns true when this replica must go on live (it took over),
    /// false when it is done (the primary ended the run, or this replica stopped).
    /// </summary>
    private bool Follow()
    {
        lock (_state)
        {
            while (_role == ReplicaRole.Waiting) Monitor.Wait(_state);
        }
        _profile.Add("start to following", _profile.StartTicks);
        if (_role != ReplicaRole.Backup) return false;
        var machine = _machine!;
        RunResult last = new(Core.StopReason.InstructionLimit, 0, 0, null);
        while (true)
        {
            ulong frontier;
            TraceEvent? check;
            bool caughtUp = false;
            lock (_state)
            {
                while (true)
                {
                    if (_role != ReplicaRole.Backup) return false;
                    frontier = _frontier;
                    check = _checks.Count > 0 ? _checks.Peek() : null;
                    bool canRun = frontier > machine.Hart.Steps && last.Reason == Core.StopReason.InstructionLimit;
                    bool canCheck = check is not null && check.Step == machine.Hart.Steps;
                    bool logEnded = _primaryGone || _goodbye || _handoverAt is not null;
                    if (canRun || canCheck || logEnded) break;
                    if (_ackAtCatchUp)
                    {
                        _ackAtCatchUp = false;
                        caughtUp = true;
                        break;
                    }
                    long w = ReplicaProfile.Now();
                    Monitor.Wait(_state, 50);
                    _profile.Add("wait for log", w);
                }
            }
            if (caughtUp)
            {
                _profile.Count("acks at catch-up");
                if (_upstream is { } upstream) SendAck(upstream);
                continue;
            }
            if (check is not null && check.Step == machine.Hart.Steps)
            {
                if (!Verify(check, last)) return false;
                lock (_state) _checks.Dequeue();
                if (check is EndEvent end) return Ended(end, last);
                continue;
            }
            if (frontier > machine.Hart.Steps && last.Reason == Core.StopReason.InstructionLimit)
            {
                ulong target = check is not null ? Math.Min(check.Step, frontier) : frontier;
                if (target < machine.Hart.Steps)
                {
                    Stop($"backup diverged: the log checks step {check!.Step}, but the replay is already at {machine.Hart.Steps}; stopping", ExitStatuses.Diverged);
                    return false;
                }
                long t = ReplicaProfile.Now();
                last = machine.Run(target - machine.Hart.Steps);
                _profile.Add(_profileFirstRun ? "first replay slice" : "replay", t);
                _profileFirstRun = false;
                if (_port.Divergence is { } message)
                {
                    Stop($"backup diverged from the primary's log at step {machine.Hart.Steps}: {message}; stopping", ExitStatuses.Diverged);
                    return false;
                }
                if (last.Reason == Core.StopReason.HostRequest && _role != ReplicaRole.Backup) return false;
                if (last.Reason == Core.StopReason.HostRequest) last = last with { Reason = Core.StopReason.InstructionLimit };
                if (last.Reason != Core.StopReason.InstructionLimit && machine.Hart.Steps < frontier)
                {
                    Stop($"backup diverged: the guest stopped at step {machine.Hart.Steps} ({Describe(last)}) where the primary ran on to {frontier}; stopping", ExitStatuses.Diverged);
                    return false;
                }
                continue;
            }
            // The log has ended without an end record: handed over, or the primary is gone.
            if (_goodbye)
            {
                Stop($"the primary said goodbye at step {_frontier} without ending the run; stopping", ExitStatuses.Diverged);
                return false;
            }
            return TakeOver(last);
        }
    }

    private bool Verify(TraceEvent check, RunResult last)
    {
        long t = ReplicaProfile.Now();
        var actual = _hasher!.Compute();
        _profile.Add("hash", t);
        switch (check)
        {
            case StateHashEvent point when point.Hash != actual:
                Stop($"backup diverged from the primary at step {point.Step}: state hash {actual}, the primary's {point.Hash}; stopping", ExitStatuses.Diverged);
                return false;
            case EndEvent end:
            {
                bool sameStop = end.Reason is Core.StopReason.GuestExit or Core.StopReason.TrapLoop
                    ? last.Reason == end.Reason && last.ExitCode == end.ExitCode
                    : true;
                if (!sameStop || end.FinalHash != actual)
                {
                    Stop($"backup diverged from the primary at its end (step {end.Step}): {(sameStop ? $"final state hash {actual}, the primary's {end.FinalHash}" : $"the replay stopped with {Describe(last)}, the primary with {end.Reason}")}; stopping",
                        ExitStatuses.Diverged);
                    return false;
                }
                return true;
            }
        }
        return true;
    }

    /// <summary>The end record was replayed and matched: the replica now holds the guest's whole run.</summary>
    private bool Ended(EndEvent end, RunResult last)
    {
        // Let the receiving thread see the goodbye, or the primary's loss.
        lock (_state)
        {
            while (!_goodbye && !_primaryGone && _role == ReplicaRole.Backup) Monitor.Wait(_state, 10);
        }
        if (_role != ReplicaRole.Backup) return false;
        int status = end.Reason switch
        {
            Core.StopReason.GuestExit => end.ExitCode,
            Core.StopReason.TrapLoop => ExitStatuses.TrapLoop,
            Core.StopReason.InstructionLimit => ExitStatuses.InstructionLimit,
            _ => 0,
        };
        if (_goodbye)
        {
            lock (_state)
            {
                _role = ReplicaRole.Ended;
                _exitStatus = status;
            }
            Say($"the primary ended the run at step {end.Step}; this backup replayed all of it (exit status {status})");
            if (ReplicaProfile.Enabled) Say(_profile.Report("backup"));
            return false;
        }
        // The primary died after logging the end: this replica must still deliver the console to clients.
        if (!WinArbiter()) return false;
        Say($"took over after the end of the run (step {end.Step}): serving the console's remaining output");
        _final = last;
        FinishEnded(status, end.Reason == Core.StopReason.GuestExit ? $"the guest exited with status {end.ExitCode}" : end.Reason.ToString());
        return false;
    }

    /// <summary>
    /// Wins the arbiter and checks that it names this backup's log stream as the successor; with
    /// <paramref name="clearSuccessor"/>, also names none (else the caller does, once live: the
    /// name left there is this backup's own stream, which no other replica holds, so going live
    /// first is safe and spares the failover a synchronous write to shared storage).
    /// </summary>
    private bool WinArbiter(TimeSpan? patience = null, bool clearSuccessor = true)
    {
        bool won;
        try
        {
            // A dead holder may keep a lease until it expires: wait that long too.
            lock (_arbiterLock) won = _arbiter.TryAcquire((patience ?? _options.ArbiterPatience) + _arbiter.HolderExpiry);
        }
        catch (ReplicaException e)
        {
            Stop($"{_lossReason ?? "the primary handed over"}, but the arbiter cannot be asked ({e.Message}): this backup stops", ExitStatuses.LostArbiter);
            return false;
        }
        if (!won)
        {
            Stop($"{_lossReason ?? "the primary handed over"}, but the arbiter {_arbiter.Description} is held by another replica (the primary is alive, or a peer took over): this backup stops",
                ExitStatuses.LostArbiter);
            return false;
        }
        string? successor = _arbiter.ReadSuccessor();
        if (successor != _streamId)
        {
            _arbiter.Dispose();
            Stop($"{_lossReason ?? "the primary handed over"}, but the primary had gone on without this backup (the arbiter names {(successor is null or NoSuccessor ? "no successor" : "another backup")}): taking over would fork the guest's history; this backup stops",
                ExitStatuses.LostArbiter);
            return false;
        }
        return !clearSuccessor || ClearSuccessor();
    }

    private bool ClearSuccessor()
    {
        try
        {
            _arbiter.PublishSuccessor(NoSuccessor);
        }
        catch (ReplicaException e)
        {
            Stop($"won the arbiter but lost it again ({e.Message}): this replica stops", ExitStatuses.LostArbiter);
            return false;
        }
        return true;
    }

    /// <summary>The log has ended at the frontier (the primary is gone, or it handed over): win the arbiter and go live at exactly that step.</summary>
    private bool TakeOver(RunResult last)
    {
        var machine = _machine!;
        long caughtUpTicks = _clock.ElapsedTicks;
        // After a handover the old primary lets go of the arbiter as soon as it has our acknowledgement;
        // on a loaded machine that can take a while, and nobody else may win it meanwhile.
        if (!WinArbiter(_handoverAt is null ? null : TimeSpan.FromSeconds(30), clearSuccessor: false)) return false;
        if (_port.PendingLogged > 0 && _port.NextDeliveryAt < machine.Hart.Steps)
        {
            Stop($"backup diverged: the log holds input before step {machine.Hart.Steps} that the replay never took; stopping", ExitStatuses.Diverged);
            return false;
        }
        double ms = (_clock.ElapsedTicks - _lossTicks) * 1000.0 / Stopwatch.Frequency;
        _port.GoLive();
        lock (_state)
        {
            _role = ReplicaRole.Live;
            _published = machine.Hart.Steps;
            Monitor.PulseAll(_state);
        }
        Console.ReleaseAll();
        if (_handoverAt is not null) Say($"took over the guest at step {machine.Hart.Steps} (migration), live {ms:0.0} ms after the handover arrived");
        else
        {
            double replayMs = (caughtUpTicks - _lossTicks) * 1000.0 / Stopwatch.Frequency;
            Say($"{_lossReason}: live at step {machine.Hart.Steps}, {ms:0.0} ms after detecting it (replaying the last {machine.Hart.Steps - Math.Min(machine.Hart.Steps, _stepsAtLoss)} steps of the log took {replayMs:0.0} ms, the arbiter {ms - replayMs:0.0} ms)");
        }
        TakeoverMilliseconds = ms;
        // The arbiter still names this backup's own stream as the successor: no other replica holds
        // it, so the guest runs on at once while "none" is written beside it — unless a new backup
        // has been named meanwhile, whose name must stay.
        new Thread(() =>
        {
            bool failed = false;
            string? why = null;
            lock (_arbiterLock)
            {
                if (_successorWritten) return;
                try
                {
                    _arbiter.PublishSuccessor(NoSuccessor);
                }
                catch (ReplicaException e)
                {
                    failed = true;
                    why = e.Message;
                }
            }
            if (failed) Stop($"won the arbiter but lost it again ({why}): this replica stops", ExitStatuses.LostArbiter);
        }) { IsBackground = true, Name = "arbiter successor" }.Start();
        return true;
    }

    /// <summary>Set once this live replica has named a successor (under <c>_arbiterLock</c>): a later write of "none" after a takeover must not undo it.</summary>
    private bool _successorWritten;

    /// <summary>From detecting the primary's loss to running live, for the figures.</summary>
    public double TakeoverMilliseconds { get; private set; }
}
