using Terminal.Gui.Drawing;
using Attribute = Terminal.Gui.Drawing.Attribute;
using GuiTextStyle = Terminal.Gui.Drawing.TextStyle;

namespace ReplayVm.Tui.Views;

/// <summary>
/// The debugger's colours, derived from the pane's normal attribute so they sit on whatever theme the
/// terminal has: the current line in reverse video, breakpoints red, changed values bold yellow.
/// Every style also differs from <see cref="TextStyle.Normal"/> without colour (bold or reverse), so a
/// 16-colour or monochrome terminal still tells them apart.
/// </summary>
public static class Palette
{
    public static Attribute For(TextStyle style, Attribute normal) => style switch
    {
        TextStyle.Current => new Attribute(Color.Black, Color.BrightCyan, GuiTextStyle.Bold),
        TextStyle.Breakpoint => new Attribute(Color.BrightRed, normal.Background, GuiTextStyle.Bold),
        TextStyle.Changed => new Attribute(Color.BrightYellow, normal.Background, GuiTextStyle.Bold),
        TextStyle.Heading => new Attribute(Color.BrightCyan, normal.Background),
        TextStyle.Marker => new Attribute(Color.Black, Color.BrightYellow, GuiTextStyle.Bold),
        _ => normal,
    };
}
