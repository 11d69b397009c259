using System.Runtime.InteropServices;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// SIGINT, SIGTERM and SIGHUP while a guest runs: instead of dying on the spot (which would leave
/// a terminal in raw mode and buffered output unwritten), the run stops and the process exits
/// with 128 + the signal number, as a shell reports a killed command. The terminal is restored
/// in the handler itself too, in case the guest takes a moment to stop.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];

    public StopSignals(StopRequest stop, TerminalMode? terminal)
    {
        foreach (var (signal, number) in new[] { (PosixSignal.SIGINT, 2), (PosixSignal.SIGTERM, 15), (PosixSignal.SIGHUP, 1) })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                terminal?.Restore();
                stop.Request(128 + number, null);
            }));
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
    }
}
