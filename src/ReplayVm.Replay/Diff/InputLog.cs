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
    public static ulong? FirstDifference(InputLog a, InputLog b, ulong limit)
    {
        int i = 0;
        while (true)
        {
            var x = i < a._events.Length && a._events[i].Step < limit ? a._events[i] : null;
            var y = i < b._events.Length && b._events[i].Step < limit ? b._events[i] : null;
            if (x is null && y is null) return null;
            if (x is null) return y!.Step;
            if (y is null) return x.Step;
            if (!x.Equals(y)) return Math.Min(x.Step, y.Step);
            i++;
        }
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
