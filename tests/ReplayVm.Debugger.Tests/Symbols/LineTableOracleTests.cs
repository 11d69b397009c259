using ReplayVm.Debugger.Symbols;
using ReplayVm.Debugger.Tests.Disassembly;

namespace ReplayVm.Debugger.Tests.Symbols;

/// <summary>Our line table against GNU addr2line, address by address, on the bundled guests and on every DWARF flavour GCC writes.</summary>
public class LineTableOracleTests
{
    [Theory]
    [InlineData("demo.elf")]
    [InlineData("kernel.elf")]
    [InlineData("hello.elf")]
    [InlineData("traps.elf")]
    public void Every_instruction_of_a_bundled_guest_maps_to_the_line_addr2line_gives(string guest)
    {
        string elf = Addr2LineOracle.Guest(guest);
        int compared = AssertAgreesWithAddr2Line(elf);
        Assert.True(compared > 500, $"only {compared} addresses with line info in {guest}");
    }

    /// <summary>
    /// GCC writes the line program itself with -gno-as-loc-support, honouring -gdwarf-N and
    /// -gdwarf64 (gas would always write version 3 or 5, 32-bit): versions 2 to 5, 32- and 64-bit.
    /// </summary>
    [Theory]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(4, false)]
    [InlineData(5, false)]
    [InlineData(2, true)]
    [InlineData(4, true)]
    [InlineData(5, true)]
    public void Every_dwarf_version_and_offset_size_agrees_with_addr2line(int version, bool dwarf64)
    {
        string dir = Directory.CreateTempSubdirectory("replayvm-dwarf-").FullName;
        try
        {
            string source = Path.Combine(dir, "loop.c");
            File.WriteAllText(source, """
                int g;
                static int square(int x) { return x * x; }
                int sum(int n) {
                    int s = 0;
                    for (int i = 0; i < n; i++)
                        s += square(i);
                    return s;
                }
                void _start(void) { g = sum(5); for (;;) ; }
                """);
            string elf = Path.Combine(dir, "loop.elf");
            ObjdumpOracle.RunTool(ObjdumpOracle.Gcc, ["-march=rv64imac", "-mabi=lp64", "-O2", "-g", $"-gdwarf-{version}", dwarf64 ? "-gdwarf64" : "-gdwarf32",
                "-gno-as-loc-support", "-nostdlib", "-nostartfiles", source, "-o", elf]);

            byte[] bytes = File.ReadAllBytes(elf);
            var debugLine = ElfSections.Read(bytes).Data(".debug_line")!.Value.Span;
            Assert.Equal(version, debugLine[dwarf64 ? 12 : 4]); // the unit's version, after its length
            Assert.Equal(dwarf64, debugLine[..4].SequenceEqual(new byte[] { 0xff, 0xff, 0xff, 0xff }));

            Assert.True(AssertAgreesWithAddr2Line(elf) > 5);
            var table = LineTable.FromElf(bytes);
            Assert.Contains(table.Files, f => f.Name == "loop.c");
            Assert.NotEmpty(table.AddressesOf("loop.c", 6));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Asserts (file, line) equality for each address addr2line knows, and no answer where it has
    /// none; returns how many agreed with a line. One known exception: BFD 2.40 (addr2line) starts
    /// every DWARF 5 sequence in file 0 where the spec says file 1 (DWARF 5 §6.2.2, table 6.4), so
    /// it misnames code whose sequence never sets the file when files 0 and 1 differ (picolibc's
    /// vfprintf.c #includes ultoa_invert.c). There the line must still agree, and the file must be
    /// the one objdump --dwarf=decodedline and gdb give.
    /// </summary>
    private static int AssertAgreesWithAddr2Line(string elf)
    {
        var decodedNames = Addr2LineOracle.DecodedLineNames(elf);
        var table = LineTable.FromElf(File.ReadAllBytes(elf));
        Assert.Null(table.Error);
        var addresses = Addr2LineOracle.InstructionAddresses(elf);
        var expected = Addr2LineOracle.Lookup(elf, addresses);
        var mismatches = new List<string>();
        int withLine = 0;
        for (int i = 0; i < addresses.Count; i++)
        {
            var ours = table.LineAt(addresses[i]);
            string mine = ours is null ? "??" : $"{ours.File.Path}:{ours.Line}";
            string theirs = expected[i] is { } e ? $"{e.Path}:{e.Line}" : "??";
            if (mine != theirs && ours is not null && expected[i] is { } b && b.Line == ours.Line
                && decodedNames(addresses[i]) is { } decoded && decoded != Path.GetFileName(b.Path) && decoded == ours.File.Name)
            {
                withLine++;
                continue;
            }
            if (mine != theirs) mismatches.Add($"0x{addresses[i]:x}: ours {mine}, addr2line {theirs}");
            else if (ours is not null) withLine++;
        }
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {addresses.Count} addresses differ:\n" + string.Join('\n', mismatches.Take(20)));
        return withLine;
    }
}
