using ReplayVm.Core;
using ReplayVm.Core.Input;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Tests;

public class RecordReplayTests
{
    [Theory]
    [InlineData("hello")]
    [InlineData("traps")]
    public void CommittedGuestReplaysIdentically(string guest)
    {
        var recording = RoundTrip.Record(TestGuests.Committed(guest), NoInput.Instance, interval: 500);
        Assert.Equal(StopReason.GuestExit, recording.Result.Run.Reason);
        var expected = File.ReadAllText(Path.Combine(TestGuests.RepoRoot, "tools", "guests", "expected", guest + ".out"));
        Assert.Equal(expected, recording.Output);

        var (result, output) = RoundTrip.Replay(recording.Trace);
        Assert.Equal(ReplayOutcome.Identical, result.Outcome);
        Assert.Equal(recording.Output, output);
        Assert.Equal(recording.Result.HashPoints + 1, result.HashPointsChecked); // + the end record
        Assert.True(result.HashPointsChecked > 3);
        Assert.Equal(recording.Result.Steps, result.Steps);
        Assert.Equal(recording.Result.Run.ExitCode, result.Final.ExitCode);
    }

    [Fact]
    public void ScriptedConsoleInputAndClockReplayAtTheirSteps()
    {
        var live = new ScriptedInputPort(
            [new ScriptedKeys(1_000, "hi"u8.ToArray()), new ScriptedKeys(7_777, "t"u8.ToArray()), new ScriptedKeys(20_000, "xtq"u8.ToArray())],
            wallClock: step => step * 13 + 5);
        var recording = RoundTrip.Record(TestGuests.Echo, live, interval: 3_000);
        Assert.Equal(StopReason.GuestExit, recording.Result.Run.Reason);
        Assert.Equal(0, recording.Result.Run.ExitCode);
        Assert.Equal(5, recording.Output.Length); // h i <clock letter> x <clock letter>
        Assert.StartsWith("hi", recording.Output);

        var trace = TraceReader.Read(recording.Trace);
        Assert.Equal(2, trace.Events.OfType<WallClockEvent>().Count());
        Assert.False(trace.Truncated);

        var (result, output) = RoundTrip.Replay(recording.Trace);
        Assert.Equal(ReplayOutcome.Identical, result.Outcome);
        Assert.Equal(recording.Output, output);
    }

    [Fact]
    public void AlteredInputIsReportedAsADivergenceAtItsHashPoint()
    {
        var live = new ScriptedInputPort([new ScriptedKeys(1_000, "ab"u8.ToArray()), new ScriptedKeys(9_000, "q"u8.ToArray())]);
        var recording = RoundTrip.Record(TestGuests.Echo, live, interval: 2_000);
        var original = TraceReader.Read(recording.Trace);

        // Same schedule, one byte changed: the echo buffer in RAM differs from the next hash point on.
        var events = original.Events.Select(e => e is ConsoleInputEvent c && c.Bytes[0] == (byte)'a'
            ? new ConsoleInputEvent(c.Step, "zb"u8.ToArray()) : e).ToList();
        var forged = TraceBuilder.Write(original.Header, events);

        var (result, _) = RoundTrip.Replay(forged);
        Assert.Equal(ReplayOutcome.Diverged, result.Outcome);
        var altered = events.OfType<ConsoleInputEvent>().First().Step;
        var firstHashAfter = original.HashPoints.First(h => h.Step > altered).Step;
        Assert.Equal(firstHashAfter, result.Divergence!.Step);
        Assert.NotNull(result.Divergence.Expected);
        Assert.NotEqual(result.Divergence.Expected, result.Divergence.Actual);
    }

    [Fact]
    public void MovedInputIsReportedAsADivergence()
    {
        // 50 steps later is a dozen polling iterations later: the guest's counter register differs.
        var live = new ScriptedInputPort([new ScriptedKeys(1_000, "a"u8.ToArray()), new ScriptedKeys(9_000, "q"u8.ToArray())]);
        var recording = RoundTrip.Record(TestGuests.Echo, live, interval: 2_000);
        var original = TraceReader.Read(recording.Trace);
        var events = original.Events.Select(e => e is ConsoleInputEvent c && c.Bytes[0] == (byte)'a'
            ? new ConsoleInputEvent(c.Step + 50, c.Bytes) : e).ToList();

        var (result, _) = RoundTrip.Replay(TraceBuilder.Write(original.Header, events));
        Assert.Equal(ReplayOutcome.Diverged, result.Outcome);
    }

