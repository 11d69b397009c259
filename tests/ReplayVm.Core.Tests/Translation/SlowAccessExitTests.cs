using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// A translated load or store that misses its inline fast path (here MMIO, and a store that crosses
/// into the next page) leaves the region before the instruction and the interpreter runs it: pc and
/// steps must be exactly the interpreter's there, with the block's earlier instructions done and their
/// registers written back, whatever slice boundary falls around it.
/// </summary>
public sealed class SlowAccessExitTests
{
    /// <summary>A loop whose blocks have RAM accesses before and after an MMIO read, an MMIO write and
    /// a store across a page boundary, so each slow access sits mid-block.</summary>
    private static readonly Lazy<byte[]> LoopWithSlowAccesses = new(() => EngineComparison.Assemble("""
        .option norvc
        .globl _start
        _start:
          li s0, 0x10000000     # UART
          la s1, data
          la s2, edge
          li s3, 200
          li s4, 0
        loop:
          ld t0, 0(s1)
          addi t0, t0, 3
          sd t0, 0(s1)
          lbu t1, 5(s0)         # MMIO read (the line status) mid-block
          add s4, s4, t1
          xor t2, t0, s4
          sd t2, 8(s1)
          andi t3, s3, 63
          addi t3, t3, 0x30
          sb t3, 0(s0)          # MMIO write mid-block
          addi s4, s4, 1
          sd s4, 0(s2)          # crosses into the next page
          ld t4, 8(s1)
          add s4, s4, t4
          addi s3, s3, -1
          bnez s3, loop
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b
        .balign 8
        data: .dword 1, 2
        .balign 4096
        .skip 4092
        edge: .word 0
        .word 0
        """));

    [Fact]
    public void A_slow_access_mid_block_leaves_the_region_exactly_where_the_interpreter_is()
    {
        // Slices of every small size, so that slice ends fall before, at and after each slow access.
        ulong[] slices = [1, 2, 3, 5, 7, 11, 13, 17, 64, 1000];
        var (_, translated) = EngineComparison.RunBoth(LoopWithSlowAccesses.Value, slices);
        var stats = translated.Hart.TranslatorStats;
        // Each round runs translated up to its MMIO read (the interpreter runs on from there to the jump back).
        Assert.True(stats.RegionSteps > 200, $"only {stats.RegionSteps} steps ran translated");
    }
}
