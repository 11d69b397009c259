using Terminal.Gui.App;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using ReplayVm.Tui.Panes;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Views;

/// <summary>
/// Two recordings in one window (<see cref="DiffSession"/>): each run's code side by side, both
/// runs' registers and memory in one pane each with the differing values marked, each run's
/// console with the first differing byte marked, and the input events near the current step.
/// Keys are the debugger's (A leads, B follows by step) plus the divergence keys. Commands run on a
/// worker thread as in <see cref="DebuggerWindow"/>; Esc cancels a long search.
/// </summary>
public sealed class DiffWindow : Window
{
    public const string HelpText =
        "Two runs locked by step: A leads (its breakpoints and watchpoints stop a movement), B follows\n" +
        "to the same step (plus the offset: 'offset N').\n\n" +
        "d / D       next / previous divergence (a step where the runs part after being equal)\n" +
        "F7          first divergence (the step 'replayvm diff' reports)\n" +
        "F5 / c      continue              Shift-F5 / C   reverse-continue\n" +
        "F10 / n     next line (over calls)         Shift-F10 / N  reverse-next\n" +
        "F11 / s     step into the next line        S              reverse-step\n" +
        "Shift-F11/f finish                         F              reverse-finish\n" +
        "F9          toggle breakpoint at A's pc    Home / End     start / end\n" +
        ":  or  Tab  the command line               PgUp / PgDn    scroll the output pane\n" +
        "Esc         cancel a running command or the command line (never quits)\n" +
        "q / Ctrl-Q  quit                           F1             this help\n\n" +
        "Commands: first-divergence, next-divergence, prev-divergence, diverge REG|*ADDR (where a value\n" +
        "          that differs now started to differ, and the last write on each side), offset [+-]N,\n" +
        "          info diff, mem ADDR, and every debugger command (b, watch, c, rc, s, si, goto, p, x, ...).\n\n" +
        "Marked values (highlighted, '!' after them) differ between the runs at this step; the\n" +
        "consoles mark their output from the first byte where they differ.";

    private readonly DiffSession _session;
    private readonly StyledTextView _codeA, _codeB, _registers, _memory, _consoleA, _consoleB, _inputs, _output;
    private readonly FrameView _codeFrameA, _codeFrameB, _consoleFrameA, _consoleFrameB;
    private readonly OutputLog _log = new();
    private readonly TextField _command;
    private readonly Label _status;
    private ulong? _memoryAddress;
    private int _outputVersion = -1;
    private CancellationTokenSource? _running;
    private Task? _worker;
    private bool _commandMode;

    public DiffWindow(DiffSession session, string title)
    {
        _session = session;
        Title = $"replayvm debug — {title}";
        BorderStyle = LineStyle.None;

        _codeFrameA = Pane("Code A", 0, 0, Dim.Percent(50), Dim.Percent(34), _codeA = new StyledTextView());
        _codeFrameB = Pane("Code B", Pos.Right(_codeFrameA), 0, Dim.Fill(), Dim.Percent(34), _codeB = new StyledTextView());
        var registerFrame = Pane("Registers (A | B)", 0, Pos.Bottom(_codeFrameA), Dim.Percent(50), Dim.Percent(30), _registers = new StyledTextView());
        var memoryFrame = Pane("Memory (A | B; mem ADDR)", Pos.Right(registerFrame), Pos.Bottom(_codeFrameA), Dim.Fill(), Dim.Percent(30), _memory = new StyledTextView());
        _consoleFrameA = Pane("Console A", 0, Pos.Bottom(registerFrame), Dim.Percent(25), Dim.Fill(8), _consoleA = new StyledTextView());
        _consoleFrameB = Pane("Console B", Pos.Right(_consoleFrameA), Pos.Bottom(registerFrame), Dim.Percent(25), Dim.Fill(8), _consoleB = new StyledTextView());
        var inputFrame = Pane("Inputs near this step", Pos.Right(_consoleFrameB), Pos.Bottom(registerFrame), Dim.Fill(), Dim.Fill(8), _inputs = new StyledTextView());
        var outputFrame = Pane("Output (PgUp/PgDn)", 0, Pos.AnchorEnd(8), Dim.Fill(), 5, _output = new StyledTextView());

        var prompt = new Label { X = 0, Y = Pos.AnchorEnd(3), Text = "> " };
        _command = new TextField { X = 2, Y = Pos.AnchorEnd(3), Width = Dim.Fill() };
        _status = new Label { X = 0, Y = Pos.AnchorEnd(2), Width = Dim.Fill(), Text = "", HotKeySpecifier = new System.Text.Rune(0xFFFF) };
        var statusBar = new StatusBar(
        [
            Shortcut(Key.F1, "Help", ShowHelp),
            Shortcut(Key.F7, "First diff", () => Run("first-divergence")),
            Shortcut(Key.D, "Next diff", () => Run("next-divergence")),
            Shortcut(Key.F5, "Cont", () => Run("c")),
            Shortcut(Key.F5.WithShift, "Rev", () => Run("rc")),
            Shortcut(Key.F10, "Over", () => Run("n")),
            Shortcut(Key.F11, "Step", () => Run("s")),
            Shortcut(Key.Q, "Quit", Quit),
        ]);
        _command.Accepting += (_, e) =>
        {
            e.Handled = true;
            string line = _command.Text ?? "";
            _command.Text = "";
            _commandMode = false;
            if (_running is null) RunCommand(line);
            else _status.Text = "a command is running (Esc cancels it)";
        };
        Add(_codeFrameA, _codeFrameB, registerFrame, memoryFrame, _consoleFrameA, _consoleFrameB, inputFrame, outputFrame, prompt, _command, _status, statusBar);
        AddCommand(Command.Quit, () => true); // Esc never quits
        Initialized += (_, _) =>
        {
            if (App is { } app) app.Keyboard.KeyDown += OnKey;
            string opening = _session.SetupDifferences.Count > 0
                ? _session.LastStop
                : "two runs at step 0 · F7 first divergence · d/D next/previous · F1 help · q quit";
            if (_session.SetupDifferences.Count > 0) _log.Result(string.Join('\n', ["the traces describe different machines:", .. _session.SetupDifferences.Select(d => "  " + d)]));
            Refresh(opening);
        };
    }

