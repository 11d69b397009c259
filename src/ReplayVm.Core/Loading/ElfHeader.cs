using static ReplayVm.Core.Loading.ElfConstants;

namespace ReplayVm.Core.Loading;

/// <summary>The ELF file header fields we need, validated for "ELF64, little-endian, RISC-V, executable".</summary>
internal readonly record struct ElfHeader(
    ushort Type,
    ulong Entry,
    ulong ProgramHeaderOffset,
    ushort ProgramHeaderEntrySize,
    uint ProgramHeaderCount,
    ulong SectionHeaderOffset,
    ushort SectionHeaderEntrySize,
    ushort SectionHeaderCountField)
{
    public static ElfHeader Read(ElfBytes file)
    {
        if (!file.Contains(0, 4) || file.U32(0, "magic") != 0x464c_457f) // "\x7fELF"
            throw new GuestImageException("not an ELF file");
        file.Require(0, IdentSize, "ELF identification");

        // Check the byte order before anything multi-byte: every read below is little-endian.
        byte data = file.U8(5, "ELF identification");
        if (data == DataBigEndian)
            throw new GuestImageException("big-endian ELF, need little-endian RISC-V");
        if (data != DataLittleEndian)
            throw new GuestImageException($"unknown ELF byte order {data}");

        // e_machine sits at the same offset in ELF32 and ELF64, so name the architecture first:
        // "ELF for x86-64" is more useful than "32-bit ELF" for an i386 binary.
        ushort machine = file.U16(18, "ELF header");
        if (machine != MachineRiscV)
            throw new GuestImageException($"ELF for {MachineName(machine)} (machine {machine}), need RISC-V");

        byte elfClass = file.U8(4, "ELF identification");
        if (elfClass == ClassElf32)
            throw new GuestImageException("32-bit ELF (RV32), need ELF64 (RV64)");
        if (elfClass != ClassElf64)
            throw new GuestImageException($"unknown ELF class {elfClass}");

        file.Require(0, HeaderSize, "ELF header");
        ushort type = file.U16(16, "ELF header");
        switch (type)
        {
            case TypeExecutable or TypeShared: break;
            case TypeRelocatable: throw new GuestImageException("relocatable object file (ET_REL), need a linked executable");
            case TypeCore: throw new GuestImageException("core dump (ET_CORE), need an executable");
            default: throw new GuestImageException($"unknown ELF file type {type}, need an executable");
        }

        var header = new ElfHeader(
            Type: type,
            Entry: file.U64(24, "ELF header"),
            ProgramHeaderOffset: file.U64(32, "ELF header"),
            ProgramHeaderEntrySize: file.U16(54, "ELF header"),
            ProgramHeaderCount: file.U16(56, "ELF header"),
            SectionHeaderOffset: file.U64(40, "ELF header"),
            SectionHeaderEntrySize: file.U16(58, "ELF header"),
            SectionHeaderCountField: file.U16(60, "ELF header"));
        // e_shstrndx is not read: symbols are found by section type, not by section name.

        // gABI "Extended numbering": more than 0xfffe program headers moves the count to section 0.
        if (header.ProgramHeaderCount == PnXnum)
            header = header with { ProgramHeaderCount = header.ReadSectionZero(file).Info };
        return header;
    }

    /// <summary>Section header 0, which holds the extended counts (gABI "Extended numbering").</summary>
    public ElfSection ReadSectionZero(ElfBytes file)
    {
        if (SectionHeaderOffset == 0)
            throw new GuestImageException("extended header count but no section header table");
        if (SectionHeaderEntrySize < SectionHeaderSize)
            throw new GuestImageException($"bad section header size {SectionHeaderEntrySize} (need {SectionHeaderSize})");
        return ElfSection.Read(file, SectionHeaderOffset);
    }
}

/// <summary>The section header fields we need.</summary>
internal readonly record struct ElfSection(uint Type, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize)
{
    public static ElfSection Read(ElfBytes file, ulong at)
    {
        const string what = "section header";
        file.Require(at, SectionHeaderSize, what);
        return new ElfSection(
            Type: file.U32(at + 4, what),
            Offset: file.U64(at + 24, what),
            Size: file.U64(at + 32, what),
            Link: file.U32(at + 40, what),
            Info: file.U32(at + 44, what),
            EntrySize: file.U64(at + 56, what));
    }
}
