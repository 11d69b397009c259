namespace ReplayVm.Cli.Hosting;

/// <summary>
/// Carries the guest's console bytes to our stdout. The machine hands over one byte at a time, so
/// bytes are buffered; a thread of the pump's own flushes them every few milliseconds, so a prompt
/// without a newline still appears promptly. Stdout carries nothing but guest output.
/// </summary>
/// <remarks>
/// A thread rather than a <see cref="Timer"/>: a timer's ticks start the runtime's timer thread and
/// the thread pool (four threads in `run hello.elf`, which uses the pool for nothing else), ~3 ms of
/// a short run's CPU.
/// </remarks>
internal sealed class ConsoleOutputPump : IDisposable
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>How long output may stall after the run was told to stop before it is dropped.</summary>
    private static readonly TimeSpan StoppingGrace = TimeSpan.FromSeconds(1);

    private readonly Stream _output;
    private readonly CancellationToken _stopping;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private readonly Lock _lock = new();
    /// <summary>Set when the pump is disposed: the flushing thread stops waiting and ends. Never
    /// disposed itself, as that thread may still be waiting on it (or writing) when the pump is.</summary>
    private readonly ManualResetEvent _disposed = new(false);
    private int _count;
    private bool _broken;

    /// <param name="output">Usually stdout (a <see cref="FileDescriptorStream"/>, where a closed pipe
    /// shows up as an <see cref="IOException"/>).</param>
    /// <param name="stopping">Cancelled when the host stops the run (a signal): from then on, output
    /// that nobody takes within a second is dropped, so that a full pipe cannot keep the process alive.</param>
    public ConsoleOutputPump(Stream output, CancellationToken stopping = default)
    {
        _output = output;
        _stopping = stopping;
        FlushingThread = new Thread(FlushEveryInterval) { IsBackground = true, Name = "console flush" };
        FlushingThread.Start();
    }

    /// <summary>The thread that flushes every <see cref="FlushInterval"/>; it ends once the pump is disposed.</summary>
    internal Thread FlushingThread { get; }

    private void FlushEveryInterval()
    {
        while (!_disposed.WaitOne(FlushInterval)) FlushIfIdle();
    }

    /// <summary>The machine's console callback; runs on the machine's thread.</summary>
    public void Write(byte value)
    {
        lock (_lock)
        {
            if (_broken) return;
            _buffer[_count++] = value;
            if (_count == _buffer.Length) FlushLocked();
        }
    }

    public void Flush()
    {
        lock (_lock) FlushLocked();
    }

    /// <summary>The periodic flush: skipped while another flush holds the buffer. When nobody reads our
    /// stdout that flush blocks in write(2), and the next flush must not queue up behind it (with a
    /// timer, each tick would hold a thread-pool thread: ~100 threads in a minute).</summary>
    private void FlushIfIdle()
    {
        if (!_lock.TryEnter()) return;
        try
        {
            FlushLocked();
        }
        finally
        {
            _lock.Exit();
        }
    }

    private void FlushLocked()
    {
        if (_count == 0 || _broken) return;
        try
        {
            if (_output is FileDescriptorStream descriptor && _stopping.CanBeCanceled)
                descriptor.Write(_buffer.AsSpan(0, _count), _stopping, StoppingGrace);
            else
                _output.Write(_buffer, 0, _count);
            _output.Flush();
        }
        catch (IOException)
        {
            // The flushing thread must never throw: an unhandled exception there would kill the
            // process with a stack trace. Output nobody can read is dropped from here on.
            _broken = true;
        }
        _count = 0;
    }

    public void Dispose()
    {
        // Not waiting for the thread: it may be blocked writing to a stdout nobody reads.
        _disposed.Set();
        Flush();
    }
}
