using System.Globalization;
using ReplayVm.Debugger.Frames;
using ReplayVm.Debugger.Symbols;
using ReplayVm.Debugger.Symbols.Info;

namespace ReplayVm.Debugger.Expressions;

/// <summary>
/// C expressions over the guest's variables, as gdb's print takes them: names (locals of the
/// frame's scopes, innermost first, then globals), integer literals, $registers, and the operators
/// <c>. -&gt; [] * &amp; unary - + -</c> and parentheses. Pointer arithmetic scales by the target
/// size, as in C. Never changes the guest: it only reads.
/// </summary>
public sealed class ExpressionEvaluator(DebugInfo info, StackFrame frame, Func<string, ulong?>? elfSymbol = null)
{
    private string _text = "";
    private int _at;

    public DebugValue Evaluate(string expression)
    {
        _text = expression;
        _at = 0;
        var value = Additive();
        Skip();
        if (_at < _text.Length) throw new ExpressionException($"A syntax error in expression, near `{_text[_at..]}'.");
        return value;
    }

    // ---- parsing and evaluating in one pass (the expressions are small) ----

    private DebugValue Additive()
    {
        var left = Unary();
        while (true)
        {
            Skip();
            if (Eat("+")) left = Add(left, Unary(), 1);
            else if (Eat("-")) left = Add(left, Unary(), -1);
            else return left;
        }
    }

    private DebugValue Unary()
    {
        Skip();
        if (Eat("*")) return Dereference(Unary());
        if (Eat("&")) return AddressOf(Unary());
        if (Eat("-"))
        {
            var v = Unary();
            return Constant(unchecked(0 - v.Integer), v.Type);
        }
        return Postfix(Primary());
    }

    private DebugValue Postfix(DebugValue value)
    {
        while (true)
        {
            Skip();
            if (Eat("->")) value = Member(Dereference(value), Identifier() ?? throw new ExpressionException("A syntax error in expression, near `'."));
            else if (Eat(".")) value = Member(value, Identifier() ?? throw new ExpressionException("A syntax error in expression, near `'."));
            else if (Eat("["))
            {
                var index = Additive();
                Skip();
                if (!Eat("]")) throw new ExpressionException("A syntax error in expression: missing ']'.");
                value = Dereference(Add(value, index, 1));
            }
            else return value;
        }
    }

    private DebugValue Primary()
    {
        Skip();
        if (Eat("("))
        {
            var inner = Additive();
            Skip();
            if (!Eat(")")) throw new ExpressionException("A syntax error in expression: missing ')'.");
            return inner;
        }
        if (Eat("$"))
        {
            string name = Identifier() ?? throw new ExpressionException("A syntax error in expression, near `$'.");
            return Register(name);
        }
        if (_at < _text.Length && char.IsAsciiDigit(_text[_at])) return Number();
        string? id = Identifier();
        if (id is null) throw new ExpressionException(_at < _text.Length ? $"A syntax error in expression, near `{_text[_at..]}'." : "A syntax error in expression, near `'.");
        return Variable(id);
    }

    private DebugValue Number()
    {
        int start = _at;
        while (_at < _text.Length && (char.IsAsciiLetterOrDigit(_text[_at]))) _at++;
        string token = _text[start.._at];
        bool ok = token.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(token.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong value)
            : ulong.TryParse(token.TrimEnd('u', 'U', 'l', 'L'), NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok) throw new ExpressionException($"Invalid number \"{token}\".");
        return Constant(value, null);
    }

    private string? Identifier()
    {
        Skip();
        int start = _at;
        while (_at < _text.Length && (char.IsAsciiLetterOrDigit(_text[_at]) || _text[_at] == '_')) _at++;
        if (_at == start || char.IsAsciiDigit(_text[start])) { _at = start; return null; }
        return _text[start.._at];
    }

    private void Skip()
    {
        while (_at < _text.Length && char.IsWhiteSpace(_text[_at])) _at++;
    }

