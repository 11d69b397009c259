using System.Text;
using ReplayVm.Core.Hart;
using ReplayVm.Debugger.Disassembly;
using ReplayVm.Debugger.Symbols;
using ReplayVm.Debugger.Timeline;
using ReplayVm.Replay;
using ReplayVm.Replay.Diff;
using ReplayVm.Replay.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Tui.Session;

/// <summary>
/// Two recordings debugged side by side, with no UI: a <see cref="DebugSession"/> for each run, locked
/// together by step (B stands at A's step plus <see cref="Offset"/>), and the
/// <see cref="TimelinePair"/> that knows where they part. Run A leads: its breakpoints, watchpoints
/// and stepping decide where a movement stops, and B follows to the same step. Divergence commands
/// move both to a step where the runs part; queries (print, x, info registers, last-write) answer
/// for both. Not thread-safe: one command at a time, as <see cref="DebugSession"/>.
/// </summary>
public sealed class DiffSession
{
    public const string CommandHelp =
        "first-divergence  next-divergence  prev-divergence  diverge REG|*ADDR  offset [+-]N  info diff  " +
        "(and every debugger command: movements run A and B follows; print, x, info registers, last-write answer for both)";

    /// <summary>Verbs that move: run on A, then B follows.</summary>
    private static readonly HashSet<string> Movements =
    [
        "s", "step", "n", "next", "rs", "reverse-step", "rn", "reverse-next", "fin", "finish", "reverse-finish", "u", "until",
        "c", "continue", "rc", "reverse-continue", "si", "stepi", "rsi", "reverse-stepi", "ni", "nexti", "rni", "reverse-nexti",
        "goto", "next-trap", "prev-trap", "next-irq", "prev-irq",
    ];

    /// <summary>Verbs that only look: answered by both runs.</summary>
    private static readonly HashSet<string> Queries = ["p", "print", "output", "inspect", "x", "bt", "backtrace", "where", "last-write", "info"];

    /// <summary>Throws <see cref="ArgumentException"/> when the two traces cannot be compared (see <see cref="TimelinePair.Incomparable"/>).</summary>
    public DiffSession(ReplayTimeline a, ReplayTimeline b, SourceFiles? sources = null)
    {
        Pair = new TimelinePair(a, b);
        sources ??= new SourceFiles([Directory.GetCurrentDirectory()]);
        A = new DebugSession(a) { Sources = sources };
        B = new DebugSession(b) { Sources = sources };
        LastStop = SetupDifferences.Count > 0
            ? "the traces describe different machines: " + string.Join("; ", SetupDifferences)
            : "at step 0 in both runs";
    }

    public DebugSession A { get; }
    public DebugSession B { get; }
    public TimelinePair Pair { get; }

    /// <summary>B's step minus A's: 0 locks the runs step for step; another value aligns runs whose inputs came at different times.</summary>
    public long Offset { get; private set; }

    public IReadOnlyList<string> SetupDifferences => Pair.SetupDifferences;

    /// <summary>What the last command or movement reported, for the status line.</summary>
    public string LastStop { get; private set; }

    /// <summary>The divergence the last divergence command landed on, for the status line ("differ at step N").</summary>
    public ulong? CurrentDivergence { get; private set; }

    /// <summary>How the states differ at the current step (offset 0 only; null when equal or offset), computed once per position.</summary>
    public StateDivergence? Differences
    {
        get
        {
            if (Offset != 0) return null;
            if (_differencesAt != A.Position)
            {
                _differences = Pair.DifferencesNow();
                _differencesAt = A.Position;
            }
            return _differences;
        }
    }

    private StateDivergence? _differences;
    private ulong? _differencesAt;

    /// <summary>One line: both positions and whether the runs differ here.</summary>
    public string PositionLine
    {
        get
        {
            string where = Offset == 0 ? $"step {A.Position}" : $"A step {A.Position}, B step {B.Position} (offset {Offset:+#;-#;0})";
            string state = Offset != 0 ? "" : Differences is null ? " · equal here" : " · differ here";
            string divergence = CurrentDivergence is { } d ? $" · differ at step {d}" : "";
            return where + state + divergence;
        }
    }

    // ---- movements ----

    /// <summary>Runs <paramref name="move"/> on A, then brings B to A's step plus the offset.</summary>
    public TimelineStop Move(Func<DebugSession, TimelineStop> move, CancellationToken cancel = default)
    {
        var stop = move(A);
        Follow(cancel);
        LastStop = $"A: {A.LastStop}" + (B.Position == Target ? "" : $" · B stops at step {B.Position}");
        return stop;
    }

    private ulong Target
    {
        get
        {
            long target = (long)A.Position + Offset;
            return target < 0 ? 0 : Math.Min((ulong)target, B.End);
        }
    }

