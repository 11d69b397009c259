using ReplayVm.Core.Tests.Paging;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// A translated load and store that cross from one virtual page into the next, where the two are
/// mapped to pages that are not neighbours in RAM, while the TLB holds the first page's translation:
/// the region's inline TLB check must send them to the interpreter's access (which translates each
/// page), or the second half would come from, and go to, the RAM page after the first one.
/// </summary>
public sealed class PageCrossingAccessTests
{
    private const int Rounds = 100;

    private static readonly Lazy<byte[]> Crossing = new(() => EngineComparison.Assemble($$"""
        {{SupervisorPrologue.MappingOnePageTo("data_a", "0xC7")}}
        supervisor:
        {{SupervisorPrologue.EntryTo("data_c", "0xC7", "t1")}}
          la t0, pt_l0
          sd t1, 8(t0)          # 0x4000_1000 -> data_c (not the page after data_a)
          sfence.vma
          li s5, 0x40000000
          li s7, 0x40000FFC     # the last 4 bytes of the first page
          li s8, 0x40001000
          li t2, 0x4444444455555555
          li s0, 0
          li s1, 0
          li s6, {{Rounds}}
        1:
          ld a0, 0(s5)          # the first page's translation into the TLB
          ld a1, 0(s7)          # crosses into the second page
          sd t2, 0(s7)          # and back
          lwu a2, 0(s8)         # the second page's first word, as the store left it
          add s1, s1, a1
          add s1, s1, a2
          addi s0, s0, 1
          blt s0, s6, 1b
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        3: j 3b
        .balign 4096
        data_a: .dword 1
        .skip 0xFFC - 8
        .word 0x11111111
        data_b: .word 0x22222222, 0x22222222
        .balign 4096
        data_c: .word 0x33333333
        {{SupervisorPrologue.PageTables}}
        """));

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void Each_half_goes_to_its_own_page(ExecutionEngine engine)
    {
        var machine = EngineComparison.Boot(engine, Crossing.Value, threshold: 1);
        Assert.Equal(StopReason.GuestExit, machine.Run(1_000_000).Reason);
        // First round: data_c's 0x33333333 above data_a's last word; then what the store wrote.
        ulong sum = unchecked(0x3333333311111111UL + 0x44444444UL + (Rounds - 1) * (0x4444444455555555UL + 0x44444444UL));
        Assert.Equal(sum, machine.Hart.GetX(9)); // s1
        if (engine == ExecutionEngine.Translator) Assert.True(machine.Hart.TranslatorStats.RegionSteps > 0);
    }
}
