using System.Text;
using ReplayVm.Debugger.Disassembly;

namespace ReplayVm.Debugger.Tests.Disassembly;

/// <summary>Compares our text with objdump's for each line, and reports the first few differences.</summary>
internal static class OracleComparison
{
    public static IReadOnlyList<string> Mismatches(IEnumerable<ObjdumpLine> lines)
    {
        var mismatches = new List<string>();
        foreach (ObjdumpLine line in lines)
        {
            string expected = ObjdumpOracle.Normalize(line.Text);
            string actual = ObjdumpOracle.Normalize(RiscvDisassembler.Disassemble(line.Bits, line.Address));
            if (expected != actual)
                mismatches.Add($"at {line.Address:x}: {line.Bits.ToString(line.Length == 2 ? "x4" : "x8")} objdump \"{expected}\" ours \"{actual}\"");
        }
        return mismatches;
    }

    public static void AssertAllMatch(IReadOnlyList<ObjdumpLine> lines, int minimumLines)
    {
        Assert.True(lines.Count >= minimumLines, $"objdump listed only {lines.Count} instructions, expected at least {minimumLines}");
        IReadOnlyList<string> mismatches = Mismatches(lines);
        if (mismatches.Count == 0) return;
        var message = new StringBuilder($"{mismatches.Count} of {lines.Count} instructions differ from objdump; first ones:\n");
        foreach (string m in mismatches.Take(10)) message.AppendLine(m);
        Assert.Fail(message.ToString());
    }
}
