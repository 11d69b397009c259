using Xunit.Abstractions;
using ReplayVm.Core;
using ReplayVm.Core.Hart;
using ReplayVm.Replay.Input;
using ReplayVm.Replay.Timeline;

namespace ReplayVm.Replay.Tests.Timeline;

/// <summary>
/// The trap index of a recording equals what a brute-force single-step replay finds, answers
/// next/previous queries exactly, stays bounded past its marker budget, and can be cancelled.
/// </summary>
public sealed class TimelineIndexTests(ITestOutputHelper log)
{
    private static string GuestFile(params string[] parts) => Path.Combine([TestGuests.RepoRoot, "tools", "guests", .. parts]);

    private static readonly Lazy<TraceFile> Traps = new(() => TraceReader.Read(
        RoundTrip.Record(TestGuests.Committed("traps"), new ScriptedInputPort([]), interval: 50_000).Trace));

    /// <summary>The kernel guest: S-mode, user processes (ecalls from U), timer and external interrupts.</summary>
    private static readonly Lazy<TraceFile> Kernel = new(() => TraceReader.Read(RoundTrip.Record(
        MachineSetup.ForElf(new MachineConfig(), "kernel.elf", File.ReadAllBytes(GuestFile("elf", "kernel.elf")))
            with { Disks = [GuestDisk.Embedded("disk.img", File.ReadAllBytes(GuestFile("kernel", "disk.img")))] },
        new ScriptedInputPort([new ScriptedKeys(0, File.ReadAllBytes(GuestFile("expected", "kernel.stdin")))]), interval: 100_000).Trace));

    private static TraceFile Demo => TraceReader.ReadFile(Path.Combine(TestGuests.RepoRoot, "traces", "demo.rvtrace"));

    private static TraceFile Recording(string name) => name switch
    {
        "demo" => Demo,
        "traps" => Traps.Value,
        "kernel" => Kernel.Value,
        _ => throw new ArgumentException(name),
    };

    private static List<TrapMarker> Scanned(TraceFile trace, TimelineIndexOptions? options = null)
    {
        using var index = new TimelineIndex(trace, options);
        index.Completion.Wait();
        Assert.Equal(TimelineIndexState.Complete, index.State);
        Assert.Null(index.Error);
        var all = new List<TrapMarker>();
        for (var m = index.Next(TrapMarkerKinds.All, 0); m is not null; m = index.Next(TrapMarkerKinds.All, m.Value.Step))
            all.Add(m.Value);
        // Next from 0 misses a trap at step 0 itself; none of these guests traps before its first instruction.
        return all;
    }

    [Theory]
    [InlineData("demo")]
    [InlineData("traps")]
    [InlineData("kernel")]
    public async Task Index_equals_a_single_step_scan_of_the_recording(string name)
    {
        var trace = Recording(name);
        var oracle = SingleStepTrapScan.Scan(trace);
        using var index = new TimelineIndex(trace);
        await index.Completion;
        Assert.Equal(TimelineIndexState.Complete, index.State);
        Assert.Equal(1.0, index.Progress);
        Assert.Equal(oracle.Count, index.Count(TrapMarkerKinds.All));
        log.WriteLine($"{name}: {index.End} steps, {oracle.Count} traps: " +
            string.Join(", ", index.CountsByCause().OrderBy(p => p.Key).Select(p => $"{TrapCauseNames.Describe(p.Key.Interrupt, p.Key.Cause)} x{p.Value}")));

        // Distinct steps per kind, walked with Next, must be the oracle's.
        foreach (var kind in new[] { TrapMarkerKinds.Exception, TrapMarkerKinds.Ecall, TrapMarkerKinds.SoftwareInterrupt, TrapMarkerKinds.TimerInterrupt, TrapMarkerKinds.ExternalInterrupt })
        {
            var expected = oracle.Where(t => TrapMarker.KindOf(t.Interrupt, t.Cause) == kind).Select(t => t.Step).Distinct().ToList();
            var walked = new List<ulong>();
            // The first marker may sit at step 0, which "next after" cannot reach: "previous before 1" can.
            for (var m = index.Previous(kind, 1) ?? index.Next(kind, 0); m is not null; m = index.Next(kind, m.Value.Step))
                walked.Add(m.Value.Step);
            Assert.Equal(expected, walked);
        }
        var byCause = oracle.GroupBy(t => (t.Interrupt, (byte)t.Cause)).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(byCause.OrderBy(p => p.Key), index.CountsByCause().OrderBy(p => p.Key));
        if (name == "traps")
        {
            Assert.True(index.Count(TrapMarkerKinds.Exception) >= 16);
            Assert.True(index.Count(TrapMarkerKinds.Ecall) >= 4);
            Assert.True(index.Count(TrapMarkerKinds.TimerInterrupt) >= 2);
            Assert.True(index.Count(TrapMarkerKinds.SoftwareInterrupt) >= 2);
        }
        if (name == "kernel")
        {
            Assert.True(index.Count(TrapMarkerKinds.Ecall) > 0, "the kernel's user processes make system calls");
            Assert.True(index.Count(TrapMarkerKinds.Interrupts) > 0, "the kernel takes interrupts");
        }
    }

