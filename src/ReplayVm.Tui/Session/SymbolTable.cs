using ReplayVm.Core.Loading;
using ReplayVm.Replay;

namespace ReplayVm.Tui.Session;

/// <summary>The symbols of every ELF image a trace carries: names for addresses and addresses for names.</summary>
public sealed class SymbolTable
{
    private readonly List<ElfImage> _images;

    public SymbolTable(IEnumerable<ElfImage> images) => _images = [.. images];

    public static SymbolTable From(MachineSetup setup)
    {
        var images = new List<ElfImage>();
        foreach (var image in setup.Images)
        {
            try
            {
                images.Add(ElfImage.Parse(image.Bytes));
            }
            catch (GuestImageException)
            {
                // A raw image has no symbol table.
            }
        }
        return new SymbolTable(images);
    }

    /// <summary>This table and the symbols of <paramref name="more"/> (e.g. a kernel's vmlinux for the raw Image a trace holds).</summary>
    public SymbolTable With(IEnumerable<ElfImage> more) => new(_images.Concat(more));

    /// <summary>How far past a size-less label an address may lie and still be named after it (code labels in assembly).</summary>
    public const ulong LabelReach = 0x1000;

    /// <summary>
    /// "main" or "main+0x10", or null when no symbol plausibly owns the address: a sized symbol
    /// owns its own bytes only; a size-less label owns what follows it for at most
    /// <see cref="LabelReach"/> bytes, and a linker-made boundary ("__global_pointer$",
    /// "__bss_start", "_end") owns only its own address — a stack address is nobody's "+0x10f8e8";
    /// an absolute symbol outside the image's segments owns nothing.
    /// </summary>
    public string? NameAt(ulong address)
    {
        foreach (var image in _images)
        {
            if (!image.TryFindSymbolAt(address, out var symbol, out ulong offset)) continue;
            // An absolute symbol outside the image's segments is a linker constant (vmlinux's
            // PECOFF_SECTION_ALIGNMENT = 0x1000), not a place: it must not name the reset vector.
            if (symbol.IsAbsolute && !image.Segments.Any(segment => segment.ContainsVirtual(symbol.Value))) continue;
            if (offset == 0) return symbol.Name;
            if (symbol.Size == 0 && (offset >= LabelReach || IsBoundary(symbol.Name))) return null;
            return $"{symbol.Name}+0x{offset:x}";
        }
        return null;
    }

    private static bool IsBoundary(string name) => name.StartsWith("__", StringComparison.Ordinal) || name.EndsWith('$') || name is "_end" or "end" or "_edata" or "edata" or "_etext" or "etext";

    /// <summary>The address of symbol <paramref name="name"/>, or null.</summary>
    public ulong? Find(string name) => _images.Select(i => i.FindSymbol(name)).FirstOrDefault(s => s is not null)?.Value;
}