    /// <summary>Tests run commands on the UI thread so they need no main loop to finish them.</summary>
    internal bool RunMovesInline { get; set; }

    public bool QuitRequested { get; private set; }

    internal StyledTextView RegistersPane => _registers;
    internal StyledTextView MemoryPane => _memory;
    internal StyledTextView ConsolePaneA => _consoleA;
    internal StyledTextView ConsolePaneB => _consoleB;
    internal StyledTextView InputsPane => _inputs;
    internal StyledTextView CodePaneA => _codeA;
    internal StyledTextView CodePaneB => _codeB;
    internal FrameView ConsoleFrameA => _consoleFrameA;
    internal string StatusText => _status.Text ?? "";
    internal List<string> OutputLines => _log.Lines.Select(l => l.Text).ToList();

    private static Shortcut Shortcut(Key key, string title, Action action) =>
        new(key, title, action) { BindKeyToApplication = false, CanFocus = false };

    private static FrameView Pane(string title, Pos x, Pos y, Dim width, Dim height, View content)
    {
        var frame = new FrameView { Title = title, X = x, Y = y, Width = width, Height = height, CanFocus = false };
        frame.Add(content);
        return frame;
    }

    // ---- keys ----

    private void OnKey(object? sender, Key key)
    {
        if (App?.TopRunnableView is { } top && top != this) return;
        if (key == Key.Esc)
        {
            if (_commandMode) LeaveCommandMode("command cancelled");
            else if (_running is not null) _running.Cancel();
            else Refresh("nothing to cancel (q or Ctrl-Q quits)");
            key.Handled = true;
            return;
        }
        if (key == Key.PageUp || key == Key.PageDown)
        {
            int page = Math.Max(1, _output.Viewport.Height - 1);
            _output.TopLine += key == Key.PageUp ? -page : page;
            key.Handled = true;
            return;
        }
        if (key == Key.Q.WithCtrl)
        {
            _running?.Cancel();
            Quit();
            key.Handled = true;
            return;
        }
        if (_commandMode) return; // the field's keys
        if (_running is not null)
        {
            if (key == Key.Tab || key.AsRune.Value == ':') EnterCommandMode();
            key.Handled = true;
            return;
        }
        string? command = CommandFor(key);
        if (command is not null) Run(command);
        else if (key == Key.Q) Quit();
        else if (key == Key.F1) ShowHelp();
        else if (key == Key.F9) Refresh(_session.A.ToggleBreakpointAtPc() ? $"breakpoint set at 0x{_session.A.Hart.Pc:x} (run A)" : "breakpoint removed");
        else if (key == Key.Tab || key.AsRune.Value == ':') EnterCommandMode();
        else if (key.AsRune.Value < 0x20 && key != Key.Home && key != Key.End) return;
        else if (key.AsRune.Value is > 0x20 and < 0x7F && !key.IsCtrl && !key.IsAlt)
        {
            // As in the one-run window and gdb's TUI SingleKey mode: a key that is no binding opens the
            // command line and is typed there (the field, now focused, takes this key).
            EnterCommandMode();
            return;
        }
        key.Handled = true;
    }

    /// <summary>The command a key stands for, or null.</summary>
    private string? CommandFor(Key key)
    {
        if (key == Key.F7) return "first-divergence";
        if (key == Key.D) return "next-divergence";
        if (key == Key.D.WithShift) return "prev-divergence";
        if (MovementKeys.For(key, letters: true) is { } movement) return MovementKeys.Command(movement);
        if (key == Key.Home) return "goto 0";
        if (key == Key.End) return $"goto {_session.A.End}";
        return null;
    }

