using System.Text;

namespace ReplayVm.Tui.Session;

/// <summary>
/// A live session (<c>replayvm debug GUEST</c>): the timeline records as it goes, keys typed while
/// the guest runs reach it through <see cref="Keyboard"/>, and the console pane can follow the
/// guest's output while a run is in progress (the timeline itself belongs to the worker then).
/// </summary>
public sealed partial class DebugSession
{
    private readonly Lock _liveLock = new();
    private readonly StringBuilder _frontierOutput = new();

    /// <summary>Where typed keys go in a live session; null when debugging a finished recording.</summary>
    public GuestKeyboard? Keyboard { get; private init; }

    /// <summary>Whether the timeline records as it goes (moving past its end runs the guest on live input).</summary>
    public bool IsLive => Timeline.IsLive;

    /// <summary>A session over a live timeline whose input is <paramref name="keyboard"/>.</summary>
    public static DebugSession ForLive(Replay.Timeline.Timeline timeline, GuestKeyboard keyboard, SymbolTable? symbols = null,
        IReadOnlyList<SymbolFile>? symbolFiles = null)
    {
        if (!timeline.IsLive) throw new ArgumentException("the timeline does not record", nameof(timeline));
        var session = new DebugSession(timeline, symbols, symbolFiles) { Keyboard = keyboard };
        session.FollowOutput();
        return session;
    }

    private void FollowOutput()
    {
        foreach (byte b in Timeline.Output) Append(b);
        Timeline.NewOutput += Append;

        void Append(byte b)
        {
            if (b != '\n' && b != '\t' && b is < 0x20 or >= 0x7F) return;
            lock (_liveLock) _frontierOutput.Append((char)b);
        }
    }

    /// <summary>
    /// The console as it stands at the newest step run so far, safe to read from the UI thread while a
    /// live run is moving the timeline (at the frontier this is what <see cref="ConsoleText"/> shows).
    /// </summary>
    public string FrontierConsoleText
    {
        get
        {
            lock (_liveLock) return _frontierOutput.ToString();
        }
    }

    /// <summary>Types keys for the guest (a live session only); false when there is no live guest to take them.</summary>
    public bool TypeToGuest(ReadOnlySpan<byte> keys)
    {
        if (Keyboard is null || !Timeline.CanExtend) return false;
        Keyboard.Type(keys);
        return true;
    }
}
