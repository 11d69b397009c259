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

    private static readonly Lazy<byte[]> Program = new(() => EngineComparison.Assemble($$"""
        {{SupervisorPrologue.MappingOnePageTo("code", "0xCB", machineTrapHandler: "handler")}}
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
        {{SupervisorPrologue.PageTables}}
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
