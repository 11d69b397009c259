namespace ReplayVm.Core.Loading;

/// <summary>
/// The numbers of the ELF format we use (System V gABI, "ELF-64 Object File Format" 1.5), and the
/// names of machines a user is likely to hand us by mistake.
/// </summary>
internal static class ElfConstants
{
    public const int IdentSize = 16;
    public const byte ClassElf32 = 1, ClassElf64 = 2;
    public const byte DataLittleEndian = 1, DataBigEndian = 2;

    public const ushort TypeRelocatable = 1, TypeExecutable = 2, TypeShared = 3, TypeCore = 4;
    public const ushort MachineRiscV = 243;

    public const int HeaderSize = 64;
    public const int ProgramHeaderSize = 56;
    public const int SectionHeaderSize = 64;
    public const int SymbolSize = 24;

    /// <summary>e_phnum value meaning "the real count is in sh_info of section header 0".</summary>
    public const ushort PnXnum = 0xffff;
    /// <summary>e_shstrndx value meaning "the real index is in sh_link of section header 0".</summary>
    public const ushort ShnXindex = 0xffff;
    /// <summary>Section indexes from here up are reserved (SHN_ABS, SHN_COMMON, ...), not real sections.</summary>
    public const ushort ShnLoReserve = 0xff00;
    public const ushort ShnUndef = 0;
    public const ushort ShnAbs = 0xfff1;

    public const uint PtLoad = 1;
    public const uint PfExecute = 1, PfWrite = 2, PfRead = 4;

    public const uint ShtSymtab = 2;

    public const byte SttNotype = 0, SttObject = 1, SttFunc = 2;
    public const byte StbLocal = 0;

    public static string MachineName(ushort machine) => machine switch
    {
        2 => "SPARC",
        3 => "x86 (i386)",
        8 => "MIPS",
        20 => "PowerPC",
        21 => "PowerPC64",
        22 => "S/390",
        40 => "ARM",
        43 => "SPARC V9",
        62 => "x86-64",
        183 => "AArch64",
        243 => "RISC-V",
        258 => "LoongArch",
        _ => "an unknown architecture",
    };
}
