using ReplayVm.Debugger.Symbols.Info;

namespace ReplayVm.Debugger.Expressions;

/// <summary>Questions about a DWARF type entry: what it really is under typedefs and qualifiers, its size, its C name.</summary>
public static class TypeInfo
{
    private const int MaxDepth = 32;

    /// <summary>The type under typedefs and const/volatile/restrict/_Atomic (null stays null: void).</summary>
    public static DwarfDie? Strip(DwarfDie? type)
    {
        for (int i = 0; type is not null && i < MaxDepth; i++)
        {
            if (type.Tag is not (DwarfTag.Typedef or DwarfTag.ConstType or DwarfTag.VolatileType or DwarfTag.RestrictType or DwarfTag.AtomicType)) return type;
            type = type.Type;
        }
        return type;
    }

    public static ulong SizeOf(DwarfDie? type)
    {
        var t = Strip(type);
        if (t is null) return 1; // void: gdb's sizeof(void) is 1
        if (t.Number(DwarfAt.ByteSize) is { } size) return size;
        return t.Tag switch
        {
            DwarfTag.PointerType => (ulong)t.Unit.AddressSize,
            DwarfTag.ArrayType => ArrayLength(t) is { } n ? n * SizeOf(t.Type) : 0,
            _ => 0,
        };
    }

    /// <summary>The element count of an array type's first dimension (null when unknown: a flexible array).</summary>
    public static ulong? ArrayLength(DwarfDie array)
    {
        var range = array.Children.FirstOrDefault(c => c.Tag == DwarfTag.SubrangeType);
        if (range is null) return null;
        if (range.Number(DwarfAt.Count) is { } count) return count;
        if (range.Number(DwarfAt.UpperBound) is { } upper) return upper + 1;
        return null;
    }

    /// <summary>For a multi-dimensional array, the type of one element of the first dimension (an array of the rest).</summary>
    public static int Dimensions(DwarfDie array) => array.Children.Count(c => c.Tag == DwarfTag.SubrangeType);

    public static bool IsPointer(DwarfDie? type) => Strip(type)?.Tag == DwarfTag.PointerType;
    public static bool IsArray(DwarfDie? type) => Strip(type)?.Tag == DwarfTag.ArrayType;
    public static bool IsStruct(DwarfDie? type) => Strip(type)?.Tag is DwarfTag.StructureType or DwarfTag.UnionType;

    /// <summary>DW_ATE_* of a base type (DWARF 5 §7.8), or 0.</summary>
    public static ulong Encoding(DwarfDie? type) => Strip(type) is { Tag: DwarfTag.BaseType } t ? t.Number(DwarfAt.Encoding) ?? 0 : 0;

    public static bool IsSigned(DwarfDie? type) => Encoding(type) is 0x05 or 0x06 or 0x0d; // signed, signed_char, signed_fixed
    public static bool IsCharacter(DwarfDie? type) => Encoding(type) is 0x06 or 0x08 or 0x10 && SizeOf(type) == 1; // (un)signed_char, UTF
    public static bool IsFloat(DwarfDie? type) => Encoding(type) == 0x04;
    public static bool IsBool(DwarfDie? type) => Encoding(type) == 0x02;
    public static bool IsEnum(DwarfDie? type) => Strip(type)?.Tag == DwarfTag.EnumerationType;
    public static bool IsScalar(DwarfDie? type) => Strip(type)?.Tag is DwarfTag.BaseType or DwarfTag.PointerType or DwarfTag.EnumerationType;

    /// <summary>The type as C writes it: "int", "char *", "struct entry", "uint32_t", "char [16]".</summary>
    public static string Name(DwarfDie? type) => Compose(type, "").Trim();

    private static string Compose(DwarfDie? type, string declarator, int depth = 0)
    {
        if (depth > MaxDepth) return "?" + declarator;
        if (type is null) return "void" + Space(declarator);
        switch (type.Tag)
        {
            case DwarfTag.BaseType or DwarfTag.Typedef or DwarfTag.UnspecifiedType:
                return (type.Name ?? "?") + Space(declarator);
            case DwarfTag.StructureType: return $"struct {type.Name ?? "{...}"}" + Space(declarator);
            case DwarfTag.UnionType: return $"union {type.Name ?? "{...}"}" + Space(declarator);
            case DwarfTag.EnumerationType: return $"enum {type.Name ?? "{...}"}" + Space(declarator);
            case DwarfTag.ConstType: return Qualify(type, "const", declarator, depth);
            case DwarfTag.VolatileType: return Qualify(type, "volatile", declarator, depth);
            case DwarfTag.RestrictType or DwarfTag.AtomicType: return Compose(type.Type, declarator, depth + 1);
            case DwarfTag.PointerType:
            {
                var target = type.Type;
                bool wrap = target?.Tag is DwarfTag.ArrayType or DwarfTag.SubroutineType;
                return Compose(target, wrap ? $"(*{declarator})" : "*" + declarator, depth + 1);
            }
            case DwarfTag.ArrayType:
            {
                string dims = string.Concat(type.Children.Where(c => c.Tag == DwarfTag.SubrangeType)
                    .Select(r => r.Number(DwarfAt.Count) is { } n ? $"[{n}]" : r.Number(DwarfAt.UpperBound) is { } u ? $"[{u + 1}]" : "[]"));
                return Compose(type.Type, (declarator.Length == 0 ? " " : declarator) + dims, depth + 1);
            }
            case DwarfTag.SubroutineType:
            {
                var parameters = type.Children.Where(c => c.Tag == DwarfTag.FormalParameter).Select(p => Name(p.Type)).ToList();
                return Compose(type.Type, $"{declarator}({(parameters.Count == 0 ? "void" : string.Join(", ", parameters))})", depth + 1);
            }
            default: return "?" + Space(declarator);
        }
    }

    private static string Qualify(DwarfDie type, string qualifier, string declarator, int depth)
    {
        // "const char *": the qualifier goes before a base type, after a pointer's star.
        if (declarator.StartsWith('*') || type.Type?.Tag == DwarfTag.PointerType) return Compose(type.Type, $" {qualifier}{Space(declarator)}", depth + 1);
        return $"{qualifier} " + Compose(type.Type, declarator, depth + 1);
    }

    private static string Space(string declarator) => declarator.Length == 0 ? "" : declarator.StartsWith(' ') || declarator.StartsWith('[') ? declarator : " " + declarator;

    /// <summary>The members of a struct or union, each with its byte offset (DW_AT_data_member_location as a constant).</summary>
    public static IEnumerable<(string Name, DwarfDie? Type, ulong Offset, DwarfDie Member)> Members(DwarfDie structType)
    {
        foreach (var member in Strip(structType)!.Children.Where(c => c.Tag == DwarfTag.Member))
        {
            ulong offset = member.Get(DwarfAt.DataMemberLocation) switch
            {
                { Block: { Length: > 1 } block } when block[0] == 0x23 => ReadUleb(block, 1), // DW_OP_plus_uconst
                { Block: null } v => v.Number,
                _ => 0,
            };
            if (member.Number(DwarfAt.DataBitOffset) is { } bits) offset = bits / 8;
            yield return (member.Name ?? "", member.Type, offset, member);
        }
    }

    private static ulong ReadUleb(byte[] bytes, int at)
    {
        ulong value = 0;
        for (int shift = 0; at < bytes.Length && shift < 64; shift += 7)
        {
            byte b = bytes[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) break;
        }
        return value;
    }
}
