using ReplayVm.Cli.Tests.Support;
using ReplayVm.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>Every kind of bad input ends in exit status 2 and exactly one "replayvm: ..." line.</summary>
public class BadInputTests
{
    public static TheoryData<string, string[], string> Cases()
    {
        string textFile = Path.Combine(Path.GetTempPath(), $"replayvm-not-elf-{Environment.ProcessId}.txt");
        File.WriteAllText(textFile, "just some text\n");
        string hello = CliProcess.Guest("hello.elf");
        string bigFirmware = Path.Combine(Path.GetTempPath(), $"replayvm-big-firmware-{Environment.ProcessId}.bin");
        File.WriteAllBytes(bigFirmware, new byte[2 << 20]);
        string readOnlyDisk = Path.Combine(Path.GetTempPath(), $"replayvm-read-only-{Environment.ProcessId}.img");
        // The Cli's tests run on Linux only (tmux, QEMU); the guard tells the platform analyzer so.
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("these tests need Unix file modes");
        if (File.Exists(readOnlyDisk)) File.SetUnixFileMode(readOnlyDisk, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllBytes(readOnlyDisk, new byte[4096]);
        File.SetUnixFileMode(readOnlyDisk, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        // Literal paths (not RequiredTools): a missing package then fails only the cases that use it.
        const string openSbi = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf";
        string arbiter = "file:" + Path.Combine(Path.GetTempPath(), $"replayvm-bad-input-arbiter-{Environment.ProcessId}");
        return new()
        {
            { "missing file", ["run", "/no/such/guest.elf"], "no such file" },
            { "directory", ["run", "/tmp"], "is a directory" },
            { "text file", ["run", textFile], "not an ELF file" },
            { "x86-64 ELF", ["run", "/bin/ls"], "ELF for x86-64 (machine 62), need RISC-V" },
            { "RV32 ELF", ["run", TestGuests.Rv32Elf], "32-bit ELF (RV32), need ELF64" },
            { "object file", ["run", TestGuests.Rv64Object], "relocatable object file" },
            { "segment outside RAM", ["run", "-m", "1M", hello], "" },
            { "raw image outside RAM", ["run", "--load-address", "0x1000", hello], "" },
            { "unknown option", ["run", "--frobnicate", hello], "unknown option '--frobnicate'" },
            { "unknown command", ["frobnicate"], "unknown command or extra argument 'frobnicate'" },
            { "no command", [], "Required command was not provided" },
            { "nothing to run", ["run"], "nothing to run: give a GUEST file, or --bios FIRMWARE" },
            { "firmware too big", ["run", "-m", "1M", "--bios", bigFirmware], "firmware of 2097152 bytes at 0x80000000 does not fit in RAM" },
            { "kernel overlaps firmware", ["run", "--bios", openSbi, "--kernel", hello], "kernel at 0x80000000-" },
            { "missing firmware", ["run", "--bios", "/no/such/fw.bin"], "/no/such/fw.bin: no such file" },
            { "firmware not RISC-V", ["run", "--bios", "/bin/ls"], "/bin/ls: ELF for x86-64" },
            { "kernel without bios", ["run", "--kernel", hello], "--kernel needs --bios FIRMWARE" },
            { "guest and bios", ["run", "--bios", openSbi, hello], "give either GUEST or --bios, not both" },
            { "debug symbols not an ELF", ["debug", "--symbols", textFile, "traces/demo.rvtrace"], "not an ELF file" },
            { "debug symbols missing", ["debug", "--symbols", "/no/such/vmlinux", "traces/demo.rvtrace"], "/no/such/vmlinux: no such file" },
            { "initrd without kernel", ["run", "--bios", openSbi, "--initrd", textFile], "--initrd needs --kernel FILE" },
            { "missing initrd", ["run", "--bios", openSbi, "--kernel", bigFirmware, "--initrd", "/no/such/initrd"], "/no/such/initrd: no such file" },
            { "initrd into the device tree", ["run", "--bios", openSbi, "--kernel", bigFirmware, "--initrd", bigFirmware, "-m", "8M"], "overlaps the device tree" },
            { "bios and load address", ["run", "--bios", openSbi, "--load-address", "0x80000000"], "--load-address is for a raw GUEST" },
            { "missing disk", ["run", "--drive", "/no/such/disk.img", hello], "/no/such/disk.img: no such disk image" },
            { "disk is a directory", ["run", "--drive", "/tmp", hello], "/tmp: is a directory" },
            { "persist read-only disk", ["run", "--persist", "--drive", readOnlyDisk, hello], "read-only, so --persist cannot write to it" },
            { "persist without drive", ["run", "--persist", hello], "--persist needs a --drive FILE" },
            { "bios on spike", ["run", "--machine", "spike", "--bios", openSbi], "need --machine virt" },
            { "bad -m", ["run", "-m", "lots", hello], "bad memory size 'lots' for -m/--memory" },
            { "bad -m suffix", ["run", "-m", "12X", hello], "bad memory size '12X'" },
            { "zero -m", ["run", "--memory", "0", hello], "bad memory size '0'" },
            { "odd RAM size", ["run", "-m", "1001K", hello], "bad memory size '1001K' for -m/--memory (a multiple of 4 KiB" },
            { "bad count", ["run", "--max-instructions", "many", hello], "bad instruction count 'many'" },
            { "bad machine", ["run", "--machine", "pc", hello], "bad machine 'pc' for --machine (virt or spike)" },
            { "bad address", ["run", "--load-address", "0xZZ", hello], "bad address '0xZZ'" },
            { "disasm missing file", ["disasm", "/no/such.elf"], "no such file" },
            { "disasm text file", ["disasm", textFile], "not an ELF file" },
            { "disasm unknown symbol", ["disasm", hello, "--symbol", "no_such_function"], "no function named 'no_such_function'" },
            // The replica commands' numeric options (checked before any key, arbiter or socket is touched).
            { "bad replica milliseconds", ["primary", "--arbiter", arbiter, "--heartbeat-interval", "soon", hello], "bad milliseconds 'soon' for --heartbeat-interval" },
            { "bad replica seconds", ["backup", "--listen", "0", "--arbiter", arbiter, "--linger", "later"], "bad seconds 'later' for --linger" },
            { "negative linger", ["primary", "--arbiter", arbiter, "--linger", "-1", hello], "'-1'" },
            { "linger beyond a TimeSpan", ["primary", "--arbiter", arbiter, "--linger", "1e300", hello], "--linger takes seconds, from 0 to 86400" },
            { "bad lag steps", ["primary", "--arbiter", arbiter, "--max-lag", "far", hello], "bad step count 'far' for --max-lag" },
            { "zero lag time", ["primary", "--arbiter", arbiter, "--max-lag-ms", "0", hello], "--max-lag-ms takes a positive number of milliseconds" },
            { "console history too big", ["backup", "--listen", "0", "--arbiter", arbiter, "--console-history", "4096"], "--console-history takes MiB from 1 to 1024" },
            // Only the default heartbeat interval (25 ms) makes a 20 ms timeout too short.
            { "timeout under the default interval", ["primary", "--arbiter", arbiter, "--heartbeat-timeout", "20", hello], "--heartbeat-timeout must be longer than --heartbeat-interval" },
            { "peer timeout under the default timeout", ["backup", "--listen", "0", "--arbiter", arbiter, "--peer-timeout", "100"], "--peer-timeout must be longer than --heartbeat-timeout" },
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_input_gives_one_line_and_status_2(string what, string[] arguments, string expected)
    {
        var outcome = CliProcess.Run(arguments);
        Assert.True(outcome.ExitCode == 2, $"{what}: {outcome}");
        Assert.Single(outcome.StderrLines);
        Assert.StartsWith("replayvm: ", outcome.Stderr);
        Assert.Contains(expected, outcome.Stderr);
        Assert.DoesNotContain("   at ", outcome.Stderr);
        Assert.DoesNotContain("Exception", outcome.Stderr);
        Assert.Empty(outcome.Stdout);
    }

    [Fact]
    public void Help_goes_to_stdout_with_status_0()
    {
        var outcome = CliProcess.Run("run", "--help");
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("--max-instructions", outcome.StdoutText);
        Assert.Contains("--load-address", outcome.StdoutText);
        foreach (var option in new[] { "--bios", "--kernel", "--append", "--drive", "--persist", "Ctrl-A x" })
            Assert.Contains(option, outcome.StdoutText);
    }
}
