using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Board;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Core.Devices.Virtio;
using ReplayVm.Core.Input;

namespace ReplayVm.Core.Tests.Devices;

public class VirtioRngTests
{
    private const ulong Version1 = 1UL << 32;

    /// <summary>Answers entropy with a counting pattern and remembers every request (step, length).</summary>
    private sealed class CountingEntropyPort : IInputPort
    {
        public readonly List<(ulong Step, int Length)> Requests = [];
        private byte _next = 1;
        public ulong NextDeliveryAt => ulong.MaxValue;
        public void Poll(ulong instret, IInputSink sink) { }
        public ulong ReadWallClock(ulong instret) => 0;

        public void ReadEntropy(ulong instret, Span<byte> destination)
        {
            Requests.Add((instret, destination.Length));
            foreach (ref byte b in destination) b = _next++;
        }
    }

    private static (VirtioDriverHarness, CountingEntropyPort) NewRng(ulong step = 1234)
    {
        var port = new CountingEntropyPort();
        var h = new VirtioDriverHarness(null);
        h.Slot.Attach(new VirtioRng(port, () => step));
        return (h, port);
    }

    [Fact]
    public void Identifies_as_an_entropy_device_offering_only_version_1()
    {
        var (h, _) = NewRng();
        Assert.Equal(4u, h.Reg(0x008));
        h.SetReg(0x014, 0);
        Assert.Equal(0u, h.Reg(0x010));
        h.SetReg(0x014, 1);
        Assert.Equal(1u, h.Reg(0x010));
        Assert.Equal(0u, h.Reg(0x100)); // no configuration space
        h.Initialize(Version1);
        Assert.Equal(0xFu, h.Reg(0x070));
    }

