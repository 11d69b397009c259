namespace ReplayVm.Replay;

/// <summary>Searches in ascending lists of steps (hash points, segment cuts, snapshots).</summary>
internal static class SortedSteps
{
    /// <summary>The index of the first step after <paramref name="step"/> in ascending <paramref name="steps"/> (their count when none is).</summary>
    public static int FirstAfter(IReadOnlyList<ulong> steps, ulong step)
    {
        int lo = 0, hi = steps.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (steps[mid] <= step) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
