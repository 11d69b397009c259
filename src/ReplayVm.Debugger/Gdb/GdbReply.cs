namespace ReplayVm.Debugger.Gdb;

/// <summary>What the server does after handling one packet.</summary>
public abstract record GdbReply
{
    /// <summary>Send one packet (the empty string is the "unsupported" reply); then optionally end the session.</summary>
    public sealed record Send(string Payload, bool ThenEndSession = false) : GdbReply;

    /// <summary>
    /// Work that may take long (resuming the target, a monitor command that moves): the server runs it
    /// on a worker while it watches the client for Ctrl-C, prints progress on gdb's console, and sends
    /// what it returns. <paramref name="Activity"/> names it in progress lines ("continue").
    /// </summary>
    public sealed record Run(string Activity, Func<CancellationToken, IProgress<RunProgress>, RunOutcome> Work) : GdbReply;

    /// <summary>End the session without replying (the 'k' packet).</summary>
    public sealed record EndSession : GdbReply;

    public static readonly GdbReply Unsupported = new Send("");
    public static readonly GdbReply Ok = new Send("OK");

    /// <summary>Bad arguments (the manual leaves error numbers to the stub; E01 means "malformed").</summary>
    public static readonly GdbReply BadArguments = new Send("E01");

    /// <summary>The request was well formed but failed (unmapped memory, refused write).</summary>
    public static readonly GdbReply Failed = new Send("E02");

    /// <summary>
    /// A failure with a reason gdb shows the user ("E.text", manual E.1 "Standard Replies"; gdb prints it
    /// for register writes and for the first packet of a connection).
    /// </summary>
    public static GdbReply Error(string text) => new Send("E." + text);
}

/// <summary>
/// What long work produced: the reply packet, and text for gdb's console sent first (as O packets,
/// which gdb accepts while it waits for a stop reply or a monitor command's answer).
/// </summary>
public readonly record struct RunOutcome(string Reply, string? Console = null);
