using System.Collections;
using System.Reflection;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core;
using ReplayVm.Core.Board;
using ReplayVm.Core.Devices;
using ReplayVm.Core.Devices.Storage;
using ReplayVm.Replay.Input;
using ReplayVm.Replay.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Replay.Tests.State;

/// <summary>
/// The state hash covers every device: a change to any one field of any device's state, at any
/// step of a recording, changes the hash (and a trace's next hash point reports it), while
/// reading every device register through the side-effect-free peek changes nothing.
///
/// The fields are found by reflection, so a field a device gains later is perturbed too: only
/// wiring (delegates, RAM, the clock, the input port, configuration fixed at construction) and
/// the scratch buffers named in <see cref="Scratch"/> are left alone.
/// </summary>
public sealed class DeviceStateHashProperties
{
    private static string GuestFile(params string[] parts) => Path.Combine([TestGuests.RepoRoot, "tools", "guests", .. parts]);

    /// <summary>The kernel guest drives the UART both ways, the PLIC, the CLINT timer and virtio-blk (writing the overlay).</summary>
    private static readonly Lazy<TraceFile> Kernel = new(() =>
    {
        var disk = GuestDisk.Embedded("disk.img", File.ReadAllBytes(GuestFile("kernel", "disk.img")));
        var setup = MachineSetup.ForElf(new MachineConfig(), "kernel.elf", File.ReadAllBytes(GuestFile("elf", "kernel.elf"))) with { Disks = [disk] };
        var recording = RoundTrip.Record(setup, new ScriptedInputPort([new ScriptedKeys(0, File.ReadAllBytes(GuestFile("expected", "kernel.stdin")))]), interval: 1_000);
        Assert.Equal(StopReason.GuestExit, recording.Result.Run.Reason);
        return TraceReader.Read(recording.Trace);
    });

    /// <summary>Buffers a device reuses between requests; their contents never decide what the guest sees.</summary>
    private static readonly string[] Scratch = ["_chunk", "_entropy", "_chain", "_pageDigests"];

    /// <summary>Constructor parameters a device keeps as configuration, fixed for the machine's life (the overlay's base image never changes).</summary>
    private static readonly string[] Configuration = ["maxSize", "serial", "baseStorage"];

    /// <summary>
    /// Caches of hashed state, recomputed from it whenever a state is loaded: the PLIC's count of set
    /// pending bits (its <c>_pending</c> array is hashed and perturbed here; the count only spares the
    /// per-slice interrupt check a scan). <see cref="Derived_caches_agree_with_the_state_they_summarise"/> checks it.
    /// </summary>
    private static readonly string[] Derived = ["_pendingCount"];

    private sealed record Field(string Path, Func<Random, bool> Perturb);

    private static List<Field> DeviceFields(Machine m)
    {
        var fields = new List<Field>();
        Collect("clint", m.Clint, fields);
        Collect("uart", m.Uart, fields);
        Collect("plic", m.Peripherals.Plic, fields);
        for (int i = 0; i < m.Peripherals.VirtioSlots.Length; i++) Collect($"virtio{i}", m.Peripherals.VirtioSlots[i], fields);
        Collect("rtc", m.Peripherals.Rtc, fields);
        return fields;
    }

