using System.Text;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// The translation ledger (Hart.ModeThreshold): an entry is translated after the threshold plus
/// what the regions of its privilege mode have cost (the threshold each) and not yet run. Loops
/// that are done soon after they are translated (as in an OS's boot) make the next entries of the
/// mode wait for more steps; regions that run long keep the threshold at its base.
/// </summary>
public sealed class TranslationLedgerTests
{
    private const int Threshold = 1000;
    private const int OneShotLoops = 16;

    /// <summary>
    /// <see cref="OneShotLoops"/> loops of 750 rounds of two steps, each run once (hot after 500
    /// rounds, then 500 steps left to run translated: half its cost), each on a page of its own (a
    /// region never covers two of them) at an offset of its own (no two share a heat counter), and a long loop of 100000 rounds; the long loop first when
    /// <paramref name="longFirst"/>, else last.
    /// </summary>
    private static byte[] Program(bool longFirst)
    {
        var code = OneShotLoopsCode();
        code.Append($"""
            .balign 4096
            loop{OneShotLoops}:
              j {(longFirst ? "done" : "long_loop")}

            """);
        string longLoop = """
            long_loop:
              li t1, 100000
            long:
              addi t1, t1, -1
              bnez t1, long

            """;
        return EngineComparison.Assemble($"""
            .option norvc
            .globl _start
            _start:
              j {(longFirst ? "long_loop" : "loop0")}
            {longLoop}
              j {(longFirst ? "loop0" : "done")}
            {code}
            done:
              li t0, 0x100000
              li t1, 0x5555
              sw t1, 0(t0)
            1: j 1b
            """);
    }

    /// <summary>
    /// <see cref="OneShotLoops"/> loops of 750 rounds, each run once, each on a page of its own (at
    /// its own offset within it), the last jumping on to <c>loop{OneShotLoops}</c>.
    /// </summary>
    private static StringBuilder OneShotLoopsCode()
    {
        var code = new StringBuilder();
        for (int i = 0; i < OneShotLoops; i++)
            code.Append($"""
                .balign 4096
                .skip {16 * i}
                loop{i}:
                  li t0, 750
                once{i}:
                  addi t0, t0, -1
                  bnez t0, once{i}
                  j loop{i + 1}

                """);
        return code;
    }

    /// <summary>
    /// The one-shot loops in M-mode (the first translated, the rest not: M-mode's debt is then ~500
    /// steps), then S-mode (no paging) runs one loop of 700 rounds: hot after 500 rounds with S-mode's
    /// own ledger, never within a threshold raised by M-mode's debt.
    /// </summary>
    private static byte[] ModeSwitchProgram()
    {
        var code = OneShotLoopsCode();
        return EngineComparison.Assemble($"""
            .option norvc
            .globl _start
            _start:
              li t0, -1
              csrw pmpaddr0, t0
              li t0, 0x1f
              csrw pmpcfg0, t0
              j loop0
            {code}
            .balign 4096
            loop{OneShotLoops}:
              li t0, 1 << 11
              csrs mstatus, t0      # MPP = S
              la t0, supervisor
              csrw mepc, t0
              mret
            .balign 4096
            supervisor:
              li t1, 700
            sloop:
              addi t1, t1, -1
              bnez t1, sloop
              li t0, 0x100000
              li t1, 0x5555
              sw t1, 0(t0)
            1: j 1b
            """);
    }

    [Fact]
    public void Each_privilege_mode_keeps_its_own_ledger()
    {
        var (reference, translated) = EngineComparison.RunBoth(ModeSwitchProgram(), [10_000_000], threshold: Threshold);
        Assert.Equal(0x5555UL, reference.Hart.GetX(6)); // t1: the program ran to its end, in S-mode
        Assert.Equal(Hart.PrivilegeLevel.Supervisor, reference.Hart.Mode);
        var stats = translated.Hart.TranslatorStats;
        // M-mode's first one-shot loop and S-mode's loop.
        Assert.True(stats.RegionsTranslated == 2, $"{stats.RegionsTranslated} regions translated");
    }

    [Fact]
    public void Regions_that_run_little_after_translation_raise_the_mode_s_threshold()
    {
        var (reference, translated) = EngineComparison.RunBoth(Program(longFirst: false), [10_000_000], threshold: Threshold);
        Assert.Equal(0x5555UL, reference.Hart.GetX(6)); // t1: the program ran to its end
        var stats = translated.Hart.TranslatorStats;
        // With the base threshold every one-shot loop would be translated (16 regions, and the long loop's).
        Assert.True(stats.RegionsTranslated <= 4, $"{stats.RegionsTranslated} regions translated");
        // A hot entry still earns its translation: the long loop runs translated.
        Assert.True(stats.RegionSteps > 150_000, $"only {stats.RegionSteps} steps ran translated");
    }

    [Fact]
    public void Regions_that_repay_keep_the_base_threshold()
    {
        var (reference, translated) = EngineComparison.RunBoth(Program(longFirst: true), [10_000_000], threshold: Threshold);
        Assert.Equal(0x5555UL, reference.Hart.GetX(6)); // t1: the program ran to its end
        var stats = translated.Hart.TranslatorStats;
        // The long loop's ~199000 translated steps pay for every one-shot loop's region.
        Assert.True(stats.RegionsTranslated >= OneShotLoops + 1, $"only {stats.RegionsTranslated} regions translated");
    }
}