    [Fact]
    public void ClockReadAtAnotherStepIsADivergence()
    {
        var live = new ScriptedInputPort([new ScriptedKeys(1_000, "t"u8.ToArray()), new ScriptedKeys(9_000, "q"u8.ToArray())], s => s);
        var recording = RoundTrip.Record(TestGuests.Echo, live, interval: 2_000);
        var original = TraceReader.Read(recording.Trace);
        var events = original.Events.Select(e => e is WallClockEvent w ? new WallClockEvent(w.Step + 1, w.Nanoseconds) : e).ToList();

        var (result, _) = RoundTrip.Replay(TraceBuilder.Write(original.Header, events));
        Assert.Equal(ReplayOutcome.Diverged, result.Outcome);
        Assert.Contains("wall clock", result.Divergence!.Message);
    }

    [Fact]
    public void HostStopEndsTheRecordingCleanly()
    {
        // The echo guest waits forever without input; a step budget stands in for Ctrl-C.
        var recording = RoundTrip.Record(TestGuests.Echo, NoInput.Instance, interval: 4_000, maxSteps: 20_001);
        Assert.Equal(StopReason.InstructionLimit, recording.Result.Run.Reason);
        Assert.Equal(20_001UL, recording.Result.Steps);
        var (result, _) = RoundTrip.Replay(recording.Trace);
        Assert.Equal(ReplayOutcome.Identical, result.Outcome);
        Assert.Equal(20_001UL, result.Steps);
    }

    /// <summary>
    /// A recording written one event per chunk, cut after each of its chunks and inside each: every
    /// cut reads as truncated with exactly the events of the whole chunks before it, and replays
    /// as truncated (never diverged) having checked exactly their hash points and printed a prefix
    /// of the recording's output. Chunk boundaries are found here from the format document's
    /// framing (preamble, header body, then 24-byte chunk headers), not by the reader under test.
    /// </summary>
    [Fact]
    public void TraceCutAfterAnyChunkReplaysAsTruncatedNotDiverged()
    {
        var live = new ScriptedInputPort([new ScriptedKeys(500, "a"u8.ToArray()), new ScriptedKeys(6_000, "tq"u8.ToArray())], s => s * 3);
        var recording = RoundTrip.Record(TestGuests.Echo, live, interval: 1_000);
        var full = TraceReader.Read(recording.Trace);
        Assert.Empty(full.Header.Setup.Disks); // no disk data between the header and the chunks
        byte[] trace = TraceBuilder.Write(full.Header, full.Events, chunkTarget: 1);

        // docs/trace-format.md: preamble (20 bytes, body length at 12), header body, then chunks of
        // a 24-byte header ("RVCK", payload length at 4) and the payload.
        int headerEnd = 20 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trace.AsSpan(12));
        var chunkEnds = new List<int>();
        for (int at = headerEnd; at < trace.Length;)
        {
            Assert.Equal("RVCK"u8.ToArray(), trace[at..(at + 4)]);
            at += 24 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trace.AsSpan(at + 4));
            chunkEnds.Add(at);
        }
        Assert.Equal(trace.Length, chunkEnds[^1]);
        Assert.Equal(full.Events.Count, chunkEnds.Count); // one event per chunk
        Assert.True(full.HashPoints.Count() >= 6, $"only {full.HashPoints.Count()} hash points");

        int cuts = 0;
        for (int kept = 0; kept < chunkEnds.Count; kept++)
        {
            int boundary = kept == 0 ? headerEnd : chunkEnds[kept - 1];
            int next = chunkEnds[kept];
            // At the boundary itself, inside the next chunk's header, and inside its payload.
            foreach (int cut in new[] { boundary, boundary + 10, next - 1 }.Distinct())
            {
                var partial = TraceReader.Read(trace.AsSpan(0, cut));
                Assert.True(partial.Truncated, $"cut at {cut} of {trace.Length}: not truncated");
                Assert.Equal(kept, partial.ChunkCount);
                Assert.Equal(full.Events.Take(kept).Select(e => (e.Kind, e.Step)), partial.Events.Select(e => (e.Kind, e.Step)));
                Assert.Equal(cut != boundary, partial.DamageDescription is not null);

                var output = new List<byte>();
                var result = new Replayer(partial, output.Add).Run();
                Assert.True(result.Outcome == ReplayOutcome.Truncated, $"cut at {cut} after {kept} chunks: {result.Describe()}");
                Assert.Equal(partial.HashPoints.Count(), result.HashPointsChecked);
                Assert.True(result.Steps >= partial.LastStep, $"replayed {result.Steps} steps of {partial.LastStep}");
                Assert.StartsWith(System.Text.Encoding.Latin1.GetString(output.ToArray()), recording.Output);
                cuts++;
            }
        }
        Assert.Equal(3 * chunkEnds.Count, cuts);
    }
}

