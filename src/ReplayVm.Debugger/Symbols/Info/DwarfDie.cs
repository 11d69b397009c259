namespace ReplayVm.Debugger.Symbols.Info;

/// <summary>What one attribute holds: a number, a block (an expression), a string, or a reference to another entry.</summary>
public readonly record struct DwarfValue(ushort Form, ulong Number, byte[]? Block = null, string? Text = null)
{
    public bool IsReference => Form is DwarfForm.Ref1 or DwarfForm.Ref2 or DwarfForm.Ref4 or DwarfForm.Ref8 or DwarfForm.RefUdata or DwarfForm.RefAddr;
    public bool IsAddress => Form is DwarfForm.Addr or DwarfForm.Addrx or DwarfForm.Addrx1 or DwarfForm.Addrx2 or DwarfForm.Addrx3 or DwarfForm.Addrx4;
    /// <summary>A loclist or rnglist: an offset into .debug_loclists/.debug_rnglists (or an index into its offsets table).</summary>
    public bool IsListOffset => Form is DwarfForm.SecOffset or DwarfForm.Loclistx or DwarfForm.Rnglistx || (Form is DwarfForm.Data4 or DwarfForm.Data8 && Block is null);
}

/// <summary>One debugging information entry: a tag, its attributes, its children (DWARF 5 §2.1).</summary>
public sealed class DwarfDie
{
    internal DwarfDie(DwarfUnit unit, int offset, ushort tag)
    {
        Unit = unit;
        Offset = offset;
        Tag = tag;
    }

    public DwarfUnit Unit { get; }
    /// <summary>Offset in .debug_info (what references name).</summary>
    public int Offset { get; }
    public ushort Tag { get; }
    public DwarfDie? Parent { get; internal set; }
    public List<DwarfDie> Children { get; } = [];
    internal Dictionary<ushort, DwarfValue> Attributes { get; } = [];

    public bool Has(ushort attribute) => Attributes.ContainsKey(attribute);

    public DwarfValue? Get(ushort attribute) => Attributes.TryGetValue(attribute, out var v) ? v : null;

    /// <summary>The attribute here, or on the entry this one completes (DW_AT_specification) or instantiates (DW_AT_abstract_origin).</summary>
    public DwarfValue? GetInherited(ushort attribute)
    {
        var die = this;
        for (int depth = 0; die is not null && depth < 8; depth++)
        {
            if (die.Attributes.TryGetValue(attribute, out var v)) return v;
            die = die.Reference(DwarfAt.Specification) ?? die.Reference(DwarfAt.AbstractOrigin);
        }
        return null;
    }

    public string? Name => GetInherited(DwarfAt.Name)?.Text;

    public ulong? Number(ushort attribute) => Get(attribute) is { Block: null, Text: null } v ? v.Number : null;

    /// <summary>The entry an attribute refers to (DW_AT_type, DW_AT_specification...), or null.</summary>
    public DwarfDie? Reference(ushort attribute) =>
        Attributes.TryGetValue(attribute, out var v) && v.IsReference ? Unit.Info.EntryAt((int)v.Number) : null;

    /// <summary>For a type made up by the expression evaluator (a pointer to a variable, for &amp;x): the type it points to.</summary>
    internal DwarfDie? SyntheticTarget { get; init; }

    public DwarfDie? Type => SyntheticTarget ?? Reference(DwarfAt.Type) ?? (Reference(DwarfAt.AbstractOrigin) ?? Reference(DwarfAt.Specification))?.Type;

    public override string ToString() => $"<0x{Offset:x}> tag 0x{Tag:x} {Name}";
}

/// <summary>A compilation unit's header values that its entries' attributes are read against.</summary>
public sealed class DwarfUnit
{
    internal DwarfUnit(DebugInfo info, int offset, int version, int addressSize, bool dwarf64)
    {
        Info = info;
        Offset = offset;
        Version = version;
        AddressSize = addressSize;
        Dwarf64 = dwarf64;
    }

    public DebugInfo Info { get; }
    public int Offset { get; }
    public int Version { get; }
    public int AddressSize { get; }
    public bool Dwarf64 { get; }
    public DwarfDie? Root { get; internal set; }

    /// <summary>The unit's base address (its DW_AT_low_pc), against which location and range lists' offsets count.</summary>
    public ulong BaseAddress => Root?.Number(DwarfAt.LowPc) ?? 0;
    public ulong AddrBase => Root?.Number(DwarfAt.AddrBase) ?? 8;
    public ulong LoclistsBase => Root?.Number(DwarfAt.LoclistsBase) ?? 12;
    public ulong RnglistsBase => Root?.Number(DwarfAt.RnglistsBase) ?? 12;
}
