using System.Drawing;
using System.Text;
using Terminal.Gui.App;
using Terminal.Gui.Drawing;
using Terminal.Gui.Drivers;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;
using Terminal.Gui.Time;
using Terminal.Gui.ViewBase;
using ReplayVm.Tui.Session;
using ReplayVm.Tui.Views;
using Attribute = Terminal.Gui.Drawing.Attribute;

namespace ReplayVm.Tui.Tests;

/// <summary>
/// A <see cref="DebuggerWindow"/> inside a real Terminal.Gui application with no terminal: Terminal.Gui
/// 2.5.0's own test support — its ANSI driver with real terminal I/O switched off
/// (<c>DisableRealDriverIO=1</c>), a <see cref="VirtualTimeProvider"/>, keys and mouse through
/// <see cref="IInputInjector"/> — and the screen read back cell by cell (text and attribute) from
/// the driver's contents. Movements run inline so no main loop is needed to finish them.
/// </summary>
internal sealed class HeadlessDebugger : IDisposable
{
    private readonly IApplication _app;
    private readonly SessionToken? _token;

    public HeadlessDebugger(DebugSession session, int width = 160, int height = 50)
    {
        Environment.SetEnvironmentVariable("DisableRealDriverIO", "1");
        Session = session;
        _app = Application.Create(new VirtualTimeProvider()).Init(DriverRegistry.Names.ANSI);
        _app.Driver!.SetScreenSize(width, height);
        Window = new DebuggerWindow(session, "test") { RunMovesInline = true };
        _token = _app.Begin(Window);
        Draw();
    }

    public DebugSession Session { get; }
    public DebuggerWindow Window { get; }

    public void Key(Key key)
    {
        _app.InjectKey(key);
        Draw();
    }

    public void Keys(params Key[] keys)
    {
        foreach (var key in keys) Key(key);
    }

    /// <summary>Types a command line (':' then the text then Enter), as a user would.</summary>
    public void Command(string line)
    {
        Key(Terminal.Gui.Input.Key.Tab);
        foreach (char c in line) _app.InjectKey(new Key(c));
        Key(Terminal.Gui.Input.Key.Enter);
    }

    public void Click(int column, int row)
    {
        var at = new Point(column, row);
        var injector = _app.GetInputInjector();
        var options = new InputInjectionOptions { Mode = InputInjectionMode.Direct };
        var time = new DateTime(2025, 1, 1);
        injector.InjectMouse(new Mouse { ScreenPosition = at, Flags = MouseFlags.LeftButtonPressed, Timestamp = time }, options);
        injector.InjectMouse(new Mouse { ScreenPosition = at, Flags = MouseFlags.LeftButtonReleased, Timestamp = time.AddMilliseconds(50) }, options);
        Draw();
    }

    /// <summary>Presses the left button at one cell, moves with it held down to another, and releases it there.</summary>
    public void Drag((int Column, int Row) from, (int Column, int Row) to)
    {
        var injector = _app.GetInputInjector();
        var options = new InputInjectionOptions { Mode = InputInjectionMode.Direct };
        var time = new DateTime(2025, 1, 1);
        injector.InjectMouse(new Mouse { ScreenPosition = new Point(from.Column, from.Row), Flags = MouseFlags.LeftButtonPressed, Timestamp = time }, options);
        Draw();
        injector.InjectMouse(new Mouse { ScreenPosition = new Point(to.Column, to.Row), Flags = MouseFlags.LeftButtonPressed | MouseFlags.PositionReport, Timestamp = time.AddMilliseconds(20) }, options);
        Draw();
        injector.InjectMouse(new Mouse { ScreenPosition = new Point(to.Column, to.Row), Flags = MouseFlags.LeftButtonReleased, Timestamp = time.AddMilliseconds(40) }, options);
        Draw();
    }

    public void Resize(int width, int height)
    {
        _app.Driver!.SetScreenSize(width, height);
        Draw();
    }

    public void Draw() => _app.LayoutAndDraw(true);

    /// <summary>
    /// For tests that run movements in the background (<c>RunMovesInline = false</c>): waits for the
    /// running command's worker, then runs what it handed to the main loop (its answer, queued commands).
    /// Until then the window stays "running", however quickly the worker finished.
    /// </summary>
    public void FinishRunning()
    {
        for (int i = 0; i < 20 && Window.Worker is { } worker; i++)
        {
            worker.Wait(TimeSpan.FromMinutes(2));
            var before = worker;
            _app.TimedEvents!.RunTimers();
            Draw();
            if (Window.Worker == before) break;
        }
    }

    private Cell[,] Cells => _app.Driver!.Contents!;

    public int Rows => Cells.GetLength(0);
    public int Columns => Cells.GetLength(1);

    public string Line(int row)
    {
        var text = new StringBuilder();
        for (int col = 0; col < Columns; col++) text.Append(Cells[row, col].Grapheme is { Length: > 0 } g ? g : " ");
        return text.ToString();
    }

    public string Screen => string.Join('\n', Enumerable.Range(0, Rows).Select(Line));

    public Attribute AttributeAt(int column, int row) => Cells[row, column].Attribute ?? default;

    /// <summary>The text inside a view's frame on screen.</summary>
    public string Region(View view)
    {
        Rectangle r = view.FrameToScreen();
        return string.Join('\n', Enumerable.Range(r.Top, r.Height).Where(y => y >= 0 && y < Rows)
            .Select(y => Line(y).Substring(Math.Max(0, r.Left), Math.Min(r.Width, Columns - Math.Max(0, r.Left)))));
    }

    /// <summary>The first cell (column, row) where <paramref name="text"/> starts, searching rows top to bottom.</summary>
    public (int Column, int Row) Find(string text)
    {
        for (int row = 0; row < Rows; row++)
        {
            int column = Line(row).IndexOf(text, StringComparison.Ordinal);
            if (column >= 0) return (column, row);
        }
        throw new Xunit.Sdk.XunitException($"'{text}' is not on screen:\n{Screen}");
    }

    public void Dispose()
    {
        if (_token is not null) _app.End(_token);
        Window.Dispose();
        _app.Dispose();
    }
}
