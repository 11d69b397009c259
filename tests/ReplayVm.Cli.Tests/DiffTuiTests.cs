using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// <c>replayvm debug A B</c> and <c>replayvm diff A B --tui</c> end to end: two demo recordings made with
/// <c>record --deterministic --input</c> that differ in one word, opened side by side in a detached tmux
/// pane and driven by keys; and the one-line refusal of traces that cannot be compared. tmux is a
/// required tool: missing, the test fails.
/// </summary>
public sealed class DiffTuiTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-difftui-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Record(string name, byte[] keys, params string[] options)
    {
        string input = Path.Combine(_dir, name + ".stdin");
        File.WriteAllBytes(input, keys);
        string trace = Path.Combine(_dir, name + ".rvtrace");
        var outcome = CliProcess.Run(["record", "--deterministic", "--hash-interval", "2000", "-o", trace, "--input", input, .. options, CliProcess.Guest("demo.elf")]);
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        return trace;
    }

    private static byte[] Keys(string from, string to) =>
        Encoding.ASCII.GetBytes(File.ReadAllText(CliProcess.Expected("demo.stdin")).Replace(from, to, StringComparison.Ordinal));

    private static string Tmux(params string[] args) => TmuxServer.Run(args);

    /// <summary>The screen once <paramref name="done"/> holds (tools/replayvm may rebuild the CLI first: up to two minutes).</summary>
    private static string WaitFor(string session, Func<string, bool> done)
    {
        string screen = "";
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(2))
        {
            screen = Tmux("capture-pane", "-p", "-t", session);
            if (done(screen)) return screen;
            Thread.Sleep(100);
        }
        // Running out is a failure with the screen shown, never a silent return to assertions that may not need it.
        Assert.Fail($"the screen did not show what the test waited for within two minutes:\n{screen}");
        return screen;
    }

    [Fact]
    public void Two_runs_open_side_by_side_and_the_first_divergence_is_diffs_step()
    {
        string a = Record("a", Keys("add bob", "add bob"));
        string b = Record("b", Keys("add bob", "add bOb"));
        var diff = CliProcess.Run("diff", a, b);
        Assert.True(diff.ExitCode == 1, diff.ToString());
        string step = Regex.Match(diff.StdoutText, @"^differ at step (\d+):").Groups[1].Value;
        Assert.NotEmpty(step);

        string session = $"replayvm-difftui-{Environment.ProcessId}";
        Tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50", $"tools/replayvm debug {a} {b}; echo \"exit $? after debug\"; sleep 60");
        try
        {
            string screen = WaitFor(session, s => s.Contains("step 0 · equal here") && s.Contains("Quit") && s.Contains("Code B"));
            Assert.Contains("step 0 · equal here", screen);
            Assert.Contains("Code A — step 0, pc 0x1000", screen);
            Assert.Contains("Code B — step 0, pc 0x1000", screen);

            Tmux("send-keys", "-t", session, "F7");
            screen = WaitFor(session, s => s.Contains($"differ at step {step}") && s.Contains("differ here"));
            Assert.Contains($"step {step} · differ here · differ at step {step}", screen);
            // The loaded byte differs: 'o' in A, 'O' in B, both marked.
            Assert.Matches(@"a0\s+000000000000006f! 000000000000004f!", screen);
            Assert.Contains("B received 'dd alice\\nadd bO'", screen);

            // One step back on both: equal again.
            Tmux("send-keys", "-t", session, ":");
            Tmux("send-keys", "-t", session, "rsi", "Enter");
            screen = WaitFor(session, s => s.Contains($"step {ulong.Parse(step) - 1} · equal here"));
            Assert.Contains($"step {ulong.Parse(step) - 1} · equal here", screen);

            Tmux("send-keys", "-t", session, "q");
            screen = WaitFor(session, s => s.Contains("after debug"));
            Assert.Contains("exit 0 after debug", screen);
        }
        finally
        {
            Tmux("kill-session", "-t", session);
        }
    }

    [Fact]
    public void Diff_all_lists_every_divergence_starting_with_diffs_step()
    {
        string a = Record("a", Keys("add bob", "add bob"));
        string b = Record("b", Keys("add bob", "add bOb"));
        string step = Regex.Match(CliProcess.Run("diff", a, b).StdoutText, @"^differ at step (\d+):").Groups[1].Value;
        var all = CliProcess.Run("diff", "--all", a, b);
        Assert.True(all.ExitCode == 1, all.ToString());
        var lines = all.StdoutText.TrimEnd('\n').Split('\n');
        // The changed name stays in the guest's table: the runs part once and never join again.
        Assert.Equal($"differ at step {step}", lines[0]);
        Assert.Matches(@"^compared to step \d+: \d+ steps replayed \(both runs together\), \d+ compared one by one$", lines[1]);
        Assert.Equal(2, lines.Length);

        var same = CliProcess.Run("diff", "--all", a, Record("c", Keys("add bob", "add bob")));
        Assert.True(same.ExitCode == 0, same.ToString());
        Assert.StartsWith("the states never differ up to step ", same.StdoutText);
    }

    [Fact]
    public void Traces_of_machines_that_cannot_be_compared_are_one_line_and_exit_2()
    {
        string a = Record("a", Keys("quit", "quit"));
        string big = Record("big", Keys("quit", "quit"), "-m", "32M");
        foreach (var command in new[] { new[] { "debug", a, big }, ["diff", a, big, "--tui"] })
        {
            var outcome = CliProcess.Run(command);
            Assert.True(outcome.ExitCode == 2, outcome.ToString());
            string line = Assert.Single(outcome.StderrLines);
            Assert.StartsWith("replayvm: ", line);
            Assert.Contains("RAM size 128 MiB vs 32 MiB", line);
            Assert.Contains("cannot be compared step by step", line);
            Assert.Empty(outcome.Stdout);
        }
        // A second argument that is not a trace is refused the same way.
        var notTrace = CliProcess.Run("debug", a, CliProcess.Guest("demo.elf"));
        Assert.Equal(2, notTrace.ExitCode);
        Assert.Contains("takes two traces", Assert.Single(notTrace.StderrLines));
    }
}
