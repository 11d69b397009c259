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
/// </summary>
public sealed class RewindableReplayInput : IInputPort
{
    private readonly ConsoleInputEvent[] _console;
    private readonly WallClockEvent[] _clock;
    private readonly EntropyEvent[] _entropy;
    private ReplayInputPort _inner;

    public RewindableReplayInput(IEnumerable<TraceEvent> events)
    {
        var list = events as IReadOnlyList<TraceEvent> ?? events.ToList();
        _console = list.OfType<ConsoleInputEvent>().ToArray();
        _clock = list.OfType<WallClockEvent>().ToArray();
        _entropy = list.OfType<EntropyEvent>().ToArray();
        _inner = Open(default);
    }

    /// <summary>Raised at a divergence (input the machine did not ask for as recorded).</summary>
    public event Action? Diverged;

    public string? Divergence => _inner.Divergence;

    public ulong DivergenceStep => _inner.DivergenceStep;

    public InputCursor Cursor => new(
        _console.Length - _inner.PendingConsoleEvents,
        _clock.Length - _inner.PendingClockReads,
        _entropy.Length - _inner.PendingEntropyReads);

    /// <summary>Makes the port continue as it did after consuming the inputs <paramref name="cursor"/> counts.</summary>
    public void Rewind(InputCursor cursor) => _inner = Open(cursor);

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

    public void Poll(ulong instret, IInputSink sink) => _inner.Poll(instret, sink);

    public ulong ReadWallClock(ulong instret) => _inner.ReadWallClock(instret);

    public void ReadEntropy(ulong instret, Span<byte> destination) => _inner.ReadEntropy(instret, destination);
}
