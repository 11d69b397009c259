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

    /// <summary>Asks the live replica at <paramref name="primary"/> to stream its log to the backup at <paramref name="backup"/>.</summary>
    public static string Protect(Endpoint primary, Endpoint backup, ReplicaKey key) => Control(primary, key, MessageType.Protect, backup);

    /// <summary>Asks the live replica at <paramref name="from"/> to move its guest to the backup at <paramref name="to"/>.</summary>
    public static string Migrate(Endpoint from, Endpoint to, ReplicaKey key) => Control(from, key, MessageType.Migrate, to, TimeSpan.FromMinutes(10));

    private static string Control(Endpoint target, ReplicaKey key, MessageType type, Endpoint argument, TimeSpan? wait = null)
    {
        using var channel = SecureChannel.Connect(target, key, Purpose.Control);
        channel.Send((byte)type, new PayloadWriter().Text(argument.ToString()).ToArray());
        channel.ReceiveTimeout = wait ?? TimeSpan.FromSeconds(10);
        return Answer(channel, target, MessageType.ControlReply);
    }

    private static string Answer(SecureChannel channel, Endpoint endpoint, MessageType expected)
    {
        try
        {
            var (type, payload) = channel.Receive();
            if (type == (byte)MessageType.Error) throw new ReplicaException($"{endpoint}: {new PayloadReader(payload, "error").Text()}");
            if (type != (byte)expected) throw new ReplicaException($"{endpoint}: unexpected answer {type}");
            return new PayloadReader(payload, "answer").Text(1 << 16);
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            throw new ReplicaException($"{endpoint}: no answer ({e.Message})");
        }
    }
}
