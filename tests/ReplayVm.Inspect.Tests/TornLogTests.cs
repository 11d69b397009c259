using ReplayVm.Cli.Tests.Support;
using ReplayVm.Core;
using ReplayVm.Replay;

namespace ReplayVm.Inspect.Tests;

/// <summary>
/// A recorder stopped in the middle of appending an event leaves a torn pending buffer: decoding
/// stops at the last whole event, and a salvage of such a log keeps the consistent events and
/// writes no end record, so the trace replays as truncated.
/// </summary>
public sealed class TornLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replayvm-torn-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Raw events as the writer's buffer holds them: varint step delta, kind, payload.
    // ConsoleInput "hi" 5 steps after the base, then WallClock 300 ns 2 steps later.
    private static readonly byte[] TwoEvents = [0x05, 0x01, 0x02, (byte)'h', (byte)'i', 0x02, 0x02, 0xAC, 0x02];

    [Fact]
    public void Whole_events_decode_and_a_half_written_one_stops_the_log()
    {
        var events = TraceLogCodec.DecodeRawEvents(TwoEvents, 100, 2, out string? problem);
        Assert.Null(problem);
        Assert.Equal([new ConsoleInputEvent(105, "hi"u8.ToArray()), new WallClockEvent(107, 300)], events.Cast<object>());

        for (int cut = 1; cut < TwoEvents.Length; cut++)
        {
            var torn = TraceLogCodec.DecodeRawEvents(TwoEvents.AsSpan(0, cut), 100, 2, out problem);
            Assert.Equal(cut >= 5 ? 1 : 0, torn.Count);
            Assert.NotNull(problem);
        }
        // The writer's count says how many events are whole: bytes past them (stale or half written) are not read.
        Assert.Single(TraceLogCodec.DecodeRawEvents(TwoEvents, 100, 1, out problem));
        Assert.Null(problem);
    }

    [Fact]
    public void A_torn_log_is_salvaged_up_to_its_last_consistent_event_without_an_end_record()
    {
        var setup = MachineSetup.ForElf(new MachineConfig(), "demo.elf", File.ReadAllBytes(CliProcess.Guest("demo.elf")));
        var header = new TraceHeader(setup, TraceHeader.DefaultStateHashInterval, "test");
        // The step-0 hash of the real machine, so the salvaged trace replays.
        var replayer = new Replayer(new TraceFile(header, [], 0, 0, 0, null), _ => { });
        var events = new List<TraceEvent> { new StateHashEvent(0, replayer.ComputeHash()), new ConsoleInputEvent(500, "help\n"u8.ToArray()) };
        var log = new RecorderLog
        {
            Header = header, TracePath = null, Events = events, EventsLogged = 3, EventsWritten = 1, ChunksWritten = 1,
            Torn = "event 2 (at byte 8) does not decode", Ended = false,
        };
        var machine = new MachineReport("record", 900, 0x80000000, null, null, "M", new ulong[32], new ulong[32], [], [], false, false,
            128 << 20, 0, "", null);
        string path = Path.Combine(_dir, "torn.rvtrace");
        var result = Salvager.Salvage(machine, log, "core.1", path);

        Assert.False(result.Complete);
        Assert.Contains(result.Lines, l => l.Contains("the in-memory log is torn") && l.Contains("up to step 500"));
        var trace = TraceReader.ReadFile(path);
        Assert.Null(trace.End);
        Assert.Equal(events, trace.Events);
        var replay = CliProcess.Run("replay", path);
        Assert.True(replay.ExitCode == 4, replay.ToString());
        Assert.Contains("no end record", replay.Stderr);
    }
}
