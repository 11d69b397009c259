namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// The interpreter, running for the translator, returns to the dispatcher at a taken transfer whose
/// target has a region in the jump cache (Hart.DispatchAt, which asks the jump cache's occupancy
/// bits first): translated code reached from interpreted code runs translated, not interpreted on.
/// </summary>
public sealed class InterpretedEntryTests
{
    private const int Rounds = 2000;
    private const int Threshold = 10_000;

    /// <summary>
    /// Each round: a loop of 100 rounds of two instructions (hot: translated after ~50 rounds), whose
    /// exit goes to <c>cold</c> on a page of its own, three steps a round (6000 in all: never hot, so
    /// always interpreted), which jumps back to the loop's entry — a taken transfer made by the
    /// interpreter to a translated region.
    /// </summary>
    private static readonly Lazy<byte[]> Program = new(() => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          li s0, 0
          li s2, {{Rounds}}
        outer:
          li t0, 100
        inner:
          addi t0, t0, -1
          bnez t0, inner
          j cold

        .balign 4096
        cold:
          addi s0, s0, 1
          addi s3, s3, 2
          blt s0, s2, outer
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b
        """));

    [Fact]
    public void Interpreted_code_jumping_to_a_region_enters_it()
    {
        var (reference, translated) = EngineComparison.RunBoth(Program.Value, [10_000_000], threshold: Threshold);
        Assert.Equal(Rounds * 2UL, reference.Hart.GetX(19)); // s3
        var stats = translated.Hart.TranslatorStats;
        // The loop is ~200 steps a round: interpreted on from cold's jump, it would be ~400000 steps.
        Assert.True(stats.InterpretedSteps < 40_000, $"{stats.InterpretedSteps} steps interpreted, {stats.RegionSteps} translated");
    }
}
