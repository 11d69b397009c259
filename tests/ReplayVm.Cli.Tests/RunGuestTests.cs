using ReplayVm.Cli.Tests.Support;
using ReplayVm.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary>The committed guests, run through the real CLI, against the outputs QEMU gives (tools/guests/expected).</summary>
public class RunGuestTests
{
    [Theory]
    [InlineData("hello", "virt")]
    [InlineData("fail", "virt")]
    [InlineData("thre-irq", "virt")]
    [InlineData("hello-htif", "spike")]
    public void Guest_output_and_status_match_qemu(string guest, string machine)
    {
        var outcome = CliProcess.Run("run", "--machine", machine, CliProcess.Guest($"{guest}.elf"));
        Assert.Equal(File.ReadAllBytes(CliProcess.Expected($"{guest}.out")), outcome.Stdout);
        Assert.Equal(int.Parse(File.ReadAllText(CliProcess.Expected($"{guest}.status")).Trim()), outcome.ExitCode);
        Assert.Equal("", outcome.Stderr);
    }

    /// <summary>RAM is reserved lazily, so sizes beyond a managed array's limit boot as on QEMU.</summary>
    [Theory]
    [InlineData("2G")]
    [InlineData("16G")]
    public void Hello_boots_with_large_ram(string memory)
    {
        var outcome = CliProcess.Run("run", "-m", memory, CliProcess.Guest("hello.elf"));
        Assert.Equal("", outcome.Stderr);
        Assert.Equal(File.ReadAllBytes(CliProcess.Expected("hello.out")), outcome.Stdout);
        Assert.Equal(0, outcome.ExitCode);
    }

    [Fact]
    public void Fail_guest_exits_3()
    {
        var outcome = CliProcess.Run("run", CliProcess.Guest("fail.elf"));
        Assert.Equal(3, outcome.ExitCode);
        Assert.Equal("fail guest: exiting with code 3\n", outcome.StdoutText);
    }

    [Fact]
    public void Raw_binary_runs_at_its_load_address()
    {
        string raw = Path.Combine(Path.GetTempPath(), $"replayvm-hello-{Environment.ProcessId}.bin");
        TestGuests.Run(".", "riscv64-unknown-elf-objcopy", ["-O", "binary", CliProcess.Guest("hello.elf"), raw]);
        var outcome = CliProcess.Run("run", "--load-address", "0x80000000", raw);
        Assert.Equal(File.ReadAllBytes(CliProcess.Expected("hello.out")), outcome.Stdout);
        Assert.Equal(0, outcome.ExitCode);
    }

    [Fact]
    public void Instruction_limit_exits_124_with_a_message()
    {
        var outcome = CliProcess.Run("run", "--max-instructions", "1K", CliProcess.Guest("bench.elf"));
        Assert.Equal(124, outcome.ExitCode);
        Assert.Equal("replayvm: instruction limit 1000 reached\n", outcome.Stderr);
    }

    [Fact]
    public void Stats_go_to_stderr_and_stdout_stays_the_guests()
    {
        var outcome = CliProcess.Run("run", "--stats", CliProcess.Guest("hello.elf"));
        Assert.Equal(File.ReadAllBytes(CliProcess.Expected("hello.out")), outcome.Stdout);
        Assert.Equal(0, outcome.ExitCode);
        var lines = outcome.StderrLines;
        Assert.Equal(5, lines.Length);
        Assert.Matches(@"^instructions: [1-9][0-9]*$", lines[0]);
        Assert.Matches(@"^mips: [0-9]+\.[0-9]{2}$", lines[1]);
        Assert.Equal("stop: GuestExit (exit code 0)", lines[2]);
        Assert.Matches(@"^engine: translator, [0-9]+ regions ", lines[3]);
        Assert.Matches(@"^process: [1-9][0-9]* methods JIT-compiled in [0-9]+ ms; CPU [0-9]+ ms \(user [0-9]+, system [0-9]+\)$", lines[4]);
    }

    [Fact]
    public void The_translator_is_the_default_and_the_interpreter_is_one_option_away()
    {
        var chosen = CliProcess.Run("run", "--stats", "--engine", "interpreter", CliProcess.Guest("hello.elf"));
        var byDefault = CliProcess.Run("run", "--stats", CliProcess.Guest("hello.elf"));
        Assert.Equal(0, chosen.ExitCode);
        Assert.Matches(@"^engine: interpreter\b", chosen.StderrLines[3]);
        Assert.Matches(@"^engine: translator\b", byDefault.StderrLines[3]);
        // Same guest, same instructions, whichever engine ran it.
        Assert.Equal(byDefault.StderrLines[0], chosen.StderrLines[0]);
        Assert.Equal(byDefault.Stdout, chosen.Stdout);
        Assert.Contains("[default: translator]", CliProcess.Run("run", "--help").StdoutText);
    }
}