    [Fact]
    public async Task Next_and_previous_find_the_nearest_marker_of_the_kinds_asked_for()
    {
        var trace = Traps.Value;
        var all = Scanned(trace);
        using var index = new TimelineIndex(trace);
        await index.Completion;
        var interrupts = all.Where(m => m.Interrupt).ToList();
        var traps = all.Where(m => !m.Interrupt).ToList();
        Assert.NotEmpty(interrupts);
        foreach (ulong probe in all.Select(m => m.Step).Concat(all.Select(m => m.Step + 1)).Concat(all.Select(m => m.Step - 1)))
        {
            Assert.Equal(traps.FirstOrDefault(m => m.Step > probe).Step, index.Next(TrapMarkerKinds.Traps, probe)?.Step ?? 0);
            Assert.Equal(traps.LastOrDefault(m => m.Step < probe).Step, index.Previous(TrapMarkerKinds.Traps, probe)?.Step ?? 0);
            Assert.Equal(interrupts.FirstOrDefault(m => m.Step > probe).Step, index.Next(TrapMarkerKinds.Interrupts, probe)?.Step ?? 0);
            Assert.Equal(interrupts.LastOrDefault(m => m.Step < probe).Step, index.Previous(TrapMarkerKinds.Interrupts, probe)?.Step ?? 0);
        }
        var timer = index.Next(TrapMarkerKinds.TimerInterrupt, 0)!.Value;
        Assert.Equal("timer interrupt (M)", timer.CauseName);
        Assert.True(timer.Interrupt);
        Assert.Null(index.Next(TrapMarkerKinds.All, all[^1].Step));
        Assert.Null(index.Previous(TrapMarkerKinds.All, all[0].Step));
        Assert.True(index.Any(TrapMarkerKinds.Traps, traps[0].Step, traps[0].Step + 1));
        Assert.False(index.Any(TrapMarkerKinds.Traps, traps[0].Step + 1, traps[1].Step));
    }

    [Fact]
    public async Task Past_its_marker_budget_the_index_keeps_bucket_summaries_and_still_answers_with_real_markers()
    {
        var trace = Traps.Value;
        var all = Scanned(trace);
        var steps = all.Select(m => m.Step).ToHashSet();
        using var index = new TimelineIndex(trace, new TimelineIndexOptions { MaxExactMarkers = 10, Buckets = 16 });
        await index.Completion;
        Assert.Equal(all.Count, index.Count(TrapMarkerKinds.All));
        Assert.Equal(all[10].Step, index.ExactBefore);

        // Before the budget ran out the answers are exact; after it each is a real marker, in order, some skipped.
        var walked = new List<ulong>();
        for (var m = index.Next(TrapMarkerKinds.All, 0); m is not null; m = index.Next(TrapMarkerKinds.All, m.Value.Step)) walked.Add(m.Value.Step);
        Assert.Equal(all.Take(10).Select(m => m.Step), walked.Take(10));
        Assert.All(walked, s => Assert.Contains(s, steps));
        Assert.Equal(walked.Order().Distinct(), walked);
        Assert.True(walked.Count < all.Count);
        var back = new List<ulong>();
        for (var m = index.Previous(TrapMarkerKinds.All, ulong.MaxValue); m is not null; m = index.Previous(TrapMarkerKinds.All, m.Value.Step)) back.Add(m.Value.Step);
        Assert.All(back, s => Assert.Contains(s, steps));
        Assert.Equal(back.OrderDescending().Distinct(), back);
        Assert.Equal(all.Take(10).Select(m => m.Step).Reverse(), back.TakeLast(10));
    }

