using System.Runtime.InteropServices;

namespace ReplayVm.Core.Memory;

/// <summary>
/// A block of host address space that reads as zeros and costs host memory only where it is
/// written: an anonymous private mapping with no swap reservation, whose pages the kernel commits
/// on first touch (reads of untouched pages share the kernel's zero page). That is how QEMU backs
/// guest RAM, and why a 16 GiB guest that touches 40 MiB costs 40 MiB. The address never moves,
/// so the hart and generated code may keep raw pointers into it for the region's lifetime.
/// Released by the finalizer (or <see cref="Dispose"/>): machines are not disposable, and only
/// their touched pages count towards the host's memory until then.
/// </summary>
internal sealed unsafe partial class LazyZeroedRegion : SafeHandle
{
    private const int ProtRead = 1, ProtWrite = 2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymousLinux = 0x20, MapNoReserveLinux = 0x4000;
    private const int MapAnonymousBsd = 0x1000;
    private const int MadviseDontNeed = 4;

    private readonly bool _mapped;

    public LazyZeroedRegion(ulong length) : base(IntPtr.Zero, ownsHandle: true)
    {
        if (length == 0 || length > nuint.MaxValue / 2) throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            int flags = MapPrivate | (OperatingSystem.IsLinux() ? MapAnonymousLinux | MapNoReserveLinux : MapAnonymousBsd);
            nint address = Mmap(0, (nuint)length, ProtRead | ProtWrite, flags, -1, 0);
            if (address == -1)
                throw new OutOfMemoryException($"cannot reserve {length} bytes of address space (mmap failed with errno {Marshal.GetLastPInvokeError()})");
            SetHandle(address);
            _mapped = true;
        }
        else
        {
            // Elsewhere, zeroed allocations of this size are also committed lazily by the OS allocator.
            SetHandle((nint)NativeMemory.AllocZeroed((nuint)length));
        }
    }

    public ulong Length { get; }

    public byte* Pointer => (byte*)handle;

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>
    /// Turns [offset, offset + length) back into untouched zero pages, returning their host memory
    /// (page-aligned; on hosts without the mapping it just clears them).
    /// </summary>
    public void Discard(ulong offset, ulong length)
    {
        if (offset > Length || length > Length - offset) throw new ArgumentOutOfRangeException(nameof(offset));
        if (_mapped && Madvise((nint)(Pointer + offset), (nuint)length, MadviseDontNeed) == 0) return;
        new Span<byte>(Pointer + offset, checked((int)length)).Clear();
    }

    protected override bool ReleaseHandle()
    {
        if (_mapped) return Munmap(handle, (nuint)Length) == 0;
        NativeMemory.Free((void*)handle);
        return true;
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
