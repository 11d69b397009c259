using System.CommandLine;
using ReplayVm.Cli.Hosting;
using ReplayVm.Replay;
using ReplayVm.Replay.TraceIndex;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm index FILE.rvtrace [--every N] [--budget SIZE] [--drive FILE]</c>: writes the
/// trace's sidecar <c>FILE.rvtrace.rvindex</c>, machine snapshots every N steps (page deltas) that
/// <c>debug</c>, <c>gdb</c> and <c>replay --jobs</c> start from instead of step 0. Building it
/// replays the whole trace and checks every state hash. A sidecar that is already there, sound and
/// built with the same options is kept; one that is damaged or belongs to another trace is
/// replaced, with a notice. On a terminal it shows its progress; Ctrl-C (or SIGTERM, SIGHUP) stops
/// it leaving the sidecar as it was. Exit: 0; 3 when the replay diverges (no sidecar is written);
/// 128 + the signal when stopped; 2 bad usage or trace.
/// </summary>
internal static class IndexCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE.rvtrace") { Description = "The trace to index." };
        var every = CliOptions.Parsed<ulong?>(["--every"], "N",
            "Steps between snapshots (K, M, G are powers of 1000); each sits on the first hash point that far from the last " +
            "[default: about 1/1024 of the recording, at least the trace's hash interval].",
            "step count", "a positive number such as 10M", Nullable<ulong>(NumberSyntax.TryParsePositiveCount));
        var budget = CliOptions.Parsed<ulong?>(["--budget"], "SIZE",
            "Most bytes the sidecar may take: 256M, 2G (a bare number is MiB); snapshots that would not fit are skipped " +
            "and the spacing doubles [default: 1G].",
            "size", "examples: 256M, 2G", Nullable<ulong>(NumberSyntax.TryParseMemorySize));
        var force = new Option<bool>("--force") { Description = "Rebuild even when a sound sidecar with the same options is there." };
        var drive = new Option<string[]>("--drive")
        {
            Description = "A disk image the trace names by hash only; repeat in the trace's disk order (as for 'replay').",
            HelpName = "FILE",
        };
        var command = new Command("index",
            "Write FILE.rvtrace.rvindex: snapshots every N steps so debug, gdb and replay --jobs start near any step. " +
            "Replays the trace once, checking every state hash. Exit: 0; 3 diverged; 2 bad trace.")
        {
            file, every, budget, force, drive,
        };
        command.SetAction(parsed => Execute(parsed.GetValue(file)!, parsed.GetValue(every), parsed.GetValue(budget),
            parsed.GetValue(force), parsed.GetValue(drive) ?? []));
        return command;
    }

    private static int Execute(string path, ulong? every, ulong? budgetBytes, bool force, string[] drivePaths)
    {
        var trace = TraceReader.ReadFile(path);
        long budget = budgetBytes is { } b ? (long)Math.Min(b, long.MaxValue) : TraceIndexFormat.DefaultBudget;
        if (budget < TraceIndexFormat.MinBudget) throw new UsageException($"--budget must be at least {TraceIndexFormat.MinBudget >> 10}K");
        ulong spacing = every ?? TraceIndexBuilder.DefaultEvery(trace);
        string sidecar = TraceIndexFormat.SidecarPath(path);
        var identity = TraceIdentity.OfFile(path);
        if (File.Exists(sidecar))
        {
            try
            {
                using var existing = TraceIndexFile.Open(sidecar, trace, identity);
                // Without --every, any sound sidecar will do (one the recorder wrote has its own spacing).
                if (!force && (every is null || existing.Header.Every == spacing) && existing.Header.Budget == budget)
                {
                    Console.Error.WriteLine($"replayvm: {sidecar} is up to date: {Describe(existing.Snapshots.Count, existing.Length, trace)}");
                    return 0;
                }
            }
            catch (TraceIndexException e)
            {
                Console.Error.WriteLine($"replayvm: index {sidecar} ignored: {e.Message}; rebuilding it");
            }
        }

        using var drives = TraceDrives.ForReplay(drivePaths, trace.Header);
        // Written beside the sidecar and renamed over it only when complete: a crash leaves the old one or none.
        string temporary = $"{sidecar}.tmp-{Environment.ProcessId}";
        // Ctrl-C, SIGTERM and SIGHUP stop the build within a slice of its replay; the working file is deleted.
        var stop = new StopRequest();
        using var signals = new StopSignals(stop, terminal: null);
        var progress = Console.IsErrorRedirected ? null : new TerminalProgress("indexing", ulong.Max(1, trace.End?.Step ?? trace.LastStep));
        TraceIndexSummary summary;
        try
        {
            using (var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                summary = TraceIndexBuilder.Build(trace, identity, output,
                    new TraceIndexOptions { Every = spacing, Budget = budget, Disks = drives.For(trace.Header.Setup) }, stop.Token, progress);
            progress?.Clear();
            if (summary.Replay.Outcome == ReplayOutcome.Diverged)
            {
                File.Delete(temporary);
                Console.Error.WriteLine($"replayvm: replay {summary.Replay.Divergence}; no index written");
                return ExitCodes.Diverged;
            }
            File.Move(temporary, sidecar, overwrite: true);
        }
        catch (OperationCanceledException) when (stop.ExitCode is { } status)
        {
            progress?.Clear();
            File.Delete(temporary);
            Console.Error.WriteLine($"replayvm: index interrupted; {(File.Exists(sidecar) ? $"{sidecar} is as it was" : "no sidecar written")}");
            return status;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        Console.Error.WriteLine($"replayvm: wrote {sidecar}: {Describe(summary.Snapshots, summary.Bytes, trace)}, " +
                                $"{summary.Replay.HashPointsChecked} state hashes matched" +
                                (summary.SkippedForBudget > 0 ? $"; {summary.SkippedForBudget} snapshots skipped to stay within the budget" : "") +
                                (trace.Truncated ? $"; the trace is truncated ({trace.TruncationReason})" : ""));
        return 0;
    }

    private static string Describe(int snapshots, long bytes, TraceFile trace)
    {
        ulong steps = Math.Max(1, trace.End?.Step ?? trace.LastStep);
        return $"{snapshots} snapshots over {steps} steps, {bytes} bytes ({bytes * 1e9 / steps / (1 << 20):F1} MiB per 10^9 steps)";
    }

    private static CliOptions.TryParse<T?> Nullable<T>(CliOptions.TryParse<T> parse) where T : struct =>
        (string text, out T? value) =>
        {
            bool ok = parse(text, out T inner);
            value = ok ? inner : null;
            return ok;
        };
}