    [Fact]
    public void Fills_every_writable_buffer_in_order_with_one_request_at_the_current_step()
    {
        var (h, port) = NewRng(step: 777);
        h.Initialize(Version1);
        ulong a = VirtioDriverHarness.Data, b = VirtioDriverHarness.Data + 0x100, readable = VirtioDriverHarness.Header;
        h.Ram.Write(readable, new byte[8]);
        h.SetDescriptor(0, readable, 8, 1, 1); // a device-readable buffer carries nothing for this device
        h.SetDescriptor(1, a, 5, 1 | 2, 2);
        h.SetDescriptor(2, b, 3, 2, 0);
        h.Offer(0);

        Assert.Equal([(777UL, 8)], port.Requests);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, h.Ram.Read(a, 5).ToArray());
        Assert.Equal(new byte[] { 6, 7, 8 }, h.Ram.Read(b, 3).ToArray());
        Assert.Equal(new byte[8], h.Ram.Read(readable, 8).ToArray());
        Assert.Equal(1, h.ReadU16(VirtioDriverHarness.Used + 2));
        Assert.Equal(0u, h.ReadU32(VirtioDriverHarness.Used + 4)); // head
        Assert.Equal(8u, h.ReadU32(VirtioDriverHarness.Used + 8)); // bytes written
        Assert.Equal(1u, h.Reg(0x060)); // used-buffer interrupt
    }

    [Fact]
    public void Caps_one_request_and_reports_the_bytes_written()
    {
        var (h, port) = NewRng();
        h.Initialize(Version1);
        h.SetDescriptor(0, VirtioDriverHarness.Data, 0x20000, 2, 0);
        h.Offer(0);
        Assert.Equal(VirtioRng.MaxBytesPerRequest, port.Requests.Single().Length);
        Assert.Equal((uint)VirtioRng.MaxBytesPerRequest, h.ReadU32(VirtioDriverHarness.Used + 8));
    }

    [Fact]
    public void A_buffer_outside_ram_ends_the_fill_and_a_chain_without_room_gets_nothing()
    {
        var (h, port) = NewRng();
        h.Initialize(Version1);
        h.SetDescriptor(0, VirtioDriverHarness.Data, 4, 1 | 2, 1);
        h.SetDescriptor(1, 0x1000, 4, 2, 0);
        h.Offer(0);
        Assert.Equal(4u, h.ReadU32(VirtioDriverHarness.Used + 8));

        h.SetDescriptor(2, VirtioDriverHarness.Data, 16, 0, 0); // device-readable only
        h.Offer(2);
        Assert.Equal(0u, h.ReadU32(VirtioDriverHarness.Used + 16));
        Assert.Single(port.Requests);
        Assert.Equal(0u, h.Reg(0x070) & 0x40); // no reset needed: these are answerable in-band
    }

    [Fact]
    public void Board_has_the_rng_in_the_last_slot_and_disks_from_the_first()
    {
        var machine = new Machine(new MachineConfig(), NoInput.Instance, _ => { });
        machine.AttachDisk(new MemoryBlockStorage(new byte[4096], readOnly: true));
        Assert.True(machine.Bus.Read(0x1000_8008, 4, out ulong rngId));
        Assert.True(machine.Bus.Read(0x1000_1008, 4, out ulong diskId));
        Assert.Equal(4UL, rngId);
        Assert.Equal(2UL, diskId);
        Assert.Same(machine.Peripherals.Rng, machine.Peripherals.VirtioSlots[VirtPeripherals.RngSlot].Device);
        machine.AttachDisk(new MemoryBlockStorage(new byte[4096], readOnly: true));
        Assert.True(machine.Bus.Read(0x1000_2008, 4, out ulong secondDisk));
        Assert.Equal(2UL, secondDisk);
    }

    [Fact]
    public void NoInput_entropy_is_a_fixed_function_of_the_step()
    {
        Span<byte> a = stackalloc byte[13], b = stackalloc byte[13], c = stackalloc byte[13];
        NoInput.Instance.ReadEntropy(10, a);
        NoInput.Instance.ReadEntropy(10, b);
        NoInput.Instance.ReadEntropy(11, c);
        Assert.True(a.SequenceEqual(b));
        Assert.False(a.SequenceEqual(c));
        Assert.True(a[8..].SequenceEqual(c[..5])); // block k of step s is block k-1 of step s+1
    }

    /// <summary>
    /// Any descriptor table, avail ring and register poking: the device never throws (a host bug is not a
    /// guest fault), writes only its used ring and writable buffers, and completes only offered chains.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Random_descriptor_tables_never_throw()
    {
        var descriptor =
            from address in Gen.Elements(0UL, 0x1000UL, VirtioDriverHarness.Header, VirtioDriverHarness.Data,
                VirtioDriverHarness.RamBase + VirtioDriverHarness.RamSize - 1, VirtioDriverHarness.RamBase + VirtioDriverHarness.RamSize - 8, ulong.MaxValue - 4)
            from length in Gen.Elements(0u, 1u, 7u, 8u, 512u, 0x1_0001u, 0x8000_0000u, uint.MaxValue)
            from flags in Gen.Choose(0, 7)
            from next in Gen.Choose(0, 20)
            select (address, length, (ushort)flags, (ushort)next);
        var scenario =
            from descriptors in Gen.ArrayOf(descriptor, 16)
            from heads in Gen.ArrayOf(Gen.Choose(0, 40))
            from jump in Gen.Choose(0, 3)
            select (descriptors, heads, jump);
        return Prop.ForAll(scenario.ToArbitrary(), s =>
        {
            var (h, port) = NewRng();
            h.Initialize(Version1);
            for (int i = 0; i < s.descriptors.Length; i++)
            {
                var (address, length, flags, next) = s.descriptors[i];
                h.SetDescriptor(i, address, length, flags, next);
            }
            byte[] before = h.SnapshotRam();
            // Any exception escapes and fails the property: only protocol violations are the guest's (Guard).
            foreach (int head in s.heads) h.Offer((ushort)head);
            if (s.jump == 1) { h.WriteU16(VirtioDriverHarness.Avail + 2, 0x7000); h.SetReg(0x50, 0); }
            h.SetReg(0x50, 5); // a queue that does not exist
            h.SetReg(0x064, 0xFFFF_FFFF);
            var outside = h.WritesOutsideTheRules(before, s.descriptors.Select(d => (d.address, d.length, d.Item3)));
            var used = h.UsedEntries();
            return port.Requests.All(r => r.Length is > 0 and <= VirtioRng.MaxBytesPerRequest).Label("an entropy request of no or too many bytes")
                .And((outside.Count == 0).Label($"the device wrote outside the used ring and writable buffers, at 0x{outside.FirstOrDefault():x}"))
                .And((used.Count <= s.heads.Length).Label($"{used.Count} used entries for {s.heads.Length} offers"))
                .And(used.All(u => s.heads.Contains((int)u.Id)).Label("a used id that was never offered"))
                // What the device says it wrote fits the chain's writable buffers and was asked of the entropy port.
                .And((used.Sum(u => (long)u.Length) <= port.Requests.Sum(r => (long)r.Length)).Label("used lengths exceed the entropy read"));
        });
    }
}
