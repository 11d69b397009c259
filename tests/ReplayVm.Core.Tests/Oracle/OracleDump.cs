using System.Globalization;
using System.Text;

namespace ReplayVm.Core.Tests.Oracle;

/// <summary>The hex-text state dump a differential test program prints (see <see cref="OracleLayout"/>).</summary>
public sealed class OracleDump
{
    private readonly string[] _lines;

    private OracleDump(string[] lines) => _lines = lines;

    public IReadOnlyList<string> Lines => _lines;

    public static OracleDump Parse(byte[] console)
    {
        var text = Encoding.ASCII.GetString(console);
        return new OracleDump(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private ulong Word(int line) =>
        line < _lines.Length && ulong.TryParse(_lines[line], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v) ? v : 0;

    private static int TrapCountLine => 31 + OracleLayout.DumpedCsrs.Length;

    public long TrapCount => (long)Word(TrapCountLine);

    /// <summary>
    /// Null when this is a whole dump: every line 16 hex digits, as many as the layout gives for the
    /// trap count it reports. Otherwise what is wrong (an empty or cut-off console is never a dump).
    /// </summary>
    public string? Incompleteness()
    {
        if (_lines.Length <= TrapCountLine) return $"{_lines.Length} lines, too few to hold the trap count (line {TrapCountLine})";
        int bad = Array.FindIndex(_lines, l => l.Length != 16 || !ulong.TryParse(l, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _));
        if (bad >= 0) return $"line {bad} is not 16 hex digits: '{_lines[bad]}'";
        int expected = OracleLayout.DumpLines(TrapCount);
        return _lines.Length == expected ? null : $"{_lines.Length} lines where {TrapCount} traps make {expected}";
    }

    /// <summary>
    /// Null when QEMU's console is a whole dump and ReplayVm's equals it; otherwise why not. Two
    /// empty or equally truncated consoles are a failure, never agreement.
    /// </summary>
    public static string? Compare(byte[] qemuConsole, byte[] replayVmConsole)
    {
        var expected = Parse(qemuConsole);
        if (expected.Incompleteness() is { } problem) return $"QEMU's dump is incomplete ({problem}): a harness or generator bug";
        return Difference(expected, Parse(replayVmConsole));
    }

    /// <summary>Null when equal; otherwise which line differs, what it means, and both values.</summary>
    public static string? Difference(OracleDump expected, OracleDump actual)
    {
        int n = Math.Max(expected._lines.Length, actual._lines.Length);
        for (int i = 0; i < n; i++)
        {
            string e = i < expected._lines.Length ? expected._lines[i] : "<missing>";
            string a = i < actual._lines.Length ? actual._lines[i] : "<missing>";
            if (e != a)
                return $"dump line {i} ({OracleLayout.DescribeLine(i, expected.TrapCount)}): qemu {e}, replayvm {a}";
        }
        return null;
    }
}
