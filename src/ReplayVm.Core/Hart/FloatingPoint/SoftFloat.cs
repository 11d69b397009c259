using System.Numerics;
using System.Runtime.CompilerServices;

namespace ReplayVm.Core.Hart.FloatingPoint;

/// <summary>
/// IEEE 754 binary arithmetic in software for one format, with the RISC-V choices where IEEE leaves
/// freedom (unprivileged spec ch. 11 "F"): every NaN result is the canonical NaN, tininess is detected
/// after rounding, and an out-of-range or NaN conversion to integer saturates.
///
/// .NET offers no control over the host's rounding mode or exception flags, so each operation is
/// done exactly on integer significands (at most 128 bits wide), then rounded once by
/// <see cref="RoundPack"/>. A finite nonzero value is handled as <c>sig × 2^exp</c>; values are passed
/// as raw encodings in the low bits of a <see cref="ulong"/>.
/// </summary>
public static class SoftFloat<TFormat> where TFormat : struct, IFloatFormat
{
    private static readonly int Frac = TFormat.FractionBits;
    private static readonly int Bias = (1 << (TFormat.ExponentBits - 1)) - 1;
    private static readonly int Emin = 1 - Bias;
    public static readonly ulong SignBit = 1UL << (TFormat.FractionBits + TFormat.ExponentBits);
    public static readonly ulong Infinity = ((1UL << TFormat.ExponentBits) - 1) << TFormat.FractionBits;
    private static readonly ulong FracMask = (1UL << TFormat.FractionBits) - 1;
    private static readonly ulong QuietBit = 1UL << (TFormat.FractionBits - 1);
    private static readonly ulong MaxFinite = Infinity - 1;
    /// <summary>The canonical NaN (spec 11.3): positive, quiet, payload zero.</summary>
    public static readonly ulong DefaultNaN = Infinity | QuietBit;

    public static bool IsNaN(ulong a) => (a & ~SignBit) > Infinity;
    public static bool IsSignalingNaN(ulong a) => IsNaN(a) && (a & QuietBit) == 0;
    public static bool IsInfinity(ulong a) => (a & ~SignBit) == Infinity;
    public static bool IsZero(ulong a) => (a & ~SignBit) == 0;
    public static bool IsNegative(ulong a) => (a & SignBit) != 0;

    /// <summary>Splits a finite nonzero value into <c>sig × 2^exp</c> (subnormals keep their small significand).</summary>
    public static void Unpack(ulong a, out ulong sig, out int exp)
    {
        int biased = (int)((a & Infinity) >> Frac);
        ulong fraction = a & FracMask;
        if (biased == 0)
        {
            sig = fraction;
            exp = Emin - Frac;
        }
        else
        {
            sig = fraction | (1UL << Frac);
            exp = biased - Bias - Frac;
        }
    }

    /// <summary>
    /// Rounds <c>sig × 2^exp</c> (sig nonzero; its bit 0 may be a "sticky" bit standing for nonzero
    /// bits below it) to this format under <paramref name="rm"/>, raising NX, UF and OF as IEEE 754
    /// §7 defines them with tininess detected after rounding, which RISC-V mandates (spec 11.2).
    /// </summary>
    public static ulong RoundPack(bool negative, int exp, UInt128 sig, RoundingMode rm, ref FloatFlags flags)
    {
        int msb = 127 - (int)UInt128.LeadingZeroCount(sig);
        int e = msb + exp; // exponent of the leading one
        if (e > Bias) return Overflow(negative, rm, ref flags);
        bool tiny = false;
        if (e < Emin)
        {
            // Tiny after rounding: the value rounded to full precision with an unbounded exponent is
            // still below 2^emin. Only a value just below 2^emin can round up out of tininess.
            tiny = e < Emin - 1 || ShiftRound(sig, msb - Frac, negative, rm, out _) >> (Frac + 1) == 0;
        }
        int quantum = Math.Max(e, Emin) - Frac; // exponent of the result's last place
        ulong m = ShiftRound(sig, quantum - exp, negative, rm, out bool inexact);
        if (inexact)
        {
            flags |= FloatFlags.Inexact;
            if (tiny) flags |= FloatFlags.Underflow;
        }
        ulong signBits = negative ? SignBit : 0;
        if (m == 0) return signBits;
        // m holds the leading bit when normal, so adding it to (biased exponent - 1) lands the
        // exponent field right, including a subnormal that rounds up to the smallest normal and a
        // carry out of the significand into the next binade.
        ulong bits = ((ulong)(quantum + Frac + Bias - 1) << Frac) + m;
        if (bits >= Infinity) return Overflow(negative, rm, ref flags);
        return signBits | bits;
    }

