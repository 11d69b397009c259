namespace ReplayVm.Replica;

/// <summary>
/// Everything the log channel has carried for this guest: the header and every batch, kept so a
/// backup that joins later (or the new backup after a failover) gets the whole log from step 0
/// for its trace (one history), and a snapshot of the present to replay from. The log is small (a few bytes per input event and per heartbeat).
/// </summary>
internal sealed class LogHistory
{
    private readonly List<byte[]> _batches = [];
    private long _bytes;
    private bool _lastIsFrontierOnly;

    public byte[]? Header { get; set; }

    public Lock Sync { get; } = new();

    /// <summary>Bytes of batches so far (the log's size).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Adds a batch; call holding <see cref="Sync"/> when a sender must see it in order.</summary>
    /// <param name="frontierOnly">The batch only moves the frontier: it replaces a previous such batch, so idle time costs no memory.</param>
    public void Add(byte[] batch, bool frontierOnly)
    {
        if (frontierOnly && _lastIsFrontierOnly) _batches[^1] = batch;
        else _batches.Add(batch);
        _lastIsFrontierOnly = frontierOnly;
        Interlocked.Add(ref _bytes, batch.Length);
    }

    /// <summary>All batches so far (call holding <see cref="Sync"/>).</summary>
    public List<byte[]> Snapshot() => [.. _batches];
}
