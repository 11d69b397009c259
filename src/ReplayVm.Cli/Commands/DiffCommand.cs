using System.CommandLine;
using ReplayVm.Cli.Tracing;
using ReplayVm.Replay;
using ReplayVm.Replay.Diff;
using ReplayVm.Replay.Timeline;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm diff A.rvtrace B.rvtrace</c>: replays both traces in lockstep and reports the first
/// step where the machines part (see <see cref="TraceDiff"/>). The report is the command's output,
/// on stdout. Exit status: 0 identical, 1 different, 2 bad input.
/// </summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var first = new Argument<string>("A.rvtrace") { Description = "The first trace." };
        var second = new Argument<string>("B.rvtrace") { Description = "The second trace." };
        var all = new Option<bool>("--all")
        {
            Description = "List every divergence (a step where the states part after being equal) and every step where they are equal again, to the end of the shorter trace, and what the search cost.",
        };
        var tui = new Option<bool>("--tui") { Description = "Open both in the terminal debugger side by side instead (as 'replayvm debug A B')." };
        var command = new Command("diff",
            "Replay two traces in lockstep and show the first step where they part: pc, instruction, " +
            "differing registers, CSRs and memory, nearby inputs. Exit: 0 identical, 1 different, 2 bad input.")
        {
            first, second, all, tui,
        };
        command.SetAction(parsed => parsed.GetValue(tui)
            ? DiffTui.Execute(parsed.GetValue(first)!, parsed.GetValue(second)!)
            : parsed.GetValue(all)
                ? ExecuteAll(parsed.GetValue(first)!, parsed.GetValue(second)!)
                : Execute(parsed.GetValue(first)!, parsed.GetValue(second)!));
        return command;
    }

    private static int Execute(string pathA, string pathB)
    {
        var a = TraceReader.ReadFile(pathA);
        var b = TraceReader.ReadFile(pathB);
        TraceDiffResult result;
        try
        {
            result = TraceDiff.Compare(a, b);
        }
        catch (InvalidOperationException e)
        {
            // TraceDiff's own consistency check (a replay that is not deterministic): report, do not crash.
            throw new UsageException($"cannot compare the traces: {e.Message}");
        }
        Console.Out.Write(new DiffReport(a, result).ToString());
        return result.Identical ? 0 : ExitCodes.Differ;
    }

    /// <summary>
    /// <c>--all</c>: the terminal debugger's divergence search (<see cref="TimelinePair"/>) run to the end:
    /// one line per divergence and per re-join, in step order, then the cost. Exit 0 when the states never
    /// differ, 1 when they do.
    /// </summary>
    private static int ExecuteAll(string pathA, string pathB)
    {
        var a = TraceReader.ReadFile(pathA);
        var b = TraceReader.ReadFile(pathB);
        if (TimelinePair.Incomparable(a.Header, b.Header) is { } why) throw new UsageException($"{pathA} and {pathB}: {why}");
        TimelinePair pair;
        try
        {
            pair = new TimelinePair(new Timeline(a, new TimelineOptions { Index = TraceSidecar.Open(pathA, a) }),
                new Timeline(b, new TimelineOptions { Index = TraceSidecar.Open(pathB, b) }));
        }
        catch (TimelineException e)
        {
            throw new UsageException($"cannot compare the traces: {e.Message}");
        }
        foreach (var difference in pair.SetupDifferences) Console.Out.WriteLine($"setup: {difference}");
        ulong replayed = 0, compared = 0;
        try
        {
            for (var answer = pair.First(); ; answer = pair.Next(answer.Step!.Value))
            {
                replayed += answer.StepsReplayed;
                compared += answer.StepsCompared;
                if (answer.Step is null) break;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimelineException)
        {
            throw new UsageException($"cannot compare the traces: {e.Message}");
        }
        var events = pair.KnownDivergences.Select(s => (Step: s, Text: $"differ at step {s}"))
            .Concat(pair.KnownJoins.Select(s => (Step: s, Text: $"equal again at step {s}")))
            .OrderBy(e => e.Step);
        foreach (var (_, text) in events) Console.Out.WriteLine(text);
        if (pair.KnownDivergences.Count == 0) Console.Out.WriteLine($"the states never differ up to step {pair.Limit}");
        Console.Out.WriteLine($"compared to step {pair.Limit}: {replayed} steps replayed (both runs together), {compared} compared one by one");
        return pair.KnownDivergences.Count == 0 ? 0 : ExitCodes.Differ;
    }
}
