using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ReplayVm.Core.Tests.Oracle;
using ReplayVm.Core.Tests.Paging;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// The translator against the interpreter, on the cases where a translator goes wrong: code that
/// changes under it (stores, fence.i, host writes as DMA does them, a remapped code page), traps and
/// interrupts in the middle of a block, slice ends anywhere, and breakpoints. Each program also
/// checks its own known result, and that the translator really ran it (regions were translated).
/// </summary>
public sealed class TranslatorTests
{
    private const string Exit = """
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b
        """;

    /// <summary>Odd slice sizes, so that slice ends fall inside blocks and loops.</summary>
    private static readonly ulong[] Slices = [1, 7, 333, 4096, 13, 100_000, 2, 999];

    private static void AssertTranslated(Machine translated) =>
        Assert.True(translated.Hart.TranslatorStats.RegionsTranslated > 0, "the translator translated nothing");

    private static readonly Lazy<byte[]> SelfModifying = new(() => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          li s0, 0
          li a0, 0
        loop:
        patch:
          addi a0, a0, 1
          addi s0, s0, 1
          li t0, 10
          bne s0, t0, 1f
          la t1, patch          # after 10 rounds, the loop rewrites its own first instruction
          la t2, replacement
          lw t3, 0(t2)
          sw t3, 0(t1)
          fence.i
        1:
          li t0, 20
          blt s0, t0, loop
        {{Exit}}
        replacement:
          addi a0, a0, 100
        """));

    [Fact]
    public void Self_modifying_code_runs_the_new_instruction_after_the_store_and_fence_i()
    {
        foreach (var slices in new[] { Slices, new ulong[] { 1_000_000 } })
        {
            var (reference, translated) = EngineComparison.RunBoth(SelfModifying.Value, slices);
            Assert.Equal(10UL * 1 + 10UL * 100, translated.Hart.GetX(10));
            Assert.Equal(reference.Hart.GetX(10), translated.Hart.GetX(10));
            AssertTranslated(translated);
        }
    }

    /// <summary>a0 and s0 count rounds of a three-instruction loop; <c>replacement</c> is an instruction to patch over <c>patch</c>.</summary>
    internal static readonly Lazy<byte[]> EndlessLoop = new(() => EngineComparison.Assemble("""
        .option norvc
        .globl _start
        _start:
          li a0, 0
        loop:
        patch:
          addi a0, a0, 1
          addi s0, s0, 1
          j loop
        replacement:
          addi a0, a0, 1000
        """));

    [Fact]
    public void Code_written_from_the_host_side_as_dma_does_is_picked_up_by_translated_loops()
    {
        var elf = EndlessLoop.Value;
        var image = Core.Loading.ElfImage.Parse(elf);
        ulong patch = image.FindSymbol("patch")!.Value, replacement = image.FindSymbol("replacement")!.Value;
        var reference = EngineComparison.Boot(ExecutionEngine.Interpreter, elf);
        var translated = EngineComparison.Boot(ExecutionEngine.Translator, elf);
        foreach (var m in new[] { reference, translated }) m.Run(3001);
        Assert.Equal(EngineComparison.Describe(reference), EngineComparison.Describe(translated));
        ulong before = translated.Hart.GetX(10);
        Assert.Equal(translated.Hart.GetX(8), before); // s0 counts rounds, a0 added 1 per round
        foreach (var m in new[] { reference, translated })
        {
            // MainMemory.Write is the path virtio-blk's DMA takes into guest RAM.
            var bytes = m.Ram.Read(replacement, 4).ToArray();
            m.Ram.Write(patch, bytes);
            m.Run(3000);
        }
        Assert.Equal(EngineComparison.Describe(reference), EngineComparison.Describe(translated));
        Assert.Equal(before + 1000UL * 1000, translated.Hart.GetX(10)); // 3000 steps: 1000 rounds of the new code
        AssertTranslated(translated);
    }

    private static readonly Lazy<byte[]> Faulting = new(() => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          la t0, handler
          csrw mtvec, t0
          li s0, 0
          li s1, 0
          li s2, 0
        loop:
          addi s0, s0, 1
          addi s3, s0, 5
          ld t2, 8(zero)        # nothing is mapped at 8: a load access fault mid-block
          addi s1, s1, 1
          sd s1, 16(zero)       # and a store access fault
          add s4, s4, s3
          li t0, 100
          blt s0, t0, loop
        {{Exit}}
        handler:
          csrr t3, mepc
          addi t3, t3, 4
          csrw mepc, t3
          csrr t4, mcause
          add s2, s2, t4
          mret
        """));

    [Fact]
    public void A_trap_in_the_middle_of_a_block_leaves_the_state_the_interpreter_leaves()
    {
        var (_, translated) = EngineComparison.RunBoth(Faulting.Value, Slices);
        Assert.Equal(100UL, translated.Hart.GetX(9)); // s1
        Assert.Equal(100UL * (5 + 7), translated.Hart.GetX(18)); // s2: load (5) and store (7) access faults
        AssertTranslated(translated);
    }

    private static readonly Lazy<byte[]> TimerInterrupts = new(() => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          la t0, handler
          csrw mtvec, t0
          li s5, 0x200bff8      # mtime
          li s6, 0x2004000      # mtimecmp
          ld t0, 0(s5)
          addi t0, t0, 3
          sd t0, 0(s6)
          li t0, 0x80           # MTIE
          csrw mie, t0
          csrsi mstatus, 8      # MIE
          li s0, 0
          li s1, 1
        loop:                   # a hot loop the translator keeps in one region
          addi s0, s0, 1
          mul s1, s1, s0
          xor s1, s1, s0
          srli t1, s1, 3
          add s1, s1, t1
          li t0, 200000
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
          addi t3, t3, 7
          sd t3, 0(s6)
          mret
        """));

    [Fact]
    public void Timer_interrupts_arrive_at_the_same_step_on_both_engines()
    {
        var (_, translated) = EngineComparison.RunBoth(TimerInterrupts.Value, Slices);
        Assert.True(translated.Hart.GetX(20) > 1000, $"only {translated.Hart.GetX(20)} interrupts were taken"); // s4
        AssertTranslated(translated);
        // One long slice too: the machine's own deadlines (the timer) are all that ends slices.
        var (_, again) = EngineComparison.RunBoth(TimerInterrupts.Value, [ulong.MaxValue / 4]);
        Assert.Equal(translated.Hart.GetX(19), again.Hart.GetX(19));
    }

    private static readonly Lazy<byte[]> Remapping = new(() => RemappingProgram(flushBeforeEachCall: false));
    private static readonly Lazy<byte[]> RemappingFlushingEachCall = new(() => RemappingProgram(flushBeforeEachCall: true));

    /// <summary>Calls made before the remap: with a flush before every other call, an odd number, so
    /// that the first call after it is one the interpreter makes.</summary>
    private static int RemapAfter(bool flushBeforeEachCall) => flushBeforeEachCall ? 51 : 50;

    private static byte[] RemappingProgram(bool flushBeforeEachCall) => EngineComparison.Assemble($$"""
        {{SupervisorPrologue.MappingOnePageTo("code_a", "0x4B")}}
        supervisor:
          li s0, 0
          li s1, 0
        1:
          li t0, 0x40000000
          {{(flushBeforeEachCall ? "andi t1, s0, 1\n  beqz t1, 3f\n  sfence.vma   # every other call: the interpreter runs it, then the call\n3:" : "")}}
          jalr t0               # returns 1 from code_a, later 1000 from code_b
          add s1, s1, a0
          addi s0, s0, 1
          li t0, {{RemapAfter(flushBeforeEachCall)}}
          bne s0, t0, 2f
          la t1, pt_l0          # remap the code page under the same virtual address
          la t2, code_b
          srli t2, t2, 12
          slli t2, t2, 10
          ori t2, t2, 0x4B
          sd t2, 0(t1)
          sfence.vma
        2:
          li t0, 100
          blt s0, t0, 1b
        {{Exit}}
        .balign 4096
        code_a:
          li a0, 1
          ret
        .balign 4096
        code_b:
          li a0, 1000
          ret
        {{SupervisorPrologue.PageTables}}
        """);

    [Fact]
    public void Sfence_vma_after_remapping_a_code_page_runs_the_new_page()
    {
        var (_, translated) = EngineComparison.RunBoth(Remapping.Value, Slices);
        Assert.Equal(50UL * 1 + 50UL * 1000, translated.Hart.GetX(9));
        AssertTranslated(translated);
    }

    /// <summary>Every other call is made by the interpreter (sfence.vma ends the caller's region), whose
    /// jump meets the callee's region in the jump cache from an earlier epoch and may enter it only
    /// once a lookup through the current mapping finds it again; the first such call after the remap
    /// must run the new page. A breakpoint is set where nothing runs: with one set, the dispatcher leaves
    /// code whose fetch translation the TLB lost (here after the remap) to the interpreter, as all
    /// such code was before it walked for it itself (LostFetchTranslationTests).</summary>
    [Fact]
    public void An_interpreted_jump_does_not_enter_a_region_its_page_no_longer_maps_to()
    {
        var elf = RemappingFlushingEachCall.Value;
        ulong nowhere = Core.Loading.ElfImage.Parse(elf).FindSymbol("pt_root")!.Value;
        foreach (var slices in new[] { Slices, [10_000_000] })
        {
            var (_, translated) = EngineComparison.RunBoth(elf, slices, setUp: m => m.Hart.SetBreakpoints([nowhere]));
            Assert.Equal(51UL * 1 + 49UL * 1000, translated.Hart.GetX(9));
            AssertTranslated(translated);
            Assert.True(translated.Hart.TranslatorStats.RegionsFoundAgain > 0, "the interpreter's calls never met a region from an earlier epoch");
        }
    }

    [Fact]
    public void Breakpoints_stop_the_translator_at_the_interpreters_step_and_watchpoints_too()
    {
        var elf = TimerInterrupts.Value;
        ulong loop = Core.Loading.ElfImage.Parse(elf).FindSymbol("loop")!.Value;
        var machines = new[] { ExecutionEngine.Interpreter, ExecutionEngine.Translator }
            .Select(e => EngineComparison.Boot(e, elf)).ToArray();
        foreach (var m in machines) m.Run(50_000); // hot: the loop is translated
        AssertTranslated(machines[1]);
        foreach (var m in machines) m.Hart.SetBreakpoints([loop + 8]); // inside the loop's block
        for (int hit = 0; hit < 3; hit++)
        {
            var results = machines.Select(m => m.Run(1_000_000)).ToArray();
            Assert.All(results, r => Assert.Equal(StopReason.DebugStop, r.Reason));
            Assert.Equal(EngineComparison.Describe(machines[0]), EngineComparison.Describe(machines[1]));
            Assert.Equal(loop + 8, machines[1].Hart.Pc);
            foreach (var m in machines) { m.TakeDebugStop(); m.Hart.ResumeFromBreakpoint(); }
        }
        foreach (var m in machines)
        {
            m.Hart.SetBreakpoints(null);
            m.Hart.SetWatchpoints([new Core.Hart.WatchRange(0x200_4000, 8, OnRead: false, OnWrite: true)]); // mtimecmp, written by the handler
        }
        var watched = machines.Select(m => m.Run(10_000_000)).ToArray();
        Assert.All(watched, r => Assert.Equal(StopReason.DebugStop, r.Reason));
        Assert.Equal(EngineComparison.Describe(machines[0]), EngineComparison.Describe(machines[1]));
    }

    /// <summary>With a threshold above 1 the interpreter, running for the dispatcher, interprets on through
    /// cold code and hands over only at a compiled region's entry or a target that has just become hot
    /// (Hart.DispatchAt): guests must end every slice as on the interpreter, and regions must still run.</summary>
    [Theory]
    [InlineData("kernel.elf", 3)]
    [InlineData("kernel.elf", 40)]
    [InlineData("traps.elf", 25)]
    [InlineData("bench.elf", 200)]
    public void Guests_handed_between_the_engines_at_hot_targets_end_every_slice_as_on_the_interpreter(string guest, int threshold)
    {
        var elf = File.ReadAllBytes(RepoPaths.GuestBinary(guest));
        var (_, translated) = EngineComparison.RunBoth(elf, [1, 7, 333, 4096, 13, 100_000, 2, 999, 250_000], maxSteps: 3_000_000, threshold: threshold);
        var stats = translated.Hart.TranslatorStats;
        AssertTranslated(translated);
        Assert.True(stats.RegionSteps > 0, "no region ran");
        Assert.True(stats.InterpretedSteps > 0, "nothing was interpreted");
    }

    public static class RandomSchedules
    {
        public static Arbitrary<(RandomProgram Program, ulong[] Slices)> Cases() =>
            (from program in RandomProgramGen.Program(80, 160)
             from slices in Gen.ArrayOf(Gen.Choose(1, 300).Select(n => (ulong)n), 6)
             select (program, slices)).ToArbitrary();
    }

    /// <summary>Random RV64IMAC + Zicsr programs (integer, atomics, CSRs, traps, branches) in random
    /// slices: equal state after every slice and at the end.</summary>
    [Property(Arbitrary = [typeof(RandomSchedules)], MaxTest = 6, QuietOnSuccess = true)]
    public void Random_programs_in_random_slices_end_every_slice_in_the_same_state((RandomProgram Program, ulong[] Slices) c)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-translator-random-").FullName;
        try
        {
            var source = Path.Combine(dir, "p.S");
            var elf = Path.Combine(dir, "p.elf");
            File.WriteAllText(source, OracleProgramWriter.Render(c.Program));
            GuestToolchain.BuildElf(source, elf);
            var (_, translated) = EngineComparison.RunBoth(File.ReadAllBytes(elf), c.Slices, maxSteps: 5_000_000);
            AssertTranslated(translated);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
