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

    /// <summary>"main" or "main+0x10", or null when no symbol owns the address.</summary>
    public string? NameAt(ulong address) => _images.Select(i => i.SymbolAt(address)).FirstOrDefault(s => s is not null);

    /// <summary>The address of symbol <paramref name="name"/>, or null.</summary>
    public ulong? Find(string name) => _images.Select(i => i.FindSymbol(name)).FirstOrDefault(s => s is not null)?.Value;
}
