using System.Reflection;
using System.Reflection.Emit;

namespace ReplayVm.Core.Translation;

/// <summary>A branch target in an <see cref="IlWriter"/>'s code.</summary>
internal readonly record struct IlLabel(int Index);

/// <summary>A local variable of an <see cref="IlWriter"/>'s method.</summary>
internal sealed class IlLocal(int index)
{
    public int Index { get; } = index;
}

/// <summary>
/// Writes a <see cref="DynamicMethod"/>'s IL as bytes and hands them over through
/// <see cref="DynamicILInfo"/>, with the subset of <see cref="ILGenerator"/>'s interface that
/// <see cref="RegionCompiler"/> uses. Why not ILGenerator: every emitted instruction went through a
/// dozen Reflection.Emit methods (label fixups, token scopes, signature helpers) that the runtime
/// then tiered up — instrumented, then optimized — once the first regions were compiled: ~60 more
/// methods JIT-compiled on a Linux boot, on top of the regions themselves. Here an instruction is a
/// few stores into an array, and a field or method is resolved once per region.
/// Locals are primitives or object references (the JIT does not verify the code, and an object
/// reference is what it needs to know of a class-typed local); branches are the long forms only.
/// </summary>
internal sealed class IlWriter
{
    /// <summary>
    /// Well above the deepest stack the region compiler builds (a helper call's arguments on an
    /// address computation, under ten): the JIT rejects a method whose stack goes deeper than its
    /// header says (an InvalidProgramException at the region's first run), and a larger figure costs it nothing.
    /// </summary>
    private const int MaxStack = 64;

    private readonly DynamicILInfo _info;
    private byte[] _code = new byte[1024];
    private int _length;
    private byte[] _localTypes = new byte[32];
    private int _localCount;
    private int[] _labels = new int[64];
    private int _labelCount;
    /// <summary>Where each branch's 4-byte offset is, and the label it goes to.</summary>
    private int[] _fixupAt = new int[64], _fixupLabel = new int[64];
    private int _fixupCount;
    /// <summary>The members this method refers to and their tokens (a region uses a few dozen).</summary>
    private object[] _members = new object[32];
    private int[] _tokens = new int[32];
    private int _memberCount;

    public IlWriter(DynamicMethod method) => _info = method.GetDynamicILInfo();

    /// <summary>Bytes of IL written so far.</summary>
    public int ILOffset => _length;

    public IlLabel DefineLabel()
    {
        if (_labelCount == _labels.Length) Array.Resize(ref _labels, _labels.Length * 2);
        _labels[_labelCount] = -1;
        return new IlLabel(_labelCount++);
    }

    public void MarkLabel(IlLabel label) => _labels[label.Index] = _length;

    public IlLocal DeclareLocal(Type type)
    {
        byte element = type == typeof(ulong) ? (byte)0x0B // ELEMENT_TYPE_U8
            : type == typeof(int) ? (byte)0x08 // I4
            : type == typeof(nint) ? (byte)0x18 // I
            : type == typeof(byte) ? (byte)0x05 // U1
            : type == typeof(ushort) ? (byte)0x07 // U2
            : type == typeof(uint) ? (byte)0x09 // U4
            : type == typeof(object) ? (byte)0x1C // OBJECT
            : throw new NotSupportedException($"IlWriter has no local of type {type}");
        if (_localCount == _localTypes.Length) Array.Resize(ref _localTypes, _localTypes.Length * 2);
        _localTypes[_localCount] = element;
        return new IlLocal(_localCount++);
    }

    public void Emit(OpCode op) => Op(op);

    public void Emit(OpCode op, byte operand)
    {
        Op(op);
        Room(1);
        _code[_length++] = operand;
    }

    public void Emit(OpCode op, int operand)
    {
        Op(op);
        Int32(operand);
    }

    public void Emit(OpCode op, long operand)
    {
        Op(op);
        Room(8);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(_code.AsSpan(_length), operand);
        _length += 8;
    }

