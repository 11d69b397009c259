using ReplayVm.Core.Tests.Translation;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// The TLB survives status writes that do not change what it caches (an OS toggles sstatus.SIE
/// around every lock that masks interrupts), and is flushed by those that do: SUM and MXR change
/// what a page allows (privileged spec 4.3.1, 3.1.6.3). An S-mode program loads through a user
/// alias and an execute-only alias of its data while flipping SUM, MXR and SIE; every load whose
/// permission the last write took away must fault, every other must succeed, on both engines.
/// </summary>
public sealed class StatusWriteTlbTests
{
    private const int Rounds = 20, SieToggles = 100;

    private static readonly Lazy<byte[]> Program = new(() => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          la t0, handler
          csrw mtvec, t0
          li t0, -1
          csrw pmpaddr0, t0
          li t0, 0x1f           # NAPOT over everything, RWX: S-mode may reach RAM
          csrw pmpcfg0, t0
          la t0, root
          srli t0, t0, 12
          li t1, 8 << 60        # Sv39
          or t0, t0, t1
          csrw satp, t0
          sfence.vma
          li t0, 1 << 11        # MPP = S
          csrs mstatus, t0
          la t0, supervisor
          csrw mepc, t0
          li s3, 0              # loads that succeeded
          li s4, 0              # load page faults
          li s5, 0              # any other trap cause
          mret

        # Each probe adds the loaded value (1) to s3, or nothing when the load faults (the handler skips it).
        .macro probe reg
          li a1, 0
          ld a1, 0(\reg)
          add s3, s3, a1
        .endm

        supervisor:
          la s1, data
          li t0, 0x40000000
          add s1, s1, t0        # the user alias (0xC000_0000 + offset) of data
          la s2, data
          li t0, 0x80000000
          add s2, s2, t0        # the execute-only alias (0x1_0000_0000 + offset) of data
          li s0, 0
        round:
          li t0, 1 << 18        # SUM
          csrs sstatus, t0
          probe s1              # S reads a U page with SUM: succeeds (and is cached)
          csrc sstatus, t0
          probe s1              # without SUM: faults, however it was cached
          csrs sstatus, t0
          probe s1
          li t1, {{SieToggles}}
        1:
          csrsi sstatus, 2      # SIE on and off: nothing the TLB caches changes
          csrci sstatus, 2
          addi t1, t1, -1
          bnez t1, 1b
          probe s1              # still allowed
          csrc sstatus, t0
          li t0, 1 << 19        # MXR
          probe s2              # execute-only, MXR clear: faults
          csrs sstatus, t0
          probe s2              # MXR makes executable pages readable
          csrc sstatus, t0
          probe s2              # and faults again once it is cleared
          addi s0, s0, 1
          li t0, {{Rounds}}
          blt s0, t0, round
          ecall

        handler:
          csrr t5, mcause
          li t6, 9              # ecall from S: the end
          beq t5, t6, finish
          li t6, 13             # load page fault: skip the load
          bne t5, t6, unexpected
          addi s4, s4, 1
          csrr t5, mepc
          addi t5, t5, 4
          csrw mepc, t5
          mret
        unexpected:
          mv s5, t5
        finish:
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        2: j 2b

        .balign 8
        data:
          .dword 1

        .balign 4096
        root:                   # Sv39 gigapages, all onto the image's gigabyte at 0x8000_0000
          .dword 0, 0
          .dword 0x200000CF     # 0x8000_0000: V R W X A D (code and data)
          .dword 0x200000D7     # 0xC000_0000: V R W U A D (a user alias)
          .dword 0x20000049     # 0x1_0000_0000: V X A (execute only)
          .zero 4096 - 5 * 8
        """));

    [Fact]
    public void Sum_and_mxr_writes_take_effect_at_once_and_sie_writes_keep_the_tlb()
    {
        var (reference, translated) = EngineComparison.RunBoth(Program.Value, [1, 7, 333, 4096, 13, 100_000]);
        foreach (var m in new[] { reference, translated })
        {
            Assert.Equal(0UL, m.Hart.GetX(21));                // s5: no unexpected trap
            Assert.Equal((ulong)Rounds * 4, m.Hart.GetX(19));  // s3: four loads allowed a round
            Assert.Equal((ulong)Rounds * 3, m.Hart.GetX(20));  // s4: three faulted a round
        }
        // The TLB is flushed for SUM, MXR and mode changes (a dozen a round), never for SIE.
        ulong flushes = reference.Hart.TranslatorStats.TlbFlushes;
        Assert.True(flushes < Rounds * 20, $"{flushes} TLB flushes in {Rounds} rounds of {2 * SieToggles} SIE writes");
    }
}
