using ReplayVm.Tui.Views;

namespace ReplayVm.Tui.Panes;

/// <summary>
/// The output pane's text: each command as typed ("&gt; info b") followed by its whole answer, as a
/// gdb console shows them. The oldest lines go once there are more than <see cref="MaxLines"/>, so a
/// long session cannot grow it without bound.
/// </summary>
public sealed class OutputLog
{
    public const int MaxLines = 5000;

    private readonly List<StyledLine> _lines = [];

    /// <summary>Changes whenever a line is added (so the view redraws only then).</summary>
    public int Version { get; private set; }

    public IReadOnlyList<StyledLine> Lines => _lines;

    public void Command(string line) => Add(StyledLine.Plain("> " + line, TextStyle.Heading));

    public void Result(string text)
    {
        if (text.Length == 0) return;
        foreach (string line in text.Split('\n'))
            Add(StyledLine.Plain(line, line.StartsWith("error", StringComparison.Ordinal) ? TextStyle.Breakpoint : TextStyle.Normal));
    }

    private void Add(StyledLine line)
    {
        _lines.Add(line);
        if (_lines.Count > MaxLines) _lines.RemoveRange(0, _lines.Count - MaxLines);
        Version++;
    }
}
