namespace ReplayVm.Replay.Timeline;

/// <summary>
/// Reverse-continue over long distances, several windows at once: when the window before the
/// position holds no hit, the windows between the index's earlier snapshots are scanned on
/// separate machines (scanner timelines over the same trace and index, kept for later scans), a
/// batch of <see cref="TimelineOptions.ScanJobs"/> at a time from the nearest back, and the latest
/// window with a hit gives the answer: the same last hit a one-machine scan finds, since each
/// window is replayed exactly as this timeline would replay it.
/// </summary>
public sealed partial class Timeline
{
    private int _scanJobs = 1;

    /// <summary>
    /// The shortest parallel window, in checkpoint intervals (the interval is about 1/2048 of the
    /// recording, so at most ~64 windows): restoring and hashing a snapshot on a scanner costs about
    /// as much as replaying a few million steps, which shorter windows would spend again and again.
    /// </summary>
    private const ulong MinWindowIntervals = 32;
    private readonly List<Timeline> _scanners = [];

    /// <summary>Windows reverse scans have run on scanner machines so far.</summary>
    public int WindowsScannedInParallel { get; private set; }

    private bool CanScanInParallel
    {
        get
        {
            FollowIndexBuild();
            return _index is not null && _scanJobs > 1;
        }
    }

    /// <summary>The last hit (of any kind the watch takes) before <paramref name="below"/>, scanning windows back to step 0.</summary>
    private (TimelineStop? Last, bool Cancelled) ScanEarlierWindowsInParallel(ulong below, ulong origin, Watch watch, CancellationToken cancel,
        IProgress<double>? progress)
    {
        var index = _index!;
        // Windows [start, end) from below down to 0, nearest first.
        // A window costs a snapshot restore and state hash on its scanner before it replays anything,
        // so windows span at least MinWindowIntervals checkpoint intervals: snapshots closer than that
        // to the window's end are passed over (the answer does not depend on where windows start).
        ulong minWindow = Interval > ulong.MaxValue / MinWindowIntervals ? ulong.MaxValue : Interval * MinWindowIntervals;
        var windows = new List<(ulong Start, ulong End)>();
        ulong end = below;
        if (SkippingIndex(watch) is not null)
        {
            // Windows cover only the stretches that may hold a hit (Timeline.StretchSkipping.cs).
            ulong low = below;
            for (int i = index.LatestAtOrBefore(below - 1); low > 0; i--)
            {
                ulong start = i >= 0 ? index.Snapshots[i].Step : 0;
                if (!StretchMayHit(index, i + 1, watch))
                {
                    if (low < end) windows.Add((low, end));
                    end = low = start;
                    StretchesSkipped++;
                    continue;
                }
                low = start;
                if (end - low >= minWindow)
                {
                    windows.Add((low, end));
                    end = low;
                }
            }
            if (low < end) windows.Add((low, end));
        }
        else
        {
            for (int i = index.LatestAtOrBefore(below - 1); i >= 0 && end > 0; i--)
            {
                ulong start = index.Snapshots[i].Step;
                if (end - start < minWindow && start > 0) continue;
                windows.Add((start, end));
                end = start;
            }
            if (end > 0) windows.Add((0, end));
        }

        for (int first = 0; first < windows.Count; first += _scanJobs)
        {
            var batch = windows.Skip(first).Take(_scanJobs).ToList();
            while (_scanners.Count < batch.Count)
                _scanners.Add(new Timeline(Trace, _options with { ScanJobs = 1, CheckpointMemory = 64L << 20, Index = index, IndexBuild = null }));
            var results = new (TimelineStop? Last, bool Cancelled)[batch.Count];
            var failures = new Exception?[batch.Count];
            var threads = batch.Select((window, k) => new Thread(() =>
            {
                try
                {
                    var scanner = _scanners[k];
                    scanner.Seek(window.Start, cancel);
                    results[k] = scanner.Position == window.Start
                        ? scanner.ScanWindow(window.End, watch, _ => true, cancel)
                        : (null, true);
                }
                catch (Exception e)
                {
                    failures[k] = e;
                }
            }) { IsBackground = true, Name = "reverse scan" }).ToList();
            foreach (var thread in threads) thread.Start();
            foreach (var thread in threads) thread.Join();
            WindowsScannedInParallel += batch.Count;
            if (failures.FirstOrDefault(f => f is not null) is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            if (cancel.IsCancellationRequested || results.Any(r => r.Cancelled)) return (null, true);
            // The nearest window with a hit holds the last hit.
            foreach (var result in results)
                if (result.Last is not null) return result;
            if (origin > 0) progress?.Report(1 - (double)batch[^1].Start / origin);
        }
        return (null, false);
    }
}
