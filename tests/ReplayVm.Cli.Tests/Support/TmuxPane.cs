using System.Diagnostics;

namespace ReplayVm.Cli.Tests.Support;

/// <summary>
/// A command running in a detached tmux session of its own (so it has a real terminal), typed at
/// with <c>send-keys</c> and read back with <c>capture-pane -p</c>. Waits are asynchronous, so a
/// test that idles for minutes does not hold one of xunit's test threads. Disposing kills the session.
/// </summary>
public sealed class TmuxPane : IDisposable
{
    private readonly string _name;

    private TmuxPane(string name) => _name = name;

    /// <summary>Starts <paramref name="shellCommand"/> in a new <paramref name="width"/>x<paramref name="height"/> session, in the repository root.</summary>
    public static TmuxPane Start(string shellCommand, int width = 200, int height = 50)
    {
        RequiredTools.Tmux.ToString();
        var pane = new TmuxPane($"replayvm-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
        pane.Tmux("new-session", "-d", "-s", pane._name, "-x", width.ToString(), "-y", height.ToString(), shellCommand);
        return pane;
    }

    /// <summary>What the pane shows now.</summary>
    public string Screen => Tmux("capture-pane", "-p", "-t", _name);

    /// <summary>Types <paramref name="text"/> literally (no key names), without Enter.</summary>
    public void Type(string text) => Tmux("send-keys", "-t", _name, "-l", text);

    /// <summary>Presses keys by tmux's names (Enter, Escape, F5, or a letter).</summary>
    public void Press(params string[] keys)
    {
        foreach (string key in keys) Tmux("send-keys", "-t", _name, key);
    }

    /// <summary>
    /// Waits until the screen satisfies <paramref name="done"/>, checking ten times a second, and
    /// returns it; fails with the screen when <paramref name="timeout"/> passes first.
    /// </summary>
    public async Task<string> WaitFor(Func<string, bool> done, TimeSpan timeout, string what)
    {
        var waited = Stopwatch.StartNew();
        string screen = Screen;
        while (!done(screen))
        {
            if (waited.Elapsed > timeout) throw new Xunit.Sdk.XunitException($"{what}: not on the screen after {timeout.TotalSeconds:0} s:\n{screen}");
            await Task.Delay(100);
            screen = Screen;
        }
        return screen;
    }

    private string Tmux(params string[] args) => TmuxServer.Run(args);

    public void Dispose() => Tmux("kill-session", "-t", _name);
}
