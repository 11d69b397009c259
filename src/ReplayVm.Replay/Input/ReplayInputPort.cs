using ReplayVm.Core.Input;

namespace ReplayVm.Replay.Input;

/// <summary>
/// Feeds a recorded run's inputs back: console bytes are delivered exactly at their logged step
/// (<see cref="NextDeliveryAt"/> makes the machine stop there), and wall-clock reads and entropy
/// requests are answered from the log. Any mismatch — input due at a step the machine did not stop
/// at, no room for it, a clock read or entropy request at a step the recording did not have, or
/// entropy asked for in another length — is a divergence: the first is kept in
/// <see cref="Divergence"/> and <see cref="Diverged"/> is raised so the replayer can stop.
/// </summary>
public sealed class ReplayInputPort : IInputPort
{
    private readonly ConsoleInputEvent[] _console;
    private readonly WallClockEvent[] _clock;
    private readonly EntropyEvent[] _entropy;
    private int _nextConsole, _nextClock, _nextEntropy;

    public ReplayInputPort(IEnumerable<TraceEvent> events)
    {
        var list = events as IReadOnlyList<TraceEvent> ?? events.ToList();
        _console = list.OfType<ConsoleInputEvent>().ToArray();
        _clock = list.OfType<WallClockEvent>().ToArray();
        _entropy = list.OfType<EntropyEvent>().ToArray();
    }

    /// <summary>The first mismatch seen, or null while the replay follows the recording.</summary>
    public string? Divergence { get; private set; }

    /// <summary>Step of <see cref="Divergence"/>.</summary>
    public ulong DivergenceStep { get; private set; }

    /// <summary>Raised once, at the first divergence (from the machine's thread, possibly mid-instruction).</summary>
    public event Action? Diverged;

    public ulong NextDeliveryAt => Divergence is null && _nextConsole < _console.Length ? _console[_nextConsole].Step : ulong.MaxValue;

    /// <summary>Console events not yet delivered and clock answers not yet asked for.</summary>
    public int PendingConsoleEvents => _console.Length - _nextConsole;
    public int PendingClockReads => _clock.Length - _nextClock;
    public int PendingEntropyReads => _entropy.Length - _nextEntropy;

    /// <summary>
    /// Sets the port to deliver from the <paramref name="console"/>-th, <paramref name="clock"/>-th
    /// and <paramref name="entropy"/>-th input of each kind on, as if a replay had consumed those
    /// before: a replay resumed from a checkpoint, ahead of or behind where it was
    /// (<see cref="Replayer.StartFrom"/>). The recorded inputs never change, so moving back only
    /// delivers them again; not after a divergence, which the port keeps.
    /// </summary>
    internal void MoveTo(int console, int clock, int entropy)
    {
        if (Divergence is not null) throw new InvalidOperationException("the port has diverged");
        if ((uint)console > (uint)_console.Length || (uint)clock > (uint)_clock.Length || (uint)entropy > (uint)_entropy.Length)
            throw new ArgumentOutOfRangeException(nameof(console), "the cursor lies beyond the recorded input");
        (_nextConsole, _nextClock, _nextEntropy) = (console, clock, entropy);
    }

    /// <summary>The step of the next undelivered input of either kind, or null.</summary>
    public ulong? NextPendingStep
    {
        get
        {
            ulong next = Math.Min(Math.Min(
                _nextConsole < _console.Length ? _console[_nextConsole].Step : ulong.MaxValue,
                _nextClock < _clock.Length ? _clock[_nextClock].Step : ulong.MaxValue),
                _nextEntropy < _entropy.Length ? _entropy[_nextEntropy].Step : ulong.MaxValue);
            return next == ulong.MaxValue ? null : next;
        }
    }

    public void Poll(ulong instret, IInputSink sink)
    {
        while (Divergence is null && _nextConsole < _console.Length && _console[_nextConsole].Step <= instret)
        {
            var e = _console[_nextConsole];
            if (e.Step < instret)
            {
                Diverge(instret, $"console input recorded at step {e.Step} could not be delivered until step {instret}");
                return;
            }
            if (sink.ConsoleRoom < e.Bytes.Length)
            {
                Diverge(instret, $"UART has room for {sink.ConsoleRoom} bytes at step {instret}; the recording delivered {e.Bytes.Length}");
                return;
            }
            foreach (byte b in e.Bytes) sink.DeliverConsoleByte(b);
            _nextConsole++;
        }
    }

    public ulong ReadWallClock(ulong instret)
    {
        if (Divergence is null)
        {
            if (_nextClock < _clock.Length && _clock[_nextClock].Step == instret) return _clock[_nextClock++].Nanoseconds;
            Diverge(instret, _nextClock < _clock.Length
                ? $"guest read the wall clock at step {instret}; the recording's next read was at step {_clock[_nextClock].Step}"
                : $"guest read the wall clock at step {instret}; the recording has no more reads");
        }
        return NoInput.Instance.ReadWallClock(instret);
    }

    /// <summary>
    /// Hands back the next recorded entropy when it was asked for at this step and in this length;
    /// otherwise flags a divergence and answers with <see cref="NoInput"/>'s pattern, so the
    /// machine can finish its instruction before the replayer stops it.
    /// </summary>
    public void ReadEntropy(ulong instret, Span<byte> destination)
    {
        if (Divergence is null)
        {
            if (_nextEntropy < _entropy.Length && _entropy[_nextEntropy].Step == instret && _entropy[_nextEntropy].Bytes.Length == destination.Length)
            {
                _entropy[_nextEntropy++].Bytes.CopyTo(destination);
                return;
            }
            Diverge(instret, _nextEntropy >= _entropy.Length
                ? $"guest asked for {destination.Length} bytes of entropy at step {instret}; the recording has no more entropy"
                : _entropy[_nextEntropy].Step != instret
                    ? $"guest asked for entropy at step {instret}; the recording's next request was at step {_entropy[_nextEntropy].Step}"
                    : $"guest asked for {destination.Length} bytes of entropy at step {instret}; the recording handed over {_entropy[_nextEntropy].Bytes.Length}");
        }
        NoInput.Instance.ReadEntropy(instret, destination);
    }

    /// <summary>Flags a divergence found outside the port (the replayer's end-of-run checks).</summary>
    public void Diverge(ulong step, string message)
    {
        if (Divergence is not null) return;
        Divergence = message;
        DivergenceStep = step;
        Diverged?.Invoke();
    }
}
