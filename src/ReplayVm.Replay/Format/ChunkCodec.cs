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
        problem = null;
        if (data.Length < TraceFormat.ChunkHeaderSize)
        {
            problem = $"the file ends inside a chunk header ({data.Length} of {TraceFormat.ChunkHeaderSize} bytes)";
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
        if ((ulong)data.Length - TraceFormat.ChunkHeaderSize < payloadLength)
        {
            problem = $"the file ends inside a chunk ({data.Length - TraceFormat.ChunkHeaderSize} of {payloadLength} payload bytes)";
            return null;
        }
        var payload = data.Slice(TraceFormat.ChunkHeaderSize, (int)payloadLength);
        uint crc = Crc32C.Finish(Crc32C.Append(Crc32C.Append(Crc32C.Start, data[4..20]), payload));
        if (crc != expectedCrc)
        {
            problem = "a chunk with a bad CRC32C";
            return null;
        }
        var raw = new byte[rawLength];
        if (rawLength > 0 && LZ4Codec.Decode(payload, raw) != rawLength)
        {
            problem = "a chunk that does not decompress";
            return null;
        }
        return (baseStep, raw, TraceFormat.ChunkHeaderSize + (int)payloadLength);
    }
}
