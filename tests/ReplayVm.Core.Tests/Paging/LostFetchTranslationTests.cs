using ReplayVm.Core.Tests.Translation;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// A TLB entry holds one page's read, write and execute tags together, so a load from any page at the
/// same index (2 MiB away) takes a code page's entry. The dispatcher, finding no fetch translation
/// for a translated region's entry, walks for it as the interpreter's first fetch there would, and
/// runs the region; where that walk faults, the exception is taken as the interpreter takes it.
/// </summary>
public sealed class LostFetchTranslationTests
{
    private const int Rounds = 300;

    /// <summary>Each round: SUM set and cleared (a new translation epoch: links and the jump cache are
    /// looked up again), a load 2 MiB past <c>func</c> (taking its page's TLB entry), a call to
    /// <c>func</c> (20 additions on a page of its own).</summary>
    private static readonly Lazy<byte[]> EvictingCaller = new(() => EngineComparison.Assemble($$"""
        {{SupervisorPrologue.MappingOnePageTo("func", "0x4B")}}
        supervisor:
          li s0, 0
          li s1, 0
          li s2, {{Rounds}}
          la s3, func
          li t0, 0x200000
          add s4, s3, t0        # same TLB index as func's page
          li s5, 1 << 18        # SUM
        1:
          csrs sstatus, s5
          csrc sstatus, s5
          ld t1, 0(s4)
          jal func
          addi s0, s0, 1
          blt s0, s2, 1b
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        2: j 2b

        .balign 4096
        func:
        {{string.Concat(Enumerable.Repeat("  addi s1, s1, 1\n", 20))}}
          ret
        {{SupervisorPrologue.PageTables}}
        """));

    [Fact]
    public void A_region_whose_code_page_lost_its_TLB_entry_runs_translated()
    {
        var (reference, translated) = EngineComparison.RunBoth(EvictingCaller.Value, [10_000_000]);
        Assert.Equal(Rounds * 20UL, reference.Hart.GetX(9)); // s1
        var stats = translated.Hart.TranslatorStats;
        // func alone is 21 steps a round: interpreted, it would be more than all of this.
        Assert.True(stats.InterpretedSteps < Rounds * 5UL, $"{stats.InterpretedSteps} steps interpreted, {stats.RegionSteps} translated");
    }

    /// <summary>Each round jumps (jalr, out of a translated region) to 0x4000_1000, which nothing maps: the
    /// fetch page-faults, M-mode counts the fault and returns to the loop.</summary>
    private static readonly Lazy<byte[]> FaultingJumper = new(() => EngineComparison.Assemble($$"""
        {{SupervisorPrologue.MappingOnePageTo("data", "0xC7", "handler")}}
        supervisor:
          li s0, 0
          li s2, {{Rounds}}
          li s5, 0x40001000
        1:
          jalr ra, 0(s5)
        back:
          addi s0, s0, 1
          blt s0, s2, 1b
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        2: j 2b

        .balign 4
        handler:
          addi s6, s6, 1
          csrr s7, mcause
          la t0, back
          csrw mepc, t0
          li t0, 1 << 11
          csrs mstatus, t0      # back to S
          mret

        .balign 4096
        data: .dword 0
        {{SupervisorPrologue.PageTables}}
        """));

    [Fact]
    public void A_fetch_fault_found_by_the_dispatcher_is_taken_as_the_interpreter_takes_it()
    {
        foreach (var slices in new[] { new ulong[] { 10_000_000 }, new ulong[] { 1, 7, 333, 13 } })
        {
            var (reference, translated) = EngineComparison.RunBoth(FaultingJumper.Value, slices);
            foreach (var m in new[] { reference, translated })
            {
                Assert.Equal((ulong)Rounds, m.Hart.GetX(22)); // s6: every jump faulted
                Assert.Equal(12UL, m.Hart.GetX(23));          // s7: instruction page fault
            }
        }
    }
}
