using ReplayVm.Core.Memory;
using ReplayVm.Core.State;

namespace ReplayVm.Replay.Timeline;

/// <summary>
/// The checkpoints of one timeline, sorted by step, within a memory budget.
///
/// Automatic checkpoints are kept dense near the focus (the position the user is at) and thinned
/// with distance: within <c>BaseInterval × Density</c> steps of the focus one per base interval,
/// then one per 2 intervals for the next band of that width doubled, 4 in the band after, and so
/// on — so a far seek costs a bounded fraction of its distance, and the count grows only with the
/// logarithm of the recording's length. When the budget is exceeded, every band is coarsened by a
/// further factor of two until it fits. Explicit checkpoints are never dropped.
///
/// Memory is counted exactly despite page sharing: each page buffer is counted once, against the
/// checkpoint that allocated it; when that checkpoint is dropped, a later one still sharing the
/// buffer inherits it, and only a buffer nobody shares is freed.
/// </summary>
public sealed class CheckpointStore
{
    private readonly List<Checkpoint> _checkpoints = [];
    private int _coarsen;

    public CheckpointStore(long budgetBytes, ulong baseInterval, int density = 32)
    {
        if (budgetBytes <= 0) throw new ArgumentOutOfRangeException(nameof(budgetBytes), "the checkpoint memory budget must be positive");
        if (baseInterval == 0) throw new ArgumentOutOfRangeException(nameof(baseInterval), "the checkpoint interval must be at least 1 step");
        if (density < 1) throw new ArgumentOutOfRangeException(nameof(density));
        BudgetBytes = budgetBytes;
        BaseInterval = baseInterval;
        Density = density;
    }

    /// <summary>One twelfth of the memory the runtime may use: 2 GiB on a 24 GiB machine.</summary>
    public static long DefaultBudgetBytes => Math.Max(64L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 12);

    public long BudgetBytes { get; }
    public ulong BaseInterval { get; }
    public int Density { get; }

    /// <summary>Host memory held by the checkpoints (page buffers counted once, plus device and hart state).</summary>
    public long MemoryBytes { get; private set; }

    public int Count => _checkpoints.Count;

    public IReadOnlyList<Checkpoint> All => _checkpoints;

    /// <summary>The latest checkpoint at or before <paramref name="step"/>, or null.</summary>
    public Checkpoint? Nearest(ulong step)
    {
        int i = UpperBound(step) - 1;
        return i >= 0 ? _checkpoints[i] : null;
    }

    public Checkpoint? At(ulong step) => Nearest(step) is { } c && c.Step == step ? c : null;

    /// <summary>
    /// Adds a checkpoint; one already at that step stays (it holds the same state) and becomes
    /// explicit if the new one is. Returns the checkpoint kept.
    /// </summary>
    public Checkpoint Add(Checkpoint checkpoint)
    {
        if (At(checkpoint.Step) is { } existing)
        {
            existing.Explicit |= checkpoint.Explicit;
            return existing;
        }
        _checkpoints.Insert(UpperBound(checkpoint.Step), checkpoint);
        MemoryBytes += OwnBytes(checkpoint.OwnedPages.Count) + StateBytes(checkpoint);
        return checkpoint;
    }

    /// <summary>Drops a checkpoint, explicit or not (a user's "delete checkpoint").</summary>
    public bool Remove(Checkpoint checkpoint)
    {
        int i = _checkpoints.IndexOf(checkpoint);
        if (i < 0) return false;
        _checkpoints.RemoveAt(i);
        MemoryBytes -= StateBytes(checkpoint);
        foreach (int page in checkpoint.OwnedPages)
        {
            var heir = _checkpoints.FirstOrDefault(c => c.Snapshot.SharesPage(page, checkpoint.Snapshot));
            if (heir is not null) heir.OwnedPages.Add(page);
            else MemoryBytes -= MainMemory.PageSize;
        }
        checkpoint.OwnedPages.Clear();
        return true;
    }

    /// <summary>Applies the spacing rule around <paramref name="focus"/>, then coarsens until the budget holds.</summary>
    public void Thin(ulong focus)
    {
        ThinOnce(focus);
        while (MemoryBytes > BudgetBytes && _coarsen < 48)
        {
            _coarsen++;
            ThinOnce(focus);
        }
        // Past any sensible coarsening: drop the farthest automatic checkpoints.
        while (MemoryBytes > BudgetBytes)
        {
            var far = _checkpoints.Where(c => !c.Explicit).MaxBy(c => Distance(c.Step, focus));
            if (far is null) break;
            Remove(far);
        }
    }

    /// <summary>Steps between kept automatic checkpoints at <paramref name="distance"/> from the focus.</summary>
    public ulong SpacingAt(ulong distance)
    {
        ulong band = BaseInterval * (ulong)Density;
        int level = 63 - System.Numerics.BitOperations.LeadingZeroCount(1 + distance / band);
        int shift = Math.Min(40, level + _coarsen);
        ulong spacing = BaseInterval << shift;
        return spacing >> shift == BaseInterval ? spacing : ulong.MaxValue;
    }

    /// <summary>Keeps the earliest checkpoint of each spacing bucket.</summary>
    private void ThinOnce(ulong focus)
    {
        Checkpoint? kept = null;
        foreach (var c in _checkpoints.ToList())
        {
            if (kept is not null && !c.Explicit)
            {
                ulong spacing = SpacingAt(Distance(c.Step, focus));
                if (kept.Step / spacing == c.Step / spacing)
                {
                    Remove(c);
                    continue;
                }
            }
            kept = c;
        }
    }

    private static ulong Distance(ulong a, ulong b) => a > b ? a - b : b - a;

    private static long OwnBytes(int pages) => (long)pages * MainMemory.PageSize;

    private static long StateBytes(Checkpoint c) => c.Snapshot.PrivateBytes - OwnBytes(c.Snapshot.PrivatePages.Count);

    /// <summary>Index of the first checkpoint after <paramref name="step"/>.</summary>
    private int UpperBound(ulong step)
    {
        int lo = 0, hi = _checkpoints.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (_checkpoints[mid].Step <= step) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
