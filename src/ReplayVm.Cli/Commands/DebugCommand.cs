using System.CommandLine;
using ReplayVm.Debugger.Symbols;
using ReplayVm.Replay;
using ReplayVm.Replay.Timeline;
using ReplayVm.Replay.TraceIndex;
using ReplayVm.Tui.Session;
using ReplayVm.Tui.Views;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm debug [FILE.rvtrace]</c>: the full-screen time-travel debugger over a recording;
/// <c>replayvm debug [run options] GUEST</c> records GUEST live inside it (keys typed while it runs
/// go to the guest) and can rewind it at any moment.
/// With no file it opens the bundled demo, <c>traces/demo.rvtrace</c> of the repository the
/// executable was built in (found by walking up from the executable to <c>ReplayVm.sln</c>), else
/// <c>traces/demo.rvtrace</c> under the current directory. A trace that cannot be opened is one
/// line and exit 2 before the terminal is touched.
/// </summary>
internal static class DebugCommand
{
    public static Command Create()
    {
        var machineOptions = new MachineOptions("FILE.rvtrace|GUEST",
            "A trace to debug [default: the bundled traces/demo.rvtrace], or a guest to run and record live (as for 'record').");
        var liveOptions = new LiveRecordingOptions("For a live guest");
        var second = new Argument<string?>("B.rvtrace")
        {
            Description = "A second trace: both open side by side, locked by step, with the divergence keys (d, D, F7).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var symbols = new Option<string[]>("--symbols")
        {
            Description = "An ELF file with symbols and DWARF for code the trace holds raw, as gdb's symbol-file " +
                          "(e.g. a kernel's vmlinux for the Image it booted); repeatable.",
            HelpName = "FILE",
        };
        var command = new Command("debug",
            "Open a trace in the terminal time-travel debugger: step and continue forwards and backwards (F1 for keys). " +
            "Given a guest instead, record it live in the debugger.");
        liveOptions.AddTo(command);
        machineOptions.AddTo(command);
        command.Arguments.Add(second);
        command.Options.Add(symbols);
        command.SetAction(parsed =>
        {
            var settings = machineOptions.Read(parsed);
            var symbolFiles = (parsed.GetValue(symbols) ?? []).Select(ReadSymbolFile).ToList();
            if (parsed.GetValue(second) is { } traceB)
            {
                liveOptions.RefuseUnlessLive(parsed, "recording a guest live, not for two traces");
                if (machineOptions.Given(parsed).FirstOrDefault() is { } given)
                    throw new UsageException($"{given} describes a guest to run; two traces already hold their machines");
                string traceA = settings.GuestPath!;
                if (!IsTrace(traceA) || !IsTrace(traceB))
                    throw new UsageException($"debugging two runs side by side takes two traces ({(IsTrace(traceA) ? traceB : traceA)} is not one)");
                return DiffTui.Execute(traceA, traceB);
            }
            bool live = settings.BiosPath is not null || (settings.GuestPath is { } path && !IsTrace(path));
            if (live) return ExecuteLive(settings, liveOptions.Output(parsed), liveOptions.Deterministic(parsed), symbolFiles);
            liveOptions.RefuseUnlessLive(parsed, "recording a guest live, not for a trace");
            if (machineOptions.Given(parsed).FirstOrDefault() is { } option)
                throw new UsageException($"{option} describes a guest to run; a trace already holds its machine");
            return Execute(settings.GuestPath ?? DefaultTrace(), symbolFiles);
        });
        return command;
    }

    /// <summary>Whether <paramref name="path"/> starts like a trace (else it is taken for a guest to record).</summary>
    private static bool IsTrace(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            Span<byte> magic = stackalloc byte[8];
            return file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false) == magic.Length
                   && magic.SequenceEqual(ReplayVm.Replay.Format.TraceFormat.FileMagic);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return path.EndsWith(".rvtrace", StringComparison.Ordinal); // reported by whichever path opens it
        }
    }

    private static SymbolFile ReadSymbolFile(string path)
    {
        GuestFile.Read(path); // the one-line errors for a missing file or a directory
        return SymbolFile.Read(path);
    }

    private static int ExecuteLive(RunSettings settings, string? tracePath, bool deterministic, IReadOnlyList<SymbolFile> symbolFiles)
    {
        var keyboard = new GuestKeyboard();
        using var session = LiveSession.Start(settings, tracePath, keyboard, deterministic, checkpointMemory: null);
        Console.SetOut(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true });
        DebuggerApp.Run(DebugSession.ForLive(session.Timeline, keyboard, symbolFiles: symbolFiles), Path.GetFileName(session.TracePath) + " (live)");
        return 0;
    }

    internal static IEnumerable<string> SourceDirectories(string tracePath)
    {
        yield return Directory.GetCurrentDirectory();
        if (Path.GetDirectoryName(Path.GetFullPath(tracePath)) is { } traceDirectory) yield return traceDirectory;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln"))) yield return dir.FullName;
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

    private static int Execute(string path, IReadOnlyList<SymbolFile> symbolFiles)
    {
        if (!File.Exists(path)) return CliApp.Fail($"{path}: no such trace file");
        var trace = TraceReader.ReadFile(path);
        // A damaged or missing index is reported on stderr before the screen is taken (and rebuilt in the
        // background); one found damaged later is dropped (Timeline.IndexProblem).
        var (index, build) = TraceSidecar.OpenOrBuild(path, trace, disks: null, out string? notice);
        using var _ = build;
        if (notice is not null) TraceSidecar.Notice(notice);
        ReplayTimeline timeline;
        try
        {
            timeline = new ReplayTimeline(trace, new TimelineOptions { Index = index, IndexBuild = build });
        }
        catch (TimelineException e)
        {
            return CliApp.Fail($"{path}: {e.Message}");
        }
        // Terminal.Gui writes through .NET's console; the plain descriptor writers CliApp installs would bypass its setup.
        Console.SetOut(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true });
        // C sources are looked for where a user would keep them: here, beside the trace, and in the repository.
        var session = new DebugSession(timeline, symbolFiles: symbolFiles) { Sources = new SourceFiles(SourceDirectories(path)), SidecarBuild = build };
        session.StartIndex(); // traps and interrupts for the timeline's marks, found in the background
        DebuggerApp.Run(session, Path.GetFileName(path));
        if (build is { State: not IndexBuildState.Running }) TraceSidecar.Notice(TraceSidecar.Describe(build));
        return 0;
    }
}
