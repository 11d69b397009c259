namespace ReplayVm.Tui.Views;

/// <summary>What a run of text means on screen; <see cref="Palette"/> turns it into a colour.</summary>
public enum TextStyle
{
    Normal,
    /// <summary>The line of the current pc in the code pane.</summary>
    Current,
    /// <summary>A line holding a breakpoint.</summary>
    Breakpoint,
    /// <summary>A value that changed on the last move.</summary>
    Changed,
    /// <summary>Section headings and labels that are not data.</summary>
    Heading,
    /// <summary>The current position on the timeline bar.</summary>
    Marker,
}

/// <summary>A run of text drawn in one style.</summary>
public readonly record struct Span(string Text, TextStyle Style = TextStyle.Normal);

/// <summary>One line of a pane: spans drawn left to right, and a style that fills the rest of the line.</summary>
public sealed record StyledLine(IReadOnlyList<Span> Spans, TextStyle Fill = TextStyle.Normal)
{
    public static StyledLine Plain(string text, TextStyle style = TextStyle.Normal) => new([new Span(text, style)], style);

    public string Text => string.Concat(Spans.Select(s => s.Text));
}
