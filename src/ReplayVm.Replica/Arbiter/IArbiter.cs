namespace ReplayVm.Replica.Arbiter;

/// <summary>
/// Decides which replica may be live. Before a replica runs the guest on live input it must win
/// the arbiter, and it holds it for as long as it stays live; a replica that cannot win stays (or
/// stops as) a backup. Both replicas reach the same arbiter, so a partition that cuts only the log
/// channel can never leave two live replicas.
/// </summary>
public interface IArbiter : IDisposable
{
    /// <summary>Tries for up to <paramref name="patience"/> to become the one live replica. True when won (and then held until disposed).</summary>
    bool TryAcquire(TimeSpan patience);

    /// <summary>
    /// Records, while held, which log stream may succeed the holder: the id of the backup's log
    /// stream while it is protected, or "none" once the holder runs on without a backup. A backup
    /// that later wins the arbiter goes live only if the token names its own stream — otherwise the
    /// guest went on past its log, and taking over would fork the guest's history.
    /// </summary>
    void PublishSuccessor(string token);

    /// <summary>The token the last holder published (read after winning), or null if none was.</summary>
    string? ReadSuccessor();

    /// <summary>Whether this replica still holds the arbiter (a lease can be lost: then the replica must stop being live).</summary>
    bool Held { get; }

    /// <summary>Raised (from any thread) when a held arbiter is lost.</summary>
    event Action<string>? Lost;

    /// <summary>How to name it in messages: <c>file:PATH</c>, <c>etcd://HOST:PORT</c>.</summary>
    string Description { get; }

    /// <summary>How long a holder that died may still hold it (a lease's TTL; zero for a lock the kernel frees at death).</summary>
    TimeSpan HolderExpiry => TimeSpan.Zero;
}

public static class Arbiters
{
    /// <summary>Parses <c>file:PATH</c> or <c>etcd://HOST:PORT</c>.</summary>
    public static IArbiter Open(string spec, string owner)
    {
        if (spec.StartsWith("file:", StringComparison.Ordinal) && spec.Length > 5) return new FileArbiter(spec[5..]);
        if (spec.StartsWith("etcd://", StringComparison.Ordinal)) return OpenEtcd(spec);
        throw new ReplicaException($"--arbiter: '{spec}' is neither file:PATH nor etcd://HOST:PORT");
    }

    /// <summary><c>etcd://HOST:PORT[/NAME][?ttl=SECONDS]</c>: NAME keeps several guests apart on one etcd (default <c>replayvm</c>), TTL is the lease's (default 2 s).</summary>
    private static IArbiter OpenEtcd(string spec)
    {
        if (!Uri.TryCreate(spec, UriKind.Absolute, out var uri) || uri.Port <= 0 || string.IsNullOrEmpty(uri.Host))
            throw new ReplicaException($"--arbiter: '{spec}' is not etcd://HOST:PORT[/NAME][?ttl=SECONDS]");
        string name = uri.AbsolutePath.Trim('/');
        if (name.Length == 0) name = "replayvm";
        if (name.Length > 128 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ReplicaException($"--arbiter: the etcd arbiter's name '{name}' must be up to 128 letters, digits, '-', '_' or '.'");
        int ttl = 2;
        foreach (var part in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("ttl=", StringComparison.Ordinal) && int.TryParse(part[4..], out ttl) && ttl is >= 1 and <= 3600) continue;
            throw new ReplicaException($"--arbiter: '{part}' in '{spec}': only ttl=SECONDS (1 to 3600) is understood");
        }
        return new EtcdArbiter(uri.Host, uri.Port, name, ttl);
    }
}
