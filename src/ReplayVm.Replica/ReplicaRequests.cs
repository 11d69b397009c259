using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica;

/// <summary>One-shot requests to a replica: status, protect, migrate.</summary>
public static class ReplicaRequests
{
    public static string Status(Endpoint endpoint, ReplicaKey key)
    {
        using var channel = SecureChannel.Connect(endpoint, key, Purpose.Status);
        channel.Send((byte)MessageType.StatusRequest, []);
        return Answer(channel, endpoint, MessageType.StatusReply);
    }

    /// <summary>
    /// Asks the live replica at <paramref name="primary"/> to stream its log to the backup at
    /// <paramref name="backup"/>. The replica reaches the backup and has the guest pause for its
    /// join (up to 10 + 30 s) before it answers, reporting every second meanwhile: silence for
    /// <paramref name="patience"/> (default 30 s) means it is gone or stuck.
    /// </summary>
    public static string Protect(Endpoint primary, Endpoint backup, ReplicaKey key, TimeSpan? patience = null) =>
        LongRequest(primary, key, MessageType.Protect, backup, null, patience,
            (what, _) => $"{primary}: no answer (the replica went {what} while reaching the backup)");

    /// <summary>
    /// Asks the live replica at <paramref name="from"/> to move its guest to the backup at
    /// <paramref name="to"/>; its progress reports go to <paramref name="progress"/>. The replica
    /// reports at least every second while it works, so silence for <paramref name="patience"/>
    /// (default 30 s) means it is gone or stuck: one line then, never an endless wait.
    /// </summary>
    public static string Migrate(Endpoint from, Endpoint to, ReplicaKey key, Action<string>? progress = null, TimeSpan? patience = null) =>
        LongRequest(from, key, MessageType.Migrate, to, progress, patience,
            (what, last) => $"{from}: the replica went {what} during the migration{(last is null ? "" : $"; its last report: {last}")}");

    /// <summary>
    /// A control request the replica answers only when done, reporting progress (an empty report: a
    /// keepalive, <see cref="RequesterReports"/>) meanwhile. Silence for <paramref name="patience"/>
    /// or a lost connection ends it with <paramref name="failure"/>(what happened, the last report).
    /// </summary>
    private static string LongRequest(Endpoint replica, ReplicaKey key, MessageType type, Endpoint argument,
        Action<string>? progress, TimeSpan? patience, Func<string, string?, string> failure)
    {
        var silence = patience ?? TimeSpan.FromSeconds(30);
        using var channel = SecureChannel.Connect(replica, key, Purpose.Control, TimeSpan.FromSeconds(10));
        channel.Send((byte)type, new PayloadWriter().Text(argument.ToString()).ToArray());
        channel.ReceiveTimeout = silence;
        string? last = null;
        try
        {
            while (true)
            {
                var (answer, payload) = channel.Receive();
                if (answer != (byte)MessageType.ControlProgress) return Reply(answer, payload, replica, MessageType.ControlReply);
                string text = new PayloadReader(payload, "progress").Text(1 << 16);
                if (text.Length == 0) continue;
                last = text;
                progress?.Invoke(text);
            }
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            throw new ReplicaException(failure(e is TimeoutException ? $"silent for {silence.TotalSeconds:0.#} s" : $"gone ({e.Message})", last));
        }
    }

    private static string Answer(SecureChannel channel, Endpoint endpoint, MessageType expected)
    {
        try
        {
            var (type, payload) = channel.Receive();
            return Reply(type, payload, endpoint, expected);
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            throw new ReplicaException($"{endpoint}: no answer ({e.Message})");
        }
    }

    private static string Reply(byte type, byte[] payload, Endpoint endpoint, MessageType expected)
    {
        if (type == (byte)MessageType.Error) throw new ReplicaException($"{endpoint}: {new PayloadReader(payload, "error").Text()}");
        if (type != (byte)expected) throw new ReplicaException($"{endpoint}: unexpected answer {type}");
        return new PayloadReader(payload, "answer").Text(1 << 16);
    }
}
