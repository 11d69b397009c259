using Terminal.Gui.App;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using ReplayVm.Replay.Timeline;
using ReplayVm.Tui.Panes;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Views;

/// <summary>
/// The debugger's one window: titled panes showing the session (code, registers, memory, console,
/// breakpoints, timeline), a command line, a status line for the last stop or a running movement's
/// progress, and a <see cref="StatusBar"/> of keys. Long movements run on a worker thread so the UI
/// keeps drawing; only one runs at a time and Esc cancels it. Below <see cref="MinWidth"/> ×
/// <see cref="MinHeight"/> the panes give way to a message asking for a bigger terminal.
/// </summary>
public sealed class DebuggerWindow : Window
{
    public const int MinWidth = 80, MinHeight = 24;

    public const string HelpText =
        "F5 / c      continue              Shift-F5 / C   reverse-continue\n" +
        "F10 / n     next line (over calls)         Shift-F10 / N  reverse-next\n" +
        "F11 / s     step into the next line        S              reverse-step\n" +
        "Shift-F11/f finish (out of the function)   F              reverse-finish\n" +
        "            (by instruction where the guest has no line info; si, ni, rsi, rni always are)\n" +
        "F9          toggle breakpoint at pc\n" +
        "Home / End  start / end of the recording\n" +
        "[ / ]       previous / next input event    (or click on the timeline bar)\n" +
        "T / t       previous / next trap (exception or ecall)     I / i  previous / next interrupt\n" +
        "< / >       narrow / widen the code column  (or Ctrl-Left / Ctrl-Right)\n" +
        "- / +       shrink / grow the code pane     (or Ctrl-Up / Ctrl-Down)\n" +
        "r           registers: next section (integer, CSRs, floating point)\n" +
        "Esc         cancel: a running command, the command line, this help (Esc never quits)\n" +
        "            (live session: while the guest runs, keys go to it; Esc pauses it)\n" +
        ":  or  Tab  go to the command line; Enter runs the command (typed while one runs: it runs next)\n" +
        "            any other key (b, p, w, x, d, u...) opens it too and is typed there: b copy_name\n" +
        "PgUp / PgDn scroll the output pane (every command with its whole answer)\n" +
        "q / Ctrl-Q  quit (a live session asks first)    F1  this help\n\n" +
        "Commands: b SYMBOL|*ADDR|FILE:LINE, watch|rwatch|awatch EXPR|*ADDR [LEN], c, rc, s, n, finish, until,\n" +
        "          until LOC, advance LOC (run to LOC: FUNCTION, FILE:LINE, LINE or *ADDR, or until this frame returns),\n" +
        "          rs, rn, reverse-finish, si, rsi, ni, rni, p EXPR, display EXPR, undisplay N, bt, info locals,\n" +
        "          info registers, goto STEP, last-write REG|*ADDR, x/Nx ADDR|sp|REG, info b, delete N, mem ADDR,\n" +
        "          next-trap, prev-trap, next-irq, prev-irq\n\n" +
        "Timeline marks: # here, B breakpoint hit, i input, t trap, ! interrupt (found by a\n" +
        "background scan of the recording when it opens).\n\n" +
        "Values that changed on the last move are highlighted and marked *; the console shows\n" +
        "the guest's output as it was at the current step.";

    private readonly DebugSession _session;
    private readonly View _panes;
    private readonly FrameView _codeFrame, _registerFrame;
    private readonly StyledTextView _code, _registers, _memory, _points, _backtrace, _locals;
    private readonly StyledTextView _console, _output;
    private readonly OutputLog _log = new();
    private string _consoleText = "";
    private readonly TimelineView _timeline;
    private readonly TextField _command;
    private readonly Label _prompt, _status, _tooSmall;
    private readonly StatusBar _statusBar;
    private RegisterSnapshot _before;
    private ulong? _memoryAddress;
    private int _outputVersion = -1;
    private CancellationTokenSource? _running;
    private Task? _worker;
    /// <summary>Whether keys go to the command line (after ':' or Tab) rather than being debugger keys.</summary>
    private bool _commandMode;
    /// <summary>Commands entered while another was still running: they run in order when it finishes.</summary>
    private readonly Queue<string> _typedAhead = new();
    /// <summary>Whether q was pressed in a live session and the next key answers "quit?".</summary>
    private bool _confirmingQuit;
    private int _codeWidthPercent = 60, _codeHeightPercent = 60;

