using System.Globalization;
using System.Text;
using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Expressions;
using ReplayVm.Debugger.Frames;
using ReplayVm.Debugger.Symbols;
using ReplayVm.Debugger.Symbols.Info;
using ReplayVm.Replay;
using ReplayVm.Replay.Timeline;

namespace ReplayVm.Tui.Session;

/// <summary>
/// Source-level debugging: step/next/finish/until by line and frame, forwards and backwards; the
/// backtrace; print and display of C expressions over the guest's variables (DWARF .debug_info,
/// .debug_frame). Read from the first ELF image of the trace that carries .debug_info.
/// </summary>
public sealed partial class DebugSession
{
    private readonly List<(int Number, string Expression)> _displays = [];
    private int _nextDisplay = 1, _history;
    private (DebugInfo Info, CallFrameTable Cfi, string? Error)? _dwarf;
    private SourceStepper? _stepper;

    /// <summary>The guest's .debug_info (empty without one; <see cref="DwarfError"/> says why one could not be read).</summary>
    public DebugInfo Info => Dwarf.Info;
    public CallFrameTable Cfi => Dwarf.Cfi;
    public string? DwarfError => Dwarf.Error;
    private SourceStepper Stepper => _stepper ??= new SourceStepper(Timeline, Lines, Info, Cfi);

    private (DebugInfo Info, CallFrameTable Cfi, string? Error) Dwarf => _dwarf ??= ReadDwarf(Timeline.Trace.Header.Setup);

    private static (DebugInfo, CallFrameTable, string?) ReadDwarf(MachineSetup setup)
    {
        foreach (var image in setup.Images)
        {
            if (image.Bytes.Length < 4 || image.Bytes[0] != 0x7f || image.Bytes[1] != 'E') continue;
            try
            {
                var sections = ElfSections.Read(image.Bytes);
                if (sections.Data(".debug_info") is null) continue;
                return (DebugInfo.Read(sections), CallFrameTable.Read(sections), null);
            }
            catch (DwarfFormatException e)
            {
                return (DebugInfo.Empty, CallFrameTable.Empty, $"no debug info: {e.Message}");
            }
        }
        return (DebugInfo.Empty, CallFrameTable.Empty, null);
    }

    /// <summary>Expressions shown in the watch pane after every move (gdb's display), numbered.</summary>
    public IReadOnlyList<(int Number, string Expression)> Displays => _displays;

    /// <summary>Whether pc has DWARF line info (source-level steps then go by line, else by instruction).</summary>
    public bool HasLineInfoAtPc => Lines.RangeAt(Hart.Pc) is not null;

    // ---- movements ----

    public TimelineStop SourceStep(CancellationToken cancel = default) => Move(() => Stepper.Step(over: false, cancel));
    public TimelineStop SourceNext(CancellationToken cancel = default) => Move(() => Stepper.Step(over: true, cancel));
    public TimelineStop SourceStepBack(CancellationToken cancel = default) => Move(() => Stepper.StepBack(over: false, cancel));
    public TimelineStop SourceNextBack(CancellationToken cancel = default) => Move(() => Stepper.StepBack(over: true, cancel));
    public TimelineStop Finish(CancellationToken cancel = default) => Move(() => Stepper.Finish(cancel, BreakpointAddresses, WatchRanges));
    public TimelineStop ReverseFinish(CancellationToken cancel = default) => Move(() => Stepper.ReverseFinish(cancel));
    public TimelineStop Until(CancellationToken cancel = default) => Move(() => Stepper.Until(cancel));

    // ---- frames ----

    public IReadOnlyList<StackFrame> Backtrace() => Stepper.Unwinder.Unwind(Hart);

    /// <summary>"#1  0x80000abc in cmd_add (name=0x...) at shell.c:180", one line per frame, as gdb's backtrace.</summary>
    public IReadOnlyList<string> BacktraceLines()
    {
        var lines = new List<string>();
        foreach (var frame in Backtrace())
        {
            string function = frame.Function?.Name ?? Symbols.NameAt(frame.Pc)?.Split('+')[0] ?? "??";
            var text = new StringBuilder($"#{frame.Level}  ");
            var location = Lines.LineAt(frame.LookupPc);
            // gdb shows the pc of a caller frame (it is mid-line), and of frame 0 when it is not at the start of a line.
            if (frame.Level > 0 || Lines.RangeAt(frame.Pc) is not { } r || r.Start != frame.Pc) text.Append($"0x{frame.Pc:x16} in ");
            text.Append(function).Append(" (").Append(Arguments(frame)).Append(')');
            if (location is { Line: > 0 }) text.Append($" at {location}");
            lines.Add(text.ToString());
        }
        return lines;
    }

    private string Arguments(StackFrame frame)
    {
        if (frame.Function is not { } function) return "";
        var evaluator = Evaluator(frame);
        var formatter = Formatter();
        return string.Join(", ", function.Children.Where(c => c.Tag == DwarfTag.FormalParameter && c.Name is not null).Select(p =>
        {
            try { return $"{p.Name}={formatter.Format(evaluator.Load(p)).Replace("(" + Debugger.Expressions.TypeInfo.Name(p.Type) + ") ", "")}"; }
            catch (ExpressionException e) { return $"{p.Name}=<error: {e.Message}>"; }
        }));
    }

