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
        string path = TraceIndexFormat.SidecarPath(tracePath);
        if (!File.Exists(path)) return null;
        try
        {
            return TraceIndexFile.Open(path, trace, TraceIdentity.OfFile(tracePath));
        }
        catch (TraceIndexException e)
        {
            Console.Error.WriteLine($"replayvm: index {path} ignored: {e.Message} (run 'replayvm index {tracePath}' to rebuild it)");
            return null;
        }
    }

    /// <summary>A one-line notice for a sidecar dropped during a session.</summary>
    public static void Notice(string message) => Console.Error.WriteLine($"replayvm: {message}");
}
