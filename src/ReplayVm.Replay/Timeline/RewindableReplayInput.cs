using ReplayVm.Core.Input;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Timeline;

/// <summary>How many recorded inputs of each kind a replay has consumed: the input port's part of a checkpoint.</summary>
public readonly record struct InputCursor(int Console, int Clock, int Entropy);

/// <summary>
/// A <see cref="ReplayInputPort"/> that can be moved back: the machine keeps this one object, and
/// rewinding swaps the port behind it for a fresh one over the events not yet consumed at the
/// cursor. Wrapping rather than changing <see cref="ReplayInputPort"/> keeps the replayer's
/// checked, forward-only port as it is.
///
/// A live timeline (recording while debugging) also gives it a live port: once the machine stands
/// at the recording's frontier, <see cref="Live"/> is set and input comes from the live port, each
/// piece logged through <see cref="Append"/> so that a later rewind replays it like any other.
/// </summary>
public sealed class RewindableReplayInput : IInputPort
{
    private readonly List<ConsoleInputEvent> _console;
    private readonly List<WallClockEvent> _clock;
    private readonly List<EntropyEvent> _entropy;
    private readonly IInputPort? _live;
    private ReplayInputPort _inner;

    public RewindableReplayInput(IEnumerable<TraceEvent> events) : this(events, null) { }

    /// <param name="live">The port to read once <see cref="Live"/>; it must log what it hands over
    /// through <see cref="Append"/> (a <see cref="RecordingInputPort"/>), or a rewind loses it.</param>
    public RewindableReplayInput(IEnumerable<TraceEvent> events, IInputPort? live)
    {
        var list = events as IReadOnlyList<TraceEvent> ?? events.ToList();
        _console = list.OfType<ConsoleInputEvent>().ToList();
        _clock = list.OfType<WallClockEvent>().ToList();
        _entropy = list.OfType<EntropyEvent>().ToList();
        _live = live;
        _inner = Open(default);
    }

    /// <summary>Raised at a divergence (input the machine did not ask for as recorded).</summary>
    public event Action? Diverged;

    public string? Divergence => _inner.Divergence;

    public ulong DivergenceStep => _inner.DivergenceStep;

    /// <summary>
    /// Whether new input comes from the live port. Only at the frontier, where every logged input
    /// has been consumed; <see cref="Rewind"/> clears it. Logged input still due (a console byte
    /// logged at the frontier step itself) is delivered before anything live.
    /// </summary>
    public bool Live
    {
        get => _isLive;
        set => _isLive = value && _live is not null;
    }

    private bool _isLive;

    public InputCursor Cursor => new(
        _console.Count - _inner.PendingConsoleEvents,
        _clock.Count - _inner.PendingClockReads,
        _entropy.Count - _inner.PendingEntropyReads);

    /// <summary>Makes the port continue as it did after consuming the inputs <paramref name="cursor"/> counts.</summary>
    public void Rewind(InputCursor cursor)
    {
        Live = false;
        _inner = Open(cursor);
    }

    /// <summary>Logs an input the live port handed over, so rewinds replay it (events arrive in step order).</summary>
    public void Append(TraceEvent e)
    {
        switch (e)
        {
            case ConsoleInputEvent c: _console.Add(c); break;
            case WallClockEvent w: _clock.Add(w); break;
            case EntropyEvent n: _entropy.Add(n); break;
        }
    }

    private ReplayInputPort Open(InputCursor cursor)
    {
        var port = new ReplayInputPort(
            _console.Skip(cursor.Console).Cast<TraceEvent>()
                .Concat(_clock.Skip(cursor.Clock))
                .Concat(_entropy.Skip(cursor.Entropy)));
        port.Diverged += () => Diverged?.Invoke();
        return port;
    }

    public ulong NextDeliveryAt => _inner.NextDeliveryAt;

    public void Poll(ulong instret, IInputSink sink)
    {
        _inner.Poll(instret, sink);
        if (Live && _inner.PendingConsoleEvents == 0) _live!.Poll(instret, sink);
    }

    /// <summary>Only at the frontier is there anything to wait for: behind it, the log says what comes.</summary>
    public bool WaitForInput(ulong instret, CancellationToken wake) =>
        Live && _inner.PendingConsoleEvents == 0 && _live!.WaitForInput(instret, wake);

    public ulong ReadWallClock(ulong instret) =>
        Live && _inner.PendingClockReads == 0 ? _live!.ReadWallClock(instret) : _inner.ReadWallClock(instret);

    public void ReadEntropy(ulong instret, Span<byte> destination)
    {
        if (Live && _inner.PendingEntropyReads == 0) _live!.ReadEntropy(instret, destination);
        else _inner.ReadEntropy(instret, destination);
    }
}
