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
/// The debugger's one window: titled panes showing <see cref="PaneText"/> of the session, a command
/// line, and a status bar of keys. Movements run on a worker thread so the UI keeps drawing; only
/// one runs at a time, Esc cancels it, and its progress shows in the status line.
/// </summary>
public sealed class DebuggerWindow : Window
{
    public const string HelpText =
        "F5 / c      continue              Shift-F5 / C   reverse-continue\n" +
        "F10 / n     step over             Shift-F10 / N  step back over\n" +
        "F11 / s     step into             Shift-F11 / S  step back into\n" +
        "F9          toggle breakpoint at pc\n" +
        "Esc         cancel a running continue / reverse-continue\n" +
        ":  or  Tab  go to the command line; Enter runs the command\n" +
        "q / Ctrl-Q  quit                  F1             this help\n\n" +
        "Commands: b SYMBOL|*ADDR, watch *ADDR, c, rc, si, rsi, ni, rni, goto STEP,\n" +
        "          last-write ADDR, x/Nx ADDR|sp|REG, info b, delete N, mem ADDR\n\n" +
        "Registers marked * changed on the last move; the console shows the guest's output\n" +
        "as it was at the current step.";

    private readonly DebugSession _session;
    private readonly TextView _code, _registers, _memory, _console, _timeline, _points;
    private readonly TextField _command;
    private readonly Label _status;
    private ulong? _memoryAddress;
    private CancellationTokenSource? _running;
    /// <summary>Whether keys go to the command line (after ':' or Tab) rather than being debugger keys.</summary>
    private bool _commandMode;

    public DebuggerWindow(DebugSession session, string title)
    {
        _session = session;
        Title = $"replayvm debug — {title}";
        BorderStyle = LineStyle.None;

        var codeFrame = Pane("Code", 0, 0, Dim.Percent(60), Dim.Percent(55), out _code);
        var consoleFrame = Pane("Console", 0, Pos.Bottom(codeFrame), Dim.Percent(60), Dim.Fill(6), out _console);
        var registerFrame = Pane("Registers", Pos.Right(codeFrame), 0, Dim.Fill(), 24, out _registers);
        var memoryFrame = Pane("Memory", Pos.Right(codeFrame), Pos.Bottom(registerFrame), Dim.Fill(), 10, out _memory);
        var pointFrame = Pane("Breakpoints", Pos.Right(codeFrame), Pos.Bottom(memoryFrame), Dim.Fill(), Dim.Fill(6), out _points);
        var timelineFrame = Pane("Timeline", 0, Pos.Bottom(consoleFrame), Dim.Fill(), 4, out _timeline);
        _command = new TextField { X = 2, Y = Pos.AnchorEnd(2), Width = Dim.Fill() };
        var prompt = new Label { X = 0, Y = Pos.AnchorEnd(2), Text = "> " };
        // No hotkey specifier: symbol names such as copy_name contain the default '_'.
        _status = new Label { X = 0, Y = Pos.AnchorEnd(1), Width = Dim.Fill(), Text = "", HotKeySpecifier = new System.Text.Rune(0xFFFF) };
        _command.Accepting += (_, e) =>
        {
            e.Handled = true;
            string line = _command.Text ?? "";
            _command.Text = "";
            _commandMode = false;
            RunCommand(line);
        };
        Add(codeFrame, consoleFrame, registerFrame, memoryFrame, pointFrame, timelineFrame, prompt, _command, _status);
        Initialized += (_, _) =>
        {
            if (App is { } app) app.Keyboard.KeyDown += OnKey;
            Refresh("F1 help · F5/c continue · Shift-F5/C reverse · F10/n over · F11/s step · Shift: back · F9 break · q quit");
        };
    }

    private static FrameView Pane(string title, Pos x, Pos y, Dim width, Dim height, out TextView text)
    {
        var frame = new FrameView { Title = title, X = x, Y = y, Width = width, Height = height, CanFocus = false };
        text = new TextView { X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Fill(), ReadOnly = true, CanFocus = false, WordWrap = false };
        frame.Add(text);
        return frame;
    }