    private void Follow(CancellationToken cancel = default)
    {
        B.Goto(Target, cancel);
        _differencesAt = null;
    }

    public TimelineStop StepInto() => Move(s => s.StepInto());
    public TimelineStop StepBack() => Move(s => s.StepBack());
    public TimelineStop Goto(ulong step, CancellationToken cancel = default) => Move(s => s.Goto(step, cancel), cancel);

    // ---- commands ----

    public CommandResult Execute(string line, CancellationToken cancel = default, IProgress<double>? progress = null)
    {
        string text = line.Trim();
        if (text.Length == 0) return new CommandResult("");
        int space = text.IndexOfAny([' ', '\t']);
        string verb = space < 0 ? text : text[..space];
        string argument = space < 0 ? "" : text[(space + 1)..].Trim();
        try
        {
            switch (verb)
            {
                case "first-divergence" or "fd":
                    return Divergence(() => Pair.First(cancel, progress), "first divergence");
                case "next-divergence" or "nd":
                    return Divergence(() => Pair.Next(A.Position, cancel, progress), "next divergence");
                case "prev-divergence" or "pd":
                    return Divergence(() => Pair.Previous(A.Position, cancel, progress), "previous divergence");
                case "diverge":
                    return Diverge(argument, cancel);
                case "offset":
                    return SetOffset(argument, cancel);
                case "info" when argument == "diff":
                    return new CommandResult(InfoDiff());
                case "help" or "h":
                    return new CommandResult(CommandHelp + "\n" + DebugSession.CommandHelp);
            }
            if (Movements.Contains(verb))
            {
                var result = A.Execute(text, cancel, progress);
                if (result.IsError) return result;
                Follow(cancel);
                CurrentDivergence = null;
                LastStop = $"A: {A.LastStop}" + (B.Position == Target ? "" : $" · B stops at step {B.Position}");
                return new CommandResult(LastStop);
            }
            if (Queries.Contains(verb) || verb.StartsWith("x/", StringComparison.Ordinal))
            {
                var a = A.Execute(text, cancel, progress);
                var b = B.Execute(text, cancel, progress);
                return new CommandResult($"A: {Indent(a.Text)}\nB: {Indent(b.Text)}", a.IsError && b.IsError);
            }
            // Breakpoints, watchpoints, display and the rest belong to the leading run.
            return A.Execute(text, cancel, progress);
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

    private static string Indent(string text) => text.Replace("\n", "\n   ", StringComparison.Ordinal);

    private CommandResult Divergence(Func<DivergenceAnswer> search, string what)
    {
        if (Offset != 0) return CommandResult.Error($"the runs are compared at equal steps: 'offset 0' first (now {Offset:+#;-#;0})");
        var answer = search();
        // The pair parked both timelines on the answer (or back where they were): let the sessions see it.
        A.Goto(A.Timeline.Position);
        B.Goto(A.Timeline.Position);
        _differencesAt = null;
        string cost = $"({answer.StepsReplayed} steps replayed, {answer.StepsCompared} compared one by one)";
        if (answer.Step is { } step)
        {
            CurrentDivergence = step;
            LastStop = $"{what}: differ at step {step} {cost}";
            return new CommandResult(LastStop + DescribeHere());
        }
        LastStop = $"{what}: {answer.Message} {cost}";
        return answer.Cancelled ? CommandResult.Error(LastStop) : new CommandResult(LastStop);
    }

    /// <summary>What differs at the current step, for a divergence's answer: registers by name, memory ranges.</summary>
    private string DescribeHere()
    {
        if (Differences is not { } d) return "";
        var text = new StringBuilder();
        text.Append($"\n  step {d.Step}: A at pc 0x{A.Hart.Pc:x}{Symbol(A, A.Hart.Pc)}, B at pc 0x{B.Hart.Pc:x}{Symbol(B, B.Hart.Pc)}");
        foreach (var x in d.IntegerRegisters) text.Append($"\n  {Registers.X((int)x.Id),-8} A 0x{x.AfterA:x16}  B 0x{x.AfterB:x16}");
        foreach (var f in d.FloatRegisters) text.Append($"\n  {Registers.F((int)f.Id),-8} A 0x{f.AfterA:x16}  B 0x{f.AfterB:x16}");
        foreach (var c in d.Csrs) text.Append($"\n  {CsrNames.Format((int)c.Id),-8} A {Value(c.AfterA)}  B {Value(c.AfterB)}");
        foreach (var o in d.Other) text.Append($"\n  {o.Name,-8} A 0x{o.A:x}  B 0x{o.B:x}");
        foreach (var m in d.Memory.Take(8))
            text.Append($"\n  memory 0x{m.Address:x} (+{m.Length})  A {Convert.ToHexStringLower(m.A)}  B {Convert.ToHexStringLower(m.B)}");
        return text.ToString();
    }

    private static string Value(ulong? value) => value is { } v ? $"0x{v:x16}" : "(none)";

    private static string Symbol(DebugSession session, ulong pc) => session.Symbols.NameAt(pc) is { } name ? $" <{name}>" : "";

    private CommandResult Diverge(string argument, CancellationToken cancel)
    {
        if (Offset != 0) return CommandResult.Error($"diverge compares the runs at equal steps: 'offset 0' first (now {Offset:+#;-#;0})");
        DivergeAnswer answer;
        if (!argument.StartsWith('*') && RegisterNames.TryParse(argument, out var register))
            answer = Pair.DivergeRegister(register, RegisterNames.Name(register), cancel);
        else if (argument.Length > 0 && AddressParser.TryParse(argument.TrimStart('*'), A.Hart, A.Symbols, out ulong address))
            answer = Pair.DivergeMemory(address, cancel);
        else
            return CommandResult.Error($"diverge: give a register or *ADDRESS that differs now (diverge a0, diverge *0x80001000), not '{argument}'");
        var text = new StringBuilder();
        text.Append($"{answer.What} differs since step {answer.Since} (now A 0x{answer.ValueA:x}, B 0x{answer.ValueB:x})");
        text.Append($"\n  A last wrote it {Write(A, answer.WriteA)}");
        text.Append($"\n  B last wrote it {Write(B, answer.WriteB)}");
        if (answer.InputDifference is { } input)
            text.Append($"\n  the inputs last differed at step {input.Step}: A {Input(input.A)}, B {Input(input.B)}");
        else
            text.Append("\n  the inputs do not differ before then (the setups do)");
        text.Append($"\n  goto {answer.Since} to see where it started");
        return new CommandResult(text.ToString());
    }

    private static string Write(DebugSession session, WriteSite? site) => site is null
        ? "never (it holds its value from the start)"
        : $"at step {site.Step} by pc 0x{site.Pc:x}{Symbol(session, site.Pc)}" +
          (site.Encoding is { } bits ? $" ({RiscvDisassembler.Disassemble(bits, site.Pc, session.Symbols.NameAt).Replace('\t', ' ')})" : "");

    /// <summary>An input event in words: "received 'wurld'" for console bytes.</summary>
    public static string Input(TraceEvent? e) => e switch
    {
        null => "nothing",
        ConsoleInputEvent c => $"received '{Printable(c.Bytes)}'",
        _ => InputLog.Summarise(e).ToString(),
    };

    public static string Printable(IEnumerable<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (byte b in bytes)
            text.Append(b switch { (byte)'\n' => "\\n", (byte)'\r' => "\\r", (byte)'\t' => "\\t", >= 0x20 and < 0x7F => ((char)b).ToString(), _ => $"\\x{b:x2}" });
        return text.ToString();
    }

    private CommandResult SetOffset(string argument, CancellationToken cancel)
    {
        if (argument.Length == 0) return new CommandResult($"offset {Offset:+#;-#;0}: B stands at A's step {(Offset >= 0 ? "plus" : "minus")} {Math.Abs(Offset)}");
        bool negative = argument.StartsWith('-');
        string digits = argument.TrimStart('+', '-');
        if (!AddressParser.TryParseNumber(digits, out ulong magnitude) || magnitude > long.MaxValue)
            return CommandResult.Error($"offset: '{argument}' is not a number of steps (offset 120, offset -120)");
        Offset = negative ? -(long)magnitude : (long)magnitude;
        Follow(cancel);
        CurrentDivergence = null;
        LastStop = $"offset {Offset:+#;-#;0}: B at step {B.Position} while A is at step {A.Position}";
        return new CommandResult(LastStop);
    }

    private string InfoDiff()
    {
        var text = new StringBuilder();
        text.Append(SetupDifferences.Count == 0 ? "same machine setup" : "different machine setups:\n  " + string.Join("\n  ", SetupDifferences));
        text.Append($"\ncompared up to step {Pair.ScannedTo} of {Pair.Limit}");
        text.Append($"\ndivergences found: {(Pair.KnownDivergences.Count == 0 ? "none yet" : string.Join(", ", Pair.KnownDivergences))}");
        if (Pair.KnownJoins.Count > 0) text.Append($"\nequal again at: {string.Join(", ", Pair.KnownJoins)}");
        return text.ToString();
    }

    /// <summary>Input events of one run within a few of the current step (for the inputs pane).</summary>
    public IReadOnlyList<InputEventSummary> InputsNear(bool sideB, int before = 3, int after = 3) =>
        (sideB ? Pair.InputsB : Pair.InputsA).Near(sideB ? B.Position : A.Position, before, after);
}
