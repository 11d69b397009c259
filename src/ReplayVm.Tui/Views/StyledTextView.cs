using System.Drawing;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;

namespace ReplayVm.Tui.Views;

/// <summary>
/// A read-only pane of <see cref="StyledLine"/>s. The mouse wheel scrolls it when the lines do not
/// fit; <see cref="TopLine"/> says which line is drawn first.
///
/// Drawing is the cost of a debugger step (Terminal.Gui 2.5 spends microseconds a cell), so a pane
/// whose lines did not change is not redrawn at all. Redrawing only the changed rows is not
/// possible: Terminal.Gui clears the whole viewport of a view it redraws.
/// </summary>
public class StyledTextView : View
{
    private IReadOnlyList<StyledLine> _lines = [];
    private int _topLine;

    public StyledTextView()
    {
        CanFocus = false;
        Width = Dim.Fill();
        Height = Dim.Fill();
    }

    public IReadOnlyList<StyledLine> Lines
    {
        get => _lines;
        set
        {
            // Terminal.Gui spends several microseconds a cell drawing: a pane whose text did not
            // change on a step (memory, breakpoints, often the registers' CSRs) is not redrawn.
            var old = _lines;
            _lines = value;
            int top = _topLine;
            TopLine = _topLine; // clamp to the new length
            if (top != _topLine) return; // scrolled: TopLine asked for the whole pane
            for (int row = 0; row < Viewport.Height; row++)
            {
                int index = _topLine + row;
                var a = index < old.Count ? old[index] : null;
                var b = index < value.Count ? value[index] : null;
                if (a is null && b is null) break;
                if (a is not null && b is not null && SameLine(a, b)) continue;
                SetNeedsDraw();
                return;
            }
        }
    }

    private static bool SameLine(StyledLine x, StyledLine y)
    {
        if (x.Fill != y.Fill || x.Spans.Count != y.Spans.Count) return false;
        for (int j = 0; j < x.Spans.Count; j++)
            if (x.Spans[j] != y.Spans[j]) return false;
        return true;
    }

    /// <summary>The first line shown; clamped so the last page stays full.</summary>
    public int TopLine
    {
        get => _topLine;
        set
        {
            int top = Math.Clamp(value, 0, Math.Max(0, _lines.Count - Math.Max(1, Viewport.Height)));
            if (top == _topLine) return;
            _topLine = top;
            SetNeedsDraw();
        }
    }

    /// <summary>The text of the visible lines, as on screen (for tests and the status line).</summary>
    public string VisibleText => string.Join('\n', _lines.Skip(_topLine).Take(Math.Max(1, Viewport.Height)).Select(l => l.Text));

    /// <summary>Scrolls so that <paramref name="line"/> is visible, keeping a little context above it.</summary>
    public void Reveal(int line)
    {
        int height = Math.Max(1, Viewport.Height);
        if (line < _topLine || line >= _topLine + height) TopLine = line - height / 3;
    }

    /// <summary>Every row is written to its last cell, so clearing first would only cost time.</summary>
    protected override bool OnClearingViewport() => true;

    protected override bool OnDrawingContent(DrawContext? context)
    {
        var normal = GetAttributeForRole(VisualRole.Normal);
        int width = Viewport.Width;
        for (int row = 0; row < Viewport.Height; row++)
        {
            int index = _topLine + row;
            StyledLine? line = index < _lines.Count ? _lines[index] : null;
            int column = 0;
            Move(0, row);
            if (line is not null)
            {
                foreach (var span in line.Spans)
                {
                    if (column >= width) break;
                    string text = ExpandTabs(span.Text, column);
                    text = text.Length > width - column ? text[..(width - column)] : text;
                    SetAttribute(Palette.For(span.Style, normal));
                    AddStr(text);
                    column += text.Length;
                }
            }
            SetAttribute(Palette.For(line?.Fill ?? TextStyle.Normal, normal));
            if (column < width) AddStr(new string(' ', width - column));
        }
        context?.AddDrawnRectangle(new Rectangle(0, 0, width, Viewport.Height));
        return true;
    }

    /// <summary>Tabs (the disassembler puts one after each mnemonic) to spaces, with stops every 8 cells from the line start.</summary>
    private static string ExpandTabs(string text, int column)
    {
        if (!text.Contains('\t')) return text;
        var expanded = new System.Text.StringBuilder();
        foreach (char c in text)
        {
            if (c == '\t') expanded.Append(' ', 8 - (column + expanded.Length) % 8);
            else expanded.Append(c);
        }
        return expanded.ToString();
    }

    protected override bool OnMouseEvent(Mouse mouse)
    {
        if (mouse.Flags.HasFlag(MouseFlags.WheeledDown)) { TopLine += 3; return true; }
        if (mouse.Flags.HasFlag(MouseFlags.WheeledUp)) { TopLine -= 3; return true; }
        return base.OnMouseEvent(mouse);
    }
}
