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
        using var _ = channel;
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
        _port.Clients.Reattach(client);
        channel.Send((byte)MessageType.AttachOk, new PayloadWriter().U64(_port.Clients.Consumed(client)).U64(Steps).ToArray());
        Interlocked.Increment(ref _attached);
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
            Interlocked.Decrement(ref _attached);
            lock (_state) Monitor.PulseAll(_state);
        }
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

    /// <summary>Control: <c>Protect ENDPOINT</c> makes a live replica stream its log to a (new) backup there.</summary>
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
                reply = _role != ReplicaRole.Live ? "refused: this replica is not live"
                    : _backupStream is not null ? $"refused: already protected by {_backupStream.Peer}"
                    : ConnectBackup(target, quiet: true) ? $"streaming the log to {target}" : $"refused: cannot reach a backup at {target}";
                break;
            }
            case MessageType.Migrate:
            {
                var target = Endpoint.Parse(r.Text(), "migrate");
                reply = Migrate(target);
                break;
            }
            default: throw new ReplicaException($"unexpected control message {type}");
        }
        channel.Send((byte)MessageType.ControlReply, new PayloadWriter().Text(reply).ToArray());
        Thread.Sleep(50);
    }

    /// <summary>
    /// Migration by joining and handing over: the target (a <c>replayvm backup</c>) joins as this
    /// replica's backup and replays the log up to the present; once it holds the successor token
    /// and is within <see cref="HandoverLagSteps"/> of the primary, the guest stops at a step S,
    /// the backup gets the log through S and a handover, this replica releases the arbiter and
    /// the backup goes live at exactly S. Clients reattach to it at their console offsets.
    /// </summary>
    private string Migrate(Endpoint target)
    {
        if (_role != ReplicaRole.Live) return "refused: this replica is not live";
        var stream = _backupStream;
        if (stream is null)
        {
            if (!ConnectBackup(target, quiet: true)) return $"refused: cannot reach a backup at {target}";
            stream = _backupStream;
        }
        else if (stream.Peer != target.ToString()) return $"refused: this replica is protected by {stream.Peer}; migrate to that one";
        lock (_state)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
            while (_role == ReplicaRole.Live && ReferenceEquals(_backupStream, stream) && DateTime.UtcNow < deadline &&
                   !(_successorPublished && _published - Math.Min(_published, _backupReplayed) <= HandoverLagSteps))
                Monitor.Wait(_state, 10);
            if (!ReferenceEquals(_backupStream, stream) || _role != ReplicaRole.Live) return "failed: the target was lost before the handover";
            if (!_successorPublished) return "failed: the target did not catch up within 10 minutes";
        }
        var request = new HandoverRequest(stream!);
        _handover = request;
        _machine!.RequestStop();
        return request.Done.Wait(TimeSpan.FromMinutes(1)) ? request.Result! : "failed: the handover did not complete within a minute";
    }

    /// <summary>How close (in steps) the target's replay must be before the guest stops for the handover: this bounds the pause.</summary>
    internal const ulong HandoverLagSteps = 2_000_000;

    private sealed class HandoverRequest(LogStream stream)
    {
        public LogStream Stream { get; } = stream;
        public ManualResetEventSlim Done { get; } = new();
        public string? Result { get; set; }
    }

    private volatile HandoverRequest? _handover;
}
