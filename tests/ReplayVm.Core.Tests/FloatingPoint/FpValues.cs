using FsCheck;
using FsCheck.Fluent;

namespace ReplayVm.Core.Tests.FloatingPoint;

/// <summary>
/// Generators for operand bit patterns, weighted heavily toward the values where floating-point
/// implementations go wrong: signed zeros, infinities, quiet and signaling NaNs with payloads,
/// subnormals, the normal/subnormal boundary, the largest finite value, values whose sums or
/// products are ties, and integers at the edges of the 32- and 64-bit ranges.
/// </summary>
public static class FpValues
{
    public const ulong Box = 0xFFFF_FFFF_0000_0000;

    public static readonly uint[] SingleSpecials =
    [
        0x0000_0000, 0x8000_0000, 0x7F80_0000, 0xFF80_0000, // ±0, ±inf
        0x7FC0_0000, 0xFFC0_0000, 0x7FC1_2345, 0x7F80_0001, 0xFFA0_0000, 0x7FBF_FFFF, // qNaN, sNaN with payloads
        0x0000_0001, 0x8000_0001, 0x007F_FFFF, 0x0040_0000, 0x0080_0000, 0x8080_0000, 0x0080_0001, // subnormal, min normal
        0x7F7F_FFFF, 0xFF7F_FFFF, 0x7F7F_FFFE, 0x7F00_0000, // max finite
        0x3F80_0000, 0xBF80_0000, 0x3F80_0001, 0x3F7F_FFFF, 0x3380_0000, 0x33C0_0000, 0x3400_0000, // 1, ulp-sized (ties 1+2^-24)
        0x3F00_0000, 0x3FC0_0000, 0xBFC0_0000, 0x4020_0000, 0x4060_0000, 0x3EAA_AAAB, 0x4040_0000, // 0.5, 1.5, 2.5, 3.5, 1/3, 3
        0x4F00_0000, 0x4EFF_FFFF, 0xCF00_0000, 0xCF00_0001, 0x4F80_0000, 0x4F7F_FFFF, // 2^31, 2^32 boundaries
        0x5F00_0000, 0x5EFF_FFFF, 0xDF00_0000, 0xDF00_0001, 0x5F80_0000, 0x5F7F_FFFF, // 2^63, 2^64 boundaries
        0x4B00_0000, 0x4B80_0000, 0x4B7F_FFFF, 0xBF00_0000, 0xBF40_0000, 0x0100_0000, 0x0C00_0000, 0x7E80_0000,
    ];

    public static readonly ulong[] DoubleSpecials =
    [
        0x0000_0000_0000_0000, 0x8000_0000_0000_0000, 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000,
        0x7FF8_0000_0000_0000, 0xFFF8_0000_0000_0000, 0x7FF8_0000_0000_0001, 0x7FF0_0000_0000_0001, 0xFFF4_0000_0000_0000, 0x7FF7_FFFF_FFFF_FFFF,
        0x0000_0000_0000_0001, 0x8000_0000_0000_0001, 0x000F_FFFF_FFFF_FFFF, 0x0008_0000_0000_0000, 0x0010_0000_0000_0000, 0x8010_0000_0000_0000, 0x0010_0000_0000_0001,
        0x7FEF_FFFF_FFFF_FFFF, 0xFFEF_FFFF_FFFF_FFFF, 0x7FEF_FFFF_FFFF_FFFE, 0x7FE0_0000_0000_0000,
        0x3FF0_0000_0000_0000, 0xBFF0_0000_0000_0000, 0x3FF0_0000_0000_0001, 0x3FEF_FFFF_FFFF_FFFF, 0x3CA0_0000_0000_0000, 0x3CA8_0000_0000_0000, 0x3CB0_0000_0000_0000,
        0x3FE0_0000_0000_0000, 0x3FF8_0000_0000_0000, 0xBFF8_0000_0000_0000, 0x4004_0000_0000_0000, 0x400C_0000_0000_0000, 0x3FD5_5555_5555_5555, 0x4008_0000_0000_0000,
        0x41E0_0000_0000_0000, 0x41DF_FFFF_FFC0_0000, 0x41DF_FFFF_FFE0_0000, 0xC1E0_0000_0000_0000, 0xC1E0_0000_0010_0000, 0xC1E0_0000_0020_0000,
        0x41EF_FFFF_FFE0_0000, 0x41EF_FFFF_FFF0_0000, 0x41F0_0000_0000_0000, 0xBFEF_FFFF_FFFF_FFFF,
        0x43E0_0000_0000_0000, 0x43DF_FFFF_FFFF_FFFF, 0xC3E0_0000_0000_0000, 0xC3E0_0000_0000_0001, 0x43F0_0000_0000_0000, 0x43EF_FFFF_FFFF_FFFF,
        // Around single precision's range, for fcvt.s.d.
        0x47EF_FFFF_E000_0000, 0x47EF_FFFF_F000_0000, 0x47EF_FFFF_EFFF_FFFF, 0x47F0_0000_0000_0000, 0x3810_0000_0000_0000, 0x380F_FFFF_F000_0000,
        0x36A0_0000_0000_0000, 0x3690_0000_0000_0000, 0x3698_0000_0000_0000, 0x3690_0000_0000_0001, 0x3FF0_0000_1000_0000, 0x3FF0_0000_3000_0000,
        0x4330_0000_0000_0000, 0x4340_0000_0000_0000, 0x433F_FFFF_FFFF_FFFF,
    ];

