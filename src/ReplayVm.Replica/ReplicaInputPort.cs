using ReplayVm.Core.Input;
using ReplayVm.Replay;

namespace ReplayVm.Replica;

/// <summary>
/// The input port of a replica's machine, in two modes. Following (a backup), it hands the guest
/// the primary's logged inputs at their logged steps, from a log that grows while the machine runs
/// (the replica never runs past what the log covers, so a logged input is always there when due);
/// any mismatch is a divergence. Live (a primary, or a backup that took over), it first hands over
/// whatever the log still holds for the current step, then takes console bytes from the clients'
/// queue and the clock and entropy from the host, and logs each answer as a trace event, naming
/// which client each consumed console byte came from.
/// </summary>
internal sealed class ReplicaInputPort(Action<TraceEvent> log, bool deterministic) : IInputPort
{
    private readonly Lock _lock = new();
    private readonly Queue<ConsoleInputEvent> _console = new();
    private readonly Queue<WallClockEvent> _clock = new();
    private readonly Queue<EntropyEvent> _entropy = new();
    private readonly ClientInputQueue _clients = new();
    private readonly List<byte> _delivered = [];
    private ulong _nextConsoleStep = ulong.MaxValue;
    private bool _live;

    /// <summary>The first mismatch between the log and the replay, or null.</summary>
    public string? Divergence { get; private set; }

    public event Action? Diverged;

    /// <summary>Where live console input waits and which client's bytes the guest consumed.</summary>
    public ClientInputQueue Clients => _clients;

    /// <summary>Adds logged inputs (from the receiving thread) in step order.</summary>
    public void Append(TraceEvent e)
    {
        lock (_lock)
        {
            switch (e)
            {
                case ConsoleInputEvent c:
                    _console.Enqueue(c);
                    if (_console.Count == 1) _nextConsoleStep = c.Step;
                    break;
                case WallClockEvent t: _clock.Enqueue(t); break;
                case EntropyEvent r: _entropy.Enqueue(r); break;
            }
        }
    }

    /// <summary>From now on, input comes live (after what the log still holds for this step).</summary>
    public void GoLive() => _live = true;

    public bool IsLive => _live;

    /// <summary>Logged inputs not used yet (the log's tail beyond the takeover step would be a bug; checked at takeover).</summary>
    public int PendingLogged
    {
        get
        {
            lock (_lock) return _console.Count + _clock.Count + _entropy.Count;
        }
    }

    public ulong NextDeliveryAt => Divergence is null ? Volatile.Read(ref _nextConsoleStep) : ulong.MaxValue;

    public void Poll(ulong instret, IInputSink sink)
    {
        // The machine polls every few thousand steps: a live port with no logged input due and
        // no client input queued (the usual case) answers without a lock or a call into the sink.
        if (_live && Volatile.Read(ref _nextConsoleStep) > instret && !_clients.MayHaveInput && Divergence is null) return;
        lock (_lock)
        {
            while (Divergence is null && _console.Count > 0 && _console.Peek().Step <= instret)
            {
                var e = _console.Peek();
                if (e.Step < instret)
                {
                    Diverge($"console input logged at step {e.Step} could not be delivered until step {instret}");
                    return;
                }
                if (sink.ConsoleRoom < e.Bytes.Length)
                {
                    Diverge($"the UART has room for {sink.ConsoleRoom} bytes at step {instret}; the log delivered {e.Bytes.Length}");
                    return;
                }
                foreach (byte b in e.Bytes) sink.DeliverConsoleByte(b);
                _console.Dequeue();
                _nextConsoleStep = _console.Count > 0 ? _console.Peek().Step : ulong.MaxValue;
                if (_live) return; // a logged delivery at this step already took the poll's place
            }
        }
        if (!_live || Divergence is not null) return;
        _delivered.Clear();
        while (sink.ConsoleRoom > 0 && _clients.TryTake(out byte value))
        {
            sink.DeliverConsoleByte(value);
            _delivered.Add(value);
        }
        if (_delivered.Count > 0) log(new ConsoleInputEvent(instret, _delivered.ToArray()));
    }

    public ulong ReadWallClock(ulong instret)
    {
        lock (_lock)
        {
            if (_clock.Count > 0 && _clock.Peek().Step == instret) return _clock.Dequeue().Nanoseconds;
            if (!_live)
            {
                Diverge(_clock.Count > 0
                    ? $"the guest read the wall clock at step {instret}; the log's next read is at step {_clock.Peek().Step}"
                    : $"the guest read the wall clock at step {instret}; the log has no read there");
                return NoInput.Instance.ReadWallClock(instret);
            }
        }
        ulong now = deterministic ? NoInput.Instance.ReadWallClock(instret) : (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100UL;
        log(new WallClockEvent(instret, now));
        return now;
    }

    public void ReadEntropy(ulong instret, Span<byte> destination)
    {
        lock (_lock)
        {
            if (_entropy.Count > 0 && _entropy.Peek().Step == instret && _entropy.Peek().Bytes.Length == destination.Length)
            {
                _entropy.Dequeue().Bytes.CopyTo(destination);
                return;
            }
            if (!_live)
            {
                Diverge($"the guest asked for {destination.Length} bytes of entropy at step {instret}; the log has none there");
                NoInput.Instance.ReadEntropy(instret, destination);
                return;
            }
        }
        if (deterministic) NoInput.Instance.ReadEntropy(instret, destination);
        else System.Security.Cryptography.RandomNumberGenerator.Fill(destination);
        if (destination.Length > 0) log(new EntropyEvent(instret, destination.ToArray()));
    }

    /// <summary>
    /// Called on the machine's thread just before a live idle wait: the node publishes the log
    /// through here, so the backup may replay to the idle step and the output rule can release
    /// what the guest printed before it went idle (the prompt the user is looking at).
    /// </summary>
    public Action? BeforeIdle { get; set; }

    /// <summary>
    /// Whether a live guest's WFI with nothing pending waits for a client's input (as a recording
    /// waits for stdin) or acts as a no-op so the guest runs on (<see cref="ReplicaOptions.IdleSpin"/>).
    /// </summary>
    public bool IdleSpin { get; set; }

    /// <summary>
    /// A live replica's guest is idle (see <see cref="IInputPort.WaitForInput"/>): sleep until a
    /// client's byte arrives, or the machine is woken (a stop, a join, a migration's handover, a
    /// divergence all call <see cref="Core.Machine.RequestStop"/>). Following, the port never waits:
    /// the logged inputs decide when the guest goes on, as in any replay. The heartbeats and acks
    /// run on the log stream's own threads, so the backup keeps hearing from an idle primary.
    /// </summary>
    public bool WaitForInput(ulong instret, CancellationToken wake)
    {
        if (!_live || IdleSpin || Divergence is not null) return false;
        lock (_lock)
        {
            if (_console.Count > 0) return false;
        }
        BeforeIdle?.Invoke();
        _waiting = true;
        try
        {
            return _clients.WaitForInput(wake);
        }
        finally
        {
            _waiting = false;
        }
    }

    /// <summary>Whether the live guest is idle, waiting for a client's input (for tests, read from another thread: hence volatile).</summary>
    internal bool Waiting => _waiting;
    private volatile bool _waiting;

    /// <summary>Flags a divergence found outside the port (a state hash that differs).</summary>
    public void Diverge(string message)
    {
        if (Divergence is not null) return;
        Divergence = message;
        Diverged?.Invoke();
    }
}
