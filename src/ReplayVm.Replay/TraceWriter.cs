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
    /// <summary>
    /// Every chunk written so far, kept in memory (the log is small: a few bytes per input event),
    /// so that <c>replayvm inspect --salvage</c> can rebuild the whole trace from a dump of this
    /// process even when the file lost chunks (kill -9 before a flush, a full disk, a deleted file).
    /// </summary>
    private readonly List<byte[]> _chunks = [];
    private ulong _chunkBase, _lastStep;
    private bool _hasPending, _ended, _disposed;

    public TraceWriter(Stream stream, TraceHeader header, TraceWriterOptions? options = null, bool ownsStream = true)
        : this(stream, header, encodedHeader: null, options, ownsStream)
    {
    }

    /// <summary>
    /// Writes <paramref name="encodedHeader"/>, which must be <see cref="TraceLogCodec.EncodeHeader"/>
    /// of <paramref name="header"/>, instead of encoding the header again: a replica keeps those bytes
    /// for the backups it streams to, and encoding twice compressed every embedded image twice at
    /// LZ4's high-compression level (for a Linux guest, megabytes of kernel and initramfs).
    /// </summary>
    public TraceWriter(Stream stream, TraceHeader header, byte[]? encodedHeader, TraceWriterOptions? options = null, bool ownsStream = true)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _options = options ?? new TraceWriterOptions();
        Header = header;
        Path = (stream as FileStream)?.Name;
        // Streamed: embedded disks go out block by block, never whole in memory.
        if (encodedHeader is null) HeaderCodec.Write(_stream, header);
        else _stream.Write(encodedHeader);
        _stream.Flush();
        if (_options.FlushInterval > TimeSpan.Zero)
            _timer = new Timer(_ => FlushIfPending(), null, _options.FlushInterval, _options.FlushInterval);
    }

    /// <summary>Creates (or replaces) <paramref name="path"/> and writes the header.</summary>
    public static TraceWriter Create(string path, TraceHeader header, TraceWriterOptions? options = null) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read), header, options);

    public TraceHeader Header { get; }

    /// <summary>The file written to, when the stream is a file (for <c>replayvm inspect</c>).</summary>
    public string? Path { get; }

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
        var chunk = ChunkCodec.Encode(_chunkBase, _pending.Written);
        _stream.Write(chunk);
        _stream.Flush();
        // Listed before the pending bytes are cleared: a dump taken in between sees the events
        // twice (in the list and in the buffer), and the event count tells which copy to use.
        _chunks.Add(chunk);
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
