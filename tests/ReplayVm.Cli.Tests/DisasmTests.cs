using System.Text.RegularExpressions;
using ReplayVm.Cli.Tests.Support;
using ReplayVm.Tests.Support;

namespace ReplayVm.Cli.Tests;

/// <summary><c>replayvm disasm</c> against binutils objdump -d on the same files.</summary>
public partial class DisasmTests
{
    [GeneratedRegex(@"^\s+([0-9a-f]+):\t([0-9a-f]+)\s*\t(.*)$")]
    private static partial Regex InstructionLine();

    [GeneratedRegex(@"^([0-9a-f]{16}) <(.+)>:$")]
    private static partial Regex HeaderLine();

    [Fact]
    public void Every_objdump_instruction_appears_with_the_same_address_and_bits()
    {
        string elf = CliProcess.Guest("hello.elf");
        var ours = Instructions(Listing(elf));
        var theirs = Instructions(Objdump(elf));
        Assert.NotEmpty(theirs);
        foreach (var (address, (bits, _)) in theirs)
        {
            Assert.True(ours.TryGetValue(address, out var mine), $"no instruction at {address:x}");
            Assert.Equal(bits, mine.Bits);
        }
    }

    [Fact]
    public void Function_headers_sit_where_objdump_puts_them()
    {
        string elf = CliProcess.Guest("hello.elf");
        var ours = Headers(Listing(elf)).Select(h => h.Address).ToHashSet();
        var theirs = Headers(Objdump(elf)).Where(h => !h.Name.StartsWith(".L") && !h.Name.StartsWith('$'));
        foreach (var (address, name) in theirs)
            Assert.True(ours.Contains(address), $"no header for <{name}> at {address:x}");
    }

    [Fact]
    public void Small_program_listing_matches_objdump_line_for_line()
    {
        var theirs = Objdump(TestGuests.Rv64Elf).Where(l => InstructionLine().IsMatch(l) || HeaderLine().IsMatch(l)).ToList();
        // Our listing goes on into the data that shares the segment; objdump stops with .text.
        var ours = Listing(TestGuests.Rv64Elf).Where(l => InstructionLine().IsMatch(l) || HeaderLine().IsMatch(l)).Take(theirs.Count);
        Assert.Equal(theirs, ours);
    }

    [Fact]
    public void Symbol_option_lists_one_function()
    {
        var outcome = CliProcess.Run("disasm", TestGuests.Rv64Elf, "--symbol", "square");
        Assert.Equal(0, outcome.ExitCode);
        var lines = outcome.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("000000008000000e <square>:", lines[0]);
        Assert.Equal(["    8000000e:\t02a50533          \tmul\ta0,a0,a0", "    80000012:\t8082                \tret"], lines[1..]);
    }

    [Fact]
    public void Symbol_option_on_a_label_runs_to_the_next_symbol()
    {
        var outcome = CliProcess.Run("disasm", TestGuests.Rv64Elf, "--symbol", "_start");
        Assert.Equal(0, outcome.ExitCode);
        var lines = outcome.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0000000080000000 <_start>:", lines[0]);
        Assert.StartsWith("    8000000c:\ta001", lines[^1]);
    }

    private static string[] Listing(string elf)
    {
        var outcome = CliProcess.Run("disasm", elf);
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        return outcome.StdoutText.Split('\n');
    }

    private static string[] Objdump(string elf) =>
        TestGuests.Run(".", "riscv64-unknown-elf-objdump", ["-d", elf]).Split('\n');

    private static Dictionary<ulong, (string Bits, string Text)> Instructions(IEnumerable<string> lines)
    {
        var result = new Dictionary<ulong, (string, string)>();
        foreach (var line in lines)
            if (InstructionLine().Match(line) is { Success: true } m)
                result[Convert.ToUInt64(m.Groups[1].Value, 16)] = (m.Groups[2].Value, m.Groups[3].Value);
        return result;
    }

    private static List<(ulong Address, string Name)> Headers(IEnumerable<string> lines) =>
        lines.Select(l => HeaderLine().Match(l)).Where(m => m.Success)
            .Select(m => (Convert.ToUInt64(m.Groups[1].Value, 16), m.Groups[2].Value)).ToList();
}
