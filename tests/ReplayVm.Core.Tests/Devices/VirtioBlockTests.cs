using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Devices.Virtio;

namespace ReplayVm.Core.Tests.Devices;

public class VirtioBlockTests
{
    private const ulong Version1 = 1UL << 32, Flush = 1UL << 9;

    private static MemoryBlockStorage Disk(int sectors = 64)
    {
        var bytes = new byte[sectors * 512];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i / 512 + i);
        return new MemoryBlockStorage(bytes);
    }

    [Fact]
    public void Empty_slot_answers_magic_version_2_and_device_id_0()
    {
        var h = new VirtioDriverHarness(null);
        Assert.Equal(0x74726976u, h.Reg(0x000));
        Assert.Equal(2u, h.Reg(0x004));
        Assert.Equal(0u, h.Reg(0x008));
        h.SetReg(0x70, 0xF); // ignored, nothing to drive
        Assert.Equal(0u, h.Reg(0x070));
    }

    [Fact]
    public void Block_device_identifies_itself_and_offers_version_1()
    {
        var h = new VirtioDriverHarness(Disk(64));
        Assert.Equal(2u, h.Reg(0x008));
        Assert.Equal(0x554D4551u, h.Reg(0x00c));
        h.SetReg(0x14, 1);
        Assert.Equal(1u, h.Reg(0x010) & 1);
        Assert.Equal(64u, h.Reg(0x100));
        Assert.Equal(0u, h.Reg(0x104));
        Assert.Equal(512u, h.Reg(0x114)); // blk_size
        Assert.Equal(1024u, h.Reg(0x034)); // QueueNumMax
    }

    [Theory]
    [InlineData(Version1 | Flush)]
    [InlineData(Flush)] // a driver that negotiates only the low 32 bits
    [InlineData(0UL)]
    public void Features_ok_is_accepted_for_subsets_of_the_offer(ulong driverFeatures)
    {
        var h = new VirtioDriverHarness(Disk());
        h.Initialize(driverFeatures);
        Assert.Equal(0xFu, h.Reg(0x070));
    }

    [Fact]
    public void Features_ok_is_refused_for_features_not_offered()
    {
        var h = new VirtioDriverHarness(Disk());
        h.Initialize(Version1 | 1UL << 28); // INDIRECT_DESC, not offered
        Assert.Equal(0u, h.Reg(0x070) & 8);
    }

    [Fact]
    public void Read_write_round_trip_with_interrupt_and_ack()
    {
        var disk = Disk();
        var h = new VirtioDriverHarness(disk);
        h.Initialize(Version1 | Flush);
        Assert.Equal(VirtioBlock.StatusOk, h.Request(VirtioBlock.TypeIn, 3, 1024, deviceWritesData: true));
        Assert.Equal(disk.Bytes.AsSpan(3 * 512, 1024).ToArray(), h.Ram.Read(VirtioDriverHarness.Data, 1024).ToArray());
        Assert.Equal(1, h.ReadU16(VirtioDriverHarness.Used + 2));
        Assert.Equal(1025u, h.ReadU32(VirtioDriverHarness.Used + 8));
        Assert.Equal(1u, h.Reg(0x060));
        Assert.True(h.Slot.InterruptPending);
        h.SetReg(0x064, 1);
        Assert.False(h.Slot.InterruptPending);

        h.Ram.Write(VirtioDriverHarness.Data, Enumerable.Repeat((byte)0x5A, 512).ToArray());
        Assert.Equal(VirtioBlock.StatusOk, h.Request(VirtioBlock.TypeOut, 7, 512, deviceWritesData: false));
        Assert.All(disk.Bytes.AsSpan(7 * 512, 512).ToArray(), b => Assert.Equal(0x5A, b));
        Assert.Equal(VirtioBlock.StatusOk, h.Request(VirtioBlock.TypeFlush, 0, 0, false));
        Assert.Equal(VirtioBlock.StatusOk, h.Request(VirtioBlock.TypeGetId, 0, 20, true));
    }

    [Fact]
    public void Bad_requests_answer_ioerr_or_unsupp()
    {
        var h = new VirtioDriverHarness(Disk(8));
        h.Initialize(Version1);
        Assert.Equal(VirtioBlock.StatusIoError, h.Request(VirtioBlock.TypeIn, 8, 512, true)); // past the end
        Assert.Equal(VirtioBlock.StatusIoError, h.Request(VirtioBlock.TypeIn, 7, 1024, true)); // runs past the end
        Assert.Equal(VirtioBlock.StatusIoError, h.Request(VirtioBlock.TypeIn, 0, 100, true)); // not whole sectors
        Assert.Equal(VirtioBlock.StatusIoError, h.Request(VirtioBlock.TypeIn, ulong.MaxValue, 512, true));
        Assert.Equal(VirtioBlock.StatusUnsupported, h.Request(77, 0, 512, true));
        // Data buffer outside RAM, status inside: IOERR in-band.
        h.WriteU32(VirtioDriverHarness.Header, VirtioBlock.TypeIn);
        h.WriteU64(VirtioDriverHarness.Header + 8, 0);
        h.SetDescriptor(0, VirtioDriverHarness.Header, 16, 1, 1);
        h.SetDescriptor(1, 0x1000, 512, 3, 2);
        h.SetDescriptor(2, VirtioDriverHarness.Status, 1, 2, 0);
        h.Offer(0);
        Assert.Equal(VirtioBlock.StatusIoError, h.Ram.Read(VirtioDriverHarness.Status, 1)[0]);
        Assert.Equal(0u, h.Reg(0x070) & 0x40);
    }

    [Fact]
    public void Writes_to_a_read_only_disk_fail_with_ioerr()
    {
        var h = new VirtioDriverHarness(new MemoryBlockStorage(new byte[4096], readOnly: true));
        h.SetReg(0x14, 0);
        Assert.NotEqual(0u, h.Reg(0x010) & (1u << VirtioBlock.FeatureReadOnly));
        h.Initialize(Version1);
        Assert.Equal(VirtioBlock.StatusIoError, h.Request(VirtioBlock.TypeOut, 0, 512, false));
    }

    /// <summary>A disk whose reads fail the way a bug in ReplayVm would (not an I/O error the guest should see).</summary>
    private sealed class BuggyStorage : IBlockStorage
    {
        public long Length => 1 << 20;
        public bool IsReadOnly => false;
        public void Read(long offset, Span<byte> destination) => throw new ArgumentOutOfRangeException(nameof(offset), "a host bug");
        public void Write(long offset, ReadOnlySpan<byte> source) { }
        public void Flush() { }
    }

    [Fact]
    public void A_host_exception_inside_a_request_surfaces_instead_of_becoming_a_guest_fault()
    {
        // The transport's guard turns only the protocol violations the checks name into
        // DEVICE_NEEDS_RESET; a host bug must escape (and fail the run loudly), not be blamed on the guest.
        var h = new VirtioDriverHarness(new BuggyStorage());
        h.Initialize(Version1 | Flush);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => h.Request(VirtioBlock.TypeIn, 0, 512, deviceWritesData: true));
        Assert.Contains("a host bug", e.Message);
        Assert.Equal(0u, h.Reg(0x070) & 0x40); // not DEVICE_NEEDS_RESET
    }

    [Fact]
    public void A_looping_chain_sets_device_needs_reset_and_a_reset_recovers()
    {
        var h = new VirtioDriverHarness(Disk());
        h.Initialize(Version1);
        h.SetDescriptor(0, VirtioDriverHarness.Header, 16, 1, 1);
        h.SetDescriptor(1, VirtioDriverHarness.Data, 512, 1, 0); // 0 -> 1 -> 0 -> ...
        h.Offer(0);
        Assert.Equal(0x40u, h.Reg(0x070) & 0x40);
        Assert.Equal(2u, h.Reg(0x060) & 2); // configuration-change notification (spec 2.1.2)
        h.SetReg(0x070, 0);
        Assert.Equal(0u, h.Reg(0x070));
        Assert.Equal(0u, h.Reg(0x060));
        h = new VirtioDriverHarness(Disk());
        h.Initialize(Version1);
        Assert.Equal(VirtioBlock.StatusOk, h.Request(VirtioBlock.TypeIn, 0, 512, true));
    }

    [Fact]
    public void Queue_outside_ram_or_of_bad_size_sets_device_needs_reset()
    {
        var h = new VirtioDriverHarness(Disk());
        h.SetReg(0x70, 3);
        h.SetReg(0x38, 12); // not a power of two
        h.SetReg(0x80, 0x1000);
        h.SetReg(0x44, 1);
        Assert.Equal(0u, h.Reg(0x044));
        Assert.Equal(0x40u, h.Reg(0x070) & 0x40);
    }

    /// <summary>
    /// Any descriptor table, avail ring and register poking: the device never throws (a host bug is not
    /// a guest fault), writes only where the spec lets it, and completes only chains it was offered.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Random_rings_never_throw()
    {
        var descriptor =
            from address in Gen.Elements(0UL, 0x1000UL, VirtioDriverHarness.Header, VirtioDriverHarness.Status, VirtioDriverHarness.Data,
                VirtioDriverHarness.RamBase + VirtioDriverHarness.RamSize - 1, ulong.MaxValue - 4)
            from length in Gen.Elements(0u, 1u, 15u, 16u, 17u, 512u, 513u, 4096u, 0x8000_0000u, uint.MaxValue)
            from flags in Gen.Choose(0, 7)
            from next in Gen.Choose(0, 20)
            from header in Gen.Choose(0, 9)
            select (address, length, (ushort)flags, (ushort)next, (uint)header);
        var scenario =
            from descriptors in Gen.ArrayOf(descriptor, 16)
            from heads in Gen.ArrayOf(Gen.Choose(0, 40))
            from jump in Gen.Choose(0, 3)
            from sector in Gen.Elements(0UL, 1UL, 63UL, 64UL, ulong.MaxValue)
            select (descriptors, heads, jump, sector);
        return Prop.ForAll(scenario.ToArbitrary(), s =>
        {
            var h = new VirtioDriverHarness(Disk());
            h.Initialize(Version1 | Flush);
            for (int i = 0; i < s.descriptors.Length; i++)
            {
                var (address, length, flags, next, _) = s.descriptors[i];
                h.SetDescriptor(i, address, length, flags, next);
            }
            h.WriteU32(VirtioDriverHarness.Header, s.descriptors[0].Item5);
            h.WriteU64(VirtioDriverHarness.Header + 8, s.sector);
            byte[] before = h.SnapshotRam();
            // Any exception escapes and fails the property: only protocol violations are the guest's (Guard).
            foreach (int head in s.heads) h.Offer((ushort)head);
            // An avail index that jumps past the queue size.
            if (s.jump == 1) { h.WriteU16(VirtioDriverHarness.Avail + 2, 0x7000); h.SetReg(0x50, 0); }
            h.SetReg(0x50, 5); // a queue that does not exist
            h.SetReg(0x064, 0xFFFF_FFFF);

            var outside = h.WritesOutsideTheRules(before, s.descriptors.Select(d => (d.address, d.length, d.Item3)));
            var used = h.UsedEntries();
            bool needsReset = (h.Reg(0x070) & 0x40) != 0;
            return (outside.Count == 0).Label($"the device wrote outside the used ring and writable buffers, at 0x{outside.FirstOrDefault():x}; descriptors " +
                    string.Join(", ", s.descriptors.Select(d => $"0x{d.address:x}+{d.length} f{d.Item3} n{d.Item4}")) + $"; heads {string.Join(",", s.heads)}")
                .And((used.Count <= s.heads.Length).Label($"{used.Count} used entries for {s.heads.Length} offers"))
                .And(used.All(u => u.Id < VirtioDriverHarness.QueueSize && s.heads.Contains((int)u.Id)).Label("a used id that was never offered"))
                // A head outside the queue is a violation the device must flag rather than skip silently.
                .And((!s.heads.Take(used.Count + 1).Any(head => head >= VirtioDriverHarness.QueueSize) || needsReset).Label("an out-of-range head was not flagged"));
        });
    }
}
