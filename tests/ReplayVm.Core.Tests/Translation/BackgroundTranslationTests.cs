using ReplayVm.Core.Tests.Oracle;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// The background compiler: regions arrive while the hart interprets, at times that depend on the
/// host's threads, so the guest's state must not depend on when they are installed; and a region
/// whose code changed while it was being compiled is never run.
/// </summary>
[Collection(nameof(BackgroundCompilerGate))]
public sealed class BackgroundTranslationTests
{
    private static readonly ulong[] Slices = [1, 7, 333, 4096, 13, 100_000, 2, 999, 250_000];

    private static Machine Boot(byte[] elf)
    {
        var machine = EngineComparison.Boot(ExecutionEngine.Translator, elf);
        machine.Hart.TranslateInBackground = true;
        return machine;
    }

    /// <summary>Waits until the compiler has handed back every job of <paramref name="machine"/> (they are installed at its next dispatch).</summary>
    private static void Drain(Machine machine)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (machine.Hart.BackgroundJobsPending > 0)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromMinutes(2), "the background compiler did not finish its jobs");
            Thread.Sleep(5);
        }
    }

    [Theory]
    [InlineData("kernel.elf", 3_000_000UL)]
    [InlineData("traps.elf", 3_000_000UL)]
    [InlineData("bench.elf", 20_000_000UL)]
    public void Guests_run_as_on_the_interpreter_whenever_regions_arrive(string guest, ulong steps)
    {
        var elf = File.ReadAllBytes(RepoPaths.GuestBinary(guest));
        var reference = EngineComparison.Boot(ExecutionEngine.Interpreter, elf);
        var translated = Boot(elf);
        for (int i = 0; reference.Hart.Steps < steps; i++)
        {
            // Every third slice starts with every queued region installed; the others with whatever
            // the compiler has finished by then.
            if (i % 3 == 0) Drain(translated);
            ulong slice = Slices[i % Slices.Length];
            var a = reference.Run(slice);
            var b = translated.Run(slice);
            Assert.Equal(a.Reason, b.Reason);
            Assert.Equal(EngineComparison.Describe(reference), EngineComparison.Describe(translated));
            if (a.Reason != StopReason.InstructionLimit) break;
        }
        Assert.True(translated.Hart.TranslatorStats.RegionsTranslated > 0, "no region came back from the background compiler");
        Assert.True(translated.Hart.TranslatorStats.RegionSteps > 0, "no installed region ran");
    }

    private static Lazy<byte[]> Loop => TranslatorTests.EndlessLoop;

    [Fact]
    public void A_region_whose_page_is_written_while_it_compiles_never_runs()
    {
        var elf = Loop.Value;
        var image = Core.Loading.ElfImage.Parse(elf);
        ulong patch = image.FindSymbol("patch")!.Value, replacement = image.FindSymbol("replacement")!.Value;
        var reference = EngineComparison.Boot(ExecutionEngine.Interpreter, elf);
        var translated = Boot(elf);
        BackgroundCompiler.Gate.Reset();
        try
        {
            foreach (var m in new[] { reference, translated }) m.Run(3001); // hot: the loop is queued, and held
            Assert.True(translated.Hart.BackgroundJobsPending > 0, "nothing was queued");
            foreach (var m in new[] { reference, translated })
            {
                var bytes = m.Ram.Read(replacement, 4).ToArray();
                m.Ram.Write(patch, bytes); // as virtio-blk's DMA writes guest RAM
            }
        }
        finally
        {
            BackgroundCompiler.Gate.Set();
        }
        Drain(translated);
        ulong roundsBefore = translated.Hart.GetX(8), sumBefore = translated.Hart.GetX(10);
        foreach (var m in new[] { reference, translated }) m.Run(3000);
        Assert.Equal(EngineComparison.Describe(reference), EngineComparison.Describe(translated));
        // After the patch each round adds 1000: the stale region would have kept adding 1.
        Assert.Equal(sumBefore + 1000 * (translated.Hart.GetX(8) - roundsBefore), translated.Hart.GetX(10));
        foreach (var m in new[] { reference, translated }) m.Run(30_000); // hot again: retranslated from the new code
        Assert.Equal(EngineComparison.Describe(reference), EngineComparison.Describe(translated));
    }

    [Fact]
    public void A_breakpoint_set_while_its_region_compiles_stops_the_guest()
    {
        var elf = Loop.Value;
        ulong loop = Core.Loading.ElfImage.Parse(elf).FindSymbol("loop")!.Value;
        var reference = EngineComparison.Boot(ExecutionEngine.Interpreter, elf);
        var translated = Boot(elf);
        BackgroundCompiler.Gate.Reset();
        try
        {
            foreach (var m in new[] { reference, translated }) m.Run(3001);
            Assert.True(translated.Hart.BackgroundJobsPending > 0, "nothing was queued");
            foreach (var m in new[] { reference, translated }) m.Hart.SetBreakpoints([loop + 4]); // inside the queued region
        }
        finally
        {
            BackgroundCompiler.Gate.Set();
        }
        Drain(translated);
        for (int hit = 0; hit < 3; hit++)
        {
            var results = new[] { reference, translated }.Select(m => m.Run(1_000_000)).ToArray();
            Assert.All(results, r => Assert.Equal(StopReason.DebugStop, r.Reason));
            Assert.Equal(EngineComparison.Describe(reference), EngineComparison.Describe(translated));
            Assert.Equal(loop + 4, translated.Hart.Pc);
            foreach (var m in new[] { reference, translated }) { m.TakeDebugStop(); m.Hart.ResumeFromBreakpoint(); }
        }
    }
}

/// <summary>Tests that close <see cref="BackgroundCompiler.Gate"/> run one at a time.</summary>
[CollectionDefinition(nameof(BackgroundCompilerGate))]
public sealed class BackgroundCompilerGate;
