using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Hart.FloatingPoint;
using F32 = ReplayVm.Core.Hart.FloatingPoint.SoftFloat<ReplayVm.Core.Hart.FloatingPoint.Binary32>;
using F64 = ReplayVm.Core.Hart.FloatingPoint.SoftFloat<ReplayVm.Core.Hart.FloatingPoint.Binary64>;

namespace ReplayVm.Core.Tests.FloatingPoint;

/// <summary>Known results of the soft-float core, mostly the spec's corner cases (ch. 11, 12).</summary>
public class SoftFloatTests
{
    private const FloatFlags NX = FloatFlags.Inexact, UF = FloatFlags.Underflow, OF = FloatFlags.Overflow,
        DZ = FloatFlags.DivideByZero, NV = FloatFlags.Invalid, None = FloatFlags.None;
    private const RoundingMode RNE = RoundingMode.NearestEven, RTZ = RoundingMode.TowardZero, RDN = RoundingMode.Down,
        RUP = RoundingMode.Up, RMM = RoundingMode.NearestMaxMagnitude;

    private static void Expect(ulong expected, FloatFlags expectedFlags, Func<Ref, ulong> op)
    {
        var r = new Ref();
        ulong got = op(r);
        Assert.Equal($"0x{expected:x} {expectedFlags}", $"0x{got:x} {r.Flags}");
    }

    /// <summary>Holder so lambdas can pass the flags by reference.</summary>
    private sealed class Ref { public FloatFlags Flags; }

    [Theory]
    [InlineData(RNE, 0x3F800000u, NX)] // 1 + 2^-24 is a tie: to even
    [InlineData(RMM, 0x3F800001u, NX)] // ties away
    [InlineData(RUP, 0x3F800001u, NX)]
    [InlineData(RTZ, 0x3F800000u, NX)]
    [InlineData(RDN, 0x3F800000u, NX)]
    public void Adding_half_an_ulp_to_one_rounds_per_mode(RoundingMode rm, uint expected, FloatFlags flags) =>
        Expect(expected, flags, r => F32.Add(0x3F800000, 0x33800000, rm, ref r.Flags));

    [Theory]
    [InlineData(RNE, 0x7F800000u)]
    [InlineData(RMM, 0x7F800000u)]
    [InlineData(RUP, 0x7F800000u)]
    [InlineData(RTZ, 0x7F7FFFFFu)]
    [InlineData(RDN, 0x7F7FFFFFu)]
    public void Overflow_gives_infinity_or_max_finite_by_mode(RoundingMode rm, uint expected) =>
        Expect(expected, OF | NX, r => F32.Mul(0x7F7FFFFF, 0x40000000, rm, ref r.Flags));

    [Fact]
    public void Negative_overflow_rounding_up_gives_negative_max_finite() =>
        Expect(0xFF7FFFFF, OF | NX, r => F32.Mul(0xFF7FFFFF, 0x40000000, RUP, ref r.Flags));

    [Fact]
    public void Tiny_after_rounding_raises_underflow() =>
        // (1 - 2^-24) * 2^-126 is below 2^-126 even at full precision; it rounds (tie, to even) up to 2^-126.
        Expect(0x00800000, UF | NX, r => F32.Mul(0x3F7FFFFF, 0x00800000, RNE, ref r.Flags));

    [Fact]
    public void Value_rounding_up_to_min_normal_at_full_precision_is_not_tiny() =>
        // (1 - 2^-25) * 2^-126 rounds to 2^-126 with an unbounded exponent too: no underflow (spec 11.2: after rounding).
        Expect(0x00800000, NX, r => FloatConvert.Convert<Binary64, Binary32>(0x380FFFFFF0000000, RNE, ref r.Flags));

    [Fact]
    public void Exact_subnormal_result_does_not_raise_underflow() =>
        Expect(0x00000001, None, r => F32.Mul(0x00000002, 0x3F000000, RNE, ref r.Flags));

    [Theory]
    [InlineData(RNE, 0x0u)]
    [InlineData(RUP, 0x1u)]
    public void Half_the_smallest_subnormal(RoundingMode rm, uint expected) =>
        Expect(expected, UF | NX, r => F32.Mul(0x00000001, 0x3F000000, rm, ref r.Flags));

    [Theory]
    [InlineData(RNE, 0x0UL)]
    [InlineData(RDN, 0x8000000000000000UL)]
    public void Exact_zero_sum_is_positive_except_rounding_down(RoundingMode rm, ulong expected) =>
        Expect(expected, None, r => F64.Sub(0x3FF0000000000000, 0x3FF0000000000000, rm, ref r.Flags));

    [Fact]
    public void Infinity_minus_infinity_is_invalid() =>
        Expect(0x7FF8000000000000, NV, r => F64.Add(0x7FF0000000000000, 0xFFF0000000000000, RNE, ref r.Flags));

