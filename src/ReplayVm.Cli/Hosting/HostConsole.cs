using ReplayVm.Core;
using ReplayVm.Core.Input;
using ReplayVm.Replay.Input;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// The host side of a live run (<c>run</c>, <c>record</c>): where the guest's console input comes
/// from (a terminal in raw mode with the Ctrl-A keys, a pipe, or a script file), stdout for its
/// output, and the ways the host stops it (Ctrl-A x, SIGINT, SIGTERM, SIGHUP). Whatever ends the
/// run, the terminal's settings come back and buffered output is written.
/// </summary>
internal sealed class HostConsole : IDisposable
{
    private readonly bool _interactive;

    private HostConsole(Func<HostConsole, IInputPort> input, bool interactive)
    {
        _interactive = interactive;
        Output = new ConsoleOutputPump(new FileDescriptorStream(FileDescriptorStream.Stdout), Stop.Token);
        Input = input(this);
    }

    public StopRequest Stop { get; } = new();
    public ConsoleOutputPump Output { get; }
    public IInputPort Input { get; }

    /// <summary>Console input from stdin: a terminal (raw mode, Ctrl-A keys) or a pipe/file (bytes unchanged).</summary>
    public static HostConsole FromStdin()
    {
        bool interactive = TerminalMode.StdinIsTerminal;
        return new HostConsole(host => interactive
            ? new LiveConsoleInput(new FileDescriptorStream(FileDescriptorStream.Stdin), new EscapeKeys(
                quit: () => host.Stop.Request(0, "terminated"),
                showHelp: text => { host.Output.Flush(); Console.Error.Write(text); }).Process)
            : new LiveConsoleInput(new FileDescriptorStream(FileDescriptorStream.Stdin)), interactive);
    }

    /// <summary>
    /// Console input typed from <paramref name="keys"/>, handed over as the UART has room, exactly
    /// as piped stdin would be, but independent of host timing. The wall clock and entropy still
    /// come from the host (see <see cref="FixedClockAndEntropy"/> for fixed ones).
    /// </summary>
    public static HostConsole FromScript(byte[] keys)
    {
        var host = new LiveConsoleInput(Stream.Null);
        return new HostConsole(_ => new ScriptedInputPort([new ScriptedKeys(0, keys)], host.ReadWallClock, host.ReadEntropy), interactive: false);
    }

    /// <summary>Runs <paramref name="run"/> with the terminal in raw mode (when interactive) and the stop signals caught.</summary>
    public RunResult Run(Machine machine, Func<RunResult> run)
    {
        Stop.Attach(machine);
        RunResult result = default!;
        RunSession(_ => result = run());
        return result;
    }

    /// <summary>
    /// Runs a session that is not one machine run (a live gdb server): the terminal in raw mode
    /// when interactive, the stop signals and Ctrl-A x cancelling <see cref="StopRequest.Token"/>.
    /// </summary>
    public void RunSession(Action<CancellationToken> session)
    {
        var terminal = _interactive ? TerminalMode.EnterRaw() : null;
        EventHandler restoreAtExit = (_, _) => terminal?.Restore();
        UnhandledExceptionEventHandler restoreOnCrash = (_, _) => terminal?.Restore();
        AppDomain.CurrentDomain.ProcessExit += restoreAtExit;
        AppDomain.CurrentDomain.UnhandledException += restoreOnCrash;
        try
        {
            using var signals = new StopSignals(Stop, terminal);
            session(Stop.Token);
        }
        finally
        {
            Output.Flush();
            terminal?.Restore();
            AppDomain.CurrentDomain.ProcessExit -= restoreAtExit;
            AppDomain.CurrentDomain.UnhandledException -= restoreOnCrash;
        }
    }

    /// <summary>
    /// The process exit status for a finished run, with the reason on stderr where there is one:
    /// the guest's exit code; the host's (0 after Ctrl-A x, 128 + signal) when the host stopped it;
    /// 124 at the instruction limit, 125 for a trap loop.
    /// </summary>
    public int ExitStatus(RunResult result, ulong limit)
    {
        if (result.Reason == StopReason.HostRequest && Stop.ExitCode is { } code)
        {
            if (Stop.Message is { } message) Console.Error.WriteLine($"replayvm: {message}");
            return code;
        }
        switch (result.Reason)
        {
            case StopReason.GuestExit:
                return result.ExitCode;
            case StopReason.InstructionLimit:
                Console.Error.WriteLine($"replayvm: instruction limit {limit} reached");
                return ExitCodes.InstructionLimit;
            case StopReason.TrapLoop:
                Console.Error.WriteLine($"replayvm: {result.Detail ?? "guest is stuck in a trap loop"}");
                return ExitCodes.TrapLoop;
            default:
                return ExitCodes.Interrupted;
        }
    }

    public void Dispose() => Output.Dispose();
}
