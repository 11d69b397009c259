using ReplayVm.Replay;

namespace ReplayVm.Debugger.Symbols;

/// <summary>
/// Address → source line for the guest's code, from the DWARF line tables of its ELF images:
/// which line covers a pc (<see cref="LineAt"/>, as addr2line answers it) and where a line's code
/// starts (<see cref="AddressesOf"/>, for "b FILE:LINE"). A table that could not be read is empty
/// and says why in <see cref="Error"/>; reading never throws.
/// </summary>
public sealed class LineTable
{
    /// <summary>The address range one row covers: from its address to the next row's.</summary>
    private readonly record struct Range(ulong Start, ulong End, LineRow Row);

    private readonly Range[] _ranges;
    private readonly List<LineSequence> _sequences;

    public static LineTable Empty { get; } = new([], null);

    private LineTable(List<LineSequence> sequences, string? error)
    {
        _sequences = sequences;
        Error = error;
        _ranges = BuildRanges(sequences);
        Files = sequences.SelectMany(s => s.Rows).Select(r => r.File).DistinctBy(f => f.Path).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
    }

    /// <summary>Why the line information could not be read (one line), or null.</summary>
    public string? Error { get; }

    /// <summary>Whether there is any line information at all.</summary>
    public bool IsEmpty => _ranges.Length == 0;

    /// <summary>Every source file some code comes from, by path.</summary>
    public IReadOnlyList<SourceFile> Files { get; }

    /// <summary>Every sequence kept (those at addresses of loaded code).</summary>
    public IReadOnlyList<LineSequence> Sequences => _sequences;

    /// <summary>
    /// The line table of one ELF file. An ELF without .debug_line gives an empty table; a malformed
    /// one an empty table with <see cref="Error"/> set. Sequences that do not start in a loaded code
    /// section are dropped: they describe functions the linker discarded, left at address 0.
    /// </summary>
    public static LineTable FromElf(byte[] elf)
    {
        try
        {
            var sections = ElfSections.Read(elf);
            if (sections.Data(".debug_line") is not { } lines) return Empty;
            var lineStr = sections.Data(".debug_line_str") ?? ReadOnlyMemory<byte>.Empty;
            var str = sections.Data(".debug_str") ?? ReadOnlyMemory<byte>.Empty;
            var sequences = DebugLineReader.Read(lines.Span, lineStr.Span, str.Span);
            return new LineTable(sequences.Where(s => sections.IsCode(s.Start)).ToList(), null);
        }
        catch (DwarfFormatException e)
        {
            return new LineTable([], $"no line info: {e.Message}");
        }
    }

    /// <summary>A table over sequences already read (for tests and for <see cref="Combine"/>).</summary>
    public static LineTable FromSequences(IEnumerable<LineSequence> sequences) => new([.. sequences], null);

    /// <summary>One table over several images (firmware and kernel); the errors are joined.</summary>
    public static LineTable Combine(IReadOnlyList<LineTable> tables)
    {
        var errors = tables.Select(t => t.Error).OfType<string>().ToList();
        return new LineTable(tables.SelectMany(t => t._sequences).ToList(), errors.Count == 0 ? null : string.Join("; ", errors));
    }

    /// <summary>The line tables of every ELF image a trace carries (raw images have none).</summary>
    public static LineTable From(MachineSetup setup) =>
        Combine(setup.Images.Where(i => i.Role != ImageRole.Raw && IsElf(i.Bytes)).Select(i => FromElf(i.Bytes)).ToList());

    private static bool IsElf(byte[] bytes) => bytes.Length >= 4 && bytes[0] == 0x7f && bytes[1] == 'E' && bytes[2] == 'L' && bytes[3] == 'F';

    /// <summary>
    /// The line whose code covers <paramref name="pc"/>, or null. Where several rows share an
    /// address, the last one wins, as in binutils' addr2line (the earlier ones describe no bytes).
    /// </summary>
    public SourceLocation? LineAt(ulong pc)
    {
        int low = 0, high = _ranges.Length - 1, found = -1;
        while (low <= high)
        {
            int mid = low + (high - low) / 2;
            if (_ranges[mid].Start <= pc)
            {
                found = mid;
                low = mid + 1;
            }
            else high = mid - 1;
        }
        if (found < 0 || pc >= _ranges[found].End) return null;
        var row = _ranges[found].Row;
        return new SourceLocation(row.File, row.Line, row.IsStmt);
    }

    /// <summary>
    /// The line-table row covering <paramref name="pc"/> as an address range [Start, End) — what gdb
    /// calls the pc's "sal": source-level stepping runs until pc leaves it — or null.
    /// </summary>
    public (ulong Start, ulong End, SourceLocation Location)? RangeAt(ulong pc)
    {
        int low = 0, high = _ranges.Length - 1, found = -1;
        while (low <= high)
        {
            int mid = low + (high - low) / 2;
            if (_ranges[mid].Start <= pc)
            {
                found = mid;
                low = mid + 1;
            }
            else high = mid - 1;
        }
        if (found < 0 || pc >= _ranges[found].End) return null;
        var r = _ranges[found];
        return (r.Start, r.End, new SourceLocation(r.Row.File, r.Row.Line, r.Row.IsStmt));
    }

    /// <summary>
    /// Where code for <paramref name="line"/> of <paramref name="file"/> ("uart.c" or a longer tail
    /// of its path) starts: the address of every is_stmt row for that line, ascending, as a
    /// debugger places a line breakpoint. Empty when the line has no code.
    /// </summary>
    public IReadOnlyList<ulong> AddressesOf(string file, int line)
    {
        var addresses = new SortedSet<ulong>();
        foreach (var sequence in _sequences)
        {
            foreach (var row in sequence.Rows)
            {
                if (row.EndSequence || !row.IsStmt || row.Line != line || row.Address >= sequence.End) continue;
                if (row.File.Matches(file)) addresses.Add(row.Address);
            }
        }
        return [.. addresses];
    }

    /// <summary>The files <paramref name="query"/> names (several when only a name is given and two directories have it).</summary>
    public IReadOnlyList<SourceFile> FindFiles(string query) => Files.Where(f => f.Matches(query)).ToList();

    private static Range[] BuildRanges(List<LineSequence> sequences)
    {
        var ranges = new List<Range>();
        foreach (var sequence in sequences)
        {
            var rows = sequence.Rows;
            for (int i = 0; i + 1 < rows.Count; i++)
            {
                // A row followed by one at the same address covers nothing.
                if (rows[i].EndSequence || rows[i + 1].Address == rows[i].Address) continue;
                ranges.Add(new Range(rows[i].Address, rows[i + 1].Address, rows[i]));
            }
        }
        ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        return [.. ranges];
    }
}
