using ReplayVm.Core;

namespace ReplayVm.Cli.Hosting;

/// <summary>
/// Why the host stopped a run (Ctrl-A x, a signal) and with which exit status. The first request
/// wins; it may come from any thread.
/// </summary>
internal sealed class StopRequest
{
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _requested = new();
    private Machine? _machine;

    /// <summary>Cancelled by the first request: for sessions that are not one machine run (a gdb server).</summary>
    public CancellationToken Token => _requested.Token;

    public int? ExitCode { get; private set; }
    public string? Message { get; private set; }

    public void Attach(Machine machine)
    {
        lock (_lock) _machine = machine;
    }

    public void Request(int exitCode, string? message)
    {
        lock (_lock)
        {
            if (ExitCode is not null) return;
            ExitCode = exitCode;
            Message = message;
            _machine?.RequestStop();
            _requested.Cancel();
        }
    }
}
