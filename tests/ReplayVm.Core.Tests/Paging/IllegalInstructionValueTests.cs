using ReplayVm.Core.Tests.Translation;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// An instruction that decodes but may not run where it is (an S-mode read of an M-mode CSR) traps
/// as illegal with its own encoding in mtval, as QEMU reports it (privileged spec 3.1.16), also when
/// it was fetched through the page tables from a virtual page whose number is not its physical one:
/// the bits must be read where the fetch read them, not at the virtual address taken as physical.
/// </summary>
public sealed class IllegalInstructionValueTests
{
    private const ulong CsrrsA0Mscratch = 0x34002573; // csrrs a0, mscratch, zero

    private static readonly Lazy<byte[]> Program = new(() => EngineComparison.Assemble("""
        .option norvc
        .globl _start
        _start:
          la t0, handler
          csrw mtvec, t0
          li t0, -1
          csrw pmpaddr0, t0
          li t0, 0x1f           # NAPOT, RWX over everything
          csrw pmpcfg0, t0
          la t0, pt_root        # Sv39: RAM as an identity gigapage, 0x4000_0000 -> code via pt_l1/pt_l0
          li t1, (0x80000000 >> 12 << 10) | 0xCF
          sd t1, 16(t0)
          la t1, pt_l1
          srli t1, t1, 12
          slli t1, t1, 10
          ori t1, t1, 1
          sd t1, 8(t0)
          la t2, pt_l0
          srli t2, t2, 12
          slli t2, t2, 10
          ori t2, t2, 1
          la t1, pt_l1
          sd t2, 0(t1)
          la t1, code
          srli t1, t1, 12
          slli t1, t1, 10
          ori t1, t1, 0xCB      # V R X A D
          la t2, pt_l0
          sd t1, 0(t2)
          srli t0, t0, 12
          li t1, 8 << 60
          or t0, t0, t1
          csrw satp, t0
          sfence.vma
          li t0, 1 << 11
          csrs mstatus, t0      # MPP = S
          la t0, supervisor
          csrw mepc, t0
          li s1, -1
          li s2, -1
          mret
        supervisor:
          li t0, 0x40000000
          jr t0
        handler:
          csrr s1, mtval
          csrr s2, mcause
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b
        .balign 4096
        code:
          csrr a0, mscratch     # M-mode CSR from S-mode: illegal
        2: j 2b
        .balign 4096
        pt_root: .zero 4096
        pt_l1: .zero 4096
        pt_l0: .zero 4096
        """));

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void The_trap_value_is_the_instruction_fetched_through_the_page_tables(ExecutionEngine engine)
    {
        var machine = EngineComparison.Boot(engine, Program.Value, threshold: 1);
        Assert.Equal(StopReason.GuestExit, machine.Run(1_000_000).Reason);
        Assert.Equal(2UL, machine.Hart.GetX(18)); // s2 = mcause: illegal instruction
        Assert.Equal(CsrrsA0Mscratch, machine.Hart.GetX(9)); // s1 = mtval
    }
}
