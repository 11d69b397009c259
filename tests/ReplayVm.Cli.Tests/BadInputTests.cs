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
            { "missing guest", ["run"], "Required argument missing" },
            { "bad -m", ["run", "-m", "lots", hello], "bad memory size 'lots' for -m/--memory" },
            { "bad -m suffix", ["run", "-m", "12X", hello], "bad memory size '12X'" },
            { "zero -m", ["run", "--memory", "0", hello], "bad memory size '0'" },
            { "odd RAM size", ["run", "-m", "1001K", hello], "cannot build the machine" },
            { "bad count", ["run", "--max-instructions", "many", hello], "bad instruction count 'many'" },
            { "bad machine", ["run", "--machine", "pc", hello], "bad machine 'pc' for --machine (virt or spike)" },
            { "bad address", ["run", "--load-address", "0xZZ", hello], "bad address '0xZZ'" },
            { "disasm missing file", ["disasm", "/no/such.elf"], "no such file" },
            { "disasm text file", ["disasm", textFile], "not an ELF file" },
            { "disasm unknown symbol", ["disasm", hello, "--symbol", "no_such_function"], "no function named 'no_such_function'" },
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
    }
}
