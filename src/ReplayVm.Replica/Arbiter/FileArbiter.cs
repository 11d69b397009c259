namespace ReplayVm.Replica.Arbiter;

/// <summary>
/// The analogue of VMware FT's test-and-set on shared storage: an exclusive OS lock on a file
/// that both replicas can open. .NET opens a file with <see cref="FileShare.None"/> under
/// <c>flock(LOCK_EX | LOCK_NB)</c> on Unix, so the second opener fails at once, and the kernel drops
/// the lock when its holder dies — kill -9 included — which is what lets the backup win.
/// <para>Semantics over NFS: Linux emulates <c>flock</c> with POSIX byte-range locks there (since
/// 2.6.12), held by the server (NLM for NFSv3, the protocol itself for NFSv4). A client that dies
/// loses its lock only when the server notices: NFSv4 after the lease time (90 s by default), so a
/// failover over NFS takes that long; a client cut off from the server keeps believing it holds
/// the lock until its lease expires, so run the replicas with NFSv4 leases shorter than anything
/// that matters, or use etcd. <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> must not be set.</para>
/// </summary>
public sealed class FileArbiter(string path) : IArbiter
{
    private FileStream? _lock;

    public string Description => "file:" + path;

    public bool Held => _lock is not null;

    public event Action<string>? Lost { add { } remove { } }

    public bool TryAcquire(TimeSpan patience)
    {
        if (_lock is not null) return true;
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            try
            {
                _lock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                _previous = ReadAll(_lock);
                return true;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(10);
            }
            catch (IOException)
            {
                return false;
            }
            catch (Exception e) when (e is UnauthorizedAccessException or DirectoryNotFoundException)
            {
                throw new ReplicaException($"{Description}: cannot open the arbiter file: {e.Message}");
            }
        }
    }

    private string? _previous;

    private static string ReadAll(FileStream file)
    {
        if (file.Length > 4096) return "";
        var bytes = new byte[file.Length];
        file.Position = 0;
        file.ReadExactly(bytes);
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    /// <summary>The file holds <c>successor TOKEN</c> and, for a human, who holds the lock; the lock, not the text, decides who is live.</summary>
    public void PublishSuccessor(string token)
    {
        if (_lock is null) throw new InvalidOperationException("the arbiter is not held");
        var text = System.Text.Encoding.UTF8.GetBytes($"successor {token}\nholder replayvm pid {Environment.ProcessId} on {Environment.MachineName}\n");
        _lock.SetLength(0);
        _lock.Position = 0;
        _lock.Write(text);
        _lock.Flush(flushToDisk: true);
    }

    public string? ReadSuccessor()
    {
        foreach (var line in (_previous ?? "").Split('\n'))
            if (line.StartsWith("successor ", StringComparison.Ordinal)) return line[10..].Trim();
        return null;
    }

    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }
}
