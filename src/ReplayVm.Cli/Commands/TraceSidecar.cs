using ReplayVm.Replay;
using ReplayVm.Replay.TraceIndex;

namespace ReplayVm.Cli.Commands;

/// <summary>Finding and opening a trace's index sidecar (<c>TRACE.rvindex</c>) for the commands that can use one.</summary>
internal static class TraceSidecar
{
    /// <summary>
    /// The sidecar beside <paramref name="tracePath"/>, opened and checked; null when there is none,
    /// or (with a one-line notice on stderr) when it is damaged or belongs to another trace.
    /// </summary>
    public static TraceIndexFile? Open(string tracePath, TraceFile trace)
    {
        var index = TryOpen(tracePath, trace, out string? problem);
        if (problem is not null)
            Console.Error.WriteLine($"replayvm: index {TraceIndexFormat.SidecarPath(tracePath)} ignored: {problem} (run 'replayvm index {tracePath}' to rebuild it)");
        return index;
    }

    /// <summary>
    /// For <c>debug</c> and <c>gdb</c>: the sound sidecar beside the trace, or else (the trace being
    /// long enough to gain from one, <see cref="TraceIndexFormat.AutoBuildMinSteps"/>) a build of it
    /// started in the background, which the timeline follows as it grows. The caller owns the build.
    /// <paramref name="notice"/> is the one line to show about it, or null.
    /// </summary>
    public static (TraceIndexFile? Index, BackgroundIndexBuild? Build) OpenOrBuild(string tracePath, TraceFile trace, DiskSupply? disks,
        out string? notice)
    {
        string sidecar = TraceIndexFormat.SidecarPath(tracePath);
        var index = TryOpen(tracePath, trace, out string? problem);
        notice = null;
        if (index is not null) return (index, null);
        ulong steps = trace.End?.Step ?? trace.LastStep;
        if (steps < TraceIndexFormat.AutoBuildMinSteps)
        {
            if (problem is not null) notice = $"index {sidecar} ignored: {problem} (run 'replayvm index {tracePath}' to rebuild it)";
            return (null, null);
        }
        var build = BackgroundIndexBuild.Start(tracePath, trace, new TraceIndexOptions { Disks = disks });
        notice = problem is not null
            ? $"index {sidecar} ignored: {problem}; rebuilding it in the background"
            : $"no index for {tracePath}: building {sidecar} in the background (seeks get faster as it grows)";
        return (null, build);
    }

    /// <summary>What a finished background build says, one line.</summary>
    public static string Describe(BackgroundIndexBuild build) => build.State switch
    {
        IndexBuildState.Complete when build.Summary is { } s => $"wrote {build.SidecarPath}: {s.Snapshots} snapshots, {s.Bytes} bytes, {s.Replay.HashPointsChecked} state hashes matched",
        IndexBuildState.Failed => $"index {build.SidecarPath} not built: {build.Error}",
        IndexBuildState.Cancelled => $"index {build.SidecarPath} not built: stopped",
        _ => $"building {build.SidecarPath}: {build.Progress:P0}",
    };

    private static TraceIndexFile? TryOpen(string tracePath, TraceFile trace, out string? problem)
    {
        problem = null;
        string path = TraceIndexFormat.SidecarPath(tracePath);
        if (!File.Exists(path)) return null;
        try
        {
            return TraceIndexFile.Open(path, trace, TraceIdentity.OfFile(tracePath));
        }
        catch (TraceIndexException e)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>A one-line notice for a sidecar dropped during a session.</summary>
    public static void Notice(string message) => Console.Error.WriteLine($"replayvm: {message}");
}
