using System.CommandLine;
using ReplayVm.Replay;
using ReplayVm.Replay.Timeline;
using ReplayVm.Tui.Session;
using ReplayVm.Tui.Views;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm debug [FILE.rvtrace]</c>: the full-screen time-travel debugger over a recording.
/// With no file it opens the bundled demo, <c>traces/demo.rvtrace</c> of the repository the
/// executable was built in (found by walking up from the executable to <c>ReplayVm.sln</c>), else
/// <c>traces/demo.rvtrace</c> under the current directory. A trace that cannot be opened is one
/// line and exit 2 before the terminal is touched.
/// </summary>
internal static class DebugCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("FILE.rvtrace")
        {
            Description = "The trace to debug [default: the bundled traces/demo.rvtrace].",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("debug",
            "Open a trace in the terminal time-travel debugger: step and continue forwards and backwards (F1 for keys).")
        {
            file,
        };
        command.SetAction(parsed => Execute(parsed.GetValue(file) ?? DefaultTrace()));
        return command;
    }

    internal static string DefaultTrace()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "traces", "demo.rvtrace");
            if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln")) && File.Exists(candidate)) return candidate;
        }
        return Path.Combine("traces", "demo.rvtrace");
    }

    private static int Execute(string path)
    {
        if (!File.Exists(path)) return CliApp.Fail($"{path}: no such trace file");
        var trace = TraceReader.ReadFile(path);
        ReplayTimeline timeline;
        try
        {
            timeline = new ReplayTimeline(trace);
        }
        catch (TimelineException e)
        {
            return CliApp.Fail($"{path}: {e.Message}");
        }
        // Terminal.Gui writes through .NET's console; the plain descriptor writers CliApp installs would bypass its setup.
        Console.SetOut(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true });
        DebuggerApp.Run(new DebugSession(timeline), Path.GetFileName(path));
        return 0;
    }
}
