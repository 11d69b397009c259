using ReplayVm.Core.Input;

namespace ReplayVm.Replay.Input;

/// <summary>
/// Wraps a live input port and logs what it hands the guest: the console bytes delivered at each
/// poll (one event per poll, stamped with the poll's step), and every wall-clock answer and every
/// entropy request's bytes with the step at which the guest asked. It changes nothing the guest sees.
/// </summary>
public sealed class RecordingInputPort(IInputPort live, Action<TraceEvent> log) : IInputPort
{
    private readonly LoggingSink _sink = new();

    public ulong NextDeliveryAt => live.NextDeliveryAt;

    public void Poll(ulong instret, IInputSink sink)
    {
        _sink.Inner = sink;
        live.Poll(instret, _sink);
        if (_sink.Delivered.Count > 0)
        {
            log(new ConsoleInputEvent(instret, _sink.Delivered.ToArray()));
            _sink.Delivered.Clear();
        }
    }

    /// <summary>Waiting hands nothing over, so there is nothing to log: the poll that follows logs what arrived.</summary>
    public bool WaitForInput(ulong instret, CancellationToken wake) => live.WaitForInput(instret, wake);

    public ulong ReadWallClock(ulong instret)
    {
        ulong now = live.ReadWallClock(instret);
        log(new WallClockEvent(instret, now));
        return now;
    }

    public void ReadEntropy(ulong instret, Span<byte> destination)
    {
        live.ReadEntropy(instret, destination);
        if (destination.Length > 0) log(new EntropyEvent(instret, destination.ToArray()));
    }

    /// <summary>Passes deliveries through and remembers them; one instance reused for every poll.</summary>
    private sealed class LoggingSink : IInputSink
    {
        public IInputSink Inner = null!;
        public readonly List<byte> Delivered = [];

        public int ConsoleRoom => Inner.ConsoleRoom;

        public void DeliverConsoleByte(byte value)
        {
            Inner.DeliverConsoleByte(value);
            Delivered.Add(value);
        }
    }
}
