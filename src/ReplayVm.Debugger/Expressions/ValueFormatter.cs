using System.Globalization;
using System.Text;
using ReplayVm.Debugger.Symbols.Info;

namespace ReplayVm.Debugger.Expressions;

/// <summary>
/// Values written the way gdb's print writes them with its default settings: integers in
/// decimal, characters as <c>104 'h'</c>, pointers as <c>(int *) 0x80001000 &lt;buf&gt;</c> (the
/// type only at the top level), char pointers with the string they point to, arrays in braces with
/// runs of more than ten equal elements as <c>&lt;repeats N times&gt;</c>, char arrays as strings,
/// structs as <c>{name = value, ...}</c>, and at most 200 elements of any array.
/// </summary>
public sealed class ValueFormatter(Func<ulong, string?> symbolAt, Func<ulong, int, byte[]?> readMemory)
{
    private const int RepeatThreshold = 10, PrintLimit = 200;

    public string Format(DebugValue value) => Format(value.Type, value.Bytes, value.Location, topLevel: true);

    private string Format(DwarfDie? type, ReadOnlySpan<byte> bytes, ValueLocation location, bool topLevel)
    {
        if (location is ValueLocation.Unavailable) return "<optimized out>";
        var t = TypeInfo.Strip(type);
        if (t is null) return Integer(bytes, signed: true).ToString(CultureInfo.InvariantCulture); // a bare number or *ADDR
        switch (t.Tag)
        {
            case DwarfTag.BaseType: return Base(t, bytes);
            case DwarfTag.EnumerationType:
            {
                ulong v = Integer(bytes, TypeInfo.IsSigned(t.Type));
                var name = t.Children.FirstOrDefault(e => e.Tag == DwarfTag.Enumerator && e.Get(DwarfAt.ConstValue)?.Number == v)?.Name;
                return name ?? ((long)v).ToString(CultureInfo.InvariantCulture);
            }
            case DwarfTag.PointerType: return Pointer(type, t, Integer(bytes, false), topLevel);
            case DwarfTag.StructureType or DwarfTag.UnionType:
            {
                var parts = new List<string>();
                foreach (var (name, memberType, offset, _) in TypeInfo.Members(t))
                {
                    ulong size = TypeInfo.SizeOf(memberType);
                    if (offset + size > (ulong)bytes.Length) continue;
                    parts.Add($"{name} = {Format(memberType, bytes.Slice((int)offset, (int)size), new ValueLocation.Computed([]), topLevel: false)}");
                }
                return "{" + string.Join(", ", parts) + "}";
            }
            case DwarfTag.ArrayType: return Array(t, bytes);
            default: return "<unknown type>";
        }
    }

    private static ulong Integer(ReadOnlySpan<byte> bytes, bool signed)
    {
        ulong v = 0;
        int size = Math.Min(8, bytes.Length);
        for (int i = size - 1; i >= 0; i--) v = v << 8 | bytes[i];
        if (signed && size is > 0 and < 8 && (bytes[size - 1] & 0x80) != 0) v |= ulong.MaxValue << (size * 8);
        return v;
    }

