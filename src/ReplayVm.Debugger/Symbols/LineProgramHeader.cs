namespace ReplayVm.Debugger.Symbols;

/// <summary>
/// The header of one line-number program (DWARF 5 §6.2.4; DWARF 2–4 §6.2.4 of theirs), with its
/// directory and file tables turned into <see cref="SourceFile"/>s.
/// </summary>
internal sealed class LineProgramHeader
{
    public required int Version { get; init; }
    public required bool Dwarf64 { get; init; }
    /// <summary>DWARF 5's address_size; 0 before version 5 (DW_LNE_set_address then says its own size).</summary>
    public required int AddressSize { get; init; }
    public required byte MinimumInstructionLength { get; init; }
    public required byte MaximumOperationsPerInstruction { get; init; }
    public required bool DefaultIsStmt { get; init; }
    public required sbyte LineBase { get; init; }
    public required byte LineRange { get; init; }
    public required byte OpcodeBase { get; init; }
    /// <summary>Operand counts of standard opcodes 1 .. opcode_base−1 (index 0 is opcode 1).</summary>
    public required byte[] StandardOpcodeLengths { get; init; }
    /// <summary>Include directories as written; in DWARF 5 entry 0 is the compilation directory, before it "" stands for it.</summary>
    public required List<string> Directories { get; init; }
    /// <summary>Files by DWARF index: 0-based in DWARF 5; 1-based before (entry 0 is then null).</summary>
    public required List<SourceFile?> Files { get; init; }
    /// <summary>Section offsets of the program's first opcode and of the byte after the unit.</summary>
    public required int ProgramStart { get; init; }
    public required int UnitEnd { get; init; }

    /// <summary>
    /// Reads the unit header at the cursor. Strings of DW_FORM_line_strp and DW_FORM_strp come from
    /// <paramref name="lineStr"/> (.debug_line_str) and <paramref name="str"/> (.debug_str).
    /// </summary>
    public static LineProgramHeader Read(ref DwarfCursor section, ReadOnlySpan<byte> lineStr, ReadOnlySpan<byte> str, ReadOnlySpan<byte> all)
    {
        int unitStart = section.Position;
        // unit_length: 0xffffffff announces 64-bit DWARF, 0xfffffff0..0xfffffffe are reserved (DWARF 5 §7.4).
        uint length32 = section.U32();
        bool dwarf64 = length32 == 0xffff_ffff;
        if (length32 is >= 0xffff_fff0 and < 0xffff_ffff)
            throw new DwarfFormatException($"reserved unit length 0x{length32:x} in .debug_line unit at 0x{unitStart:x}");
        ulong length = dwarf64 ? section.U64() : length32;
        int contentStart = section.Position;
        if (length > (ulong)(section.Length - contentStart))
            throw new DwarfFormatException($"truncated .debug_line unit at 0x{unitStart:x}: {length} bytes declared, {section.Length - contentStart} left");
        int unitEnd = contentStart + (int)length;

        // Header fields must stay inside the unit: read them through a cursor that ends there.
        var unit = new DwarfCursor(all[..unitEnd], ".debug_line", contentStart);
        ushort version = unit.U16();
        if (version is < 2 or > 5)
            throw new DwarfFormatException($"unsupported DWARF line table version {version} in .debug_line unit at 0x{unitStart:x}");
        int addressSize = 0;
        if (version >= 5)
        {
            addressSize = unit.U8();
            byte segmentSelectorSize = unit.U8();
            if (addressSize is < 1 or > 8) throw new DwarfFormatException($"bad address size {addressSize} in .debug_line unit at 0x{unitStart:x}");
            if (segmentSelectorSize != 0) throw new DwarfFormatException($"segmented addresses (selector size {segmentSelectorSize}) are not supported");
        }
        ulong headerLength = unit.Offset(dwarf64);
        if (headerLength > (ulong)(unitEnd - unit.Position))
            throw new DwarfFormatException($"header length {headerLength} runs past the .debug_line unit at 0x{unitStart:x}");
        int programStart = unit.Position + (int)headerLength;

        var header = new DwarfCursor(all[..programStart], ".debug_line header", unit.Position);
        byte minimumInstructionLength = header.U8();
        byte maximumOperations = version >= 4 ? header.U8() : (byte)1;
        bool defaultIsStmt = header.U8() != 0;
        sbyte lineBase = header.S8();
        byte lineRange = header.U8();
        byte opcodeBase = header.U8();
        if (maximumOperations == 0) throw new DwarfFormatException($"maximum_operations_per_instruction is 0 in .debug_line unit at 0x{unitStart:x}");
        if (lineRange == 0) throw new DwarfFormatException($"line_range is 0 in .debug_line unit at 0x{unitStart:x}");
        if (opcodeBase == 0) throw new DwarfFormatException($"opcode_base is 0 in .debug_line unit at 0x{unitStart:x}");
        byte[] standardLengths = header.Bytes((ulong)(opcodeBase - 1)).ToArray();

        List<string> directories;
        List<SourceFile?> files;
        if (version >= 5)
        {
            var directoryEntries = LineEntryFormat.ReadEntries(ref header, dwarf64, lineStr, str, "directory");
            directories = directoryEntries.Select(e => e.Path ?? throw new DwarfFormatException("a DWARF 5 directory entry has no DW_LNCT_path")).ToList();
            if (directories.Count == 0) throw new DwarfFormatException($"no directories (not even the compilation directory) in .debug_line unit at 0x{unitStart:x}");
            var fileEntries = LineEntryFormat.ReadEntries(ref header, dwarf64, lineStr, str, "file");
            files = fileEntries.Select(e => (SourceFile?)Compose(directories, e.Path ?? throw new DwarfFormatException("a DWARF 5 file entry has no DW_LNCT_path"), e.DirectoryIndex)).ToList();
        }
        else
        {
            // DWARF 2–4: NUL-terminated lists, each ended by an empty string; directory 0 is the
            // compilation directory, which only .debug_info names, so it stays "" (relative).
            directories = [""];
            while (header.CString() is { Length: > 0 } directory) directories.Add(directory);
            files = [null];
            while (header.CString() is { Length: > 0 } name)
            {
                ulong directoryIndex = header.ULeb();
                header.ULeb(); // modification time
                header.ULeb(); // length
                files.Add(Compose(directories, name, directoryIndex));
            }
        }

        section.Position = unitEnd;
        return new LineProgramHeader
        {
            Version = version, Dwarf64 = dwarf64, AddressSize = addressSize,
            MinimumInstructionLength = minimumInstructionLength, MaximumOperationsPerInstruction = maximumOperations,
            DefaultIsStmt = defaultIsStmt, LineBase = lineBase, LineRange = lineRange, OpcodeBase = opcodeBase,
            StandardOpcodeLengths = standardLengths, Directories = directories, Files = files,
            ProgramStart = programStart, UnitEnd = unitEnd,
        };
    }

    /// <summary>
    /// A file's path: absolute names stand alone; otherwise its directory, which if relative sits
    /// under the compilation directory (entry 0), as binutils' concat_filename composes it.
    /// </summary>
    public static SourceFile Compose(List<string> directories, string name, ulong directoryIndex)
    {
        if (directoryIndex >= (ulong)directories.Count)
            throw new DwarfFormatException($"file '{name}' names directory {directoryIndex} of {directories.Count}");
        string directory = directories[(int)directoryIndex];
        return new SourceFile(directoryIndex == 0
            ? SourceFile.Join(directory, name)
            : SourceFile.Join(directories[0], directory, name));
    }
}
