using ReplayVm.Core.Hart;
using ReplayVm.Core.Memory;
using ReplayVm.Core.State;

namespace ReplayVm.Core;

/// <summary>
/// Snapshots composed from parts kept elsewhere (a checkpoint read back from disk) rather than
/// captured here. The result is an ordinary <see cref="MachineSnapshot"/> of this machine, restored
/// with <see cref="RestoreSnapshot"/> like any other.
/// </summary>
public sealed partial class Machine
{
    /// <summary>
    /// Builds a snapshot of this machine from a hart state, device bytes and RAM pages. Pages not in
    /// <paramref name="pages"/> are zero. Page buffers are taken as they are, not copied: callers
    /// must never write them afterwards, and may share one buffer between several snapshots (a
    /// restore between two such snapshots then copies only the pages whose buffers differ).
    /// <see cref="MachineSnapshot.PrivatePages"/> lists the pages whose buffers
    /// <paramref name="sharesWith"/> (another snapshot of this machine) does not hold.
    /// Nothing is checked but the shapes; whether the state is right is for its state hash to say.
    /// </summary>
    public MachineSnapshot ImportSnapshot(HartSnapshot hart, byte[] deviceState, IEnumerable<KeyValuePair<int, byte[]>> pages,
        MachineSnapshot? sharesWith = null)
    {
        if (sharesWith is not null && !ReferenceEquals(sharesWith.Owner, Ram)) throw new ArgumentException("that snapshot was taken on another machine", nameof(sharesWith));
        int count = (int)Ram.PageCount;
        const int perChunk = MachineSnapshot.PagesPerChunk;
        var chunks = new byte[][]?[(count + perChunk - 1) / perChunk];
        var owned = new List<int>();
        foreach (var (page, bytes) in pages)
        {
            if ((uint)page >= (uint)count) throw new ArgumentOutOfRangeException(nameof(pages), $"page {page} lies beyond this machine's {count} pages of RAM");
            if (bytes.Length != MainMemory.PageSize) throw new ArgumentException($"page {page} holds {bytes.Length} bytes, not {MainMemory.PageSize}", nameof(pages));
            int c = page / perChunk;
            var chunk = chunks[c] ??= NewZeroChunk(Math.Min(perChunk, count - c * perChunk));
            chunk[page % perChunk] = bytes;
            if (sharesWith is null || !ReferenceEquals(sharesWith.PageAt(page), bytes)) owned.Add(page);
        }
        owned.Sort();
        // Epoch 0: no page of this RAM is known to hold the snapshot's bytes, so a capture against
        // it compares bytes, and a restore copies every page whose buffer differs from RAM's lineage.
        return new MachineSnapshot(Ram, hart, deviceState, chunks, count, 0, [.. owned]);
    }

    private static byte[][] NewZeroChunk(int length)
    {
        var chunk = new byte[length][];
        Array.Fill(chunk, MachineSnapshot.ZeroPage);
        return chunk;
    }
}
