using ReplayVm.Core.Hart;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.State;

/// <summary>
/// The whole machine at one step: hart, devices, the machine's own run state, and RAM as one
/// buffer per 4 KiB page. Page buffers are immutable once captured and are shared between
/// snapshots: a snapshot taken against a basis copies only the pages written since the basis, and
/// every all-zero page is one shared buffer. Pages are grouped in chunks of <see cref="PagesPerChunk"/>;
/// a chunk nobody wrote since the basis is shared whole, and a chunk of zero pages is null, so a
/// snapshot of a large, mostly untouched RAM costs what the guest touched, not what it could.
/// So a chain of snapshots costs the pages each interval wrote, and restoring between two of them
/// copies only the pages in which they differ.
/// Take and restore with <see cref="Machine.CaptureSnapshot"/> and <see cref="Machine.RestoreSnapshot"/>.
/// </summary>
public sealed partial class MachineSnapshot
{
    /// <summary>The one buffer every all-zero page of every snapshot points at.</summary>
    internal static readonly byte[] ZeroPage = new byte[MainMemory.PageSize];

    /// <summary>Pages per chunk of the page table (2 MiB of RAM).</summary>
    internal const int PagesPerChunk = 512;

    internal MachineSnapshot(MainMemory owner, HartSnapshot hart, byte[] deviceState, byte[][]?[] chunks, int pageCount, uint epoch, int[] privatePages)
    {
        Owner = owner;
        Hart = hart;
        DeviceState = deviceState;
        Chunks = chunks;
        PageCount = pageCount;
        Epoch = epoch;
        PrivatePages = privatePages;
    }

    /// <summary>The RAM of the machine that took it: epochs mean something only there.</summary>
    internal MainMemory Owner { get; }

    internal HartSnapshot Hart { get; }

    /// <summary>Devices and machine fields, as their <see cref="IDeviceState.SaveState"/> wrote them.</summary>
    internal byte[] DeviceState { get; }

    /// <summary>RAM's pages by chunk: chunk c holds pages c * <see cref="PagesPerChunk"/> onwards; null
    /// means all of them are zero. Chunks and page buffers are never written after capture.</summary>
    internal byte[][]?[] Chunks { get; }

    /// <summary>The RAM write epoch that began right after the capture: pages stamped with an older epoch still hold what this snapshot holds.</summary>
    internal uint Epoch { get; }

    /// <summary>The bytes of page <paramref name="page"/>.</summary>
    internal byte[] PageAt(int page) => Chunks[page / PagesPerChunk]?[page % PagesPerChunk] ?? ZeroPage;

    /// <summary>The step at which the snapshot was taken.</summary>
    public ulong Step => Hart.StepCount;

    public ulong Pc => Hart.ProgramCounter;

    public int PageCount { get; }

    /// <summary>RAM pages whose buffers this snapshot allocated (the rest are shared with its basis or are the zero page).</summary>
    public IReadOnlyList<int> PrivatePages { get; }

    /// <summary>Host memory this snapshot added on top of its basis: its own pages plus the device and hart state.</summary>
    public long PrivateBytes => (long)PrivatePages.Count * MainMemory.PageSize + DeviceState.Length + HartBytes;

    /// <summary>Host memory of the non-RAM part, roughly (registers, CSRs, PMP).</summary>
    public const int HartBytes = 1024;

    /// <summary>Whether page <paramref name="page"/> of this snapshot and of <paramref name="other"/> is the same buffer.</summary>
    public bool SharesPage(int page, MachineSnapshot other) => ReferenceEquals(PageAt(page), other.PageAt(page));
}