    public void Emit(OpCode op, IlLabel label)
    {
        if (op.OperandType != OperandType.InlineBrTarget) throw new NotSupportedException($"IlWriter writes long branches only, not {op}");
        Op(op);
        if (_fixupCount == _fixupAt.Length)
        {
            Array.Resize(ref _fixupAt, _fixupAt.Length * 2);
            Array.Resize(ref _fixupLabel, _fixupLabel.Length * 2);
        }
        _fixupAt[_fixupCount] = _length;
        _fixupLabel[_fixupCount++] = label.Index;
        Int32(0);
    }

    /// <summary>ldloc, stloc or ldloca, in their short forms where the index allows.</summary>
    public void Emit(OpCode op, IlLocal local)
    {
        int index = local.Index;
        Room(4);
        if (op.Value == OpCodes.Ldloc.Value)
        {
            if (index < 4) _code[_length++] = (byte)(0x06 + index); // ldloc.0-3
            else if (index < 256) { _code[_length++] = 0x11; _code[_length++] = (byte)index; } // ldloc.s
            else { Op(op); UInt16(index); }
        }
        else if (op.Value == OpCodes.Stloc.Value)
        {
            if (index < 4) _code[_length++] = (byte)(0x0A + index); // stloc.0-3
            else if (index < 256) { _code[_length++] = 0x13; _code[_length++] = (byte)index; } // stloc.s
            else { Op(op); UInt16(index); }
        }
        else if (op.Value == OpCodes.Ldloca.Value)
        {
            if (index < 256) { _code[_length++] = 0x12; _code[_length++] = (byte)index; } // ldloca.s
            else { Op(op); UInt16(index); }
        }
        else throw new NotSupportedException($"IlWriter has no {op} of a local");
    }

    public void Emit(OpCode op, FieldInfo field)
    {
        Op(op);
        Int32(Token(field));
    }

    public void Emit(OpCode op, MethodInfo method)
    {
        Op(op);
        Int32(Token(method));
    }

    /// <summary>Resolves the branches and hands code and locals to the method (which the JIT compiles at its first call).</summary>
    public void Finish()
    {
        for (int i = 0; i < _fixupCount; i++)
        {
            int at = _fixupAt[i], target = _labels[_fixupLabel[i]];
            if (target < 0) throw new InvalidOperationException("a branch to a label never marked");
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(_code.AsSpan(at), target - (at + 4));
        }
        // LOCAL_SIG, the count (compressed), each local's element type.
        var signature = new byte[3 + _localCount];
        int length = 0;
        signature[length++] = 0x07;
        if (_localCount < 0x80) signature[length++] = (byte)_localCount;
        else
        {
            signature[length++] = (byte)(0x80 | (_localCount >> 8));
            signature[length++] = (byte)_localCount;
        }
        Array.Copy(_localTypes, 0, signature, length, _localCount);
        _info.SetLocalSignature(signature.AsSpan(0, length + _localCount).ToArray());
        _info.SetCode(_code.AsSpan(0, _length).ToArray(), MaxStack);
    }

    private int Token(object member)
    {
        for (int i = 0; i < _memberCount; i++)
            if (ReferenceEquals(_members[i], member)) return _tokens[i];
        int token = member is FieldInfo field ? _info.GetTokenFor(field.FieldHandle) : _info.GetTokenFor(((MethodInfo)member).MethodHandle);
        if (_memberCount == _members.Length)
        {
            Array.Resize(ref _members, _members.Length * 2);
            Array.Resize(ref _tokens, _tokens.Length * 2);
        }
        _members[_memberCount] = member;
        _tokens[_memberCount++] = token;
        return token;
    }

    private void Op(OpCode op)
    {
        Room(2);
        if (op.Size == 2) _code[_length++] = 0xFE;
        _code[_length++] = (byte)op.Value;
    }

    private void Int32(int value)
    {
        Room(4);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(_code.AsSpan(_length), value);
        _length += 4;
    }

    private void UInt16(int value)
    {
        Room(2);
        _code[_length++] = (byte)value;
        _code[_length++] = (byte)(value >> 8);
    }

    private void Room(int bytes)
    {
        if (_length + bytes > _code.Length) Array.Resize(ref _code, Math.Max(_code.Length * 2, _length + bytes));
    }
}
