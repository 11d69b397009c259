using System.Text;
using Terminal.Gui.App;
using Terminal.Gui.Drawing;
using Terminal.Gui.Drivers;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;
using Terminal.Gui.Time;
using ReplayVm.Tui.Session;
using ReplayVm.Tui.Views;
using Attribute = Terminal.Gui.Drawing.Attribute;

namespace ReplayVm.Tui.Tests;

/// <summary>A <see cref="DiffWindow"/> in a headless Terminal.Gui application, as <see cref="HeadlessDebugger"/> does for the one-run window.</summary>
internal sealed class HeadlessDiff : IDisposable
{
    private readonly IApplication _app;
    private readonly SessionToken? _token;

    public HeadlessDiff(DiffSession session, int width = 200, int height = 60)
    {
        Environment.SetEnvironmentVariable("DisableRealDriverIO", "1");
        Session = session;
        _app = Application.Create(new VirtualTimeProvider()).Init(DriverRegistry.Names.ANSI);
        _app.Driver!.SetScreenSize(width, height);
        Window = new DiffWindow(session, "test") { RunMovesInline = true };
        _token = _app.Begin(Window);
        Draw();
    }

    public DiffSession Session { get; }
    public DiffWindow Window { get; }

    public void Key(Key key)
    {
        _app.InjectKey(key);
        Draw();
    }

    public void Command(string line)
    {
        Key(Terminal.Gui.Input.Key.Tab);
        foreach (char c in line) _app.InjectKey(new Key(c));
        Key(Terminal.Gui.Input.Key.Enter);
    }

    public void Draw() => _app.LayoutAndDraw(true);

    private Cell[,] Cells => _app.Driver!.Contents!;
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
        if (_token is not null) _app.End(_token);
        Window.Dispose();
        _app.Dispose();
    }
}
