namespace ReplayVm.Core.Loading;

/// <summary>What an ELF symbol names (from <c>ELF64_ST_TYPE(st_info)</c>).</summary>
public enum ElfSymbolType
{
    /// <summary>STT_FUNC: code.</summary>
    Function,
    /// <summary>STT_OBJECT: data.</summary>
    Object,
    /// <summary>
    /// STT_NOTYPE with a name, defined in a section (an assembly label such as <c>_start</c>) or
    /// absolute (a linker-script symbol such as <c>__global_pointer$</c>).
    /// </summary>
    Label,
    /// <summary>Anything else: section and file symbols, TLS, and so on.</summary>
    Other,
}

/// <summary>One entry of the ELF <c>.symtab</c>.</summary>
public sealed record ElfSymbol(string Name, ulong Value, ulong Size, ElfSymbolType Type, bool IsGlobal, int SectionIndex)
{
    /// <summary>True when <paramref name="address"/> is inside [Value, Value + Size).</summary>
    public bool Covers(ulong address) => address >= Value && address - Value < Size;

    /// <summary>SHN_ABS: a value set by the linker, not a place in a section.</summary>
    public bool IsAbsolute => SectionIndex == ElfConstants.ShnAbs;
}