    public DebuggerWindow(DebugSession session, string title)
    {
        _session = session;
        _before = RegisterSnapshot.Capture(session.Hart);
        Title = $"replayvm debug — {title}";
        BorderStyle = LineStyle.None;

        _panes = new View { X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Fill(3), CanFocus = false };
        _codeFrame = Pane("Code", 0, 0, Dim.Percent(_codeWidthPercent), Dim.Percent(_codeHeightPercent), _code = new StyledTextView());
        // The code pane's right and bottom borders can be dragged; the other panes are laid out relative to it.
        _codeFrame.Arrangement = ViewArrangement.RightResizable | ViewArrangement.BottomResizable;
        _console = new StyledTextView();
        // Under the code: the guest's console and, beside it, the command line's history and answers.
        var consoleFrame = Pane("Console", 0, Pos.Bottom(_codeFrame), Dim.Func(_ => _codeFrame.Frame.Width / 2, _codeFrame), Dim.Fill(4), _console);
        _output = new StyledTextView();
        var outputFrame = Pane("Output (PgUp/PgDn)", Pos.Right(consoleFrame), Pos.Bottom(_codeFrame),
            Dim.Func(_ => _codeFrame.Frame.Width - _codeFrame.Frame.Width / 2, _codeFrame), Dim.Fill(4), _output);
        _registerFrame = Pane("Registers (r: next section)", Pos.Right(_codeFrame), 0, Dim.Fill(), Dim.Percent(40), _registers = new StyledTextView());
        var memoryFrame = Pane("Memory", Pos.Right(_codeFrame), Pos.Bottom(_registerFrame), Dim.Fill(), 7, _memory = new StyledTextView());
        var backtraceFrame = Pane("Backtrace", Pos.Right(_codeFrame), Pos.Bottom(memoryFrame), Dim.Fill(), 5, _backtrace = new StyledTextView());
        // Locals take half of what is left above the timeline; watches and breakpoints the rest.
        var localsFrame = Pane("Locals", Pos.Right(_codeFrame), Pos.Bottom(backtraceFrame), Dim.Fill(),
            Dim.Func(_ => Math.Max(2, (_panes.Frame.Height - 5 - backtraceFrame.Frame.Bottom) / 2), backtraceFrame), _locals = new StyledTextView());
        var pointFrame = Pane("Watch (display EXPR) and breakpoints", Pos.Right(_codeFrame), Pos.Bottom(localsFrame), Dim.Fill(), Dim.Fill(4), _points = new StyledTextView());
        var timelineFrame = Pane("Timeline ([ ] inputs, t/T traps, i/I interrupts, Home/End, click to seek)", 0, Pos.AnchorEnd(5), Dim.Fill(), 5, _timeline = new TimelineView());
        _timeline.SeekRequested += step => { if (_running is null) Seek(step); };
        _panes.Add(_codeFrame, consoleFrame, outputFrame, _registerFrame, memoryFrame, backtraceFrame, localsFrame, pointFrame, timelineFrame);

        _prompt = new Label { X = 0, Y = Pos.AnchorEnd(3), Text = "> " };
        _command = new TextField { X = 2, Y = Pos.AnchorEnd(3), Width = Dim.Fill() };
        // No hotkey specifier: symbol names such as copy_name contain the default '_'.
        _status = new Label { X = 0, Y = Pos.AnchorEnd(2), Width = Dim.Fill(), Text = "", HotKeySpecifier = new System.Text.Rune(0xFFFF) };
        _statusBar = new StatusBar(
        [
            Shortcut(Key.F1, "Help", ShowHelp),
            Shortcut(Key.F5, "Cont", () => StartMove(Key.F5)),
            Shortcut(Key.F5.WithShift, "Rev", () => StartMove(Key.F5.WithShift)),
            Shortcut(Key.F10, "Over", () => StartMove(Key.F10)),
            Shortcut(Key.F10.WithShift, "Back", () => StartMove(Key.F10.WithShift)),
            Shortcut(Key.F11, "Step", () => StartMove(Key.F11)),
            Shortcut(Key.F11.WithShift, "Finish", () => StartMove(Key.F11.WithShift)),
            Shortcut(Key.F9, "Break", ToggleBreakpoint),
            Shortcut(Key.Q, "Quit", RequestQuit),
        ]);
        _tooSmall = new Label { X = 0, Y = Pos.Center(), Width = Dim.Fill(), Visible = false, HotKeySpecifier = new System.Text.Rune(0xFFFF) };
        _command.Accepting += (_, e) =>
        {
            e.Handled = true;
            string line = _command.Text ?? "";
            _command.Text = "";
            _commandMode = false;
            if (_running is null) RunCommand(line);
            else if (line.Trim().Length > 0)
            {
                // Typed ahead while a command runs: it runs, in order, once the running one is done.
                _typedAhead.Enqueue(line);
                _status.Text = $"queued: {line.Trim()} (runs when the running command finishes; Esc cancels that)";
            }
        };
        Add(_panes, _prompt, _command, _status, _statusBar, _tooSmall);
        // Terminal.Gui binds Esc to Command.Quit on every runnable. In a debugger a stray Esc must
        // never throw a session away: Esc only cancels, and quitting is q or Ctrl-Q (RequestQuit).
        AddCommand(Command.Quit, () => true);
        FrameChanged += (_, _) => CheckSize();
        Initialized += (_, _) =>
        {
            if (App is { } app) app.Keyboard.KeyDown += OnKey;
            CheckSize();
            FollowIndex();
            Refresh(_session.IsLive
                ? "recording live: F5/c runs the guest (keys typed then go to it, Esc pauses) · go back any time · F1 help · q quit"
                : "F1 help · F5/c continue · Shift-F5/C reverse · F10/n over · F11/s step · Shift: back · F9 break · q quit");
        };
    }