    private void EnterCommandMode()
    {
        _commandMode = true;
        _command.SetFocus();
        _status.Text = "command: Enter runs it, Esc cancels";
    }

    private void LeaveCommandMode(string message)
    {
        _command.Text = "";
        _commandMode = false;
        Refresh(message);
    }

    private void Quit()
    {
        QuitRequested = true;
        App?.RequestStop();
    }

    // ---- commands ----

    private void Run(string command)
    {
        if (_running is not null) return;
        RunCommand(command, echo: false);
    }

    private void RunCommand(string line, bool echo = true)
    {
        string trimmed = line.Trim();
        if (trimmed.Length == 0) return;
        if (echo) _log.Command(trimmed);
        if (trimmed == "mem" || trimmed.StartsWith("mem ", StringComparison.Ordinal))
        {
            string where = trimmed[3..].Trim();
            if (AddressParser.TryParse(where, _session.A.Hart, _session.A.Symbols, out ulong address))
            {
                _memoryAddress = address;
                Answer($"memory pane at 0x{address:x}");
            }
            else Answer($"mem: bad address '{where}'");
            return;
        }
        bool toOutput = echo || trimmed.Contains("divergence", StringComparison.Ordinal);
        if (RunMovesInline)
        {
            Finish(Attempt(trimmed, default), toOutput);
            return;
        }
        var cancel = new CancellationTokenSource();
        _running = cancel;
        _status.Text = "running… (Esc cancels)";
        _worker = Task.Run(() =>
        {
            string answer = Attempt(trimmed, cancel.Token);
            App?.Invoke(() =>
            {
                _running = null;
                cancel.Dispose();
                Finish(answer, toOutput);
            });
        });
    }

    private string Attempt(string line, CancellationToken cancel)
    {
        try
        {
            var progress = new Progress<double>(f => App?.Invoke(() => { if (_running is not null) _status.Text = $"running… {f:P0} (Esc cancels)"; }));
            return _session.Execute(line, cancel, progress).Text;
        }
        catch (Exception e)
        {
            return $"error: {e.Message}";
        }
    }

    private void Finish(string answer, bool toOutput)
    {
        if (toOutput) Answer(answer); else Refresh(answer);
    }

    private void Answer(string message)
    {
        _log.Result(message);
        Refresh(message);
    }

    internal Task? Worker => _running is null ? null : _worker;

    public void CancelAndWait(TimeSpan timeout)
    {
        try
        {
            _running?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        _worker?.Wait(timeout);
    }

    private void ShowHelp()
    {
        if (App is not { } app) return;
        using var dialog = new Dialog { Title = "Help" };
        dialog.Add(new Label { X = 1, Y = 0, Text = HelpText, TextAlignment = Alignment.Start, HotKeySpecifier = new System.Text.Rune(0xFFFF) });
        dialog.AddButton(new Button { Text = "OK" });
        app.Run(dialog);
    }

    // ---- drawing ----

    private void Refresh(string message)
    {
        var differences = _session.Differences;
        ShowCode(_codeA, _codeFrameA, "A", _session.A, _session.B);
        ShowCode(_codeB, _codeFrameB, "B", _session.B, _session.A);
        _registers.Lines = DiffLines.Registers(_session, differences);
        ulong memoryAt = _memoryAddress ?? differences?.Memory.FirstOrDefault()?.Address ?? _session.A.Hart.GetX(2);
        _memory.Lines = DiffLines.Memory(_session, memoryAt & ~7UL, Math.Max(4, _memory.Viewport.Height), Math.Max(_memory.Viewport.Width, 40));
        var (consoleA, consoleB, firstDifference) = DiffLines.Consoles(_session);
        _consoleA.Lines = consoleA;
        _consoleB.Lines = consoleB;
        _consoleA.TopLine = consoleA.Count;
        _consoleB.TopLine = consoleB.Count;
        string mark = firstDifference is { } k ? $" (differ from byte {k})" : "";
        _consoleFrameA.Title = $"Console A{mark}";
        _consoleFrameB.Title = $"Console B{mark}";
        _inputs.Lines = DiffLines.Inputs(_session);
        if (_log.Version != _outputVersion)
        {
            _outputVersion = _log.Version;
            _output.Lines = [.. _log.Lines];
            _output.TopLine = _log.Lines.Count;
        }
        _status.Text = $"{_session.PositionLine} · {message.Split('\n')[0]}";
    }

    private static void ShowCode(StyledTextView pane, FrameView frame, string side, DebugSession session, DebugSession other)
    {
        var lines = CodeLines.Style(PaneText.Code(session));
        pane.Lines = lines;
        pane.Reveal(CodeLines.CurrentLine(lines));
        bool samePc = session.Hart.Pc == other.Hart.Pc;
        frame.Title = $"Code {side} — step {session.Position}, pc 0x{session.Hart.Pc:x}" + (samePc ? "" : " (pc differs!)");
    }
}