    /// <summary>The locals of frame 0's scopes, innermost first (then the parameters), "name = value" as gdb's info locals.</summary>
    public IReadOnlyList<string> LocalLines()
    {
        var frames = Backtrace();
        if (frames.Count == 0 || frames[0].Function is null) return [];
        var frame = frames[0];
        var evaluator = Evaluator(frame);
        var formatter = Formatter();
        var lines = new List<string>();
        foreach (var scope in Info.ScopesAt(frame.LookupPc))
        {
            bool function = scope.Tag is DwarfTag.Subprogram;
            foreach (var variable in DebugInfo.VariablesOf(scope))
            {
                if (variable.Tag == DwarfTag.FormalParameter && !function) continue;
                lines.Add($"{variable.Name} = {Safe(() => formatter.Format(evaluator.Load(variable)))}");
            }
            if (scope.Tag == DwarfTag.Subprogram) break;
        }
        return lines;
    }

    private static string Safe(Func<string> format)
    {
        try { return format(); }
        catch (ExpressionException e) { return $"<error: {e.Message}>"; }
        catch (DwarfFormatException e) { return $"<error: {e.Message}>"; }
    }

    private ExpressionEvaluator Evaluator(StackFrame frame) => new(Info, frame, name => Symbols.Find(name));

    private ValueFormatter Formatter() => new(DataSymbolAt, (address, length) =>
    {
        var bytes = new byte[length];
        return ReadMemory(address, bytes) ? bytes : null;
    });

    /// <summary>gdb labels a pointer with the symbol it points into (its msymbol), only when the address lies inside it.</summary>
    private string? DataSymbolAt(ulong address)
    {
        // gdb writes the offset in decimal: <state+6>.
        if (Symbols.NameAt(address) is not { } name) return null;
        int plus = name.LastIndexOf("+0x", StringComparison.Ordinal);
        return plus < 0 ? name : name[..plus] + "+" + ulong.Parse(name.AsSpan(plus + 3), NumberStyles.HexNumber, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Evaluates <paramref name="expression"/> in frame 0.</summary>
    public DebugValue Evaluate(string expression)
    {
        var frames = Backtrace();
        if (Info.IsEmpty && DwarfError is { } error) throw new ExpressionException(error);
        return Evaluator(frames[0]).Evaluate(expression);
    }

    public string FormatValue(DebugValue value) => Formatter().Format(value);

    /// <summary>The watch pane: each display expression and its value now.</summary>
    public IReadOnlyList<string> DisplayLines() =>
        _displays.Select(d => $"{d.Number}: {d.Expression} = {Safe(() => FormatValue(Evaluate(d.Expression)))}").ToList();

    // ---- commands ----

    private CommandResult Print(string expression)
    {
        if (expression.Length == 0) return CommandResult.Error("print: give an expression (p state.secret, p *dst, p $a0)");
        try
        {
            var value = Evaluate(expression);
            return new CommandResult($"${++_history} = {FormatValue(value)}");
        }
        catch (ExpressionException e)
        {
            return CommandResult.Error(e.Message);
        }
    }

    private CommandResult Display(string expression)
    {
        if (expression.Length == 0)
            return new CommandResult(_displays.Count == 0 ? "no display expressions (display EXPR adds one)" : string.Join('\n', DisplayLines()));
        int number = _nextDisplay++;
        _displays.Add((number, expression));
        return new CommandResult(DisplayLines().First(l => l.StartsWith($"{number}: ", StringComparison.Ordinal)));
    }

    private CommandResult Undisplay(string argument)
    {
        if (!int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || _displays.RemoveAll(d => d.Number == number) == 0)
            return CommandResult.Error($"undisplay: no display number '{argument}'");
        return new CommandResult($"display {number} removed");
    }

    /// <summary>
    /// <c>watch EXPR</c> on a C lvalue (state.secret, arr[3], *p, a whole struct): the bytes of its
    /// type at its address, as gdb's <c>watch -l</c>. A value not in memory says why it cannot be watched.
    /// </summary>
    private CommandResult WatchExpression(string verb, string expression, WatchAccess access)
    {
        DebugValue value;
        try
        {
            value = Evaluate(expression);
        }
        catch (ExpressionException e)
        {
            return CommandResult.Error($"{verb}: {e.Message}");
        }
        if (value.Address is not { } address)
            return CommandResult.Error(value.Location switch
            {
                ValueLocation.Computed when value.Type is null => $"{verb}: Cannot watch constant value `{expression}'.",
                ValueLocation.Unavailable => $"{verb}: '{expression}' is optimized out here: nothing to watch",
                _ => $"{verb}: '{expression}' lives in a register or is computed here, not in memory: nothing to watch",
            });
        ulong size = Debugger.Expressions.TypeInfo.SizeOf(value.Type);
        if (size is 0 or > 4096) return CommandResult.Error($"{verb}: '{expression}' is {size} bytes; a watchpoint covers 1 to 4096");
        var point = AddWatchpoint(address, size, access);
        string what = access switch { WatchAccess.Read => "reads of", WatchAccess.Access => "reads and writes of", _ => "writes to" };
        return new CommandResult($"watchpoint {point.Number} on {what} {expression} ({Debugger.Expressions.TypeInfo.Name(value.Type)}, {size} bytes at 0x{address:x})");
    }
}
