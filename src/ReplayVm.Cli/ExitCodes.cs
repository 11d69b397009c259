namespace ReplayVm.Cli;

/// <summary>Process exit statuses besides the guest's own exit code.</summary>
internal static class ExitCodes
{
    /// <summary>Bad command line or unusable guest file (like most Unix tools).</summary>
    public const int Usage = 2;
    /// <summary>The instruction budget ran out: the same status as timeout(1).</summary>
    public const int InstructionLimit = 124;
    /// <summary>The guest trapped with no way out.</summary>
    public const int TrapLoop = 125;
    /// <summary>Stopped by Ctrl-C: 128 + SIGINT, as a shell reports it.</summary>
    public const int Interrupted = 130;
}
