namespace ReplayVm.Debugger.Symbols.Info;

/// <summary>Reads .debug_info's units and entries against .debug_abbrev (DWARF 5 §7.5).</summary>
internal sealed class DebugInfoReader(DebugInfo info, byte[] data, byte[] abbrev)
{
    private sealed record Abbreviation(ushort Tag, bool HasChildren, (ushort Attribute, ushort Form, long Implicit)[] Specs);

    private readonly Dictionary<ulong, Dictionary<ulong, Abbreviation>> _tables = [];

    /// <summary>Entries nest no deeper than this: a forged section cannot make the reader recurse without end.</summary>
    private const int MaxDepth = 256;

    public void ReadAll()
    {
        var cursor = new DwarfCursor(data, ".debug_info");
        while (!cursor.AtEnd)
        {
            int unitStart = cursor.Position;
            ulong length = cursor.U32();
            bool dwarf64 = false;
            if (length == 0xffff_ffff)
            {
                dwarf64 = true;
                length = cursor.U64();
            }
            if (length > (ulong)(cursor.Length - cursor.Position)) throw new DwarfFormatException($"unit at 0x{unitStart:x} runs past the end of .debug_info");
            int end = cursor.Position + (int)length;
            int version = cursor.U16();
            if (version is < 2 or > 5) throw new DwarfFormatException($"DWARF version {version} in .debug_info is not supported");
            ulong abbrevOffset;
            int addressSize;
            int unitType = 1;
            if (version == 5)
            {
                unitType = cursor.U8();
                addressSize = cursor.U8();
                abbrevOffset = cursor.Offset(dwarf64);
                if (unitType is 4 or 5) cursor.Skip(8); // skeleton/split compile units: the DWO id
                else if (unitType is 2 or 6) cursor.Skip(8 + (ulong)(dwarf64 ? 8 : 4)); // type units: signature, type offset
            }
            else
            {
                abbrevOffset = cursor.Offset(dwarf64);
                addressSize = cursor.U8();
            }
            var unit = new DwarfUnit(info, unitStart, version, addressSize, dwarf64);
            info.Add(unit);
            if (unitType is 1 or 3 && cursor.Position < end)
            {
                var table = Table(abbrevOffset);
                var unitCursor = new DwarfCursor(data.AsSpan(0, end), ".debug_info", cursor.Position);
                unit.Root = ReadEntries(ref unitCursor, unit, table, null, 0);
            }
            cursor.Position = end;
        }
    }

    /// <summary>Reads one entry and, if it has children, the sibling chain below it; returns the entry (null for a terminator).</summary>
    private DwarfDie? ReadEntries(ref DwarfCursor cursor, DwarfUnit unit, Dictionary<ulong, Abbreviation> table, DwarfDie? parent, int depth)
    {
        DwarfDie? first = null;
        while (!cursor.AtEnd)
        {
            int offset = cursor.Position;
            ulong code = cursor.ULeb();
            if (code == 0) return first;
            if (!table.TryGetValue(code, out var abbreviation)) throw new DwarfFormatException($"unknown abbreviation {code} at .debug_info 0x{offset:x}");
            var die = new DwarfDie(unit, offset, abbreviation.Tag) { Parent = parent };
            foreach (var (attribute, form, implicitValue) in abbreviation.Specs)
                die.Attributes[attribute] = ReadValue(ref cursor, unit, form, implicitValue);
            info.Add(die);
            parent?.Children.Add(die);
            first ??= die;
            if (abbreviation.HasChildren)
            {
                if (depth >= MaxDepth) throw new DwarfFormatException($"entries nest deeper than {MaxDepth} at .debug_info 0x{offset:x}");
                ReadEntries(ref cursor, unit, table, die, depth + 1);
            }
            if (parent is null) return die; // the unit's root entry stands alone
        }
        return first;
    }