    /// <summary>IEEE 754 §7.4: the overflow result depends on the rounding direction.</summary>
    private static ulong Overflow(bool negative, RoundingMode rm, ref FloatFlags flags)
    {
        flags |= FloatFlags.Overflow | FloatFlags.Inexact;
        bool toInfinity = rm switch
        {
            RoundingMode.TowardZero => false,
            RoundingMode.Down => negative,
            RoundingMode.Up => !negative,
            _ => true,
        };
        return (negative ? SignBit : 0) | (toInfinity ? Infinity : MaxFinite);
    }

    /// <summary>
    /// <c>sig >> shift</c> rounded to an integer under <paramref name="rm"/> (a negative shift is an
    /// exact left shift). The caller guarantees the result fits 64 bits.
    /// </summary>
    internal static ulong ShiftRound(UInt128 sig, int shift, bool negative, RoundingMode rm, out bool inexact)
    {
        if (shift <= 0)
        {
            inexact = false;
            return (ulong)(sig << -shift);
        }
        UInt128 kept;
        bool half, rest;
        if (shift > 128)
        {
            kept = 0;
            half = false;
            rest = sig != 0;
        }
        else if (shift == 128)
        {
            kept = 0;
            half = (sig >> 127) != 0;
            rest = (sig << 1) != 0;
        }
        else
        {
            kept = sig >> shift;
            UInt128 halfBit = UInt128.One << (shift - 1);
            half = (sig & halfBit) != 0;
            rest = (sig & (halfBit - 1)) != 0;
        }
        inexact = half || rest;
        ulong m = (ulong)kept;
        bool up = rm switch
        {
            RoundingMode.NearestEven => half && (rest || (m & 1) != 0),
            RoundingMode.TowardZero => false,
            RoundingMode.Down => inexact && negative,
            RoundingMode.Up => inexact && !negative,
            _ => half, // RMM: ties away from zero
        };
        return up ? m + 1 : m;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt128 ShiftRightJam(UInt128 v, int shift)
    {
        if (shift == 0) return v;
        if (shift >= 128) return v != 0 ? UInt128.One : UInt128.Zero;
        UInt128 lost = v & ((UInt128.One << shift) - 1);
        return (v >> shift) | (lost != 0 ? UInt128.One : UInt128.Zero);
    }

    /// <summary>Shifts a nonzero significand so its leading one is bit 125, leaving room for a carry.</summary>
    private static UInt128 Normalize(UInt128 sig, ref int exp)
    {
        int shift = (int)UInt128.LeadingZeroCount(sig) - 2;
        exp -= shift;
        return sig << shift;
    }

    /// <summary>An operation with a NaN operand gives the canonical NaN; a signaling one raises NV (spec 11.3).</summary>
    private static ulong NaNResult(ulong a, ulong b, ref FloatFlags flags)
    {
        if (IsSignalingNaN(a) || IsSignalingNaN(b)) flags |= FloatFlags.Invalid;
        return DefaultNaN;
    }

    private static ulong Invalid(ref FloatFlags flags)
    {
        flags |= FloatFlags.Invalid;
        return DefaultNaN;
    }

    /// <summary>The sign of an exact zero sum of opposite-signed operands: +0, or −0 when rounding down (IEEE 754 §6.3).</summary>
    private static ulong ExactZero(RoundingMode rm) => rm == RoundingMode.Down ? SignBit : 0;

    public static ulong Add(ulong a, ulong b, RoundingMode rm, ref FloatFlags flags)
    {
        if (IsNaN(a) || IsNaN(b)) return NaNResult(a, b, ref flags);
        bool sa = IsNegative(a), sb = IsNegative(b);
        if (IsInfinity(a)) return IsInfinity(b) && sa != sb ? Invalid(ref flags) : a;
        if (IsInfinity(b)) return b;
        if (IsZero(a)) return IsZero(b) ? (sa == sb ? a : ExactZero(rm)) : b;
        if (IsZero(b)) return a;
        Unpack(a, out ulong ma, out int ea);
        Unpack(b, out ulong mb, out int eb);
        UInt128 x = Normalize(ma, ref ea), y = Normalize(mb, ref eb);
        return AddNormalized(sa, ea, x, sb, eb, y, rm, ref flags);
    }

    public static ulong Sub(ulong a, ulong b, RoundingMode rm, ref FloatFlags flags) =>
        IsNaN(b) ? NaNResult(a, b, ref flags) : Add(a, b ^ SignBit, rm, ref flags);

    /// <summary>
    /// Adds two values whose significands have their leading one at bit 125. The smaller is shifted
    /// right with a sticky bit; that is exact whenever cancellation could expose low bits (exponents
    /// within 1), and otherwise leaves the sticky bit far below the rounding position.
    /// </summary>
    private static ulong AddNormalized(bool sx, int ex, UInt128 x, bool sy, int ey, UInt128 y, RoundingMode rm, ref FloatFlags flags)
    {
        if (ex < ey)
        {
            (sx, sy) = (sy, sx);
            (ex, ey) = (ey, ex);
            (x, y) = (y, x);
        }
        y = ShiftRightJam(y, ex - ey);
        UInt128 sum;
        bool negative;
        if (sx == sy) { sum = x + y; negative = sx; }
        else if (x >= y) { sum = x - y; negative = sx; }
        else { sum = y - x; negative = sy; }
        if (sum == 0) return ExactZero(rm);
        return RoundPack(negative, ex, sum, rm, ref flags);
    }

    public static ulong Mul(ulong a, ulong b, RoundingMode rm, ref FloatFlags flags)
    {
        if (IsNaN(a) || IsNaN(b)) return NaNResult(a, b, ref flags);
        bool negative = IsNegative(a) ^ IsNegative(b);
        ulong sign = negative ? SignBit : 0;
        if (IsInfinity(a) || IsInfinity(b)) return IsZero(a) || IsZero(b) ? Invalid(ref flags) : sign | Infinity;
        if (IsZero(a) || IsZero(b)) return sign;
        Unpack(a, out ulong ma, out int ea);
        Unpack(b, out ulong mb, out int eb);
        return RoundPack(negative, ea + eb, (UInt128)ma * mb, rm, ref flags);
    }

    /// <summary>
    /// (±a×b) ± c with one rounding (spec 11.6). As in QEMU, the FMSUB/FNMSUB/FNMADD forms negate
    /// the product and/or the addend before the operation; 0×∞ raises NV even when c is a quiet NaN.
    /// </summary>
    public static ulong MulAdd(ulong a, ulong b, ulong c, bool negateProduct, bool negateAddend, RoundingMode rm, ref FloatFlags flags)
    {
        bool infTimesZero = (IsInfinity(a) && IsZero(b)) || (IsZero(a) && IsInfinity(b));
        if (IsNaN(a) || IsNaN(b) || IsNaN(c))
        {
            if (IsSignalingNaN(a) || IsSignalingNaN(b) || IsSignalingNaN(c) || infTimesZero) flags |= FloatFlags.Invalid;
            return DefaultNaN;
        }
        if (infTimesZero) return Invalid(ref flags);
        bool sp = IsNegative(a) ^ IsNegative(b) ^ negateProduct;
        bool sc = IsNegative(c) ^ negateAddend;
        ulong cSigned = sc ? c | SignBit : c & ~SignBit;
        if (IsInfinity(a) || IsInfinity(b))
            return IsInfinity(c) && sc != sp ? Invalid(ref flags) : (sp ? SignBit : 0) | Infinity;
        if (IsInfinity(c)) return cSigned;
        if (IsZero(a) || IsZero(b))
        {
            if (!IsZero(c)) return cSigned;
            return sp == sc ? cSigned : ExactZero(rm);
        }
        Unpack(a, out ulong ma, out int ea);
        Unpack(b, out ulong mb, out int eb);
        UInt128 product = (UInt128)ma * mb;
        int ep = ea + eb;
        if (IsZero(c)) return RoundPack(sp, ep, product, rm, ref flags);
        Unpack(c, out ulong mc, out int ec);
        UInt128 x = Normalize(product, ref ep), y = Normalize(mc, ref ec);
        return AddNormalized(sp, ep, x, sc, ec, y, rm, ref flags);
    }

    public static ulong Div(ulong a, ulong b, RoundingMode rm, ref FloatFlags flags)
    {
        if (IsNaN(a) || IsNaN(b)) return NaNResult(a, b, ref flags);
        bool negative = IsNegative(a) ^ IsNegative(b);
        ulong sign = negative ? SignBit : 0;
        if (IsInfinity(a)) return IsInfinity(b) ? Invalid(ref flags) : sign | Infinity;
        if (IsInfinity(b)) return sign;
        if (IsZero(b))
        {
            if (IsZero(a)) return Invalid(ref flags);
            flags |= FloatFlags.DivideByZero;
            return sign | Infinity;
        }
        if (IsZero(a)) return sign;
        Unpack(a, out ulong ma, out int ea);
        Unpack(b, out ulong mb, out int eb);
        int la = BitOperations.LeadingZeroCount(ma), lb = BitOperations.LeadingZeroCount(mb);
        ma <<= la;
        mb <<= lb;
        // ma, mb in [2^63, 2^64): the quotient has at least 64 significant bits; a remainder becomes the sticky bit.
        UInt128 numerator = (UInt128)ma << 64;
        UInt128 quotient = UInt128.DivRem(numerator, mb).Quotient;
        if (quotient * mb != numerator) quotient |= 1;
        return RoundPack(negative, (ea - la) - (eb - lb) - 64, quotient, rm, ref flags);
    }

    public static ulong Sqrt(ulong a, RoundingMode rm, ref FloatFlags flags)
    {
        if (IsNaN(a)) return NaNResult(a, a, ref flags);
        if (IsZero(a)) return a; // sqrt(−0) = −0 (IEEE 754 §6.3)
        if (IsNegative(a)) return Invalid(ref flags);
        if (IsInfinity(a)) return a;
        Unpack(a, out ulong m, out int e);
        // Scale to a 125- or 126-bit radicand with an even exponent, so the root has 63 bits.
        int shift = (int)UInt128.LeadingZeroCount((UInt128)m) - 2;
        if (((e - shift) & 1) != 0) shift--;
        UInt128 radicand = (UInt128)m << shift;
        UInt128 root = IntegerSqrt(radicand, out bool exact);
        if (!exact) root |= 1;
        return RoundPack(false, (e - shift) >> 1, root, rm, ref flags);
    }

    /// <summary>Floor of the square root, digit by digit (two bits of radicand per result bit).</summary>
    private static UInt128 IntegerSqrt(UInt128 n, out bool exact)
    {
        UInt128 result = 0, bit = UInt128.One << 126;
        while (bit > n) bit >>= 2;
        while (bit != 0)
        {
            if (n >= result + bit)
            {
                n -= result + bit;
                result = (result >> 1) + bit;
            }
            else result >>= 1;
            bit >>= 2;
        }
        exact = n == 0;
        return result;
    }

    /// <summary>a &lt; b with −0 &lt; +0, for non-NaN operands (the order FMIN/FMAX use, spec 11.6).</summary>
    private static bool OrderedBefore(ulong a, ulong b)
    {
        bool sa = IsNegative(a), sb = IsNegative(b);
        if (sa != sb) return sa;
        return sa ? a > b : a < b;
    }

    /// <summary>FMIN/FMAX (spec 11.6, version 2.2 semantics): a single NaN yields the other operand.</summary>
    public static ulong MinMax(ulong a, ulong b, bool max, ref FloatFlags flags)
    {
        if (IsSignalingNaN(a) || IsSignalingNaN(b)) flags |= FloatFlags.Invalid;
        bool na = IsNaN(a), nb = IsNaN(b);
        if (na && nb) return DefaultNaN;
        if (na) return b;
        if (nb) return a;
        return OrderedBefore(a, b) ^ max ? a : b;
    }

    /// <summary>FEQ is a quiet comparison: only signaling NaNs raise NV (spec 11.8).</summary>
    public static bool Equal(ulong a, ulong b, ref FloatFlags flags)
    {
        if (IsNaN(a) || IsNaN(b))
        {
            if (IsSignalingNaN(a) || IsSignalingNaN(b)) flags |= FloatFlags.Invalid;
            return false;
        }
        return a == b || (IsZero(a) && IsZero(b));
    }

    /// <summary>FLT/FLE are signaling comparisons: any NaN raises NV (spec 11.8).</summary>
    public static bool Less(ulong a, ulong b, bool orEqual, ref FloatFlags flags)
    {
        if (IsNaN(a) || IsNaN(b))
        {
            flags |= FloatFlags.Invalid;
            return false;
        }
        if (IsZero(a) && IsZero(b)) return orEqual;
        if (a == b) return orEqual;
        return OrderedBefore(a, b);
    }

    /// <summary>FCLASS's one-hot result (spec 11.9, table 11.5).</summary>
    public static ulong Classify(ulong a)
    {
        bool negative = IsNegative(a);
        if (IsNaN(a)) return IsSignalingNaN(a) ? 1UL << 8 : 1UL << 9;
        if (IsInfinity(a)) return negative ? 1UL << 0 : 1UL << 7;
        if (IsZero(a)) return negative ? 1UL << 3 : 1UL << 4;
        bool subnormal = (a & Infinity) == 0;
        if (negative) return subnormal ? 1UL << 2 : 1UL << 1;
        return subnormal ? 1UL << 5 : 1UL << 6;
    }

    /// <summary>
    /// FCVT to a <paramref name="width"/>-bit integer (spec 11.7, table 11.4): rounded by
    /// <paramref name="rm"/>; NaN, ±∞ and out-of-range values saturate and raise NV only. A 32-bit
    /// result comes back sign-extended to 64 bits, as RV64 keeps it in a register.
    /// </summary>
    public static ulong ToInteger(ulong a, RoundingMode rm, bool signed, int width, ref FloatFlags flags)
    {
        ulong maxPositive = signed ? (1UL << (width - 1)) - 1 : ulong.MaxValue >> (64 - width);
        ulong maxNegativeMagnitude = signed ? 1UL << (width - 1) : 0;
        ulong result;
        bool invalid = false;
        if (IsNaN(a) || IsInfinity(a))
        {
            invalid = true;
            result = IsNaN(a) || !IsNegative(a) ? maxPositive : (ulong)-(long)maxNegativeMagnitude;
        }
        else if (IsZero(a)) result = 0;
        else
        {
            bool negative = IsNegative(a);
            Unpack(a, out ulong m, out int e);
            ulong magnitude;
            bool inexact = false;
            // A value of 2^64 or more cannot fit any width; otherwise round to an integer first.
            bool tooLarge = e >= 64 || (e >= 0 && (m << e) >> e != m);
            magnitude = tooLarge ? 0 : ShiftRound(m, -e, negative, rm, out inexact);
            if (tooLarge || (negative ? magnitude > maxNegativeMagnitude : magnitude > maxPositive))
            {
                invalid = true;
                result = negative ? (ulong)-(long)maxNegativeMagnitude : maxPositive;
            }
            else
            {
                if (inexact) flags |= FloatFlags.Inexact;
                result = negative ? (ulong)-(long)magnitude : magnitude;
            }
        }
        if (invalid) flags |= FloatFlags.Invalid;
        return width == 32 ? (ulong)(long)(int)result : result;
    }

    /// <summary>FCVT from a <paramref name="width"/>-bit integer register value (spec 11.7).</summary>
    public static ulong FromInteger(ulong value, bool signed, int width, RoundingMode rm, ref FloatFlags flags)
    {
        if (width == 32) value = signed ? (ulong)(long)(int)value : (uint)value;
        bool negative = signed && (long)value < 0;
        ulong magnitude = negative ? (ulong)-(long)value : value;
        if (magnitude == 0) return 0;
        return RoundPack(negative, 0, magnitude, rm, ref flags);
    }
}

/// <summary>FCVT between the two formats (spec 12.5): NaNs become the target's canonical NaN.</summary>
public static class FloatConvert
{
    public static ulong Convert<TFrom, TTo>(ulong a, RoundingMode rm, ref FloatFlags flags)
        where TFrom : struct, IFloatFormat where TTo : struct, IFloatFormat
    {
        if (SoftFloat<TFrom>.IsNaN(a))
        {
            if (SoftFloat<TFrom>.IsSignalingNaN(a)) flags |= FloatFlags.Invalid;
            return SoftFloat<TTo>.DefaultNaN;
        }
        bool negative = SoftFloat<TFrom>.IsNegative(a);
        ulong sign = negative ? SoftFloat<TTo>.SignBit : 0;
        if (SoftFloat<TFrom>.IsInfinity(a)) return sign | SoftFloat<TTo>.Infinity;
        if (SoftFloat<TFrom>.IsZero(a)) return sign;
        SoftFloat<TFrom>.Unpack(a, out ulong sig, out int exp);
        return SoftFloat<TTo>.RoundPack(negative, exp, sig, rm, ref flags);
    }
}
