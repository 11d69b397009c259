using System.Security.Cryptography;
using K4os.Compression.LZ4;
using ReplayVm.Core;
using ReplayVm.Core.Devices.Storage;

namespace ReplayVm.Replay.Format;

/// <summary>
/// The file preamble and header body (docs/trace-format.md, "Header"). Encoder and decoder side by
/// side. The body is covered by one CRC32C, and each image additionally by its SHA-256.
/// </summary>
internal static class HeaderCodec
{
    /// <summary>The preamble and header body of <paramref name="header"/> and, after them, the blocks of its embedded disks.</summary>
    public static void Write(Stream output, TraceHeader header)
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

        var disks = header.Setup.Disks;
        var plans = new DiskBlocks.Entry[]?[disks.Count];
        body.VarUInt((ulong)disks.Count);
        for (int i = 0; i < disks.Count; i++) plans[i] = EncodeDisk(body, disks[i]);
        if (body.Length > TraceFormat.MaxHeaderSize)
            throw new InvalidOperationException(
                $"the trace header would take {body.Length} bytes, more than the format's {TraceFormat.MaxHeaderSize}: embed fewer or smaller disks");

        var preamble = new ByteWriter(TraceFormat.FilePreambleSize);
        preamble.Bytes(TraceFormat.FileMagic);
        preamble.UInt16(TraceFormat.Version);
        preamble.UInt16(0); // flags: none defined yet; readers reject any they do not know
        preamble.UInt32((uint)body.Length);
        preamble.UInt32(HeaderCrc(preamble.Written[TraceFormat.FileMagic.Length..], body.Written, TraceFormat.Version));
        output.Write(preamble.Written);
        output.Write(body.Written);
        for (int i = 0; i < disks.Count; i++)
            if (plans[i] is { } plan) DiskBlocks.WriteData(output, disks[i].Content!, plan, $"disk '{disks[i].Name}'");
    }

    /// <summary>The whole encoded header (disk blocks included) as bytes: for tests and small traces.</summary>
    public static byte[] Encode(TraceHeader header)
    {
        using var memory = new MemoryStream();
        Write(memory, header);
        return memory.ToArray();
    }

    /// <summary>
    /// The header's CRC32C: of the body alone up to version 3; from version 4 of the preamble's
    /// version, flags and length followed by the body, so that no single flipped bit in those fields
    /// reads as a valid header of another version.
    /// </summary>
    private static uint HeaderCrc(ReadOnlySpan<byte> versionFlagsLength, ReadOnlySpan<byte> body, ushort version)
    {
        if (version < TraceFormat.FirstVersionWithPreambleInCrc) return Crc32C.Compute(body);
        return Crc32C.Finish(Crc32C.Append(Crc32C.Append(Crc32C.Start, versionFlagsLength[..8]), body));
    }

    /// <summary>
    /// Decodes the header at the start of <paramref name="file"/>; returns it and where the chunks
    /// begin (after the header body and the disk blocks). Reads the preamble and the header body
    /// only: images stay compressed until used and embedded disks are read block by block later,
    /// so what this costs is bounded by the header's real size, never by what it claims.
    /// </summary>
    public static (TraceHeader Header, long Size) Decode(TraceSource file)
    {
        if (file.Length == 0)
            throw new TraceFormatException("empty file: the recorder was killed before it wrote anything (nothing to replay; record again)");
        var start = new byte[(int)Math.Min(file.Length, TraceFormat.FilePreambleSize)];
        file.ReadExactly(0, start, "the preamble");
        if (start.Length < TraceFormat.FileMagic.Length || !start.AsSpan(0, TraceFormat.FileMagic.Length).SequenceEqual(TraceFormat.FileMagic))
            throw new TraceFormatException("not a ReplayVm trace (bad magic)");
        if (start.Length < TraceFormat.FilePreambleSize)
            throw new TraceFormatException("trace header is truncated (the file ends inside the preamble)");

        var pre = new ByteReader(start.AsSpan(TraceFormat.FileMagic.Length), "trace preamble");
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
        if (file.Length - TraceFormat.FilePreambleSize < bodyLength)
            throw new TraceFormatException(
                $"trace header is truncated: {file.Length - TraceFormat.FilePreambleSize} of {bodyLength} bytes present (images missing)");

        var bodyBytes = new byte[bodyLength];
        file.ReadExactly(TraceFormat.FilePreambleSize, bodyBytes, "the header");
        if (HeaderCrc(start.AsSpan(TraceFormat.FileMagic.Length, 8), bodyBytes, version) != expectedCrc)
            throw new TraceFormatException("trace header is corrupt (CRC32C mismatch)");

        var body = new ByteReader(bodyBytes, "trace header");
        ulong interval = body.VarUInt();
        if (interval == 0 || interval > TraceFormat.MaxStateHashInterval)
            throw body.Bad($"has an impossible state-hash interval of {interval} steps (1 to {TraceFormat.MaxStateHashInterval})");
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
        if (ramSize == 0 || ramSize % 4096 != 0 || ramSize > TraceFormat.MaxRamSize)
            throw body.Bad($"gives an impossible RAM size of {ramSize} bytes (a multiple of 4 KiB up to 1 TiB)");
        byte board = body.Byte();
        if (!Enum.IsDefined((BoardKind)board)) throw body.Bad($"names an unknown board ({board})");
        string? bootargs = body.OptionalString("bootargs");
        var config = new MachineConfig { RamSize = ramSize, Board = (BoardKind)board, Bootargs = bootargs };

        int count = body.Length(1024, "image count");
        var images = new List<GuestImage>(count);
        for (int i = 0; i < count; i++) images.Add(DecodeImage(ref body, i, count));
        var disks = new List<GuestDisk>();
        var tables = new List<DiskBlockTable>();
        if (version >= TraceFormat.FirstVersionWithDisks)
        {
            int diskCount = body.Length(TraceFormat.MaxDisks, "disk count");
            for (int i = 0; i < diskCount; i++) disks.Add(DecodeDisk(ref body, i, diskCount, version, file, tables));
        }
        if (!body.AtEnd) throw body.Bad($"has {body.Remaining} unexpected bytes after the {(disks.Count > 0 ? "disks" : "images")}");

        // The disk blocks follow the header body, disk after disk; the chunks follow them.
        long end = TraceFormat.FilePreambleSize + (long)bodyLength;
        foreach (var table in tables)
        {
            table.DataOffset = end;
            end += table.StoredBytes;
        }
        if (end > file.Length)
            throw new TraceFormatException(
                $"trace header is truncated: the embedded disks need {end - TraceFormat.FilePreambleSize - bodyLength} bytes after the header, " +
                $"the file has {file.Length - TraceFormat.FilePreambleSize - bodyLength} (disks missing)");

        var header = new TraceHeader(new MachineSetup(config, images) { Disks = disks }, interval, recorder)
        {
            HasherVersion = (int)hasherVersion,
            BoardRevision = (int)boardRevision,
            FormatVersion = version,
        };
        return (header, end);
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
        CheckRatio(compressed.Length, rawLength, $"image '{name}'");
        return new GuestImage((ImageRole)role, name, address, rawLength, sha, () => Decompress(compressed, rawLength, sha, $"image '{name}'"));
    }

    /// <summary>
    /// A disk: name, size, SHA-256, then how its bytes travel: 0 not at all (the replay supplies an
    /// image with that hash), 2 as blocks after the header (version 3 on); 1, one LZ4 block in the
    /// header, is what version 2 wrote. Returns the block plan when the disk is embedded.
    /// </summary>
    private static DiskBlocks.Entry[]? EncodeDisk(ByteWriter body, GuestDisk disk)
    {
        if (disk.Size > TraceFormat.MaxDiskSize)
            throw new InvalidOperationException($"disk '{disk.Name}' has {disk.Size} bytes, more than the format's {TraceFormat.MaxDiskSize}");
        body.String(disk.Name);
        body.VarUInt((ulong)disk.Size);
        body.Bytes(disk.Sha256);
        if (disk.Content is not { } content)
        {
            body.Byte(DiskByHash);
            return null;
        }
        body.Byte(DiskInBlocks);
        body.VarUInt(TraceFormat.DiskBlockSize);
        var plan = DiskBlocks.Plan(content, $"disk '{disk.Name}'");
        foreach (var entry in plan)
        {
            body.UInt32(entry.Length);
            body.UInt32(entry.Crc);
        }
        return plan;
    }

    private const byte DiskByHash = 0, DiskInOneBlock = 1, DiskInBlocks = 2;

    private static GuestDisk DecodeDisk(ref ByteReader body, int index, int count, ushort version, TraceSource file, List<DiskBlockTable> tables)
    {
        string where = $"disk {index + 1} of {count}";
        if (body.AtEnd) throw body.Bad($"is missing {where}");
        string name = body.String("disk name");
        ulong size = body.VarUInt();
        if (size > (ulong)TraceFormat.MaxDiskSize) throw body.Bad($"gives {where} an impossible size ({size} bytes; at most {TraceFormat.MaxDiskSize})");
        byte[] sha = body.Bytes(TraceFormat.Sha256Size).ToArray();
        byte embedded = body.Byte();
        switch (embedded)
        {
            case DiskByHash:
                return GuestDisk.ByHash(name, (long)size, sha);
            case DiskInOneBlock when version < TraceFormat.FirstVersionWithDiskBlocks:
            {
                if (size > (ulong)Array.MaxLength) throw body.Bad($"gives {where} an impossible embedded size ({size})");
                byte[] compressed = body.Blob(TraceFormat.MaxHeaderSize, "compressed disk size");
                CheckRatio(compressed.Length, (long)size, $"disk '{name}'");
                return new GuestDisk(name, (long)size, sha, new LazyDiskStorage((long)size,
                    () => Decompress(compressed, (int)size, sha, $"disk '{name}'")));
            }
            case DiskInBlocks when version >= TraceFormat.FirstVersionWithDiskBlocks:
            {
                ulong blockSize = body.VarUInt();
                if (blockSize != TraceFormat.DiskBlockSize) throw body.Bad($"gives {where} an unsupported block size ({blockSize})");
                long blocks = DiskBlocks.BlockCount((long)size, (int)blockSize);
                if (blocks * 8 > body.Remaining) throw body.Bad($"ends inside the block table of {where} ({blocks} blocks)");
                var lengths = new uint[blocks];
                var crcs = new uint[blocks];
                for (int i = 0; i < blocks; i++)
                {
                    lengths[i] = body.UInt32();
                    crcs[i] = body.UInt32();
                    long raw = Math.Min((long)blockSize, (long)size - (long)i * (long)blockSize);
                    if (lengths[i] > raw) throw body.Bad($"gives block {i} of {where} an impossible stored length ({lengths[i]} for {raw} bytes)");
                }
                var table = new DiskBlockTable((long)size, (int)blockSize, lengths, crcs);
                tables.Add(table);
                return new GuestDisk(name, (long)size, sha, new TraceDiskStorage(file, table, name));
            }
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

    /// <summary>LZ4 expands at most 255:1, so a larger claim is corruption, caught before anything is allocated.</summary>
    private static void CheckRatio(long compressed, long raw, string what)
    {
        if (raw > compressed * 255 + 16)
            throw new TraceFormatException($"trace header: {what} claims {raw} bytes from {compressed} compressed (corrupt)");
    }

    private static byte[] Decompress(byte[] compressed, int rawLength, byte[] sha, string what)
    {
        var raw = new byte[rawLength];
        int decoded = rawLength == 0 ? 0 : LZ4Codec.Decode(compressed, raw);
        if (decoded != rawLength)
            throw new TraceFormatException($"trace is damaged: {what} does not decompress");
        if (!SHA256.HashData(raw).AsSpan().SequenceEqual(sha))
            throw new TraceFormatException($"trace is damaged: {what} does not match its SHA-256");
        return raw;
    }
}

/// <summary>
/// A format-2 embedded disk (one LZ4 block of the whole image): decompressed, and checked against
/// its SHA-256, only when the guest first reads it.
/// </summary>
internal sealed class LazyDiskStorage(long length, Func<byte[]> load) : IBlockStorage
{
    private readonly Lazy<byte[]> _bytes = new(load);

    public long Length => length;
    public bool IsReadOnly => true;

    public void Read(long offset, Span<byte> destination) => _bytes.Value.AsSpan(checked((int)offset), destination.Length).CopyTo(destination);

    public void Write(long offset, ReadOnlySpan<byte> source) => throw new IOException("an embedded disk is read-only");

    public void Flush() { }
}
