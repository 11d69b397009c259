namespace ReplayVm.Debugger.Gdb;

/// <summary>What the server does after handling one packet.</summary>
public abstract record GdbReply
{
    /// <summary>Send one packet (the empty string is the "unsupported" reply); then optionally end the session.</summary>
    public sealed record Send(string Payload, bool ThenEndSession = false) : GdbReply;

    /// <summary>Resume the target with this action; the stop reply is sent when it returns.</summary>
    public sealed record Resume(Func<CancellationToken, StopEvent> Run) : GdbReply;

    /// <summary>End the session without replying (the 'k' packet).</summary>
    public sealed record EndSession : GdbReply;

    public static readonly GdbReply Unsupported = new Send("");
    public static readonly GdbReply Ok = new Send("OK");

    /// <summary>Bad arguments (the manual leaves error numbers to the stub; E01 means "malformed").</summary>
    public static readonly GdbReply BadArguments = new Send("E01");

    /// <summary>The request was well formed but failed (unmapped memory, refused write).</summary>
    public static readonly GdbReply Failed = new Send("E02");
}