    [Fact]
    public async Task A_cancelled_scan_stops_early_and_keeps_what_it_found()
    {
        var trace = TimelineRecordings.Bench.Value;
        var index = new TimelineIndex(trace, new TimelineIndexOptions { ChunkSteps = 1000 });
        index.Cancel();
        await index.Completion;
        Assert.Equal(TimelineIndexState.Cancelled, index.State);
        Assert.True(index.ScannedStep < index.End, $"scanned {index.ScannedStep} of {index.End}");
        Assert.True(index.Progress < 1);
        index.Dispose();
    }

    [Fact]
    public void WaitUntil_returns_once_the_condition_holds_or_the_scan_ends()
    {
        using var index = new TimelineIndex(Traps.Value, new TimelineIndexOptions { ChunkSteps = 10_000 });
        Assert.True(index.WaitUntil(i => i.Count(TrapMarkerKinds.Ecall) >= 1, TimeSpan.FromMinutes(1)));
        Assert.True(index.Count(TrapMarkerKinds.Ecall) >= 1);
        Assert.True(index.WaitUntil(_ => false, TimeSpan.FromMinutes(1))); // true at the end of the scan
        Assert.Equal(TimelineIndexState.Complete, index.State);
    }
}

/// <summary>
/// The oracle: replays a trace one step at a time with no observer. An exception shows as
/// <see cref="Hart.ExceptionsTaken"/> moving (cause and pc then in mcause/mepc or scause/sepc, by the
/// mode it went to). An interrupt takes no step of its own, so it shows as a step after which the
/// handling mode's cause register holds an interrupt and its epc the pc the step started at, with
/// that mode's trap state (cause, epc, mstatus, mode) changed.
/// </summary>
internal static class SingleStepTrapScan
{
    public static List<(ulong Step, ulong Cause, bool Interrupt, ulong Pc)> Scan(TraceFile trace)
    {
        var machine = trace.Header.Setup.Build(new RewindableReplayInput(trace.Events), _ => { });
        var hart = machine.Hart;
        ulong end = trace.End?.Step ?? trace.LastStep;
        var found = new List<(ulong, ulong, bool, ulong)>();
        while (hart.Steps < end)
        {
            ulong step = hart.Steps, pc = hart.Pc, exceptions = hart.ExceptionsTaken;
            var m0 = (hart.ReadCsr(0x342), hart.ReadCsr(0x341), hart.ReadCsr(0x300), hart.Mode);
            var s0 = (hart.ReadCsr(0x142), hart.ReadCsr(0x141), hart.ReadCsr(0x300), hart.Mode);
            var run = machine.Run(1);
            var m1 = (hart.ReadCsr(0x342), hart.ReadCsr(0x341), hart.ReadCsr(0x300), hart.Mode);
            var s1 = (hart.ReadCsr(0x142), hart.ReadCsr(0x141), hart.ReadCsr(0x300), hart.Mode);
            bool inS = hart.Mode == PrivilegeLevel.Supervisor;
            if (hart.ExceptionsTaken != exceptions)
                found.Add((step, inS ? s1.Item1 : m1.Item1, false, inS ? s1.Item2 : m1.Item2));
            else if (!inS && (m1.Item1 >> 63) != 0 && m1.Item2 == pc && m1 != m0)
                found.Add((step, m1.Item1 & ~(1UL << 63), true, pc));
            else if (inS && (s1.Item1 >> 63) != 0 && s1.Item2 == pc && s1 != s0)
                found.Add((step, s1.Item1 & ~(1UL << 63), true, pc));
            if (run.Reason is StopReason.GuestExit or StopReason.TrapLoop) break;
        }
        return found;
    }
}
