using System.Diagnostics;
using ReplayVm.Cli.Tests.Support;

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

    private static string Tmux(params string[] args) => TmuxServer.Run(args);

    private static string WaitFor(string session, Func<string, bool> done)
    {
        // tools/replayvm rebuilds the CLI first when its sources changed, which can take a minute on a
        // busy 2-core machine: wait up to two minutes for the screen, checking ten times a second.
        string screen = "";
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(2))
        {
            screen = Tmux("capture-pane", "-p", "-t", session);
            if (done(screen)) return screen;
            Thread.Sleep(100);
        }
        // A wait that ran out is a failure here, with what the screen showed: returning the screen
        // let a test whose expectation never came true pass on assertions that did not need it.
        Assert.Fail($"the screen did not show what the test waited for within two minutes:\n{screen}");
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
            // Terminal.Gui writes a frame in pieces: wait for all of it, not the first piece.
            string screen = WaitFor(session, s => s.Contains("step 0 / ") && s.Contains("Quit") && s.Contains("pc   0000000000001000"));
            Assert.Contains("pc   0000000000001000", screen);
            string keys = screen.Split('\n').Last(l => l.Trim().Length > 0);
            foreach (string shortcut in new[] { "F1", "Help", "F5", "Cont", "Rev", "F10", "Over", "F11", "Step", "F9", "Break", "Quit" })
                Assert.Contains(shortcut, keys); // the status bar

            // Too small: a message instead of the panes, then back when the terminal grows again.
            Tmux("resize-window", "-t", session, "-x", "60", "-y", "20");
            screen = WaitFor(session, s => s.Contains("terminal too small"));
            Assert.Contains("need at least 80x24; now 60x20", screen);
            Tmux("resize-window", "-t", session, "-x", "200", "-y", "50");
            screen = WaitFor(session, s => s.Contains("step 0 / ") && !s.Contains("too small") && s.Contains("pc   0000000000001000"));
            Assert.Contains("pc   0000000000001000", screen);

            Keys(session, "s", "s", "s");
            screen = WaitFor(session, s => s.Contains("step 3 / ") && s.Contains("at step 3, pc 0x") && s.Contains("pc   000000000000100c*"));
            Assert.Contains("at step 3, pc 0x", screen);
            Assert.Contains("pc   000000000000100c*", screen);

            Keys(session, "S", "S", "S");
            screen = WaitFor(session, s => s.Contains("step 0 / ") && s.Contains("pc   0000000000001000"));
            Assert.Contains("pc   0000000000001000", screen);

            // Esc on the main screen and on the command line cancels, never quits.
            Keys(session, "Escape");
            screen = WaitFor(session, s => s.Contains("nothing to cancel"));
            Assert.Contains("nothing to cancel (q or Ctrl-Q quits)", screen);
            Keys(session, ":");
            Tmux("send-keys", "-t", session, "-l", "goto 3");
            Keys(session, "Escape", "Escape");
            screen = WaitFor(session, s => s.Contains("nothing to cancel") || s.Contains("command cancelled"));
            Assert.Contains("step 0 / ", screen);
            Assert.DoesNotContain("after debug", screen);

            Keys(session, ":");
            Tmux("send-keys", "-t", session, "b copy_name", "Enter");
            screen = WaitFor(session, s => s.Contains("1  break  0x") && s.Contains("<copy_name>"));
            Assert.Contains("<copy_name>", screen);

            // A command typed while another runs: its letters are typed, not obeyed, and it runs next.
            Keys(session, ":");
            Tmux("send-keys", "-t", session, "-l", "goto 99999999999");
            Tmux("send-keys", "-t", session, "Enter");
            Tmux("send-keys", "-t", session, ":");
            Tmux("send-keys", "-t", session, "-l", "goto 2");
            Tmux("send-keys", "-t", session, "Enter");
            screen = WaitFor(session, s => s.Contains("at step 2, pc 0x") && s.Contains("step 2 / "));
            Assert.Contains("> goto 2", screen); // the output pane keeps the history
            Keys(session, "Escape");
            screen = WaitFor(session, s => s.Contains("nothing to cancel"));
            Assert.DoesNotContain("after debug", screen);
            Keys(session, ":");
            Tmux("send-keys", "-t", session, "goto 0", "Enter");
            screen = WaitFor(session, s => s.Contains("at step 0, pc 0x"));

            Keys(session, "c");
            screen = WaitFor(session, s => s.Contains("breakpoint hit") && s.Contains("=>* 0x") && s.Contains("demo> add alice"));
            Assert.Contains("<copy_name>", screen);
            Assert.Contains("=>* 0x", screen);
            Assert.Contains("demo> add alice", screen); // the console as of this step
            Assert.DoesNotContain("add bob", screen);

            // The breakpoint is copy_name's loop head, so each `c` stops at the next character
            // copied: alice's five letters and the terminator, then bob's first.
            for (int hit = 0; hit < 6; hit++)
            {
                string before = System.Text.RegularExpressions.Regex.Match(screen, @"breakpoint hit at step (\d+)").Groups[1].Value;
                Keys(session, "c");
                screen = WaitFor(session, s => s.Contains("breakpoint hit at step") && !s.Contains($"breakpoint hit at step {before},"));
            }
            Assert.Contains("demo> add bob", screen);
            Keys(session, "C");
            screen = WaitFor(session, s => !s.Contains("add bob") && s.Contains("breakpoint hit") && s.Contains("add alice"));
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

    [Fact]
    public void Records_a_live_guest_takes_typed_keys_rewinds_and_leaves_a_trace_that_replays()
    {
        string session = $"replayvm-debug-live-{Environment.ProcessId}";
        string dir = Directory.CreateTempSubdirectory("replayvm-debug-live-").FullName;
        string trace = Path.Combine(dir, "live.rvtrace");
        Tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50",
            $"tools/replayvm debug --deterministic -o {trace} tools/guests/elf/demo.elf; echo \"exit $? after debug\"; sleep 60");
        try
        {
            string screen = WaitFor(session, s => s.Contains("step 0 / ") && s.Contains("recording live"));
            Assert.Contains("recording live", screen);

            // Run the guest live, type a command into it, wait for its answer, stop it.
            Keys(session, "c");
            WaitFor(session, s => s.Contains("Type help."));
            Tmux("send-keys", "-t", session, "-l", "help");
            Tmux("send-keys", "-t", session, "Enter");
            screen = WaitFor(session, s => s.Contains("guess      guess my number") && s.Contains("demo> help"));
            Assert.Contains("demo> help", screen);
            Keys(session, "Escape");
            screen = WaitFor(session, s => s.Contains("paused at step"));
            ulong stopped = ulong.Parse(System.Text.RegularExpressions.Regex.Match(screen, @"paused at step (\d+)").Groups[1].Value);
            Keys(session, "Escape"); // a second Esc: nothing to cancel, and the session stays
            screen = WaitFor(session, s => s.Contains("nothing to cancel"));
            Assert.DoesNotContain("after debug", screen);

            // Back in time over what was just recorded: the console rewinds with it. The guest waits in
            // wfi without steps until a key arrives, so "help" came in a few hundred steps after boot:
            // step 100 is before it.
            Keys(session, ":");
            Tmux("send-keys", "-t", session, "goto 100", "Enter");
            screen = WaitFor(session, s => s.Contains("at step 100,") && !s.Contains("demo> help"));
            Assert.DoesNotContain("demo> help", screen);
            Keys(session, ":");
            Tmux("send-keys", "-t", session, $"goto {stopped}", "Enter");
            screen = WaitFor(session, s => s.Contains($"at step {stopped},") && s.Contains("demo> help"));
            Assert.Contains("demo> help", screen);

            // Quitting a live session asks first: any key but y stays.
            Keys(session, "q");
            screen = WaitFor(session, s => s.Contains("quit? the live recording"));
            Keys(session, "n");
            screen = WaitFor(session, s => s.Contains("not quitting"));
            Assert.DoesNotContain("after debug", screen);
            Keys(session, "q", "y");
            screen = WaitFor(session, s => s.Contains("after debug"));
            Assert.Contains("exit 0 after debug", screen);
        }
        finally
        {
            Tmux("kill-session", "-t", session);
        }
        // The session's recording is complete and replays to what the guest printed there.
        var replayed = Support.CliProcess.Run("replay", trace);
        Assert.True(replayed.ExitCode == 0, replayed.ToString());
        Assert.Contains("demo> help", replayed.StdoutText);
        Assert.Contains("guess      guess my number", replayed.StdoutText);
        Directory.Delete(dir, recursive: true);
    }
}
