using System.Security.Cryptography;
using K4os.Compression.LZ4;
using ReplayVm.Core;

namespace ReplayVm.Replay.Format;

/// <summary>
/// The file preamble and header body (docs/trace-format.md, "Header"). Encoder and decoder side by
/// side. The body is covered by one CRC32C, and each image additionally by its SHA-256.
/// </summary>
internal static class HeaderCodec
{
    public static byte[] Encode(TraceHeader header)
    {
        var body = new ByteWriter(4096);
        body.VarUInt(header.StateHashInterval);
        body.VarUInt((ulong)header.HasherVersion);
        body.VarUInt((ulong)header.BoardRevision);
        body.String(header.Recorder);

        var config = header.Setup.Config;
        body.VarUInt(config.RamSize);
        body.Byte((byte)config.Board);
        body.OptionalString(config.Bootargs);

        body.VarUInt((ulong)header.Setup.Images.Count);
        foreach (var image in header.Setup.Images)
        {
            body.Byte((byte)image.Role);
            body.String(image.Name);
            body.VarUInt(image.LoadAddress);
            body.VarUInt((ulong)image.Bytes.Length);
            body.Bytes(image.Sha256);
            body.Blob(Compress(image.Bytes, LZ4Level.L09_HC, $"image '{image.Name}'"));
        }

        body.VarUInt((ulong)header.Setup.Disks.Count);
        foreach (var disk in header.Setup.Disks) EncodeDisk(body, disk);
        if (body.Length > TraceFormat.MaxHeaderSize)
            throw new InvalidOperationException(
                $"the trace header would take {body.Length} bytes, more than the format's {TraceFormat.MaxHeaderSize}: embed fewer or smaller disks");

        var file = new ByteWriter(TraceFormat.FilePreambleSize + body.Length);
        file.Bytes(TraceFormat.FileMagic);
        file.UInt16(TraceFormat.Version);
        file.UInt16(0); // flags: none defined yet; readers reject any they do not know
        file.UInt32((uint)body.Length);
        file.UInt32(Crc32C.Compute(body.Written));
        file.Bytes(body.Written);
        return file.Written.ToArray();
    }

    /// <summary>Decodes the header at the start of <paramref name="file"/>; returns the header and its total size in bytes.</summary>
    public static (TraceHeader Header, int Size) Decode(ReadOnlySpan<byte> file)
    {
        if (file.Length < TraceFormat.FileMagic.Length || !file[..TraceFormat.FileMagic.Length].SequenceEqual(TraceFormat.FileMagic))
            throw new TraceFormatException("not a ReplayVm trace (bad magic)");
        if (file.Length < TraceFormat.FilePreambleSize)
            throw new TraceFormatException("trace header is truncated (the file ends inside the preamble)");

        var pre = new ByteReader(file[TraceFormat.FileMagic.Length..TraceFormat.FilePreambleSize], "trace preamble");
        ushort version = pre.UInt16();
        if (version > TraceFormat.Version)
            throw new TraceFormatException($"trace format version {version} is newer than this ReplayVm reads (up to {TraceFormat.Version}); upgrade ReplayVm");
        if (version < TraceFormat.OldestReadableVersion)
            throw new TraceFormatException($"trace format version {version} is not a valid version (corrupt header)");
        ushort flags = pre.UInt16();
        if (flags != 0) throw new TraceFormatException($"trace header has unknown flags 0x{flags:x4} (corrupt header)");
        uint bodyLength = pre.UInt32();
        uint expectedCrc = pre.UInt32();
        if (bodyLength > TraceFormat.MaxHeaderSize)
            throw new TraceFormatException($"trace header claims an impossible size of {bodyLength} bytes (corrupt header)");
        if ((ulong)file.Length - TraceFormat.FilePreambleSize < bodyLength)
            throw new TraceFormatException(
                $"trace header is truncated: {file.Length - TraceFormat.FilePreambleSize} of {bodyLength} bytes present (images missing)");

        var bodyBytes = file.Slice(TraceFormat.FilePreambleSize, (int)bodyLength);
        if (Crc32C.Compute(bodyBytes) != expectedCrc)
            throw new TraceFormatException("trace header is corrupt (CRC32C mismatch)");

        var body = new ByteReader(bodyBytes, "trace header");
        ulong interval = body.VarUInt();
        if (interval == 0) throw body.Bad("has a state-hash interval of 0");
        ulong hasherVersion = body.VarUInt();
        if (hasherVersion > int.MaxValue) throw body.Bad($"has an impossible hasher version ({hasherVersion})");
        ulong boardRevision = 0;
        if (version >= TraceFormat.FirstVersionWithDisks)
        {
            boardRevision = body.VarUInt();
            if (boardRevision > int.MaxValue) throw body.Bad($"has an impossible board revision ({boardRevision})");
        }
        string recorder = body.String("recorder name");

        ulong ramSize = body.VarUInt();
        byte board = body.Byte();
        if (!Enum.IsDefined((BoardKind)board)) throw body.Bad($"names an unknown board ({board})");
        string? bootargs = body.OptionalString("bootargs");
        var config = new MachineConfig { RamSize = ramSize, Board = (BoardKind)board, Bootargs = bootargs };

        int count = body.Length(1024, "image count");
        var images = new List<GuestImage>(count);
        for (int i = 0; i < count; i++) images.Add(DecodeImage(ref body, i, count));
        var disks = new List<GuestDisk>();
        if (version >= TraceFormat.FirstVersionWithDisks)
        {
            int diskCount = body.Length(TraceFormat.MaxDisks, "disk count");
            for (int i = 0; i < diskCount; i++) disks.Add(DecodeDisk(ref body, i, diskCount));
        }
        if (!body.AtEnd) throw body.Bad($"has {body.Remaining} unexpected bytes after the {(disks.Count > 0 ? "disks" : "images")}");

        var header = new TraceHeader(new MachineSetup(config, images) { Disks = disks }, interval, recorder)
        {
            HasherVersion = (int)hasherVersion,
            BoardRevision = (int)boardRevision,
            FormatVersion = version,
        };
        return (header, TraceFormat.FilePreambleSize + (int)bodyLength);
    }

