namespace ReplayVm.Core.Hart;

public sealed unsafe partial class Hart
{
    private ITrapObserver? _trapObserver;

    /// <summary>
    /// Told of every trap entry and xRET (see <see cref="ITrapObserver"/>); null (the default) for none.
    /// It costs one null test per trap and nothing per instruction: the calls sit in trap entry and
    /// xRET only, never on the fetch/execute path.
    /// </summary>
    public ITrapObserver? TrapObserver
    {
        get => _trapObserver;
        set => _trapObserver = value;
    }
}
