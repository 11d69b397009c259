using System.Text.RegularExpressions;
using ReplayVm.Cli.Tests.Support;
using static ReplayVm.Cli.Tests.Support.GdbTranscript;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// <c>replayvm gdb</c> on a recording of OpenSBI + supervisor-mode U-Boot: gdb-multiarch stops at
/// U-Boot's entry, steps back across OpenSBI's <c>mret</c> into machine mode and forwards again,
/// with gdb's virtual <c>priv</c> register following the mode switch.
/// </summary>
public sealed class GdbFirmwareTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-gdbfw-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>fw_jump's FW_JUMP_ADDR for QEMU virt: where OpenSBI's mret enters the S-mode payload.</summary>
    private const ulong UBootEntry = 0x80200000;

    /// <summary>OpenSBI's own region: fw_jump is linked at 0x8000_0000 and reserves up to the payload.</summary>
    private const ulong OpenSbiStart = 0x80000000, OpenSbiEnd = UBootEntry;

    private const string Session = """
        # Stop autoboot once U-Boot offers it, ask for its version, then power off.
        wait Hit any key to stop autoboot
        send \n
        wait =>\x20
        send version\n
        wait =>\x20
        send poweroff\n
        """;

    [Fact]
    public void Gdb_steps_back_across_the_mret_from_OpenSbi_into_UBoot()
    {
        string gdb = GdbSession.GdbMultiarch();
        string trace = RecordFirmware();
        using var server = GdbServerProcess.Start(trace);

        string output = GdbSession.Run(gdb, server.Port, symbolFile: null, TimeSpan.FromSeconds(240),
            $"break *0x{UBootEntry:x}",
            "continue",
            Registers("ENTRY"),
            Privilege("ENTRY"),
            "info registers priv",
            "reverse-stepi",
            Registers("BEFORE"),
            Privilege("BEFORE"),
            "info registers priv",
            "x/i $pc",
            "stepi",
            Registers("AGAIN"),
            Privilege("AGAIN"),
            "info registers priv",
            "delete",
            "continue");

        // Stopped at U-Boot's first instruction, in supervisor mode (privileged spec 1.2, table 1.1: S = 1).
        Assert.Contains($"Breakpoint 1, 0x{UBootEntry:x16} in ?? ()", output);
        Assert.Equal(UBootEntry, Hex(Line(output, "ENTRY"), "pc"));
        Assert.Equal(1UL, Hex(Line(output, "ENTRY"), "priv"));
        // SBI boot protocol: a0 = boot hart id, a1 = device-tree address (in RAM, above the payload).
        Assert.Equal(0UL, Hex(Line(output, "ENTRY"), "a0"));
        Assert.InRange(Hex(Line(output, "ENTRY"), "a1"), UBootEntry + 1, 0x8800_0000UL - 1);

        // One instruction back is OpenSBI's mret, still in machine mode (M = 3); mret itself
        // changes no general register (privileged spec 3.3.2), so a0/a1 are already set.
        ulong before = Hex(Line(output, "BEFORE"), "pc");
        Assert.InRange(before, OpenSbiStart, OpenSbiEnd - 1);
        Assert.Equal(3UL, Hex(Line(output, "BEFORE"), "priv"));
        Assert.Matches($@"=> 0x{before:x}:\s+mret", output);
        Assert.Equal(Gprs(Line(output, "ENTRY")), Gprs(Line(output, "BEFORE")));

        // Forwards again: the mret lands on U-Boot's entry in S-mode with the same registers.
        Assert.Equal(Line(output, "ENTRY"), Line(output, "AGAIN"));

        // gdb's own view of the virtual register names the modes: S, then M one step back, then S again.
        var modes = Regex.Matches(output, @"^priv\s+0x\d\s+prv:\d \[(\w+)\]", RegexOptions.Multiline).Select(m => m.Groups[1].Value);
        Assert.Equal(["Supervisor", "Machine", "Supervisor"], modes);

        // Without breakpoints, the replay runs to U-Boot's poweroff: the end of the recording, where gdb stays.
        Assert.Contains("replayvm: the guest exited with status 0 here, at the end of the recording", output);
        Assert.Contains("No more reverse-execution history.", output);
        Assert.DoesNotContain("exited normally", output);

        Assert.Equal(0, server.Stop());
    }

    private string RecordFirmware()
    {
        string script = Path.Combine(_dir, "uboot.script");
        File.WriteAllText(script, Session);
        string trace = Path.Combine(_dir, "uboot.rvtrace");
        var recorded = CliProcess.Run("record", "-o", trace, "--input-script", script,
            "--bios", RequiredTools.OpenSbiFwJump, "--kernel", RequiredTools.UBootSupervisor);
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        Assert.Contains("=> version", recorded.StdoutText);
        return trace;
    }

    private static string Registers(string label) =>
        $"printf \"{label} pc=%lx a0=%lx a1=%lx sp=%lx ra=%lx\\n\", $pc, $a0, $a1, $sp, $ra";

    private static string Privilege(string label) => $"printf \"{label}-PRIV priv=%lx\\n\", $priv";

    /// <summary>The label's register line with its privilege appended, so one string compares both.</summary>
    private static string Line(string output, string label) =>
        GdbTranscript.Line(output, label) + " " + GdbTranscript.Line(output, label + "-PRIV");

    /// <summary>The line without its pc and priv: the general registers only.</summary>
    private static string Gprs(string line) => Regex.Replace(line, @"\b(pc|priv)=[0-9a-f]+", "");
}
