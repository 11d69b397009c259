using FsCheck;
using FsCheck.Fluent;
using ReplayVm.Core.Hart;
using ReplayVm.Core.Tests.Translation;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Debug;

/// <summary>
/// Breakpoints run at full speed: the interpreter looks for them only where it enters a page that
/// holds one, and runs such a page from a shadow of its decodes with the breakpoint slots left
/// empty (Hart.BreakpointPages). Whatever the engine, every arrival at a breakpoint pc must stop
/// the run, at exactly the step a one-step-at-a-time scan finds it, and the run must end as it
/// would without breakpoints.
/// </summary>
public sealed class BreakpointPageTests
{
    /// <summary>The pc before every step of a guest's first <paramref name="steps"/> steps, one step at a time (the reference).</summary>
    private static ulong[] PcTrace(string guest, int steps)
    {
        var machine = EngineComparison.Boot(ExecutionEngine.Interpreter, File.ReadAllBytes(RepoPaths.GuestBinary(guest)));
        var pcs = new List<ulong>(steps);
        while (pcs.Count < steps)
        {
            pcs.Add(machine.Hart.Pc);
            if (machine.Run(1).Reason != StopReason.InstructionLimit) break;
        }
        return [.. pcs];
    }

    private static readonly Dictionary<string, Lazy<ulong[]>> Traces = new()
    {
        // kernel: Sv39 paging, U-mode processes, traps and interrupts; traps: every exception
        // cause; bench: hot loops on one page, where breakpoints sit next to the hot code.
        ["kernel.elf"] = new(() => PcTrace("kernel.elf", 500_000)),
        ["traps.elf"] = new(() => PcTrace("traps.elf", 200_000)),
        ["bench.elf"] = new(() => PcTrace("bench.elf", 400_000)),
    };

    /// <summary>Breakpoint sets: executed pcs (hot ones most likely), their neighbours (often never
    /// executed, on the same page as hot code), and the middle of a 4-byte instruction.</summary>
    private static Gen<ulong[]> BreakpointSets(ulong[] trace) =>
        from count in Gen.Choose(1, 6)
        from picks in Gen.ArrayOf(
            from index in Gen.Choose(0, trace.Length - 1)
            from delta in Gen.Elements(0L, 0L, 0L, 2L, -2L, 4L, 6L, 1L, 64L)
            select (ulong)((long)trace[index] + delta), count)
        select picks.Distinct().ToArray();

    /// <summary>Runs <paramref name="guest"/> with the breakpoints until the trace's end, resuming after
    /// each stop; returns the (step, pc) of every stop and the machine.</summary>
    private static (List<(ulong Step, ulong Pc)> Hits, Machine Machine) RunWith(string guest, ExecutionEngine engine, int threshold, ulong[] breakpoints, ulong end)
    {
        var machine = EngineComparison.Boot(engine, File.ReadAllBytes(RepoPaths.GuestBinary(guest)), threshold);
        machine.Hart.SetBreakpoints(breakpoints);
        var hits = new List<(ulong, ulong)>();
        while (machine.Hart.Steps < end)
        {
            var r = machine.Run(end - machine.Hart.Steps);
            if (r.Reason != StopReason.DebugStop) break;
            var stop = machine.TakeDebugStop()!.Value;
            Assert.Equal(DebugStopKind.Breakpoint, stop.Kind);
            Assert.Equal(machine.Hart.Pc, stop.Pc);
            hits.Add((machine.Hart.Steps, machine.Hart.Pc));
        }
        return (hits, machine);
    }

    [Theory]
    [InlineData("kernel.elf", ExecutionEngine.Interpreter, 1)]
    [InlineData("kernel.elf", ExecutionEngine.Translator, 1)]
    [InlineData("kernel.elf", ExecutionEngine.Translator, 16)]
    [InlineData("traps.elf", ExecutionEngine.Interpreter, 1)]
    [InlineData("traps.elf", ExecutionEngine.Translator, 4)]
    [InlineData("bench.elf", ExecutionEngine.Interpreter, 1)]
    [InlineData("bench.elf", ExecutionEngine.Translator, 1)]
    [InlineData("bench.elf", ExecutionEngine.Translator, 64)]
    public void Every_arrival_at_a_breakpoint_stops_at_the_step_a_single_step_scan_finds(string guest, ExecutionEngine engine, int threshold)
    {
        var trace = Traces[guest].Value;
        ulong end = (ulong)trace.Length;
        var reference = EngineComparison.Boot(ExecutionEngine.Interpreter, File.ReadAllBytes(RepoPaths.GuestBinary(guest)));
        reference.Run(end);
        string expectedEnd = EngineComparison.Describe(reference);
        Prop.ForAll(BreakpointSets(trace).ToArbitrary(), breakpoints =>
        {
            var set = breakpoints.ToHashSet();
            // The run resumes past a breakpoint at its very first pc (Machine.Run steps over the pc it starts at).
            var expected = Enumerable.Range(1, trace.Length - 1).Where(s => set.Contains(trace[s])).Select(s => ((ulong)s, trace[s])).ToList();
            var (hits, machine) = RunWith(guest, engine, threshold, breakpoints, end);
            Assert.Equal(expected.Count, hits.Count);
            Assert.Equal(expected, hits);
            Assert.Equal(expectedEnd, EngineComparison.Describe(machine));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(6));
    }

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void A_page_rewritten_under_its_breakpoints_runs_its_new_code_and_still_stops(ExecutionEngine engine)
    {
        var elf = TranslatorTests.EndlessLoop.Value;
        var image = Core.Loading.ElfImage.Parse(elf);
        ulong loop = image.FindSymbol("loop")!.Value, patch = image.FindSymbol("patch")!.Value, replacement = image.FindSymbol("replacement")!.Value;
        var machine = EngineComparison.Boot(engine, elf);
        ulong stopAt = loop + 8; // `j loop`: once per round
        machine.Hart.SetBreakpoints([stopAt, replacement]);
        for (int round = 0; round < 50; round++)
        {
            Assert.Equal(StopReason.DebugStop, machine.Run(1000).Reason);
            Assert.Equal(stopAt, machine.TakeDebugStop()!.Value.Pc);
        }
        ulong a0 = machine.Hart.GetX(10), s0 = machine.Hart.GetX(8);
        Assert.Equal(s0, a0); // one round adds 1 to each
        var bytes = machine.Ram.Read(replacement, 4).ToArray();
        machine.Ram.Write(patch, bytes); // as DMA writes guest RAM: the page's decodes (and its shadow) are stale
        for (int round = 0; round < 50; round++)
        {
            Assert.Equal(StopReason.DebugStop, machine.Run(1000).Reason);
            Assert.Equal(stopAt, machine.TakeDebugStop()!.Value.Pc);
        }
        Assert.Equal(s0 + 50, machine.Hart.GetX(8));
        Assert.Equal(a0 + 50 * 1000UL, machine.Hart.GetX(10));
    }
}
