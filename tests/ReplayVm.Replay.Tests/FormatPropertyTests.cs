using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Replay.Format;

namespace ReplayVm.Replay.Tests;

public class FormatPropertyTests
{
    [Property(MaxTest = 200)]
    public Property EveryEventKindRoundTrips() =>
        Prop.ForAll(TraceGen.Header.ToArbitrary(), TraceGen.Events.ToArbitrary(), Gen.Choose(16, 4096).ToArbitrary(), (header, events, chunkTarget) =>
        {
            var bytes = TraceBuilder.Write(header, events, chunkTarget);
            var trace = TraceReader.Read(bytes);
            Assert.Equal(header.Setup, trace.Header.Setup);
            Assert.Equal(header.StateHashInterval, trace.Header.StateHashInterval);
            Assert.Equal(header.Recorder, trace.Header.Recorder);
            Assert.Equal(events, trace.Events);
            Assert.Null(trace.DamageDescription);
            Assert.Equal(events.Count == 0 || events[^1] is not EndEvent, trace.Truncated);
            Assert.Equal(bytes.Length, trace.ValidLength);
        });

    [Fact]
    public void AllSixKindsAreGenerated()
    {
        var kinds = TraceGen.Events.Sample(200, 300).SelectMany(l => l).Select(e => e.Kind).ToHashSet();
        Assert.Equal(Enum.GetValues<TraceEventKind>().ToHashSet(), kinds);
    }

    private static readonly Lazy<byte[]> SmallTrace = new(() =>
    {
        // Hash points every 1000 steps, as a recorder writes them.
        var header = TraceGen.Header.Sample(1, 1).Single() with { StateHashInterval = 1000 };
        var events = new List<TraceEvent>
        {
            new StateHashEvent(0, new(1, 2)),
            new ConsoleInputEvent(100, "hello"u8.ToArray()),
            new WallClockEvent(250, 1_767_225_600_000_000_000),
            new EntropyEvent(300, [9, 8, 7]),
            new StateHashEvent(1000, new(3, 4)),
            new ConsoleInputEvent(1200, "q"u8.ToArray()),
            new EndEvent(1300, Core.StopReason.GuestExit, 0, new(5, 6), null),
        };
        return TraceBuilder.Write(header, events, chunkTarget: 20);
    });

    /// <summary>Reading damaged bytes yields a clear error or a truncated trace, nothing else.</summary>
    private static bool ReadsSafely(byte[] bytes)
    {
        try
        {
            return TraceReader.Read(bytes).Truncated;
        }
        catch (TraceFormatException e)
        {
            Assert.DoesNotContain('\n', e.Message);
            return true;
        }
    }

    [Fact]
    public void TruncationAtEveryByteIsAnErrorOrTruncated()
    {
        var full = SmallTrace.Value;
        Assert.False(TraceReader.Read(full).Truncated);
        for (int length = 0; length < full.Length; length++)
            Assert.True(ReadsSafely(full[..length]), $"cut at {length} of {full.Length} read as complete");
    }

    [Property(MaxTest = 2000)]
    public Property BitFlipsAnywhereAreCaught() =>
        Prop.ForAll(Gen.Choose(0, SmallTrace.Value.Length * 8 - 1).ToArbitrary(), bit =>
        {
            var bytes = (byte[])SmallTrace.Value.Clone();
            bytes[bit / 8] ^= (byte)(1 << (bit % 8));
            return ReadsSafely(bytes);
        });

    [Property(MaxTest = 300)]
    public Property RandomGarbageIsAnErrorOrTruncated() =>
        Prop.ForAll(TraceGen.Bytes(0, 200).ToArbitrary(), Gen.Choose(0, 1).ToArbitrary(), (garbage, keepMagic) =>
        {
            var bytes = keepMagic == 1 ? [.. "RVTRACE\0"u8.ToArray(), .. garbage] : garbage;
            return ReadsSafely(bytes);
        });

    [Fact]
    public void NewerVersionSaysSo()
    {
        var bytes = (byte[])SmallTrace.Value.Clone();
        bytes[8] = (byte)(TraceFormat.Version + 1);
        var e = Assert.Throws<TraceFormatException>(() => TraceReader.Read(bytes));
        Assert.Contains("newer", e.Message);
        Assert.Contains($"version {TraceFormat.Version + 1}", e.Message);
    }

    [Fact]
    public void MissingImagesSaySo()
    {
        var bytes = SmallTrace.Value[..(TraceFormat.FilePreambleSize + 40)];
        var e = Assert.Throws<TraceFormatException>(() => TraceReader.Read(bytes));
        Assert.Contains("images missing", e.Message);
    }

    [Fact]
    public void CorruptHeaderSaysSo()
    {
        var bytes = (byte[])SmallTrace.Value.Clone();
        bytes[TraceFormat.FilePreambleSize + 5] ^= 0x40;
        var e = Assert.Throws<TraceFormatException>(() => TraceReader.Read(bytes));
        Assert.Contains("header is corrupt", e.Message);
    }

    [Fact]
    public void NotATraceSaysSo()
    {
        var e = Assert.Throws<TraceFormatException>(() => TraceReader.Read("NOT A TRACE AT ALL, JUST TEXT"u8.ToArray()));
        Assert.Contains("not a ReplayVm trace", e.Message);
    }

    [Fact]
    public void MissingFileIsAFormatErrorNamingIt()
    {
        var e = Assert.Throws<TraceFormatException>(() => TraceReader.ReadFile("/nonexistent/x.rvtrace"));
        Assert.StartsWith("/nonexistent/x.rvtrace:", e.Message);
    }

    [Fact]
    public void DamagedChunkReportsHowFarItGot()
    {
        var full = SmallTrace.Value;
        var complete = TraceReader.Read(full);
        Assert.True(complete.ChunkCount >= 3);
        var cut = full[..(full.Length - 3)];
        var partial = TraceReader.Read(cut);
        Assert.True(partial.Truncated);
        Assert.Equal(complete.ChunkCount - 1, partial.ChunkCount);
        Assert.Contains("ends inside a chunk", partial.TruncationReason);
        Assert.True(partial.ValidLength < cut.Length);
        Assert.Equal(complete.Events.Take(partial.Events.Count), partial.Events);
    }
}
