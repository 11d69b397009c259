namespace ReplayVm.Debugger.Symbols;

/// <summary>One ELF section header, with its name resolved through e_shstrndx.</summary>
public readonly record struct ElfSection(string Name, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size)
{
    /// <summary>SHT_NOBITS: the section occupies no file space (.bss).</summary>
    public bool HasNoBits => Type == 8;

    /// <summary>SHF_ALLOC and SHF_EXECINSTR: the section is code in the loaded image.</summary>
    public bool IsLoadedCode => (Flags & 0x2) != 0 && (Flags & 0x4) != 0;

    /// <summary>SHF_COMPRESSED (gABI "Compressed Sections"): the bytes are an Elf_Chdr and a zlib/zstd stream.</summary>
    public bool IsCompressed => (Flags & 0x800) != 0;
}

/// <summary>
/// The section header table of a little-endian ELF file (ELF32 or ELF64), read straight from its
/// bytes (gABI "Sections"). Core's loader needs only segments and symbols; the debugger needs the
/// non-allocated .debug_* sections by name, which is why this lives here.
/// </summary>
public sealed class ElfSections
{
    private const ushort SectionIndexExtended = 0xffff; // SHN_XINDEX
    private readonly byte[] _file;

    private ElfSections(byte[] file, IReadOnlyList<ElfSection> sections)
    {
        _file = file;
        Sections = sections;
    }

    public IReadOnlyList<ElfSection> Sections { get; }

    /// <summary>Reads the section table; throws <see cref="DwarfFormatException"/> when it is malformed.</summary>
    public static ElfSections Read(byte[] file)
    {
        var cursor = new DwarfCursor(file, "ELF header");
        if (file.Length < 16 || cursor.U32() != 0x464c_457f) throw new DwarfFormatException("not an ELF file");
        byte elfClass = cursor.U8();
        byte data = cursor.U8();
        if (elfClass is not (1 or 2)) throw new DwarfFormatException($"unknown ELF class {elfClass}");
        if (data != 1) throw new DwarfFormatException("not a little-endian ELF file");
        bool is64 = elfClass == 2;

        cursor.Position = is64 ? 40 : 32;
        ulong tableOffset = is64 ? cursor.U64() : cursor.U32();
        cursor.Position = is64 ? 58 : 46;
        ushort entrySize = cursor.U16();
        ulong count = cursor.U16();
        uint namesIndex = cursor.U16();
        if (tableOffset == 0) return new ElfSections(file, []);
        int minimumEntry = is64 ? 64 : 40;
        if (entrySize < minimumEntry) throw new DwarfFormatException($"bad ELF section header size {entrySize}");

        // gABI "Extended Section Header Numbering": the real count and name-table index sit in section 0.
        var zero = RawHeader(file, tableOffset, is64);
        if (count == 0) count = zero.Size;
        if (namesIndex == SectionIndexExtended) namesIndex = zero.Link;
        if (tableOffset > (ulong)file.Length || count > ((ulong)file.Length - tableOffset) / entrySize)
            throw new DwarfFormatException($"ELF section header table ({count} entries at 0x{tableOffset:x}) runs past the end of the file");

        var raw = new List<RawSection>((int)count);
        for (ulong i = 0; i < count; i++) raw.Add(RawHeader(file, tableOffset + i * entrySize, is64));
        if (namesIndex >= count) throw new DwarfFormatException($"ELF section name table index {namesIndex} is out of range");
        var names = SectionBytes(file, raw[(int)namesIndex], "section name table");

        var sections = new List<ElfSection>(raw.Count);
        foreach (var r in raw)
        {
            string name = r.NameOffset < (ulong)names.Length ? DwarfCursor.StringAt(names, r.NameOffset, "ELF section names") : "";
            sections.Add(new ElfSection(name, r.Type, r.Flags, r.Address, r.Offset, r.Size));
        }
        return new ElfSections(file, sections);
    }

    /// <summary>The bytes of the first section named <paramref name="name"/>, or null when there is none.</summary>
    public ReadOnlyMemory<byte>? Data(string name)
    {
        foreach (var section in Sections)
        {
            if (section.Name != name) continue;
            if (section.HasNoBits) return ReadOnlyMemory<byte>.Empty;
            if (section.IsCompressed) throw new DwarfFormatException($"{name} is compressed (not supported)");
            if (section.Offset > (ulong)_file.Length || section.Size > (ulong)_file.Length - section.Offset)
                throw new DwarfFormatException($"{name} runs past the end of the file");
            return _file.AsMemory((int)section.Offset, (int)section.Size);
        }
        return null;
    }

    /// <summary>Whether <paramref name="address"/> lies in a loaded code section.</summary>
    public bool IsCode(ulong address) =>
        Sections.Any(s => s.IsLoadedCode && address >= s.Address && address - s.Address < s.Size);

    private readonly record struct RawSection(uint NameOffset, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size, uint Link);

    private static RawSection RawHeader(byte[] file, ulong at, bool is64)
    {
        if (at > (ulong)file.Length) throw new DwarfFormatException($"ELF section header at 0x{at:x} is past the end of the file");
        var c = new DwarfCursor(file, "ELF section headers", (int)at);
        uint name = c.U32();
        uint type = c.U32();
        if (is64)
        {
            ulong flags = c.U64(), address = c.U64(), offset = c.U64(), size = c.U64();
            uint link = c.U32();
            return new RawSection(name, type, flags, address, offset, size, link);
        }
        else
        {
            ulong flags = c.U32(), address = c.U32(), offset = c.U32(), size = c.U32();
            uint link = c.U32();
            return new RawSection(name, type, flags, address, offset, size, link);
        }
    }

    private static ReadOnlySpan<byte> SectionBytes(byte[] file, RawSection section, string what)
    {
        if (section.Type == 8) return [];
        if (section.Offset > (ulong)file.Length || section.Size > (ulong)file.Length - section.Offset)
            throw new DwarfFormatException($"ELF {what} runs past the end of the file");
        return file.AsSpan((int)section.Offset, (int)section.Size);
    }
}