    private static string Base(DwarfDie t, ReadOnlySpan<byte> bytes)
    {
        bool signed = TypeInfo.IsSigned(t);
        if (TypeInfo.IsFloat(t))
        {
            return bytes.Length switch
            {
                4 => BitConverter.ToSingle(bytes).ToString("G9", CultureInfo.InvariantCulture),
                8 => BitConverter.ToDouble(bytes).ToString("G17", CultureInfo.InvariantCulture),
                _ => "<float>",
            };
        }
        ulong v = Integer(bytes, signed);
        if (TypeInfo.IsBool(t)) return v == 0 ? "false" : v == 1 ? "true" : v.ToString(CultureInfo.InvariantCulture);
        string number = signed ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);
        if (TypeInfo.IsCharacter(t)) return $"{number} {CharLiteral((byte)v)}";
        return number;
    }

    /// <summary>A character as gdb quotes it: 'a', '\n', '\000', '\\', '\''.</summary>
    private static string CharLiteral(byte c) => "'" + Escape(c, '\'') + "'";

    private static string Escape(byte c, char quote) => c switch
    {
        (byte)'\n' => "\\n", (byte)'\t' => "\\t", (byte)'\r' => "\\r", 7 => "\\a", 8 => "\\b", 12 => "\\f", 11 => "\\v", 27 => "\\033",
        (byte)'\\' => "\\\\",
        _ when c == quote => "\\" + quote,
        >= 0x20 and < 0x7f => ((char)c).ToString(),
        _ => "\\" + Convert.ToString(c, 8).PadLeft(3, '0'),
    };

    private string Pointer(DwarfDie? declared, DwarfDie pointer, ulong address, bool topLevel)
    {
        var target = TypeInfo.Strip(pointer.Type);
        var text = new StringBuilder();
        if (target?.Tag == DwarfTag.SubroutineType)
        {
            text.Append(topLevel ? $"({TypeInfo.Name(declared)}) " : "");
            text.Append($"0x{address:x}");
            if (symbolAt(address) is { } fn) text.Append($" <{fn}>");
            return text.ToString();
        }
        bool isString = target is not null && TypeInfo.IsCharacter(target);
        if (topLevel && !isString) text.Append($"({TypeInfo.Name(declared)}) ");
        text.Append($"0x{address:x}");
        if (symbolAt(address) is { } name) text.Append($" <{name}>");
        if (isString && address != 0)
        {
            var chars = new List<byte>();
            bool ended = false;
            for (int i = 0; i < PrintLimit; i++)
            {
                if (readMemory(address + (ulong)i, 1) is not { } one) break;
                if (one[0] == 0) { ended = true; break; }
                chars.Add(one[0]);
            }
            text.Append(' ').Append(chars.Count == 0 ? "\"\"" : StringRun(chars, chars.Count, truncated: !ended && chars.Count == PrintLimit));
        }
        return text.ToString();
    }

    private string Array(DwarfDie array, ReadOnlySpan<byte> bytes)
    {
        var element = array.Type;
        ulong size = TypeInfo.SizeOf(element);
        ulong count = TypeInfo.ArrayLength(array) ?? 0;
        if (size == 0) return "{}";
        count = Math.Min(count, (ulong)bytes.Length / size);
        if (TypeInfo.IsCharacter(element)) return CharArray(bytes[..(int)count].ToArray());

        var items = new List<string>();
        ulong shown = 0;
        for (ulong i = 0; i < count && shown < PrintLimit;)
        {
            var one = bytes.Slice((int)(i * size), (int)size);
            ulong run = 1;
            while (i + run < count && bytes.Slice((int)((i + run) * size), (int)size).SequenceEqual(one)) run++;
            string text = Format(element, one, new ValueLocation.Computed([]), topLevel: false);
            if (run > RepeatThreshold)
            {
                items.Add($"{text} <repeats {run} times>");
                i += run;
                shown += RepeatThreshold;
            }
            else
            {
                items.Add(text);
                i++;
                shown++;
            }
        }
        string body = string.Join(", ", items);
        return "{" + body + (shown >= PrintLimit && count > shown ? "..." : "") + "}";
    }

    /// <summary>
    /// A char array as gdb prints it with print null-stop off: one trailing NUL is the terminator
    /// and not shown; runs longer than the threshold become <c>'c' &lt;repeats N times&gt;</c>
    /// between quoted segments.
    /// </summary>
    private static string CharArray(byte[] chars)
    {
        int length = chars.Length;
        // Trailing NULs: gdb drops one as the terminator and prints what is left.
        if (length > 0 && chars[length - 1] == 0) length--;
        if (length == 0) return "\"\"";
        return StringRun(chars, length, truncated: false);
    }

    private static string StringRun(IReadOnlyList<byte> chars, int length, bool truncated)
    {
        var segments = new List<string>();
        var quoted = new StringBuilder();
        int printed = 0;
        for (int i = 0; i < length && printed < PrintLimit;)
        {
            int run = 1;
            while (i + run < length && chars[i + run] == chars[i]) run++;
            if (run > RepeatThreshold)
            {
                if (quoted.Length > 0) { segments.Add("\"" + quoted + "\""); quoted.Clear(); }
                segments.Add($"{CharLiteral(chars[i])} <repeats {run} times>");
                i += run;
                printed += RepeatThreshold;
            }
            else
            {
                quoted.Append(Escape(chars[i], '"'));
                i++;
                printed++;
            }
        }
        if (quoted.Length > 0) segments.Add("\"" + quoted + "\"");
        string text = string.Join(", ", segments);
        return truncated || printed >= PrintLimit && printed < length ? text + "..." : text;
    }
}
