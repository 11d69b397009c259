namespace ReplayVm.Replica;

/// <summary>
/// The guest's console output stream, with how much of it may be shown and the most recent part
/// of it kept for clients. The output rule lives here: bytes printed up to step S are held until
/// the backup has acknowledged the log through S (<see cref="Hold"/> then
/// <see cref="ReleaseThrough"/>); an unprotected replica releases at once. Clients read from an
/// offset, so after a failover each asks the new live replica for exactly the bytes it has not
/// shown yet.
/// <para>
/// Memory is bounded by <see cref="Capacity"/>, never by what the guest prints: the bytes live in
/// fixed-size chunks in a ring of slots, and the chunk a new byte needs takes the slot of the
/// oldest one, whose bytes are then gone (<see cref="Oldest"/> moves on). A client asking for a
/// dropped offset gets <c>null</c> from <see cref="Read"/> and is told so; the trace holds every
/// byte's cause, so a replay shows them all. The live replica keeps unreleased output well inside
/// the ring (<see cref="Unreleased"/> bounds its wait for the backup), so a client that keeps up
/// never loses a byte.
/// </para>
/// </summary>
internal sealed class ConsoleHistory
{
    /// <summary>What a replica keeps by default: 64 MiB (a second of a very chatty guest, hours of a normal one).</summary>
    public const long DefaultCapacity = 64L << 20;

    /// <summary>The most a replica may be told to keep.</summary>
    public const long MaxCapacity = 1L << 30;

    /// <summary>The largest chunk; a ring is at least 16 chunks, so a drop loses at most a sixteenth of it at once.</summary>
    public const int MaxChunkSize = 1 << 20;

    private const int MinChunkSize = 64;

    private readonly object _lock = new();
    /// <summary>Output held for the backup: the bytes printed by each published frontier. Objects, not value tuples: a queue of a value type is JIT-compiled in every process.</summary>
    private readonly Queue<HeldOutput> _held = new();

    private sealed class HeldOutput(ulong frontier, long produced)
    {
        public ulong Frontier { get; } = frontier;
        public long Produced { get; } = produced;
    }
    private readonly byte[]?[] _slots;
    private readonly int _chunkShift;
    private readonly int _chunkSize;
    /// <summary>The chunk the next byte goes into and how much of it is filled: the appending thread's alone.</summary>
    private byte[] _current = [];
    private int _fill;
    private long _produced, _released, _lastHeld, _oldest;
    private (int Status, string Description)? _end;

    /// <param name="capacity">Bytes kept at least (the most recent ones); memory stays within it plus one chunk.</param>
    public ConsoleHistory(long capacity = DefaultCapacity)
    {
        if (capacity < MinChunkSize || capacity > MaxCapacity)
            throw new ArgumentOutOfRangeException(nameof(capacity), $"a console history of {capacity} bytes (from {MinChunkSize} to {MaxCapacity})");
        int chunk = MinChunkSize;
        while (chunk < MaxChunkSize && chunk * 16L < capacity) chunk <<= 1;
        _chunkSize = chunk;
        _chunkShift = System.Numerics.BitOperations.Log2((uint)chunk);
        // Enough whole chunks behind the one being filled to hold `capacity` bytes.
        _slots = new byte[]?[(int)((capacity + chunk - 1) / chunk) + 1];
        Capacity = capacity;
    }

    /// <summary>Bytes kept at least: the most recent ones.</summary>
    public long Capacity { get; }

    /// <summary>Bytes the guest has printed.</summary>
    public long Produced => Volatile.Read(ref _produced);

    /// <summary>Bytes clients may see.</summary>
    public long Released
    {
        get
        {
            lock (_lock) return _released;
        }
    }

    /// <summary>Bytes printed but not yet released (held by the output rule).</summary>
    public long Unreleased
    {
        get
        {
            lock (_lock) return Volatile.Read(ref _produced) - _released;
        }
    }

    /// <summary>The offset of the oldest byte still held: bytes before it have been dropped.</summary>
    public long Oldest
    {
        get
        {
            lock (_lock) return _oldest;
        }
    }

    /// <summary>How the run ended, once it has and every byte is released.</summary>
    public (int Status, string Description)? End
    {
        get
        {
            lock (_lock) return _released == Volatile.Read(ref _produced) ? _end : null;
        }
    }

    /// <summary>
    /// One byte from the guest. Only one thread appends (the machine's), and it takes the lock only
    /// to move to the next chunk (readers copy under the lock): a console-heavy guest prints
    /// millions of bytes, each through here. The byte is stored before the count that shows it is
    /// published, and a chunk is only recycled under the lock, once readers can no longer ask for
    /// its bytes, so a reader that reads the count and then the chunks sees every counted byte.
    /// </summary>
    public void Append(byte value)
    {
        var chunk = _current;
        int fill = _fill;
        if (fill == chunk.Length)
        {
            chunk = NextChunk();
            fill = 0;
        }
        chunk[fill] = value;
        _fill = fill + 1;
        Volatile.Write(ref _produced, _produced + 1);
    }

