using ReplayVm.Core.Memory;
using ReplayVm.Core.State;

namespace ReplayVm.Core;

/// <summary>
/// Whole-machine snapshots. The machine remembers its <em>lineage</em>: the snapshot it last
/// captured or restored, and the RAM write epoch that began right then. A page whose epoch is
/// older than that still holds the lineage's bytes, so a capture copies only pages written since
/// (and shares the rest), and a restore copies only pages written since or whose buffer differs
/// between the lineage and the target. Both run between <see cref="Run"/> calls, never during one.
/// </summary>
public sealed partial class Machine
{
    private MachineSnapshot? _lineage;
    private uint _lineageEpoch;

    /// <summary>
    /// Captures the machine's state. Pages not written since <paramref name="basis"/> (by default,
    /// the snapshot this machine last captured or restored) share the basis' buffers; a page
    /// written but left with the same bytes is shared too, and all-zero pages share one buffer.
    /// Pages never written at all are zero and are not read.
    /// </summary>
    public MachineSnapshot CaptureSnapshot(MachineSnapshot? basis = null)
    {
        if (basis is not null && !ReferenceEquals(basis.Owner, Ram)) throw new ArgumentException("the basis snapshot was taken on another machine", nameof(basis));
        var (reference, since) = basis is null || ReferenceEquals(basis, _lineage) ? (_lineage, _lineageEpoch) : (basis, basis.Epoch);

        int count = (int)Ram.PageCount;
        const int perChunk = MachineSnapshot.PagesPerChunk;
        var chunks = new byte[][]?[(count + perChunk - 1) / perChunk];
        var fresh = new List<int>();
        ReadOnlySpan<uint> epochs = Ram.PageEpochs;
        for (int c = 0; c < chunks.Length; c++)
        {
            int first = c * perChunk, length = Math.Min(perChunk, count - first);
            // Nothing in the chunk written since the reference: it is the reference's chunk (without one,
            // a chunk never written at all is zero).
            if (!Ram.AnyWrittenSince(first, length, reference is null ? 1 : since))
            {
                chunks[c] = reference?.Chunks[c];
                continue;
            }
            byte[][]? referenceChunk = reference?.Chunks[c];
            var chunk = new byte[length][];
            bool allZero = true;
            for (int i = 0; i < length; i++)
            {
                int page = first + i;
                byte[] before = referenceChunk?[i] ?? MachineSnapshot.ZeroPage;
                if (epochs[page] == 0 || (reference is not null && epochs[page] < since)) chunk[i] = epochs[page] == 0 ? MachineSnapshot.ZeroPage : before;
                else
                {
                    var bytes = Ram.Page((ulong)page);
                    if (reference is not null && bytes.SequenceEqual(before)) chunk[i] = before;
                    else if (!bytes.ContainsAnyExcept((byte)0)) chunk[i] = MachineSnapshot.ZeroPage;
                    else
                    {
                        chunk[i] = bytes.ToArray();
                        fresh.Add(page);
                    }
                }
                allZero &= ReferenceEquals(chunk[i], MachineSnapshot.ZeroPage);
            }
            chunks[c] = allZero ? null : chunk;
        }

        var snapshot = new MachineSnapshot(Ram, Hart.Capture(), SaveDeviceState(), chunks, count, Ram.AdvanceEpoch(), fresh.ToArray());
        _lineage = snapshot;
        _lineageEpoch = snapshot.Epoch;
        return snapshot;
    }

    /// <summary>
    /// Puts the machine back to <paramref name="snapshot"/>: hart, devices, run state (a pending
    /// exit, the next input poll) and RAM. Pages are written through <see cref="MainMemory.Write"/>
    /// (zero pages through <see cref="MainMemory.ZeroPage"/>, which returns their host memory),
    /// which drop their cached decodes and stamp their epochs (so incremental hashers see them).
    /// </summary>
    public void RestoreSnapshot(MachineSnapshot snapshot)
    {
        if (!ReferenceEquals(snapshot.Owner, Ram)) throw new ArgumentException("the snapshot was taken on another machine", nameof(snapshot));
        MachineSnapshot? current = _lineage;
        uint since = _lineageEpoch;
        const int perChunk = MachineSnapshot.PagesPerChunk;
        ReadOnlySpan<uint> epochs = Ram.PageEpochs;
        for (int c = 0; c < snapshot.Chunks.Length; c++)
        {
            int first = c * perChunk, length = Math.Min(perChunk, snapshot.PageCount - first);
            byte[][]? target = snapshot.Chunks[c];
            // RAM still holds the lineage's chunk, and that is the target's: nothing to copy.
            if (current is not null && ReferenceEquals(current.Chunks[c], target) && !Ram.AnyWrittenSince(first, length, since)) continue;
            // Never written and meant to be zero: nothing to copy either.
            if (target is null && !Ram.AnyWrittenSince(first, length, 1)) continue;
            for (int i = 0; i < length; i++)
            {
                int page = first + i;
                byte[] want = target?[i] ?? MachineSnapshot.ZeroPage;
                bool same = (current is not null && epochs[page] < since && ReferenceEquals(current.PageAt(page), want))
                    || (epochs[page] == 0 && ReferenceEquals(want, MachineSnapshot.ZeroPage));
                if (same) continue;
                if (ReferenceEquals(want, MachineSnapshot.ZeroPage)) Ram.ZeroPage((ulong)page);
                else Ram.Write(Ram.Base + ((ulong)page << MainMemory.PageShift), want);
            }
        }

        Hart.Restore(snapshot.Hart);
        Hart.TakeDebugStop();
        LoadDeviceState(snapshot.DeviceState);
        _lineage = snapshot;
        _lineageEpoch = Ram.AdvanceEpoch();
    }

    /// <summary>
    /// Lets go of the snapshot this machine last captured or restored, so its page buffers can be
    /// freed once no one else holds it (a snapshot taken only to be sent elsewhere, or one restored
    /// once). The next capture then compares or copies every written page instead of sharing.
    /// </summary>
    public void ForgetSnapshotLineage()
    {
        _lineage = null;
        _lineageEpoch = 0;
    }

    /// <summary>Every device with state, in the fixed order snapshots and the state hash use.</summary>
    internal IEnumerable<IDeviceState> StatefulDevices => [Clint, Uart, .. Peripherals.StatefulDevices];

    private byte[] SaveDeviceState()
    {
        var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            foreach (var device in StatefulDevices) device.SaveState(w);
            // The machine's own run state. _stopRequested is not: it is the host's request, not the guest's state.
            w.Write(_exit is not null);
            w.Write(_exit?.Code ?? 0);
            w.Write(_exit?.Detail is not null);
            w.Write(_exit?.Detail ?? "");
            w.Write(_nextPoll);
        }
        return stream.ToArray();
    }

    private void LoadDeviceState(byte[] state)
    {
        using var r = new BinaryReader(new MemoryStream(state, writable: false));
        foreach (var device in StatefulDevices) device.LoadState(r);
        bool exited = r.ReadBoolean();
        int code = r.ReadInt32();
        bool hasDetail = r.ReadBoolean();
        string detail = r.ReadString();
        _exit = exited ? (code, hasDetail ? detail : null) : null;
        _nextPoll = r.ReadUInt64();
        if (r.BaseStream.Position != state.Length) throw new InvalidDataException("device state was not read to its end: a device's SaveState and LoadState disagree");
    }
}
