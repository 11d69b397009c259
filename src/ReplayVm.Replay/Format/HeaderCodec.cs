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
            var compressed = new byte[LZ4Codec.MaximumOutputSize(image.Bytes.Length)];
            int size = image.Bytes.Length == 0 ? 0 : LZ4Codec.Encode(image.Bytes, compressed, LZ4Level.L09_HC);
            if (size < 0) throw new InvalidOperationException($"LZ4 could not compress image '{image.Name}'");
            body.Blob(compressed.AsSpan(0, size));
        }

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
        string recorder = body.String("recorder name");

        ulong ramSize = body.VarUInt();
        byte board = body.Byte();
        if (!Enum.IsDefined((BoardKind)board)) throw body.Bad($"names an unknown board ({board})");
        string? bootargs = body.OptionalString("bootargs");
        var config = new MachineConfig { RamSize = ramSize, Board = (BoardKind)board, Bootargs = bootargs };

        int count = body.Length(1024, "image count");
        var images = new List<GuestImage>(count);
        for (int i = 0; i < count; i++) images.Add(DecodeImage(ref body, i, count));
        if (!body.AtEnd) throw body.Bad($"has {body.Remaining} unexpected bytes after the images");

        var header = new TraceHeader(new MachineSetup(config, images), interval, recorder)
        {
            HasherVersion = (int)hasherVersion,
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

        // LZ4 expands at most 255:1, so a larger claim is corruption; checking first keeps the allocation honest.
        if ((long)rawLength > (long)compressed.Length * 255 + 16)
            throw new TraceFormatException($"trace header: image '{name}' claims {rawLength} bytes from {compressed.Length} compressed (corrupt)");
        var raw = new byte[rawLength];
        int decoded = rawLength == 0 ? 0 : LZ4Codec.Decode(compressed, raw);
        if (decoded != rawLength)
            throw new TraceFormatException($"trace header: image '{name}' does not decompress (corrupt)");
        if (!SHA256.HashData(raw).AsSpan().SequenceEqual(sha))
            throw new TraceFormatException($"trace header: image '{name}' does not match its SHA-256 (corrupt)");
        return new GuestImage((ImageRole)role, name, address, raw);
    }
}
