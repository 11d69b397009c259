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
        AssertObjdumpListedTheWholeText(elf, theirs);
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
        var theirs = Headers(Objdump(elf)).Where(h => !h.Name.StartsWith(".L") && !h.Name.StartsWith('$')).ToList();
        // objdump must have listed a header at every function the symbol table (readelf) names.
        var functions = FunctionSymbols(elf);
        Assert.True(functions.Count >= 20, $"readelf found only {functions.Count} functions in {elf}");
        foreach (var (address, name) in functions)
            Assert.True(theirs.Any(h => h.Address == address), $"objdump printed no header for <{name}> at {address:x}");
        foreach (var (address, name) in theirs)
            Assert.True(ours.Contains(address), $"no header for <{name}> at {address:x}");
    }

    [Fact]
    public void Small_program_listing_matches_objdump_line_for_line()
    {
        var theirs = Objdump(TestGuests.Rv64Elf).Where(l => InstructionLine().IsMatch(l) || HeaderLine().IsMatch(l)).ToList();
        // objdump listed the whole program: its three symbols and every instruction of .text.
        Assert.Equal(["_start", "square", "main"], Headers(theirs).Select(h => h.Name));
        AssertObjdumpListedTheWholeText(TestGuests.Rv64Elf, Instructions(theirs));
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

    /// <summary>
    /// objdump's instructions start at .text's first byte and end at its last (the section's bounds
    /// from readelf), so an empty or cut-short listing fails rather than comparing nothing.
    /// </summary>
    private static void AssertObjdumpListedTheWholeText(string elf, Dictionary<ulong, (string Bits, string Text)> listed)
    {
        var section = TestGuests.Run(".", "riscv64-unknown-elf-readelf", ["-SW", elf]).Split('\n')
            .Select(l => TextSectionLine().Match(l)).Single(m => m.Success);
        ulong start = Convert.ToUInt64(section.Groups[1].Value, 16), size = Convert.ToUInt64(section.Groups[2].Value, 16);
        Assert.True(size >= 16, $".text of {elf} has {size} bytes");
        Assert.True(listed.Count > 0, $"objdump listed no instructions for {elf}");
        Assert.Equal(start, listed.Keys.Min());
        var (lastAddress, (lastBits, _)) = listed.MaxBy(i => i.Key);
        Assert.Equal(start + size, lastAddress + (ulong)lastBits.Length / 2);
        Assert.True((ulong)listed.Count >= size / 8, $"objdump listed {listed.Count} instructions for {size} bytes of .text");
    }

    /// <summary>(address, name) of each FUNC symbol, from readelf's symbol table.</summary>
    private static List<(ulong Address, string Name)> FunctionSymbols(string elf) =>
        TestGuests.Run(".", "riscv64-unknown-elf-readelf", ["-sW", elf]).Split('\n')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 8 && f[3] == "FUNC")
            .Select(f => (Convert.ToUInt64(f[1], 16), f[7])).ToList();

    [GeneratedRegex(@"\]\s+\.text\s+PROGBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s")]
    private static partial Regex TextSectionLine();

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
