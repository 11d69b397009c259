namespace ReplayVm.Core.Tests.FloatingPoint;

/// <summary>What an operand or result of a test operation is: a value in an FP register
/// (single values NaN-boxed), or an integer register.</summary>
public enum ValueKind { None, Single, Double, Integer }

/// <summary>
/// One F/D instruction the differential test exercises, written the way GNU as spells it.
/// <paramref name="HasRm"/>: the assembler accepts a rounding-mode operand (binutils 2.40 refuses one
/// on the exact widening conversions fcvt.d.s/w/wu, which are then always encoded with RNE).
/// </summary>
public sealed record FpOperation(string Mnemonic, ValueKind Result, ValueKind A, ValueKind B, ValueKind C, bool HasRm)
{
    public override string ToString() => Mnemonic;

    public static readonly FpOperation[] All = Build().ToArray();

    private static IEnumerable<FpOperation> Build()
    {
        foreach (var (suffix, k) in new[] { ("s", ValueKind.Single), ("d", ValueKind.Double) })
        {
            foreach (var m in new[] { "fadd", "fsub", "fmul", "fdiv" }) yield return new($"{m}.{suffix}", k, k, k, ValueKind.None, true);
            foreach (var m in new[] { "fmadd", "fmsub", "fnmsub", "fnmadd" }) yield return new($"{m}.{suffix}", k, k, k, k, true);
            yield return new($"fsqrt.{suffix}", k, k, ValueKind.None, ValueKind.None, true);
            foreach (var m in new[] { "fmin", "fmax", "fsgnj", "fsgnjn", "fsgnjx" }) yield return new($"{m}.{suffix}", k, k, k, ValueKind.None, false);
            foreach (var m in new[] { "feq", "flt", "fle" }) yield return new($"{m}.{suffix}", ValueKind.Integer, k, k, ValueKind.None, false);
            yield return new($"fclass.{suffix}", ValueKind.Integer, k, ValueKind.None, ValueKind.None, false);
            foreach (var t in new[] { "w", "wu", "l", "lu" })
            {
                yield return new($"fcvt.{t}.{suffix}", ValueKind.Integer, k, ValueKind.None, ValueKind.None, true);
                bool exact = k == ValueKind.Double && t is "w" or "wu";
                yield return new($"fcvt.{suffix}.{t}", k, ValueKind.Integer, ValueKind.None, ValueKind.None, !exact);
            }
        }
        yield return new("fmv.x.w", ValueKind.Integer, ValueKind.Single, ValueKind.None, ValueKind.None, false);
        yield return new("fmv.w.x", ValueKind.Single, ValueKind.Integer, ValueKind.None, ValueKind.None, false);
        yield return new("fmv.x.d", ValueKind.Integer, ValueKind.Double, ValueKind.None, ValueKind.None, false);
        yield return new("fmv.d.x", ValueKind.Double, ValueKind.Integer, ValueKind.None, ValueKind.None, false);
        yield return new("fcvt.s.d", ValueKind.Single, ValueKind.Double, ValueKind.None, ValueKind.None, true);
        yield return new("fcvt.d.s", ValueKind.Double, ValueKind.Single, ValueKind.None, ValueKind.None, false);
    }
}

/// <summary>
/// One test case: an operation, its rounding mode (0–4 static, 7 = dynamic) with the frm value set
/// before it, and raw operand bits (FP operands as full 64-bit register contents, so a single
/// operand may be deliberately not NaN-boxed).
/// </summary>
public sealed record FpCase(FpOperation Op, int Rm, int Frm, ulong A, ulong B, ulong C)
{
    public override string ToString() =>
        $"{Op.Mnemonic} rm={(Rm == 7 ? $"dyn(frm={Frm})" : Rm.ToString())} a=0x{A:x16} b=0x{B:x16} c=0x{C:x16}";
}
