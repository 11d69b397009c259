namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// The dispatcher remembers where it looked for a region and found none (Hart._coldEntries), and runs
/// the interpreter there without looking again; but code that has become hot since is looked up,
/// and translated, at its next arrival.
/// </summary>
public sealed class ColdLookupTests
{
    private const int Rounds = 3000;
    private const int Threshold = 1000;

    /// <summary>
    /// Each round: an inner loop of 20 (hot, translated after a few rounds) then a jump to <c>far</c>,
    /// 20 steps on a page of its own. Once the inner loop runs translated, <c>far</c> is reached only
    /// by a region's exit, through the dispatcher: it becomes hot there, after ~50 rounds.
    /// </summary>
    private static readonly Lazy<byte[]> Program = new(() => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          li s0, 0
          li s2, {{Rounds}}
        outer:
          li t0, 20
        inner:
          addi t0, t0, -1
          bnez t0, inner
          addi s0, s0, 1
          j far

        .balign 4096
        far:
        {{string.Concat(Enumerable.Repeat("  addi s3, s3, 1\n", 19))}}
          blt s0, s2, outer
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b
        """));

    [Fact]
    public void Code_reached_from_regions_is_translated_once_hot()
    {
        var (reference, translated) = EngineComparison.RunBoth(Program.Value, [10_000_000], threshold: Threshold);
        Assert.Equal(Rounds * 19UL, reference.Hart.GetX(19)); // s3
        var stats = translated.Hart.TranslatorStats;
        // far alone is 20 steps a round: left to the interpreter, it would be 60000.
        Assert.True(stats.InterpretedSteps < Rounds * 20UL / 3, $"{stats.InterpretedSteps} steps interpreted, {stats.RegionSteps} translated");
    }
}
