using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// OpenSBI + supervisor-mode U-Boot recorded from a scripted session (<c>--input-script</c>
/// waits for U-Boot's autoboot prompt before typing, since U-Boot drops earlier keys) and
/// replayed exactly.
/// </summary>
public sealed class FirmwareRecordReplayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-fwtrace-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Session = """
        # Stop autoboot once U-Boot offers it, then type commands at its prompt.
        wait Hit any key to stop autoboot
        send \n
        wait =>\x20
        send version\n
        wait =>\x20
        send help\n
        wait =>\x20
        send poweroff\n
        """;

    [Fact]
    public void OpenSbi_and_UBoot_with_typed_commands_replay_exactly()
    {
        string script = Path.Combine(_dir, "uboot.script");
        File.WriteAllText(script, Session);
        string trace = Path.Combine(_dir, "uboot.rvtrace");

        var recorded = CliProcess.Run("record", "-o", trace, "--hash-interval", "5M", "--input-script", script,
            "--bios", RequiredTools.OpenSbiFwJump, "--kernel", RequiredTools.UBootSupervisor);
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        string text = recorded.StdoutText.Replace("\r\n", "\n");
        Assert.Contains("OpenSBI v", text);
        Assert.Contains("=> version\nU-Boot 2023", text);
        Assert.Contains("=> help\n", text);
        Assert.Contains("bdinfo    - print Board Info structure", text);
        Assert.Contains("=> poweroff", text);

        var replayed = CliProcess.Run("replay", trace);
        Assert.Equal(0, replayed.ExitCode);
        Assert.True(recorded.Stdout.SequenceEqual(replayed.Stdout), replayed.ToString());
        Assert.Matches(@"replay identical: \d+ steps, ([1-9]\d*) state hashes matched, guest exit 0", replayed.Stderr);
    }

    [Fact]
    public void A_bad_input_script_is_one_line_naming_the_line()
    {
        string script = Path.Combine(_dir, "bad.script");
        File.WriteAllText(script, "wait =>\ntype help\n");
        var outcome = CliProcess.Run("record", "-o", Path.Combine(_dir, "x.rvtrace"), "--input-script", script, CliProcess.Guest("hello.elf"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("line 2: unknown command 'type'", Assert.Single(outcome.StderrLines));
    }
}
