using ReplayVm.Core.Tests.Translation;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Memory;

/// <summary>
/// A store that starts on a page without code and runs into one with code must drop what was
/// decoded of the second page: here a misaligned doubleword at the last 4 bytes of a data page
/// rewrites the first instruction of the function on the next page (li a0, 1 becomes li a0, 2),
/// in M-mode, where stores go straight to RAM, and with no fence.i. The function, called before
/// and after, must return what it holds each time.
/// </summary>
public sealed class CodeWriteTests
{
    private static readonly Lazy<byte[]> Program = new(() => EngineComparison.Assemble("""
        .option norvc
        .globl _start
        _start:
          li s1, 0
          call func
          add s1, s1, a0        # 1
          la t0, func
          li t1, 0x0020051300000000 # upper half: li a0, 2
          sd t1, -4(t0)         # the data page's last word and func's first instruction
          call func
          add s1, s1, a0        # + 2
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b
        .balign 4096
        data: .zero 4096
        func:
          li a0, 1
          ret
        """));

    /// <summary>
    /// A store into a page that holds no code yet, then a call into that page (its first execution),
    /// then a store rewriting the function: the hart remembers the last page a store found without
    /// code, and must forget it when the page gains decoded code.
    /// </summary>
    private static readonly Lazy<byte[]> CodeAfterData = new(() => EngineComparison.Assemble("""
        .option norvc
        .globl _start
        _start:
          li s1, 0
          la t0, func
          li t1, 0x00100513     # li a0, 1
          sw t1, 0(t0)          # func's page holds no code yet
          call func
          add s1, s1, a0        # 1
          li t1, 0x00200513     # li a0, 2
          sw t1, 0(t0)          # now it does
          call func
          add s1, s1, a0        # + 2
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b
        .balign 4096
        func:
          li a0, 0
          ret
        """));

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void A_page_stored_into_before_it_held_code_is_rewritten_after(ExecutionEngine engine)
    {
        var machine = EngineComparison.Boot(engine, CodeAfterData.Value, threshold: 1);
        Assert.Equal(StopReason.GuestExit, machine.Run(10_000).Reason);
        Assert.Equal(3UL, machine.Hart.GetX(9)); // s1
    }

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void A_store_running_into_a_code_page_rewrites_its_first_instruction(ExecutionEngine engine)
    {
        var machine = EngineComparison.Boot(engine, Program.Value, threshold: 1);
        Assert.Equal(StopReason.GuestExit, machine.Run(10_000).Reason);
        Assert.Equal(3UL, machine.Hart.GetX(9)); // s1
    }
}
