using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica;

/// <summary>
/// <c>replayvm console</c>: follows whichever replica is live. It shows the guest's console from
/// the offset it has shown so far, so across a failover every byte appears exactly once, and it
/// keeps its input until the live replica says the guest consumed it and the backup holds it,
/// resending from where the (new) live replica says the guest stopped taking it.
/// </summary>
public sealed class ConsoleClient(IReadOnlyList<Endpoint> endpoints, ReplicaKey key, Stream input, Stream output, Action<string> say)
{
    private readonly Guid _id = Guid.NewGuid();
    private readonly object _lock = new();
    private readonly List<byte> _unacked = [];
    private ulong _unackedBase, _inputEnd;
    private long _shown;

    /// <summary>Bytes of the guest's console shown so far.</summary>
    public long Shown => Interlocked.Read(ref _shown);

    /// <summary>
    /// The offset in the guest's console stream to show from (<c>--from</c>), or null: from the
    /// start, or, when the live replica no longer holds the start, from the oldest byte it holds
    /// (said on one line). Output asked for explicitly, or needed to resume after bytes were shown,
    /// that is no longer held ends the client with one line instead.
    /// </summary>
    public long? From { get; init; }

    /// <summary>How long to keep looking for a live replica before giving up.</summary>
    public TimeSpan Patience { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Runs until the guest's run ends (returns its exit status) or no replica is live for <see cref="Patience"/>.</summary>
    public int Run()
    {
        _shown = From ?? 0;
        new Thread(ReadInput) { IsBackground = true, Name = "console stdin" }.Start();
        var lastLive = DateTime.UtcNow;
        string? lastProblem = null;
        for (int i = 0; ; i = (i + 1) % endpoints.Count)
        {
            var endpoint = endpoints[i];
            try
            {
                using var channel = SecureChannel.Connect(endpoint, key, Purpose.Console, TimeSpan.FromSeconds(1));
                int? status = Follow(channel, endpoint);
                if (status is { } s) return s;
                lastLive = DateTime.UtcNow;
                lastProblem = null;
            }
            catch (ReplicaException e) when (!e.Final && !e.Message.Contains("refused us: authentication", StringComparison.Ordinal) && !e.Message.Contains("does not hold our replica key", StringComparison.Ordinal))
            {
                lastProblem = e.Message;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or TimeoutException)
            {
                lastProblem = $"{endpoint}: {e.Message}";
                lastLive = DateTime.UtcNow;
            }
            if (DateTime.UtcNow - lastLive > Patience)
                throw new ReplicaException($"no live replica at {string.Join(",", endpoints)} for {Patience.TotalSeconds:0} s ({lastProblem})");
            if (i == endpoints.Count - 1) Thread.Sleep(20);
        }
    }

    /// <summary>Attaches and follows one replica; the guest's exit status at the end, null when the replica went away or is not live.</summary>
    private int? Follow(SecureChannel channel, Endpoint endpoint)
    {
        channel.Send((byte)MessageType.Attach, new PayloadWriter().Guid(_id).U64((ulong)Shown).ToArray());
        channel.ReceiveTimeout = TimeSpan.FromSeconds(2);
        var (type, payload) = channel.Receive();
        if (type == (byte)MessageType.NotLive) return null;
        if (type == (byte)MessageType.OutputDropped) return Dropped(payload, endpoint, attaching: true);
        if (type == (byte)MessageType.Error) throw new ReplicaException($"{endpoint}: {new PayloadReader(payload, "error").Text()}");
        if (type != (byte)MessageType.AttachOk) throw new ReplicaException($"{endpoint}: unexpected answer {type} to attach");
        var r = new PayloadReader(payload, "attach answer");
        ulong consumed = r.U64();
        AcknowledgeInput(consumed);
        channel.ReceiveTimeout = Timeout.InfiniteTimeSpan;
        var stop = new CancellationTokenSource();
        var sender = new Thread(() => SendInput(channel, consumed, stop.Token)) { IsBackground = true, Name = "console input sender" };
        sender.Start();
        try
        {
            while (true)
            {
                (type, payload) = channel.Receive(1 << 20);
                switch ((MessageType)type)
                {
                    case MessageType.Output:
                    {
                        var o = new PayloadReader(payload, "output");
                        long offset = (long)o.U64();
                        var bytes = o.Rest();
                        if (offset > Shown) throw new ReplicaException($"{endpoint} skipped console output ({offset} after {Shown})");
                        long skip = Shown - offset;
                        if (skip < bytes.Length)
                        {
                            output.Write(bytes[(int)skip..]);
                            output.Flush();
                            Interlocked.Exchange(ref _shown, offset + bytes.Length);
                        }
                        break;
                    }
                    case MessageType.InputAck:
                        AcknowledgeInput(new PayloadReader(payload, "input ack").U64());
                        break;
                    case MessageType.Ended:
                    {
                        var e = new PayloadReader(payload, "end");
                        int status = e.I32();
                        say(e.Text());
                        return status;
                    }
                    case MessageType.OutputDropped:
                        Dropped(payload, endpoint, attaching: false);
                        return null;
                    case MessageType.Error: throw new ReplicaException($"{endpoint}: {new PayloadReader(payload, "error").Text()}");
                    default: throw new ReplicaException($"{endpoint}: unexpected message {type}");
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            return null;
        }
        finally
        {
            stop.Cancel();
            lock (_lock) Monitor.PulseAll(_lock);
        }
    }

    /// <summary>
    /// The replica no longer holds the output this client needs next. A client that has shown
    /// nothing and was not told where to start goes on from the oldest byte held (null: attach
    /// again); otherwise showing every byte exactly once is no longer possible, and it stops.
    /// </summary>
    private int? Dropped(byte[] payload, Endpoint endpoint, bool attaching)
    {
        var r = new PayloadReader(payload, "output dropped");
        long offset = (long)r.U64(), oldest = (long)r.U64(), capacity = (long)r.U64();
        r.End();
        if (oldest <= offset) throw new ReplicaException($"{endpoint}: said output from byte {offset} was dropped, yet holds from byte {oldest}");
        if (attaching && From is null && Interlocked.Read(ref _shown) == 0 && !_skippedToOldest)
        {
            _skippedToOldest = true;
            say(ConsoleHistory.DescribeDropped(0, oldest, capacity, $"showing from byte {oldest}"));
            Interlocked.Exchange(ref _shown, oldest);
            return null;
        }
        throw new ReplicaException($"{endpoint}: {ConsoleHistory.DescribeDropped(offset, oldest, capacity, $"'replayvm console --from {oldest}' goes on from the oldest byte held")}", final: true);
    }

    private bool _skippedToOldest;

    private void AcknowledgeInput(ulong consumed)
    {
        lock (_lock)
        {
            if (consumed <= _unackedBase) return;
            int drop = (int)Math.Min((ulong)_unacked.Count, consumed - _unackedBase);
            _unacked.RemoveRange(0, drop);
            _unackedBase += (ulong)drop;
        }
    }

    private void SendInput(SecureChannel channel, ulong from, CancellationToken stop)
    {
        ulong sent = from;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                byte[] chunk;
                lock (_lock)
                {
                    while (sent >= _inputEnd && !stop.IsCancellationRequested) Monitor.Wait(_lock, 50);
                    if (stop.IsCancellationRequested) return;
                    if (sent < _unackedBase) sent = _unackedBase;
                    int start = (int)(sent - _unackedBase);
                    chunk = _unacked.GetRange(start, Math.Min(_unacked.Count - start, 16 * 1024)).ToArray();
                }
                if (chunk.Length == 0) continue;
                channel.Send((byte)MessageType.Input, new PayloadWriter().U64(sent).Bytes(chunk).ToArray());
                sent += (ulong)chunk.Length;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
        }
    }

    private void ReadInput()
    {
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = input.Read(buffer, 0, buffer.Length)) > 0)
            {
                lock (_lock)
                {
                    _unacked.AddRange(buffer.AsSpan(0, n));
                    _inputEnd += (ulong)n;
                    Monitor.PulseAll(_lock);
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
        }
    }
}