    /// <summary>Tests run movements on the UI thread so they need no main loop to finish them.</summary>
    internal bool RunMovesInline { get; set; }

    /// <summary>Whether the panes are hidden because the terminal is below the minimum size.</summary>
    public bool IsTooSmall => _tooSmall.Visible;

    /// <summary>The code column's width and the code pane's height, in percent of the pane area.</summary>
    public (int Width, int Height) CodeSplit => (_codeWidthPercent, _codeHeightPercent);

    internal TimelineView TimelinePane => _timeline;
    internal StyledTextView RegistersPane => _registers;
    internal StyledTextView CodePane => _code;
    internal StyledTextView ConsolePane => _console;
    internal FrameView CodeFrame => _codeFrame;
    internal TextField CommandLine => _command;
    internal StyledTextView OutputPane => _output;
    internal StyledTextView MemoryPane => _memory;
    internal Task? Worker => _running is null ? null : _worker;
    internal List<string> OutputLines => _log.Lines.Select(l => l.Text).ToList();
    internal bool IsRunningCommand => _running is not null;

    /// <summary>Whether the user has asked to quit (q or Ctrl-Q, confirmed in a live session); the application is then asked to stop.</summary>
    public bool QuitRequested { get; private set; }

    /// <summary>
    /// The statusbar's keys are shown and clickable; the keys themselves are handled first by
    /// <see cref="OnKey"/> (which knows about command mode), so they are not bound a second time here.
    /// </summary>
    private static Shortcut Shortcut(Key key, string title, Action action) =>
        new(key, title, action) { BindKeyToApplication = false, CanFocus = false };

