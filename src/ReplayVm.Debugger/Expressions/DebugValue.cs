using ReplayVm.Debugger.Symbols.Info;

namespace ReplayVm.Debugger.Expressions;

/// <summary>A value an expression produced: its type, where it lives (an address makes it watchable), and its bytes.</summary>
public sealed record DebugValue(DwarfDie? Type, ValueLocation Location, byte[] Bytes)
{
    public ulong? Address => Location is ValueLocation.Memory m ? m.Address : null;
    public bool IsAvailable => Location is not ValueLocation.Unavailable;

    /// <summary>The bytes as an integer (little-endian, sign-extended for signed types).</summary>
    public ulong Integer
    {
        get
        {
            ulong value = 0;
            int size = Math.Min(8, Bytes.Length);
            for (int i = size - 1; i >= 0; i--) value = value << 8 | Bytes[i];
            if (size is > 0 and < 8 && TypeInfo.IsSigned(Type) && (Bytes[size - 1] & 0x80) != 0) value |= ulong.MaxValue << (size * 8);
            return value;
        }
    }
}

/// <summary>A user's mistake in an expression, or a value that cannot be had (the message says which, in gdb's words where gdb has them).</summary>
public sealed class ExpressionException(string message) : Exception(message);
