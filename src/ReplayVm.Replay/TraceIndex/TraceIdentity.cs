using System.IO.Hashing;

namespace ReplayVm.Replay.TraceIndex;

/// <summary>
/// What a sidecar says it belongs to: the trace file's length and the XxHash128 of its bytes. A
/// trace recorded again, appended to or edited has another identity, and its old sidecar is ignored.
/// </summary>
public readonly record struct TraceIdentity(long Length, UInt128 Digest)
{
    public const int DigestSize = 16;

    /// <summary>Hashes the file at <paramref name="path"/> (streamed: traces may exceed memory).</summary>
    public static TraceIdentity OfFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 20);
        var hash = new XxHash128();
        hash.Append(stream);
        return new TraceIdentity(stream.Length, hash.GetCurrentHashAsUInt128());
    }

    public static TraceIdentity OfBytes(ReadOnlySpan<byte> trace) => new(trace.Length, XxHash128.HashToUInt128(trace));
}
