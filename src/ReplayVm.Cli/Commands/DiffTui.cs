using ReplayVm.Debugger.Symbols;
using ReplayVm.Replay;
using ReplayVm.Replay.Diff;
using ReplayVm.Replay.Timeline;
using ReplayVm.Tui.Session;
using ReplayVm.Tui.Views;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm debug A.rvtrace B.rvtrace</c> and <c>replayvm diff A B --tui</c>: two recordings in one
/// terminal debugger window, locked by step. Traces that cannot be compared step by step (another
/// board revision, board or RAM size) are one line and exit 2 before the terminal is touched.
/// </summary>
internal static class DiffTui
{
    public static int Execute(string pathA, string pathB)
    {
        foreach (var path in new[] { pathA, pathB })
            if (!File.Exists(path)) return CliApp.Fail($"{path}: no such trace file");
        var a = TraceReader.ReadFile(pathA);
        var b = TraceReader.ReadFile(pathB);
        if (TimelinePair.Incomparable(a.Header, b.Header) is { } why) return CliApp.Fail($"{pathA} and {pathB}: {why}");
        ReplayTimeline timelineA, timelineB;
        try
        {
            // As for one trace: a sidecar index (replayvm index) speeds up seeks and reverse scans.
            timelineA = new ReplayTimeline(a, new TimelineOptions { Index = TraceSidecar.Open(pathA, a) });
        }
        catch (TimelineException e)
        {
            return CliApp.Fail($"{pathA}: {e.Message}");
        }
        try
        {
            timelineB = new ReplayTimeline(b, new TimelineOptions { Index = TraceSidecar.Open(pathB, b) });
        }
        catch (TimelineException e)
        {
            return CliApp.Fail($"{pathB}: {e.Message}");
        }
        var sources = new SourceFiles(DebugCommand.SourceDirectories(pathA).Concat(DebugCommand.SourceDirectories(pathB)).Distinct());
        var session = new DiffSession(timelineA, timelineB, sources);
        // Terminal.Gui writes through .NET's console; the plain descriptor writers CliApp installs would bypass its setup.
        Console.SetOut(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true });
        DebuggerApp.Run(session, $"{Path.GetFileName(pathA)} vs {Path.GetFileName(pathB)}");
        return 0;
    }
}
