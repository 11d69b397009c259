namespace ReplayVm.Replica;

/// <summary>
/// The backup's replay lag at each acknowledgement, in steps and in microseconds, for the line a
/// primary prints at its end (median and maximum). Plain arrays and a selection written for
/// them rather than lists of numbers and a sort: those generic instantiations are JIT-compiled in
/// every primary (ReadyToRun cannot precompile them), a fixed cost paid at the end of every run.
/// </summary>
internal sealed class LagSamples
{
    /// <summary>At most this many samples are kept (the first ones).</summary>
    public const int MaxSamples = 1_000_000;

    private ulong[] _steps = new ulong[256];
    private ulong[] _micros = new ulong[256];

    public int Count { get; private set; }

    public void Add(ulong steps, double milliseconds)
    {
        if (Count == MaxSamples) return;
        if (Count == _steps.Length)
        {
            _steps = Grown(_steps);
            _micros = Grown(_micros);
        }
        _steps[Count] = steps;
        _micros[Count] = (ulong)Math.Round(Math.Max(0, milliseconds) * 1000);
        Count++;
    }

    private static ulong[] Grown(ulong[] values)
    {
        var copy = new ulong[Math.Min(values.Length * 2, MaxSamples)];
        Array.Copy(values, copy, values.Length);
        return copy;
    }

    /// <summary>Median and maximum lag in steps and in milliseconds (the upper median for an even count, as the sorted list's middle element).</summary>
    public LagSummary Summary()
    {
        if (Count == 0) return new LagSummary(0, 0, 0, 0);
        var steps = new ulong[Count];
        var micros = new ulong[Count];
        Array.Copy(_steps, steps, Count);
        Array.Copy(_micros, micros, Count);
        return new LagSummary(Select(steps, Count / 2), Max(steps), Select(micros, Count / 2) / 1000.0, Max(micros) / 1000.0);
    }

    private static ulong Max(ulong[] values)
    {
        ulong max = 0;
        foreach (ulong v in values) max = Math.Max(max, v);
        return max;
    }

    /// <summary>The <paramref name="k"/>-th smallest of <paramref name="values"/> (reordering them): Hoare's selection, median-of-three pivot.</summary>
    internal static ulong Select(ulong[] values, int k)
    {
        int lo = 0, hi = values.Length - 1;
        while (lo < hi)
        {
            int mid = lo + (hi - lo) / 2;
            ulong a = values[lo], b = values[mid], c = values[hi];
            ulong pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return values[k];
        }
        return values[k];
    }
}

/// <summary>Median and maximum of the backup's replay lag, in steps and in milliseconds.</summary>
internal sealed record LagSummary(ulong MedianSteps, ulong MaxSteps, double MedianMilliseconds, double MaxMilliseconds);
