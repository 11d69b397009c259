using K4os.Compression.LZ4;
using ReplayVm.Core;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Memory;
using ReplayVm.Core.State;
using ReplayVm.Replay;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica;

/// <summary>
/// State transfer for a backup that joins a running primary: the primary's machine at step S
/// (hart, devices with the disks' copy-on-write overlays, the RAM pages that are not zero) and the
/// most recent part of the guest's console stream up to S (what its <see cref="ConsoleHistory"/> holds), as a <see cref="MessageType.SnapshotBegin"/>, parts and a
/// <see cref="MessageType.SnapshotEnd"/> on the log channel. Each frame is authenticated by the
/// channel; the whole is checked by the state hash at S, which the backup recomputes after restoring.
/// </summary>
internal static class SnapshotTransfer
{
    public const byte DevicePart = 0, ConsolePart = 1, PagePart = 2;

    /// <summary>Pages per part (256 KiB before compression), bytes per device or console part.</summary>
    private const int PagesPerPart = 64, BytesPerPart = 1 << 20;

    /// <summary>The largest hart state accepted (it is about 5 KiB).</summary>
    public const int MaxHartBytes = 64 << 10;

    /// <summary>The longest console history a joining backup accepts (the most a <see cref="ConsoleHistory"/> holds).</summary>
    public const long MaxConsoleBytes = ConsoleHistory.MaxCapacity + 2L * ConsoleHistory.MaxChunkSize;

    /// <summary>The frames of a snapshot, made one at a time as the log sender asks (the pages are never all encoded at once).</summary>
    public static IEnumerable<(MessageType Type, byte[] Payload)> Encode(MachineSnapshot snapshot, StateHash hash, (long Start, byte[] Bytes) history)
    {
        var pages = new List<int>();
        snapshot.ChangedPages(null, pages);
        var hart = new MemoryStream();
        using (var w = new BinaryWriter(hart, System.Text.Encoding.UTF8, leaveOpen: true)) snapshot.HartState.Write(w);
        var hashBytes = new byte[StateHash.Size];
        hash.WriteTo(hashBytes);
        byte[] devices = snapshot.DeviceStateBytes.ToArray();
        byte[] console = history.Bytes;
        yield return (MessageType.SnapshotBegin, new PayloadWriter().U64(snapshot.Step).Bytes(hashBytes).Blob(hart.ToArray())
            .U64((ulong)devices.Length).U32((uint)pages.Count).U64((ulong)console.Length).U64((ulong)history.Start).ToArray());
        for (int at = 0; at < devices.Length; at += BytesPerPart)
            yield return (MessageType.SnapshotPart, new PayloadWriter().U8(DevicePart).Blob(devices.AsSpan(at, Math.Min(BytesPerPart, devices.Length - at))).ToArray());
        for (int at = 0; at < console.Length; at += BytesPerPart)
            yield return (MessageType.SnapshotPart, new PayloadWriter().U8(ConsolePart).Blob(console.AsSpan(at, Math.Min(BytesPerPart, console.Length - at))).ToArray());
        var raw = new byte[PagesPerPart * MainMemory.PageSize];
        var packed = new byte[LZ4Codec.MaximumOutputSize(raw.Length)];
        for (int at = 0; at < pages.Count; at += PagesPerPart)
        {
            int count = Math.Min(PagesPerPart, pages.Count - at);
            var w = new PayloadWriter().U8(PagePart).U32((uint)count);
            for (int i = 0; i < count; i++)
            {
                w.U32((uint)pages[at + i]);
                snapshot.PageBytes(pages[at + i]).CopyTo(raw.AsSpan(i * MainMemory.PageSize));
            }
            int size = LZ4Codec.Encode(raw, 0, count * MainMemory.PageSize, packed, 0, packed.Length, LZ4Level.L00_FAST);
            yield return (MessageType.SnapshotPart, w.Blob(packed.AsSpan(0, size)).ToArray());
        }
        yield return (MessageType.SnapshotEnd, []);
    }

