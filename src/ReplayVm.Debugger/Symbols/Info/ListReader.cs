namespace ReplayVm.Debugger.Symbols.Info;

/// <summary>
/// Range lists (where a block's code is) and location lists (where a variable is at each pc):
/// DWARF 5's .debug_rnglists/.debug_loclists entries (§2.17.3, §2.6.2) and DWARF 4's
/// .debug_ranges/.debug_loc pairs. Lists are bounded by their section: a list without its end
/// entry stops at the section's end.
/// </summary>
internal static class ListReader
{
    private const int MaxEntries = 100_000;

    public static IReadOnlyList<(ulong Start, ulong End)> Ranges(DebugInfo info, DwarfUnit unit, DwarfValue value)
    {
        var result = new List<(ulong, ulong)>();
        if (unit.Version >= 5)
        {
            ulong offset = value.Form == DwarfForm.Rnglistx ? IndexedOffset(info.Rnglists, unit, unit.RnglistsBase, value.Number, ".debug_rnglists") : value.Number;
            Walk5(info, unit, info.Rnglists, offset, ".debug_rnglists", hasExpressions: false, (s, e, _) => result.Add((s, e)));
        }
        else Walk4(info.Ranges, unit, value.Number, ".debug_ranges", hasExpressions: false, (s, e, _) => result.Add((s, e)));
        return result;
    }

    /// <summary>The location expression in effect at <paramref name="pc"/>, or null when the list has none for it (gdb's "optimized out").</summary>
    public static byte[]? LocationAt(DebugInfo info, DwarfUnit unit, DwarfValue value, ulong pc)
    {
        byte[]? found = null;
        void Consider(ulong start, ulong end, byte[]? expression)
        {
            // An empty range at pc describes the value at a function's entry only (GCC writes these; gdb takes them there).
            if (found is null && (pc >= start && pc < end || start == end && pc == start)) found = expression;
        }
        if (unit.Version >= 5)
        {
            ulong offset = value.Form == DwarfForm.Loclistx ? IndexedOffset(info.Loclists, unit, unit.LoclistsBase, value.Number, ".debug_loclists") : value.Number;
            Walk5(info, unit, info.Loclists, offset, ".debug_loclists", hasExpressions: true, Consider);
        }
        else Walk4(info.Loc, unit, value.Number, ".debug_loc", hasExpressions: true, Consider);
        return found;
    }

    /// <summary>DW_FORM_loclistx/rnglistx: an index into the offsets array that follows the list table's header.</summary>
    private static ulong IndexedOffset(byte[] section, DwarfUnit unit, ulong tableBase, ulong index, string name)
    {
        int size = unit.Dwarf64 ? 8 : 4;
        ulong at = tableBase + index * (ulong)size;
        if (at > (ulong)section.Length) throw new DwarfFormatException($"list index {index} is outside {name}");
        var c = new DwarfCursor(section, name, (int)at);
        return tableBase + c.Offset(unit.Dwarf64);
    }

    private static void Walk5(DebugInfo info, DwarfUnit unit, byte[] section, ulong offset, string name, bool hasExpressions, Action<ulong, ulong, byte[]?> entry)
    {
        if (offset >= (ulong)section.Length) throw new DwarfFormatException($"list offset 0x{offset:x} is outside {name}");
        var c = new DwarfCursor(section, name, (int)offset);
        ulong baseAddress = unit.BaseAddress;
        for (int n = 0; n < MaxEntries && !c.AtEnd; n++)
        {
            byte kind = c.U8();
            // The two sections number their entries alike except that loclists has DW_LLE_default_location (5) where rnglists has base_address.
            if (!hasExpressions && kind >= 5) kind = (byte)(kind + 1);
            ulong start, end;
            switch (kind)
            {
                case 0: return;
                case 1: baseAddress = info.AddressAtIndex(unit, c.ULeb()); continue;
                case 2: start = info.AddressAtIndex(unit, c.ULeb()); end = info.AddressAtIndex(unit, c.ULeb()); break;
                case 3: start = info.AddressAtIndex(unit, c.ULeb()); end = start + c.ULeb(); break;
                case 4: start = baseAddress + c.ULeb(); end = baseAddress + c.ULeb(); break;
                case 5: start = 0; end = ulong.MaxValue; break;
                case 6: baseAddress = c.Unsigned(unit.AddressSize); continue;
                case 7: start = c.Unsigned(unit.AddressSize); end = c.Unsigned(unit.AddressSize); break;
                case 8: start = c.Unsigned(unit.AddressSize); end = start + c.ULeb(); break;
                default: throw new DwarfFormatException($"unknown list entry kind {kind} in {name}");
            }
            byte[]? expression = hasExpressions ? c.Bytes(c.ULeb()).ToArray() : null;
            entry(start, end, expression);
        }
    }

    private static void Walk4(byte[] section, DwarfUnit unit, ulong offset, string name, bool hasExpressions, Action<ulong, ulong, byte[]?> entry)
    {
        if (offset >= (ulong)section.Length) throw new DwarfFormatException($"list offset 0x{offset:x} is outside {name}");
        var c = new DwarfCursor(section, name, (int)offset);
        ulong baseAddress = unit.BaseAddress;
        ulong all = unit.AddressSize == 8 ? ulong.MaxValue : uint.MaxValue;
        for (int n = 0; n < MaxEntries && !c.AtEnd; n++)
        {
            ulong start = c.Unsigned(unit.AddressSize), end = c.Unsigned(unit.AddressSize);
            if (start == 0 && end == 0) return;
            if (start == all)
            {
                baseAddress = end;
                continue;
            }
            byte[]? expression = hasExpressions ? c.Bytes(c.U16()).ToArray() : null;
            entry(baseAddress + start, baseAddress + end, expression);
        }
    }
}
