using ReplayVm.Tui.Session;
using ReplayVm.Tui.Views;

namespace ReplayVm.Tui.Tests;

/// <summary>A <see cref="DiffWindow"/> in a headless Terminal.Gui application; commands run inline.</summary>
internal sealed class HeadlessDiff(DiffSession session, int width = 200, int height = 60)
    : HeadlessWindow<DiffWindow>(() => new DiffWindow(session, "test") { RunMovesInline = true }, width, height)
{
    public DiffSession Session { get; } = session;
}
