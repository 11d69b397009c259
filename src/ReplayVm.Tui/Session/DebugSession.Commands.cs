using System.Globalization;
using System.Text;
using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Disassembly;
using ReplayVm.Debugger.Timeline;
using ReplayVm.Replay.Timeline;

namespace ReplayVm.Tui.Session;

/// <summary>The gdb-style command line: every command answers with text or a one-line error, never an exception.</summary>
public sealed partial class DebugSession
{
    public const string CommandHelp =
        "b SYMBOL|*ADDR|FILE:LINE|LINE  watch|rwatch|awatch EXPR|*ADDR [LEN]  c  rc  s  n  finish  until [LOC]  advance LOC  rs  rn  reverse-finish  si  rsi  ni  rni  " +
        "p EXPR  display EXPR  bt  info locals|registers|b|display  goto STEP  last-write REG|*ADDR  x/Nx ADDR  delete N  next-trap  prev-trap  next-irq  prev-irq";

    /// <summary>Runs one command line; <paramref name="cancel"/> and <paramref name="progress"/> apply to long movements.</summary>
    public CommandResult Execute(string line, CancellationToken cancel = default, IProgress<double>? progress = null)
    {
        string text = line.Trim();
        if (text.Length == 0) return new CommandResult("");
        int space = text.IndexOfAny([' ', '\t']);
        string verb = space < 0 ? text : text[..space];
        string argument = space < 0 ? "" : text[(space + 1)..].Trim();
        try
        {
            if (verb.StartsWith("x/", StringComparison.Ordinal) || verb == "x") return Examine(verb, argument);
            return verb switch
            {
                "b" or "break" => Break(argument),
                "watch" => Watch(verb, argument, WatchAccess.Write),
                "rwatch" => Watch(verb, argument, WatchAccess.Read),
                "awatch" => Watch(verb, argument, WatchAccess.Access),
                "s" or "step" => NoArgument(argument, () => Moved(SourceStep(cancel))),
                "n" or "next" => NoArgument(argument, () => Moved(SourceNext(cancel))),
                "rs" or "reverse-step" => NoArgument(argument, () => Moved(SourceStepBack(cancel))),
                "rn" or "reverse-next" => NoArgument(argument, () => Moved(SourceNextBack(cancel))),
                "fin" or "finish" => NoArgument(argument, () => Moved(Finish(cancel))),
                "reverse-finish" => NoArgument(argument, () => Moved(ReverseFinish(cancel))),
                "u" or "until" => argument.Length == 0 ? Moved(Until(cancel)) : RunToLocation(verb, argument, anywhere: false, cancel, progress),
                "advance" => RunToLocation(verb, argument, anywhere: true, cancel, progress),
                "p" or "print" or "output" or "inspect" => Print(argument),
                "display" => Display(argument),
                "undisplay" => Undisplay(argument),
                "bt" or "backtrace" or "where" => NoArgument(argument, () => new CommandResult(BacktraceLines() is { Count: > 0 } frames ? string.Join('\n', frames) : "No stack.")),
                "info" when argument is "locals" => new CommandResult(LocalLines() is { Count: > 0 } locals ? string.Join('\n', locals) : "No locals."),
                "info" when argument is "r" or "registers" or "reg" => new CommandResult(InfoRegisters()),
                "info" when argument is "display" => Display(""),
                "c" or "continue" => Moved(Continue(cancel, progress)),
                "rc" or "reverse-continue" => Moved(ReverseContinue(cancel, progress)),
                "si" or "stepi" => NoArgument(argument, () => Moved(StepInto())),
                "rsi" or "reverse-stepi" => NoArgument(argument, () => Moved(StepBack())),
                "ni" or "nexti" => NoArgument(argument, () => Moved(StepOver(cancel))),
                "rni" or "reverse-nexti" => NoArgument(argument, () => Moved(StepBackOver(cancel))),
                "goto" => GotoStep(argument, cancel, progress),
                "last-write" => LastWrite(argument, cancel),
                "next-trap" => NoArgument(argument, () => TrapJump(verb, TrapMarkerKinds.Traps, forward: true, cancel, progress)),
                "prev-trap" => NoArgument(argument, () => TrapJump(verb, TrapMarkerKinds.Traps, forward: false, cancel, progress)),
                "next-irq" => NoArgument(argument, () => TrapJump(verb, TrapMarkerKinds.Interrupts, forward: true, cancel, progress)),
                "prev-irq" => NoArgument(argument, () => TrapJump(verb, TrapMarkerKinds.Interrupts, forward: false, cancel, progress)),
                "info" when argument is "b" or "break" or "breakpoints" or "watchpoints" => InfoBreakpoints(),
                "delete" or "d" => DeletePoint(argument),
                "help" or "h" => new CommandResult(CommandHelp),
                _ => CommandResult.Error($"unknown command '{verb}' (try: {CommandHelp})"),
            };
        }
        catch (TimelineException e)
        {
            return CommandResult.Error(e.Message);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or OverflowException)
        {
            return CommandResult.Error($"{verb}: {e.Message}");
        }
    }

