using System.Buffers.Binary;
using System.Text;

namespace ReplayVm.Debugger.Symbols;

/// <summary>
/// Little-endian reads from a DWARF section where every read is bounds-checked, so malformed data
/// ends in a <see cref="DwarfFormatException"/> naming the section, never in an
/// IndexOutOfRangeException. Each read consumes at least one byte, which is what bounds every
/// loop over a section by the section's length.
/// </summary>
internal ref struct DwarfCursor
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _section;

    public DwarfCursor(ReadOnlySpan<byte> data, string section, int position = 0)
    {
        _data = data;
        _section = section;
        Position = position;
    }

    public int Position { get; set; }
    public readonly int Length => _data.Length;
    public readonly bool AtEnd => Position >= _data.Length;

    public ReadOnlySpan<byte> Bytes(ulong count)
    {
        if (Position < 0 || (ulong)Position > (ulong)_data.Length || count > (ulong)(_data.Length - Position))
            throw new DwarfFormatException($"truncated {_section}: {count} bytes needed at offset 0x{Position:x}");
        var bytes = _data.Slice(Position, (int)count);
        Position += (int)count;
        return bytes;
    }

    public void Skip(ulong count) => Bytes(count);

    public byte U8() => Bytes(1)[0];
    public sbyte S8() => (sbyte)Bytes(1)[0];
    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2));
    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4));
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8));

    /// <summary>A section offset: 4 bytes in 32-bit DWARF, 8 in 64-bit DWARF (DWARF 5 §7.4).</summary>
    public ulong Offset(bool dwarf64) => dwarf64 ? U64() : U32();

    /// <summary>An unsigned little-endian value of 1..8 bytes (a target address).</summary>
    public ulong Unsigned(int size)
    {
        if (size is < 1 or > 8) throw new DwarfFormatException($"bad address size {size} in {_section}");
        var bytes = Bytes((ulong)size);
        ulong value = 0;
        for (int i = size - 1; i >= 0; i--) value = value << 8 | bytes[i];
        return value;
    }

    /// <summary>Unsigned LEB128 (DWARF 5 §7.6); bits beyond 64 are dropped, as no field here needs them.</summary>
    public ulong ULeb()
    {
        ulong value = 0;
        int shift = 0;
        while (true)
        {
            byte b = U8();
            if (shift < 64) value |= (ulong)(b & 0x7f) << shift;
            shift += 7;
            if ((b & 0x80) == 0) return value;
        }
    }

    /// <summary>Signed LEB128 (DWARF 5 §7.6), sign-extended from the last byte's bit 6.</summary>
    public long SLeb()
    {
        long value = 0;
        int shift = 0;
        byte b;
        do
        {
            b = U8();
            if (shift < 64) value |= (long)(b & 0x7f) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        if (shift < 64 && (b & 0x40) != 0) value |= -1L << shift;
        return value;
    }

    /// <summary>A NUL-terminated string (UTF-8, as GCC writes file names).</summary>
    public string CString()
    {
        int start = Position;
        if (start < 0 || start > _data.Length) throw new DwarfFormatException($"truncated {_section}: string at offset 0x{start:x}");
        int nul = _data[start..].IndexOf((byte)0);
        if (nul < 0) throw new DwarfFormatException($"unterminated string in {_section} at offset 0x{start:x}");
        Position = start + nul + 1;
        return Encoding.UTF8.GetString(_data.Slice(start, nul));
    }

    /// <summary>The NUL-terminated string at <paramref name="offset"/> of a string section (.debug_str, .debug_line_str).</summary>
    public static string StringAt(ReadOnlySpan<byte> section, ulong offset, string name)
    {
        if (offset >= (ulong)section.Length)
            throw new DwarfFormatException($"string offset 0x{offset:x} is outside {name} ({section.Length} bytes)");
        var cursor = new DwarfCursor(section, name, (int)offset);
        return cursor.CString();
    }
}
