using System.Runtime.InteropServices;
using Terminal.Gui.App;
using Terminal.Gui.Views;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Views;

/// <summary>Runs the debugger window full-screen until the user quits; the terminal is restored on every way out.</summary>
public static class DebuggerApp
{
    public static void Run(DebugSession session, string title)
    {
        // Terminal.Gui's main loop runs at most 25 iterations a second by default: 40 ms of waiting
        // between a key and its redraw. A step must feel instant (issue 6: under 50 ms key to screen).
        Application.MaximumIterationsPerSecond = 200;
        using IApplication app = Application.Create().Init();
        using var window = new DebuggerWindow(session, title);
        RunUntilQuit(app, window, () =>
        {
            window.CancelAndWait(TimeSpan.FromSeconds(5));
            session.Timeline.Dispose();
        });
    }

    /// <summary>Two recordings side by side (<see cref="DiffWindow"/>), with the same care for the terminal.</summary>
    public static void Run(DiffSession session, string title)
    {
        Application.MaximumIterationsPerSecond = 200;
        using IApplication app = Application.Create().Init();
        using var window = new DiffWindow(session, title);
        RunUntilQuit(app, window, () => window.CancelAndWait(TimeSpan.FromSeconds(5)));
    }

    private static void RunUntilQuit(IApplication app, Window window, Action letGo)
    {
        // Disposing the application leaves raw mode and the alternate screen: the using statements do it
        // on a normal quit and when an exception escapes. A SIGTERM, SIGHUP or SIGQUIT would otherwise
        // end the process with the terminal still raw, so those ask the main loop to stop instead.
        using var terminate = StopOn(PosixSignal.SIGTERM, app);
        using var hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            app.Invoke(() => app.RequestStop());
            // The terminal is gone, and Terminal.Gui's loop may spin on it rather than stop: if the
            // process has not left within a moment, end any run, close a live recording (its end
            // record) and exit as a shell reports a hang-up.
            Task.Run(() =>
            {
                Thread.Sleep(TimeSpan.FromSeconds(1.5));
                letGo();
                Environment.Exit(128 + 1);
            });
        });
        using var quit = StopOn(PosixSignal.SIGQUIT, app);
        app.Run(window);
    }

    private static PosixSignalRegistration StopOn(PosixSignal signal, IApplication app) =>
        PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            app.Invoke(() => app.RequestStop());
        });
}
