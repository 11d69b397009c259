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
    public static string Protect(Endpoint primary, Endpoint backup, ReplicaKey key, TimeSpan? patience = null)
    {
        using var channel = SecureChannel.Connect(primary, key, Purpose.Control, TimeSpan.FromSeconds(10));
        channel.Send((byte)MessageType.Protect, new PayloadWriter().Text(backup.ToString()).ToArray());
        channel.ReceiveTimeout = patience ?? TimeSpan.FromSeconds(30);
        try
        {
            while (true)
            {
                var (type, payload) = channel.Receive();
                if (type != (byte)MessageType.ControlProgress) return Reply(type, payload, primary, MessageType.ControlReply);
            }
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            throw new ReplicaException($"{primary}: no answer ({e.Message})");
        }
    }

    /// <summary>
    /// Asks the live replica at <paramref name="from"/> to move its guest to the backup at
    /// <paramref name="to"/>; its progress reports go to <paramref name="progress"/>. The replica
    /// reports at least every second while it works, so silence for <paramref name="patience"/>
    /// (default 30 s) means it is gone or stuck: one line then, never an endless wait.
    /// </summary>
    public static string Migrate(Endpoint from, Endpoint to, ReplicaKey key, Action<string>? progress = null, TimeSpan? patience = null)
    {
        var silence = patience ?? TimeSpan.FromSeconds(30);
        using var channel = SecureChannel.Connect(from, key, Purpose.Control, TimeSpan.FromSeconds(10));
        channel.Send((byte)MessageType.Migrate, new PayloadWriter().Text(to.ToString()).ToArray());
        channel.ReceiveTimeout = silence;
        string? last = null;
        try
        {
            while (true)
            {
                var (type, payload) = channel.Receive();
                if (type != (byte)MessageType.ControlProgress) return Reply(type, payload, from, MessageType.ControlReply);
                string text = new PayloadReader(payload, "progress").Text(1 << 16);
                if (text.Length == 0) continue;
                last = text;
                progress?.Invoke(text);
            }
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            string what = e is TimeoutException ? $"silent for {silence.TotalSeconds:0.#} s" : $"gone ({e.Message})";
            throw new ReplicaException($"{from}: the replica went {what} during the migration{(last is null ? "" : $"; its last report: {last}")}");
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
