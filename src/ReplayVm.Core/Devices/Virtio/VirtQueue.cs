using System.Buffers.Binary;
using ReplayVm.Core.Memory;
using ReplayVm.Core.State;

namespace ReplayVm.Core.Devices.Virtio;

/// <summary>One buffer of a descriptor chain: guest-physical address, length, and who writes it.</summary>
public readonly record struct VirtqBuffer(ulong Address, uint Length, bool DeviceWritable);

/// <summary>
/// The driver broke the virtio protocol in a way the device cannot answer in-band (a looping or
/// over-long chain, a ring outside RAM): the transport sets DEVICE_NEEDS_RESET (spec 2.1.2).
/// </summary>
public sealed class VirtioProtocolException(string message) : Exception(message);

/// <summary>
/// A split virtqueue (virtio 1.1 section 2.6): descriptor table, available ring (driver area) and
/// used ring (device area) in guest RAM. Every guest-supplied index and address is checked
/// before use; all RAM access goes through <see cref="MainMemory"/> so DMA keeps the decode cache coherent.
/// </summary>
public sealed class VirtQueue(MainMemory ram, ushort maxSize) : IDeviceState
{
    private const ushort DescNext = 1, DescWrite = 2, DescIndirect = 4;
    private const ushort AvailNoInterrupt = 1;
    private const int DescriptorBytes = 16;

    public ushort MaxSize => maxSize;
    public uint Size { get; set; }
    public bool Ready { get; private set; }
    public ulong DescriptorTable { get; set; }
    public ulong DriverArea { get; set; }
    public ulong DeviceArea { get; set; }
    private ushort _lastAvail, _usedIndex;

    public void SaveState(BinaryWriter w)
    {
        w.Write(Size); w.Write(Ready); w.Write(DescriptorTable); w.Write(DriverArea); w.Write(DeviceArea);
        w.Write(_lastAvail); w.Write(_usedIndex);
    }

    public void LoadState(BinaryReader r)
    {
        Size = r.ReadUInt32(); Ready = r.ReadBoolean(); DescriptorTable = r.ReadUInt64(); DriverArea = r.ReadUInt64(); DeviceArea = r.ReadUInt64();
        _lastAvail = r.ReadUInt16(); _usedIndex = r.ReadUInt16();
    }

    public void Reset()
    {
        Size = maxSize;
        Ready = false;
        DescriptorTable = DriverArea = DeviceArea = 0;
        _lastAvail = _usedIndex = 0;
    }

    /// <summary>QueueReady = 1 (spec 4.2.2.2): the size must be a power of two within the maximum and the three areas must lie in RAM.</summary>
    public void MakeReady()
    {
        if (Size == 0 || Size > maxSize || (Size & (Size - 1)) != 0)
            throw new VirtioProtocolException($"queue size {Size} is not a power of two in 1..{maxSize}");
        if (!ram.Contains(DescriptorTable, DescriptorBytes * Size) || !ram.Contains(DriverArea, 6 + 2 * Size) || !ram.Contains(DeviceArea, 6 + 8 * Size))
            throw new VirtioProtocolException("virtqueue areas lie outside RAM");
        Ready = true;
    }

    /// <summary>QueueReady = 0; the ring positions restart from zero when the driver sets the queue up again, as after a reset.</summary>
    public void Unready()
    {
        Ready = false;
        _lastAvail = _usedIndex = 0;
    }

    /// <summary>Takes the next available chain into <paramref name="chain"/>; false when the driver has offered nothing new.</summary>
    public bool TryTake(List<VirtqBuffer> chain, out ushort head)
    {
        chain.Clear();
        head = 0;
        ushort availIndex = ReadU16(DriverArea + 2);
        if (availIndex == _lastAvail) return false;
        if ((ushort)(availIndex - _lastAvail) > Size)
            throw new VirtioProtocolException($"available index moved {(ushort)(availIndex - _lastAvail)} entries ahead, more than the queue size {Size}");
        head = ReadU16(DriverArea + 4 + 2 * (ulong)(_lastAvail % Size));
        _lastAvail++;
        WalkChain(head, chain);
        return true;
    }

    /// <summary>Follows a descriptor chain (spec 2.6.5): indices in range, at most Size links (so no loop), readable buffers before writable ones.</summary>
    private void WalkChain(ushort head, List<VirtqBuffer> chain)
    {
        ushort index = head;
        bool sawWritable = false;
        while (true)
        {
            if (index >= Size) throw new VirtioProtocolException($"descriptor index {index} outside a queue of {Size}");
            if (chain.Count >= Size) throw new VirtioProtocolException("descriptor chain loops or is longer than the queue");
            var d = ram.Read(DescriptorTable + (ulong)index * DescriptorBytes, DescriptorBytes);
            ulong address = BinaryPrimitives.ReadUInt64LittleEndian(d);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(d[8..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(d[12..]);
            ushort next = BinaryPrimitives.ReadUInt16LittleEndian(d[14..]);
            if ((flags & DescIndirect) != 0) throw new VirtioProtocolException("indirect descriptor, a feature not offered");
            bool writable = (flags & DescWrite) != 0;
            if (!writable && sawWritable) throw new VirtioProtocolException("device-readable descriptor after a device-writable one");
            sawWritable |= writable;
            chain.Add(new VirtqBuffer(address, length, writable));
            if ((flags & DescNext) == 0) return;
            index = next;
        }
    }

    /// <summary>Returns a chain to the driver through the used ring (spec 2.6.8); true if the driver wants an interrupt for it.</summary>
    public bool Complete(ushort head, uint written)
    {
        ulong element = DeviceArea + 4 + 8 * (ulong)(_usedIndex % Size);
        Span<byte> e = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(e, head);
        BinaryPrimitives.WriteUInt32LittleEndian(e[4..], written);
        ram.Write(element, e);
        _usedIndex++;
        Span<byte> idx = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(idx, _usedIndex);
        ram.Write(DeviceArea + 2, idx);
        return (ReadU16(DriverArea) & AvailNoInterrupt) == 0;
    }

    private ushort ReadU16(ulong address) => BinaryPrimitives.ReadUInt16LittleEndian(ram.Read(address, 2));
}
