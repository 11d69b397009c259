using System.Security.Cryptography;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Loading;

namespace ReplayVm.Replay;

/// <summary>
/// One virtio-blk disk as a trace knows it: the image's file name, size and SHA-256, and — when
/// embedded — where its bytes come from (a file when recording, the trace's blocks when replaying). A disk too large to embed is named by its hash only; a replay must be
/// handed an image with that hash (<c>replay --drive FILE</c>). Either way the guest sees the
/// image behind a fresh <see cref="CopyOnWriteOverlay"/>, so its writes are part of the run, not
/// of the image.
/// </summary>
public sealed record GuestDisk(string Name, long Size, byte[] Sha256, IBlockStorage? Content)
{
    /// <summary>Disks up to this size are embedded in a trace unless the recorder is told otherwise.</summary>
    public const long DefaultEmbedLimit = 256L << 20;

    /// <summary>An embedded disk: these bytes travel in the trace.</summary>
    public static GuestDisk Embedded(string name, byte[] bytes) =>
        new(name, bytes.LongLength, SHA256.HashData(bytes), new MemoryBlockStorage(bytes, readOnly: true));

    /// <summary>
    /// An embedded disk whose bytes the trace writer reads from <paramref name="content"/> (e.g. the
    /// --drive file), block by block; the SHA-256 is computed here, in one pass.
    /// </summary>
    public static GuestDisk Embedded(string name, IBlockStorage content) => new(name, content.Length, HashOf(content), content);

    /// <summary>A disk named by its contents only; the replay supplies an image with this hash.</summary>
    public static GuestDisk ByHash(string name, long size, byte[] sha256) => new(name, size, sha256, null);

    public bool IsEmbedded => Content is not null;

    public string Sha256Hex => Convert.ToHexString(Sha256).ToLowerInvariant();

    /// <summary>The SHA-256 of everything in <paramref name="storage"/>, read in 1 MiB pieces.</summary>
    public static byte[] HashOf(IBlockStorage storage)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (long offset = 0; offset < storage.Length;)
        {
            int count = (int)Math.Min(buffer.Length, storage.Length - offset);
            storage.Read(offset, buffer.AsSpan(0, count));
            sha.AppendData(buffer, 0, count);
            offset += count;
        }
        return sha.GetHashAndReset();
    }

    /// <summary>
    /// Checks that <paramref name="image"/> is this disk (same size and SHA-256); throws
    /// <see cref="GuestImageException"/> naming <paramref name="source"/> and both hashes when not.
    /// </summary>
    public void Verify(IBlockStorage image, string source, int index)
    {
        if (image.Length != Size)
            throw new GuestImageException(
                $"{source} does not match disk {index + 1} '{Name}' of the trace: it has {image.Length} bytes, the recording had {Size}");
        byte[] actual = HashOf(image);
        if (!actual.AsSpan().SequenceEqual(Sha256))
            throw new GuestImageException(
                $"{source} does not match disk {index + 1} '{Name}' of the trace: sha256 {Convert.ToHexString(actual).ToLowerInvariant()}, the recording had {Sha256Hex}");
    }

    /// <summary>Same name, size, SHA-256 and embedding: the contents are compared by their hash, never read.</summary>
    public bool Equals(GuestDisk? other) =>
        other is not null && Name == other.Name && Size == other.Size && Sha256.AsSpan().SequenceEqual(other.Sha256) && IsEmbedded == other.IsEmbedded;

    public override int GetHashCode() => HashCode.Combine(Name, Size, IsEmbedded);
}

/// <summary>An image offered for a disk the trace names by hash, and where it came from (e.g. its path), for messages.</summary>
public sealed record SuppliedDisk(IBlockStorage Storage, string Source);

/// <summary>
/// Supplies the image behind disk <c>index</c> (0-based) of a setup when the trace does not embed
/// it; null when there is none. The caller verifies nothing: <see cref="MachineSetup.Build"/>
/// checks size and hash itself.
/// </summary>
public delegate SuppliedDisk? DiskSupply(GuestDisk disk, int index);
