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
        // After the debugger quits the shell reports the terminal's mode: it must be cooked again (icanon, echo).
        Tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50",
            "tools/replayvm debug traces/demo.rvtrace; echo \"exit $? after debug\"; stty -a | tr ' ' '\\n' | grep -x -e '-\\?icanon' -e '-\\?echo'; sleep 60");
        try
        {
            string screen = WaitFor(session, s => s.Contains("step 0 / "));
            Assert.Contains("pc   0000000000001000", screen);
            string keys = screen.Split('\n').Last(l => l.Trim().Length > 0);
            foreach (string shortcut in new[] { "F1", "Help", "F5", "Cont", "Rev", "F10", "Over", "F11", "Step", "F9", "Break", "Quit" })
                Assert.Contains(shortcut, keys); // the status bar

            // Too small: a message instead of the panes, then back when the terminal grows again.
            Tmux("resize-window", "-t", session, "-x", "60", "-y", "20");
            screen = WaitFor(session, s => s.Contains("terminal too small"));
            Assert.Contains("need at least 80x24; now 60x20", screen);
            Tmux("resize-window", "-t", session, "-x", "200", "-y", "50");
            screen = WaitFor(session, s => s.Contains("step 0 / ") && !s.Contains("too small"));
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
            screen = WaitFor(session, s => s.Contains("after debug") && s.Contains("echo"));
            Assert.Contains("exit 0 after debug", screen);
            var modes = screen.Split('\n').Select(l => l.Trim()).ToList();
            Assert.Contains("icanon", modes);
            Assert.Contains("echo", modes);
        }
        finally
        {
            Tmux("kill-session", "-t", session);
        }
    }
}
