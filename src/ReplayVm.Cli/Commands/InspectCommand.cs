using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ReplayVm.Inspect;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm inspect PID|CORE [--json]</c>: the machines of a live, hung or crashed replayvm
/// (attached read-only with ptrace, suspended only while it is read, or from a dump), and every
/// managed thread's stack. Its own output, so it goes to stdout. Exit 2 for every target it
/// cannot read (one line saying why).
/// </summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("PID|CORE") { Description = "A running replayvm's process id, or a core dump of one (createdump, DOTNET_DbgEnableMiniDump)." };
        var json = new Option<bool>("--json") { Description = "One JSON object instead of text." };
        var salvage = new Option<bool>("--salvage")
        {
            Description = "Rebuild the recording of a recorder (killed, hung or crashed) from its memory into -o FILE: header, every event it logged " +
                          "(flushed or not), and an end record whose state hash is checked against the dump; replays with exit status 4, truncated by the host.",
        };
        var output = new Option<string?>("--output", "-o") { Description = "With --salvage: the trace to write.", HelpName = "FILE.rvtrace" };
        var command = new Command("inspect",
            "Show the guest state of a live, hung or crashed replayvm (role, step, pc, registers, CSRs, interrupts, console, trace) " +
            "and its threads' stacks, read from the process (suspended briefly) or a dump.")
        {
            target, json, salvage, output,
        };
        command.SetAction(parsed =>
        {
            string? path = parsed.GetValue(output);
            if (!parsed.GetValue(salvage))
                return path is null ? Execute(parsed.GetValue(target)!, parsed.GetValue(json)) : throw new UsageException("-o is for --salvage");
            if (path is null) throw new UsageException("--salvage needs -o FILE.rvtrace, the trace to write");
            if (parsed.GetValue(json)) throw new UsageException("--salvage prints no report: give --json or --salvage, not both");
            return ExecuteSalvage(parsed.GetValue(target)!, path);
        });
        return command;
    }

    private static int Execute(string targetText, bool json)
    {
        try
        {
            TimeSpan suspended = default;
            var report = ReadWithRetries(targetText, target =>
            {
                var clock = Stopwatch.StartNew();
                KillTargetForTests(target);
                var read = Inspector.Inspect(target);
                suspended = clock.Elapsed;
                return read;
            });
            Console.Out.Write(json ? ReportWriter.ToJson(report) + "\n" : ReportWriter.ToText(report));
            if (report.Live)
                Console.Error.WriteLine($"replayvm: {report.Target} was suspended for {suspended.TotalMilliseconds:F0} ms");
            return 0;
        }
        catch (InspectException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>
    /// Exit 0: the trace has an end record checked against the dump; 4: it was salvaged without one
    /// (a torn log, or a replay that did not reach the dump's state) and replays as truncated.
    /// </summary>
    private static int ExecuteSalvage(string targetText, string outputPath)
    {
        if (Directory.Exists(outputPath)) throw new UsageException($"{outputPath}: is a directory");
        try
        {
            MachineReport machine;
            RecorderLog log;
            string source;
            (machine, log, source) = ReadWithRetries(targetText, target =>
            {
                var (m, l) = Inspector.ReadRecording(target);
                return (m, l, target.IsLive ? $"process {target.ProcessId}" : Path.GetFileName(targetText));
            });
            if (log.TracePath is { } own && Path.GetFullPath(own) == Path.GetFullPath(outputPath))
                throw new UsageException($"{outputPath}: is the recorder's own trace; write the salvaged trace to another file");
            var result = Salvager.Salvage(machine, log, source, outputPath);
            foreach (var line in result.Lines) Console.Error.WriteLine($"replayvm: {line}");
            Console.Error.WriteLine($"replayvm: replay it with: replayvm replay {outputPath}");
            return result.Complete ? 0 : ExitCodes.Truncated;
        }
        catch (InspectException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>How many times a live process is attached to when each time it is caught mid-change.</summary>
    internal const int LiveAttempts = 4;

    /// <summary>
    /// Opens the target and reads it. A live process is stopped wherever it happens to be, now and
    /// then in the middle of changing its runtime's structures (see <see cref="InspectException.Momentary"/>):
    /// it is then let run for a moment and read again, up to <see cref="LiveAttempts"/> times, saying so
    /// on stderr. A dump reads the same every time, so it is read once.
    /// </summary>
    private static T ReadWithRetries<T>(string targetText, Func<InspectTarget, T> read)
    {
        string? firstMishap = null;
        for (int attempt = 1; ; attempt++)
        {
            bool live = false;
            try
            {
                T result;
                using (var target = Open(targetText))
                {
                    live = target.IsLive;
                    FailMomentarilyForTests(target, attempt);
                    result = read(target);
                }
                // Said only when it worked out: a failure is one line, the last attempt's.
                if (firstMishap is not null)
                    Console.Error.WriteLine($"replayvm: read on attempt {attempt}; caught mid-change before ({firstMishap})");
                return result;
            }
            catch (InspectException e) when (e.Momentary && live && attempt < LiveAttempts)
            {
                firstMishap ??= e.Message;
            }
            catch (InspectException e) when (e.Momentary && live)
            {
                throw new InspectException($"{e.Message} (caught mid-change {LiveAttempts} times running); inspect it again");
            }
            // The dispose above let the target run on; a few tens of milliseconds take it past the change.
            Thread.Sleep(50 * attempt);
        }
    }

    /// <summary>
    /// A test hook: with REPLAYVM_TEST_MOMENTARY_FAILURES=N the first N attachments to a live
    /// target fail as if it had been caught mid-change, so a test sees both the retry and its limit.
    /// </summary>
    private static void FailMomentarilyForTests(InspectTarget target, int attempt)
    {
        if (!target.IsLive || !int.TryParse(Environment.GetEnvironmentVariable("REPLAYVM_TEST_MOMENTARY_FAILURES"), out int failures) || attempt > failures) return;
        throw new InspectException($"{target.Description}: cannot read its state: test hook REPLAYVM_TEST_MOMENTARY_FAILURES (attempt {attempt})", momentary: true);
    }

    /// <summary>
    /// A test hook: with REPLAYVM_TEST_KILL_TARGET=1 the target is killed (SIGKILL) right after the
    /// attach, so a test sees what a process that exits in the middle of an inspection gives.
    /// </summary>
    private static void KillTargetForTests(InspectTarget target)
    {
        if (Environment.GetEnvironmentVariable("REPLAYVM_TEST_KILL_TARGET") != "1" || target.ProcessId is not { } pid) return;
        using var process = Process.GetProcessById(pid);
        process.Kill();
        for (int i = 0; i < 500 && InspectTarget.IsRunning(pid); i++) Thread.Sleep(10);
    }

    internal static InspectTarget Open(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && !File.Exists(text)
            ? InspectTarget.Attach(pid)
            : InspectTarget.Load(text);
}
