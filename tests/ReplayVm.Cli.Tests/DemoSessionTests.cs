using System.Diagnostics;
using System.Text.RegularExpressions;
using ReplayVm.Cli.Tests.Support;
using ReplayVm.Replay;
using ReplayVm.Tui.Session;
using Xunit.Abstractions;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// Idle costs nothing (issue 11's goal, tested as its "Tests" list asks): <c>tools/demo</c> run in
/// a tmux terminal exactly as a person runs it, left at the guest's prompt for two minutes of wall
/// time with a few commands typed in between, records fewer than 10^8 steps (a guest busy-polling its
/// UART recorded 3.6–7.2×10^9 in that time); the debugger it then opens finds copy_name with
/// <c>b copy_name</c>, <c>c</c>, and the recording replays to what the session printed.
/// </summary>
[WallClockBound]
public sealed class DemoSessionTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan SessionLength = TimeSpan.FromMinutes(2);
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-demo-session-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Two_minutes_of_the_interactive_demo_in_tmux_record_under_10_to_the_8_steps()
    {
        string trace = Path.Combine(_dir, "session.rvtrace");
        using var pane = TmuxPane.Start($"tools/demo '{trace}'; echo \"demo exit $?\"; sleep 600");
        // tools/demo builds the Release CLI first when its sources changed: allow for a slow build.
        await pane.WaitFor(s => s.Contains("demo>"), TimeSpan.FromMinutes(5), "the guest's first prompt"); // tmux trims the space
        var session = Stopwatch.StartNew();

        // Commands at even intervals, the last one two minutes in, as someone trying the shell would.
        string[] commands = ["help", "add ada", "list", "add bob", "quit"];
        for (int i = 0; i < commands.Length; i++)
        {
            var due = SessionLength * (i + 1) / commands.Length;
            if (due > session.Elapsed) await Task.Delay(due - session.Elapsed);
            pane.Type(commands[i]);
            pane.Press("Enter");
        }
        string screen = await pane.WaitFor(s => s.Contains("press Enter to open the recording"), TimeSpan.FromMinutes(1), "the end of the recording");
        output.WriteLine($"recorded {session.Elapsed.TotalSeconds:0} s of wall time");
        Assert.Contains("bye", screen);
        Assert.True(session.Elapsed >= SessionLength, $"the session lasted only {session.Elapsed}");

        var info = CliProcess.Run("info", trace);
        Assert.True(info.ExitCode == 0, info.ToString());
        var steps = Regex.Match(info.StdoutText, @"steps\s+([\d,_ ]+)");
        Assert.True(steps.Success, info.StdoutText);
        ulong count = ulong.Parse(Regex.Replace(steps.Groups[1].Value, @"[^\d]", ""));
        output.WriteLine($"steps recorded: {count:N0}");
        Assert.True(count < 100_000_000, $"two minutes of the demo recorded {count} steps\n{info.StdoutText}");

        // The README's first hint, in the debugger tools/demo opens: b copy_name, c.
        pane.Press("Enter");
        await pane.WaitFor(s => s.Contains("step 0 / ") && s.Contains("Quit"), TimeSpan.FromMinutes(1), "the debugger");
        pane.Press(":");
        pane.Type("b copy_name");
        pane.Press("Enter");
        await pane.WaitFor(s => s.Contains("<copy_name>"), TimeSpan.FromMinutes(1), "the breakpoint");
        var continued = Stopwatch.StartNew();
        pane.Press("c");
        // Terminal.Gui draws a frame in pieces: wait for the console pane too, not the status line alone.
        screen = await pane.WaitFor(s => s.Contains("breakpoint hit") && s.Contains("demo> add ada"), TimeSpan.FromMinutes(2), "the breakpoint hit, with the console as of it");
        output.WriteLine($"c to copy_name on the screen after {continued.Elapsed.TotalSeconds:0.00} s (polled every 0.1 s)");
        Assert.Contains("demo> add ada", screen);   // the console as of the hit
        Assert.DoesNotContain("add bob", screen);
        pane.Press("q");
        screen = await pane.WaitFor(s => s.Contains("demo exit"), TimeSpan.FromMinutes(1), "the end of tools/demo");
        Assert.Contains("demo exit 0", screen);

        // The same movement without a terminal (a figure for the issue's 1 s goal, not asserted).
        var times = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            var debug = new DebugSession(new ReplayTimeline(TraceReader.ReadFile(trace)));
            debug.Execute("b copy_name");
            var clock = Stopwatch.StartNew();
            var hit = debug.Execute("c");
            times.Add(clock.Elapsed.TotalSeconds);
            Assert.Contains("copy_name", hit.Text);
        }
        times.Sort();
        output.WriteLine($"headless c to copy_name: min {times[0]:0.000} s, median {times[1]:0.000} s, max {times[2]:0.000} s");

        var replayed = CliProcess.Run("replay", trace);
        Assert.True(replayed.ExitCode == 0, replayed.ToString());
        Assert.Contains("1. ada (wins: 0)", replayed.StdoutText);
        Assert.Contains("added bob", replayed.StdoutText);
    }
}
