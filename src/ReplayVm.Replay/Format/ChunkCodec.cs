using System.Buffers.Binary;
using K4os.Compression.LZ4;

namespace ReplayVm.Replay.Format;

/// <summary>
/// One chunk: <c>"RVCK", payload length u32, raw length u32, base step u64, CRC32C u32</c>, then the
/// LZ4 block. The CRC covers the three fields after the magic and the payload, so a torn write or
/// a flipped bit anywhere in a chunk is caught. Encoder and decoder side by side.
/// </summary>
internal static class ChunkCodec
{
    public static byte[] Encode(ulong baseStep, ReadOnlySpan<byte> raw)
    {
        var output = new byte[TraceFormat.ChunkHeaderSize + LZ4Codec.MaximumOutputSize(raw.Length)];
        int size = LZ4Codec.Encode(raw, output.AsSpan(TraceFormat.ChunkHeaderSize), LZ4Level.L00_FAST);
        if (size < 0) throw new InvalidOperationException("LZ4 could not compress a trace chunk");

        TraceFormat.ChunkMagic.CopyTo(output);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(4), (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(8), (uint)raw.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(output.AsSpan(12), baseStep);
        uint crc = Crc32C.Append(Crc32C.Start, output.AsSpan(4, 16));
        crc = Crc32C.Finish(Crc32C.Append(crc, output.AsSpan(TraceFormat.ChunkHeaderSize, size)));
        BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(20), crc);
        return output[..(TraceFormat.ChunkHeaderSize + size)];
    }

    /// <summary>
    /// Decodes the chunk at the start of <paramref name="data"/>. Returns null with a reason when
    /// the chunk is short or damaged — the point where a crashed recorder's file ends.
    /// </summary>
    public static (ulong BaseStep, byte[] Raw, int Size)? TryDecode(ReadOnlySpan<byte> data, out string? problem)
    {
        if (TryReadHeader(data, data.Length, out problem) is not { } header) return null;
        var raw = TryDecodePayload(header, data.Slice(TraceFormat.ChunkHeaderSize, (int)header.PayloadLength), out problem);
        return raw is null ? null : (header.BaseStep, raw, TraceFormat.ChunkHeaderSize + (int)header.PayloadLength);
    }

    /// <summary>A chunk header's fields, before its payload is read.</summary>
    public readonly record struct Header(uint PayloadLength, uint RawLength, ulong BaseStep, uint Crc, byte[] Fields);

    /// <summary>
    /// Checks the chunk header at the start of <paramref name="data"/>, where <paramref name="available"/>
    /// bytes of file remain from the chunk's start; null with a reason when it is short or impossible.
    /// </summary>
    public static Header? TryReadHeader(ReadOnlySpan<byte> data, long available, out string? problem)
    {
        problem = null;
        if (available < TraceFormat.ChunkHeaderSize || data.Length < TraceFormat.ChunkHeaderSize)
        {
            problem = $"the file ends inside a chunk header ({available} of {TraceFormat.ChunkHeaderSize} bytes)";
            return null;
        }
        if (!data[..4].SequenceEqual(TraceFormat.ChunkMagic))
        {
            problem = "bad chunk magic";
            return null;
        }
        uint payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        uint rawLength = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        ulong baseStep = BinaryPrimitives.ReadUInt64LittleEndian(data[12..]);
        uint expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(data[20..]);
        if (rawLength > TraceFormat.MaxChunkRawSize || payloadLength > (uint)LZ4Codec.MaximumOutputSize((int)rawLength))
        {
            problem = "a chunk header with impossible lengths";
            return null;
        }
        if (available - TraceFormat.ChunkHeaderSize < payloadLength)
        {
            problem = $"the file ends inside a chunk ({available - TraceFormat.ChunkHeaderSize} of {payloadLength} payload bytes)";
            return null;
        }
        return new Header(payloadLength, rawLength, baseStep, expectedCrc, data[4..20].ToArray());
    }

    /// <summary>Checks the payload against the header's CRC and decompresses it; null with a reason when damaged.</summary>
    public static byte[]? TryDecodePayload(Header header, ReadOnlySpan<byte> payload, out string? problem)
    {
        var raw = new byte[header.RawLength];
        return TryDecodePayloadInto(header, payload, raw, out problem) ? raw : null;
    }

    /// <summary>
    /// <see cref="TryDecodePayload"/> into the first <see cref="Header.RawLength"/> bytes of
    /// <paramref name="destination"/> (at least that long), for callers that reuse one buffer.
    /// </summary>
    public static bool TryDecodePayloadInto(Header header, ReadOnlySpan<byte> payload, Span<byte> destination, out string? problem)
    {
        problem = null;
        uint crc = Crc32C.Finish(Crc32C.Append(Crc32C.Append(Crc32C.Start, header.Fields), payload));
        if (crc != header.Crc)
        {
            problem = "a chunk with a bad CRC32C";
            return false;
        }
        if (header.RawLength > 0 && LZ4Codec.Decode(payload, destination[..(int)header.RawLength]) != header.RawLength)
        {
            problem = "a chunk that does not decompress";
            return false;
        }
        return true;
    }
}
