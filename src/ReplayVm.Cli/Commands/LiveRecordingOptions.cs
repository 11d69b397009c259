using System.CommandLine;

namespace ReplayVm.Cli.Commands;

/// <summary>
/// The options of a session that records while debugging (<c>gdb --live</c>, <c>debug GUEST</c>):
/// where the trace goes and whether the clock and entropy are fixed. Both are refused when the
/// session debugs an existing trace instead.
/// </summary>
internal sealed class LiveRecordingOptions
{
    private readonly Option<string?> _output;
    private readonly Option<bool> _deterministic;

    /// <param name="when">How help names a live session: "With --live" or "For a live guest".</param>
    public LiveRecordingOptions(string when)
    {
        _output = new Option<string?>("--output", "-o")
        {
            Description = $"{when}: the trace to write [default: a new NAME-N.rvtrace under ~/.local/share/replayvm/traces].",
            HelpName = "FILE.rvtrace",
        };
        _deterministic = new Option<bool>("--deterministic")
        {
            Description = $"{when}: answer wall-clock reads and entropy requests from fixed sources (as 'record --deterministic').",
        };
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_output);
        command.Options.Add(_deterministic);
    }

    public string? Output(ParseResult parsed) => parsed.GetValue(_output);

    public bool Deterministic(ParseResult parsed) => parsed.GetValue(_deterministic);

    /// <summary>Refuses the options for a session that records nothing; <paramref name="why"/> ends the message.</summary>
    public void RefuseUnlessLive(ParseResult parsed, string why)
    {
        if (Output(parsed) is not null || Deterministic(parsed)) throw new UsageException($"-o and --deterministic are for {why}");
    }
}