    private DwarfValue ReadValue(ref DwarfCursor c, DwarfUnit unit, ushort form, long implicitValue)
    {
        switch (form)
        {
            case DwarfForm.Addr: return new(form, c.Unsigned(unit.AddressSize));
            case DwarfForm.Block1: return new(form, 0, c.Bytes(c.U8()).ToArray());
            case DwarfForm.Block2: return new(form, 0, c.Bytes(c.U16()).ToArray());
            case DwarfForm.Block4: return new(form, 0, c.Bytes(c.U32()).ToArray());
            case DwarfForm.Block or DwarfForm.Exprloc: return new(form, 0, c.Bytes(c.ULeb()).ToArray());
            case DwarfForm.Data1 or DwarfForm.Ref1 or DwarfForm.Flag or DwarfForm.Strx1 or DwarfForm.Addrx1: return Fix(form, c.U8(), unit);
            case DwarfForm.Data2 or DwarfForm.Ref2 or DwarfForm.Strx2 or DwarfForm.Addrx2: return Fix(form, c.U16(), unit);
            case DwarfForm.Strx3 or DwarfForm.Addrx3: return Fix(form, c.Unsigned(3), unit);
            case DwarfForm.Data4 or DwarfForm.Ref4 or DwarfForm.Strx4 or DwarfForm.Addrx4 or DwarfForm.RefSup4: return Fix(form, c.U32(), unit);
            case DwarfForm.Data8 or DwarfForm.Ref8 or DwarfForm.RefSig8 or DwarfForm.RefSup8: return Fix(form, c.U64(), unit);
            case DwarfForm.Data16: return new(form, 0, c.Bytes(16).ToArray());
            case DwarfForm.Sdata: return new(form, unchecked((ulong)c.SLeb()));
            case DwarfForm.Udata or DwarfForm.RefUdata or DwarfForm.Strx or DwarfForm.Addrx or DwarfForm.Loclistx or DwarfForm.Rnglistx:
                return Fix(form, c.ULeb(), unit);
            case DwarfForm.String: return new(form, 0, Text: c.CString());
            case DwarfForm.Strp: return new(form, 0, Text: DwarfCursor.StringAt(info.Str, c.Offset(unit.Dwarf64), ".debug_str"));
            case DwarfForm.LineStrp: return new(form, 0, Text: DwarfCursor.StringAt(info.LineStr, c.Offset(unit.Dwarf64), ".debug_line_str"));
            case DwarfForm.StrpSup: c.Offset(unit.Dwarf64); return new(form, 0, Text: "?");
            case DwarfForm.RefAddr: return new(form, unit.Version <= 2 ? c.Unsigned(unit.AddressSize) : c.Offset(unit.Dwarf64));
            case DwarfForm.SecOffset: return new(form, c.Offset(unit.Dwarf64));
            case DwarfForm.FlagPresent: return new(form, 1);
            case DwarfForm.ImplicitConst: return new(form, unchecked((ulong)implicitValue));
            case DwarfForm.Indirect: return ReadValue(ref c, unit, (ushort)c.ULeb(), implicitValue);
            default: throw new DwarfFormatException($"unknown attribute form 0x{form:x} in .debug_info");
        }
    }

    /// <summary>Unit-relative references become .debug_info offsets; string indices (no .debug_str_offsets support) become "?".</summary>
    private static DwarfValue Fix(ushort form, ulong value, DwarfUnit unit) => form switch
    {
        DwarfForm.Ref1 or DwarfForm.Ref2 or DwarfForm.Ref4 or DwarfForm.Ref8 or DwarfForm.RefUdata => new(form, (ulong)unit.Offset + value),
        DwarfForm.Strx or DwarfForm.Strx1 or DwarfForm.Strx2 or DwarfForm.Strx3 or DwarfForm.Strx4 => new(form, value, Text: "?"),
        _ => new(form, value),
    };

    private Dictionary<ulong, Abbreviation> Table(ulong offset)
    {
        if (_tables.TryGetValue(offset, out var table)) return table;
        if (offset >= (ulong)abbrev.Length) throw new DwarfFormatException($"abbreviation offset 0x{offset:x} is outside .debug_abbrev");
        table = [];
        var c = new DwarfCursor(abbrev, ".debug_abbrev", (int)offset);
        while (true)
        {
            ulong code = c.ULeb();
            if (code == 0) break;
            ushort tag = (ushort)c.ULeb();
            bool children = c.U8() != 0;
            var specs = new List<(ushort, ushort, long)>();
            while (true)
            {
                ushort attribute = (ushort)c.ULeb();
                ushort form = (ushort)c.ULeb();
                long implicitValue = form == DwarfForm.ImplicitConst ? c.SLeb() : 0;
                if (attribute == 0 && form == 0) break;
                specs.Add((attribute, form, implicitValue));
            }
            table[code] = new Abbreviation(tag, children, [.. specs]);
        }
        _tables[offset] = table;
        return table;
    }
}