    [Fact]
    public void NaN_results_are_canonical_and_signaling_operands_raise_invalid()
    {
        Expect(0x7FC00000, None, r => F32.Add(0x7FC12345, 0x3F800000, RNE, ref r.Flags));
        Expect(0x7FC00000, NV, r => F32.Add(0xFF800001, 0x3F800000, RNE, ref r.Flags));
    }

    [Fact]
    public void Division_special_cases()
    {
        Expect(0xFF800000, DZ, r => F32.Div(0xBF800000, 0x00000000, RNE, ref r.Flags));
        Expect(0x7FC00000, NV, r => F32.Div(0x00000000, 0x80000000, RNE, ref r.Flags));
        Expect(0x3EAAAAAB, NX, r => F32.Div(0x3F800000, 0x40400000, RNE, ref r.Flags));
        Expect(0x3EAAAAAA, NX, r => F32.Div(0x3F800000, 0x40400000, RTZ, ref r.Flags));
    }

    [Fact]
    public void Square_root_special_cases()
    {
        Expect(0x3FF6A09E667F3BCD, NX, r => F64.Sqrt(0x4000000000000000, RNE, ref r.Flags));
        Expect(0x8000000000000000, None, r => F64.Sqrt(0x8000000000000000, RNE, ref r.Flags));
        Expect(0x7FF8000000000000, NV, r => F64.Sqrt(0xBFF0000000000000, RNE, ref r.Flags));
        Expect(0x40400000, None, r => F32.Sqrt(0x41100000, RNE, ref r.Flags));
    }

    [Fact]
    public void Fused_multiply_add_rounds_once()
    {
        // (1 + 2^-23)^2 - 1 = 2^-22 + 2^-46 exactly; rounded up once that is 2^-22 + 2^-45, while a
        // rounded-up product minus 1 would give 2^-22 + 2^-23.
        Expect(0x34800001, NX, r => F32.MulAdd(0x3F800001, 0x3F800001, 0x3F800000, false, true, RUP, ref r.Flags));
        // 0 * inf + qNaN: RISC-V raises NV for the invalid product even with a quiet NaN addend.
        Expect(0x7FC00000, NV, r => F32.MulAdd(0x00000000, 0x7F800000, 0x7FC00000, false, false, RNE, ref r.Flags));
        Expect(0x7FC00000, NV, r => F32.MulAdd(0x7F800000, 0x3F800000, 0xFF800000, false, false, RNE, ref r.Flags));
    }

    [Fact]
    public void Min_and_max_follow_version_2_2()
    {
        Expect(0x80000000, None, r => F32.MinMax(0x00000000, 0x80000000, max: false, ref r.Flags));
        Expect(0x00000000, None, r => F32.MinMax(0x80000000, 0x00000000, max: true, ref r.Flags));
        Expect(0x3F800000, None, r => F32.MinMax(0x7FC00000, 0x3F800000, max: false, ref r.Flags));
        Expect(0x3F800000, NV, r => F32.MinMax(0x7F800001, 0x3F800000, max: true, ref r.Flags));
        Expect(0x7FC00000, None, r => F32.MinMax(0xFFC00001, 0x7FC00002, max: true, ref r.Flags));
    }

    [Fact]
    public void Comparisons_quiet_and_signaling()
    {
        Expect(0, None, r => F32.Equal(0x7FC00000, 0x3F800000, ref r.Flags) ? 1UL : 0);
        Expect(0, NV, r => F32.Equal(0x7F800001, 0x3F800000, ref r.Flags) ? 1UL : 0);
        Expect(0, NV, r => F32.Less(0x7FC00000, 0x3F800000, false, ref r.Flags) ? 1UL : 0);
        Expect(1, None, r => F32.Equal(0x80000000, 0x00000000, ref r.Flags) ? 1UL : 0);
        Expect(0, None, r => F32.Less(0x80000000, 0x00000000, false, ref r.Flags) ? 1UL : 0);
        Expect(1, None, r => F32.Less(0x80000000, 0x00000000, true, ref r.Flags) ? 1UL : 0);
        Expect(1, None, r => F32.Less(0xC0000000, 0xBF800000, false, ref r.Flags) ? 1UL : 0);
    }

    [Theory]
    [InlineData(0xFF800000u, 0)]
    [InlineData(0xBF800000u, 1)]
    [InlineData(0x80000001u, 2)]
    [InlineData(0x80000000u, 3)]
    [InlineData(0x00000000u, 4)]
    [InlineData(0x00000001u, 5)]
    [InlineData(0x3F800000u, 6)]
    [InlineData(0x7F800000u, 7)]
    [InlineData(0x7F800001u, 8)]
    [InlineData(0x7FC00000u, 9)]
    public void Classify_sets_one_bit(uint value, int bit) => Assert.Equal(1UL << bit, F32.Classify(value));

