namespace ReplayVm.Debugger.Symbols.Info;

/// <summary>What a frame offers an expression: registers (DWARF numbers: 0–31 x0–x31, 32–63 f0–f31), its CFA, memory.</summary>
public interface IFrameContext
{
    ulong Pc { get; }
    /// <summary>The register's value in this frame, or null when it is not known (not saved by a callee).</summary>
    ulong? Register(int dwarfRegister);
    /// <summary>The canonical frame address (the caller's sp at the call), or null when the unwinder has no rule for pc.</summary>
    ulong? Cfa { get; }
    bool ReadMemory(ulong address, Span<byte> destination);
}

/// <summary>Where a value lives: at an address, in a register, or nowhere (a computed value, or optimized out).</summary>
public abstract record ValueLocation
{
    public sealed record Memory(ulong Address) : ValueLocation;
    public sealed record InRegister(int DwarfRegister) : ValueLocation;
    /// <summary>DW_OP_stack_value / DW_OP_implicit_value: the value itself, no storage.</summary>
    public sealed record Computed(byte[] Bytes) : ValueLocation;
    /// <summary>Not available at this pc (gdb prints &lt;optimized out&gt;), or an expression this evaluator does not handle.</summary>
    public sealed record Unavailable(string Reason) : ValueLocation;
}

/// <summary>
/// A stack machine for the DWARF location expressions compilers write for variables (DWARF 5 §2.5,
/// §2.6): addresses, registers, register + offset, frame base + offset, the CFA, constants and
/// arithmetic, DW_OP_stack_value and DW_OP_implicit_value. Pieces and entry values (the value a
/// register had on entry, which needs the caller's frame as it was then) are reported unavailable.
/// </summary>
public static class LocationExpression
{
    private const int MaxOps = 1000;

    public static ValueLocation Evaluate(ReadOnlySpan<byte> expression, IFrameContext frame, int addressSize, Func<IFrameContext, ulong?>? frameBase)
    {
        var stack = new Stack<ulong>();
        var c = new DwarfCursor(expression, "location expression");
        ValueLocation? register = null;
        int ops = 0;
        while (!c.AtEnd)
        {
            if (++ops > MaxOps) return new ValueLocation.Unavailable("expression too long");
            byte op = c.U8();
            switch (op)
            {
                case 0x03: stack.Push(c.Unsigned(addressSize)); break; // DW_OP_addr
                case 0x06: // DW_OP_deref
                {
                    Span<byte> bytes = stackalloc byte[8];
                    if (!frame.ReadMemory(Pop(stack), bytes[..addressSize])) return new ValueLocation.Unavailable("cannot read memory");
                    stack.Push(BitConverter.ToUInt64(bytes));
                    break;
                }
                case 0x08: stack.Push(c.U8()); break;
                case 0x09: stack.Push(unchecked((ulong)(long)c.S8())); break;
                case 0x0a: stack.Push(c.U16()); break;
                case 0x0b: stack.Push(unchecked((ulong)(long)(short)c.U16())); break;
                case 0x0c: stack.Push(c.U32()); break;
                case 0x0d: stack.Push(unchecked((ulong)(long)(int)c.U32())); break;
                case 0x0e or 0x0f: stack.Push(c.U64()); break;
                case 0x10: stack.Push(c.ULeb()); break;
                case 0x11: stack.Push(unchecked((ulong)c.SLeb())); break;
                case 0x12: stack.Push(Peek(stack)); break; // dup
                case 0x13: Pop(stack); break; // drop
                case 0x1a: { ulong b = Pop(stack), a = Pop(stack); stack.Push(a & b); break; }
                case 0x1c: { ulong b = Pop(stack), a = Pop(stack); stack.Push(a - b); break; }
                case 0x1e: { ulong b = Pop(stack), a = Pop(stack); stack.Push(a * b); break; }
                case 0x1f: stack.Push(unchecked(0 - Pop(stack))); break; // neg
                case 0x20: stack.Push(~Pop(stack)); break; // not
                case 0x21: { ulong b = Pop(stack), a = Pop(stack); stack.Push(a | b); break; }
                case 0x22: { ulong b = Pop(stack), a = Pop(stack); stack.Push(a + b); break; }
                case 0x23: stack.Push(Pop(stack) + c.ULeb()); break; // plus_uconst
                case 0x24: { ulong b = Pop(stack), a = Pop(stack); stack.Push(b >= 64 ? 0 : a << (int)b); break; }
                case 0x25: { ulong b = Pop(stack), a = Pop(stack); stack.Push(b >= 64 ? 0 : a >> (int)b); break; }
                case 0x26: { ulong b = Pop(stack), a = Pop(stack); stack.Push(b >= 64 ? (ulong)((long)a >> 63) : (ulong)((long)a >> (int)b)); break; }
                case 0x27: { ulong b = Pop(stack), a = Pop(stack); stack.Push(a ^ b); break; }
                case >= 0x30 and <= 0x4f: stack.Push((ulong)(op - 0x30)); break; // lit0..31
                case >= 0x50 and <= 0x6f: register = new ValueLocation.InRegister(op - 0x50); break; // reg0..31
                case >= 0x70 and <= 0x8f: // breg0..31
                {
                    long offset = c.SLeb();
                    if (frame.Register(op - 0x70) is not { } value) return new ValueLocation.Unavailable($"register {op - 0x70} is not known in this frame");
                    stack.Push(unchecked(value + (ulong)offset));
                    break;
                }
                case 0x90: register = new ValueLocation.InRegister((int)c.ULeb()); break; // regx
                case 0x91: // fbreg
                {
                    long offset = c.SLeb();
                    if (frameBase?.Invoke(frame) is not { } fb) return new ValueLocation.Unavailable("no frame base here");
                    stack.Push(unchecked(fb + (ulong)offset));
                    break;
                }
                case 0x92: // bregx
                {
                    int reg = (int)c.ULeb();
                    long offset = c.SLeb();
                    if (frame.Register(reg) is not { } value) return new ValueLocation.Unavailable($"register {reg} is not known in this frame");
                    stack.Push(unchecked(value + (ulong)offset));
                    break;
                }
                case 0x96: break; // nop
                case 0x9c: // call_frame_cfa
                    if (frame.Cfa is not { } cfa) return new ValueLocation.Unavailable("no call frame information here");
                    stack.Push(cfa);
                    break;
                case 0x9e: return new ValueLocation.Computed(c.Bytes(c.ULeb()).ToArray()); // implicit_value
                case 0x9f: // stack_value
                    return new ValueLocation.Computed(BitConverter.GetBytes(Pop(stack)));
                case 0x93 or 0x9d: return new ValueLocation.Unavailable("the value is split in pieces (not supported)");
                case 0xa3 or 0xf3: return new ValueLocation.Unavailable("optimized out (only its value on entry is described)");
                default: return new ValueLocation.Unavailable($"location operation 0x{op:x2} is not supported");
            }
        }
        if (register is not null) return register;
        return stack.Count > 0 ? new ValueLocation.Memory(stack.Peek()) : new ValueLocation.Unavailable("optimized out");
    }

    private static ulong Pop(Stack<ulong> stack) =>
        stack.TryPop(out ulong v) ? v : throw new DwarfFormatException("location expression pops an empty stack");

    private static ulong Peek(Stack<ulong> stack) =>
        stack.TryPeek(out ulong v) ? v : throw new DwarfFormatException("location expression reads an empty stack");
}
