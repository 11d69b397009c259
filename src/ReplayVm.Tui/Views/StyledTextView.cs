using System.Drawing;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;

namespace ReplayVm.Tui.Views;

/// <summary>
/// A read-only pane of <see cref="StyledLine"/>s. The mouse wheel scrolls it when the lines do not
/// fit; <see cref="TopLine"/> says which line is drawn first.
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
            _lines = value;
            TopLine = _topLine; // clamp to the new length
            SetNeedsDraw();
        }
    }

    /// <summary>The first line shown; clamped so the last page stays full.</summary>
    public int TopLine
    {
        get => _topLine;
        set
        {
            _topLine = Math.Clamp(value, 0, Math.Max(0, _lines.Count - Math.Max(1, Viewport.Height)));
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
