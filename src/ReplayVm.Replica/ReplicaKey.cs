using System.Security.Cryptography;

namespace ReplayVm.Replica;

/// <summary>
/// The pre-shared key every replica connection proves it holds. From <c>--key FILE</c>, or by
/// default from <c>$XDG_CONFIG_HOME/replayvm/replica.key</c> (else <c>~/.config/...</c>), created
/// on first use with 32 random bytes and mode 0600, so one user's replicas on one machine need no
/// set-up and other local users cannot connect; for two hosts, copy the file.
/// </summary>
public sealed class ReplicaKey
{
    public const int MinimumBytes = 16;
    public const int MaximumBytes = 4096;

    private ReplicaKey(byte[] secret, string source)
    {
        Secret = secret;
        Source = source;
    }

    internal byte[] Secret { get; }

    /// <summary>
    /// What a plain console client sends as its first line: HMAC-SHA256(key, a fixed label) in hex.
    /// It proves the client could read the key file (so another local user cannot connect) without
    /// putting the key itself on the wire; it is the same on every connection, so it is only ever
    /// accepted over loopback, where only root can capture it.
    /// </summary>
    public string PlainConsoleToken =>
        Convert.ToHexString(System.Security.Cryptography.HMACSHA256.HashData(Secret, "replayvm plain console token v1"u8)).ToLowerInvariant();

    /// <summary>Where the key came from, for messages (never the key itself).</summary>
    public string Source { get; }

    public static ReplicaKey FromBytes(byte[] secret, string source = "memory")
    {
        if (secret.Length < MinimumBytes) throw new ReplicaException($"{source}: a replica key needs at least {MinimumBytes} bytes");
        return new ReplicaKey((byte[])secret.Clone(), source);
    }

    public static string DefaultPath
    {
        get
        {
            string config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            return Path.Combine(config, "replayvm", "replica.key");
        }
    }

    /// <summary>Reads <paramref name="path"/>; creates it first when it is the default file and missing.</summary>
    public static ReplicaKey Load(string? path)
    {
        bool isDefault = path is null;
        path ??= DefaultPath;
        if (isDefault && !File.Exists(path)) CreateDefault(path);
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new ReplicaException($"{path}: no such key file (create one: head -c 32 /dev/urandom > {path}; chmod 600 {path})");
            if (info.Length > MaximumBytes) throw new ReplicaException($"{path}: a key file holds at most {MaximumBytes} bytes");
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
                throw new ReplicaException($"{path}: the key file is readable by other users; chmod 600 {path}");
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReplicaException($"{path}: cannot read the key: {e.Message}");
        }
        return FromBytes(bytes, path);
    }

    private static void CreateDefault(string path)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var file = new FileStream(path, options);
            file.Write(RandomNumberGenerator.GetBytes(32));
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another replica created it at the same moment: use theirs.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReplicaException($"{path}: cannot create the default key: {e.Message} (give --key FILE)");
        }
    }
}
