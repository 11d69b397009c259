using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// Block chaining (regions handing control to the next without the dispatcher, through exit links
/// and the jump cache), CSR accesses and stores compiled into regions: the translator must still end
/// every slice in the interpreter's state, when the code behind a link changes, when a deadline falls
/// in the middle of a chain, and when a CSR or a store ends the slice inside a region.
/// </summary>
public sealed class ChainingTests
{
    private const string Exit = """
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b
        """;

    private static readonly ulong[] Slices = [1, 7, 333, 4096, 13, 100_000, 2, 999];

    /// <summary>
    /// A loop on one page calls a function on the next page (a direct jump: a linked exit) that
    /// returns through jalr (the jump cache); halfway, the loop rewrites the function's first
    /// instruction and runs fence.i. The loop also reads minstret (a CSR read inside a region, whose
    /// value is the exact step count) and writes mscratch (a CSR write, which ends the slice), and a
    /// timer interrupts it every few steps, so deadlines fall inside chains.
    /// </summary>
    private static readonly Lazy<byte[]> CrossPage = new(() => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          la t0, handler
          csrw mtvec, t0
          li s5, 0x200bff8      # mtime
          li s6, 0x2004000      # mtimecmp
          ld t0, 0(s5)
          addi t0, t0, 2
          sd t0, 0(s6)
          li t0, 0x80           # MTIE
          csrw mie, t0
          csrsi mstatus, 8      # MIE
          li s0, 0
          li s1, 0
        loop:
          jal far               # to the next page
          add s1, s1, a0
          csrr t2, minstret
          add s2, s2, t2
          addi s0, s0, 1
          andi t3, s0, 15
          bnez t3, 2f
          csrw mscratch, s0     # every 16th round
        2:
          li t0, 500
          bne s0, t0, 3f
          la t1, far            # round 500: far returns 1000 from now on
          la t2, replacement
          lw t3, 0(t2)
          sw t3, 0(t1)
          fence.i
        3:
          li t0, 1000
          blt s0, t0, loop
          csrw mie, zero
        {{Exit}}
        handler:                # the step each interrupt arrives at goes into s3's hash
          csrr t3, mepc
          li t4, 31
          mul s3, s3, t4
          add s3, s3, t3
          add s3, s3, s0
          addi s4, s4, 1
          ld t3, 0(s6)
          addi t3, t3, 1        # a tick is 100 steps: an interrupt every few rounds
          sd t3, 0(s6)
          mret
        replacement:
          li a0, 1000
        .balign 4096
        far:
          li a0, 1
          addi a1, a1, 3
          ret
        """));

    [Fact]
    public void Chains_across_pages_end_every_slice_as_the_interpreter_does_when_the_linked_code_is_rewritten()
    {
        foreach (var slices in new[] { Slices, new[] { ulong.MaxValue / 4 } })
        {
            var (reference, translated) = EngineComparison.RunBoth(CrossPage.Value, slices);
            Assert.Equal(500UL * 1 + 500UL * 1000, translated.Hart.GetX(9)); // s1
            Assert.True(translated.Hart.GetX(20) > 50, $"only {translated.Hart.GetX(20)} timer interrupts"); // s4
            Assert.Equal(reference.Hart.GetX(18), translated.Hart.GetX(18)); // s2: minstret sums, step-exact
            var stats = translated.Hart.TranslatorStats;
            Assert.True(stats.ChainedRuns > 0, "no region was entered through a link or the jump cache");
        }
    }

    [Fact]
    public void Csr_accesses_run_inside_regions()
    {
        // Threshold 1 and one long slice: every instruction is translated at its first arrival, so
        // whatever the interpreter still runs is what the translator leaves to it (mret, the exit).
        var translated = EngineComparison.Boot(ExecutionEngine.Translator, CrossPage.Value);
        var result = translated.Run(ulong.MaxValue / 4);
        Assert.Equal(StopReason.GuestExit, result.Reason);
        var stats = translated.Hart.TranslatorStats;
        ulong interrupts = translated.Hart.GetX(20);
        // The interpreter runs mret and the odd step before a block that no longer fits (about 3
        // steps per interrupt here); with the loop's CSR accesses interpreted it ran 40 per interrupt.
        Assert.True(stats.InterpretedSteps < 100 + 10 * interrupts,
            $"{stats.InterpretedSteps} steps interpreted with {interrupts} interrupts: CSR accesses left the regions");
    }

    [Fact]
    public void Code_written_behind_a_link_by_the_host_as_dma_does_is_picked_up()
    {
        var elf = CrossPage.Value;
        var image = Core.Loading.ElfImage.Parse(elf);
        ulong far = image.FindSymbol("far")!.Value, replacement = image.FindSymbol("replacement")!.Value;
        var reference = EngineComparison.Boot(ExecutionEngine.Interpreter, elf);
        var translated = EngineComparison.Boot(ExecutionEngine.Translator, elf);
        foreach (var m in new[] { reference, translated }) m.Run(2_000); // linked by now
        Assert.True(translated.Hart.TranslatorStats.ChainedRuns > 0, "no chaining before the write");
        foreach (var m in new[] { reference, translated })
        {
            m.Ram.Write(far, m.Ram.Read(replacement, 4).ToArray());
            m.Run(3_000);
        }
        Assert.Equal(EngineComparison.Describe(reference), EngineComparison.Describe(translated));
        Assert.True(translated.Hart.GetX(9) > 1000, "the rewritten function never ran");
    }

    /// <summary>Stores compiled into regions stamp their pages' write epochs (which incremental hashes
    /// and checkpoints read) as the interpreter's do, including a doubleword that crosses a page.</summary>
    private static readonly Lazy<byte[]> Stores = new(() => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          la s0, data
          li s1, 0
        loop:
          andi t0, s1, 0x3ff
          slli t0, t0, 3        # 0 to 0x1ff8
          add t1, s0, t0
          sd s1, 0(t1)          # walks the first two pages
          li t2, 8188
          add t2, s0, t2
          sd s1, 0(t2)          # misaligned, across the second and third pages
          addi s1, s1, 1
          li t0, 5000
          blt s1, t0, loop
        {{Exit}}
        .balign 4096
        data: .zero 12288
        """));

    [Fact]
    public void Translated_stores_stamp_page_epochs_as_the_interpreter_does()
    {
        var reference = EngineComparison.Boot(ExecutionEngine.Interpreter, Stores.Value);
        var translated = EngineComparison.Boot(ExecutionEngine.Translator, Stores.Value);
        ulong data = Core.Loading.ElfImage.Parse(Stores.Value).FindSymbol("data")!.Value;
        ulong page = (data - translated.Ram.Base) >> 12;
        foreach (var m in new[] { reference, translated })
        {
            m.Run(1_000);
            m.Ram.AdvanceEpoch(); // what an incremental hash does: pages written from now on get the new epoch
            m.Run(1_000);
        }
        // Before anything hashes the machines (hashing advances the epoch too).
        uint epoch = translated.Ram.Epoch;
        for (int i = 0; i < 3; i++) Assert.Equal(epoch, translated.Ram.PageEpochs[(int)page + i]);
        Assert.Equal(reference.Ram.PageEpochs.ToArray(), translated.Ram.PageEpochs.ToArray());
        Assert.True(translated.Hart.TranslatorStats.RegionSteps > 500, "the loop did not run translated");
        Assert.Equal(EngineComparison.Describe(reference), EngineComparison.Describe(translated));
        var (_, again) = EngineComparison.RunBoth(Stores.Value, Slices);
        Assert.Equal(4999UL, again.Ram.Read(data + 8188, 8).ToArray() is var b ? BitConverter.ToUInt64(b) : 0);
    }
}
