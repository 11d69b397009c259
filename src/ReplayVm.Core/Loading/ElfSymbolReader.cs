using System.Text;
using static ReplayVm.Core.Loading.ElfConstants;

namespace ReplayVm.Core.Loading;

/// <summary>Reads the static symbol table (SHT_SYMTAB and the string table its sh_link names).</summary>
internal static class ElfSymbolReader
{
    public static IReadOnlyList<ElfSymbol> Read(ElfBytes file, ElfHeader header)
    {
        if (header.SectionHeaderOffset == 0) return [];
        if (header.SectionHeaderEntrySize < SectionHeaderSize)
            throw new GuestImageException($"bad section header size {header.SectionHeaderEntrySize} (need {SectionHeaderSize})");

        ulong entrySize = header.SectionHeaderEntrySize;
        ulong count = header.SectionHeaderCountField;
        // gABI "Extended numbering": e_shnum == 0 with a table present means the count is in section 0's sh_size.
        if (count == 0) count = header.ReadSectionZero(file).Size;
        if (count == 0) return [];
        if (count > file.Length / entrySize)
            throw new GuestImageException("truncated: section header table beyond end of file");
        file.Require(header.SectionHeaderOffset, count * entrySize, "section header table");

        for (ulong i = 0; i < count; i++)
        {
            var section = ElfSection.Read(file, header.SectionHeaderOffset + i * entrySize);
            if (section.Type != ShtSymtab) continue;
            if (section.Link >= count)
                throw new GuestImageException($"symbol table links to string table {section.Link}, but there are only {count} sections");
            var strings = ElfSection.Read(file, header.SectionHeaderOffset + section.Link * entrySize);
            return ReadSymbols(file, section, strings);
        }
        return []; // stripped
    }

    private static List<ElfSymbol> ReadSymbols(ElfBytes file, ElfSection table, ElfSection strings)
    {
        ulong entrySize = table.EntrySize == 0 ? SymbolSize : table.EntrySize;
        if (entrySize < SymbolSize)
            throw new GuestImageException($"bad symbol entry size {table.EntrySize} (need {SymbolSize})");
        file.Require(table.Offset, table.Size, "symbol table");
        var names = file.Slice(strings.Offset, strings.Size, "symbol string table");

        ulong count = table.Size / entrySize;
        var symbols = new List<ElfSymbol>((int)Math.Min(count, 1 << 16));
        for (ulong i = 1; i < count; i++) // entry 0 is the reserved null symbol
        {
            ulong at = table.Offset + i * entrySize;
            const string what = "symbol";
            uint nameOffset = file.U32(at, what);
            byte info = file.U8(at + 4, what);
            ushort sectionIndex = file.U16(at + 6, what);
            ulong value = file.U64(at + 8, what);
            ulong size = file.U64(at + 16, what);

            string name = ReadName(names, nameOffset);
            symbols.Add(new ElfSymbol(name, value, size, Classify(info, sectionIndex, name),
                IsGlobal: info >> 4 != StbLocal, SectionIndex: sectionIndex));
        }
        return symbols;
    }

    private static string ReadName(ReadOnlySpan<byte> names, uint offset)
    {
        if (offset >= (ulong)names.Length)
        {
            if (offset == 0) return ""; // an empty string table with unnamed symbols
            throw new GuestImageException($"symbol name offset 0x{offset:x} beyond end of string table");
        }
        var rest = names[(int)offset..];
        int end = rest.IndexOf((byte)0);
        if (end < 0)
            throw new GuestImageException("truncated: symbol name runs past end of string table");
        return Encoding.UTF8.GetString(rest[..end]);
    }

    private static ElfSymbolType Classify(byte info, ushort sectionIndex, string name)
    {
        bool defined = sectionIndex != ShnUndef;
        switch (info & 0xf)
        {
            case SttFunc when defined: return ElfSymbolType.Function;
            case SttObject when defined: return ElfSymbolType.Object;
            case SttNotype when (sectionIndex is > ShnUndef and < ShnLoReserve or ShnAbs) && IsUserLabel(name): return ElfSymbolType.Label;
            default: return ElfSymbolType.Other;
        }
    }

    /// <summary>
    /// Skips assembler-internal names: ".L" local labels and the RISC-V psABI mapping symbols
    /// ("$x", "$d", "$xrv64i2p1...") that mark code/data boundaries.
    /// </summary>
    private static bool IsUserLabel(string name) =>
        name.Length > 0 && !name.StartsWith('$') && !name.StartsWith(".L", StringComparison.Ordinal);
}
