using System.Diagnostics;

namespace ReplayVm.Replica;

/// <summary>
/// When the live replica published each frontier (clock ticks, step), oldest first, for the last
/// few seconds: what the backup's lag is in time, and which step the primary had reached a given
/// time ago (the lag bound). Kept in two plain arrays rather than a list of value tuples: every
/// generic collection over a value type is JIT-compiled afresh in each process (ReadyToRun cannot
/// precompile it), a fixed cost of every primary.
/// </summary>
internal sealed class PublishTimeline
{
    /// <summary>Keeps publish times this long (and at most <see cref="MaxKept"/>).</summary>
    private static readonly long Span = 5 * Stopwatch.Frequency;
    public const int MaxKept = 100_000;

    private long[] _ticks = new long[1024];
    private ulong[] _steps = new ulong[1024];
    private int _start, _end;

    public int Count => _end - _start;

    public void Add(long ticks, ulong step)
    {
        // Pruned in batches (once the oldest is twice the span old), so an add does not shift the arrays each time.
        if (Count >= MaxKept || (Count > 0 && _ticks[_start] < ticks - 2 * Span))
            while (Count > 1 && (_ticks[_start] < ticks - Span || Count >= MaxKept)) _start++;
        if (_end == _ticks.Length)
        {
            int count = Count;
            if (count * 2 > _ticks.Length)
            {
                var ticksCopy = new long[_ticks.Length * 2];
                var stepsCopy = new ulong[_steps.Length * 2];
                Array.Copy(_ticks, _start, ticksCopy, 0, count);
                Array.Copy(_steps, _start, stepsCopy, 0, count);
                _ticks = ticksCopy;
                _steps = stepsCopy;
            }
            else
            {
                Array.Copy(_ticks, _start, _ticks, 0, count);
                Array.Copy(_steps, _start, _steps, 0, count);
            }
            _start = 0;
            _end = count;
        }
        _ticks[_end] = ticks;
        _steps[_end] = step;
        _end++;
    }

    /// <summary>The last frontier published at or before <paramref name="ticks"/> (0 if none is known).</summary>
    public ulong StepPublishedBefore(long ticks)
    {
        int lo = _start, hi = _end - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_ticks[mid] <= ticks) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? 0 : _steps[found];
    }

    /// <summary>How long before <paramref name="now"/> a frontier at or beyond <paramref name="step"/> was first published, in ms (0 if none was).</summary>
    public double MillisecondsSincePublished(ulong step, long now)
    {
        int lo = _start, hi = _end - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_steps[mid] >= step) { found = mid; hi = mid - 1; }
            else lo = mid + 1;
        }
        return found < 0 ? 0 : (now - _ticks[found]) * 1000.0 / Stopwatch.Frequency;
    }
}
