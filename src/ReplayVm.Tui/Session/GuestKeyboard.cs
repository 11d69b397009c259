using System.Collections.Concurrent;
using ReplayVm.Core.Input;

namespace ReplayVm.Tui.Session;

/// <summary>
/// The live input of <c>replayvm debug GUEST</c>: keys typed into the console pane while the guest
/// runs, queued by the UI thread and handed to the UART at the machine's polls as it has room (the
/// live timeline logs each delivery with its step). The wall clock and entropy are the host's, as
/// in <c>record</c>: this is the nondeterministic side that the recording pins down.
/// </summary>
public sealed class GuestKeyboard : IInputPort
{
    private readonly ConcurrentQueue<byte> _pending = new();
    /// <summary>Released for every batch of keys typed: what an idle guest waits on.</summary>
    private readonly SemaphoreSlim _typed = new(0);

    /// <summary>Queues keys for the guest; safe from any thread.</summary>
    public void Type(ReadOnlySpan<byte> keys)
    {
        foreach (byte b in keys) _pending.Enqueue(b);
        if (keys.Length > 0) _typed.Release();
    }

    /// <summary>The guest is idle: sleep until a key is typed or the run is stopped (pause, quit).</summary>
    public bool WaitForInput(ulong instret, CancellationToken wake)
    {
        while (_pending.IsEmpty)
        {
            try
            {
                _typed.Wait(wake);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Keys typed but not yet taken by the guest.</summary>
    public int Pending => _pending.Count;

    public ulong NextDeliveryAt => ulong.MaxValue;

    public void Poll(ulong instret, IInputSink sink)
    {
        while (sink.ConsoleRoom > 0 && _pending.TryDequeue(out byte value)) sink.DeliverConsoleByte(value);
    }

    public ulong ReadWallClock(ulong instret) => (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100UL;

    public void ReadEntropy(ulong instret, Span<byte> destination) => System.Security.Cryptography.RandomNumberGenerator.Fill(destination);
}
