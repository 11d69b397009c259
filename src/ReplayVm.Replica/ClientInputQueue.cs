namespace ReplayVm.Replica;

/// <summary>
/// Console input from clients waiting for the guest, and how many bytes of each client's input
/// stream the guest has consumed. The consumed counts travel with the log (with the batch whose
/// events consumed them), so a replica that takes over knows exactly where each client's input
/// resumes: a byte the guest took is never taken again, and one it did not take is resent.
/// </summary>
internal sealed class ClientInputQueue
{
    private readonly Lock _lock = new();
    /// <summary>
    /// Made with a capacity: an empty queue starts on <c>Array.Empty</c> of its element type, a
    /// generic class over this value tuple whose initializer no precompiled image holds, so every
    /// replica JIT-compiled it as it started.
    /// </summary>
    private readonly Queue<(Guid Client, byte Value)> _pending = new(64);
    private readonly Dictionary<Guid, ulong> _received = [];
    private readonly Dictionary<Guid, ulong> _consumed = [];
    private readonly HashSet<Guid> _changed = [];
    /// <summary>Set while bytes are queued (changed under <c>_lock</c> with the queue): what an idle live guest waits on.</summary>
    private readonly ManualResetEventSlim _available = new();

    /// <summary>
    /// Queues <paramref name="bytes"/>, which start at <paramref name="offset"/> in the client's input
    /// stream; bytes already queued or consumed are skipped. False for a gap (a client bug).
    /// </summary>
    public bool Offer(Guid client, ulong offset, ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            ulong have = Math.Max(_received.GetValueOrDefault(client), _consumed.GetValueOrDefault(client));
            if (offset > have) return false;
            ulong skip = have - offset;
            if (skip >= (ulong)bytes.Length) return true;
            foreach (byte b in bytes[(int)skip..]) _pending.Enqueue((client, b));
            _received[client] = offset + (ulong)bytes.Length;
            _available.Set();
            return true;
        }
    }

    /// <summary>Forgets what a client had queued but the guest did not take (it resends from <see cref="Consumed"/> when it attaches).</summary>
    public void Reattach(Guid client)
    {
        lock (_lock)
        {
            if (!_received.ContainsKey(client)) return;
            var keep = _pending.Where(p => p.Client != client).ToList();
            _pending.Clear();
            foreach (var p in keep) _pending.Enqueue(p);
            _received[client] = _consumed.GetValueOrDefault(client);
            if (_pending.Count == 0) _available.Reset();
        }
    }

    /// <summary>
    /// Whether bytes may be queued: a lock-free look the machine's thread takes at every input
    /// poll (every few thousand steps) before it takes the lock. A byte queued just after it
    /// answers false waits for the next poll, as it would had it arrived a moment later.
    /// </summary>
    public bool MayHaveInput => _available.IsSet;

    public bool TryTake(out byte value)
    {
        lock (_lock)
        {
            if (_pending.TryDequeue(out var item))
            {
                _consumed[item.Client] = _consumed.GetValueOrDefault(item.Client) + 1;
                _changed.Add(item.Client);
                if (_pending.Count == 0) _available.Reset();
                Volatile.Write(ref _changedCount, _changed.Count);
                value = item.Value;
                return true;
            }
        }
        value = 0;
        return false;
    }

    /// <summary>
    /// Blocks until some client's bytes are queued (true) or <paramref name="wake"/> is cancelled
    /// (false): an idle live guest sleeps here instead of spinning through its input loop.
    /// </summary>
    public bool WaitForInput(CancellationToken wake)
    {
        try
        {
            _available.Wait(wake);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public ulong Consumed(Guid client)
    {
        lock (_lock) return _consumed.GetValueOrDefault(client);
    }

    /// <summary>Whether a count changed since the last <see cref="TakeChanges"/> (the machine's thread asks every slice: no lock, no allocation).</summary>
    public bool HasChanges => Volatile.Read(ref _changedCount) > 0;

    private int _changedCount;

    /// <summary>The counts changed since the last call (what the next log batch carries).</summary>
    public IReadOnlyList<ClientInputCount> TakeChanges()
    {
        lock (_lock)
        {
            if (_changed.Count == 0) return [];
            var list = new List<ClientInputCount>(_changed.Count);
            foreach (var client in _changed) list.Add(new ClientInputCount(client, _consumed[client]));
            _changed.Clear();
            Volatile.Write(ref _changedCount, 0);
            return list;
        }
    }

    /// <summary>Counts learnt from the log (a following replica).</summary>
    public void Apply(Guid client, ulong consumed)
    {
        lock (_lock)
        {
            if (consumed > _consumed.GetValueOrDefault(client)) _consumed[client] = consumed;
        }
    }
}

/// <summary>
/// How many bytes of a client's input stream the guest has consumed, as a log batch carries it.
/// A class, not a value tuple: lists of value tuples are JIT-compiled afresh in every process.
/// </summary>
internal sealed record ClientInputCount(Guid Client, ulong Consumed);
