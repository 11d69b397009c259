namespace ReplayVm.Core.Tests.Oracle;

/// <summary>
/// The register conventions and the dump layout shared by the program writer, the generator and
/// the mismatch reporter. The dump is one 16-hex-digit line per doubleword, in this order:
/// x1..x31, the CSRs in <see cref="DumpedCsrs"/>, the trap count, four lines per recorded trap
/// (mcause, mepc - body start, mtval, instruction), then the two scratch areas.
/// </summary>
public static class OracleLayout
{
    /// <summary>x2 (sp) points at the second scratch area, so the compressed sp-relative forms have a valid base.</summary>
    public const int StackAreaReg = 2;

    /// <summary>x8 (s0) points at the first scratch area; it is in the x8..x15 set usable as a C.LW/C.SW base.</summary>
    public const int DataAreaReg = 8;

    /// <summary>x31 points at the trap handler's private save area; the body never writes it.</summary>
    public const int HandlerReg = 31;

    /// <summary>Bytes in each scratch area (C.LDSP reaches sp+504, so at least 512).</summary>
    public const int AreaBytes = 512;

    public const int AreaWords = AreaBytes / 8;

    /// <summary>Traps recorded in detail; further traps are only counted.</summary>
    public const int MaxLoggedTraps = 64;

    /// <summary>Doublewords per logged trap: mcause, mepc - body start, mtval, the instruction.</summary>
    public const int TrapEntryWords = 4;

    public static readonly string[] DumpedCsrs = ["mstatus", "mscratch", "mepc", "mcause", "mtval"];

    /// <summary>Registers the body may write.</summary>
    public static readonly int[] Writable =
        Enumerable.Range(1, 30).Where(r => r != StackAreaReg && r != DataAreaReg).ToArray();

    /// <summary>Writable registers in the compressed x8..x15 set.</summary>
    public static readonly int[] WritableCompressed = Writable.Where(r => r is >= 8 and <= 15).ToArray();

    /// <summary>Compressed-set registers the body may read (x8 included: it is only read).</summary>
    public static readonly int[] ReadableCompressed = Enumerable.Range(8, 8).ToArray();

    public static string X(int reg) => "x" + reg;

    /// <summary>How many lines a whole dump has, given the program's trap count (the layout above).</summary>
    public static int DumpLines(long trapCount) =>
        31 + DumpedCsrs.Length + 1 + (int)Math.Clamp(trapCount, 0, MaxLoggedTraps) * TrapEntryWords + 2 * AreaWords;

    /// <summary>Names the meaning of dump line <paramref name="line"/>, given the program's trap count.</summary>
    public static string DescribeLine(int line, long trapCount)
    {
        if (line < 31) return X(line + 1);
        line -= 31;
        if (line < DumpedCsrs.Length) return DumpedCsrs[line];
        line -= DumpedCsrs.Length;
        if (line == 0) return "trap count";
        line -= 1;
        long logged = Math.Clamp(trapCount, 0, MaxLoggedTraps);
        if (line < logged * TrapEntryWords)
            return $"trap #{line / TrapEntryWords} " + (line % TrapEntryWords) switch { 0 => "mcause", 1 => "mepc-body", 2 => "mtval", _ => "instruction" };
        line -= (int)(logged * TrapEntryWords);
        if (line < AreaWords) return $"data area +0x{line * 8:x}";
        line -= AreaWords;
        if (line < AreaWords) return $"sp area +0x{line * 8:x}";
        return "past the end of the dump";
    }
}
