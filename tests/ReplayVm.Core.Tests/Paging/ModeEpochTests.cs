using ReplayVm.Core.Tests.Translation;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// Each privilege mode keeps its own translation epoch: region lookups made in S-mode (the jump cache,
/// exit links) are valid again when S-mode is re-entered from U-mode, unless something that makes
/// every lookup stale (here a store into the code) happened meanwhile, and are never used in U-mode.
/// U-mode's system calls and faults are delegated to S-mode, so no trap goes through M-mode (which
/// would make every lookup stale anyway).
/// </summary>
public sealed class ModeEpochTests
{
    private const int Calls = 50;
    private const uint AddiS1S1By1 = 0x00148493, AddiS1S1By2 = 0x00248493;

    /// <summary>
    /// M-mode delegates U's ecall (8) and instruction page faults (12) to S and builds Sv39 tables: the
    /// devices and RAM as S-only gigapages, 0x4000_0000 the S-only page <c>func</c> (five additions to
    /// s1), 0x4000_1000 the U page <c>ucode</c>, 0x4000_2000 <c>func</c>'s page again, writable by U.
    /// S-mode calls <c>func</c> <see cref="Calls"/> times (translated at once: threshold 1), then enters
    /// U-mode at <c>ucode</c>; its trap handler records scause in s7, calls <c>func</c> once more and
    /// ends the run.
    /// </summary>
    private static string Program(string ucode) => $$"""
        .option norvc
        .globl _start
        _start:
          li t0, -1
          csrw pmpaddr0, t0
          li t0, 0x1f
          csrw pmpcfg0, t0
          li t0, (1 << 8) | (1 << 12)
          csrw medeleg, t0
          la t3, pt_root
          li t1, 0xCF
          sd t1, 0(t3)
          li t1, (0x80000000 >> 12 << 10) | 0xCF
          sd t1, 16(t3)
        {{SupervisorPrologue.EntryTo("pt_l1", "1", "t1")}}
          sd t1, 8(t3)
        {{SupervisorPrologue.EntryTo("pt_l0", "1", "t1")}}
          la t2, pt_l1
          sd t1, 0(t2)
          la t2, pt_l0
        {{SupervisorPrologue.EntryTo("func", "0x4B", "t1")}}
          sd t1, 0(t2)
        {{SupervisorPrologue.EntryTo("ucode", "0x5B", "t1")}}
          sd t1, 8(t2)
        {{SupervisorPrologue.EntryTo("func", "0xD7", "t1")}}
          sd t1, 16(t2)
          srli t3, t3, 12
          li t1, 8 << 60
          or t3, t3, t1
          csrw satp, t3
          sfence.vma
          li t0, 1 << 11
          csrs mstatus, t0
          la t0, supervisor
          csrw mepc, t0
          mret

        supervisor:
          la t0, strap
          csrw stvec, t0
          li s0, 0
          li s2, {{Calls}}
          li s5, 0x40000000
        1:
          jalr ra, 0(s5)
          addi s0, s0, 1
          blt s0, s2, 1b
          li t0, 0x40001000
          csrw sepc, t0
          li t0, 1 << 8
          csrc sstatus, t0      # SPP = U
          sret

        .balign 4
        strap:
          csrr s7, scause
          jalr ra, 0(s5)
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        2: j 2b

        .balign 4096
        func:
        {{string.Concat(Enumerable.Repeat("  addi s1, s1, 1\n", 5))}}
          ret

        .balign 4096
        ucode:
        {{ucode}}
        {{SupervisorPrologue.PageTables}}
        """;

    /// <summary>U-mode jumps to <c>func</c>, a page it may not execute.</summary>
    private static readonly Lazy<byte[]> UserJumpsToSupervisorCode = new(() => EngineComparison.Assemble(Program("""
          li t0, 0x40000000
          jalr ra, 0(t0)
          ecall
        """)));

    [Fact]
    public void A_region_looked_up_in_S_mode_is_not_run_in_U_mode()
    {
        var (reference, translated) = EngineComparison.RunBoth(UserJumpsToSupervisorCode.Value, [10_000_000]);
        foreach (var m in new[] { reference, translated })
        {
            Assert.Equal(12UL, m.Hart.GetX(23)); // s7: instruction page fault, not the ecall after func
            Assert.Equal((Calls + 1) * 5UL, m.Hart.GetX(9)); // s1: func ran in S-mode only
        }
        Assert.True(translated.Hart.TranslatorStats.RegionSteps > Calls * 5UL, "func ran translated");
    }

    /// <summary>U-mode rewrites <c>func</c>'s first instruction (adding 2 instead of 1) through its
    /// writable alias, then makes a system call.</summary>
    private static readonly Lazy<byte[]> UserRewritesSupervisorCode = new(() => EngineComparison.Assemble(Program($"""
          li t0, 0x40002000
          li t1, {AddiS1S1By2}
          sw t1, 0(t0)
          ecall
        """)));

    [Fact]
    public void S_mode_re_entered_after_its_code_changed_runs_the_new_code()
    {
        Assert.Equal(0x00148493u, AddiS1S1By1); // what func's first instruction assembles to
        var (reference, translated) = EngineComparison.RunBoth(UserRewritesSupervisorCode.Value, [10_000_000]);
        foreach (var m in new[] { reference, translated })
        {
            Assert.Equal(8UL, m.Hart.GetX(23)); // s7: ecall from U
            Assert.Equal(Calls * 5UL + 6, m.Hart.GetX(9)); // s1: the last call ran the new first instruction
        }
        Assert.True(translated.Hart.TranslatorStats.RegionSteps > Calls * 5UL, "func ran translated");
    }
}
