using ReplayVm.Core.Memory;

namespace ReplayVm.Core.State;

/// <summary>
/// Reading a snapshot out, piece by piece, so it can be kept elsewhere (on disk, as page deltas)
/// and composed again with <see cref="Machine.ImportSnapshot"/>: the hart, the devices' bytes,
/// and the RAM pages that differ from another snapshot's.
/// </summary>
public sealed partial class MachineSnapshot
{
    /// <summary>The hart's state (read-only by convention: snapshots are immutable).</summary>
    public HartSnapshotView HartState => new(Hart);

    /// <summary>The devices' and machine's run state, as <see cref="IDeviceState.SaveState"/> wrote it (a layout private to this build).</summary>
    public ReadOnlySpan<byte> DeviceStateBytes => DeviceState;

    /// <summary>The bytes of RAM page <paramref name="page"/> (an index from 0).</summary>
    public ReadOnlySpan<byte> PageBytes(int page)
    {
        if ((uint)page >= (uint)PageCount) throw new ArgumentOutOfRangeException(nameof(page));
        return PageAt(page);
    }

    /// <summary>Whether page <paramref name="page"/> is all zeros (the shared zero buffer).</summary>
    public bool IsZeroPage(int page) => ReferenceEquals(PageAt(page), ZeroPage);

    /// <summary>
    /// Adds to <paramref name="into"/>, ascending, every page whose bytes may differ from
    /// <paramref name="basis"/>'s (from all zeros without one): pages held in another buffer. Buffers
    /// are shared whenever bytes are unchanged since the basis was captured or restored on this
    /// machine, so this costs the pages written since, not the RAM's size.
    /// </summary>
    public void ChangedPages(MachineSnapshot? basis, List<int> into)
    {
        if (basis is not null && basis.PageCount != PageCount) throw new ArgumentException("the basis has another RAM size", nameof(basis));
        for (int c = 0; c < Chunks.Length; c++)
        {
            byte[][]? mine = Chunks[c], theirs = basis?.Chunks[c];
            if (ReferenceEquals(mine, theirs)) continue;
            int first = c * PagesPerChunk, length = Math.Min(PagesPerChunk, PageCount - first);
            for (int i = 0; i < length; i++)
            {
                byte[] a = mine?[i] ?? ZeroPage, b = theirs?[i] ?? ZeroPage;
                if (!ReferenceEquals(a, b)) into.Add(first + i);
            }
        }
    }
}

/// <summary>A read-only handle on a snapshot's hart state: enough to write it out.</summary>
public readonly struct HartSnapshotView(Hart.HartSnapshot hart)
{
    public ulong Steps => hart.StepCount;

    public void Write(BinaryWriter w) => hart.Write(w);
}
