namespace ReplayVm.Cli.Hosting;

/// <summary>
/// QEMU's console escape (its "mux" character device): Ctrl-A x quits, Ctrl-A Ctrl-A sends one
/// Ctrl-A, Ctrl-A h shows the keys; any other key after Ctrl-A is dropped, as QEMU drops it.
/// Every other byte goes to the guest unchanged. Used only for an interactive terminal: piped
/// input is passed through untouched.
/// </summary>
internal sealed class EscapeKeys(Action quit, Action<string> showHelp)
{
    public const byte CtrlA = 0x01;

    public const string Help =
        "C-a h    print this help\r\n" +
        "C-a x    exit replayvm\r\n" +
        "C-a C-a  send C-a to the guest\r\n";

    private bool _afterEscape;

    /// <summary>Feeds one typed byte; returns the byte for the guest, or null when the key was ours.</summary>
    public byte? Process(byte key)
    {
        if (!_afterEscape)
        {
            if (key != CtrlA) return key;
            _afterEscape = true;
            return null;
        }
        _afterEscape = false;
        switch (key)
        {
            case CtrlA:
                return CtrlA;
            case (byte)'x':
                quit();
                return null;
            case (byte)'h' or (byte)'?':
                showHelp(Help);
                return null;
            default:
                return null;
        }
    }
}