    private bool Eat(string token)
    {
        if (string.CompareOrdinal(_text, _at, token, 0, token.Length) != 0) return false;
        // "-" is not the start of "->".
        if (token == "-" && _at + 1 < _text.Length && _text[_at + 1] == '>') return false;
        _at += token.Length;
        return true;
    }

    // ---- values ----

    private static DebugValue Constant(ulong value, DwarfDie? type) =>
        new(type, new ValueLocation.Computed(BitConverter.GetBytes(value)), BitConverter.GetBytes(value)[..(type is null ? 8 : (int)Math.Min(8, TypeInfo.SizeOf(type)))]);

    private DebugValue Register(string name)
    {
        if (name == "pc") return Constant(frame.Pc, null);
        int index = name == "fp" ? 8 : -1;
        if (index < 0 && Timeline.RegisterNames.TryParse(name, out var register) && register.File == Core.Hart.RegisterFile.Integer) index = register.Index;
        if (index < 0) throw new ExpressionException($"Invalid register `{name}'");
        if (frame.Register(index) is not { } value) throw new ExpressionException($"value is not available: ${name} was not saved in frame {frame.Level}");
        return Constant(value, null);
    }

    private DebugValue Variable(string name)
    {
        var scopes = info.ScopesAt(frame.LookupPc);
        foreach (var scope in scopes)
            foreach (var variable in DebugInfo.VariablesOf(scope))
                if (variable.Name == name) return Load(variable);
        if (info.Global(name) is { } global) return Load(global);
        if (elfSymbol?.Invoke(name) is not null)
            throw new ExpressionException($"'{name}' has unknown type; cast it to its declared type");
        throw new ExpressionException($"No symbol \"{name}\" in current context.");
    }

    /// <summary>A variable's value in this frame (its location at this pc; "optimized out" where it has none).</summary>
    public DebugValue Load(DwarfDie variable)
    {
        var type = variable.Type;
        var location = LocationOf(variable);
        return Fetch(type, location);
    }

    private ValueLocation LocationOf(DwarfDie variable)
    {
        var unit = variable.Unit;
        if (variable.Get(DwarfAt.Location) is { } at)
        {
            byte[]? expression = at.Block ?? ListReader.LocationAt(info, unit, at, frame.LookupPc);
            if (expression is null || expression.Length == 0) return new ValueLocation.Unavailable("optimized out");
            return LocationExpression.Evaluate(expression, frame, unit.AddressSize, FrameBase);
        }
        if (variable.GetInherited(DwarfAt.ConstValue) is { } constant)
            return new ValueLocation.Computed(constant.Block ?? BitConverter.GetBytes(constant.Number));
        return new ValueLocation.Unavailable("optimized out");
    }

    /// <summary>The frame base of the function this frame runs (DW_AT_frame_base, usually DW_OP_call_frame_cfa).</summary>
    private ulong? FrameBase(IFrameContext context)
    {
        var function = frame.Function;
        if (function?.Get(DwarfAt.FrameBase) is not { } fb) return null;
        byte[]? expression = fb.Block ?? ListReader.LocationAt(info, function.Unit, fb, frame.LookupPc);
        if (expression is null) return null;
        return LocationExpression.Evaluate(expression, context, function.Unit.AddressSize, null) switch
        {
            ValueLocation.Memory m => m.Address,
            ValueLocation.InRegister r => context.Register(r.DwarfRegister),
            _ => null,
        };
    }

    /// <summary>Reads a value of <paramref name="type"/> from where it lives (bounded: no single read beyond 1 MiB).</summary>
    public DebugValue Fetch(DwarfDie? type, ValueLocation location)
    {
        ulong size = TypeInfo.SizeOf(type);
        if (size > 1 << 20) throw new ExpressionException($"value of {size} bytes is too large to show");
        var bytes = new byte[size];
        switch (location)
        {
            case ValueLocation.Memory m:
                if (!frame.ReadMemory(m.Address, bytes)) throw new ExpressionException($"Cannot access memory at address 0x{m.Address:x}");
                break;
            case ValueLocation.InRegister r:
                if (frame.Register(r.DwarfRegister) is not { } reg) return new DebugValue(type, new ValueLocation.Unavailable("optimized out"), []);
                BitConverter.GetBytes(reg).AsSpan(0, (int)Math.Min(8, size)).CopyTo(bytes);
                break;
            case ValueLocation.Computed c:
                c.Bytes.AsSpan(0, (int)Math.Min((ulong)c.Bytes.Length, size)).CopyTo(bytes);
                break;
            case ValueLocation.Unavailable:
                return new DebugValue(type, location, []);
        }
        return new DebugValue(type, location, bytes);
    }

