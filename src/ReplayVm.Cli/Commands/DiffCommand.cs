using System.CommandLine;
using ReplayVm.Cli.Tracing;
using ReplayVm.Replay;
using ReplayVm.Replay.Diff;

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
        var tui = new Option<bool>("--tui") { Description = "Open both in the terminal debugger side by side instead (as 'replayvm debug A B')." };
        var command = new Command("diff",
            "Replay two traces in lockstep and show the first step where they part: pc, instruction, " +
            "differing registers, CSRs and memory, nearby inputs. Exit: 0 identical, 1 different, 2 bad input.")
        {
            first, second, tui,
        };
        command.SetAction(parsed => parsed.GetValue(tui)
            ? DiffTui.Execute(parsed.GetValue(first)!, parsed.GetValue(second)!)
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
}