public class MachineSetupTests
{
    [Fact]
    public void FirmwareSetupRecordsAndReplays()
    {
        var elf = File.ReadAllBytes(Path.Combine(TestGuests.RepoRoot, "tools", "guests", "elf", "hello.elf"));
        var setup = MachineSetup.ForFirmware(TestGuests.Config, "hello.elf", elf);
        var recording = RoundTrip.Record(setup, NoInput.Instance, interval: 1_000);
        Assert.Equal(StopReason.GuestExit, recording.Result.Run.Reason);
        Assert.Contains("Hello from ReplayVm guest!", recording.Output);
        var (result, output) = RoundTrip.Replay(recording.Trace);
        Assert.Equal(ReplayOutcome.Identical, result.Outcome);
        Assert.Equal(recording.Output, output);
    }

    /// <summary>
    /// An initrd travels in the header as its own image (role 5) and goes back into RAM where the
    /// recording had it: the replay's state hashes cover RAM, so an initrd placed elsewhere, or
    /// lost, diverges at the first hash point.
    /// </summary>
    [Fact]
    public void InitrdIsEmbeddedAndReplayedInPlace()
    {
        var elf = File.ReadAllBytes(Path.Combine(TestGuests.RepoRoot, "tools", "guests", "elf", "hello.elf"));
        var initrd = new byte[70_001];
        new Random(5).NextBytes(initrd);
        var setup = MachineSetup.ForFirmware(TestGuests.Config, "hello.elf", elf, "payload.bin", [0x73, 0x00, 0x50, 0x10], "initramfs.cpio", initrd);
        var recording = RoundTrip.Record(setup, NoInput.Instance, interval: 1_000);
        Assert.Contains("Hello from ReplayVm guest!", recording.Output);

        var header = TraceReader.Read(recording.Trace).Header;
        var stored = Assert.Single(header.Setup.Images, i => i.Role == ImageRole.Initrd);
        Assert.Equal("initramfs.cpio", stored.Name);
        Assert.Equal(initrd, stored.Bytes);
        Assert.Equal(setup, header.Setup);
        var (result, output) = RoundTrip.Replay(recording.Trace);
        Assert.Equal(ReplayOutcome.Identical, result.Outcome);
        Assert.Equal(recording.Output, output);

        var machine = header.Setup.Build(NoInput.Instance, _ => { });
        ulong start = Machine.InitrdAddress(0x8020_0000, TestGuests.Config.RamSize);
        Assert.Equal(initrd, machine.Ram.Read(start, initrd.Length).ToArray());
    }

    [Fact]
    public void InitrdWithoutKernelIsRefused()
    {
        var setup = new MachineSetup(TestGuests.Config, [new GuestImage(ImageRole.Bios, "fw", 0, [1, 2, 3]), new GuestImage(ImageRole.Initrd, "rd", 0, [4])]);
        var e = Assert.Throws<Core.Loading.GuestImageException>(() => setup.Build(NoInput.Instance, _ => { }));
        Assert.Contains("initrd 'rd'", e.Message);
    }

    [Fact]
    public void KernelWithoutFirmwareIsRefused()
    {
        var setup = new MachineSetup(TestGuests.Config, [new GuestImage(ImageRole.Kernel, "k", 0, [1, 2, 3])]);
        var e = Assert.Throws<Core.Loading.GuestImageException>(() => setup.Build(NoInput.Instance, _ => { }));
        Assert.Contains("kernel 'k'", e.Message);
    }
}
