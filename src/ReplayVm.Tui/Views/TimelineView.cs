using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using ReplayVm.Tui.Panes;
using ReplayVm.Tui.Session;

namespace ReplayVm.Tui.Views;

/// <summary>
/// The timeline pane: the text of <see cref="PaneText.Timeline"/> (a "[...]" bar of the whole
/// recording) with the position's '#' highlighted. A click on the bar asks to seek to the step
/// that column stands for.
/// </summary>
public sealed class TimelineView : StyledTextView
{
    private DebugSession? _session;

    /// <summary>Raised with the step a click on the bar maps to.</summary>
    public event Action<ulong>? SeekRequested;

    /// <summary>Cells in the bar: the pane's width less the two brackets.</summary>
    public int BarWidth => Math.Max(10, Viewport.Width - 2);

    public TimelineView()
    {
        // The bar is as wide as the pane: draw it again when the pane changes size.
        ViewportChanged += (_, _) => { if (_session is not null) Show(_session); };
    }

    public void Show(DebugSession session)
    {
        _session = session;
        var lines = new List<StyledLine>();
        foreach (string line in PaneText.Timeline(session, BarWidth).Split('\n'))
        {
            int marker = line.StartsWith('[') ? line.IndexOf('#') : -1;
            lines.Add(marker < 0
                ? StyledLine.Plain(line)
                : new StyledLine([new Span(line[..marker]), new Span("#", TextStyle.Marker), new Span(line[(marker + 1)..])]));
        }
        Lines = lines;
    }

    /// <summary>
    /// While a live guest runs the timeline belongs to the worker thread: the bar shows only the
    /// newest step (read as one word, a moment old), which is both the position and the end.
    /// </summary>
    public void ShowLiveFrontier(ulong frontier)
    {
        string bar = new string(PaneText.EmptyMark, BarWidth - 1);
        Lines =
        [
            StyledLine.Plain($"step {frontier} / {frontier}  (running live: the newest step)"),
            new StyledLine([new Span("[" + bar), new Span("#", TextStyle.Marker), new Span("]")]),
            StyledLine.Plain("keys go to the guest; Esc pauses it"),
        ];
    }

    /// <summary>
    /// The step bar cell <paramref name="cell"/> stands for. PaneText puts step s in cell
    /// floor(s·(w−1)/end); rounding up here makes the marker land exactly on the clicked cell.
    /// </summary>
    public static ulong StepForCell(int cell, int barWidth, ulong end)
    {
        if (cell <= 0 || end == 0) return 0;
        ulong span = (ulong)Math.Max(1, barWidth - 1);
        if ((ulong)cell >= span) return end;
        UInt128 scaled = (UInt128)(ulong)cell * end;
        return (ulong)((scaled + span - 1) / span);
    }

    protected override bool OnMouseEvent(Mouse mouse)
    {
        if (_session is not null && mouse.Position is { } at)
        {
            int row = at.Y + TopLine;
            bool onBar = row >= 0 && row < Lines.Count && Lines[row].Text.StartsWith('[') && at.X >= 1 && at.X <= BarWidth;
            if (onBar && mouse.Flags.HasFlag(MouseFlags.LeftButtonClicked))
            {
                SeekRequested?.Invoke(StepForCell(at.X - 1, BarWidth, Math.Max(_session.End, 1)));
                return true;
            }
            if (onBar && (mouse.Flags.HasFlag(MouseFlags.LeftButtonPressed) || mouse.Flags.HasFlag(MouseFlags.LeftButtonReleased))) return true;
        }
        return base.OnMouseEvent(mouse);
    }
}
