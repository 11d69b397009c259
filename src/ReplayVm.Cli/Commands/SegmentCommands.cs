using System.Globalization;
using ReplayVm.Replay;
using ReplayVm.Replay.TraceIndex;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// <c>replay --segment I/N</c> (or <c>--segment-from-env N</c>, I from a Kubernetes Indexed Job's
/// <c>$JOB_COMPLETION_INDEX</c>) verifies one segment and prints its result as JSON on stdout;
/// <c>replay --merge RESULT...</c> checks the results fit the trace and gives a serial replay's
/// verdict. Writing a result is success (exit 0) whatever it says, so a scheduler does not retry a
/// divergence; the verdict is the merge's.
/// </summary>
internal static class SegmentCommands
{
    public const string IndexVariable = "JOB_COMPLETION_INDEX";

    public static (int Index, int Count) ParseSegment(string text)
    {
        int slash = text.IndexOf('/');
        if (slash > 0 && int.TryParse(text[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 1 << 20 && i < n)
            return (i, n);
        throw new UsageException($"--segment '{text}': give I/N with 0 <= I < N, e.g. 0/4");
    }

    public static (int Index, int Count) FromEnvironment(int count)
    {
        string? value = Environment.GetEnvironmentVariable(IndexVariable);
        if (value is null) throw new UsageException($"--segment-from-env: ${IndexVariable} is not set (a Kubernetes Indexed Job sets it; see docs/deploy/)");
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int i) || i >= count)
            throw new UsageException($"--segment-from-env: ${IndexVariable} is '{value}', not a segment number below {count}");
        return (i, count);
    }

    public static int Verify(string path, string[] drivePaths, (int Index, int Count) segment)
    {
        var trace = TraceReader.ReadFile(path);
        using var index = TraceSidecar.Open(path, trace)
                          ?? throw new UsageException($"--segment needs the trace's index: run 'replayvm index {path}' first (and ship {TraceIndexFormat.SidecarPath(path)} with the trace)");
        using var drives = TraceDrives.ForReplay(drivePaths, trace.Header);
        var result = SegmentVerification.Verify(trace, TraceIdentity.OfFile(path), index, segment.Index, segment.Count, drives.For(trace.Header.Setup));
        Console.Out.WriteLine(result.ToJson());
        Console.Out.Flush();
        Console.Error.WriteLine($"replayvm: segment {segment.Index}/{segment.Count}: steps {result.Start}..{result.End}, " +
                                $"{result.HashPointsChecked} state hashes matched, {result.Outcome}{(result.Problem is { } p ? $": {p}" : "")}");
        return 0;
    }

    /// <summary>The largest file taken as a segment result (one holds a few hundred bytes).</summary>
    private const long MaxResultBytes = 1 << 20;

    public static int Merge(string path, string[] resultPaths)
    {
        var trace = TraceReader.ReadFile(path);
        var results = new List<(string, SegmentResult)>();
        foreach (string file in resultPaths)
        {
            string text;
            try
            {
                // A result is a few hundred bytes; a file far larger is not one, and is not read whole.
                long length = new FileInfo(file).Length;
                if (length > MaxResultBytes)
                    return CliApp.Fail($"{file}: it is {length} bytes, not a segment result (those are under {MaxResultBytes / 1024} KiB); give the files 'replay --segment' wrote");
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return CliApp.Fail($"{file}: cannot read it: {e.Message}");
            }
            try
            {
                results.Add((file, SegmentResult.Parse(text.Trim())));
            }
            catch (SegmentResultException e)
            {
                return CliApp.Fail($"{file}: {e.Message}");
            }
        }
        MergedSegments merged;
        try
        {
            merged = SegmentVerification.Merge(trace, TraceIdentity.OfFile(path), results);
        }
        catch (SegmentResultException e)
        {
            return CliApp.Fail($"segment results do not add up to {path}: {e.Message}");
        }
        return ReplayCommand.ReportVerdict(path, trace, merged.Outcome, merged.Steps, merged.HashPointsChecked, merged.Divergence);
    }
}