    private CommandResult Moved(TimelineStop _) => new(LastStop);

    private static CommandResult NoArgument(string argument, Func<CommandResult> run) =>
        argument.Length == 0 ? run() : CommandResult.Error($"unexpected argument '{argument}'");

    private bool TryAddress(string text, out ulong address) => AddressParser.TryParse(text, Hart, Symbols, out address);

    private CommandResult Break(string argument)
    {
        if (argument.Length == 0) return CommandResult.Error("b: give a symbol or *ADDRESS (b main, b *0x80000000)");
        if (AddressParser.TryParseLineSpec(argument, out string? file, out int line)) return BreakAtLine(file, line);
        string target = argument.StartsWith('*') ? argument[1..] : argument;
        // Without '*', gdb takes the word as a location (a symbol), never a register: keep that meaning.
        bool found = argument.StartsWith('*') ? TryAddress(target, out ulong address) : TrySymbolOrNumber(target, out address);
        if (!found) return CommandResult.Error($"b: no symbol or address '{argument}'");
        var point = AddBreakpoint(address);
        return new CommandResult($"breakpoint {point.Number} at 0x{address:x}" + (point.Symbol is { } s ? $" <{s}>" : ""));
    }

    private bool TrySymbolOrNumber(string text, out ulong address)
    {
        address = 0;
        if (Symbols.Find(text) is { } value)
        {
            address = value;
            return true;
        }
        return AddressParser.TryParseNumber(text, out address) || TryAddress(text, out address) && text.Contains('+');
    }

