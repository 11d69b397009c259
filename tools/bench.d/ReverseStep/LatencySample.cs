namespace ReplayVm.Bench.ReverseStep;

/// <summary>Latencies in milliseconds, summarised the way the figures of issue 5 are stated.</summary>
internal sealed class LatencySample
{
    private readonly List<double> _milliseconds = [];

    public void Add(double milliseconds) => _milliseconds.Add(milliseconds);

    public int Count => _milliseconds.Count;

    public double Median => Quantile(0.5);
    public double P90 => Quantile(0.9);
    public double Worst => _milliseconds.Count == 0 ? double.NaN : _milliseconds.Max();

    private double Quantile(double q)
    {
        if (_milliseconds.Count == 0) return double.NaN;
        var sorted = _milliseconds.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * q))];
    }
}
