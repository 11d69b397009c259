using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// When code becomes hot: an entry is translated once the interpreter has run
/// <see cref="Hart.Hart.TranslationThreshold"/> steps from it, however those steps are split into
/// arrivals — a long loop body earns its translation in few arrivals, a two-instruction loop in many —
/// and while it still runs at a rate that heat's halving (<see cref="Hart.Hart.TranslationHeatHalfLife"/>) leaves it.
/// </summary>
public sealed class HeatTests
{
    private const int Threshold = 2000;

    /// <summary>A loop whose body is <paramref name="body"/> additions and a jump back.</summary>
    private static byte[] Loop(int body) => EngineComparison.Assemble($"""
        .option norvc
        .globl _start
        _start:
          li a0, 0
        loop:
        {string.Concat(Enumerable.Repeat("  addi a0, a0, 1\n", body))}
          j loop
        """);

    private static readonly Lazy<byte[]> LongLoop = new(() => Loop(40));
    private static readonly Lazy<byte[]> TightLoop = new(() => Loop(1));

    /// <summary>Runs <paramref name="elf"/> on the translator (heat halved every <paramref name="halfLife"/>
    /// steps or more) and on the interpreter, checks they agree, and returns the translator's machine.</summary>
    private static Machine Run(byte[] elf, ulong steps, ulong halfLife = Hart.Hart.DefaultHeatHalfLife)
    {
        var machine = EngineComparison.Boot(ExecutionEngine.Translator, elf, Threshold);
        machine.Hart.TranslationHeatHalfLife = halfLife;
        var reference = EngineComparison.Boot(ExecutionEngine.Interpreter, elf);
        machine.Run(steps);
        reference.Run(steps);
        Assert.Equal(EngineComparison.Describe(reference), EngineComparison.Describe(machine));
        return machine;
    }

    [Fact]
    public void A_long_loop_is_translated_after_threshold_steps_in_few_arrivals()
    {
        // 41 steps an arrival: hot after about 50 arrivals, far fewer than 2000.
        var machine = Run(LongLoop.Value, 4 * Threshold);
        Assert.Equal(1UL, machine.Hart.TranslatorStats.RegionsTranslated);
        Assert.True(machine.Hart.TranslatorStats.RegionSteps >= Threshold, $"the region ran only {machine.Hart.TranslatorStats.RegionSteps} steps");
    }

    [Fact]
    public void A_tight_loop_is_translated_only_after_threshold_steps()
    {
        // Two steps an arrival: not hot after 1500 steps, hot before 3000.
        var machine = Run(TightLoop.Value, Threshold * 3 / 4);
        Assert.Equal(0UL, machine.Hart.TranslatorStats.RegionsTranslated);
        machine = Run(TightLoop.Value, Threshold * 3 / 2);
        Assert.Equal(1UL, machine.Hart.TranslatorStats.RegionsTranslated);
    }

    /// <summary>An outer loop that runs a tight inner loop of 1000 iterations (2000 steps), then calls
    /// a function of 40 steps through a register (so no region of the loop's takes it in): the
    /// function's entry runs 40 steps in every ~2045.</summary>
    private static readonly Lazy<byte[]> HotLoopAndRareCall = new(() => EngineComparison.Assemble("""
        .option norvc
        .globl _start
        _start:
          li a0, 0
        outer:
          li t0, 1000
        inner:
          addi t0, t0, -1
          bnez t0, inner
          la t1, rare
          jalr ra, t1
          j outer
        rare:
        """ + string.Concat(Enumerable.Repeat("  addi a0, a0, 1\n", 39)) + """
          ret
        """));

    private static Machine RunWithHalfLife(ulong halfLife, ulong steps) => Run(HotLoopAndRareCall.Value, steps, halfLife);

    [Fact]
    public void Code_that_runs_at_a_low_rate_is_not_translated_until_the_run_is_long()
    {
        // Over 150000 steps the period stays at most 37500 steps (a quarter of the steps run): the
        // function's heat stays below about 2 × 40 × 37500 / 2045 ≈ 1470, under 2000, while the inner
        // loop earns its 2000 steps within one outer iteration.
        var decaying = RunWithHalfLife(4096, 150_000);
        // Without decay the function's entry reaches 2000 steps after ~50 calls (~102000 steps).
        var accumulating = RunWithHalfLife(ulong.MaxValue, 150_000);
        Assert.Equal(1UL, decaying.Hart.TranslatorStats.RegionsTranslated);
        Assert.True(accumulating.Hart.TranslatorStats.RegionsTranslated > 1,
            $"without decay only {accumulating.Hart.TranslatorStats.RegionsTranslated} region was translated");
        Assert.True(decaying.Hart.TranslatorStats.RegionSteps > 100_000, $"the hot loop ran only {decaying.Hart.TranslatorStats.RegionSteps} steps translated");
    }

    [Fact]
    public void Over_a_long_run_the_period_grows_and_warm_code_is_translated_too()
    {
        // By 3×10⁶ steps the period is 750000 steps: the function earns ~2 × 40 × 750000 / 2045 ≈
        // 29000 steps of heat, past 2000 (with the period stuck at 4096 it would stay near 160).
        var machine = RunWithHalfLife(4096, 3_000_000);
        Assert.True(machine.Hart.TranslatorStats.RegionsTranslated > 1,
            $"after 3×10⁶ steps only {machine.Hart.TranslatorStats.RegionsTranslated} region was translated");
    }
}
