using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Debugger.Symbols;

namespace ReplayVm.Debugger.Tests.Symbols;

/// <summary>
/// Random corruptions of the demo guest's real .debug_line, and of the whole ELF, end in line
/// information or a <see cref="DwarfFormatException"/>: no other exception, and a bounded amount
/// of work (a row per byte at most, so the reader cannot spin).
/// </summary>
public sealed class MalformedDebugLineProperties
{
    private static readonly byte[] Elf = File.ReadAllBytes(Addr2LineOracle.Guest("demo.elf"));
    private static readonly ElfSections Sections = ElfSections.Read(Elf);
    private static readonly byte[] DebugLine = Sections.Data(".debug_line")!.Value.ToArray();
    private static readonly byte[] DebugLineStr = Sections.Data(".debug_line_str")!.Value.ToArray();
    private static readonly int[] UnitStarts = FindUnitStarts(DebugLine);

    /// <summary>A list of byte changes and a length to cut the data to.</summary>
    public sealed record Corruption(IReadOnlyList<(int Offset, byte Value)> Changes, int KeepFraction);

    public static class Corruptions
    {
        /// <summary>Half the changes land in the first 80 bytes of a unit (its header), where the parsing decisions are.</summary>
        public static Arbitrary<Corruption> ForDebugLine() => Make(DebugLine.Length);

        public static Gen<(int, byte)> Change(int length) =>
            from nearHeader in Gen.Elements(true, false)
            from unit in Gen.Elements(UnitStarts)
            from delta in Gen.Choose(0, 79)
            from anywhere in Gen.Choose(0, length - 1)
            from value in Gen.Frequency((3, Gen.Choose(0, 255)), (1, Gen.Elements(0, 1, 0x7f, 0x80, 0xff)))
            select (nearHeader ? Math.Min(unit + delta, length - 1) : anywhere, (byte)value);

        private static Arbitrary<Corruption> Make(int length) =>
            (from changes in Gen.ListOf(Change(length)).Select(l => l.Take(8).ToList())
             from keep in Gen.Frequency((4, Gen.Constant(100)), (1, Gen.Choose(0, 99)))
             select new Corruption(changes, keep)).ToArbitrary();
    }

    [Property(Arbitrary = [typeof(Corruptions)], MaxTest = 1000)]
    public void Corrupt_debug_line_gives_rows_or_a_format_exception(Corruption corruption)
    {
        byte[] data = Apply(DebugLine, corruption);
        try
        {
            var sequences = DebugLineReader.Read(data, DebugLineStr, []);
            Assert.True(sequences.Sum(s => s.Rows.Count) <= data.Length);
        }
        catch (DwarfFormatException e)
        {
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Property(Arbitrary = [typeof(Corruptions)], MaxTest = 300)]
    public void Corrupt_elf_files_never_throw_from_the_line_table(Corruption corruption)
    {
        // Map the changes onto the ELF: the section header table (at its end) and .debug_line.
        var section = Sections.Sections.Single(s => s.Name == ".debug_line");
        ulong headerTable = BitConverter.ToUInt64(Elf, 40);
        var changes = corruption.Changes.Select((c, i) => i % 2 == 0
            ? ((int)section.Offset + c.Offset, c.Value)
            : ((int)headerTable + c.Offset % (Elf.Length - (int)headerTable), c.Value)).ToList();
        byte[] elf = Apply(Elf, new Corruption(changes, corruption.KeepFraction));

        var table = LineTable.FromElf(elf);
        Assert.True(table.Error is null || !table.Error.Contains('\n'));
        Assert.True(table.Error is null || table.IsEmpty);
        _ = table.LineAt(0x8000_0100);
    }

    [Fact]
    public void The_fuzzed_section_really_is_read_without_corruption()
    {
        Assert.True(UnitStarts.Length > 10);
        Assert.NotEmpty(DebugLineReader.Read(DebugLine, DebugLineStr, []));
    }

    private static byte[] Apply(byte[] original, Corruption corruption)
    {
        byte[] data = (byte[])original.Clone();
        foreach (var (offset, value) in corruption.Changes) data[offset % data.Length] = value;
        return data[..(int)((long)data.Length * corruption.KeepFraction / 100)];
    }

    private static int[] FindUnitStarts(byte[] section)
    {
        var starts = new List<int>();
        for (long at = 0; at + 4 <= section.Length; at += 4 + BitConverter.ToUInt32(section, (int)at))
            starts.Add((int)at);
        return [.. starts];
    }
}
