using ReplayVm.Core.Input;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// <c>record --deterministic</c>: console input as <paramref name="inner"/> gives it, but wall-clock
/// reads and entropy requests answered by <see cref="NoInput"/>'s fixed sources instead of the host,
/// so that the same scripted keys record the same trace every time (and two recordings differ
/// only where their keys do).
/// </summary>
internal sealed class FixedClockAndEntropy(IInputPort inner) : IInputPort
{
    public ulong NextDeliveryAt => inner.NextDeliveryAt;

    public void Poll(ulong instret, IInputSink sink) => inner.Poll(instret, sink);

    public bool WaitForInput(ulong instret, CancellationToken wake) => inner.WaitForInput(instret, wake);

    public ulong ReadWallClock(ulong instret) => NoInput.Instance.ReadWallClock(instret);

    public void ReadEntropy(ulong instret, Span<byte> destination) => NoInput.Instance.ReadEntropy(instret, destination);
}
