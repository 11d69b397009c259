using System.Diagnostics;
using System.Globalization;
using System.Text;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica;

/// <summary>Console clients, status queries and control requests.</summary>
public sealed partial class ReplicaNode
{
    private int _attached, _endsDelivered;

    private void HandleConnection(SecureChannel channel)
    {
        switch (channel.Purpose)
        {
            case Purpose.Log: HandleLog(channel); break;
            case Purpose.Console: HandleConsole(channel); break;
            case Purpose.Status: HandleStatus(channel); break;
            case Purpose.Control: HandleControl(channel); break;
        }
    }

    /// <summary>
    /// One console client: attaches at its output offset (only to the live replica), gets the
    /// released output from there with offsets, sends input with its own input offsets (resent
    /// input is taken once), and learns which of its input the guest consumed and the backup holds.
    /// </summary>
    private void HandleConsole(SecureChannel channel)
    {
        bool attached = false;
        try
        {
            ServeConsole(channel, ref attached);
        }
        finally
        {
            Release(channel);
            if (attached) Detach();
        }
    }

    /// <summary>
    /// A console client is gone, its connection already released (see <see cref="Release"/>): a
    /// run that has ended and sees no client attached has dealt with every client's connection.
    /// </summary>
    private void Detach()
    {
        Interlocked.Decrement(ref _attached);
        lock (_state) Monitor.PulseAll(_state);
    }

