using System.Buffers.Binary;
using ReplayVm.Debugger.Symbols;
using ReplayVm.Debugger.Tests.Disassembly;

namespace ReplayVm.Debugger.Tests.Symbols;

public class LineTableTests
{
    [Fact]
    public void Demo_main_is_in_shell_c_and_its_lines_lead_back_to_it()
    {
        byte[] elf = File.ReadAllBytes(Addr2LineOracle.Guest("demo.elf"));
        var table = LineTable.FromElf(elf);
        ulong main = ReplayVm.Core.Loading.ElfImage.Parse(elf).FindSymbol("main")!.Value;

        var at = table.LineAt(main)!;
        Assert.Equal("demo/shell.c", at.File.Path);
        Assert.Equal("shell.c", at.File.Name);
        Assert.Contains(table.AddressesOf("shell.c", at.Line), a => table.LineAt(a)!.Line == at.Line);
        Assert.Equal(table.AddressesOf("shell.c", at.Line), table.AddressesOf("demo/shell.c", at.Line));
        Assert.Empty(table.AddressesOf("emo/shell.c", at.Line)); // a tail must start at a '/'
        Assert.Contains(table.Files, f => f.Path == "common/uart.c");
        Assert.Null(table.LineAt(0));
    }

    [Fact]
    public void A_dwarf5_sequence_starts_in_file_1_not_file_0()
    {
        // picolibc's vfprintf.c #includes ultoa_invert.c: its unit lists vfprintf.c as file 0 and
        // ultoa_invert.c as file 1, and __ultoa_invert's sequence never sets the file. The file
        // register starts at 1 (DWARF 5 §6.2.2, table 6.4), as gdb and objdump --dwarf=decodedline
        // agree; addr2line 2.40 says vfprintf.c here.
        byte[] elf = File.ReadAllBytes(Addr2LineOracle.Guest("demo.elf"));
        ulong function = ReplayVm.Core.Loading.ElfImage.Parse(elf).FindSymbol("__ultoa_invert")!.Value;
        Assert.Equal("ultoa_invert.c", LineTable.FromElf(elf).LineAt(function)!.File.Name);
    }

    [Fact]
    public void Sequences_of_discarded_functions_at_address_zero_are_dropped()
    {
        // trap.c's unused helpers keep line sequences at address 0 after linking (-ffunction-sections).
        var table = LineTable.FromElf(File.ReadAllBytes(Addr2LineOracle.Guest("demo.elf")));
        Assert.All(table.Sequences, s => Assert.True(s.Start >= 0x8000_0000, $"sequence at 0x{s.Start:x}"));
    }

