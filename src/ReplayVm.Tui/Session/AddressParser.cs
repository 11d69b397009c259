using System.Globalization;
using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Disassembly;

namespace ReplayVm.Tui.Session;

/// <summary>
/// Turns what a user types for an address into a number: <c>0x80001000</c>, <c>1234</c>, a symbol
/// (<c>main</c>, <c>main+0x10</c>), a register (<c>sp</c>, <c>a0</c>, <c>x5</c>, <c>pc</c>,
/// optionally written <c>$sp</c> as in gdb).
/// </summary>
public static class AddressParser
{
    public static bool TryParse(string text, Hart hart, SymbolTable symbols, out ulong address)
    {
        address = 0;
        text = text.Trim();
        if (text.Length == 0) return false;
        int plus = text.LastIndexOf('+');
        if (plus > 0)
        {
            if (!TryParse(text[..plus], hart, symbols, out ulong baseAddress) || !TryParseNumber(text[(plus + 1)..].Trim(), out ulong offset)) return false;
            address = baseAddress + offset;
            return true;
        }
        if (TryParseNumber(text, out address)) return true;
        string name = text.TrimStart('$');
        if (TryRegister(name, hart, out address)) return true;
        if (symbols.Find(name) is { } value)
        {
            address = value;
            return true;
        }
        return false;
    }

    /// <summary>
    /// gdb's line locations: "shell.c:42" (a file, or a tail of its path, and a line) or "42" (a
    /// line of the current file: <paramref name="file"/> is then null). Lines are decimal and from 1.
    /// </summary>
    public static bool TryParseLineSpec(string text, out string? file, out int line)
    {
        text = text.Trim();
        int colon = text.LastIndexOf(':');
        file = colon > 0 ? text[..colon] : null;
        string number = colon > 0 ? text[(colon + 1)..] : text;
        line = 0;
        if (number.Length == 0 || !number.All(char.IsAsciiDigit) || (file is not null && file.Any(char.IsWhiteSpace))) return false;
        return int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out line) && line > 0;
    }

    public static bool TryParseNumber(string text, out ulong value)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.TryParse(text.AsSpan(2).ToString().Replace("_", ""), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) && text.Length > 2;
        return ulong.TryParse(text.Replace("_", "").Replace(",", ""), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryRegister(string name, Hart hart, out ulong value)
    {
        value = 0;
        if (name.Equals("pc", StringComparison.OrdinalIgnoreCase))
        {
            value = hart.Pc;
            return true;
        }
        for (int i = 0; i < 32; i++)
        {
            if (name.Equals(Registers.X(i), StringComparison.OrdinalIgnoreCase) || name.Equals($"x{i}", StringComparison.OrdinalIgnoreCase)
                || (i == 8 && name.Equals("fp", StringComparison.OrdinalIgnoreCase)))
            {
                value = hart.GetX(i);
                return true;
            }
        }
        return false;
    }
}
