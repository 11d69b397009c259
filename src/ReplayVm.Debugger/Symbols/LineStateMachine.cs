namespace ReplayVm.Debugger.Symbols;

/// <summary>
/// Runs one line-number program (DWARF 5 §6.2.5) and appends the rows of every sequence it
/// closes. Each opcode consumes at least one byte of the program, so a program of n bytes yields
/// at most n rows and the run ends however the bytes are corrupted.
/// </summary>
internal sealed class LineStateMachine
{
    // Standard opcodes, DWARF 5 §7.22 (10–12 arrived in DWARF 3; a version-2 opcode_base of 10 makes them special).
    private const byte Copy = 1, AdvancePc = 2, AdvanceLine = 3, SetFile = 4, SetColumn = 5, NegateStmt = 6,
        SetBasicBlock = 7, ConstAddPc = 8, FixedAdvancePc = 9, SetPrologueEnd = 10, SetEpilogueBegin = 11, SetIsa = 12;

    // Extended opcodes.
    private const byte EndSequence = 1, SetAddress = 2, DefineFile = 3, SetDiscriminator = 4;

    private readonly LineProgramHeader _header;
    private readonly List<LineSequence> _sequences;
    private List<LineRow> _rows = [];

    private ulong _address;
    private ulong _opIndex;
    private ulong _file;
    private long _line;
    private bool _isStmt;

    private LineStateMachine(LineProgramHeader header, List<LineSequence> sequences)
    {
        _header = header;
        _sequences = sequences;
        Reset();
    }

    /// <summary>Runs the program of <paramref name="header"/>'s unit in <paramref name="section"/>; rows go to <paramref name="sequences"/>.</summary>
    public static void Run(LineProgramHeader header, ReadOnlySpan<byte> section, List<LineSequence> sequences)
    {
        var machine = new LineStateMachine(header, sequences);
        var program = new DwarfCursor(section[..header.UnitEnd], ".debug_line program", header.ProgramStart);
        while (!program.AtEnd) machine.Step(ref program);
        // A sequence left open at the end of the unit has no end address, so it covers nothing: drop it.
    }

    /// <summary>The initial state of every sequence (§6.2.5.1, table 6.4).</summary>
    private void Reset()
    {
        _address = 0;
        _opIndex = 0;
        _file = 1;
        _line = 1;
        _isStmt = _header.DefaultIsStmt;
    }

    private void Step(ref DwarfCursor program)
    {
        byte opcode = program.U8();
        if (opcode >= _header.OpcodeBase)
        {
            // Special opcode (§6.2.5.1): advance address and line together, then append a row.
            int adjusted = opcode - _header.OpcodeBase;
            Advance((ulong)(adjusted / _header.LineRange));
            _line += _header.LineBase + adjusted % _header.LineRange;
            Append(endSequence: false);
            return;
        }
        if (opcode == 0)
        {
            Extended(ref program);
            return;
        }
        switch (opcode)
        {
            case Copy: Append(endSequence: false); break;
            case AdvancePc: Advance(program.ULeb()); break;
            case AdvanceLine: _line = unchecked(_line + program.SLeb()); break;
            case SetFile: _file = program.ULeb(); break;
            case SetColumn: program.ULeb(); break;
            case NegateStmt: _isStmt = !_isStmt; break;
            case SetBasicBlock or SetPrologueEnd or SetEpilogueBegin: break;
            case ConstAddPc: Advance((ulong)((255 - _header.OpcodeBase) / _header.LineRange)); break;
            case FixedAdvancePc:
                _address = unchecked(_address + program.U16());
                _opIndex = 0;
                break;
            case SetIsa: program.ULeb(); break;
            default:
                // An opcode this reader does not know: the header says how many LEB128 operands to skip.
                for (int i = 0; i < _header.StandardOpcodeLengths[opcode - 1]; i++) program.ULeb();
                break;
        }
    }

    private void Extended(ref DwarfCursor program)
    {
        int at = program.Position - 1;
        ulong length = program.ULeb();
        if (length == 0 || length > (ulong)(program.Length - program.Position))
            throw new DwarfFormatException($"bad extended opcode length {length} at .debug_line offset 0x{at:x}");
        int end = program.Position + (int)length;
        byte opcode = program.U8();
        switch (opcode)
        {
            case EndSequence:
                Append(endSequence: true);
                if (_rows.Count > 0) _sequences.Add(new LineSequence(_rows));
                _rows = [];
                Reset();
                break;
            case SetAddress:
            {
                int size = (int)length - 1;
                if (_header.AddressSize != 0 && size != _header.AddressSize)
                    throw new DwarfFormatException($"DW_LNE_set_address of {size} bytes in a unit of {_header.AddressSize}-byte addresses");
                _address = program.Unsigned(size);
                _opIndex = 0;
                break;
            }
            case DefineFile when _header.Version < 5:
            {
                string name = program.CString();
                ulong directory = program.ULeb();
                program.ULeb();
                program.ULeb();
                _header.Files.Add(LineProgramHeader.Compose(_header.Directories, name, directory));
                break;
            }
            case SetDiscriminator: program.ULeb(); break;
            default: break; // unknown (vendor) extended opcodes are skipped by their length
        }
        if (program.Position > end)
            throw new DwarfFormatException($"extended opcode {opcode} at .debug_line offset 0x{at:x} overruns its length {length}");
        program.Position = end;
    }

    /// <summary>
    /// Advances by an operation advance (§6.2.5.1): for VLIW targets the op_index moves within an
    /// instruction; with one operation per instruction it is simply address += advance × min length.
    /// </summary>
    private void Advance(ulong operationAdvance)
    {
        ulong minimum = _header.MinimumInstructionLength;
        ulong maxOps = _header.MaximumOperationsPerInstruction;
        unchecked
        {
            if (maxOps == 1)
            {
                _address += minimum * operationAdvance;
                return;
            }
            ulong total = _opIndex + operationAdvance;
            _address += minimum * (total / maxOps);
            _opIndex = total % maxOps;
        }
    }

    private void Append(bool endSequence)
    {
        var files = _header.Files;
        if (_file >= (ulong)files.Count || files[(int)_file] is not { } file)
            throw new DwarfFormatException($"line row names file {_file}, which the .debug_line unit does not list");
        if (_line is < 0 or > int.MaxValue) throw new DwarfFormatException($"line number {_line} is out of range");
        if (_rows.Count > 0 && _address < _rows[^1].Address)
            throw new DwarfFormatException($"addresses go backwards within a line sequence (0x{_address:x} after 0x{_rows[^1].Address:x})");
        _rows.Add(new LineRow(_address, file, (int)_line, _isStmt, endSequence));
    }
}