    [Fact]
    public void An_elf_without_debug_info_has_an_empty_table_and_no_error()
    {
        string dir = Directory.CreateTempSubdirectory("replayvm-strip-").FullName;
        try
        {
            string stripped = Path.Combine(dir, "demo.elf");
            ObjdumpOracle.RunTool("riscv64-unknown-elf-objcopy", ["--strip-debug", Addr2LineOracle.Guest("demo.elf"), stripped]);
            var table = LineTable.FromElf(File.ReadAllBytes(stripped));
            Assert.True(table.IsEmpty);
            Assert.Null(table.Error);
            Assert.Null(table.LineAt(0x8000_0000));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Not_an_elf_is_one_line_of_error_and_no_lines()
    {
        var table = LineTable.FromElf("hello"u8.ToArray());
        Assert.True(table.IsEmpty);
        Assert.Equal("no line info: not an ELF file", table.Error);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_hand_built_dwarf5_unit_runs_every_kind_of_opcode(bool dwarf64)
    {
        var sequences = DebugLineReader.Read(HandBuiltUnit(dwarf64), [], []);
        var table = LineTable.FromSequences(sequences);

        Assert.Equal("/src/main.c:10", Describe(table.LineAt(0x1000)));
        Assert.Equal("/src/main.c:10", Describe(table.LineAt(0x1003)));
        Assert.Equal("/src/main.c:11", Describe(table.LineAt(0x1004)));   // special opcode: +4 bytes, +1 line
        Assert.Equal("/src/main.c:11", Describe(table.LineAt(0x102b)));
        Assert.Equal("/src/lib/util.c:6", Describe(table.LineAt(0x102c))); // const_add_pc, set_file, advance_line −5
        Assert.False(table.LineAt(0x102c)!.IsStmt);                         // negate_stmt
        Assert.Equal("/src/lib/util.c:6", Describe(table.LineAt(0x1031)));
        Assert.Null(table.LineAt(0x1032));                                  // fixed_advance_pc then end_sequence
        Assert.Null(table.LineAt(0xfff));

        Assert.Equal([0x1004UL], table.AddressesOf("main.c", 11));
        Assert.Empty(table.AddressesOf("lib/util.c", 6)); // not a statement
        Assert.Empty(table.AddressesOf("main.c", 12));
    }

    private static string? Describe(SourceLocation? location) => location is null ? null : $"{location.File.Path}:{location.Line}";

    /// <summary>
    /// One DWARF 5 unit: directory entries as DW_FORM_string, file entries with a DW_FORM_udata
    /// directory and a DW_FORM_data16 MD5, minimum instruction length 2, opcode_base 14 (opcode 13
    /// is unknown to the reader and takes two operands), and a program using special,
    /// standard and extended opcodes.
    /// </summary>
    public static byte[] HandBuiltUnit(bool dwarf64)
    {
        var header = new List<byte>
        {
            2,          // minimum_instruction_length
            1,          // maximum_operations_per_instruction
            1,          // default_is_stmt
            unchecked((byte)-3), // line_base
            12,         // line_range
            14,         // opcode_base
            0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 2, // standard_opcode_lengths for 1..13
            1, 0x01, 0x08,                          // directory format: (DW_LNCT_path, DW_FORM_string)
            2,                                       // directories_count
        };
        header.AddRange("/src\0lib\0"u8.ToArray());
        header.AddRange([3, 0x01, 0x08, 0x02, 0x0f, 0x05, 0x1e]); // path string, directory_index udata, MD5 data16
        header.Add(2);
        header.AddRange("main.c\0"u8.ToArray());
        header.Add(0);
        header.AddRange(new byte[16]);
        header.AddRange("util.c\0"u8.ToArray());
        header.Add(1);
        header.AddRange(Enumerable.Range(1, 16).Select(i => (byte)i));

        var program = new List<byte> { 0, 9, 2 };               // DW_LNE_set_address 0x1000
        program.AddRange(BitConverter.GetBytes(0x1000UL));
        program.AddRange([4, 0]);                               // set_file 0 (main.c; the register starts at 1)
        program.AddRange([3, 9]);                               // advance_line +9 → 10
        program.Add(1);                                         // copy
        program.AddRange([13, 0x81, 0x01, 0x05]);               // unknown opcode 13, two LEB128 operands
        program.Add(14 + (1 + 3) + 12 * 2);                     // special: 2 operations (4 bytes), line +1
        program.AddRange([4, 1]);                               // set_file 1 (util.c)
        program.Add(6);                                         // negate_stmt
        program.Add(8);                                         // const_add_pc: (255−14)/12 = 20 operations = 40 bytes
        program.AddRange([3, 0x7b]);                            // advance_line −5 → 6
        program.Add(1);                                         // copy
        program.AddRange([9, 6, 0]);                            // fixed_advance_pc 6
        program.AddRange([0, 1, 1]);                            // DW_LNE_end_sequence

        int offsetSize = dwarf64 ? 8 : 4;
        var unit = new List<byte> { 5, 0, 8, 0 };               // version 5, address_size 8, segment_selector_size 0
        unit.AddRange(Offset(header.Count, dwarf64));
        unit.AddRange(header);
        unit.AddRange(program);
        var bytes = new List<byte>();
        if (dwarf64)
        {
            bytes.AddRange([0xff, 0xff, 0xff, 0xff]);
            bytes.AddRange(BitConverter.GetBytes((ulong)unit.Count));
        }
        else bytes.AddRange(BitConverter.GetBytes((uint)unit.Count));
        Assert.Equal(offsetSize, Offset(0, dwarf64).Length);
        bytes.AddRange(unit);
        return [.. bytes];
    }

    private static byte[] Offset(int value, bool dwarf64)
    {
        var bytes = new byte[dwarf64 ? 8 : 4];
        if (dwarf64) BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)value);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)value);
        return bytes;
    }
}
