namespace ReplayVm.Cli;

/// <summary>Process exit statuses besides the guest's own exit code.</summary>
internal static class ExitCodes
{
    /// <summary><c>diff</c>: the two traces differ.</summary>
    public const int Differ = 1;
    /// <summary>Bad command line or unusable guest file (like most Unix tools).</summary>
    public const int Usage = 2;
    /// <summary><c>replay</c>: the replay parted from the recording (a state hash or an input did not match).</summary>
    public const int Diverged = 3;
    /// <summary><c>replay</c>: the trace is truncated; everything it holds replayed and matched.</summary>
    public const int Truncated = 4;
    /// <summary>The instruction budget ran out: the same status as timeout(1).</summary>
    public const int InstructionLimit = 124;
    /// <summary>The guest trapped with no way out.</summary>
    public const int TrapLoop = 125;
    /// <summary>Stopped by Ctrl-C: 128 + SIGINT, as a shell reports it.</summary>
    public const int Interrupted = 130;
}
