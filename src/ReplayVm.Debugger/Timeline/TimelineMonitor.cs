using System.Globalization;
using System.Text;
using ReplayVm.Replay.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Debugger.Timeline;

/// <summary>
/// gdb's <c>monitor</c> commands on a timeline: <c>when</c>, <c>seek N</c>, <c>checkpoint</c>,
/// <c>info</c>, <c>help</c>. A position ("event", as rr calls it) is the step count: instructions
/// retired plus exceptions taken since reset.
/// </summary>
public sealed class TimelineMonitor(ReplayTimeline timeline, string? traceName)
{
    /// <summary>gdb caches registers; after a seek it must be told they changed.</summary>
    private const string RefreshHint = "gdb still shows the old state until you run 'maintenance flush register-cache' (or 'flushregs')";

    public string Run(string command)
    {
        string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0) return Help();
        return words[0] switch
        {
            "when" when words.Length == 1 => $"Current event: {timeline.Position}",
            "seek" when words.Length == 2 => Seek(words[1]),
            "seek" => "usage: monitor seek N (a step count, decimal or 0x hex)",
            "checkpoint" when words.Length == 1 => Checkpoint(),
            "info" when words.Length == 1 => Info(),
            "help" => Help(),
            _ => $"unknown monitor command '{command.Trim()}' (try: monitor help)",
        };
    }

    private string Seek(string text)
    {
        if (!TryParseStep(text, out ulong step)) return $"not a step count: '{text}' (decimal or 0x hex)";
        var stop = timeline.Seek(step);
        return stop.Kind == TimelineStopKind.End && step > timeline.End
            ? $"step {step} is past the end of the recording: stopped at the end, event {timeline.Position}; {RefreshHint}"
            : $"Current event: {timeline.Position}; {RefreshHint}";
    }

    private string Checkpoint()
    {
        var checkpoint = timeline.AddCheckpoint();
        return $"checkpoint at event {checkpoint.Step}";
    }

    private string Info()
    {
        var trace = timeline.Trace;
        var text = new StringBuilder();
        if (traceName is not null) text.Append(CultureInfo.InvariantCulture, $"trace: {traceName}\n");
        text.Append(CultureInfo.InvariantCulture, $"recording: events 0..{timeline.End}, ");
        text.Append(trace.End is { } end
            ? $"ended by {end.Reason}{(end.Reason == Core.StopReason.GuestExit ? $" (status {end.ExitCode})" : "")}"
            : $"truncated ({trace.TruncationReason})");
        text.Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"current event: {timeline.Position}\n");
        text.Append(CultureInfo.InvariantCulture, $"recorded inputs consumed at {timeline.InputEventSteps.Count} events\n");
        var store = timeline.Checkpoints;
        text.Append(CultureInfo.InvariantCulture,
            $"checkpoints: {store.Count} ({store.All.Count(c => c.Explicit)} explicit), {Mib(store.MemoryBytes)} of {Mib(store.BudgetBytes)}, every {timeline.Interval} events near the current one\n");
        text.Append(CultureInfo.InvariantCulture, $"console output so far: {timeline.Output.Count} bytes");
        return text.ToString();
    }

    private static string Help() =>
        "monitor when         the current event (instructions retired plus exceptions taken)\n" +
        "monitor seek N       go to event N\n" +
        "monitor checkpoint   keep a checkpoint here (never thinned away)\n" +
        "monitor info         what the recording holds and what the checkpoints use";

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024.0):0.0} MiB");

    private static bool TryParseStep(string text, out ulong step)
    {
        string s = text.Replace("_", "");
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out step) && s.Length > 2;
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out step);
    }
}