    [Theory]
    [InlineData(0x7FC00000u, true, 32, 0x7FFFFFFFUL, NV)]               // NaN -> max positive
    [InlineData(0xFF800000u, true, 32, 0xFFFFFFFF80000000UL, NV)]       // -inf -> min
    [InlineData(0x4F000000u, true, 32, 0x7FFFFFFFUL, NV)]               // 2^31 overflows w
    [InlineData(0xCF000000u, true, 32, 0xFFFFFFFF80000000UL, None)]     // -2^31 fits
    [InlineData(0x7FC00000u, false, 32, 0xFFFFFFFFFFFFFFFFUL, NV)]      // wu saturates to 2^32-1, sign-extended
    [InlineData(0xBF800000u, false, 32, 0x0UL, NV)]                     // -1 -> wu is invalid
    [InlineData(0xBF000000u, false, 64, 0x0UL, NX)]                     // -0.5 rounds to 0 under RNE: inexact only
    [InlineData(0x5F800000u, false, 64, 0xFFFFFFFFFFFFFFFFUL, NV)]      // 2^64 overflows lu
    [InlineData(0x5F7FFFFFu, false, 64, 0xFFFFFF0000000000UL, None)]
    [InlineData(0x3FC00000u, true, 64, 0x2UL, NX)]                      // 1.5 -> 2 (tie to even)
    [InlineData(0x40200000u, true, 64, 0x2UL, NX)]                      // 2.5 -> 2
    public void Conversions_to_integer(uint value, bool signed, int width, ulong expected, FloatFlags flags) =>
        Expect(expected, flags, r => F32.ToInteger(value, RNE, signed, width, ref r.Flags));

    [Fact]
    public void Conversions_from_integer_round()
    {
        Expect(0x4B800000, NX, r => F32.FromInteger(0x1000001, true, 32, RNE, ref r.Flags)); // 2^24+1 tie -> even
        Expect(0x4B800001, NX, r => F32.FromInteger(0x1000001, true, 32, RUP, ref r.Flags));
        Expect(0xDF000000, None, r => F32.FromInteger(0x8000000000000000, true, 64, RNE, ref r.Flags));
        Expect(0x5F800000, NX, r => F32.FromInteger(ulong.MaxValue, false, 64, RNE, ref r.Flags));
        Expect(0x0, None, r => F32.FromInteger(0xFFFFFFFF_00000000, false, 32, RNE, ref r.Flags)); // w forms read only the low 32 bits
        Expect(0xBF800000, None, r => F32.FromInteger(0x00000000_FFFFFFFF, true, 32, RNE, ref r.Flags));
    }

    [Fact]
    public void Narrowing_and_widening()
    {
        Expect(0x7FC00000, NV, r => FloatConvert.Convert<Binary64, Binary32>(0x7FF0000000000001, RNE, ref r.Flags));
        Expect(0x7FF8000000000000, None, r => FloatConvert.Convert<Binary32, Binary64>(0xFFC12345, RNE, ref r.Flags));
        Expect(0x36A0000000000000, None, r => FloatConvert.Convert<Binary32, Binary64>(0x00000001, RNE, ref r.Flags));
        Expect(0x7F800000, OF | NX, r => FloatConvert.Convert<Binary64, Binary32>(0x47F0000000000000, RNE, ref r.Flags));
    }

    // The host's IEEE arithmetic rounds to nearest-even: for non-NaN results it must agree bit for bit.
    private static Gen<ulong> AnyDouble => FpValues.Double;

    [Property(MaxTest = 3000)]
    public Property Nearest_even_double_arithmetic_matches_the_host() =>
        Prop.ForAll(AnyDouble.ToArbitrary(), AnyDouble.ToArbitrary(), AnyDouble.ToArbitrary(), (a, b, c) =>
        {
            double x = BitConverter.UInt64BitsToDouble(a), y = BitConverter.UInt64BitsToDouble(b), z = BitConverter.UInt64BitsToDouble(c);
            var f = FloatFlags.None;
            void Check(double host, ulong ours, string what)
            {
                if (double.IsNaN(host)) Assert.Equal(0x7FF8000000000000UL, ours);
                else Assert.True(BitConverter.DoubleToUInt64Bits(host) == ours, $"{what}: host 0x{BitConverter.DoubleToUInt64Bits(host):x16}, ours 0x{ours:x16}");
            }
            Check(x + y, F64.Add(a, b, RNE, ref f), "add");
            Check(x - y, F64.Sub(a, b, RNE, ref f), "sub");
            Check(x * y, F64.Mul(a, b, RNE, ref f), "mul");
            Check(x / y, F64.Div(a, b, RNE, ref f), "div");
            Check(Math.Sqrt(x), F64.Sqrt(a, RNE, ref f), "sqrt");
            Check(Math.FusedMultiplyAdd(x, y, z), F64.MulAdd(a, b, c, false, false, RNE, ref f), "fma");
            float narrowed = (float)x;
            ulong ours = FloatConvert.Convert<Binary64, Binary32>(a, RNE, ref f);
            ulong host = float.IsNaN(narrowed) ? 0x7FC00000 : BitConverter.SingleToUInt32Bits(narrowed);
            Assert.True(host == ours, $"narrow: host 0x{host:x8}, ours 0x{ours:x8}");
        });
}
