using System.Text;

namespace ReplayVm.Replay.Diff;

/// <summary>
/// The nondeterministic inputs of a trace (everything but state hashes and the end record), in
/// order. A replay is a function of the machine setup and this log, which is what lets
/// <see cref="TraceDiff"/> skip every step before the logs first differ.
/// </summary>
public sealed class InputLog
{
    private readonly TraceEvent[] _events;

    public InputLog(TraceFile trace) =>
        _events = trace.Events.Where(e => e is not StateHashEvent and not EndEvent).ToArray();

    public IReadOnlyList<TraceEvent> Events => _events;

    /// <summary>
    /// The first step at which the two logs differ, looking only at events before <paramref name="limit"/>
    /// (later ones cannot affect the states up to it); null when they agree that far.
    /// A state after <c>n</c> steps depends only on inputs stamped before <c>n</c>: console bytes at
    /// step <c>n</c> are delivered before step <c>n</c> runs, a clock read at <c>n</c> happens during it.
    /// </summary>
    public static ulong? FirstDifference(InputLog a, InputLog b, ulong limit) => FirstDifference(a, b, 0, limit);

    /// <summary>
    /// The first step in [<paramref name="from"/>, <paramref name="limit"/>) at which the two logs'
    /// events differ, comparing only the events stamped in that stretch; null when they agree there.
    /// Two machines equal in every hashed respect at <paramref name="from"/> stay equal up to that step.
    /// </summary>
    public static ulong? FirstDifference(InputLog a, InputLog b, ulong from, ulong limit)
    {
        int i = a.FirstAtOrAfter(from), j = b.FirstAtOrAfter(from);
        while (true)
        {
            var x = i < a._events.Length && a._events[i].Step < limit ? a._events[i] : null;
            var y = j < b._events.Length && b._events[j].Step < limit ? b._events[j] : null;
            if (x is null && y is null) return null;
            if (x is null) return y!.Step;
            if (y is null) return x.Step;
            if (!x.Equals(y)) return Math.Min(x.Step, y.Step);
            i++;
            j++;
        }
    }

    private TraceEvent? EventAt(ulong step) => FirstAtOrAfter(step) is var k && k < _events.Length && _events[k].Step == step ? _events[k] : null;

    /// <summary>The index of the first event stamped at or after <paramref name="step"/> (events are in step order).</summary>
    private int FirstAtOrAfter(ulong step)
    {
        int low = 0, high = _events.Length;
        while (low < high)
        {
            int mid = (low + high) >>> 1;
            if (_events[mid].Step < step) low = mid + 1; else high = mid;
        }
        return low;
    }

    /// <summary>
    /// The last step at or before <paramref name="step"/> where the two logs' events differ, with
    /// each side's event there (null on a side that has none at that step); null when they agree up to it.
    /// </summary>
    public static (ulong Step, TraceEvent? A, TraceEvent? B)? LastDifferenceAtOrBefore(InputLog a, InputLog b, ulong step)
    {
        (ulong, TraceEvent?, TraceEvent?)? last = null;
        ulong from = 0;
        while (FirstDifference(a, b, from, step + 1) is { } at)
        {
            last = (at, a.EventAt(at), b.EventAt(at));
            from = at + 1;
        }
        return last;
    }

    /// <summary>Up to <paramref name="before"/> events at or before <paramref name="step"/> and <paramref name="after"/> after it.</summary>
    public IReadOnlyList<InputEventSummary> Near(ulong step, int before = 2, int after = 2)
    {
        int firstAfter = Array.FindIndex(_events, e => e.Step > step);
        if (firstAfter < 0) firstAfter = _events.Length;
        int from = Math.Max(0, firstAfter - before);
        int to = Math.Min(_events.Length, firstAfter + after);
        return _events[from..to].Select(Summarise).ToList();
    }

    public static InputEventSummary Summarise(TraceEvent e) => e switch
    {
        ConsoleInputEvent c => new(e.Kind, e.Step, Bytes(c.Bytes)),
        EntropyEvent r => new(e.Kind, e.Step, Bytes(r.Bytes)),
        WallClockEvent w => new(e.Kind, e.Step, $"{w.Nanoseconds} ns"),
        DiskHashEvent d => new(e.Kind, e.Step, $"disk {d.DiskIndex}, {d.SizeBytes} bytes, SHA-256 {Convert.ToHexStringLower(d.Sha256)[..16]}"),
        _ => new(e.Kind, e.Step, ""),
    };

    /// <summary>Hex of the first 16 bytes and the printable text, e.g. <c>610a "a."</c>.</summary>
    private static string Bytes(byte[] bytes)
    {
        const int shown = 16;
        var head = bytes.AsSpan(0, Math.Min(bytes.Length, shown));
        var text = new StringBuilder();
        foreach (byte b in head) text.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
        string more = bytes.Length > shown ? $" (+{bytes.Length - shown} more)" : "";
        return $"{Convert.ToHexString(head).ToLowerInvariant()} \"{text}\"{more}";
    }
}
