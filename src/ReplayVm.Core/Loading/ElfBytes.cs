using System.Buffers.Binary;

namespace ReplayVm.Core.Loading;

/// <summary>
/// Little-endian reads from an ELF file where every access is bounds-checked up front, so that a
/// malformed file ends in a <see cref="GuestImageException"/> naming the part that was cut off,
/// never in an IndexOutOfRangeException.
/// </summary>
internal readonly ref struct ElfBytes
{
    private readonly ReadOnlySpan<byte> _data;

    public ElfBytes(ReadOnlySpan<byte> data) => _data = data;

    public ulong Length => (ulong)_data.Length;

    /// <summary>True when [offset, offset + count) lies inside the file; written so it cannot overflow.</summary>
    public bool Contains(ulong offset, ulong count) => offset <= Length && count <= Length - offset;

    /// <summary>Throws "truncated: <paramref name="what"/> beyond end of file" unless the range is inside the file.</summary>
    public void Require(ulong offset, ulong count, string what)
    {
        if (!Contains(offset, count))
            throw new GuestImageException($"truncated: {what} beyond end of file");
    }

    public ReadOnlySpan<byte> Slice(ulong offset, ulong count, string what)
    {
        Require(offset, count, what);
        return _data.Slice((int)offset, (int)count);
    }

    public byte U8(ulong offset, string what) => Slice(offset, 1, what)[0];
    public ushort U16(ulong offset, string what) => BinaryPrimitives.ReadUInt16LittleEndian(Slice(offset, 2, what));
    public uint U32(ulong offset, string what) => BinaryPrimitives.ReadUInt32LittleEndian(Slice(offset, 4, what));
    public ulong U64(ulong offset, string what) => BinaryPrimitives.ReadUInt64LittleEndian(Slice(offset, 8, what));
}
