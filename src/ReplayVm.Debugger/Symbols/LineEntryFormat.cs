namespace ReplayVm.Debugger.Symbols;

/// <summary>
/// DWARF 5's self-describing directory and file entries (§6.2.4.1): a list of (content type, form)
/// pairs, then entries holding one value of each. Only the path and directory index are kept;
/// timestamps, sizes, MD5s and vendor content are read past by their form.
/// </summary>
internal static class LineEntryFormat
{
    // Content types, DWARF 5 §7.22.
    private const ulong LnctPath = 0x1, LnctDirectoryIndex = 0x2;

    // Forms, DWARF 5 §7.5.6: the ones a line table header may use.
    private const ulong FormBlock2 = 0x03, FormBlock4 = 0x04, FormData2 = 0x05, FormData4 = 0x06, FormData8 = 0x07,
        FormString = 0x08, FormBlock = 0x09, FormBlock1 = 0x0a, FormData1 = 0x0b, FormSdata = 0x0d, FormStrp = 0x0e,
        FormUdata = 0x0f, FormData16 = 0x1e, FormLineStrp = 0x1f;

    public readonly record struct Entry(string? Path, ulong DirectoryIndex);

    public static List<Entry> ReadEntries(ref DwarfCursor header, bool dwarf64, ReadOnlySpan<byte> lineStr, ReadOnlySpan<byte> str, string what)
    {
        int formatCount = header.U8();
        var format = new (ulong Content, ulong Form)[formatCount];
        for (int i = 0; i < formatCount; i++) format[i] = (header.ULeb(), header.ULeb());
        ulong count = header.ULeb();
        // Every supported form takes at least one byte, so more entries than bytes left is malformed;
        // checking first also keeps a corrupt count from allocating or looping without end.
        if (count > 0 && (formatCount == 0 || count > (ulong)(header.Length - header.Position)))
            throw new DwarfFormatException($"{count} {what} entries do not fit in the .debug_line header");

        var entries = new List<Entry>((int)count);
        for (ulong n = 0; n < count; n++)
        {
            string? path = null;
            ulong directory = 0;
            foreach (var (content, form) in format)
            {
                var value = ReadForm(ref header, form, dwarf64, lineStr, str, what);
                if (content == LnctPath) path = value.Text ?? throw new DwarfFormatException($"{what} path has non-string form 0x{form:x}");
                else if (content == LnctDirectoryIndex) directory = value.Number;
            }
            entries.Add(new Entry(path, directory));
        }
        return entries;
    }

    private readonly record struct FormValue(string? Text, ulong Number);

    private static FormValue ReadForm(ref DwarfCursor c, ulong form, bool dwarf64, ReadOnlySpan<byte> lineStr, ReadOnlySpan<byte> str, string what) => form switch
    {
        FormString => new FormValue(c.CString(), 0),
        FormLineStrp => new FormValue(DwarfCursor.StringAt(lineStr, c.Offset(dwarf64), ".debug_line_str"), 0),
        FormStrp => new FormValue(DwarfCursor.StringAt(str, c.Offset(dwarf64), ".debug_str"), 0),
        FormUdata => new FormValue(null, c.ULeb()),
        FormSdata => new FormValue(null, (ulong)c.SLeb()),
        FormData1 => new FormValue(null, c.U8()),
        FormData2 => new FormValue(null, c.U16()),
        FormData4 => new FormValue(null, c.U32()),
        FormData8 => new FormValue(null, c.U64()),
        FormData16 => Skipped(ref c, 16),          // DW_LNCT_MD5
        FormBlock => Skipped(ref c, c.ULeb()),
        FormBlock1 => Skipped(ref c, c.U8()),
        FormBlock2 => Skipped(ref c, c.U16()),
        FormBlock4 => Skipped(ref c, c.U32()),
        _ => throw new DwarfFormatException($"unsupported form 0x{form:x} in a DWARF 5 {what} entry"),
    };

    private static FormValue Skipped(ref DwarfCursor c, ulong count)
    {
        c.Skip(count);
        return default;
    }
}
