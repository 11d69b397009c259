using System.Globalization;

namespace ReplayVm.Cli;

/// <summary>The number formats the command line accepts.</summary>
internal static class NumberSyntax
{
    /// <summary>The largest RAM the board takes (as the trace format's limit).</summary>
    public const ulong MaxMemorySize = 1UL << 40;

    /// <summary>
    /// A RAM size the way QEMU's <c>-m</c> takes it: a bare number is MiB; a K, M, G or T suffix
    /// (either case, optionally followed by "B" or "iB") scales by powers of 1024. The machine's
    /// own limits are checked here too, so the error names the option: a positive multiple of
    /// 4 KiB, at most 1 TiB.
    /// </summary>
    public static bool TryParseMemorySize(string text, out ulong bytes)
    {
        if (!TryParseScaledSize(text, out bytes)) return false;
        if (bytes % 4096 == 0 && bytes <= MaxMemorySize) return true;
        bytes = 0;
        return false;
    }

    private static bool TryParseScaledSize(string text, out ulong bytes)
    {
        bytes = 0;
        string s = text.Trim();
        foreach (var tail in new[] { "iB", "ib", "IB", "B", "b" })
            if (s.Length > tail.Length + 1 && s.EndsWith(tail, StringComparison.Ordinal) && char.IsLetter(s[^(tail.Length + 1)]))
            {
                s = s[..^tail.Length];
                break;
            }
        int shift = 20; // bare number: MiB
        if (s.Length > 0 && char.IsLetter(s[^1]))
        {
            shift = char.ToUpperInvariant(s[^1]) switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => -1 };
            if (shift < 0) return false;
            s = s[..^1];
        }
        if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong count) || count == 0)
            return false;
        if (count > ulong.MaxValue >> shift) return false;
        bytes = count << shift;
        return true;
    }

    /// <summary>A count that must be at least 1 (an instruction limit of 0 would run nothing).</summary>
    public static bool TryParsePositiveCount(string text, out ulong count) => TryParseCount(text, out count) && count > 0;

    /// <summary>An instruction count: a plain integer with an optional decimal K, M or G suffix (1K = 1000).</summary>
    public static bool TryParseCount(string text, out ulong count)
    {
        count = 0;
        string s = text.Trim();
        ulong scale = 1;
        if (s.Length > 0 && char.IsLetter(s[^1]))
        {
            scale = char.ToUpperInvariant(s[^1]) switch { 'K' => 1_000UL, 'M' => 1_000_000UL, 'G' => 1_000_000_000UL, _ => 0 };
            if (scale == 0) return false;
            s = s[..^1];
        }
        if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value)) return false;
        if (value > ulong.MaxValue / scale) return false;
        count = value * scale;
        return true;
    }

    /// <summary>An address: 0x-prefixed hex (underscores allowed as digit separators) or decimal.</summary>
    public static bool TryParseAddress(string text, out ulong address)
    {
        string s = text.Trim().Replace("_", "");
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out address) && s.Length > 2;
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out address);
    }
}