    private static GuestImage DecodeImage(ref ByteReader body, int index, int count)
    {
        string where = $"image {index + 1} of {count}";
        if (body.AtEnd) throw body.Bad($"is missing {where}");
        byte role = body.Byte();
        if (!Enum.IsDefined((ImageRole)role)) throw body.Bad($"gives {where} an unknown role ({role})");
        string name = body.String("image name");
        ulong address = body.VarUInt();
        int rawLength = body.Length(TraceFormat.MaxHeaderSize, "image size");
        byte[] sha = body.Bytes(TraceFormat.Sha256Size).ToArray();
        byte[] compressed = body.Blob(TraceFormat.MaxHeaderSize, "compressed image size");
        return new GuestImage((ImageRole)role, name, address, Decompress(compressed, rawLength, sha, $"image '{name}'"));
    }

    /// <summary>
    /// A disk: name, size, SHA-256, then a byte saying whether its bytes follow (1: an LZ4 block
    /// of exactly size bytes) or not (0: the replay supplies an image with that hash).
    /// </summary>
    private static void EncodeDisk(ByteWriter body, GuestDisk disk)
    {
        body.String(disk.Name);
        body.VarUInt((ulong)disk.Size);
        body.Bytes(disk.Sha256);
        if (disk.Bytes is not { } bytes)
        {
            body.Byte(0);
            return;
        }
        body.Byte(1);
        // The fast level: disks are large and mostly empty, and the level does not change how a reader decodes.
        body.Blob(Compress(bytes, LZ4Level.L00_FAST, $"disk '{disk.Name}'"));
    }

    private static GuestDisk DecodeDisk(ref ByteReader body, int index, int count)
    {
        string where = $"disk {index + 1} of {count}";
        if (body.AtEnd) throw body.Bad($"is missing {where}");
        string name = body.String("disk name");
        ulong size = body.VarUInt();
        if (size > long.MaxValue) throw body.Bad($"gives {where} an impossible size ({size})");
        byte[] sha = body.Bytes(TraceFormat.Sha256Size).ToArray();
        byte embedded = body.Byte();
        switch (embedded)
        {
            case 0:
                return GuestDisk.ByHash(name, (long)size, sha);
            case 1:
                if (size > (ulong)Array.MaxLength) throw body.Bad($"gives {where} an impossible embedded size ({size})");
                byte[] compressed = body.Blob(TraceFormat.MaxHeaderSize, "compressed disk size");
                return new GuestDisk(name, (long)size, sha, Decompress(compressed, (int)size, sha, $"disk '{name}'"));
            default:
                throw body.Bad($"gives {where} an unknown embedding flag ({embedded})");
        }
    }

    private static byte[] Compress(byte[] raw, LZ4Level level, string what)
    {
        var compressed = new byte[LZ4Codec.MaximumOutputSize(raw.Length)];
        int size = raw.Length == 0 ? 0 : LZ4Codec.Encode(raw, compressed, level);
        if (size < 0) throw new InvalidOperationException($"LZ4 could not compress {what}");
        return compressed[..size];
    }

    private static byte[] Decompress(byte[] compressed, int rawLength, byte[] sha, string what)
    {
        // LZ4 expands at most 255:1, so a larger claim is corruption; checking first keeps the allocation honest.
        if ((long)rawLength > (long)compressed.Length * 255 + 16)
            throw new TraceFormatException($"trace header: {what} claims {rawLength} bytes from {compressed.Length} compressed (corrupt)");
        var raw = new byte[rawLength];
        int decoded = rawLength == 0 ? 0 : LZ4Codec.Decode(compressed, raw);
        if (decoded != rawLength)
            throw new TraceFormatException($"trace header: {what} does not decompress (corrupt)");
        if (!SHA256.HashData(raw).AsSpan().SequenceEqual(sha))
            throw new TraceFormatException($"trace header: {what} does not match its SHA-256 (corrupt)");
        return raw;
    }
}