    private static void Collect(string path, object device, List<Field> into)
    {
        for (var type = device.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            foreach (var f in type.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
            {
                string name = f.Name.StartsWith('<') ? f.Name[1..f.Name.IndexOf('>')] : f.Name;
                if (Scratch.Contains(name) || Configuration.Contains(name) || Derived.Contains(name)) continue;
                object? value = f.GetValue(device);
                string at = $"{path}.{name}";
                switch (value)
                {
                    case bool or byte or ushort or uint or ulong or int or long:
                        into.Add(new Field(at, _ => { f.SetValue(device, Flip(f.GetValue(device)!)); return true; }));
                        break;
                    case Array array when array.Length > 0 && IsPrimitive(array.GetType().GetElementType()!):
                        into.Add(new Field(at, random => PerturbArray(array, random)));
                        break;
                    case Queue<byte> queue:
                        into.Add(new Field(at, _ =>
                        {
                            if (queue.Count > 0) queue.Dequeue();
                            else queue.Enqueue((byte)'!');
                            return true;
                        }));
                        break;
                    case Dictionary<long, byte[]> pages:
                        into.Add(new Field(at, random =>
                        {
                            if (pages.Count == 0) pages[7] = new byte[CopyOnWriteOverlay.PageSize];
                            else pages.ElementAt(random.Next(pages.Count)).Value[random.Next(CopyOnWriteOverlay.PageSize)] ^= 0x10;
                            return true;
                        }));
                        break;
                    case Array devices when devices.GetType().GetElementType()!.Namespace!.StartsWith("ReplayVm.Core.Devices"):
                        for (int i = 0; i < devices.Length; i++) Collect($"{at}[{i}]", devices.GetValue(i)!, into);
                        break;
                    case object inner when inner.GetType().Namespace!.StartsWith("ReplayVm.Core.Devices") && inner is not Delegate:
                        Collect(at, inner, into);
                        break;
                }
            }
        }
    }

    private static bool IsPrimitive(Type t) => t == typeof(bool) || t == typeof(byte) || t == typeof(ushort) || t == typeof(uint) || t == typeof(ulong);

    private static object Flip(object value) => value switch
    {
        bool b => !b,
        byte b => (byte)(b ^ 1),
        ushort u => (ushort)(u ^ 1),
        uint u => u ^ 1,
        ulong u => u ^ 1,
        int i => i ^ 1,
        long l => l ^ 1,
        _ => throw new InvalidOperationException(value.GetType().Name),
    };

    private static bool PerturbArray(Array array, Random random)
    {
        int[] index = new int[array.Rank];
        for (int d = 0; d < array.Rank; d++) index[d] = random.Next(array.GetLength(d));
        array.SetValue(Flip(array.GetValue(index)!), index);
        return true;
    }

    [Fact]
    public void Every_device_with_state_has_fields_to_perturb()
    {
        using var timeline = new ReplayTimeline(Kernel.Value);
        var fields = DeviceFields(timeline.Machine).Select(f => f.Path).ToList();
        foreach (string expected in new[]
                 {
                     "clint.SoftwareInterrupt", "clint.Mtimecmp", "uart._receive", "uart._ier", "uart._lcr", "uart._scr",
                     "plic._priority", "plic._enable", "plic._threshold", "plic._claimed", "plic._pending",
                     "virtio0._status", "virtio0._interruptStatus", "virtio0._queues[0].DescriptorTable", "virtio0._queues[0]._usedIndex",
                     "virtio0._device.storage._pages", "rtc._alarm", "rtc._offset", "rtc._irqEnabled",
                 })
            Assert.Contains(expected, fields);
    }

    [Fact]
    public void Derived_caches_agree_with_the_state_they_summarise()
    {
        using var timeline = new ReplayTimeline(Kernel.Value, new TimelineOptions { CheckpointInterval = 200_000 });
        var plic = timeline.Machine.Peripherals.Plic;
        var pending = (bool[])typeof(Plic).GetField("_pending", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(plic)!;
        var count = typeof(Plic).GetField("_pendingCount", BindingFlags.Instance | BindingFlags.NonPublic)!;
        // Forward in small strides, then back (a seek back restores a checkpoint, which must recompute
        // the count); the kernel guest's UART and virtio interrupts leave sources pending at some of them.
        const int points = 400;
        int pendingSeen = 0;
        foreach (int i in Enumerable.Range(1, points).Concat(Enumerable.Range(0, points).Reverse()))
        {
            timeline.Seek(timeline.End * (ulong)i / points);
            int set = pending.Count(p => p);
            Assert.Equal(set, (int)count.GetValue(plic)!);
            if (set > 0) pendingSeen++;
        }
        Assert.True(pendingSeen > 0, "no sampled step had a PLIC source pending: the check above proved nothing");
    }

    private static Gen<(int Field, double At, int Seed)> Cases(int fieldCount) =>
        from field in Gen.Choose(0, fieldCount - 1)
        from at in Gen.Choose(0, 1000)
        from seed in Gen.Choose(0, int.MaxValue)
        select (field, at / 1000.0, seed);

    [Property(MaxTest = 40)]
    public Property Perturbing_one_field_of_any_device_at_a_random_step_changes_the_state_hash()
    {
        int count;
        using (var probe = new ReplayTimeline(Kernel.Value)) count = DeviceFields(probe.Machine).Count;
        return Prop.ForAll(Cases(count).ToArbitrary(), c =>
        {
            using var timeline = new ReplayTimeline(Kernel.Value, new TimelineOptions { CheckpointInterval = 200_000 });
            timeline.Seek((ulong)(timeline.End * c.At));
            var field = DeviceFields(timeline.Machine)[c.Field];
            var before = timeline.ComputeHash();
            field.Perturb(new Random(c.Seed));
            Assert.True(before != timeline.ComputeHash(), $"perturbing {field.Path} at step {timeline.Position} left the state hash {before} unchanged");
        });
    }

    /// <summary>
    /// End to end: a field the kernel never writes (so the guest cannot put it back), perturbed just
    /// before one of the trace's hash points chosen at random, makes that hash point report the
    /// divergence.
    /// </summary>
    [Property(MaxTest = 12)]
    public Property A_perturbation_is_reported_at_the_next_hash_point_of_the_trace() =>
        Prop.ForAll(Gen.Choose(1, 1000).ToArbitrary(), Gen.Elements("uart._scr", "plic._priority", "rtc._alarm", "virtio7._queues[0].Size").ToArbitrary(), (at, path) =>
        {
            using var timeline = new ReplayTimeline(Kernel.Value, new TimelineOptions { CheckpointInterval = 200_000 });
            ulong hashPoint = Math.Max(1_000, timeline.End * (ulong)at / 1000 / 1_000 * 1_000);
            if (hashPoint >= timeline.End) hashPoint -= 1_000;
            timeline.Seek(hashPoint - 1);
            var field = DeviceFields(timeline.Machine).Single(f => f.Path == path);
            // A random priority entry may be one the guest set; every source above 10 is unused.
            var random = new Random(at);
            if (path == "plic._priority") timeline.Machine.Peripherals.Plic.Write(4 * 40, 4, 3);
            else field.Perturb(random);
            var e = Assert.Throws<TimelineException>(() => timeline.Seek(hashPoint));
            Assert.Contains($"left its recording at step {hashPoint}", e.Message);
        });

    [Property(MaxTest = 20)]
    public Property Peeking_every_device_register_leaves_the_hash_unchanged() =>
        Prop.ForAll(Gen.Choose(0, 1000).ToArbitrary(), at =>
        {
            using var timeline = new ReplayTimeline(Kernel.Value, new TimelineOptions { CheckpointInterval = 200_000 });
            timeline.Seek(timeline.End * (ulong)at / 1000);
            var before = timeline.ComputeHash();
            var bus = timeline.Machine.Bus;
            (ulong Base, ulong Length)[] regions =
            [
                (MemoryMap.UartBase, 8), (MemoryMap.ClintBase, 0x10000), (MemoryMap.PlicBase, 0x3000),
                (MemoryMap.PlicBase + 0x20_0000, 0x2000), (MemoryMap.VirtioBase, MemoryMap.VirtioSlots * MemoryMap.VirtioSlotSize),
                (MemoryMap.RtcBase, 0x20), (MemoryMap.TestFinisherBase, 8),
            ];
            foreach (var (start, length) in regions)
                foreach (int size in new[] { 1, 4, 8 })
                    for (ulong a = start; a < start + length; a += (ulong)size) bus.Peek(a, size, out _);
            Assert.Equal(before, timeline.ComputeHash());
        });
}
