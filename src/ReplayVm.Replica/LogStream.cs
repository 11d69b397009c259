using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica;

/// <summary>
/// The primary's end of one log channel: a sending thread that writes batches in order (and a
/// heartbeat whenever it has been quiet for the heartbeat interval), and a receiving thread that
/// takes the backup's acknowledgements. Silence from the backup for the peer timeout, a
/// closed connection or a refusal ends the stream and reports the backup lost, once.
/// <para>
/// The queue is a plain list under a monitor rather than a <c>BlockingCollection</c>: the sender
/// wakes once per batch (a few hundred times a second), and a semaphore's spin before it blocks
/// (<c>sched_yield</c> in a loop) took CPU from the machine's thread on a shared core, and its
/// generic instantiation over a value tuple was JIT-compiled at every start.
/// </para>
/// </summary>
internal sealed class LogStream : IDisposable
{
    private readonly SecureChannel _channel;
    private readonly ReplicaOptions _options;
    private readonly Queue<Frame> _outgoing = new();
    private bool _addingCompleted;
    private readonly Action<LogStream, ulong, ulong> _acked;
    private readonly Action<LogStream, ulong> _handoverAcked;
    private readonly Action<LogStream, string> _lost;
    private readonly CancellationTokenSource _stop = new();
    private ulong _frontier;
    private Thread? _sender;
    private int _ended;

    public LogStream(SecureChannel channel, ReplicaOptions options, Action<LogStream, ulong, ulong> acked, Action<LogStream, ulong> handoverAcked, Action<LogStream, string> lost)
    {
        _handoverAcked = handoverAcked;
        _channel = channel;
        _options = options;
        _acked = acked;
        _lost = lost;
        Peer = channel.Peer;
    }

    public string Peer { get; }

    /// <summary>A frame to send, or (<see cref="Many"/>) frames made one at a time as they are sent.</summary>
    private sealed class Frame(MessageType type, byte[] payload, IEnumerable<(MessageType Type, byte[] Payload)>? many)
    {
        public MessageType Type { get; } = type;
        public byte[] Payload { get; } = payload;
        public IEnumerable<(MessageType Type, byte[] Payload)>? Many { get; } = many;
    }

    /// <summary>Queues <paramref name="frame"/> and wakes the sender; false once the stream is closed to new frames.</summary>
    private bool Add(Frame frame)
    {
        lock (_outgoing)
        {
            if (_addingCompleted) return false;
            _outgoing.Enqueue(frame);
            if (_outgoing.Count == 1) Monitor.Pulse(_outgoing);
            return true;
        }
    }

    /// <summary>No more frames: the sender sends what is queued and ends.</summary>
    private void CompleteAdding()
    {
        lock (_outgoing)
        {
            _addingCompleted = true;
            Monitor.PulseAll(_outgoing);
        }
    }

    /// <summary>The next frame, waiting up to <paramref name="wait"/> ms; null when none came (or the stream stopped), with <paramref name="completed"/> set when no frame will ever come.</summary>
    private Frame? Take(int wait, out bool completed)
    {
        lock (_outgoing)
        {
            if (_outgoing.Count == 0 && !_addingCompleted && !_stop.IsCancellationRequested) Monitor.Wait(_outgoing, wait);
            completed = _outgoing.Count == 0 && _addingCompleted;
            return _outgoing.Count > 0 && !_stop.IsCancellationRequested ? _outgoing.Dequeue() : null;
        }
    }

    /// <summary>This stream's id: the token the arbiter holds while this backup may succeed the primary.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Queues a frame (never blocks the machine's thread).</summary>
    public void Enqueue(MessageType type, byte[] payload, ulong frontier)
    {
        if (_ended != 0) return;
        Volatile.Write(ref _frontier, Math.Max(Volatile.Read(ref _frontier), frontier));
        Add(new Frame(type, payload, null));
    }

    /// <summary>Queues frames that the sending thread makes one at a time as it sends them (a snapshot: never all in memory at once).</summary>
    public void EnqueueMany(IEnumerable<(MessageType Type, byte[] Payload)> frames)
    {
        if (_ended != 0) return;
        Add(new Frame(default, [], frames));
    }

    public void Start()
    {
        _sender = new Thread(SendLoop) { IsBackground = true, Name = "log sender" };
        _sender.Start();
        new Thread(ReceiveLoop) { IsBackground = true, Name = "log acks" }.Start();
    }

    private void SendLoop()
    {
        var interval = (int)_options.HeartbeatInterval.TotalMilliseconds;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (Take(interval, out bool completed) is { } item)
                {
                    if (item.Many is { } frames)
                    {
                        foreach (var (type, payload) in frames)
                        {
                            if (_stop.IsCancellationRequested) return;
                            _channel.Send((byte)type, payload);
                        }
                        continue;
                    }
                    _channel.Send((byte)item.Type, item.Payload);
                    if (item.Type == MessageType.Goodbye) return;
                }
                else if (completed || _stop.IsCancellationRequested) return;
                else _channel.Send((byte)MessageType.Heartbeat, new PayloadWriter().U64(Volatile.Read(ref _frontier)).ToArray());
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            End($"the log channel to {Peer} broke ({e.Message})");
        }
    }

    private void ReceiveLoop()
    {
        try
        {
            // The backup builds its machine from the header before it can answer: give it time for the first acknowledgement.
            _channel.ReceiveTimeout = TimeSpan.FromSeconds(10);
            bool first = true;
            while (!_stop.IsCancellationRequested)
            {
                var (type, payload) = _channel.Receive();
                if (first)
                {
                    first = false;
                    // A starved backup is not a dead one: only the peer timeout (far beyond the heartbeat
                    // timeout) drops it; until then its output waits, as the output rule says.
                    _channel.ReceiveTimeout = _options.PeerTimeout;
                }
                switch ((MessageType)type)
                {
                    case MessageType.Ack:
                    {
                        var r = new PayloadReader(payload, "ack");
                        ulong received = r.U64(), replayed = r.U64();
                        r.End();
                        _acked(this, received, replayed);
                        break;
                    }
                    case MessageType.HandoverAck:
                    {
                        var r = new PayloadReader(payload, "handover ack");
                        ulong step = r.U64();
                        r.End();
                        _handoverAcked(this, step);
                        break;
                    }
                    case MessageType.Error:
                    {
                        var r = new PayloadReader(payload, "error");
                        End($"backup {Peer} refused the log: {r.Text()}");
                        return;
                    }
                    default:
                        End($"backup {Peer} sent an unexpected message ({type})");
                        return;
                }
            }
        }
        catch (TimeoutException)
        {
            End($"backup {Peer} silent for {_options.PeerTimeout.TotalMilliseconds:0} ms");
        }
        catch (ReplicaException e)
        {
            End(e.Message);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            End($"backup {Peer} went away ({e.Message})");
        }
    }

    /// <summary>Ends the stream and reports the backup lost (once).</summary>
    public void End(string reason)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        _stop.Cancel();
        CompleteAdding();
        _channel.Dispose();
        _lost(this, reason);
    }

    /// <summary>Sends what is queued, up to <paramref name="wait"/>, then closes without reporting a loss.</summary>
    public void Close(TimeSpan wait)
    {
        CompleteAdding();
        _sender?.Join(wait);
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        _stop.Cancel();
        _channel.CloseGracefully();
    }

    public void Dispose() => Close(TimeSpan.Zero);
}
