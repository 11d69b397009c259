using System.Collections.Concurrent;
using ReplayVm.Core.Input;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// Host stdin as guest UART input. A background thread reads stdin into a queue; the machine takes
/// bytes at its own polls, only as many as the UART has room for. Live input cannot know its
/// future, so it never asks the machine to stop at a particular count.
/// </summary>
/// <param name="keys">Optional filter for typed keys (the Ctrl-A escape): returns the byte for the
/// guest, or null when the key was the host's.</param>
internal sealed class LiveConsoleInput(Stream input, Func<byte, byte?>? keys = null) : IInputPort
{
    private readonly ConcurrentQueue<byte> _pending = new();
    /// <summary>Released by the reader for every chunk it queues and once at the end of input: what an idle guest waits on.</summary>
    private readonly SemaphoreSlim _arrived = new(0);
    private volatile bool _ended;
    private int _started;

    public ulong NextDeliveryAt => ulong.MaxValue;

    /// <summary>The host clock: live runs are allowed to see real time; a recorder logs what it returned.</summary>
    public ulong ReadWallClock(ulong instret) => (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100UL;

    /// <summary>The host's cryptographic generator: live runs get real entropy; a recorder logs the bytes.</summary>
    public void ReadEntropy(ulong instret, Span<byte> destination) => System.Security.Cryptography.RandomNumberGenerator.Fill(destination);

    public void Poll(ulong instret, IInputSink sink)
    {
        EnsureReading();
        while (sink.ConsoleRoom > 0 && _pending.TryDequeue(out byte value))
            sink.DeliverConsoleByte(value);
    }

    /// <summary>
    /// The guest is idle: sleep until a key (or the next chunk of a pipe) arrives. At the end of
    /// stdin nothing more will come, so the guest runs on as it would without waiting (a run with
    /// --max-instructions still reaches its limit).
    /// </summary>
    public bool WaitForInput(ulong instret, CancellationToken wake)
    {
        EnsureReading();
        while (_pending.IsEmpty && !_ended)
        {
            try
            {
                _arrived.Wait(wake);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        return !_pending.IsEmpty;
    }

    // Start reading on the first poll rather than at construction, so that a run which fails
    // before the guest starts never touches the terminal.
    private void EnsureReading()
    {
        if (_started == 0 && Interlocked.Exchange(ref _started, 1) == 0) StartReader();
    }

    private void StartReader()
    {
        // A background thread: a read blocked on stdin must not keep the process alive after the guest exits.
        var thread = new Thread(ReadLoop) { IsBackground = true, Name = "stdin reader" };
        thread.Start();
    }

    private void ReadLoop()
    {
        var buffer = new byte[256];
        try
        {
            int count;
            while ((count = input.Read(buffer, 0, buffer.Length)) > 0)
            {
                for (int i = 0; i < count; i++)
                {
                    byte? key = keys is null ? buffer[i] : keys(buffer[i]);
                    if (key is { } value) _pending.Enqueue(value);
                }
                _arrived.Release();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // stdin went away: the guest simply gets no more input.
        }
        finally
        {
            _ended = true;
            _arrived.Release();
        }
    }
}
