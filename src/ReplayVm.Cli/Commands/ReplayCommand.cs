using System.CommandLine;
using ReplayVm.Cli.Hosting;
using ReplayVm.Replay;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replayvm replay FILE.rvtrace</c>: rebuilds the recorded machine from the trace alone, feeds
/// the recorded inputs back, prints the guest's console output (byte for byte what <c>record</c>
/// printed) and checks every state hash. Exit status: the recorded one (<see cref="RecordedStatus"/>);
/// 3 on divergence; 4 when the trace is truncated (all it holds matched); 2 for a bad trace.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE.rvtrace") { Description = "The trace to replay." };
        var drive = new Option<string[]>("--drive")
        {
            Description = "A disk image the trace names by hash only (recorded with --no-embed-disks or too large to embed); " +
                          "repeat in the trace's disk order. Checked against the recorded SHA-256 and never written.",
            HelpName = "FILE",
        };
        var jobs = CliOptions.ParsedValue<int>(["--jobs", "-j"], "N",
            "Replay the segments between the snapshots of the trace's index (replayvm index) on N machines at once; " +
            "the result, output and exit status are those of a serial replay [default: 1].",
            "job count", "a number from 1 to 256", (string text, out int n) =>
                int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out n) && n is >= 1 and <= 256);
        var segment = new Option<string?>("--segment")
        {
            Description = "Verify only segment I of N (0-based) between snapshots of the trace's index and print the result as one " +
                          "JSON object on stdout (no console output); 'replay --merge' combines the N results.",
            HelpName = "I/N",
        };
        var segmentFromEnv = CliOptions.ParsedValue<int>(["--segment-from-env"], "N",
            "As --segment, with I taken from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job; see docs/deploy/).",
            "segment count", "a number from 1 to 1048576", (string text, out int n) =>
                int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out n) && n is >= 1 and <= 1 << 20);
        var merge = new Option<string[]>("--merge")
        {
            Description = "Merge the --segment results in these files (one per segment) into the verdict a serial replay of the trace gives " +
                          "(its last line and exit status), after checking they cover the trace exactly and agree.",
            HelpName = "RESULT",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("replay",
            "Replay a trace headless: the guest's console output on stdout, every state hash checked. " +
            "Exit: the recorded status; 3 diverged; 4 truncated trace; 2 bad trace.")
        {
            file, drive, jobs, segment, segmentFromEnv, merge,
        };
        command.SetAction(parsed =>
        {
            string path = parsed.GetValue(file)!;
            string[] drives = parsed.GetValue(drive) ?? [];
            var results = parsed.GetValue(merge) ?? [];
            var given = new[] { parsed.GetValue(segment) is not null, parsed.GetValue(segmentFromEnv) is not null, results.Length > 0, parsed.GetValue(jobs) is not null };
            if (given.Count(g => g) > 1) throw new UsageException("--segment, --segment-from-env, --merge and --jobs go one at a time");
            if (results.Length > 0) return SegmentCommands.Merge(path, results);
            if (parsed.GetValue(segment) is { } text) return SegmentCommands.Verify(path, drives, SegmentCommands.ParseSegment(text));
            if (parsed.GetValue(segmentFromEnv) is { } count) return SegmentCommands.Verify(path, drives, SegmentCommands.FromEnvironment(count.Value));
            return Execute(path, drives, parsed.GetValue(jobs)?.Value ?? 1);
        });
        return command;
    }

    private static int Execute(string path, string[] drivePaths, int jobs)
    {
        Replay.TraceIndex.SegmentTrace.Mark("replay command");
        var trace = TraceReader.ReadFile(path);
        Replay.TraceIndex.SegmentTrace.Mark("trace read");
        using var drives = TraceDrives.ForReplay(drivePaths, trace.Header);
        ReplayResult result;
        using (var output = new ConsoleOutputPump(new FileDescriptorStream(FileDescriptorStream.Stdout)))
        {
            var disks = drives.For(trace.Header.Setup);
            // The segments need only the index's snapshots; it opens while their machines are built.
            result = jobs > 1
                ? Replay.TraceIndex.SegmentReplay.Run(trace, () => TraceSidecar.Open(path, trace), jobs, output.Write, disks, TraceSidecar.Notice,
                    noIndex: () => Console.Error.WriteLine($"replayvm: {path} has no usable index: replaying on one machine (run 'replayvm index {path}' for --jobs)"))
                : new Replayer(trace, output.Write, disks: disks).Run();
        }

        Replay.TraceIndex.SegmentTrace.Mark($"replayed ({GC.GetTotalPauseDuration().TotalMilliseconds:F0} ms paused for GC)");
        return ReportVerdict(path, trace, result.Outcome, result.Steps, result.HashPointsChecked, result.Divergence?.ToString());
    }

    /// <summary>The verdict line of a replay (serial, parallel or merged from segments) and its exit status.</summary>
    internal static int ReportVerdict(string path, TraceFile trace, ReplayOutcome outcome, ulong steps, int hashPointsChecked, string? divergence)
    {
        var error = Console.Error;
        switch (outcome)
        {
            case ReplayOutcome.Diverged:
                error.WriteLine($"replayvm: replay {divergence}");
                return ExitCodes.Diverged;
            case ReplayOutcome.Truncated:
                error.WriteLine($"replayvm: {path} is truncated ({trace.TruncationReason}); " +
                                $"replayed to step {steps}, {hashPointsChecked} state hashes matched");
                return ExitCodes.Truncated;
            default:
                var end = trace.End!;
                error.WriteLine($"replayvm: replay identical: {steps} steps, {hashPointsChecked} state hashes matched, " +
                                $"{RecordedStatus.Describe(end)}");
                return RecordedStatus.Of(end);
        }
    }
}
