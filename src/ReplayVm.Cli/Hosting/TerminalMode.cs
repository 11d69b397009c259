using System.Runtime.InteropServices;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// Raw mode for the terminal on stdin, the way QEMU's stdio character device sets it: no echo, no
/// line editing, no signal keys (Ctrl-C and Ctrl-Z go to the guest), Enter arrives as '\r' — but
/// output post-processing stays on, so a guest that prints bare "\n" still starts each line at
/// the left margin.
/// </summary>
/// <remarks>
/// termios through libc rather than running stty(1): the settings must come back from a signal
/// handler and from ProcessExit, where starting a process is slow and may fail, and the saved
/// settings are kept as an opaque blob (tcgetattr's own bytes), so nothing depends on the struct's
/// layout except the one OPOST bit, whose place is known for Linux and macOS.
/// </remarks>
internal sealed partial class TerminalMode : IDisposable
{
    private const int StdinFd = 0;
    private const int TcsaNow = 0;
    /// <summary>Bigger than struct termios on every Unix (60 bytes on Linux, 72 on macOS).</summary>
    private const int TermiosBufferSize = 256;
    private const uint Opost = 1;

    private readonly byte[] _saved;
    private readonly Lock _lock = new();
    private bool _restored;

    private TerminalMode(byte[] saved) => _saved = saved;

    /// <summary>Whether stdin is a terminal (and so gets raw mode and the Ctrl-A keys).</summary>
    public static bool StdinIsTerminal => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() ? isatty(StdinFd) == 1 : false;

    /// <summary>Puts the terminal on stdin in raw mode; null when stdin is not a terminal (or it cannot be changed).</summary>
    public static TerminalMode? EnterRaw()
    {
        if (!StdinIsTerminal) return null;
        var saved = new byte[TermiosBufferSize];
        if (tcgetattr(StdinFd, saved) != 0) return null;
        var raw = (byte[])saved.Clone();
        cfmakeraw(raw);
        KeepOutputProcessing(raw);
        if (tcsetattr(StdinFd, TcsaNow, raw) != 0) return null;
        return new TerminalMode(saved);
    }

    /// <summary>cfmakeraw clears OPOST; QEMU sets it again (chardev/char-stdio.c), and so do we.</summary>
    private static void KeepOutputProcessing(byte[] termios)
    {
        // c_oflag is the second field: a 32-bit tcflag_t on Linux, a 64-bit one on macOS.
        if (OperatingSystem.IsMacOS())
            BitConverter.TryWriteBytes(termios.AsSpan(8), BitConverter.ToUInt64(termios, 8) | Opost);
        else
            BitConverter.TryWriteBytes(termios.AsSpan(4), BitConverter.ToUInt32(termios, 4) | Opost);
    }

    /// <summary>Puts the saved settings back; safe to call more than once and from any thread.</summary>
    public void Restore()
    {
        lock (_lock)
        {
            if (_restored) return;
            _restored = true;
            tcsetattr(StdinFd, TcsaNow, _saved);
        }
    }

    public void Dispose() => Restore();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int isatty(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int tcgetattr(int fd, [Out] byte[] termios);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int tcsetattr(int fd, int optionalActions, [In] byte[] termios);

    [LibraryImport("libc")]
    private static partial void cfmakeraw([In, Out] byte[] termios);
}
