using static ReplayVm.Core.Loading.ElfConstants;

namespace ReplayVm.Core.Loading;

/// <summary>
/// A parsed ELF64 little-endian RISC-V executable: entry point, loadable segments and symbols.
/// Parsing never trusts an offset or count from the file; anything malformed becomes a
/// <see cref="GuestImageException"/> with a one-line reason.
/// </summary>
public sealed class ElfImage
{
    /// <summary>Built at the first symbol lookup: running an image looks none up, and sorting a
    /// symbol table (hundreds of entries in a C guest) was a tenth of <c>run hello.elf</c>'s own start-up.
    /// Two threads racing here build equal indexes; either may be kept.</summary>
    private ElfSymbolIndex? _symbolIndex;

    private ElfSymbolIndex SymbolIndex => _symbolIndex ??= new ElfSymbolIndex(Symbols, Segments);

    private ElfImage(ulong entry, ushort type, IReadOnlyList<ElfSegment> segments, IReadOnlyList<ElfSymbol> symbols)
    {
        Entry = entry;
        IsPositionIndependent = type == TypeShared;
        Segments = segments;
        Symbols = symbols;
    }

    /// <summary>e_entry: where the hart starts.</summary>
    public ulong Entry { get; }

    /// <summary>True for ET_DYN images; they are still loaded at their linked addresses.</summary>
    public bool IsPositionIndependent { get; }

    /// <summary>PT_LOAD segments in file order.</summary>
    public IReadOnlyList<ElfSegment> Segments { get; }

    /// <summary>Every entry of .symtab except the null symbol; empty for a stripped file.</summary>
    public IReadOnlyList<ElfSymbol> Symbols { get; }

    public static ElfImage Parse(byte[] data) => Parse(data.AsSpan());

    public static ElfImage Parse(ReadOnlySpan<byte> data)
    {
        var file = new ElfBytes(data);
        var header = ElfHeader.Read(file);
        var segments = ReadLoadSegments(file, header);
        var symbols = ElfSymbolReader.Read(file, header);
        return new ElfImage(header.Entry, header.Type, segments, symbols);
    }

    /// <summary>The symbol called <paramref name="name"/>, preferring code and data over section/file symbols.</summary>
    public ElfSymbol? FindSymbol(string name) => SymbolIndex.Find(name);

    /// <summary>
    /// The function, object or label at or just before <paramref name="address"/> with the offset
    /// into it; false when no symbol plausibly owns the address.
    /// </summary>
    public bool TryFindSymbolAt(ulong address, out ElfSymbol symbol, out ulong offset) =>
        SymbolIndex.TryFindAt(address, out symbol, out offset);

    /// <summary>"main" or "main+0x10" for an address, as objdump writes it; null when unknown.</summary>
    public string? SymbolAt(ulong address)
    {
        if (!TryFindSymbolAt(address, out var symbol, out var offset)) return null;
        return offset == 0 ? symbol.Name : $"{symbol.Name}+0x{offset:x}";
    }

    private static List<ElfSegment> ReadLoadSegments(ElfBytes file, ElfHeader header)
    {
        uint count = header.ProgramHeaderCount;
        if (count == 0)
            throw new GuestImageException("no program headers: nothing to load");
        if (header.ProgramHeaderEntrySize < ProgramHeaderSize)
            throw new GuestImageException($"bad program header size {header.ProgramHeaderEntrySize} (need {ProgramHeaderSize})");
        ulong entrySize = header.ProgramHeaderEntrySize;
        file.Require(header.ProgramHeaderOffset, count * entrySize, "program header table");

        var segments = new List<ElfSegment>();
        for (uint i = 0; i < count; i++)
        {
            ulong at = header.ProgramHeaderOffset + i * entrySize;
            if (file.U32(at, "program header") != PtLoad) continue;
            segments.Add(ReadLoadSegment(file, at, i));
        }
        if (segments.Count == 0)
            throw new GuestImageException("no loadable (PT_LOAD) segments");
        return segments;
    }

    private static ElfSegment ReadLoadSegment(ElfBytes file, ulong at, uint index)
    {
        const string what = "program header";
        uint flags = file.U32(at + 4, what);
        ulong offset = file.U64(at + 8, what);
        ulong virtualAddress = file.U64(at + 16, what);
        ulong physicalAddress = file.U64(at + 24, what);
        ulong fileSize = file.U64(at + 32, what);
        ulong memorySize = file.U64(at + 40, what);

        if (fileSize > memorySize)
            throw new GuestImageException($"segment {index}: file size 0x{fileSize:x} exceeds memory size 0x{memorySize:x}");
        if (memorySize != 0 && (physicalAddress + (memorySize - 1) < physicalAddress || virtualAddress + (memorySize - 1) < virtualAddress))
            throw new GuestImageException($"segment {index}: address range wraps around the end of the address space");
        byte[] bytes = file.Slice(offset, fileSize, $"segment {index} data").ToArray();

        return new ElfSegment(physicalAddress, virtualAddress, bytes, memorySize,
            Readable: (flags & PfRead) != 0,
            Writable: (flags & PfWrite) != 0,
            Executable: (flags & PfExecute) != 0);
    }
}
