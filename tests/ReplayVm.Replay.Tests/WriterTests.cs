using ReplayVm.Core;
using ReplayVm.Core.Input;
using ReplayVm.Core.State;
using ReplayVm.Replay.Format;
using ReplayVm.Replay.Input;

namespace ReplayVm.Replay.Tests;

public class WriterTests
{
    private static TraceHeader Header => new(TestGuests.Committed("hello"), 1000, "tests");

    [Fact]
    public void TimerWritesPendingEventsWithinTheFlushInterval()
    {
        var path = Path.Combine(Path.GetTempPath(), $"replayvm-{Guid.NewGuid():N}.rvtrace");
        try
        {
            using var writer = TraceWriter.Create(path, Header, new TraceWriterOptions { FlushInterval = TimeSpan.FromMilliseconds(100) });
            writer.Append(new ConsoleInputEvent(10, "x"u8.ToArray()));
            // Read what another process would see if the recorder were killed now.
            TraceFile? seen = null;
            for (int i = 0; i < 50 && (seen is null || seen.Events.Count == 0); i++)
            {
                Thread.Sleep(50);
                using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                seen = TraceReader.Read(reader);
            }
            Assert.Single(seen!.Events);
            Assert.True(seen.Truncated);
            Assert.Contains("no end record", seen.TruncationReason);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_header_encoded_beforehand_writes_the_same_file()
    {
        // A replica encodes its header once, for its backups and its own trace file.
        static byte[] Written(TraceHeader header, byte[]? encoded)
        {
            var stream = new MemoryStream();
            using (var writer = new TraceWriter(stream, header, encoded, new TraceWriterOptions { FlushInterval = TimeSpan.Zero }, ownsStream: false))
            {
                writer.Append(new ConsoleInputEvent(10, "x"u8.ToArray()));
                writer.Append(new EndEvent(20, StopReason.GuestExit, 0, default, null));
            }
            return stream.ToArray();
        }
        var header = Header;
        var encoded = TraceLogCodec.EncodeHeader(header);
        var file = Written(header, encoded);
        Assert.Equal(Written(header, null), file);
        Assert.Equal(encoded, file[..encoded.Length]);
        var read = TraceReader.Read(new MemoryStream(file));
        Assert.Equal(2, read.Events.Count);
        Assert.False(read.Truncated);
    }

    [Fact]
    public void StepsMustNotGoBackAndNothingFollowsTheEnd()
    {
        using var writer = new TraceWriter(new MemoryStream(), Header, new TraceWriterOptions { FlushInterval = TimeSpan.Zero });
        writer.Append(new WallClockEvent(10, 1));
        Assert.Throws<ArgumentException>(() => writer.Append(new WallClockEvent(9, 1)));
        Assert.Throws<ArgumentException>(() => writer.Append(new ConsoleInputEvent(11, [])));
        writer.Append(new EndEvent(20, StopReason.GuestExit, 0, default, null));
        Assert.Throws<InvalidOperationException>(() => writer.Append(new WallClockEvent(30, 1)));
    }

    [Fact]
    public void InterruptedRecordingLeavesAReplayableTruncatedTrace()
    {
        // A recorder that is disposed without finishing (Ctrl-C before the end record, or a crash
        // after the last flush) leaves chunks that replay up to their last step.
        var stream = new MemoryStream();
        var live = new ScriptedInputPort([new ScriptedKeys(100, "ab"u8.ToArray())]);
        var recorder = new Recorder(TestGuests.Echo, live, _ => { }, stream,
            new RecorderOptions { StateHashInterval = 1000, Writer = new TraceWriterOptions { FlushInterval = TimeSpan.Zero } });
        recorder.Machine.Run(5000);
        recorder.Dispose();
        var trace = TraceReader.Read(stream.ToArray());
        Assert.True(trace.Truncated);
        Assert.Single(trace.Events.OfType<ConsoleInputEvent>());
        var result = new Replayer(trace, _ => { }).Run();
        Assert.Equal(ReplayOutcome.Truncated, result.Outcome);
    }

    [Fact]
    public void OtherHasherVersionIsRefusedClearly()
    {
        var bytes = TraceBuilder.Write(Header with { HasherVersion = MachineStateHasher.Version + 1 }, []);
        var e = Assert.Throws<TraceFormatException>(() => new Replayer(TraceReader.Read(bytes), _ => { }));
        Assert.Contains("state-hasher version", e.Message);
    }

    [Fact]
    public void UnbuildableMachineIsRefusedClearly()
    {
        var header = new TraceHeader(MachineSetup.ForRaw(TestGuests.Config, "big", new byte[64], 0x1_0000_0000), 1000, "tests");
        var e = Assert.Throws<TraceFormatException>(() => new Replayer(TraceReader.Read(TraceBuilder.Write(header, [])), _ => { }));
        Assert.Contains("cannot build", e.Message);
    }

    [Fact]
    public void RecordingToAFileRoundTrips()
    {
        var path = Path.Combine(Path.GetTempPath(), $"replayvm-{Guid.NewGuid():N}.rvtrace");
        try
        {
            RecordResult result;
            using (var recorder = new Recorder(TestGuests.Committed("hello"), NoInput.Instance, _ => { }, File.Create(path)))
                result = recorder.Run();
            var trace = TraceReader.ReadFile(path);
            Assert.False(trace.Truncated);
            Assert.Equal(result.FinalHash, trace.End!.FinalHash);
            Assert.Equal(TraceHeader.DefaultStateHashInterval, trace.Header.StateHashInterval);
            Assert.Equal(ReplayOutcome.Identical, new Replayer(trace, _ => { }).Run().Outcome);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
