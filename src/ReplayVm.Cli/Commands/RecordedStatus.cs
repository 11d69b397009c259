using ReplayVm.Core;
using ReplayVm.Replay;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// The exit status <c>replay</c> gives for a faithful replay of a complete trace, from its end
/// record: the guest's exit code; 124 for a recording stopped by its instruction limit and 125
/// for a trap loop, as <c>run</c> reports them; 0 when the host ended the recording (Ctrl-A x, a
/// signal), which the replay reproduced as asked; 4 ("truncated by the host") for a trace that
/// <c>inspect --salvage</c> rebuilt from a dump of a recorder that never finished.
/// </summary>
internal static class RecordedStatus
{
    public static int Of(EndEvent end) => end.Reason switch
    {
        _ when SalvagedTrace.Is(end) => ExitCodes.Truncated,
        StopReason.GuestExit => end.ExitCode,
        StopReason.InstructionLimit => ExitCodes.InstructionLimit,
        StopReason.TrapLoop => ExitCodes.TrapLoop,
        _ => 0,
    };

    /// <summary>How the recording ended, in words.</summary>
    public static string Describe(EndEvent end) => end.Reason switch
    {
        _ when SalvagedTrace.Is(end) => $"truncated by the host ({end.Detail})",
        StopReason.GuestExit => $"guest exit {end.ExitCode}",
        StopReason.InstructionLimit => "instruction limit",
        StopReason.TrapLoop => "trap loop" + (end.Detail is { } d ? $" ({d})" : ""),
        _ => "stopped by the host",
    };
}