    /// <summary>Appends several bytes (a joining backup's history, tests).</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes) Append(b);
    }

    /// <summary>Moves to the chunk for the byte at <see cref="Produced"/>, recycling the oldest chunk's slot once the ring is full.</summary>
    private byte[] NextChunk()
    {
        lock (_lock)
        {
            long block = _produced >> _chunkShift;
            int slot = (int)(block % _slots.Length);
            var chunk = _slots[slot] ??= new byte[_chunkSize];
            // The slot held block - slots (if any): from now on the oldest kept is the block after it.
            long firstKept = (block - _slots.Length + 1) << _chunkShift;
            if (firstKept > _oldest) _oldest = firstKept;
            _current = chunk;
            return chunk;
        }
    }

    /// <summary>The bytes still held and the offset of the first (a joining backup's console history).</summary>
    public (long Start, byte[] Bytes) CopyRetained()
    {
        lock (_lock)
        {
            long start = _oldest, end = Volatile.Read(ref _produced);
            var copy = new byte[end - start];
            CopyOut(start, copy);
            return (start, copy);
        }
    }

    /// <summary>
    /// A joining backup starts from the primary's history: the guest's console stream begins, for
    /// this replica, at <paramref name="start"/> (what was printed before is not held). Call on an
    /// empty history, before the guest runs, then <see cref="Append(ReadOnlySpan{byte})"/> what followed.
    /// </summary>
    public void StartAt(long start)
    {
        lock (_lock)
        {
            if (_produced != 0) throw new InvalidOperationException("the console history is not empty");
            if (start < 0) throw new ArgumentOutOfRangeException(nameof(start));
            _released = _lastHeld = _oldest = start;
            Volatile.Write(ref _produced, start);
            // The chunk holding `start`, filled up to it, so later bytes land at their own offsets.
            _current = NextChunk();
            _fill = (int)(start & (_chunkSize - 1));
        }
    }

    /// <summary>What has been printed up to now was printed by step <paramref name="frontier"/>: hold it until the log through there is acknowledged.</summary>
    public void Hold(ulong frontier)
    {
        lock (_lock)
        {
            long produced = Volatile.Read(ref _produced);
            if (produced <= Math.Max(_released, _lastHeld)) return;
            _lastHeld = produced;
            _held.Enqueue(new HeldOutput(frontier, produced));
        }
    }

    /// <summary>The backup has the log through <paramref name="frontier"/>: release what was printed by then.</summary>
    public void ReleaseThrough(ulong frontier)
    {
        lock (_lock)
        {
            while (_held.Count > 0 && _held.Peek().Frontier <= frontier) _released = Math.Max(_released, _held.Dequeue().Produced);
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>No backup to wait for: everything printed so far is released.</summary>
    public void ReleaseAll()
    {
        lock (_lock)
        {
            _held.Clear();
            _released = Volatile.Read(ref _produced);
            Monitor.PulseAll(_lock);
        }
    }

    public void SetEnd(int status, string description)
    {
        lock (_lock)
        {
            _end = (status, description);
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>
    /// Waits up to <paramref name="wait"/> for released bytes at or after <paramref name="offset"/>
    /// and returns a copy of up to <paramref name="max"/> of them (empty when none came), or null
    /// when bytes from <paramref name="offset"/> on are no longer held (see <see cref="Oldest"/>).
    /// </summary>
    public byte[]? Read(long offset, int max, TimeSpan wait)
    {
        lock (_lock)
        {
            if (offset < _oldest) return null;
            if (_released <= offset && _end is null) Monitor.Wait(_lock, wait);
            if (offset < _oldest) return null;
            if (_released <= offset) return [];
            var copy = new byte[(int)Math.Min(max, _released - offset)];
            CopyOut(offset, copy);
            return copy;
        }
    }

    /// <summary>Copies held bytes from <paramref name="offset"/> (at or after <see cref="Oldest"/>, below <see cref="Produced"/>): call holding the lock.</summary>
    private void CopyOut(long offset, Span<byte> into)
    {
        while (into.Length > 0)
        {
            long block = offset >> _chunkShift;
            int at = (int)(offset & (_chunkSize - 1));
            int count = Math.Min(into.Length, _chunkSize - at);
            _slots[(int)(block % _slots.Length)].AsSpan(at, count).CopyTo(into);
            into = into[count..];
            offset += count;
        }
    }

    /// <summary>The one line a client asking for dropped output is shown: what was lost, and what to do (<paramref name="goOn"/>, or read the trace).</summary>
    public static string DescribeDropped(long offset, long oldest, long capacity, string goOn) =>
        $"the guest's console output from byte {offset} to byte {oldest - 1} is no longer held by the live replica (it keeps the most recent {capacity} bytes: --console-history); "
        + $"{goOn}, or replay a replica's trace (-o) to see every byte";

    /// <summary>Wakes readers (shutting down).</summary>
    public void Wake()
    {
        lock (_lock) Monitor.PulseAll(_lock);
    }
}
