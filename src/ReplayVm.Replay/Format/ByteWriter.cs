using System.Buffers.Binary;
using System.Text;

namespace ReplayVm.Replay.Format;

/// <summary>A growable buffer with the format's primitive encodings: LEB128 varints, fixed little-endian integers, strings.</summary>
internal sealed class ByteWriter
{
    private byte[] _buffer;

    public ByteWriter(int capacity = 256) => _buffer = new byte[Math.Max(capacity, 16)];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    public void Clear() => Length = 0;

    private Span<byte> Grow(int count)
    {
        if (Length + count > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + count));
        var span = _buffer.AsSpan(Length, count);
        Length += count;
        return span;
    }

    public void Byte(byte value) => Grow(1)[0] = value;

    /// <summary>Unsigned LEB128: 7 bits a byte, low first, high bit set on all but the last (at most 10 bytes).</summary>
    public void VarUInt(ulong value)
    {
        while (value >= 0x80)
        {
            Byte((byte)(value | 0x80));
            value >>= 7;
        }
        Byte((byte)value);
    }

    /// <summary>ZigZag then LEB128, so small negative numbers stay short.</summary>
    public void VarInt(long value) => VarUInt((ulong)((value << 1) ^ (value >> 63)));

    public void UInt16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Grow(2), value);
    public void UInt32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Grow(4), value);
    public void UInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Grow(8), value);

    public void Bytes(ReadOnlySpan<byte> data) => data.CopyTo(Grow(data.Length));

    /// <summary>Length-prefixed bytes.</summary>
    public void Blob(ReadOnlySpan<byte> data)
    {
        VarUInt((ulong)data.Length);
        Bytes(data);
    }

    /// <summary>A UTF-8 string as length+1 then its bytes; 0 stands for null.</summary>
    public void OptionalString(string? value)
    {
        if (value is null)
        {
            VarUInt(0);
            return;
        }
        int count = Encoding.UTF8.GetByteCount(value);
        VarUInt((ulong)count + 1);
        Encoding.UTF8.GetBytes(value, Grow(count));
    }

    public void String(string value) => Blob(Encoding.UTF8.GetBytes(value));
}
