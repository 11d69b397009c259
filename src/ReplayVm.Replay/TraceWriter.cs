using ReplayVm.Replay.Format;

namespace ReplayVm.Replay;

/// <summary>Tuning for <see cref="TraceWriter"/>.</summary>
public sealed record TraceWriterOptions
{
    /// <summary>Pending events are written out at least this often (host time), so a killed recorder loses at most this much.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A chunk is closed once its encoded events reach this many bytes.</summary>
    public int ChunkTarget { get; init; } = 64 * 1024;
}

/// <summary>
/// Writes a <c>.rvtrace</c> (docs/trace-format.md): the header at once, then events in step order,
/// grouped into independently decodable, checksummed LZ4 chunks. A chunk is written when it is
/// full, when a timer finds events older than <see cref="TraceWriterOptions.FlushInterval"/>, on
/// <see cref="Flush"/> and on <see cref="Dispose"/>; each write is flushed to the operating system,
/// so a recorder killed at any moment leaves a file that reads up to its last complete chunk.
/// Thread-safe: the timer flushes from its own thread.
/// </summary>
public sealed class TraceWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly TraceWriterOptions _options;
    private readonly ByteWriter _pending = new(64 * 1024);
    private readonly Timer? _timer;
    private readonly Lock _lock = new();
    private ulong _chunkBase, _lastStep;
    private bool _hasPending, _ended, _disposed;

    public TraceWriter(Stream stream, TraceHeader header, TraceWriterOptions? options = null, bool ownsStream = true)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _options = options ?? new TraceWriterOptions();
        Header = header;
        // Streamed: embedded disks go out block by block, never whole in memory.
        HeaderCodec.Write(_stream, header);
        _stream.Flush();
        if (_options.FlushInterval > TimeSpan.Zero)
            _timer = new Timer(_ => FlushIfPending(), null, _options.FlushInterval, _options.FlushInterval);
    }

    /// <summary>Creates (or replaces) <paramref name="path"/> and writes the header.</summary>
    public static TraceWriter Create(string path, TraceHeader header, TraceWriterOptions? options = null) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read), header, options);

    public TraceHeader Header { get; }

    /// <summary>Chunks written so far.</summary>
    public int ChunkCount { get; private set; }

    /// <summary>Events accepted so far.</summary>
    public long EventCount { get; private set; }

    /// <summary>
    /// Adds an event. Steps must not go backwards; nothing may follow an <see cref="EndEvent"/>,
    /// which is written out at once.
    /// </summary>
    public void Append(TraceEvent e)
    {
        EventCodec.Validate(e);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_ended) throw new InvalidOperationException("the trace already has its end record");
            if (e.Step < _lastStep) throw new ArgumentException($"event at step {e.Step} comes after one at step {_lastStep}", nameof(e));
            if (!_hasPending)
            {
                _chunkBase = e.Step;
                _lastStep = e.Step;
                _hasPending = true;
            }
            EventCodec.Encode(_pending, _lastStep, e);
            _lastStep = e.Step;
            EventCount++;
            if (e is EndEvent)
            {
                _ended = true;
                WriteChunk();
            }
            else if (_pending.Length >= _options.ChunkTarget) WriteChunk();
        }
    }

    /// <summary>Writes pending events as a chunk and flushes the stream.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            if (!_disposed) WriteChunk();
        }
    }

    private void FlushIfPending()
    {
        try
        {
            Flush();
        }
        catch (IOException)
        {
            // A failing disk surfaces on the recording thread's next Append/Flush/Dispose.
        }
    }

    private void WriteChunk()
    {
        if (!_hasPending) return;
        _stream.Write(ChunkCodec.Encode(_chunkBase, _pending.Written));
        _stream.Flush();
        _pending.Clear();
        _hasPending = false;
        ChunkCount++;
    }

    public void Dispose()
    {
        _timer?.Dispose();
        lock (_lock)
        {
            if (_disposed) return;
            try
            {
                WriteChunk();
            }
            finally
            {
                _disposed = true;
                if (_ownsStream) _stream.Dispose();
            }
        }
    }
}