    private void ServeConsole(SecureChannel channel, ref bool attached)
    {
        channel.ReceiveTimeout = TimeSpan.FromSeconds(5);
        var (type, payload) = channel.Receive(4096);
        if (type != (byte)MessageType.Attach) throw new ReplicaException("a console client must attach first");
        var r = new PayloadReader(payload, "attach");
        var client = r.Guid();
        ulong offset = r.U64();
        r.End();
        if (_role is not (ReplicaRole.Live or ReplicaRole.Ended))
        {
            TrySend(channel, MessageType.NotLive, new PayloadWriter().Text($"this replica is not live ({_role.ToString().ToLowerInvariant()})").ToArray());
            return;
        }
        if (offset > (ulong)Console.Produced)
        {
            TrySend(channel, MessageType.Error, new PayloadWriter().Text($"output offset {offset} is beyond the guest's {Console.Produced} bytes").ToArray());
            return;
        }
        if ((long)offset < Console.Oldest)
        {
            SendDropped(channel, (long)offset);
            return;
        }
        _port.Clients.Reattach(client);
        channel.Send((byte)MessageType.AttachOk, new PayloadWriter().U64(_port.Clients.Consumed(client)).U64(Steps).ToArray());
        Interlocked.Increment(ref _attached);
        attached = true;
        var done = new CancellationTokenSource();
        var reader = new Thread(() => ReadConsoleInput(channel, client, done)) { IsBackground = true, Name = "console input" };
        reader.Start();
        try
        {
            long at = (long)offset;
            ulong inputAcked = 0;
            while (!done.IsCancellationRequested && _role is ReplicaRole.Live or ReplicaRole.Ended)
            {
                var bytes = Console.Read(at, 64 * 1024, TimeSpan.FromMilliseconds(20));
                if (bytes is null)
                {
                    // This client fell further behind than the history holds: the guest goes on, the client is told.
                    SendDropped(channel, at);
                    done.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
                    break;
                }
                if (bytes.Length > 0)
                {
                    channel.Send((byte)MessageType.Output, new PayloadWriter().U64((ulong)at).Bytes(bytes).ToArray());
                    at += bytes.Length;
                }
                ulong acked = InputAcknowledged(client);
                if (acked > inputAcked)
                {
                    inputAcked = acked;
                    channel.Send((byte)MessageType.InputAck, new PayloadWriter().U64(acked).ToArray());
                }
                if (bytes.Length == 0 && Console.End is { } end && at == Console.Released)
                {
                    channel.Send((byte)MessageType.Ended, new PayloadWriter().I32(end.Status).Text(end.Description).ToArray());
                    Interlocked.Increment(ref _endsDelivered);
                    // Let the client read it before the connection goes.
                    done.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
        }
        finally
        {
            done.Cancel();
        }
    }

    /// <summary>Tells a console client that output from <paramref name="offset"/> is no longer held (and what is).</summary>
    private void SendDropped(SecureChannel channel, long offset)
    {
        Say($"console client {channel.Peer} asked for output from byte {offset}, which is no longer held (bytes from {Console.Oldest} are): told it so");
        TrySend(channel, MessageType.OutputDropped, new PayloadWriter().U64((ulong)offset).U64((ulong)Console.Oldest).U64((ulong)Console.Capacity).ToArray());
    }

    private void ReadConsoleInput(SecureChannel channel, Guid client, CancellationTokenSource done)
    {
        channel.ReceiveTimeout = Timeout.InfiniteTimeSpan;
        try
        {
            while (!done.IsCancellationRequested)
            {
                var (type, payload) = channel.Receive(1 << 20);
                if (type != (byte)MessageType.Input) throw new ReplicaException($"console client {channel.Peer} sent an unexpected message ({type})");
                var r = new PayloadReader(payload, "input");
                ulong offset = r.U64();
                var bytes = r.Rest();
                if (_role != ReplicaRole.Live) continue;
                if (!_port.Clients.Offer(client, offset, bytes)) throw new ReplicaException($"console client {channel.Peer} skipped input (offset {offset})");
            }
        }
        catch (ReplicaException e)
        {
            Say(e.Message);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or TimeoutException)
        {
        }
        finally
        {
            done.Cancel();
        }
    }

    /// <summary>After the end: keep the console open until the attached clients have the end, or the linger time passes.</summary>
    private void WaitForClientsToCollectEnd()
    {
        var deadline = DateTime.UtcNow + _options.Linger;
        lock (_state)
        {
            while (DateTime.UtcNow < deadline)
            {
                if (Volatile.Read(ref _endsDelivered) > 0 && Volatile.Read(ref _attached) == 0) return;
                Monitor.Wait(_state, 10);
            }
        }
    }

    /// <summary>The status of this replica, one <c>key value</c> per line (what <c>replayvm status</c> prints).</summary>
    public string Status()
    {
        var text = new StringBuilder();
        void Line(string key, object value) => text.Append(key).Append(' ').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append('\n');
        double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
        Line("role", _role switch
        {
            ReplicaRole.Live => "primary",
            ReplicaRole.Backup => "backup",
            _ => _role.ToString().ToLowerInvariant(),
        });
        Line("step", Steps);
        if (_role == ReplicaRole.Backup)
        {
            Line("log-frontier", _frontier);
            Line("lag-steps", Lag);
            Line("primary", _upstream?.Peer ?? "-");
        }
        else
        {
            Line("backup", _backupStream?.Peer ?? "none (unprotected)");
            ulong lag;
            lock (_state) lag = _backupStream is null ? 0 : _published - Math.Min(_published, _backupReplayed);
            Line("lag-steps", lag);
            Line("last-ack", _ackedFrontier);
        }
        Line("log-bytes", _history.Bytes);
        Line("log-bytes-per-s", (long)(_history.Bytes / seconds));
        Line("console-bytes", Console.Produced);
        Line("console-held-from", Console.Oldest);
        Line("arbiter", _arbiter.Description + (_arbiter.Held ? " (held)" : ""));
        if (_stopReason is not null) Line("stopped", _stopReason);
        return text.ToString();
    }

    private void HandleStatus(SecureChannel channel)
    {
        using var _ = channel;
        channel.ReceiveTimeout = TimeSpan.FromSeconds(5);
        var (type, _) = channel.Receive(64);
        if (type != (byte)MessageType.StatusRequest) throw new ReplicaException("expected a status request");
        channel.Send((byte)MessageType.StatusReply, new PayloadWriter().Text(Status()).ToArray());
        Thread.Sleep(50);
    }

    /// <summary>
    /// Control: <c>Protect ENDPOINT</c> makes a live replica stream its log to a (new) backup there;
    /// <c>Migrate ENDPOINT</c> moves the guest there, reporting its progress. Both send a keepalive
    /// every second while they work (<see cref="RequesterReports"/>), so that the requester can tell
    /// a slow join or migration from a dead replica.
    /// </summary>
    private void HandleControl(SecureChannel channel)
    {
        using var _ = channel;
        channel.ReceiveTimeout = TimeSpan.FromSeconds(5);
        var (type, payload) = channel.Receive(4096);
        var r = new PayloadReader(payload, "control");
        string reply;
        switch ((MessageType)type)
        {
            case MessageType.Protect:
            {
                var target = Endpoint.Parse(r.Text(), "protect");
                string why = "";
                using (new RequesterReports(channel))
                {
                    reply = _role != ReplicaRole.Live ? "refused: this replica is not live"
                        : _backupStream is not null ? $"refused: already protected by {_backupStream.Peer}"
                        : ConnectBackup(target, quiet: true, out why, RequestedConnectPatience) ? $"streaming the log to {target}" : $"refused: cannot reach a backup at {target}: {why}";
                }
                break;
            }
            case MessageType.Migrate:
            {
                var target = Endpoint.Parse(r.Text(), "migrate");
                _migrationAnswered.Reset();
                try
                {
                    using (var reports = new RequesterReports(channel)) reply = Migrate(target, reports.Report);
                    channel.Send((byte)MessageType.ControlReply, new PayloadWriter().Text(reply).ToArray());
                }
                finally
                {
                    _migrationAnswered.Set();
                }
                Thread.Sleep(50);
                return;
            }
            default: throw new ReplicaException($"unexpected control message {type}");
        }
        channel.Send((byte)MessageType.ControlReply, new PayloadWriter().Text(reply).ToArray());
        Thread.Sleep(50);
    }

    /// <summary>
    /// Set once a migration's requester has been sent its answer. A replica that migrated its guest
    /// away exits as soon as the handover is done; without this wait it could exit before the
    /// answer left, and <c>migrate</c> would see the connection drop instead of "migrated to".
    /// </summary>
    private readonly ManualResetEventSlim _migrationAnswered = new(initialState: true);

    /// <summary>How long a replica that migrated its guest away waits for the requester's answer to be sent before it exits.</summary>
    internal static readonly TimeSpan MigrationAnswerLimit = TimeSpan.FromSeconds(5);

    /// <summary>How long a connect and handshake to a backup may take when a user asked for it (a loaded machine answers late).</summary>
    internal static readonly TimeSpan RequestedConnectPatience = TimeSpan.FromSeconds(10);

    /// <summary>A migration fails when its target neither receives nor replays any more of the log for this long.</summary>
    internal static readonly TimeSpan MigrationStallLimit = TimeSpan.FromSeconds(30);

    /// <summary>A migration fails when its target has not come close enough for the handover within this long, even while making progress.</summary>
    internal static readonly TimeSpan MigrationLimit = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Migration by joining and handing over: the target (a <c>replayvm backup</c>) joins as this
    /// replica's backup and replays the log up to the present. Then the guest is held ever closer
    /// behind the target's replay (the throttle's bound halves each time the target reaches it, as
    /// QEMU's auto-converge slows a guest whose pages dirty faster than they copy) until the target
    /// is within <see cref="HandoverLagSteps"/>; without that, a target that replays no faster than
    /// the guest runs — any loaded machine — would never come close enough. The guest then stops at
    /// a step S, the target gets the log through S and a handover, this replica releases the
    /// arbiter and the target goes live at exactly S. Clients reattach to it at their console
    /// offsets. Every wait has a bound and fails with one line saying what it waited for; the guest
    /// then runs on here.
    /// </summary>
    private string Migrate(Endpoint target, Action<string> report)
    {
        if (_role != ReplicaRole.Live) return "refused: this replica is not live";
        var stream = _backupStream;
        if (stream is null)
        {
            if (!ConnectBackup(target, quiet: true, out string why, RequestedConnectPatience)) return $"refused: cannot reach a backup at {target}: {why}";
            stream = _backupStream;
            if (stream is null) return "failed: the target was lost as it joined; the guest runs on here";
            report($"the target {target} joined at step {_joinedAt}; it starts from a snapshot there and follows the log while the guest runs");
        }
        else if (stream.Peer != target.ToString()) return $"refused: this replica is protected by {stream.Peer}; migrate to that one";
        else report($"the target {target} already follows this replica");
        try
        {
            if (WaitForTarget(stream, report) is { } failure) return failure;
            var request = new HandoverRequest(stream);
            _handover = request;
            // A primary waiting for its backup (the throttle) takes the handover at once.
            lock (_state) Monitor.PulseAll(_state);
            _machine!.RequestStop();
            return WaitForHandover(request);
        }
        finally
        {
            lock (_state)
            {
                _migrationLagLimit = ulong.MaxValue;
                Monitor.PulseAll(_state);
            }
        }
    }

    /// <summary>Waits until the target may succeed this replica and its replay is within <see cref="HandoverLagSteps"/>; null then, else why not.</summary>
    private string? WaitForTarget(LogStream stream, Action<string> report)
    {
        var total = Stopwatch.StartNew();
        var sinceProgress = Stopwatch.StartNew();
        ulong seenAcked = 0, seenReplayed = 0;
        bool converging = false;
        while (true)
        {
            string? line = null;
            lock (_state)
            {
                if (_role != ReplicaRole.Live) return $"failed: this replica stopped being live ({_role.ToString().ToLowerInvariant()}) before the handover";
                if (!ReferenceEquals(_backupStream, stream)) return $"failed: the target {stream.Peer} was lost before the handover; the guest runs on here";
                ulong published = _published, lag = published - Math.Min(published, _backupReplayed);
                if (_successorPublished && _migrationLagLimit <= HandoverLagSteps / 2 && lag <= HandoverLagSteps) return null;
                if (_ackedFrontier != seenAcked || _backupReplayed != seenReplayed)
                {
                    seenAcked = _ackedFrontier;
                    seenReplayed = _backupReplayed;
                    sinceProgress.Restart();
                }
                else if (sinceProgress.Elapsed > MigrationStallLimit)
                    return $"failed: the target {stream.Peer} made no progress for {MigrationStallLimit.TotalSeconds:0} s (it holds the log through step {_ackedFrontier} and has replayed {_backupReplayed} steps; the guest is at step {published}); the guest runs on here";
                if (total.Elapsed > MigrationLimit)
                    return $"failed: the target {stream.Peer} did not come within {HandoverLagSteps} steps of the guest in {MigrationLimit.TotalMinutes:0} minutes (its replay is {lag} steps behind); the guest runs on here";
                if (_successorPublished && _caughtUp)
                {
                    // Hold the guest closer behind the target each time the target reaches the bound
                    // (a slice may run past the bound before the throttle looks again).
                    ulong limit = Math.Min(_options.MaxLagSteps, _migrationLagLimit);
                    if (!converging)
                    {
                        converging = true;
                        line = $"the target holds the log through step {_ackedFrontier} and has replayed {_backupReplayed} steps; holding the guest within {limit} steps of it until it is within {HandoverLagSteps}";
                    }
                    if (lag <= limit + _options.SliceSteps && limit > HandoverLagSteps / 2)
                    {
                        _migrationLagLimit = Math.Max(HandoverLagSteps / 2, limit / 2);
                        Monitor.PulseAll(_state);
                    }
                }
                if (line is null) Monitor.Wait(_state, 100);
            }
            if (line is not null) report(line);
        }
    }

    /// <summary>Waits for the machine's thread to stop the guest and hand it over (see <see cref="HandOver"/>).</summary>
    private string WaitForHandover(HandoverRequest request)
    {
        var total = Stopwatch.StartNew();
        while (!request.Done.Wait(TimeSpan.FromSeconds(1)))
        {
            if (_role is ReplicaRole.Ended or ReplicaRole.Stopped)
                return $"failed: the guest's run ended ({_role.ToString().ToLowerInvariant()}) at step {Steps} before the handover; it is complete on this replica";
            if (total.Elapsed > TimeSpan.FromMinutes(1))
            {
                // Withdraw the request if the machine's thread has not taken it; if it just did, its answer stands.
                if (Interlocked.CompareExchange(ref _handover, null, request) == request)
                    return $"failed: the guest did not stop for the handover within a minute (at step {Steps}); it runs on here";
            }
        }
        return request.Result!;
    }

    /// <summary>How close (in steps) the target's replay must be before the guest stops for the handover: this bounds the pause.</summary>
    internal const ulong HandoverLagSteps = 2_000_000;

    private sealed class HandoverRequest(LogStream stream)
    {
        public LogStream Stream { get; } = stream;
        public ManualResetEventSlim Done { get; } = new();
        public string? Result { get; set; }
    }

    /// <summary>A migration's request to the machine's thread, taken (exchanged for null) by whichever side acts on it first.</summary>
    private HandoverRequest? _handover;
}