    /// <summary>The largest frame a snapshot part may be (a page part at the LZ4 worst case, plus headers).</summary>
    public static int MaxPartFrame => LZ4Codec.MaximumOutputSize(PagesPerPart * MainMemory.PageSize) + PagesPerPart * 4 + 64;

    /// <summary>
    /// The device state a machine of <paramref name="setup"/> can have: its disks' overlays (each
    /// written page with its number and a count per disk) plus a bound for every other device.
    /// A peer announcing more is lying; nothing is allocated for it.
    /// </summary>
    public static long MaxDeviceBytes(MachineSetup setup)
    {
        long total = 1 << 20;
        foreach (var disk in setup.Disks) total += (disk.Size + 4095) / 4096 * (4096 + 8) + 64;
        return total;
    }
}

/// <summary>
/// The backup's side of a state transfer: checks every announced size against what the machine
/// the header describes can hold before allocating, takes the parts in order, and finally restores
/// the machine and checks its state hash against the primary's.
/// </summary>
internal sealed class SnapshotReceiver
{
    private readonly Machine _machine;
    private readonly string _peer;
    private readonly ulong _step;
    private readonly StateHash _hash;
    private readonly HartSnapshot _hart;
    private readonly long _deviceLength, _consoleLength;
    private readonly int _pageCount;
    private readonly MemoryStream _devices;
    private readonly ConsoleHistory _console;
    private long _consoleReceived;
    private readonly List<KeyValuePair<int, byte[]>> _pages;
    private long _lastPage = -1;

    /// <param name="console">The backup's console history, still empty: it gets the primary's, from the offset the primary still holds.</param>
    public SnapshotReceiver(ReadOnlySpan<byte> begin, Machine machine, MachineSetup setup, ulong frontier, string peer, ConsoleHistory console)
    {
        _machine = machine;
        _peer = peer;
        var r = new PayloadReader(begin, "snapshot");
        _step = r.U64();
        _hash = StateHash.ReadFrom(r.Bytes(StateHash.Size));
        var hartBytes = r.Blob(SnapshotTransfer.MaxHartBytes).ToArray();
        ulong devices = r.U64();
        uint pages = r.U32();
        ulong consoleLength = r.U64();
        ulong consoleStart = r.U64();
        r.End();
        if (_step != frontier) throw Lie($"a snapshot at step {_step}, but its log so far ends at step {frontier}");
        long maxDevices = SnapshotTransfer.MaxDeviceBytes(setup);
        if (devices > (ulong)maxDevices || devices > (ulong)Array.MaxLength)
            throw Lie($"a snapshot with {devices} bytes of device state; this guest's devices and disks hold at most {maxDevices}");
        if (pages > machine.Ram.PageCount) throw Lie($"a snapshot of {pages} RAM pages; the guest has {machine.Ram.PageCount}");
        if (consoleLength > (ulong)SnapshotTransfer.MaxConsoleBytes) throw Lie($"a console history of {consoleLength} bytes (at most {SnapshotTransfer.MaxConsoleBytes})");
        if (consoleStart > long.MaxValue / 2) throw Lie($"a console history starting at byte {consoleStart}");
        try
        {
            using var br = new BinaryReader(new MemoryStream(hartBytes, writable: false));
            _hart = HartSnapshot.Read(br);
            if (br.BaseStream.Position != hartBytes.Length) throw new InvalidDataException("a hart state longer than its layout");
        }
        catch (InvalidDataException e)
        {
            throw Lie($"a snapshot with {e.Message}");
        }
        if (_hart.StepCount != _step) throw Lie($"a snapshot at step {_step} holding a hart at step {_hart.StepCount}");
        (_deviceLength, _consoleLength, _pageCount) = ((long)devices, (long)consoleLength, (int)pages);
        // The bytes go straight into the history, which keeps at most its own capacity of them.
        _console = console;
        _console.StartAt((long)consoleStart);
        // Grown as bytes arrive, so what is allocated is what was sent, never merely what was announced.
        _devices = new MemoryStream((int)Math.Min(_deviceLength, 1 << 20));
        _pages = new List<KeyValuePair<int, byte[]>>(Math.Min(_pageCount, 4096));
    }

