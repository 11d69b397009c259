using System.Globalization;
using ReplayVm.Core.Loading;
using ReplayVm.Tests.Support;

namespace ReplayVm.Core.Tests.Loading;

/// <summary>ElfImage against binutils' own view of the same files (readelf, nm).</summary>
public class ElfImageTests
{
    private static ElfImage Tiny => ElfImage.Parse(File.ReadAllBytes(TestGuests.Rv64Elf));

    [Fact]
    public void Load_segments_match_readelf()
    {
        var expected = ReadelfLoadSegments(TestGuests.Rv64Elf);
        var image = Tiny;
        byte[] file = File.ReadAllBytes(TestGuests.Rv64Elf);

        Assert.Equal(expected.Count, image.Segments.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var (offset, vaddr, paddr, fileSize, memSize, flags) = expected[i];
            var segment = image.Segments[i];
            Assert.Equal(vaddr, segment.VirtualAddress);
            Assert.Equal(paddr, segment.PhysicalAddress);
            Assert.Equal(paddr, segment.LoadAddress);
            Assert.Equal(memSize, segment.MemorySize);
            Assert.Equal(file.AsSpan((int)offset, (int)fileSize).ToArray(), segment.FileBytes);
            Assert.Equal(flags.Contains('R'), segment.Readable);
            Assert.Equal(flags.Contains('W'), segment.Writable);
            Assert.Equal(flags.Contains('E'), segment.Executable);
        }
        Assert.Contains(image.Segments, s => s.Executable && s.PhysicalAddress == 0x8000_0000);
    }

    [Fact]
    public void Symbols_match_nm()
    {
        var image = Tiny;
        string nm = TestGuests.Run(".", "riscv64-unknown-elf-nm", ["-S", TestGuests.Rv64Elf]);
        foreach (var line in nm.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            string name = fields[^1];
            ulong value = ulong.Parse(fields[0], NumberStyles.HexNumber);
            ulong size = fields.Length == 4 ? ulong.Parse(fields[1], NumberStyles.HexNumber) : 0;
            var symbol = image.FindSymbol(name);
            Assert.NotNull(symbol);
            Assert.Equal(value, symbol.Value);
            Assert.Equal(size, symbol.Size);
        }
        Assert.Equal(ElfSymbolType.Function, image.FindSymbol("main")!.Type);
        Assert.Equal(ElfSymbolType.Function, image.FindSymbol("square")!.Type);
        Assert.Equal(ElfSymbolType.Object, image.FindSymbol("counter")!.Type);
        Assert.Equal(ElfSymbolType.Label, image.FindSymbol("_start")!.Type);
        Assert.True(image.FindSymbol("main")!.IsGlobal);
        Assert.Null(image.FindSymbol("no_such_symbol"));
    }

    [Fact]
    public void Entry_is_start()
    {
        var image = Tiny;
        Assert.Equal(0x8000_0000UL, image.Entry);
        Assert.Equal(image.FindSymbol("_start")!.Value, image.Entry);
        Assert.False(image.IsPositionIndependent);
    }

    [Fact]
    public void SymbolAt_names_the_owner_with_an_offset()
    {
        var image = Tiny;
        ulong main = image.FindSymbol("main")!.Value;
        ulong counter = image.FindSymbol("counter")!.Value;
        Assert.Equal("main", image.SymbolAt(main));
        Assert.Equal("main+0x4", image.SymbolAt(main + 4));
        Assert.Equal("counter+0x7", image.SymbolAt(counter + 7));
        // _start is a size-0 assembly label: it owns the code after it up to square.
        Assert.Equal("_start+0x2", image.SymbolAt(image.Entry + 2));
        Assert.Null(image.SymbolAt(0x1000));
        Assert.Null(image.SymbolAt(0x7fff_fffe));
    }

