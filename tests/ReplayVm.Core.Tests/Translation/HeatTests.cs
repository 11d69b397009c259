using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// When code becomes hot: an entry is translated once the interpreter has run
/// <see cref="Hart.Hart.TranslationThreshold"/> steps from it, however those steps are split into
/// arrivals — a long loop body earns its translation in few arrivals, a two-instruction loop in many.
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

    private static Machine Run(byte[] elf, ulong steps)
    {
        var machine = EngineComparison.Boot(ExecutionEngine.Translator, elf, Threshold);
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
}
