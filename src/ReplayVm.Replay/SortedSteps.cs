namespace ReplayVm.Replay;

/// <summary>Searches in lists kept in ascending step order (hash points, segment cuts, snapshots,
/// trap markers and records), by binary search.</summary>
internal static class SortedSteps
{
    /// <summary>The index of the first step after <paramref name="step"/> in ascending <paramref name="steps"/> (their count when none is).</summary>
    public static int FirstAfter(IReadOnlyList<ulong> steps, ulong step) => FirstAfter(steps, step, static s => s);

    /// <summary>The index of the first item whose <paramref name="stepOf"/> is after <paramref name="step"/> (the count when none is).</summary>
    public static int FirstAfter<T>(IReadOnlyList<T> items, ulong step, Func<T, ulong> stepOf)
    {
        int lo = 0, hi = items.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (stepOf(items[mid]) <= step) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>The index of the first item whose <paramref name="stepOf"/> is at or after <paramref name="step"/> (the count when none is).</summary>
    public static int FirstAtOrAfter<T>(IReadOnlyList<T> items, ulong step, Func<T, ulong> stepOf) =>
        step == 0 ? 0 : FirstAfter(items, step - 1, stepOf);
}