    [Fact]
    public void Stripped_image_has_segments_but_no_symbols()
    {
        var image = ElfImage.Parse(File.ReadAllBytes(TestGuests.Rv64StrippedElf));
        Assert.Empty(image.Symbols);
        Assert.Null(image.SymbolAt(image.Entry));
        Assert.Equal(Tiny.Segments.Count, image.Segments.Count);
    }

    public static TheoryData<string, string> BadFiles() => new()
    {
        { "empty", "not an ELF file" },
        { "text", "not an ELF file" },
        { "x86-64", "ELF for x86-64 (machine 62), need RISC-V" },
        { "rv32", "32-bit ELF (RV32), need ELF64 (RV64)" },
        { "object", "relocatable object file (ET_REL), need a linked executable" },
        { "big-endian", "big-endian ELF, need little-endian RISC-V" },
        { "cut-in-ident", "truncated: ELF identification beyond end of file" },
        { "cut-in-header", "truncated: ELF header beyond end of file" },
        { "cut-in-program-headers", "truncated: program header table beyond end of file" },
        { "cut-in-section-headers", "truncated: section header table beyond end of file" },
        { "no-program-headers", "no program headers: nothing to load" },
        { "filesz-above-memsz", "segment 1: file size 0x100000000 exceeds memory size 0x" },
        { "segment-offset-far", "truncated: segment 1 data beyond end of file" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Bad_files_give_one_clear_line(string kind, string message)
    {
        byte[] data = BadFile(kind);
        var error = Assert.Throws<GuestImageException>(() => ElfImage.Parse(data));
        Assert.StartsWith(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    private static byte[] BadFile(string kind)
    {
        byte[] tiny = File.ReadAllBytes(TestGuests.Rv64Elf);
        ulong shoff = BitConverter.ToUInt64(tiny, 40);
        // Program header 1 is the first PT_LOAD in our linker layout (0 is RISCV_ATTRIBUTES); check that.
        Assert.Equal(1u, BitConverter.ToUInt32(tiny, 64 + 56));
        byte[] With(Action<byte[]> change) { var copy = (byte[])tiny.Clone(); change(copy); return copy; }
        return kind switch
        {
            "empty" => [],
            "text" => "hello, this is not a program\n"u8.ToArray(),
            "x86-64" => File.ReadAllBytes("/bin/ls"),
            "rv32" => File.ReadAllBytes(TestGuests.Rv32Elf),
            "object" => File.ReadAllBytes(TestGuests.Rv64Object),
            "big-endian" => With(d => d[5] = 2),
            "cut-in-ident" => tiny[..10],
            "cut-in-header" => tiny[..40],
            "cut-in-program-headers" => tiny[..100],
            "cut-in-section-headers" => tiny[..(int)(shoff + 10)],
            "no-program-headers" => With(d => BitConverter.GetBytes((ushort)0).CopyTo(d, 56)),
            "filesz-above-memsz" => With(d => BitConverter.GetBytes(1UL << 32).CopyTo(d, 64 + 56 + 32)),
            "segment-offset-far" => With(d => BitConverter.GetBytes(ulong.MaxValue - 2).CopyTo(d, 64 + 56 + 8)),
            _ => throw new ArgumentException(kind),
        };
    }

    private static List<(ulong Offset, ulong Vaddr, ulong Paddr, ulong FileSize, ulong MemSize, string Flags)> ReadelfLoadSegments(string path)
    {
        string output = TestGuests.Run(".", "riscv64-unknown-elf-readelf", ["-lW", path]);
        var result = new List<(ulong, ulong, ulong, ulong, ulong, string)>();
        foreach (var line in output.Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 8 || f[0] != "LOAD") continue;
            static ulong Hex(string s) => ulong.Parse(s.AsSpan(2), NumberStyles.HexNumber);
            result.Add((Hex(f[1]), Hex(f[2]), Hex(f[3]), Hex(f[4]), Hex(f[5]), string.Concat(f[6..^1])));
        }
        Assert.NotEmpty(result);
        return result;
    }
}
