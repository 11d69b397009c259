using System.Buffers.Binary;
using System.Text;

namespace ReplayVm.Replay.Format;

/// <summary>
/// Reads what <see cref="ByteWriter"/> wrote. Every overrun or malformed value becomes a
/// <see cref="TraceFormatException"/> naming <paramref name="what"/>, never an index exception.
/// </summary>
internal ref struct ByteReader(ReadOnlySpan<byte> data, string what)
{
    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; private set; }

    public readonly int Remaining => _data.Length - Position;

    public readonly bool AtEnd => Position >= _data.Length;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining) throw Bad($"ends early (needs {count} more bytes at offset {Position})");
        var span = _data.Slice(Position, count);
        Position += count;
        return span;
    }

    public readonly TraceFormatException Bad(string problem) => new($"{what} {problem}");

    public byte Byte() => Take(1)[0];

    public ulong VarUInt()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = Byte();
            if (shift == 63 && b > 1) break;
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw Bad($"has a malformed number before offset {Position}");
    }

    public long VarInt()
    {
        ulong raw = VarUInt();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>A varint that must fit in an int no larger than <paramref name="max"/>.</summary>
    public int Length(int max, string field)
    {
        ulong value = VarUInt();
        if (value > (ulong)max) throw Bad($"has an impossible {field} ({value})");
        return (int)value;
    }

    public ushort UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public uint UInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public ReadOnlySpan<byte> Bytes(int count) => Take(count);

    public byte[] Blob(int max, string field) => Take(Length(Math.Min(max, Remaining), field)).ToArray();

    public string? OptionalString(string field)
    {
        ulong lengthPlusOne = VarUInt();
        if (lengthPlusOne == 0) return null;
        if (lengthPlusOne - 1 > (ulong)Remaining) throw Bad($"has an impossible {field} length ({lengthPlusOne - 1})");
        return Utf8(Take((int)(lengthPlusOne - 1)), field);
    }

    public string String(string field) => Utf8(Take(Length(Remaining, field + " length")), field);

    private readonly string Utf8(ReadOnlySpan<byte> bytes, string field)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Bad($"has a {field} that is not UTF-8");
        }
    }
}
