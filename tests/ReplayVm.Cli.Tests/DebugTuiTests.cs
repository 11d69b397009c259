using System.Diagnostics;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// End to end: <c>replayvm debug</c> on the committed demo trace inside a detached tmux pane, driven
/// by keys and read back with <c>tmux capture-pane -p</c>. tmux is a required tool: missing, the test fails.
/// </summary>
public class DebugTuiTests
{
    private static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln"))) return dir.FullName;
        throw new InvalidOperationException("ReplayVm.sln not found");
    }

    private static string Tmux(params string[] args)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root() };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info) ?? throw new InvalidOperationException("tmux did not start");
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output;
    }

    private static string WaitFor(string session, Func<string, bool> done)
    {
        string screen = "";
        for (int i = 0; i < 300; i++)
        {
            screen = Tmux("capture-pane", "-p", "-t", session);
            if (done(screen)) return screen;
            Thread.Sleep(100);
        }
        return screen;
    }

    private static void Keys(string session, params string[] keys)
    {
        foreach (var key in keys)
        {
            Tmux("send-keys", "-t", session, key);
            Thread.Sleep(150);
        }
    }

    [Fact]
    public void Steps_breaks_continues_and_reverse_continues_in_tmux()
    {
        string session = $"replayvm-debug-{Environment.ProcessId}";
        Tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50", "tools/replayvm debug traces/demo.rvtrace");
        try
        {
            string screen = WaitFor(session, s => s.Contains("step 0 / "));
            Assert.Contains("pc   0000000000001000", screen);

            Keys(session, "s", "s", "s");
            screen = WaitFor(session, s => s.Contains("step 3 / "));
            Assert.Contains("at step 3, pc 0x", screen);
            Assert.Contains("pc   000000000000100c*", screen);

            Keys(session, "S", "S", "S");
            screen = WaitFor(session, s => s.Contains("step 0 / "));
            Assert.Contains("pc   0000000000001000", screen);

            Keys(session, ":");
            Tmux("send-keys", "-t", session, "b copy_name", "Enter");
            screen = WaitFor(session, s => s.Contains("1  break  0x"));
            Assert.Contains("<copy_name>", screen);

            Keys(session, "c");
            screen = WaitFor(session, s => s.Contains("breakpoint hit"));
            Assert.Contains("<copy_name>", screen);
            Assert.Contains("=>* 0x", screen);
            Assert.Contains("demo> add alice", screen); // the console as of this step
            Assert.DoesNotContain("add bob", screen);

            Keys(session, "c");
            screen = WaitFor(session, s => s.Contains("add bob"));
            Keys(session, "C");
            screen = WaitFor(session, s => !s.Contains("add bob") && s.Contains("breakpoint hit"));
            Assert.DoesNotContain("add bob", screen); // rewinding rewound the console
            Assert.Contains("add alice", screen);

            Keys(session, "q");
            WaitFor(session, s => !Tmux("list-sessions").Contains(session));
        }
        finally
        {
            Tmux("kill-session", "-t", session);
        }
    }
}