    public ulong Step => _step;

    private ReplicaException Lie(string what) =>
        new($"the primary at {_peer} sent {what}: stopping this backup (it never runs on a state it cannot trust)");

    public void Part(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload, "snapshot part");
        switch (r.U8())
        {
            case SnapshotTransfer.DevicePart:
                Append(_devices, r.Blob(1 << 20), _deviceLength, "device state");
                break;
            case SnapshotTransfer.ConsolePart:
            {
                var bytes = r.Blob(1 << 20);
                if (_consoleReceived + bytes.Length > _consoleLength) throw Lie($"more console history than the {_consoleLength} bytes it announced");
                _console.Append(bytes);
                _consoleReceived += bytes.Length;
                break;
            }
            case SnapshotTransfer.PagePart:
            {
                uint count = r.U32();
                if (count == 0 || count > 64 || _pages.Count + count > _pageCount) throw Lie($"a part of {count} pages (it announced {_pageCount} in all, {_pages.Count} sent)");
                var numbers = new int[count];
                for (int i = 0; i < count; i++)
                {
                    uint page = r.U32();
                    if (page >= _machine.Ram.PageCount || page <= _lastPage) throw Lie($"RAM page {page} out of order or beyond the guest's {_machine.Ram.PageCount} pages");
                    numbers[i] = (int)page;
                    _lastPage = page;
                }
                var packed = r.Blob(SnapshotTransfer.MaxPartFrame);
                r.End();
                var raw = new byte[count * MainMemory.PageSize];
                int decoded = LZ4Codec.Decode(packed, raw);
                if (decoded != raw.Length) throw Lie($"a damaged page part (pages {numbers[0]}..{numbers[^1]} decode to {decoded} bytes, not {raw.Length})");
                for (int i = 0; i < count; i++) _pages.Add(new(numbers[i], raw.AsSpan(i * MainMemory.PageSize, MainMemory.PageSize).ToArray()));
                return;
            }
            default: throw Lie("a snapshot part of an unknown kind");
        }
        r.End();
    }

    private void Append(MemoryStream into, ReadOnlySpan<byte> bytes, long announced, string what)
    {
        if (into.Length + bytes.Length > announced) throw Lie($"more {what} than the {announced} bytes it announced");
        into.Write(bytes);
    }

    /// <summary>
    /// Everything announced has arrived: restore the machine to it and check the state hash (the
    /// snapshot's end-to-end checksum: RAM, devices, disks, hart). Throws on any mismatch.
    /// </summary>
    public void Restore(MachineStateHasher hasher)
    {
        if (_devices.Length != _deviceLength || _consoleReceived != _consoleLength || _pages.Count != _pageCount)
            throw Lie($"a snapshot that ended early ({_devices.Length} of {_deviceLength} device bytes, {_consoleReceived} of {_consoleLength} console bytes, {_pages.Count} of {_pageCount} pages)");
        try
        {
            var snapshot = _machine.ImportSnapshot(_hart, _devices.ToArray(), _pages);
            _machine.RestoreSnapshot(snapshot);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException or IOException or InvalidOperationException)
        {
            throw Lie($"a snapshot this machine cannot take ({e.Message})");
        }
        // The imported pages now live in RAM: let the snapshot's copies go.
        _machine.ForgetSnapshotLineage();
        _pages.Clear();
        var actual = hasher.Compute();
        if (actual != _hash) throw Lie($"a snapshot at step {_step} whose state hashes to {actual}, not to the {_hash} it announced");
    }
}
