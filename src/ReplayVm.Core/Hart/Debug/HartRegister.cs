namespace ReplayVm.Core.Hart;

/// <summary>Which of the hart's register files a register belongs to.</summary>
public enum RegisterFile : byte
{
    /// <summary>No register (the default value).</summary>
    None,
    /// <summary>x0..x31.</summary>
    Integer,
    /// <summary>f0..f31 (the F/D extensions).</summary>
    Float,
}

/// <summary>One architectural register a debugger can name: x0..x31 or f0..f31.</summary>
public readonly record struct HartRegister(RegisterFile File, int Index)
{
    public static HartRegister X(int index) => new(RegisterFile.Integer, CheckIndex(index));

    public static HartRegister F(int index) => new(RegisterFile.Float, CheckIndex(index));

    public bool IsValid => File != RegisterFile.None && Index is >= 0 and < 32;

    public override string ToString() => File switch
    {
        RegisterFile.Integer => $"x{Index}",
        RegisterFile.Float => $"f{Index}",
        _ => "no register",
    };

    private static int CheckIndex(int index) =>
        index is >= 0 and < 32 ? index : throw new ArgumentOutOfRangeException(nameof(index), $"register number {index} is not 0..31");
}

/// <summary>
/// The registers a debugger watches for writes, one bit per register: bit i of <see cref="Integer"/>
/// is x<i>i</i>, bit i of <see cref="Float"/> is f<i>i</i>. x0 can never be written (its writes are
/// discarded, unprivileged spec 2.1), so its bit is ignored.
/// </summary>
public readonly record struct RegisterWatch(ulong Integer, ulong Float)
{
    public bool IsEmpty => (Integer & ~1UL) == 0 && Float == 0;

    public static RegisterWatch Of(params ReadOnlySpan<HartRegister> registers)
    {
        ulong x = 0, f = 0;
        foreach (var r in registers)
        {
            if (!r.IsValid) throw new ArgumentException($"not a register: {r}", nameof(registers));
            if (r.File == RegisterFile.Integer) x |= 1UL << r.Index;
            else f |= 1UL << r.Index;
        }
        return new RegisterWatch(x & ~1UL, f);
    }

    public bool Contains(HartRegister register) => register.File switch
    {
        RegisterFile.Integer => register.Index is > 0 and < 32 && ((Integer >> register.Index) & 1) != 0,
        RegisterFile.Float => register.Index is >= 0 and < 32 && ((Float >> register.Index) & 1) != 0,
        _ => false,
    };
}
