namespace ReplayVm.Debugger.Symbols.Info;

/// <summary>
/// The guest's DWARF .debug_info (versions 2 to 5, as GCC 12 writes version 5 by default): every
/// entry, with the functions and their address ranges, global variables, and the scopes (functions,
/// lexical blocks, inlined calls) that cover a pc, for variables and source-level stepping. Location
/// and range lists come from .debug_loclists/.debug_rnglists (DWARF 5) or .debug_loc/.debug_ranges.
/// A malformed section throws <see cref="DwarfFormatException"/> from <see cref="Read"/>.
/// </summary>
public sealed class DebugInfo
{
    private readonly Dictionary<int, DwarfDie> _byOffset = [];
    private readonly List<DwarfUnit> _units = [];
    private readonly List<(ulong Start, ulong End, DwarfDie Function)> _functions = [];
    private readonly Dictionary<string, DwarfDie> _globals = new(StringComparer.Ordinal);

    internal byte[] Str = [], LineStr = [], Addr = [], Loclists = [], Loc = [], Rnglists = [], Ranges = [];

    public static DebugInfo Empty { get; } = new();

    public IReadOnlyList<DwarfUnit> Units => _units;

    public bool IsEmpty => _units.Count == 0;

    public DwarfDie? EntryAt(int offset) => _byOffset.GetValueOrDefault(offset);

    public static DebugInfo Read(ElfSections sections)
    {
        var info = new DebugInfo();
        if (sections.Data(".debug_info") is not { } data || sections.Data(".debug_abbrev") is not { } abbrev) return info;
        info.Str = Bytes(sections, ".debug_str");
        info.LineStr = Bytes(sections, ".debug_line_str");
        info.Addr = Bytes(sections, ".debug_addr");
        info.Loclists = Bytes(sections, ".debug_loclists");
        info.Loc = Bytes(sections, ".debug_loc");
        info.Rnglists = Bytes(sections, ".debug_rnglists");
        info.Ranges = Bytes(sections, ".debug_ranges");
        new DebugInfoReader(info, data.ToArray(), abbrev.ToArray()).ReadAll();
        info.Index();
        return info;
    }

    private static byte[] Bytes(ElfSections sections, string name) => sections.Data(name)?.ToArray() ?? [];

    internal void Add(DwarfUnit unit) => _units.Add(unit);

    internal void Add(DwarfDie die) => _byOffset[die.Offset] = die;

    private void Index()
    {
        foreach (var unit in _units)
        {
            if (unit.Root is null) continue;
            foreach (var die in Walk(unit.Root))
            {
                if (die.Tag == DwarfTag.Subprogram && !die.Has(DwarfAt.Declaration))
                    foreach (var (start, end) in RangesOf(die)) _functions.Add((start, end, die));
                if (die.Tag == DwarfTag.Variable && die.Parent?.Tag == DwarfTag.CompileUnit && die.Has(DwarfAt.Location) && die.Name is { } name)
                    _globals.TryAdd(name, die);
            }
        }
        _functions.Sort((a, b) => a.Start.CompareTo(b.Start));
    }

    private static IEnumerable<DwarfDie> Walk(DwarfDie root)
    {
        var stack = new Stack<DwarfDie>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var die = stack.Pop();
            yield return die;
            for (int i = die.Children.Count - 1; i >= 0; i--) stack.Push(die.Children[i]);
        }
    }

    /// <summary>The (concrete, out-of-line) function whose code covers <paramref name="pc"/>, or null.</summary>
    public DwarfDie? FunctionAt(ulong pc)
    {
        foreach (var (start, end, function) in _functions)
        {
            if (start > pc) break;
            if (pc < end) return function;
        }
        return null;
    }

    /// <summary>Where the function covering <paramref name="pc"/> starts (its lowest address), or null.</summary>
    public ulong? FunctionStart(ulong pc) => FunctionAt(pc) is { } f ? RangesOf(f).Select(r => r.Start).DefaultIfEmpty().Min() : null;

    /// <summary>A global (file-scope) variable by name.</summary>
    public DwarfDie? Global(string name) => _globals.GetValueOrDefault(name);

    /// <summary>
    /// The scopes covering <paramref name="pc"/> inside its function, innermost first: lexical
    /// blocks and inlined calls, ending with the function itself. Empty outside any function.
    /// </summary>
    public IReadOnlyList<DwarfDie> ScopesAt(ulong pc)
    {
        var function = FunctionAt(pc);
        if (function is null) return [];
        var chain = new List<DwarfDie> { function };
        var current = function;
        while (true)
        {
            var inner = current.Children.FirstOrDefault(c => c.Tag is DwarfTag.LexicalBlock or DwarfTag.InlinedSubroutine && Covers(c, pc));
            if (inner is null) break;
            chain.Add(inner);
            current = inner;
        }
        chain.Reverse();
        return chain;
    }

    /// <summary>The inlined calls covering <paramref name="pc"/>, innermost first (gdb shows each as a frame).</summary>
    public IReadOnlyList<DwarfDie> InlinedAt(ulong pc) => ScopesAt(pc).Where(s => s.Tag == DwarfTag.InlinedSubroutine).ToList();

    public bool Covers(DwarfDie die, ulong pc) => RangesOf(die).Any(r => pc >= r.Start && pc < r.End);

    /// <summary>The address ranges of a function, block or inlined call (DW_AT_low_pc/high_pc or DW_AT_ranges).</summary>
    public IReadOnlyList<(ulong Start, ulong End)> RangesOf(DwarfDie die)
    {
        if (die.Get(DwarfAt.LowPc) is { } low && die.Get(DwarfAt.HighPc) is { } high)
        {
            ulong start = ResolveAddress(die.Unit, low);
            ulong end = high.IsAddress ? ResolveAddress(die.Unit, high) : start + high.Number;
            return [(start, end)];
        }
        if (die.Get(DwarfAt.Ranges) is { } ranges) return ListReader.Ranges(this, die.Unit, ranges);
        return [];
    }

    /// <summary>An address attribute's value: the address itself, or for DW_FORM_addrx* the entry in .debug_addr.</summary>
    internal ulong ResolveAddress(DwarfUnit unit, DwarfValue value) =>
        value.Form is DwarfForm.Addrx or DwarfForm.Addrx1 or DwarfForm.Addrx2 or DwarfForm.Addrx3 or DwarfForm.Addrx4
            ? AddressAtIndex(unit, value.Number)
            : value.Number;

    internal ulong AddressAtIndex(DwarfUnit unit, ulong index)
    {
        var cursor = new DwarfCursor(Addr, ".debug_addr");
        ulong at = unit.AddrBase + index * (ulong)unit.AddressSize;
        if (at > (ulong)Addr.Length) throw new DwarfFormatException($"address index {index} is outside .debug_addr");
        cursor.Position = (int)at;
        return cursor.Unsigned(unit.AddressSize);
    }

    /// <summary>A pointer type to <paramref name="target"/> (for &amp;x and arrays decaying to pointers), not part of any unit's entries.</summary>
    public DwarfDie PointerTo(DwarfDie? target) =>
        new(target?.Unit ?? (_units.Count > 0 ? _units[0] : throw new Expressions.ExpressionException("No symbol table is loaded.")), -1, DwarfTag.PointerType) { SyntheticTarget = target };

    /// <summary>The variables and parameters visible in one scope (not its nested blocks).</summary>
    public static IEnumerable<DwarfDie> VariablesOf(DwarfDie scope) =>
        scope.Children.Where(c => c.Tag is DwarfTag.Variable or DwarfTag.FormalParameter && c.Name is not null);
}
