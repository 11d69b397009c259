using System.Buffers.Binary;
using System.Globalization;
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
    /// <summary>A frame is being written (by the sender, or inline by <see cref="Post"/>): the next must wait its turn. Under <c>_outgoing</c>.</summary>
    private bool _writing;
    /// <summary>Frames written since the backup's last acknowledgement. Under <c>_outgoing</c>.</summary>
    private int _unacknowledged;
    /// <summary>Bytes of frames written (by either thread) since the backup's last acknowledgement. Under <c>_outgoing</c>.</summary>
    private long _unacknowledgedBytes;
    /// <summary>When the last frame went out (<see cref="Environment.TickCount64"/>): the sender's heartbeat is due an interval after it.</summary>
    private long _lastWrite = Environment.TickCount64;
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

    /// <summary>
    /// The next frame to write, waiting for one until a heartbeat is due (an interval after the
    /// last frame written, inline ones included); null for a heartbeat, or when the stream stopped,
    /// with <paramref name="completed"/> set when no frame will ever come. What it returns is being
    /// written (<see cref="_writing"/>) until <see cref="Written"/>.
    /// </summary>
    private Frame? Take(int interval, out bool completed)
    {
        lock (_outgoing)
        {
            while (true)
            {
                completed = _outgoing.Count == 0 && _addingCompleted;
                if (_stop.IsCancellationRequested || completed) return null;
                if (_outgoing.Count > 0 && !_writing)
                {
                    _writing = true;
                    _unacknowledged++;
                    var frame = _outgoing.Dequeue();
                    _unacknowledgedBytes += frame.Payload.Length;
                    return frame;
                }
                long wait = _lastWrite + interval - Environment.TickCount64;
                if (wait <= 0 && !_writing)
                {
                    _writing = true;
                    _unacknowledged++;
                    return null;
                }
                // While the posting thread polls, its batches (one every quiet batch interval, well
                // under the heartbeat interval) keep the backup hearing from us: this thread only
                // watches for it stalling inside a slice, and looks every other interval instead of
                // every interval (each look is a wake-up on the guest's core). The longest silence
                // is then two intervals, a third of the backup's default timeout.
                if (_pollerReads && wait > 0) wait += interval;
                Monitor.Wait(_outgoing, (int)Math.Clamp(wait, 1, 2 * interval));
            }
        }
    }

    /// <summary>What was being written is out (<paramref name="more"/> frames beyond the one counted when it was taken): the next may go (the sender may be waiting for an inline write to finish).</summary>
    private void Written(int more = 0, long moreBytes = 0)
    {
        lock (_outgoing)
        {
            _writing = false;
            _unacknowledged += more;
            _unacknowledgedBytes += moreBytes;
            _lastWrite = Environment.TickCount64;
            if (_outgoing.Count > 0) Monitor.Pulse(_outgoing);
        }
    }

    /// <summary>
    /// At most this many frames, and <see cref="InlineBytesLimit"/> bytes of frames, may be out
    /// unacknowledged (whichever thread wrote them) for <see cref="Post"/> to write inline; after
    /// that frames wait for the sending thread. Acknowledged frames have left the socket's
    /// buffers, and 8 KiB fits any TCP send buffer (Linux's smallest default is 16 KiB), so an
    /// inline write never blocks the machine's thread on a backup that stopped reading (a stopped
    /// or wedged process, which only the sending thread may wait for).
    /// </summary>
    internal const int InlineFramesLimit = 8;

    /// <inheritdoc cref="InlineFramesLimit"/>
    internal const int InlineBytesLimit = 8 * 1024;

    /// <summary>This stream's id: the token the arbiter holds while this backup may succeed the primary.</summary>
    public string Id { get; } = NewId();

    /// <summary>
    /// 128 random bits (a new <see cref="Guid"/>'s) in hex. Not <c>Guid.ToString</c>: its vectorized
    /// formatter has no precompiled code the runtime uses on this CPU, so every primary JIT-compiled
    /// it (and its hex helper) at its first backup, 1.1 ms of CPU; a number's hex format is precompiled.
    /// </summary>
    private static string NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(bytes);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes).ToString("x16", CultureInfo.InvariantCulture)
            + BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]).ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>Queues a frame (never blocks the machine's thread).</summary>
    public void Enqueue(MessageType type, byte[] payload, ulong frontier)
    {
        if (_ended != 0) return;
        Volatile.Write(ref _frontier, Math.Max(Volatile.Read(ref _frontier), frontier));
        Add(new Frame(type, payload, null));
    }

    /// <summary>
    /// Sends a frame now on the calling thread when nothing is queued or being written and the
    /// backup has acknowledged all but a few frames; otherwise queues it like <see cref="Enqueue"/>.
    /// The machine's thread posts each batch this way: handing it to the sending thread cost a
    /// thread wake-up (a futex call and two context switches on a shared core) per batch, on top
    /// of the write itself. Never blocks on a backup that stopped reading (see <see cref="InlineFramesLimit"/>).
    /// </summary>
    public void Post(MessageType type, byte[] payload, ulong frontier)
    {
        if (_ended != 0) return;
        Volatile.Write(ref _frontier, Math.Max(Volatile.Read(ref _frontier), frontier));
        lock (_outgoing)
        {
            if (_addingCompleted) return;
            if (_outgoing.Count > 0 || _writing || _unacknowledged >= InlineFramesLimit
                || _unacknowledgedBytes + payload.Length > InlineBytesLimit || _sender is null)
            {
                _outgoing.Enqueue(new Frame(type, payload, null));
                if (_outgoing.Count == 1) Monitor.Pulse(_outgoing);
                return;
            }
            _writing = true;
            _unacknowledged++;
            _unacknowledgedBytes += payload.Length;
            InlineWrites++;
        }
        try
        {
            _channel.Send((byte)type, payload);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            End($"the log channel to {Peer} broke ({e.Message})");
        }
        finally
        {
            Written();
        }
    }

    /// <summary>Whether the backup has acknowledged since the last frame was written (for tests).</summary>
    internal bool AllAcknowledged
    {
        get
        {
            lock (_outgoing) return _unacknowledged == 0 && !_writing;
        }
    }

    /// <summary>Frames <see cref="Post"/> wrote on the caller's thread so far (for tests and the profile).</summary>
    public int InlineWrites { get; private set; }

    /// <summary>
    /// The end of the run, for good: queues the goodbye, after which the backup sends one last
    /// acknowledgement and resets the connection. The receiving thread stops at the next
    /// acknowledgement and leaves the channel to the process's exit: reading on into the reset
    /// cost the primary a <c>SocketException</c> at its end, and with it .NET's socket error
    /// tables, built and JIT-compiled (about 50 methods) at the first error a process maps. Data
    /// already received stays readable after a reset (Linux), so the backup loses no frame either way.
    /// </summary>
    public void SayGoodbye(ulong frontier)
    {
        _saidGoodbye = true;
        Enqueue(MessageType.Goodbye, [], frontier);
    }

    private volatile bool _saidGoodbye;

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
                var item = Take(interval, out bool completed);
                if (item is null && (completed || _stop.IsCancellationRequested)) return;
                int more = 0;
                long moreBytes = 0;
                try
                {
                    if (item is null) _channel.Send((byte)MessageType.Heartbeat, new PayloadWriter().U64(Volatile.Read(ref _frontier)).ToArray());
                    else if (item.Many is { } frames)
                    {
                        foreach (var (type, payload) in frames)
                        {
                            if (_stop.IsCancellationRequested) return;
                            _channel.Send((byte)type, payload);
                            more++;
                            moreBytes += payload.Length;
                        }
                    }
                    else
                    {
                        _channel.Send((byte)item.Type, item.Payload);
                        if (item.Type == MessageType.Goodbye) return;
                    }
                }
                finally
                {
                    Written(Math.Max(0, more - 1), moreBytes);
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            End($"the log channel to {Peer} broke ({e.Message})");
        }
    }

    /// <summary>
    /// Guards the handover of the reading between the receiving thread and the posting thread
    /// (<see cref="Poll"/>): exactly one of them reads the channel at a time, and the handover
    /// under this lock also publishes the channel's read state to the next reader.
    /// </summary>
    private readonly object _readGate = new();
    /// <summary>The posting thread reads the backup's frames (at each <see cref="Poll"/>); the receiving thread is parked. Written under <see cref="_readGate"/>.</summary>
    private volatile bool _pollerReads;
    /// <summary>The posting thread asked to read: the receiving thread hands over after its next frame. Under <see cref="_readGate"/>.</summary>
    private bool _pollerWants;
    /// <summary>The last acknowledgement is in (after the goodbye) or the stream ended: nobody reads any further.</summary>
    private volatile bool _readingOver;
    /// <summary>When the last frame from the backup arrived (<see cref="Environment.TickCount64"/>): its silence is judged from here, whichever thread read it.</summary>
    private long _lastHeard = Environment.TickCount64;

    /// <summary>Whether the posting thread has taken over the reading (for tests).</summary>
    internal bool PollerReads => _pollerReads;

    /// <summary>Frames the receiving thread read (for tests: while the guest runs, the posting thread reads them).</summary>
    internal int ReceiverFrames => Volatile.Read(ref _receiverFrames);
    private int _receiverFrames;

    /// <summary>Frames <see cref="Poll"/> read (for the profile).</summary>
    internal int PollerFrames { get; private set; }

    /// <summary>
    /// On the posting thread (the machine's, between slices): takes the acknowledgements that have
    /// arrived, without blocking, and drops a backup silent for the peer timeout. Reading them here
    /// rather than on the receiving thread saves that thread's wake-up per acknowledgement (a
    /// backup acknowledges every batch, a hundred a second; each wake-up cost 50–70 µs of CPU here,
    /// on the guest's core) for one <c>poll</c> call. The first call asks the receiving thread to
    /// hand the reading over, which it does after its next frame; <see cref="Leave"/> gives it back
    /// whenever the posting thread stops polling (to wait for the backup, while the guest idles, at
    /// the run's end), so acknowledgements are always read by one thread or the other, at once.
    /// </summary>
    public void Poll()
    {
        if (_ended != 0 || _readingOver) return;
        if (!_pollerReads)
        {
            lock (_readGate) _pollerWants = !_pollerReads;
            if (!_pollerReads) return;
        }
        try
        {
            while (true)
            {
                var arrival = _channel.TryReceive(out byte type, out byte[] payload);
                if (arrival == SecureChannel.Arrival.TooLong)
                {
                    Leave();
                    return;
                }
                if (arrival == SecureChannel.Arrival.Nothing) break;
                PollerFrames++;
                Volatile.Write(ref _lastHeard, Environment.TickCount64);
                if (!Handle(type, payload))
                {
                    _readingOver = true;
                    lock (_readGate) Monitor.PulseAll(_readGate);
                    return;
                }
            }
            if (Environment.TickCount64 - Volatile.Read(ref _lastHeard) >= (long)_options.PeerTimeout.TotalMilliseconds) End(Silent);
        }
        catch (Exception e) when (ReadFailure(e) is { } reason)
        {
            End(reason);
        }
    }

    /// <summary>The posting thread stops polling for a while (it is about to wait): the receiving thread reads again, at once.</summary>
    public void Leave()
    {
        lock (_readGate)
        {
            _pollerWants = false;
            if (!_pollerReads) return;
            _pollerReads = false;
            Monitor.PulseAll(_readGate);
        }
    }

    private string Silent => $"backup {Peer} silent for {_options.PeerTimeout.TotalMilliseconds:0} ms";

    /// <summary>The one line for a failed read, or null for an exception that is not one.</summary>
    private string? ReadFailure(Exception e) => e switch
    {
        TimeoutException => Silent,
        ReplicaException => e.Message,
        IOException or ObjectDisposedException or System.Net.Sockets.SocketException => $"backup {Peer} went away ({e.Message})",
        _ => null,
    };

    /// <summary>Acts on one frame from the backup (on whichever thread reads); false when reading ends with it.</summary>
    private bool Handle(byte type, byte[] payload)
    {
        switch ((MessageType)type)
        {
            case MessageType.Ack:
            {
                var r = new PayloadReader(payload, "ack");
                ulong received = r.U64(), replayed = r.U64();
                r.End();
                lock (_outgoing) (_unacknowledged, _unacknowledgedBytes) = (0, 0);
                _acked(this, received, replayed);
                return !_saidGoodbye;
            }
            case MessageType.HandoverAck:
            {
                var r = new PayloadReader(payload, "handover ack");
                ulong step = r.U64();
                r.End();
                _handoverAcked(this, step);
                return true;
            }
            case MessageType.Error:
            {
                var r = new PayloadReader(payload, "error");
                End($"backup {Peer} refused the log: {r.Text()}");
                return false;
            }
            default:
                End($"backup {Peer} sent an unexpected message ({type})");
                return false;
        }
    }

    private void ReceiveLoop()
    {
        try
        {
            // The backup builds its machine from the header before it can answer: give it time for the first acknowledgement.
            _channel.ReceiveTimeout = TimeSpan.FromSeconds(10);
            bool first = true, shortened = false;
            while (true)
            {
                bool tookOver = false;
                lock (_readGate)
                {
                    // Only once the backup has answered: its first answer may take the machine's build, far beyond the peer timeout.
                    if (_pollerWants && !first)
                    {
                        _pollerWants = false;
                        _pollerReads = true;
                    }
                    while (_pollerReads && !_readingOver && !_stop.IsCancellationRequested)
                    {
                        Monitor.Wait(_readGate);
                        tookOver = !_pollerReads;
                    }
                    if (_readingOver || _stop.IsCancellationRequested) return;
                }
                if (tookOver)
                {
                    // The silence the posting thread already saw counts: the backup is dropped a peer timeout after its last frame, as ever.
                    long left = Volatile.Read(ref _lastHeard) + (long)_options.PeerTimeout.TotalMilliseconds - Environment.TickCount64;
                    _channel.ReceiveTimeout = TimeSpan.FromMilliseconds(Math.Max(1, left));
                    shortened = true;
                }
                var (type, payload) = _channel.Receive();
                Volatile.Write(ref _lastHeard, Environment.TickCount64);
                Interlocked.Increment(ref _receiverFrames);
                if (first || shortened)
                {
                    first = shortened = false;
                    // A starved backup is not a dead one: only the peer timeout (far beyond the heartbeat
                    // timeout) drops it; until then its output waits, as the output rule says.
                    _channel.ReceiveTimeout = _options.PeerTimeout;
                }
                if (!Handle(type, payload))
                {
                    _readingOver = true;
                    return;
                }
            }
        }
        catch (Exception e) when (ReadFailure(e) is { } reason)
        {
            End(reason);
        }
        finally
        {
            ReceiverEnded.Set();
        }
    }

    /// <summary>Set once the receiving thread has stopped reading the backup's frames (for tests).</summary>
    internal ManualResetEventSlim ReceiverEnded { get; } = new();

    /// <summary>Ends the stream and reports the backup lost (once).</summary>
    public void End(string reason)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        _stop.Cancel();
        WakeReceiver();
        CompleteAdding();
        _channel.Dispose();
        _lost(this, reason);
    }

    /// <summary>
    /// The end of this replica's part (its run ended, or the guest migrated away): sends what is
    /// queued, up to <paramref name="wait"/>, then (unless it said goodbye) half-closes without
    /// reporting a loss, so the backup reads everything and then the end of the stream. The
    /// descriptor itself is left to the process's exit, which follows: .NET on Unix maps a socket's
    /// close result through tables built (and JIT-compiled, 28 methods) on the first close, a fixed
    /// cost of every primary's run.
    /// </summary>
    public void Close(TimeSpan wait)
    {
        CompleteAdding();
        _sender?.Join(wait);
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        _stop.Cancel();
        WakeReceiver();
        // After a goodbye the backup reads no further (nor needs the end of the stream), and may
        // already have reset the connection: a shutdown then fails, at the cost described above.
        if (!_saidGoodbye) _channel.FinishSending();
    }

    /// <summary>Closes at once without reporting a loss (a stream refused, given up, or this replica disposed); one already <see cref="Close"/>d is left as it is.</summary>
    public void Dispose()
    {
        CompleteAdding();
        if (Interlocked.Exchange(ref _ended, 1) != 0) return;
        _stop.Cancel();
        WakeReceiver();
        _channel.CloseGracefully();
    }

    /// <summary>A receiving thread parked while the posting thread reads sees that the stream stopped.</summary>
    private void WakeReceiver()
    {
        lock (_readGate) Monitor.PulseAll(_readGate);
    }
}
