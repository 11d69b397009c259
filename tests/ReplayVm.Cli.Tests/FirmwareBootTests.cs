using ReplayVm.Cli.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>
/// Debian's OpenSBI and U-Boot, built for QEMU virt, booted by the real CLI with commands typed on
/// a piped stdin, and compared with what QEMU prints for the same keys.
/// </summary>
public class FirmwareBootTests
{
    private static readonly string[] Commands = ["version", "help", "bdinfo"];

    /// <summary>
    /// bdinfo lines that legitimately differ from QEMU: QEMU's virt has CFI flash at 0x2000_0000,
    /// which we do not model, and the device tree's size (hence where U-Boot relocates it and what
    /// it reserves) is ours.
    /// </summary>
    private static readonly string[] BoardSpecificBdinfoKeys = ["flashstart", "flashsize", "fdt_blob", "new_fdt", "fdt_size", " reserved["];

    [Fact]
    public void OpenSbi_then_supervisor_UBoot_answers_commands_like_qemu()
    {
        string[] boot = ["--bios", RequiredTools.OpenSbiFwJump, "--kernel", RequiredTools.UBootSupervisor];
        var ours = Drive(ConsoleSession.Replayvm(["run", .. boot]));
        var qemu = Drive(ConsoleSession.Qemu(boot));

        Assert.Contains("OpenSBI v", ours.Boot);
        Assert.Contains("Domain0 Next Mode         : S-mode", ours.Boot);
        AssertSameAnswers(qemu, ours);
    }

    [Fact]
    public void Machine_mode_UBoot_alone_answers_commands_like_qemu()
    {
        string[] boot = ["--bios", RequiredTools.UBootMachine];
        var ours = Drive(ConsoleSession.Replayvm(["run", .. boot]));
        var qemu = Drive(ConsoleSession.Qemu(boot));

        Assert.DoesNotContain("OpenSBI", ours.Boot);
        AssertSameAnswers(qemu, ours);
    }

    [Fact]
    public void Append_reaches_the_device_trees_chosen_node()
    {
        using var session = ConsoleSession.Replayvm("run", "--bios", RequiredTools.UBootMachine, "--append", "console=ttyS0 root=/dev/vda");
        session.WaitFor("Hit any key to stop autoboot");
        session.Type("\n");
        session.WaitFor("=> ");
        session.Type("fdt addr $fdtcontroladdr; fdt print /chosen\n");
        session.WaitFor("chosen {");
        Assert.Contains("bootargs = \"console=ttyS0 root=/dev/vda\";", session.WaitFor("};"));
        session.Type("poweroff\n");
        Assert.Equal(0, session.WaitForExit());
    }

    private static void AssertSameAnswers(UBootRun qemu, UBootRun ours)
    {
        Assert.Contains("U-Boot 2023", ours.Answers["version"]);
        Assert.Equal(qemu.Answers["version"], ours.Answers["version"]);
        Assert.Contains("bdinfo    - print Board Info structure", ours.Answers["help"]);
        Assert.Equal(qemu.Answers["help"], ours.Answers["help"]);
        Assert.Contains("-> start    = 0x0000000080000000", ours.Answers["bdinfo"]);
        Assert.Contains("-> size     = 0x0000000008000000", ours.Answers["bdinfo"]);
        Assert.Equal(Comparable(qemu.Answers["bdinfo"]), Comparable(ours.Answers["bdinfo"]));
        // U-Boot's poweroff asks the firmware (SBI SRST) or writes the sifive_test finisher itself.
        Assert.Equal(0, qemu.ExitCode);
        Assert.Equal(0, ours.ExitCode);
    }

    private static string[] Comparable(string bdinfo) =>
        bdinfo.Split('\n').Where(line => !BoardSpecificBdinfoKeys.Any(line.StartsWith)).ToArray();

    private sealed record UBootRun(string Boot, Dictionary<string, string> Answers, int ExitCode);

    /// <summary>
    /// Stops autoboot once U-Boot offers it (a key typed earlier is lost when U-Boot resets the
    /// UART), then types each command after a prompt and keeps what it printed, the echo removed.
    /// </summary>
    private static UBootRun Drive(ConsoleSession session)
    {
        using (session)
        {
            string boot = session.WaitFor("Hit any key to stop autoboot");
            session.Type("\n");
            session.WaitFor("=> ");
            var answers = new Dictionary<string, string>();
            foreach (var command in Commands)
            {
                session.Type(command + "\n");
                session.WaitFor(command + "\n");
                answers[command] = session.WaitFor("=> ");
            }
            session.Type("poweroff\n");
            int status = session.WaitForExit();
            return new UBootRun(boot, answers, status);
        }
    }
}
