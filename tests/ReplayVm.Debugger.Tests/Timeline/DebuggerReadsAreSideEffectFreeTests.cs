using System.Text;
using ReplayVm.Core;
using ReplayVm.Core.Board;
using ReplayVm.Replay;
using ReplayVm.Replay.Input;
using ReplayVm.Replay.Timeline;
using ReplayVm.Debugger.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Debugger.Tests.Timeline;

/// <summary>
/// History is immutable: reading any device register through the debugger interface, at any
/// point of a recording, changes nothing the replay does. Two guests between them drive every
/// device: the kernel (UART receive and transmit interrupts through the PLIC, virtio-blk, CLINT
/// timer) and the demo (Goldfish RTC, virtio-rng, typed input).
/// </summary>
public sealed class DebuggerReadsAreSideEffectFreeTests
{
    private static string Guests(params string[] parts) => Path.Combine([RepoRoot(), "tools", "guests", .. parts]);

    private static readonly Lazy<TraceFile> Kernel = new(() =>
    {
        var disk = GuestDisk.Embedded("disk.img", File.ReadAllBytes(Guests("kernel", "disk.img")));
        var setup = MachineSetup.ForElf(new MachineConfig(), "kernel.elf", File.ReadAllBytes(Guests("elf", "kernel.elf"))) with { Disks = [disk] };
        return Record(setup, new ScriptedInputPort([new ScriptedKeys(0, File.ReadAllBytes(Guests("expected", "kernel.stdin")))]));
    });

    private static readonly Lazy<TraceFile> Demo = new(() =>
    {
        var setup = MachineSetup.ForElf(new MachineConfig { RamSize = 16UL << 20 }, "demo.elf", File.ReadAllBytes(Guests("elf", "demo.elf")));
        var lines = File.ReadAllLines(Guests("expected", "demo.stdin"));
        var script = lines.Select((line, i) => new ScriptedKeys(20_000 * (ulong)(i + 1), Encoding.ASCII.GetBytes(line + "\n")));
        return Record(setup, new ScriptedInputPort(script, step => 1_767_225_600UL * 1_000_000_000UL + step * 100,
            (step, destination) => Core.Input.DeterministicEntropy.Fill(step ^ 0x5eed, destination)));
    });

    private static TraceFile Record(MachineSetup setup, ScriptedInputPort input)
    {
        var stream = new MemoryStream();
        using (var recorder = new Recorder(setup, input, _ => { }, stream,
                   new RecorderOptions { StateHashInterval = 2_000, Writer = new TraceWriterOptions { FlushInterval = TimeSpan.Zero } }))
        {
            var result = recorder.Run(50_000_000);
            Assert.Equal(StopReason.GuestExit, result.Run.Reason);
        }
        return TraceReader.Read(stream.ToArray());
    }

    public static TheoryData<string> Guest => ["kernel", "demo"];

    [Theory]
    [MemberData(nameof(Guest))]
    public void Reading_every_device_register_at_many_points_leaves_every_state_hash_and_the_output_as_recorded(string guest)
    {
        var trace = guest == "kernel" ? Kernel.Value : Demo.Value;
        using var timeline = new ReplayTimeline(trace, new TimelineOptions { CheckpointInterval = 50_000 });
        var target = new TimelineDebugTarget(timeline, guest);
        var pristine = new ReplayTimeline(trace);
        pristine.Seek(pristine.End);
        var expectedOutput = pristine.Output.ToArray();

        // Right after each input event the UART's receive FIFO holds bytes; spread points catch
        // pending interrupts, claims in flight and requests in the virtio rings.
        ulong end = timeline.End;
        var points = timeline.InputEventSteps.Select(s => s + 1)
            .Concat(Enumerable.Range(1, 60).Select(i => end * (ulong)i / 61))
            .Where(s => s < end).Distinct().Order().ToList();
        int readsThatAnswered = 0;
        foreach (ulong step in points)
        {
            timeline.Seek(step);
            var before = timeline.ComputeHash();
            readsThatAnswered += ReadEveryDeviceRegister(target);
            Assert.Equal(before, timeline.ComputeHash());
        }

        timeline.Seek(end);
        Assert.Equal(end, timeline.Position);
        Assert.Equal(timeline.HashPointCount, timeline.VerifiedHashPoints);
        Assert.Equal(expectedOutput, timeline.Output.ToArray());
        Assert.True(readsThatAnswered > points.Count * 100, $"only {readsThatAnswered} device reads answered");
    }

