using System.Drawing;
using Terminal.Gui.App;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;
using Terminal.Gui.ViewBase;
using ReplayVm.Tui.Session;
using ReplayVm.Tui.Views;

namespace ReplayVm.Tui.Tests;

/// <summary>
/// A <see cref="DebuggerWindow"/> in a headless Terminal.Gui application (see <see cref="HeadlessWindow{TWindow}"/>),
/// with the mouse as well as keys. Movements run inline so no main loop is needed to finish them.
/// </summary>
internal sealed class HeadlessDebugger(DebugSession session, int width = 160, int height = 50)
    : HeadlessWindow<DebuggerWindow>(() => new DebuggerWindow(session, "test") { RunMovesInline = true }, width, height)
{
    public DebugSession Session { get; } = session;

    public void Click(int column, int row)
    {
        var at = new Point(column, row);
        var injector = App.GetInputInjector();
        var options = new InputInjectionOptions { Mode = InputInjectionMode.Direct };
        var time = new DateTime(2025, 1, 1);
        injector.InjectMouse(new Mouse { ScreenPosition = at, Flags = MouseFlags.LeftButtonPressed, Timestamp = time }, options);
        injector.InjectMouse(new Mouse { ScreenPosition = at, Flags = MouseFlags.LeftButtonReleased, Timestamp = time.AddMilliseconds(50) }, options);
        Draw();
    }

    /// <summary>Presses the left button at one cell, moves with it held down to another, and releases it there.</summary>
    public void Drag((int Column, int Row) from, (int Column, int Row) to)
    {
        var injector = App.GetInputInjector();
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
        App.Driver!.SetScreenSize(width, height);
        Draw();
    }

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
            App.TimedEvents!.RunTimers();
            Draw();
            if (Window.Worker == before) break;
        }
    }

    /// <summary>The text inside a view's frame on screen.</summary>
    public string Region(View view)
    {
        Rectangle r = view.FrameToScreen();
        return string.Join('\n', Enumerable.Range(r.Top, r.Height).Where(y => y >= 0 && y < Rows)
            .Select(y => Line(y).Substring(Math.Max(0, r.Left), Math.Min(r.Width, Columns - Math.Max(0, r.Left)))));
    }
}