    private static FrameView Pane(string title, Pos x, Pos y, Dim width, Dim height, View content)
    {
        var frame = new FrameView { Title = title, X = x, Y = y, Width = width, Height = height, CanFocus = false };
        frame.Add(content);
        return frame;
    }

    // ---- size ----

    private void CheckSize()
    {
        int width = Frame.Width, height = Frame.Height;
        if (App?.Screen is { } screen && screen.Width > 0) (width, height) = (screen.Width, screen.Height);
        bool small = width < MinWidth || height < MinHeight;
        if (small)
            _tooSmall.Text = Wrap($"terminal too small (need at least {MinWidth}x{MinHeight}; now {width}x{height}) — resize to continue", width);
        if (small == _tooSmall.Visible) return;
        _tooSmall.Visible = small;
        _panes.Visible = _prompt.Visible = _command.Visible = _status.Visible = _statusBar.Visible = !small;
        if (!small && _running is null) Refresh(_status.Text ?? "");
        SetNeedsLayout();
        SetNeedsDraw();
    }

    /// <summary>Breaks <paramref name="text"/> at spaces into lines of at most <paramref name="width"/> cells.</summary>
    private static string Wrap(string text, int width)
    {
        var lines = new List<string>();
        string line = "";
        foreach (string word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line);
                line = word;
            }
            else line = line.Length == 0 ? word : line + " " + word;
        }
        lines.Add(line);
        return string.Join('\n', lines);
    }

    private void Resize(int widthDelta, int heightDelta)
    {
        _codeWidthPercent = Math.Clamp(_codeWidthPercent + widthDelta, 20, 85);
        _codeHeightPercent = Math.Clamp(_codeHeightPercent + heightDelta, 20, 85);
        _codeFrame.Width = Dim.Percent(_codeWidthPercent);
        _codeFrame.Height = Dim.Percent(_codeHeightPercent);
        Refresh($"code pane {_codeWidthPercent}% wide, {_codeHeightPercent}% high");
    }

    // ---- keys ----

    private void OnKey(object? sender, Key key)
    {
        // A dialog (the help) has the keys while it is up: Esc or Enter closes it, nothing steps behind it.
        if (App?.TopRunnableView is { } top && top != this) return;
        if (_confirmingQuit)
        {
            _confirmingQuit = false;
            if (key == Key.Y || key == Key.Y.WithShift || key == Key.Q || key == Key.Q.WithCtrl) Quit();
            else Refresh("not quitting");
            key.Handled = true;
            return;
        }
        bool typing = _commandMode;
        if (key == Key.Esc)
        {
            // Esc cancels the innermost thing: the command being typed, else a running movement. It never quits.
            if (typing && (_command.Text is { Length: > 0 } || _running is null)) LeaveCommandMode(_running is null ? "command cancelled" : null);
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
            RequestQuit();
            key.Handled = true;
            return;
        }
        if (_running is not null)
        {
            // Typing into the command line while a command runs: the keys are the field's (Enter
            // queues the line); they are never debugger keys.
            if (typing) return;
            if (_session.IsLive)
            {
                // A live guest is running: every other key is the guest's.
                if (GuestBytes(key) is { } bytes) _session.TypeToGuest(bytes);
            }
            else if (key == Key.Tab || key.AsRune.Value == ':') EnterCommandMode();
            else if (StartsCommand(key))
            {
                // Type-ahead: no letter moves while a command runs, so a typed command opens the
                // line and its first key is typed there (the field, now focused, takes this key).
                EnterCommandMode();
                return;
            }
            key.Handled = true;
            return;
        }
        if (!typing && key == Key.Q) { RequestQuit(); key.Handled = true; return; }
        if (IsTooSmall) { key.Handled = true; return; }
        if (key == Key.F1) { ShowHelp(); key.Handled = true; return; }
        if (StartMove(key)) { key.Handled = true; return; }
        if (key == Key.F9) { ToggleBreakpoint(); key.Handled = true; return; }
        if (key == Key.CursorLeft.WithCtrl) { Resize(-5, 0); key.Handled = true; return; }
        if (key == Key.CursorRight.WithCtrl) { Resize(5, 0); key.Handled = true; return; }
        if (key == Key.CursorUp.WithCtrl) { Resize(0, -5); key.Handled = true; return; }
        if (key == Key.CursorDown.WithCtrl) { Resize(0, 5); key.Handled = true; return; }
        if (typing) return;
        int rune = key.AsRune.Value;
        switch (rune)
        {
            case '<': Resize(-5, 0); break;
            case '>': Resize(5, 0); break;
            case '-': Resize(0, -5); break;
            case '+': Resize(0, 5); break;
            case '[': JumpToInputEvent(forward: false); break;
            case ']': JumpToInputEvent(forward: true); break;
            case 't': JumpToTrap(TrapMarkerKinds.Traps, forward: true); break;
            case 'T': JumpToTrap(TrapMarkerKinds.Traps, forward: false); break;
            case 'i': JumpToTrap(TrapMarkerKinds.Interrupts, forward: true); break;
            case 'I': JumpToTrap(TrapMarkerKinds.Interrupts, forward: false); break;
            case 'r': NextRegisterSection(); break;
            case ':':
                EnterCommandMode();
                break;
            default:
                if (key == Key.Tab) EnterCommandMode();
                else if (key == Key.Home) Seek(0);
                else if (key == Key.End) Seek(_session.End);
                else if (rune < 0x20) return; // other control keys keep their usual meaning
                else if (StartsCommand(key))
                {
                    // As in gdb's TUI SingleKey mode: a key that is not a key binding opens the command
                    // line and is typed there, so `b copy_name` works as typed; the field, now focused,
                    // takes this key. Bound keys (c, n, s, f, q, t, i, r...) never reach the field.
                    EnterCommandMode();
                    return;
                }
                break;
        }
        key.Handled = true;
    }

    /// <summary>
    /// Whether <paramref name="key"/>, typed outside the command line, begins a command: a printable
    /// character without modifiers that no single-key binding claims (those are handled before this).
    /// </summary>
    private static bool StartsCommand(Key key)
    {
        if (key.IsCtrl || key.IsAlt) return false;
        int rune = key.AsRune.Value;
        return rune is > 0x20 and < 0x7F && MovementKeys.For(key, letters: true) is null
            && !SingleKeys.Contains((char)rune);
    }

    /// <summary>The printable keys <see cref="OnKey"/> binds outside the command line besides the movements (its switch's cases and q).</summary>
    private const string SingleKeys = "<>-+[]tTiIr:qQ";

    /// <summary>What a raw-mode terminal sends the guest for <paramref name="key"/> (Enter as '\r'), or null for keys it does not take.</summary>
    private static byte[]? GuestBytes(Key key)
    {
        if (key == Key.Enter) return [(byte)'\r'];
        if (key == Key.Backspace) return [0x7F];
        if (key == Key.Tab) return [(byte)'\t'];
        if (key.IsCtrl && key.NoCtrl.AsRune.Value is >= 'a' and <= 'z' or >= 'A' and <= 'Z')
            return [(byte)(char.ToLowerInvariant((char)key.NoCtrl.AsRune.Value) - 'a' + 1)];
        int rune = key.AsRune.Value;
        return rune is >= 0x20 and < 0x7F ? [(byte)rune] : null;
    }

    private void EnterCommandMode()
    {
        _commandMode = true;
        _command.SetFocus();
        _status.Text = _running is null ? "command: Enter runs it, Esc cancels" : "command: Enter runs it when the running one finishes, Esc cancels";
    }

    private void LeaveCommandMode(string? message)
    {
        _command.Text = "";
        _commandMode = false;
        if (message is not null) Refresh(message);
    }

    /// <summary>q or Ctrl-Q. A live session's recording is still being written, so quitting it asks first.</summary>
    private void RequestQuit()
    {
        if (_session.IsLive)
        {
            _confirmingQuit = true;
            _status.Text = "quit? the live recording is completed and closed: y quits, any other key stays";
            return;
        }
        Quit();
    }

    private void Quit()
    {
        QuitRequested = true;
        App?.RequestStop();
    }

    /// <summary>Starts the movement <paramref name="key"/> stands for; false if it is not a movement key.</summary>
    private bool StartMove(Key key)
    {
        if (MovementKeys.For(key, letters: !_commandMode) is not { } movement) return false;
        if (_running is not null || IsTooSmall) return true;
        // Source-level (by line, as gdb's step/next/finish) where the guest has line info; by instruction where it has none.
        Func<CancellationToken, IProgress<double>, TimelineStop> move = movement switch
        {
            Movement.Continue => (c, p) => _session.Continue(c, p),
            Movement.ReverseContinue => (c, p) => _session.ReverseContinue(c, p),
            Movement.Next => (c, _) => _session.SourceNext(c),
            Movement.ReverseNext => (c, _) => _session.SourceNextBack(c),
            Movement.Step => (c, _) => _session.SourceStep(c),
            Movement.ReverseStep => (c, _) => _session.SourceStepBack(c),
            Movement.Finish => (c, _) => _session.Finish(c),
            _ => (c, _) => _session.ReverseFinish(c),
        };
        bool instructionStep = (movement is Movement.Step or Movement.ReverseStep) && !_session.HasLineInfoAtPc;
        if (instructionStep)
        {
            // Without line info a step is one instruction (at most one checkpoint interval of replay): run it at once so fast typing is never dropped.
            _before = RegisterSnapshot.Capture(_session.Hart);
            move(default, Progress());
            Refresh(_session.LastStop);
            return true;
        }
        RunInBackground(cancel =>
        {
            try
            {
                move(cancel, Progress());
                return _session.LastStop;
            }
            catch (InvalidOperationException e)
            {
                return e.Message; // finish in the outermost frame, and the like: gdb's words
            }
        });
        return true;
    }

    private void ToggleBreakpoint()
    {
        if (_running is not null) return;
        bool added = _session.ToggleBreakpointAtPc();
        Refresh(added ? $"breakpoint set at 0x{_session.Hart.Pc:x}" : $"breakpoint at 0x{_session.Hart.Pc:x} removed");
    }

    private void Seek(ulong step) =>
        RunInBackground(cancel => { _session.Goto(step, cancel, Progress()); return _session.LastStop; });

    /// <summary>[ and ]: the step of the previous or next input event (a key the guest received).</summary>
    private void JumpToInputEvent(bool forward)
    {
        var steps = _session.Timeline.InputEventSteps;
        ulong here = _session.Position;
        ulong? target = forward ? steps.Where(s => s > here).Select(s => (ulong?)s).FirstOrDefault() : steps.Where(s => s < here).Select(s => (ulong?)s).LastOrDefault();
        if (target is { } step) Seek(step);
        else Refresh(forward ? "no input event after this step" : "no input event before this step");
    }

    /// <summary>t/T and i/I: the next or previous trap or interrupt the background index has found (the same as next-trap and friends).</summary>
    private void JumpToTrap(TrapMarkerKinds kinds, bool forward)
    {
        string verb = (forward ? "next-" : "prev-") + (kinds == TrapMarkerKinds.Interrupts ? "irq" : "trap");
        RunInBackground(cancel => _session.Execute(verb, cancel, Progress()).Text);
    }

    /// <summary>While the index scans, redraws the timeline bar now and then so its marks appear as they are found.</summary>
    private void FollowIndex()
    {
        if (_session.Index is null || RunMovesInline) return;
        App?.AddTimeout(TimeSpan.FromMilliseconds(500), () =>
        {
            if (_running is null && !IsTooSmall) _timeline.Show(_session);
            return _session.Index.State == TimelineIndexState.Running;
        });
    }

    private void NextRegisterSection()
    {
        int[] headings = _registers.Lines.Select((line, i) => (line, i)).Where(x => x.line.Fill == TextStyle.Heading).Select(x => x.i).ToArray();
        if (headings.Length == 0) return;
        int top = _registers.TopLine;
        int next = headings.FirstOrDefault(i => i > top, -1);
        _registers.TopLine = next < 0 ? 0 : next;
        // The last section may already be in view (the pane cannot scroll further): wrap to the top.
        if (_registers.TopLine == top) _registers.TopLine = 0;
    }

    // ---- commands and movements ----

    private void RunCommand(string line)
    {
        string trimmed = line.Trim();
        if (trimmed.Length == 0) return;
        _log.Command(trimmed);
        if (trimmed.StartsWith("mem ", StringComparison.Ordinal) || trimmed == "mem")
        {
            // A pane setting, not a debugger command: what the memory pane shows.
            if (AddressParser.TryParse(trimmed[3..], _session.Hart, _session.Symbols, out ulong address))
            {
                _memoryAddress = address;
                Answer($"memory pane at 0x{address:x}");
            }
            else Answer($"mem: bad address '{trimmed[3..].Trim()}'");
            return;
        }
        RunInBackground(cancel => _session.Execute(line, cancel, Progress()).Text, toOutput: true);
    }

    private IProgress<double> Progress()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        return new Progress<double>(fraction => Invoke(() =>
        {
            if (_running is not null && !_session.IsLive) _status.Text = PaneText.RunProgress(fraction, clock.Elapsed);
        }));
    }

    /// <summary>A command's answer: to the output pane in full, and its first line to the status line.</summary>
    private void Answer(string message)
    {
        _log.Result(message);
        Refresh(message);
    }

    private void RunInBackground(Func<CancellationToken, string> work, bool toOutput = false)
    {
        _before = RegisterSnapshot.Capture(_session.Hart);
        if (RunMovesInline)
        {
            string answer = Attempt(work, default);
            if (toOutput) Answer(answer); else Refresh(answer);
            return;
        }
        var cancel = new CancellationTokenSource();
        _running = cancel;
        _status.Text = _session.IsLive ? "running… keys go to the guest (Esc stops)" : "running… (Esc cancels)";
        if (_session.IsLive) FollowLiveConsole(cancel);
        _worker = Task.Run(() =>
        {
            string message = Attempt(work, cancel.Token);
            Invoke(() =>
            {
                _running = null;
                cancel.Dispose();
                if (toOutput) Answer(message); else Refresh(message);
                // Commands typed while this one ran now run, one at a time.
                if (_typedAhead.TryDequeue(out string? next)) RunCommand(next);
            });
        });
    }

    /// <summary>Shows the guest's console text, scrolled to its end (only when it changed: most steps print nothing).</summary>
    private void ShowConsole(string text)
    {
        if (text == _consoleText) return;
        _consoleText = text;
        var lines = text.Split('\n').Select(line => StyledLine.Plain(line)).ToList();
        _console.Lines = lines;
        _console.TopLine = lines.Count; // clamped: the last page
    }

    /// <summary>
    /// For a hang-up, when the terminal is gone and the main loop may never run again: cancels a
    /// running movement and waits (up to <paramref name="timeout"/>) for its worker to let go of the session.
    /// </summary>
    public void CancelAndWait(TimeSpan timeout)
    {
        try
        {
            _running?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It finished meanwhile.
        }
        _worker?.Wait(timeout);
    }

    /// <summary>While a live run goes on, the console pane shows the guest's output as it arrives (read thread-safely from the session).</summary>
    private void FollowLiveConsole(CancellationTokenSource run)
    {
        App?.AddTimeout(TimeSpan.FromMilliseconds(100), () =>
        {
            if (_running != run) return false;
            ShowConsole(_session.FrontierConsoleText);
            // The step count is one 64-bit word the worker keeps writing: reading it here is safe, if a moment old.
            ulong frontier = _session.Hart.Steps;
            _status.Text = $"running live at step {frontier}: keys go to the guest (Esc pauses)";
            _timeline.ShowLiveFrontier(frontier);
            return true;
        });
    }

    private static string Attempt(Func<CancellationToken, string> work, CancellationToken cancel)
    {
        try
        {
            return work(cancel);
        }
        catch (Exception e)
        {
            // A damaged trace surfaces mid-replay: say so and stay usable.
            return $"error: {e.Message}";
        }
    }

    /// <summary>A pane's lines, or one line saying why they could not be had (malformed debug info must not take the window down).</summary>
    private static IReadOnlyList<string> SafeLines(Func<IReadOnlyList<string>> lines)
    {
        try
        {
            return lines();
        }
        catch (Exception e) when (e is Debugger.Symbols.DwarfFormatException or InvalidOperationException or ArgumentException)
        {
            return [$"({e.Message})"];
        }
    }

    private void Invoke(Action action)
    {
        if (App is { } app) app.Invoke(action);
    }

    private void ShowHelp()
    {
        if (App is not { } app) return;
        using var dialog = CreateHelpDialog();
        app.Run(dialog);
    }

    /// <summary>F1's dialog: the help text left-aligned (a table of keys reads down its first column), closed by Enter or Esc.</summary>
    internal static Dialog CreateHelpDialog()
    {
        var dialog = new Dialog { Title = "Help" };
        dialog.Add(new Label
        {
            X = 1, Y = 0, Text = HelpText, TextAlignment = Alignment.Start,
            HotKeySpecifier = new System.Text.Rune(0xFFFF),
        });
        dialog.AddButton(new Button { Text = "OK" });
        return dialog;
    }

    /// <summary>Redraws every pane from the session; the first line of <paramref name="message"/> goes to the status line (commands' full answers are in the output pane).</summary>
    private void Refresh(string message)
    {
        var code = CodeLines.Style(PaneText.Code(_session));
        _code.Lines = code;
        _code.Reveal(CodeLines.CurrentLine(code));
        _registers.Lines = RegisterLines.Build(_session, _before, Math.Max(_registers.Viewport.Width, 20));
        _memory.Lines = PaneText.Memory(_session, _memoryAddress ?? _session.Hart.GetX(2), 8, Math.Max(_memory.Viewport.Width, 20)).TrimEnd('\n').Split('\n').Select(l => StyledLine.Plain(l)).ToList();
        ShowConsole(_session.ConsoleText);
        _timeline.Show(_session);
        _backtrace.Lines = SafeLines(_session.BacktraceLines).Select(l => StyledLine.Plain(l)).ToList();
        _locals.Lines = SafeLines(_session.LocalLines).Select(l => StyledLine.Plain(l)).ToList();
        _points.Lines = SafeLines(_session.DisplayLines).Select(l => StyledLine.Plain(l, TextStyle.Heading))
            .Concat(PaneText.Breakpoints(_session).Split('\n')
                .Select(l => StyledLine.Plain(l, l.Contains("break", StringComparison.Ordinal) ? TextStyle.Breakpoint : TextStyle.Normal))).ToList();
        if (_log.Version != _outputVersion)
        {
            _outputVersion = _log.Version;
            _output.Lines = [.. _log.Lines]; // a copy: the pane compares old and new lines to decide whether to redraw
            _output.TopLine = _log.Lines.Count; // clamped: the newest answer in view
        }
        _status.Text = message.Split('\n')[0];
        // Each pane asks for its own redraw when its content changes; redrawing the whole window
        // (borders and all) would cost Terminal.Gui several times as much per key.
    }
}
