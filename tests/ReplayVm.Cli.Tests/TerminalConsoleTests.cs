using System.Diagnostics;
using System.Text.RegularExpressions;
using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// The console when stdin is a terminal: raw mode during the run, QEMU's Ctrl-A keys, and the
/// terminal's settings back afterwards however the run ends. script(1) gives the CLI a
/// pseudo-terminal; a shell inside it runs replayvm, then prints its status and `stty -a`.
/// </summary>
public class TerminalConsoleTests
{
    private static ConsoleSession InTerminal(string shellCommand) =>
        ConsoleSession.Start(RequiredTools.Script, ["-qefc", shellCommand, "/dev/null"]);

    private static string ReplayvmCommand() =>
        $"dotnet '{CliProcess.CliDll}' run --bios '{RequiredTools.UBootMachine}'";

    [Fact]
    public void Keys_reach_the_guest_raw_and_ctrl_a_x_quits_restoring_the_terminal()
    {
        using var session = InTerminal($"{ReplayvmCommand()}; echo status=$?; stty -a");
        session.WaitFor("Hit any key to stop autoboot");
        session.Type("\r"); // Enter, as a terminal in raw mode sends it
        session.WaitFor("=> ");

        // Ctrl-C is a key for the guest, not SIGINT: U-Boot answers it at its prompt.
        session.Type("\x03");
        session.WaitFor("<INTERRUPT>");
        session.WaitFor("=> ");

        // Ctrl-A Ctrl-A types one Ctrl-A, which U-Boot's line editor takes as "start of line".
        session.Type("vers\x01\x01ion\r");
        session.WaitFor("Unknown command 'ionvers'");
        session.WaitFor("=> ");

        session.Type("\x01x");
        session.WaitFor("replayvm: terminated");
        session.WaitFor("status=0");
        AssertCookedMode(session.WaitFor("-extproc"));
        Assert.Equal(0, session.WaitForExit());
    }

    [Fact]
    public void Sigterm_stops_the_run_with_143_and_restores_the_terminal()
    {
        // Without job control a background command's stdin would be /dev/null; give it the terminal.
        using var session = InTerminal($"{ReplayvmCommand()} </dev/tty & echo pid=$!; wait $!; echo status=$?; stty -a");
        int pid = int.Parse(Regex.Match(session.WaitFor("Hit any key to stop autoboot"), @"pid=(\d+)").Groups[1].Value);
        Process.Start("kill", ["-TERM", pid.ToString()])!.WaitForExit();

        session.WaitFor("status=143");
        AssertCookedMode(session.WaitFor("-extproc"));
        Assert.Equal(0, session.WaitForExit());
    }

    /// <summary>`stty -a` shows echo, line editing and signal keys on again.</summary>
    private static void AssertCookedMode(string stty)
    {
        var flags = stty.Split([' ', '\n', ';'], StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("icanon", flags);
        Assert.Contains("echo", flags);
        Assert.Contains("isig", flags);
        Assert.Contains("icrnl", flags);
    }
}
