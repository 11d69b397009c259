namespace ReplayVm.Core.Hart;

/// <summary>
/// The M extension's arithmetic with the spec's results for the corner cases (unprivileged spec
/// 13.2, table 13.1): division by zero gives all ones (quotient) or the dividend (remainder), and
/// signed overflow (most negative / -1) gives the dividend (quotient) and zero (remainder). None
/// of them traps.
/// </summary>
internal static class MulDiv
{
    public static ulong MulHighSigned(ulong a, ulong b) => (ulong)Math.BigMul((long)a, (long)b, out _);

    public static ulong MulHighSignedUnsigned(ulong a, ulong b)
    {
        // high(a_signed * b_unsigned) = high(a_unsigned * b) - (a < 0 ? b : 0)
        ulong high = Math.BigMul(a, b, out _);
        return (long)a < 0 ? high - b : high;
    }

    public static ulong Div(ulong a, ulong b)
    {
        if (b == 0) return ulong.MaxValue;
        if ((long)a == long.MinValue && (long)b == -1) return a;
        return (ulong)((long)a / (long)b);
    }

    public static ulong Divu(ulong a, ulong b) => b == 0 ? ulong.MaxValue : a / b;

    public static ulong Rem(ulong a, ulong b)
    {
        if (b == 0) return a;
        if ((long)a == long.MinValue && (long)b == -1) return 0;
        return (ulong)((long)a % (long)b);
    }

    public static ulong Remu(ulong a, ulong b) => b == 0 ? a : a % b;

    public static ulong Divw(ulong a, ulong b)
    {
        int x = (int)a, y = (int)b;
        if (y == 0) return ulong.MaxValue;
        if (x == int.MinValue && y == -1) return (ulong)(long)x;
        return (ulong)(long)(x / y);
    }

    public static ulong Divuw(ulong a, ulong b)
    {
        uint x = (uint)a, y = (uint)b;
        return y == 0 ? ulong.MaxValue : (ulong)(long)(int)(x / y);
    }

    public static ulong Remw(ulong a, ulong b)
    {
        int x = (int)a, y = (int)b;
        if (y == 0) return (ulong)(long)x;
        if (x == int.MinValue && y == -1) return 0;
        return (ulong)(long)(x % y);
    }

    public static ulong Remuw(ulong a, ulong b)
    {
        uint x = (uint)a, y = (uint)b;
        return y == 0 ? (ulong)(long)(int)x : (ulong)(long)(int)(x % y);
    }
}
