namespace ReplayVm.Replica.Tests.Support;

/// <summary>
/// A backup and a primary on 127.0.0.1 (random ports) sharing a file arbiter and a key, in a
/// temporary directory; each writes its trace there.
/// </summary>
public sealed class ReplicaPair : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("replayvm-replica-").FullName;
    public string ConfigHome => Path.Combine(Dir, "config");
    private readonly string? _arbiter;

    /// <summary>The arbiter both replicas use: a file lock in the directory unless set (an etcd).</summary>
    public string Arbiter { get => _arbiter ?? "file:" + Path.Combine(Dir, "arbiter"); init => _arbiter = value; }
    public string PrimaryTrace => Path.Combine(Dir, "primary.rvtrace");
    public string BackupTrace => Path.Combine(Dir, "backup.rvtrace");

    public ReplicaProcess? Backup { get; private set; }
    public ReplicaProcess? Primary { get; private set; }
    public int BackupLogPort { get; private set; }
    public int BackupConsolePort { get; private set; }
    public int PrimaryConsolePort { get; private set; }

    /// <summary>
    /// The default heartbeat timing (a starved replica is suspected, never failed over while it
    /// holds the arbiter), with a peer timeout generous enough for a 2-core machine shared with
    /// other work, so a starved peer is not dropped either.
    /// </summary>
    public static readonly string[] Timing = ["--peer-timeout", "15000", "--linger", "5"];

    public void StartBackup(params string[] extra)
    {
        Backup = new ReplicaProcess(["backup", "--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0", "--arbiter", Arbiter,
            "-o", BackupTrace, "--deterministic", .. Timing, .. extra], ConfigHome, "backup");
        BackupLogPort = Backup.Port("backup");
        BackupConsolePort = Backup.Port("backup console");
    }

    /// <summary>Starts the primary (after the backup, which it connects to when there is one).</summary>
    public void StartPrimary(string guest, int? logPort = null, params string[] extra)
    {
        int? port = logPort ?? (Backup is null ? null : BackupLogPort);
        string[] backup = port is { } p ? ["--backup", $"127.0.0.1:{p}"] : [];
        Primary = new ReplicaProcess(["primary", .. backup, "--console-listen", "127.0.0.1:0", "--arbiter", Arbiter,
            "-o", PrimaryTrace, "--deterministic", .. Timing, .. extra, guest], ConfigHome, "primary");
        PrimaryConsolePort = Primary.Port("primary console");
    }

    public string Consoles => Backup is null ? $"127.0.0.1:{PrimaryConsolePort}" : $"127.0.0.1:{PrimaryConsolePort},127.0.0.1:{BackupConsolePort}";

    public ReplicaProcess StartConsole(params string[] extra) =>
        new(["console", Consoles, "--patience", "60", .. extra], ConfigHome, "console");

    /// <summary>Replays a trace with <c>replayvm replay</c>: its console output, exit status and stderr.</summary>
    public (int Exit, byte[] Console, string Stderr) Replay(string trace) => ReplicaProcess.Run(ConfigHome, "replay", trace);

    public void Dispose()
    {
        Primary?.Dispose();
        Backup?.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
