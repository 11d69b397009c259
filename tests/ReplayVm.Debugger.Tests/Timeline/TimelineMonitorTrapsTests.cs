using System.Text.RegularExpressions;
using ReplayVm.Core;
using ReplayVm.Core.Input;
using ReplayVm.Debugger.Timeline;
using ReplayVm.Replay;
using ReplayVm.Replay.Timeline;
using ReplayTimeline = ReplayVm.Replay.Timeline.Timeline;

namespace ReplayVm.Debugger.Tests.Timeline;

/// <summary><c>monitor traps [N]</c> over a recording of the traps guest, which reports each trap it provokes.</summary>
public sealed class TimelineMonitorTrapsTests
{
    private static readonly Lazy<byte[]> TrapsTrace = new(RecordTraps);

    /// <summary>The guest's own probes in the order traps.c runs them (tools/guests/expected/traps.out), direct mode.</summary>
    private static readonly string[] DirectProbes =
    [
        "ecall from M", "breakpoint", "breakpoint", "illegal instruction", "illegal instruction", "store/AMO address misaligned",
        "load access fault", "store/AMO access fault", "instruction access fault", "ecall from U",
        "software interrupt (M)", "timer interrupt (M)",
    ];

    private static readonly Regex Line = new(@"^  event (\d+): (.+) at pc 0x([0-9a-f]+) \((\w+) -> (\w+)\)$");

    [Fact]
    public void Lists_the_next_traps_in_the_guests_order_without_moving_and_each_event_is_the_trapping_instruction()
    {
        var timeline = new ReplayTimeline(TraceReader.Read(TrapsTrace.Value));
        var monitor = new TimelineMonitor(timeline, "traps.rvtrace");

        string reply = monitor.Run("traps 100");
        // The first use starts the search; on a loaded machine it may answer before the search is through.
        while (reply.Contains("(still searching", StringComparison.Ordinal)) reply = monitor.Run("traps 100");
        var lines = reply.Split('\n');
        Assert.Equal("traps and interrupts after event 0:", lines[0]);
        var entries = lines.Skip(1).Where(l => l.StartsWith("  event", StringComparison.Ordinal)).Select(l => Line.Match(l)).ToList();
        Assert.All(entries, m => Assert.True(m.Success));
        Assert.Equal(24, entries.Count); // the probes, direct then vectored
        Assert.Equal(DirectProbes.Concat(DirectProbes), entries.Select(m => m.Groups[2].Value));
        Assert.Equal(0UL, timeline.Position);
        Assert.EndsWith($"monitor seek {entries[0].Groups[1].Value} goes to the first", reply);

        // At an exception's event the trapping instruction is about to run: its pc is the one listed.
        var illegal = entries[3];
        ulong step = ulong.Parse(illegal.Groups[1].Value);
        timeline.Seek(step);
        Assert.Equal(Convert.ToUInt64(illegal.Groups[3].Value, 16), timeline.Machine.Hart.Pc);

        string next = monitor.Run("traps 2");
        Assert.Equal($"traps and interrupts after event {step}:", next.Split('\n')[0]);
        Assert.Equal([entries[4].Value, entries[5].Value], next.Split('\n').Skip(1).Take(2));
        Assert.Equal(step, timeline.Position);

        timeline.Seek(timeline.End);
        Assert.Equal($"no traps or interrupts after event {timeline.End}", monitor.Run("traps"));
    }

    /// <summary>
    /// With the trace's sidecar, the traps come from its trap records (decoded as the listing needs
    /// them) rather than from a replay, and the listing is the same, from anywhere.
    /// </summary>
    [Fact]
    public void From_the_sidecar_the_listing_is_the_one_a_replay_finds()
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-monitor-traps-").FullName;
        try
        {
            string path = Path.Combine(dir, "traps.rvtrace");
            File.WriteAllBytes(path, TrapsTrace.Value);
            var trace = TraceReader.ReadFile(path);
            var identity = ReplayVm.Replay.TraceIndex.TraceIdentity.OfFile(path);
            string sidecar = ReplayVm.Replay.TraceIndex.TraceIndexFormat.SidecarPath(path);
            using (var output = File.Create(sidecar))
                ReplayVm.Replay.TraceIndex.TraceIndexBuilder.Build(trace, identity, output, new ReplayVm.Replay.TraceIndex.TraceIndexOptions { Every = 1 });
            using var index = ReplayVm.Replay.TraceIndex.TraceIndexFile.Open(sidecar, trace, identity);
            Assert.True(index.Traps.RecordCount > 2, $"{index.Traps.RecordCount} trap records");
            var scanned = new ReplayTimeline(trace);
            var indexed = new ReplayTimeline(trace, new TimelineOptions { Index = index });
            var fromScan = new TimelineMonitor(scanned, "traps.rvtrace");
            var fromSidecar = new TimelineMonitor(indexed, "traps.rvtrace");
            Assert.Equal(TimelineIndexState.Complete, indexed.TrapIndex().State);
            foreach (ulong step in new ulong[] { 0, trace.End!.Step / 3, trace.End.Step / 2, trace.End.Step - 1 })
            {
                scanned.Seek(step);
                indexed.Seek(step);
                string expected = fromScan.Run("traps 30");
                while (expected.Contains("(still searching", StringComparison.Ordinal)) expected = fromScan.Run("traps 30");
                Assert.Equal(expected, fromSidecar.Run("traps 30"));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Bad_counts_get_a_usage_line_and_help_lists_the_command()
    {
        var monitor = new TimelineMonitor(new ReplayTimeline(TraceReader.Read(TrapsTrace.Value)), null);
        Assert.StartsWith("not a count: 'ten'", monitor.Run("traps ten"));
        Assert.StartsWith("not a count: '0'", monitor.Run("traps 0"));
        Assert.StartsWith("usage: monitor traps [N]", monitor.Run("traps 1 2"));
        Assert.Contains("monitor traps [N]", monitor.Run("help"));
    }

    private static byte[] RecordTraps()
    {
        string elf = Path.Combine(RepoRoot(), "tools", "guests", "elf", "traps.elf");
        var setup = MachineSetup.ForElf(new MachineConfig { RamSize = 16UL << 20 }, "traps.elf", File.ReadAllBytes(elf));
        var stream = new MemoryStream();
        using (var recorder = new Recorder(setup, NoInput.Instance, _ => { }, stream,
                   new RecorderOptions { StateHashInterval = 50_000, Writer = new TraceWriterOptions { FlushInterval = TimeSpan.Zero } }))
        {
            var result = recorder.Run(50_000_000);
            Assert.Equal(StopReason.GuestExit, result.Run.Reason);
        }
        return stream.ToArray();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ReplayVm.sln"))) return dir.FullName;
        throw new InvalidOperationException("ReplayVm.sln not found");
    }
}
