namespace ReplayVm.Core.Input;

/// <summary>
/// The one door through which host input reaches the guest. The machine polls it only at
/// instruction boundaries it chooses, passing the retired-instruction count, so the same
/// schedule of deliveries reproduces the same run. A recorder wraps a live port and logs what it
/// hands over; a replayer delivers logged events at their logged counts.
/// </summary>
public interface IInputPort
{
    /// <summary>
    /// The next instruction count at which this port already knows it has something to deliver
    /// (a replayed event), or <see cref="ulong.MaxValue"/>. The machine ends its current slice
    /// there so that the event lands at exactly that count.
    /// </summary>
    ulong NextDeliveryAt { get; }

    /// <summary>Hand pending input to the guest's devices, at instruction count <paramref name="instret"/>.</summary>
    void Poll(ulong instret, IInputSink sink);

    /// <summary>
    /// The host's wall-clock time in nanoseconds since the Unix epoch, as a device (the Goldfish RTC)
    /// reads it at step <paramref name="instret"/>. A nondeterministic input: live ports read the
    /// host clock, recorders log the answer, replayers return the logged one.
    /// </summary>
    ulong ReadWallClock(ulong instret);
}

/// <summary>What the machine offers an input port at a poll.</summary>
public interface IInputSink
{
    /// <summary>Room left in the UART receive FIFO.</summary>
    int ConsoleRoom { get; }

    void DeliverConsoleByte(byte value);
}

/// <summary>An input port with nothing to say: for batch runs and tests.</summary>
public sealed class NoInput : IInputPort
{
    public static readonly NoInput Instance = new();
    public ulong NextDeliveryAt => ulong.MaxValue;
    public void Poll(ulong instret, IInputSink sink) { }

    /// <summary>A fixed instant (2026-01-01T00:00:00Z), so runs without a host clock stay reproducible.</summary>
    public ulong ReadWallClock(ulong instret) => 1_767_225_600UL * 1_000_000_000UL;
}
