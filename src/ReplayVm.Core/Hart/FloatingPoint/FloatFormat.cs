namespace ReplayVm.Core.Hart.FloatingPoint;

/// <summary>
/// The field widths of an IEEE 754 binary interchange format. Implemented by empty structs so the
/// JIT specialises <see cref="SoftFloat{TFormat}"/> per format, with the widths as constants.
/// </summary>
public interface IFloatFormat
{
    static abstract int ExponentBits { get; }
    static abstract int FractionBits { get; }
}

/// <summary>binary32, the F extension's format.</summary>
public readonly struct Binary32 : IFloatFormat
{
    public static int ExponentBits => 8;
    public static int FractionBits => 23;
}

/// <summary>binary64, the D extension's format.</summary>
public readonly struct Binary64 : IFloatFormat
{
    public static int ExponentBits => 11;
    public static int FractionBits => 52;
}

/// <summary>The rm field's encodings (unprivileged spec 11.2, table 11.1); 5 and 6 are reserved, 7 means "use frm".</summary>
public enum RoundingMode : byte
{
    NearestEven = 0,
    TowardZero = 1,
    Down = 2,
    Up = 3,
    NearestMaxMagnitude = 4,
}

/// <summary>The accrued exception flags, in their fflags bit positions (spec 11.2, table 11.2).</summary>
[Flags]
public enum FloatFlags : byte
{
    None = 0,
    Inexact = 1,
    Underflow = 2,
    Overflow = 4,
    DivideByZero = 8,
    Invalid = 16,
}