    [Fact]
    public void A_debugger_read_of_the_uart_receive_register_shows_the_next_byte_without_taking_it()
    {
        using var timeline = new ReplayTimeline(Demo.Value);
        var target = new TimelineDebugTarget(timeline, "demo");
        var uart = timeline.Machine.Uart;
        // The first point where the typed line waits in the receive FIFO.
        foreach (ulong step in timeline.InputEventSteps.SelectMany(s => new[] { s, s + 1, s + 2 }))
        {
            timeline.Seek(step);
            if (Uart16550Room(uart) > 0) break;
        }
        int queued = Uart16550Room(uart);
        Assert.True(queued > 0, "the FIFO should hold the typed line right after an input event");

        Span<byte> b = stackalloc byte[1], again = stackalloc byte[1], lsr = stackalloc byte[1];
        Assert.True(target.ReadMemory(MemoryMap.UartBase, b));
        Assert.True(target.ReadMemory(MemoryMap.UartBase, again));
        Assert.True(target.ReadMemory(MemoryMap.UartBase + 5, lsr));
        Assert.Equal(b[0], again[0]);
        Assert.Equal((byte)"help"[0], b[0]);
        Assert.Equal(1, lsr[0] & 1); // data ready
        Assert.Equal(queued, Uart16550Room(uart));
    }

    private static int Uart16550Room(Core.Devices.Uart16550 uart) => Core.Devices.Uart16550.FifoDepth - uart.ReceiveRoom;

    /// <summary>Every register of every device region, at its natural widths and in 16-byte rows as the memory pane reads; returns how many reads answered.</summary>
    private static int ReadEveryDeviceRegister(TimelineDebugTarget target)
    {
        int answered = 0;
        void Read(ulong address, int length)
        {
            Span<byte> buffer = stackalloc byte[length];
            if (target.ReadMemory(address, buffer)) answered++;
        }
        void Region(ulong start, ulong length, params int[] widths)
        {
            foreach (int width in widths)
                for (ulong a = start; a < start + length; a += (ulong)width) Read(a, width);
            for (ulong a = start; a < start + length; a += 16) Read(a, 16);
        }

        Region(MemoryMap.UartBase, 8, 1, 4);
        Region(MemoryMap.ClintBase, 8, 4);
        Region(MemoryMap.ClintBase + 0x4000, 8, 4, 8);
        Region(MemoryMap.ClintBase + 0xBFF8, 8, 4, 8);
        Region(MemoryMap.PlicBase, 0x80, 4);                        // priorities of sources 0..31
        Region(MemoryMap.PlicBase + 0x1000, 0x10, 4, 8);           // pending
        for (ulong context = 0; context < 2; context++)
        {
            Region(MemoryMap.PlicBase + 0x2000 + 0x80 * context, 0x10, 4, 8);   // enables
            Region(MemoryMap.PlicBase + 0x20_0000 + 0x1000 * context, 8, 4, 8); // threshold, claim
        }
        for (ulong slot = 0; slot < MemoryMap.VirtioSlots; slot++)
            Region(MemoryMap.VirtioBase + slot * MemoryMap.VirtioSlotSize, 0x140, 4, 1, 8);
        Region(MemoryMap.RtcBase, 0x20, 4, 8);
        Region(MemoryMap.TestFinisherBase, 8, 4);
        Region(0x1000, 0x40, 8);                                   // boot ROM
        return answered;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln"))) return dir.FullName;
        throw new InvalidOperationException("ReplayVm.sln not found");
    }
}
