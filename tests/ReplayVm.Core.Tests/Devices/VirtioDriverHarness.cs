using System.Buffers.Binary;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Devices.Virtio;
using ReplayVm.Core.Memory;

namespace ReplayVm.Core.Tests.Devices;

/// <summary>
/// A minimal virtio driver written in C#: it lays out one split queue in a small RAM and talks to
/// a <see cref="VirtioMmio"/> slot through its registers, as a guest would.
/// </summary>
public sealed class VirtioDriverHarness
{
    public const ulong RamBase = 0x8000_0000, RamSize = 1 << 20;
    public const ulong Desc = RamBase + 0x1000, Avail = RamBase + 0x2000, Used = RamBase + 0x3000;
    public const ulong Header = RamBase + 0x4000, Status = RamBase + 0x4100, Data = RamBase + 0x10000;
    public const ushort QueueSize = 16;

    public MainMemory Ram { get; } = new(RamBase, RamSize);
    public VirtioMmio Slot { get; }
    public int Notifications { get; private set; }

    /// <summary>The level the slot last drove its interrupt line to.</summary>
    public bool Line { get; private set; }
    private ushort _availIndex;

    public VirtioDriverHarness(IBlockStorage? disk)
    {
        Slot = new VirtioMmio(Ram, level =>
        {
            Notifications++;
            Line = level;
        });
        if (disk != null) Slot.Attach(new VirtioBlock(disk));
    }

    public uint Reg(ulong offset)
    {
        Assert.True(Slot.Read(offset, 4, out ulong v));
        return (uint)v;
    }

    public void SetReg(ulong offset, uint value) => Assert.True(Slot.Write(offset, 4, value));

    /// <summary>Initialization (spec 3.1.1) accepting <paramref name="driverFeatures"/>, with one queue of <see cref="QueueSize"/>.</summary>
    public void Initialize(ulong driverFeatures)
    {
        SetReg(0x70, 0);
        SetReg(0x70, 1);
        SetReg(0x70, 3);
        SetReg(0x24, 0);
        SetReg(0x20, (uint)driverFeatures);
        SetReg(0x24, 1);
        SetReg(0x20, (uint)(driverFeatures >> 32));
        SetReg(0x70, 0xB);
        SetReg(0x30, 0);
        SetReg(0x38, QueueSize);
        SetReg(0x80, (uint)Desc); SetReg(0x84, (uint)(Desc >> 32));
        SetReg(0x90, (uint)Avail); SetReg(0x94, (uint)(Avail >> 32));
        SetReg(0xa0, (uint)Used); SetReg(0xa4, (uint)(Used >> 32));
        SetReg(0x44, 1);
        SetReg(0x70, 0xF);
    }

    public void WriteU16(ulong a, ushort v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); Ram.Write(a, b); }
    public void WriteU32(ulong a, uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); Ram.Write(a, b); }
    public void WriteU64(ulong a, ulong v) { Span<byte> b = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); Ram.Write(a, b); }
    public ushort ReadU16(ulong a) => BinaryPrimitives.ReadUInt16LittleEndian(Ram.Read(a, 2));
    public uint ReadU32(ulong a) => BinaryPrimitives.ReadUInt32LittleEndian(Ram.Read(a, 4));

    public void SetDescriptor(int index, ulong address, uint length, ushort flags, ushort next)
    {
        ulong d = Desc + 16 * (ulong)index;
        WriteU64(d, address);
        WriteU32(d + 8, length);
        WriteU16(d + 12, flags);
        WriteU16(d + 14, next);
    }

    /// <summary>A copy of all of RAM, to compare with after the device ran.</summary>
    public byte[] SnapshotRam() => Ram.Read(RamBase, (int)RamSize).ToArray();

    /// <summary>
    /// The addresses the device changed since <paramref name="before"/> outside what the spec lets it
    /// write (2.7.13): the used ring and the device-writable buffers of the descriptor table (flag
    /// WRITE = 2); the available ring is the driver's, written by <see cref="Offer"/>. Empty when the
    /// device behaved.
    /// </summary>
    public List<ulong> WritesOutsideTheRules(byte[] before, IEnumerable<(ulong Address, uint Length, ushort Flags)> descriptors)
    {
        var allowed = new List<(ulong From, ulong To)>
        {
            (Avail, Avail + 6 + 2UL * QueueSize),
            (Used, Used + 6 + 8UL * QueueSize),
        };
        foreach (var (address, length, flags) in descriptors)
        {
            // The buffer's part inside RAM (a buffer may start below RAM or run past its end).
            UInt128 end = (UInt128)address + length;
            if ((flags & 2) != 0 && end > RamBase && address < RamBase + RamSize)
                allowed.Add((Math.Max(address, RamBase), (ulong)UInt128.Min(end, RamBase + RamSize)));
        }
        var after = Ram.Read(RamBase, (int)RamSize);
        var bad = new List<ulong>();
        for (int i = 0; i < before.Length; i++)
        {
            ulong a = RamBase + (ulong)i;
            if (before[i] != after[i] && !allowed.Any(r => a >= r.From && a < r.To)) bad.Add(a);
        }
        return bad;
    }

    /// <summary>
    /// The used ring's entries (spec 2.7.8): (id, len) for each index up to used.idx; a driver may rely on
    /// each id being a head it offered and on no more entries than it offered.
    /// </summary>
    public List<(uint Id, uint Length)> UsedEntries()
    {
        ushort index = ReadU16(Used + 2);
        var entries = new List<(uint, uint)>();
        for (int i = 0; i < index; i++)
        {
            ulong e = Used + 4 + 8 * (ulong)(i % QueueSize);
            entries.Add((ReadU32(e), ReadU32(e + 4)));
        }
        return entries;
    }

    /// <summary>Offers the chain starting at <paramref name="head"/> and notifies queue 0.</summary>
    public void Offer(ushort head)
    {
        WriteU16(Avail + 4 + 2 * (ulong)(_availIndex % QueueSize), head);
        _availIndex++;
        WriteU16(Avail + 2, _availIndex);
        SetReg(0x50, 0);
    }

    /// <summary>A header / data / status request; returns the status byte.</summary>
    public byte Request(uint type, ulong sector, uint dataLength, bool deviceWritesData)
    {
        WriteU32(Header, type);
        WriteU32(Header + 4, 0);
        WriteU64(Header + 8, sector);
        Ram.Write(Status, [0xFF]);
        SetDescriptor(0, Header, 16, 1, 1);
        if (dataLength > 0)
        {
            SetDescriptor(1, Data, dataLength, (ushort)(1 | (deviceWritesData ? 2 : 0)), 2);
            SetDescriptor(2, Status, 1, 2, 0);
        }
        else SetDescriptor(1, Status, 1, 2, 0);
        Offer(0);
        return Ram.Read(Status, 1)[0];
    }
}
