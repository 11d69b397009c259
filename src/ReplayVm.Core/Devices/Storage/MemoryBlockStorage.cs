namespace ReplayVm.Core.Devices.Storage;

/// <summary>A disk held in a byte array: for tests and small generated images.</summary>
public sealed class MemoryBlockStorage(byte[] bytes, bool readOnly = false) : IBlockStorage
{
    public byte[] Bytes => bytes;
    public long Length => bytes.LongLength;
    public bool IsReadOnly => readOnly;

    public void Read(long offset, Span<byte> destination) => bytes.AsSpan(checked((int)offset), destination.Length).CopyTo(destination);

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        if (readOnly) throw new IOException("storage is read-only");
        source.CopyTo(bytes.AsSpan(checked((int)offset), source.Length));
    }

    public void Flush() { }
}