    private DebugValue Member(DebugValue value, string name)
    {
        if (!TypeInfo.IsStruct(value.Type))
            throw new ExpressionException($"Attempt to extract a component of a value that is not a structure{(TypeInfo.IsPointer(value.Type) ? " pointer" : "")}.");
        var struct_ = TypeInfo.Strip(value.Type)!;
        foreach (var (memberName, type, offset, _) in TypeInfo.Members(struct_))
        {
            if (memberName != name) continue;
            if (!value.IsAvailable) return new DebugValue(type, value.Location, []);
            return value.Address is { } address
                ? Fetch(type, new ValueLocation.Memory(address + offset))
                : new DebugValue(type, new ValueLocation.Computed(value.Bytes[(int)offset..]), value.Bytes.AsSpan((int)offset, (int)Math.Min(TypeInfo.SizeOf(type), (ulong)value.Bytes.Length - offset)).ToArray());
        }
        throw new ExpressionException($"There is no member named {name}.");
    }

    private DebugValue Dereference(DebugValue value)
    {
        var type = TypeInfo.Strip(value.Type);
        if (type?.Tag == DwarfTag.ArrayType)
        {
            // An array decays to a pointer to its first element.
            if (value.Address is not { } first) throw new ExpressionException("Attempt to take address of value not located in memory.");
            return Fetch(ElementType(type), new ValueLocation.Memory(first));
        }
        if (type?.Tag != DwarfTag.PointerType)
        {
            if (value.Type is null) return Fetch(null, new ValueLocation.Memory(value.Integer)) is var v ? v with { Type = null } : v; // *0x80001000: gdb reads an int there
            throw new ExpressionException("Attempt to take contents of a non-pointer value.");
        }
        if (!value.IsAvailable) throw new ExpressionException("value has been optimized out");
        if (type.Type is null) throw new ExpressionException("Attempt to take contents of a non-pointer value.");
        return Fetch(type.Type, new ValueLocation.Memory(value.Integer));
    }

    private static DwarfDie? ElementType(DwarfDie array)
    {
        // Multi-dimensional arrays are rare in guests; the element of int a[2][3] is shown as its base element.
        return array.Type;
    }

    private DebugValue AddressOf(DebugValue value)
    {
        if (value.Address is not { } address) throw new ExpressionException("Attempt to take address of value not located in memory.");
        return new DebugValue(info.PointerTo(value.Type), new ValueLocation.Computed(BitConverter.GetBytes(address)), BitConverter.GetBytes(address));
    }

    private DebugValue Add(DebugValue left, DebugValue right, int sign)
    {
        var leftType = TypeInfo.Strip(left.Type);
        if (leftType?.Tag == DwarfTag.ArrayType)
        {
            if (left.Address is not { } first) throw new ExpressionException("Attempt to take address of value not located in memory.");
            left = new DebugValue(info.PointerTo(leftType.Type), new ValueLocation.Computed(BitConverter.GetBytes(first)), BitConverter.GetBytes(first));
            leftType = TypeInfo.Strip(left.Type);
        }
        if (leftType?.Tag == DwarfTag.PointerType)
        {
            ulong scale = Math.Max(1, TypeInfo.SizeOf(leftType.Type));
            ulong result = unchecked(left.Integer + (ulong)sign * right.Integer * scale);
            return new DebugValue(left.Type, new ValueLocation.Computed(BitConverter.GetBytes(result)), BitConverter.GetBytes(result));
        }
        ulong sum = unchecked(left.Integer + (ulong)sign * right.Integer);
        return Constant(sum, left.Type ?? right.Type);
    }
}
