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
