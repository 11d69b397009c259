using Terminal.Gui.App;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Views;

/// <summary>Runs the debugger window full-screen until the user quits; the terminal is restored on every way out.</summary>
public static class DebuggerApp
{
    public static void Run(DebugSession session, string title)
    {
        using IApplication app = Application.Create().Init();
        using var window = new DebuggerWindow(session, title);
        app.Run(window);
    }
}
