using System.Text;
using Terminal.Gui.App;
using Terminal.Gui.Drawing;
using Terminal.Gui.Drivers;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;
using Terminal.Gui.Time;
using Terminal.Gui.Views;
using Attribute = Terminal.Gui.Drawing.Attribute;

namespace ReplayVm.Tui.Tests;

/// <summary>
/// A window inside a real Terminal.Gui application with no terminal: Terminal.Gui 2.5.0's own test
/// support — its ANSI driver with real terminal I/O switched off (<c>DisableRealDriverIO=1</c>), a
/// <see cref="VirtualTimeProvider"/>, keys through <see cref="IInputInjector"/> — and the screen read
/// back cell by cell (text and attribute) from the driver's contents.
/// </summary>
internal abstract class HeadlessWindow<TWindow> : IDisposable where TWindow : Window
{
    private readonly SessionToken? _token;

    protected HeadlessWindow(Func<TWindow> create, int width, int height)
    {
        Environment.SetEnvironmentVariable("DisableRealDriverIO", "1");
        App = Application.Create(new VirtualTimeProvider()).Init(DriverRegistry.Names.ANSI);
        App.Driver!.SetScreenSize(width, height);
        Window = create();
        _token = App.Begin(Window);
        Draw();
    }

    protected IApplication App { get; }

    public TWindow Window { get; }

    public void Key(Key key)
    {
        App.InjectKey(key);
        Draw();
    }

    public void Keys(params Key[] keys)
    {
        foreach (var key in keys) Key(key);
    }

    /// <summary>Types a command line (Tab to the field, the text, then Enter), as a user would.</summary>
    public void Command(string line)
    {
        Key(Terminal.Gui.Input.Key.Tab);
        foreach (char c in line) App.InjectKey(new Key(c));
        Key(Terminal.Gui.Input.Key.Enter);
    }

    public void Draw() => App.LayoutAndDraw(true);

    private Cell[,] Cells => App.Driver!.Contents!;

    public int Rows => Cells.GetLength(0);
    public int Columns => Cells.GetLength(1);

    public string Line(int row)
    {
        var text = new StringBuilder();
        for (int col = 0; col < Columns; col++) text.Append(Cells[row, col].Grapheme is { Length: > 0 } g ? g : " ");
        return text.ToString();
    }

    public string Screen => string.Join('\n', Enumerable.Range(0, Rows).Select(Line));

    public Attribute AttributeAt(int column, int row) => Cells[row, column].Attribute ?? default;

    /// <summary>The first cell (column, row) where <paramref name="text"/> starts, searching rows top to bottom.</summary>
    public (int Column, int Row) Find(string text)
    {
        for (int row = 0; row < Rows; row++)
        {
            int column = Line(row).IndexOf(text, StringComparison.Ordinal);
            if (column >= 0) return (column, row);
        }
        throw new Xunit.Sdk.XunitException($"'{text}' is not on screen:\n{Screen}");
    }

    public void Dispose()
    {
        if (_token is not null) App.End(_token);
        Window.Dispose();
        App.Dispose();
    }
}
