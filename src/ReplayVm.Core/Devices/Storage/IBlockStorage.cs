namespace ReplayVm.Core.Devices.Storage;

/// <summary>
/// The bytes behind a virtual disk. Core never opens files: the host supplies an implementation
/// (a file, an in-memory image, a copy-on-write overlay). Offsets and lengths passed in always lie
/// inside <see cref="Length"/>; an implementation may throw <see cref="IOException"/> on a host
/// failure, which the disk reports to the guest as an I/O error.
/// </summary>
public interface IBlockStorage
{
    long Length { get; }
    bool IsReadOnly { get; }
    void Read(long offset, Span<byte> destination);
    void Write(long offset, ReadOnlySpan<byte> source);
    void Flush();
}
