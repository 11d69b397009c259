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
    /// </summary>
    public MachineSnapshot CaptureSnapshot(MachineSnapshot? basis = null)
    {
        if (basis is not null && !ReferenceEquals(basis.Owner, Ram)) throw new ArgumentException("the basis snapshot was taken on another machine", nameof(basis));
        var (reference, since) = basis is null || ReferenceEquals(basis, _lineage) ? (_lineage?.Pages, _lineageEpoch) : (basis.Pages, basis.Epoch);

        int count = (int)Ram.PageCount;
        var pages = new byte[count][];
        var fresh = new List<int>();
        uint[] epochs = Ram.PageEpochs;
        for (int page = 0; page < count; page++)
        {
            if (reference is not null && epochs[page] < since)
            {
                pages[page] = reference[page];
                continue;
            }
            var bytes = Ram.Bytes.AsSpan(page << MainMemory.PageShift, MainMemory.PageSize);
            if (reference is not null && bytes.SequenceEqual(reference[page])) pages[page] = reference[page];
            else if (!bytes.ContainsAnyExcept((byte)0)) pages[page] = MachineSnapshot.ZeroPage;
            else
            {
                pages[page] = bytes.ToArray();
                fresh.Add(page);
            }
        }

        var snapshot = new MachineSnapshot(Ram, Hart.Capture(), SaveDeviceState(), pages, Ram.AdvanceEpoch(), fresh.ToArray());
        _lineage = snapshot;
        _lineageEpoch = snapshot.Epoch;
        return snapshot;
    }

    /// <summary>
    /// Puts the machine back to <paramref name="snapshot"/>: hart, devices, run state (a pending
    /// exit, the next input poll) and RAM. Pages are written through <see cref="MainMemory.Write"/>,
    /// which drops their cached decodes and stamps their epochs (so incremental hashers see them).
    /// </summary>
    public void RestoreSnapshot(MachineSnapshot snapshot)
    {
        if (!ReferenceEquals(snapshot.Owner, Ram)) throw new ArgumentException("the snapshot was taken on another machine", nameof(snapshot));
        byte[][]? current = _lineage?.Pages;
        uint since = _lineageEpoch;
        uint[] epochs = Ram.PageEpochs;
        for (int page = 0; page < snapshot.Pages.Length; page++)
        {
            bool same = current is not null && epochs[page] < since && ReferenceEquals(current[page], snapshot.Pages[page]);
            if (!same) Ram.Write(Ram.Base + ((ulong)page << MainMemory.PageShift), snapshot.Pages[page]);
        }

        Hart.Restore(snapshot.Hart);
        Hart.TakeDebugStop();
        LoadDeviceState(snapshot.DeviceState);
        _lineage = snapshot;
        _lineageEpoch = Ram.AdvanceEpoch();
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