    /// <summary>
    /// <c>watch|rwatch|awatch *ADDR [LEN]</c> or <c>... SYMBOL [LEN]</c> (the symbol's address, as
    /// gdb's <c>watch -l</c>): LEN bytes, 8 unless given (1 to 4096).
    /// </summary>
    private CommandResult Watch(string verb, string argument, WatchAccess access)
    {
        var parts = argument.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or > 2)
            return CommandResult.Error($"{verb}: give *ADDRESS or SYMBOL and an optional length ({verb} *0x80001000 4)");
        string where = parts[0];
        // A C lvalue (state.secret, arr[3], *p, a whole struct) is watched over its type's size, as gdb's watch -l.
        bool rawAddress = where.StartsWith('*') && TryAddress(where[1..], out _);
        if (parts.Length == 1 && !rawAddress && !Info.IsEmpty)
        {
            try
            {
                if (Evaluate(argument) is { } value) return WatchExpression(verb, argument, access);
            }
            catch (Debugger.Expressions.ExpressionException) when (Symbols.Find(where) is not null)
            {
                // Not a variable the debug info knows: an ELF symbol, watched as before.
            }
            catch (Debugger.Expressions.ExpressionException e)
            {
                return CommandResult.Error($"{verb}: {e.Message}");
            }
        }
        ulong? target = where.StartsWith('*') ? (TryAddress(where[1..], out ulong at) ? at : null) : Symbols.Find(where);
        if (target is not { } address) return CommandResult.Error($"{verb}: '{where}' is neither *ADDRESS nor a symbol");
        ulong length = 8;
        if (parts.Length == 2 && (!AddressParser.TryParseNumber(parts[1], out length) || length is 0 or > 4096))
            return CommandResult.Error($"{verb}: the length must be 1 to 4096 bytes, not '{parts[1]}'");
        var point = AddWatchpoint(address, length, access);
        string what = access switch { WatchAccess.Read => "reads of", WatchAccess.Access => "reads and writes of", _ => "writes to" };
        return new CommandResult($"watchpoint {point.Number} on {what} 0x{address:x}..0x{address + length - 1:x}");
    }

    private CommandResult GotoStep(string argument, CancellationToken cancel, IProgress<double>? progress)
    {
        if (!AddressParser.TryParseNumber(argument, out ulong step)) return CommandResult.Error($"goto: '{argument}' is not a step number");
        return Moved(Goto(step, cancel, progress));
    }

    /// <summary>
    /// "When was this last written", answered without moving (as rr users ask it before deciding
    /// where to go): a register by name (a0, $a0, x10, fa0, f3), or with '*' (or as a number or
    /// symbol) the byte at an address. The answer names the step to goto.
    /// </summary>
    private CommandResult LastWrite(string argument, CancellationToken cancel)
    {
        if (!argument.StartsWith('*') && RegisterNames.TryParse(argument, out var register))
        {
            string name = RegisterNames.Name(register);
            if (register is { File: RegisterFile.Integer, Index: 0 }) return new CommandResult("zero is never written (writes to x0 are discarded)");
            return new CommandResult(Timeline.FindLastRegisterWrite(register, cancel) is { } w
                ? $"{name} last written at step {w.Step} by {Site(w.Pc, w.Encoding)}, value 0x{w.Value:x}; goto {w.Step} to see it"
                : $"{name} was not written before step {Position}");
        }
        if (!TryAddress(argument.TrimStart('*'), out ulong address))
            return CommandResult.Error($"last-write: bad address or register '{argument}' (last-write a0, last-write *0x80001000)");
        return new CommandResult(Timeline.FindLastMemoryWrite(address, 1, cancel) is { } m
            ? $"0x{address:x} last written at step {m.Step} by {Site(m.Pc, m.Encoding)}; goto {m.Step} to see it"
            : $"0x{address:x} was not written before step {Position}");
    }

    /// <summary>"pc 0x80000104 &lt;main+8&gt; (addi a0,a0,1)": where an instruction was and what it was.</summary>
    private string Site(ulong pc, uint? encoding)
    {
        string where = $"pc 0x{pc:x}" + (Symbols.NameAt(pc) is { } name ? $" <{name}>" : "");
        return encoding is { } bits ? $"{where} ({RiscvDisassembler.Disassemble(bits, pc, Symbols.NameAt).Replace('\t', ' ')})" : where;
    }

    /// <summary>gdb's info registers: every integer register by ABI name, in hex and decimal, then pc.</summary>
    private string InfoRegisters()
    {
        var text = new StringBuilder();
        for (int i = 1; i < 32; i++)
        {
            ulong v = Hart.GetX(i);
            text.Append($"{Debugger.Timeline.RegisterNames.Name(new HartRegister(RegisterFile.Integer, i)),-8} 0x{v:x16}  {(long)v}\n");
        }
        text.Append($"pc       0x{Hart.Pc:x16}" + (Symbols.NameAt(Hart.Pc) is { } name ? $"  <{name}>" : ""));
        return text.ToString();
    }

    private CommandResult InfoBreakpoints() =>
        new(_points.Count == 0 ? "no breakpoints or watchpoints" : string.Join('\n', _points.Select(p => p.ToString())));

    private CommandResult DeletePoint(string argument)
    {
        if (!int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out int number))
            return CommandResult.Error($"delete: '{argument}' is not a breakpoint number (see info b)");
        return Delete(number) ? new CommandResult($"deleted {number}") : CommandResult.Error($"delete: no breakpoint {number}");
    }

    /// <summary>gdb's x/NFU: N units (default 8), format x, unit b/h/w/g (default w, as in gdb).</summary>
    private CommandResult Examine(string verb, string argument)
    {
        string spec = verb.Length > 2 ? verb[2..] : "";
        int i = 0;
        while (i < spec.Length && char.IsAsciiDigit(spec[i])) i++;
        int count = i == 0 ? 8 : int.TryParse(spec[..i], out int n) ? n : -1;
        if (count is < 1 or > 4096) return CommandResult.Error($"x: bad count in '{verb}' (1 to 4096)");
        int unit = 4;
        foreach (char c in spec[i..])
        {
            switch (c)
            {
                case 'x': break;
                case 'b': unit = 1; break;
                case 'h': unit = 2; break;
                case 'w': unit = 4; break;
                case 'g': unit = 8; break;
                default: return CommandResult.Error($"x: unknown format letter '{c}' (x with b, h, w or g)");
            }
        }
        if (argument.Length == 0) return CommandResult.Error("x: give an address (x/16x sp, x/4g 0x80001000)");
        if (!TryAddress(argument.TrimStart('*'), out ulong address)) return CommandResult.Error($"x: bad address '{argument}'");
        var bytes = new byte[count * unit];
        if (!ReadMemory(address, bytes)) return CommandResult.Error($"x: cannot read {bytes.Length} bytes at 0x{address:x}");

        int perLine = Math.Max(1, 16 / unit);
        var text = new StringBuilder();
        for (int k = 0; k < count; k++)
        {
            if (k % perLine == 0)
            {
                if (k > 0) text.Append('\n');
                ulong lineAddress = address + (ulong)(k * unit);
                text.Append($"0x{lineAddress:x}");
                if (Symbols.NameAt(lineAddress) is { } name) text.Append($" <{name}>");
                text.Append(':');
            }
            ulong value = 0;
            for (int b = unit - 1; b >= 0; b--) value = value << 8 | bytes[k * unit + b]; // little-endian
            text.Append(' ').Append("0x").Append(value.ToString($"x{unit * 2}", CultureInfo.InvariantCulture));
        }
        return new CommandResult(text.ToString());
    }
}
