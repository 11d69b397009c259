namespace ReplayVm.Tui.Views;

/// <summary>
/// Styles the code pane's text (<see cref="Panes.PaneText.Code"/>): the line starting "=>" is the
/// current pc, a "*" in the third column marks a breakpoint, "&lt;symbol&gt;:" lines are headings.
/// Other lines (such as C source lines) stay plain.
/// </summary>
public static class CodeLines
{
    public static IReadOnlyList<StyledLine> Style(string code)
    {
        var lines = new List<StyledLine>();
        foreach (string line in code.TrimEnd('\n').Split('\n'))
        {
            bool current = line.StartsWith("=>", StringComparison.Ordinal);
            bool breakpoint = line.Length > 2 && line[2] == '*' && (current || line.StartsWith("  ", StringComparison.Ordinal));
            if (current) lines.Add(StyledLine.Plain(line, TextStyle.Current));
            else if (breakpoint) lines.Add(StyledLine.Plain(line, TextStyle.Breakpoint));
            else if (line.StartsWith('<') && line.EndsWith(">:", StringComparison.Ordinal)) lines.Add(StyledLine.Plain(line, TextStyle.Heading));
            else lines.Add(StyledLine.Plain(line));
        }
        return lines;
    }

    /// <summary>The index of the current line, or -1.</summary>
    public static int CurrentLine(IReadOnlyList<StyledLine> lines)
    {
        for (int i = 0; i < lines.Count; i++)
            if (lines[i].Fill == TextStyle.Current) return i;
        return -1;
    }
}
