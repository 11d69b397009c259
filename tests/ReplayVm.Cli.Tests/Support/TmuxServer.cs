using System.Diagnostics;

namespace ReplayVm.Cli.Tests.Support;

/// <summary>
/// tmux commands for the end-to-end terminal tests, all on a tmux server of this test process's own
/// (<c>tmux -L</c>): on the default server, anyone's <c>tmux kill-server</c> or a session of the same
/// name on the machine would end or confuse a test's pane (a two-minute demo session read back an
/// empty pane once that way). The server exits when its last session ends.
/// </summary>
public static class TmuxServer
{
    /// <summary>The socket name: one per test process, so parallel test runs never share a server.</summary>
    public static readonly string SocketName = $"replayvm-tests-{Environment.ProcessId}";

    /// <summary>Runs <c>tmux -L SOCKET ARGS</c> and returns its standard output.</summary>
    public static string Run(params string[] args)
    {
        var info = new ProcessStartInfo(RequiredTools.Tmux) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = CliProcess.RepoRoot };
        info.ArgumentList.Add("-L");
        info.ArgumentList.Add(SocketName);
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info) ?? throw new InvalidOperationException("tmux did not start");
        var error = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        error.Wait();
        p.WaitForExit();
        return output;
    }
}
