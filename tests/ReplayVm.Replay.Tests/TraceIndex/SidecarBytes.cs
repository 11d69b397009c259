using System.Buffers.Binary;
using K4os.Compression.LZ4;
using ReplayVm.Replay.Format;

namespace ReplayVm.Replay.Tests.TraceIndex;

/// <summary>
/// The sidecar's layout as docs/index-format.md gives it, written out independently of the reader:
/// to take a file apart into chunks and put forged ones back with valid CRCs (a hostile user can).
/// </summary>
internal static class SidecarBytes
{
    public sealed record Chunk(int Offset, int Length, ulong BaseStep, byte[] Raw);

    public static int FirstChunkOffset(byte[] file) => 20 + (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(12));

    /// <summary>Every chunk, in order (records and page chunks alike), decoded.</summary>
    public static List<Chunk> Chunks(byte[] file)
    {
        var chunks = new List<Chunk>();
        for (int at = FirstChunkOffset(file); at < file.Length;)
        {
            Assert.True(file.AsSpan(at, 4).SequenceEqual("RVCK"u8));
            int payload = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 4));
            int rawLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8));
            ulong step = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at + 12));
            var raw = new byte[rawLength];
            Assert.Equal(rawLength, LZ4Codec.Decode(file.AsSpan(at + 24, payload), raw));
            chunks.Add(new Chunk(at, 24 + payload, step, raw));
            at += 24 + payload;
        }
        return chunks;
    }

    /// <summary>A chunk as the writer frames it: magic, payload length, raw length, base step, CRC32C of those three and the payload, then the LZ4 block.</summary>
    public static byte[] Encode(ulong baseStep, byte[] raw, uint? payloadLengthClaim = null, uint? rawLengthClaim = null)
    {
        var block = new byte[LZ4Codec.MaximumOutputSize(raw.Length)];
        int size = LZ4Codec.Encode(raw, block);
        var chunk = new byte[24 + size];
        "RVCK"u8.CopyTo(chunk);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(4), payloadLengthClaim ?? (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(8), rawLengthClaim ?? (uint)raw.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(chunk.AsSpan(12), baseStep);
        block.AsSpan(0, size).CopyTo(chunk.AsSpan(24));
        uint crc = Crc32C.Finish(Crc32C.Append(Crc32C.Append(Crc32C.Start, chunk.AsSpan(4, 16)), chunk.AsSpan(24)));
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(20), crc);
        return chunk;
    }

    /// <summary>The file with chunk <paramref name="chunk"/> replaced by <paramref name="replacement"/>.</summary>
    public static byte[] Replace(byte[] file, Chunk chunk, byte[] replacement) =>
        [.. file.AsSpan(0, chunk.Offset), .. replacement, .. file.AsSpan(chunk.Offset + chunk.Length)];

    /// <summary>A snapshot record's fields, taken apart (kind, step, hash, cursor, output, hart, devices, then the page list as it is).</summary>
    public sealed record SnapshotRecord(ulong Step, byte[] Hash, ulong[] Cursor, byte[] Output, byte[] Hart, byte[] Devices, byte[] PageList)
    {
        public static SnapshotRecord Parse(byte[] raw)
        {
            int at = 1;
            ulong step = VarUInt(raw, ref at);
            var hash = raw[at..(at + 16)];
            at += 16;
            ulong[] cursor = [VarUInt(raw, ref at), VarUInt(raw, ref at), VarUInt(raw, ref at)];
            var output = Blob(raw, ref at);
            var hart = Blob(raw, ref at);
            var devices = Blob(raw, ref at);
            return new SnapshotRecord(step, hash, cursor, output, hart, devices, raw[at..]);
        }

        public byte[] Encode()
        {
            var w = new List<byte> { 1 };
            Put(w, Step);
            w.AddRange(Hash);
            foreach (ulong c in Cursor) Put(w, c);
            foreach (var blob in new[] { Output, Hart, Devices })
            {
                Put(w, (ulong)blob.Length);
                w.AddRange(blob);
            }
            w.AddRange(PageList);
            return [.. w];
        }
    }

    public static void Put(List<byte> w, ulong v)
    {
        for (; v >= 0x80; v >>= 7) w.Add((byte)(v | 0x80));
        w.Add((byte)v);
    }

    public static byte[] VarBytes(ulong v)
    {
        var w = new List<byte>();
        Put(w, v);
        return [.. w];
    }

    public static ulong VarUInt(byte[] raw, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = raw[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
    }

    private static byte[] Blob(byte[] raw, ref int at)
    {
        int length = (int)VarUInt(raw, ref at);
        var blob = raw[at..(at + length)];
        at += length;
        return blob;
    }
}
