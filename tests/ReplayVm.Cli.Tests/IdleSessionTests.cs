using System.Text.RegularExpressions;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// Idle costs nothing (issue 11): an interactive demo session that sits at its prompt for about 20
/// seconds of wall time records a few tens of thousands of steps, not the 10^8–10^9 a guest
/// busy-polling its UART ran up, and the recording still replays exactly. The recorder gets a
/// terminal through script(1), as in tools/demo.
/// </summary>
[WallClockBound]
public sealed class IdleSessionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-idle-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_demo_session_idling_20_seconds_stays_far_under_10_to_the_8_steps()
    {
        string trace = Path.Combine(_dir, "idle.rvtrace");
        string output = Path.Combine(_dir, "idle.out");
        using var session = ConsoleSession.Start(RequiredTools.Script,
            ["-qefc", $"dotnet '{CliProcess.CliDll}' record -o '{trace}' '{CliProcess.Guest("demo.elf")}' | tee '{output}'; echo status=$?", "/dev/null"]);
        session.WaitFor("demo> ");
        // Four pauses of 5 s at the prompt, with commands in between, as someone reading the help would.
        foreach (var command in new[] { "help", "list", "add ada", "list" })
        {
            Thread.Sleep(TimeSpan.FromSeconds(5));
            session.Type(command + "\r");
            session.WaitFor(command);   // the echo (WaitFor reads on from its last match)
            session.WaitFor("demo> ");
        }
        session.Type("quit\r");
        session.WaitFor("status=0");
        session.WaitForExit();

        var info = CliProcess.Run("info", trace);
        Assert.True(info.ExitCode == 0, info.ToString());
        var steps = Regex.Match(info.StdoutText, @"steps\s+([\d,_ ]+)");
        Assert.True(steps.Success, info.StdoutText);
        ulong count = ulong.Parse(Regex.Replace(steps.Groups[1].Value, @"[^\d]", ""));
        Assert.True(count < 1_000_000, $"the idle session recorded {count} steps\n{info.StdoutText}");

        var replayed = CliProcess.Run("replay", trace);
        Assert.True(replayed.ExitCode == 0, replayed.ToString());
        Assert.Equal(File.ReadAllBytes(output), replayed.Stdout);
        Assert.Contains("1. ada (wins: 0)", replayed.StdoutText);
    }
}