    public static readonly ulong[] IntegerSpecials =
    [
        0, 1, 2, 3, ulong.MaxValue, ulong.MaxValue - 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
        0xFFFF_FFFF_8000_0000, 0xFFFF_FFFF_7FFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0x8000_0000_0000_0001,
        0x100_0001, 0x100_0003, 0xFFFF_FFFF_FEFF_FFFF, 0x20_0000_0000_0001, 0x20_0000_0000_0003, 0x7FFF_FFC0, 0x7FFF_FFBF,
        0xFFFF_FF80, 0x1234_5678_9ABC_DEF0, 0xDEAD_BEEF_0000_0001, 0x7FFF_FFFF_FFFF_FC00, 0x7FFF_FFFF_FFFF_FDFF,
    ];

    private static Gen<ulong> Bits64 =>
        Gen.Choose(0, 0xFFFF).Four().Select(t => (ulong)(uint)t.Item1 | (ulong)(uint)t.Item2 << 16 | (ulong)(uint)t.Item3 << 32 | (ulong)(uint)t.Item4 << 48);

    /// <summary>sign, an exponent field from a chosen interesting range, random fraction.</summary>
    private static Gen<ulong> Structured(int expBits, int fracBits) =>
        from sign in Gen.Choose(0, 1)
        from expChoice in Gen.Frequency(
            (3, Gen.Choose(0, 2)),                                    // subnormal / smallest normals
            (4, Gen.Choose((1 << (expBits - 1)) - 3, (1 << (expBits - 1)) + 2)), // around 1.0
            (2, Gen.Choose((1 << expBits) - 4, (1 << expBits) - 2)),  // near the top
            (2, Gen.Choose(0, (1 << expBits) - 1)))
        from fraction in Bits64
        from fewBits in Gen.Choose(0, 3)
        let frac = fewBits switch
        {
            0 => fraction & ((1UL << fracBits) - 1),
            1 => (fraction & 0xF) << (fracBits - 4), // short significands: exact products and ties
            2 => (1UL << fracBits) - 1 - (fraction & 3), // all ones
            _ => fraction & 0xF,
        }
        select (ulong)sign << (expBits + fracBits) | (ulong)expChoice << fracBits | frac;

    /// <summary>Full 64-bit register contents for a single operand: usually boxed, sometimes not.</summary>
    public static Gen<ulong> Single =>
        Gen.Frequency(
            (20, from v in Gen.Frequency(
                    (6, Gen.Elements(SingleSpecials).Select(x => (ulong)x)),
                    (5, Structured(8, 23)),
                    (2, Bits64.Select(b => b & 0xFFFF_FFFF)),
                    (2, from s in Gen.Elements(SingleSpecials) from d in Gen.Choose(-2, 2) select (ulong)(uint)(s + d)))
                select Box | v),
            (1, Bits64));

    public static Gen<ulong> Double =>
        Gen.Frequency(
            (6, Gen.Elements(DoubleSpecials)),
            (5, Structured(11, 52)),
            (2, Bits64),
            (2, from s in Gen.Elements(DoubleSpecials) from d in Gen.Choose(-2, 2) select s + (ulong)(long)d));

    public static Gen<ulong> Integer =>
        Gen.Frequency(
            (5, Gen.Elements(IntegerSpecials)),
            (3, from s in Gen.Elements(IntegerSpecials) from d in Gen.Choose(-3, 3) select s + (ulong)(long)d),
            (3, Bits64),
            (2, from b in Bits64 from shift in Gen.Choose(0, 63) select b >> shift));

    public static Gen<ulong> For(ValueKind kind) => kind switch
    {
        ValueKind.Single => Single,
        ValueKind.Double => Double,
        ValueKind.Integer => Integer,
        _ => Gen.Constant(0UL),
    };

    /// <summary>A random case; the second operand is sometimes a near neighbour of the first, for cancellation and ties.</summary>
    public static Gen<FpCase> Case =>
        from op in Gen.Elements(FpOperation.All)
        from rm in Gen.Elements(0, 1, 2, 3, 4, 7, 7)
        from frm in Gen.Choose(0, 4)
        from a in For(op.A)
        from bRandom in For(op.B)
        from nearby in Gen.Choose(0, 5)
        from delta in Gen.Choose(-3, 3)
        from c in For(op.C)
        let signBit = op.A == ValueKind.Double ? 1UL << 63 : 1UL << 31
        let b = op.A != op.B || op.B == ValueKind.None || op.A == ValueKind.Integer ? bRandom
            : nearby == 0 ? a + (ulong)(long)delta
            : nearby == 1 ? (a + (ulong)(long)delta) ^ signBit // massive cancellation in add/sub
            : bRandom
        select new FpCase(op, op.HasRm ? rm : 0, frm, a, b, c);
}