    private void OnKey(object? sender, Key key)
    {
        if (_running is not null)
        {
            // While a movement runs only Esc means anything.
            if (key == Key.Esc) _running.Cancel();
            key.Handled = true;
            return;
        }
        bool typing = _commandMode;
        if (key == Key.F1) { ShowHelp(); key.Handled = true; return; }
        if (key == Key.Q.WithCtrl || (!typing && key == Key.Q)) { App?.RequestStop(); key.Handled = true; return; }
        if (typing && key == Key.Esc) { _command.Text = ""; _commandMode = false; Refresh("command cancelled"); key.Handled = true; return; }
        Func<CancellationToken, IProgress<double>, TimelineStop>? move = null;
        if (key == Key.F5 || (!typing && key == Key.C)) move = (c, p) => _session.Continue(c, p);
        else if (key == Key.F5.WithShift || (!typing && key == Key.C.WithShift)) move = (c, p) => _session.ReverseContinue(c, p);
        else if (key == Key.F10 || (!typing && key == Key.N)) move = (c, _) => _session.StepOver(c);
        else if (key == Key.F10.WithShift || (!typing && key == Key.N.WithShift)) move = (c, _) => _session.StepBackOver(c);
        else if (key == Key.F11 || (!typing && key == Key.S)) move = (_, _) => _session.StepInto();
        else if (key == Key.F11.WithShift || (!typing && key == Key.S.WithShift)) move = (_, _) => _session.StepBack();
        else if (key == Key.F9)
        {
            bool added = _session.ToggleBreakpointAtPc();
            Refresh(added ? $"breakpoint set at 0x{_session.Hart.Pc:x}" : $"breakpoint at 0x{_session.Hart.Pc:x} removed");
            key.Handled = true;
            return;
        }
        else if (!typing && (key == Key.Tab || key.AsRune.Value == ':'))
        {
            _commandMode = true;
            _command.SetFocus();
            _status.Text = "command: Enter runs it, Esc cancels";
            key.Handled = true;
            return;
        }
        if (move is not null && (key == Key.F11 || key == Key.F11.WithShift || key.AsRune.Value is 's' or 'S'))
        {
            // Single steps are short (at most one checkpoint interval of replay): run them at once so fast typing is never dropped.
            move(default, Progress());
            Refresh(_session.LastStop);
            key.Handled = true;
            return;
        }
        if (move is null)
        {
            // Outside command mode, stray printable keys must not land in the command field.
            if (!typing && key.AsRune.Value >= 0x20) key.Handled = true;
            return;
        }
        key.Handled = true;
        RunInBackground(cancel => { move(cancel, Progress()); return _session.LastStop; });
    }

    private void RunCommand(string line)
    {
        string trimmed = line.Trim();
        if (trimmed.StartsWith("mem ", StringComparison.Ordinal) || trimmed == "mem")
        {
            // A pane setting, not a debugger command: what the memory pane shows.
            if (AddressParser.TryParse(trimmed[3..], _session.Hart, _session.Symbols, out ulong address))
            {
                _memoryAddress = address;
                Refresh($"memory pane at 0x{address:x}");
            }
            else Refresh($"mem: bad address '{trimmed[3..].Trim()}'");
            return;
        }
        RunInBackground(cancel =>
        {
            var result = _session.Execute(line, cancel, Progress());
            return result.Text;
        });
    }

    private IProgress<double> Progress() => new Progress<double>(fraction => Invoke(() => _status.Text = $"running… {fraction:P0} (Esc cancels)"));

    private void RunInBackground(Func<CancellationToken, string> work)
    {
        var cancel = new CancellationTokenSource();
        _running = cancel;
        _status.Text = "running… (Esc cancels)";
        Task.Run(() =>
        {
            string message;
            try
            {
                message = work(cancel.Token);
            }
            catch (Exception e)
            {
                // A damaged trace surfaces mid-replay: say so and stay usable.
                message = $"error: {e.Message}";
            }
            Invoke(() =>
            {
                _running = null;
                cancel.Dispose();
                Refresh(message);
            });
        });
    }

    private void Invoke(Action action)
    {
        if (App is { } app) app.Invoke(action);
    }

    private void ShowHelp() => MessageBox.Query(App!, "Help", HelpText, "OK");

    /// <summary>Redraws every pane from the session; <paramref name="message"/> goes to the status line (its first line) and, if longer, the console pane's title area.</summary>
    private void Refresh(string message)
    {
        _code.Text = PaneText.Code(_session);
        _registers.Text = PaneText.Registers(_session);
        _memory.Text = PaneText.Memory(_session, _memoryAddress ?? _session.Hart.GetX(2), 8);
        string console = _session.ConsoleText;
        _console.Text = console;
        _console.MoveEnd();
        _timeline.Text = PaneText.Timeline(_session, Math.Max(20, Frame.Width - 6));
        _points.Text = PaneText.Breakpoints(_session);
        var lines = message.Split('\n');
        if (lines.Length > 1) _points.Text = message + "\n\n" + _points.Text; // multi-line answers (x, info b) show in a pane
        _status.Text = lines[0];
        SetNeedsDraw();
    }
}
