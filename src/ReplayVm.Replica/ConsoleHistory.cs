namespace ReplayVm.Replica;

/// <summary>
/// The guest's console output stream: every byte it printed, in order, with how much of it may be
/// shown. The output rule lives here: bytes printed up to step S are held until the backup has
/// acknowledged the log through S (<see cref="Hold"/> then <see cref="ReleaseThrough"/>); an
/// unprotected replica releases at once. Clients read from an offset, so after a failover each
/// asks the new live replica for exactly the bytes it has not shown yet.
/// </summary>
internal sealed class ConsoleHistory
{
    private readonly object _lock = new();
    private readonly Queue<(ulong Frontier, long Produced)> _held = new();
    private byte[] _bytes = new byte[4096];
    private long _produced, _released, _lastHeld;
    private (int Status, string Description)? _end;

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

    /// <summary>How the run ended, once it has and every byte is released.</summary>
    public (int Status, string Description)? End
    {
        get
        {
            lock (_lock) return _released == Volatile.Read(ref _produced) ? _end : null;
        }
    }

    /// <summary>
    /// One byte from the guest. Only the machine's thread appends, so it takes the lock only to
    /// grow the buffer (readers copy under the lock): a console-heavy guest prints millions of
    /// bytes, each through here. The byte is stored before the count that shows it is published,
    /// and a grown buffer holds every byte already counted, so a reader that reads the count and
    /// then the buffer sees them all.
    /// </summary>
    public void Append(byte value)
    {
        long produced = _produced;
        var bytes = _bytes;
        if (produced == bytes.Length)
        {
            lock (_lock)
            {
                Array.Resize(ref _bytes, _bytes.Length * 2);
                bytes = _bytes;
            }
        }
        bytes[produced] = value;
        Volatile.Write(ref _produced, produced + 1);
    }

    /// <summary>Every byte printed so far (a joining backup's console history).</summary>
    public byte[] CopyProduced()
    {
        lock (_lock) return _bytes.AsSpan(0, (int)Volatile.Read(ref _produced)).ToArray();
    }

    /// <summary>A joining backup starts from the primary's history: what the guest printed before the snapshot (nothing printed here yet).</summary>
    public void Preload(byte[] history)
    {
        lock (_lock)
        {
            if (_produced != 0) throw new InvalidOperationException("the console history is not empty");
            _bytes = new byte[(int)Math.Min(Array.MaxLength, Math.Max(4096L, history.Length * 2L))];
            history.CopyTo(_bytes, 0);
            Volatile.Write(ref _produced, history.Length);
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
            _held.Enqueue((frontier, produced));
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
    /// and returns a copy of up to <paramref name="max"/> of them (empty when none came).
    /// </summary>
    public byte[] Read(long offset, int max, TimeSpan wait)
    {
        lock (_lock)
        {
            if (_released <= offset && _end is null) Monitor.Wait(_lock, wait);
            if (_released <= offset) return [];
            int count = (int)Math.Min(max, _released - offset);
            return _bytes.AsSpan((int)offset, count).ToArray();
        }
    }

    /// <summary>Wakes readers (shutting down).</summary>
    public void Wake()
    {
        lock (_lock) Monitor.PulseAll(_lock);
    }
}
