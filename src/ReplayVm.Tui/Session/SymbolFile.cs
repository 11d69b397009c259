using ReplayVm.Core.Loading;

namespace ReplayVm.Tui.Session;

/// <summary>An ELF file read for its symbols and line tables only (<c>debug --symbols</c>): nothing of it is loaded into the machine.</summary>
public sealed record SymbolFile(string Path, byte[] Bytes, ElfImage Elf)
{
    /// <summary>Reads and parses <paramref name="path"/>; a file that is not a RISC-V ELF64 is a <see cref="GuestImageException"/> naming it.</summary>
    public static SymbolFile Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            return new SymbolFile(path, bytes, ElfImage.Parse(bytes));
        }
        catch (GuestImageException e)
        {
            throw new GuestImageException($"{path}: {e.Message}");
        }
    }
}
