using ReplayVm.Core.Tests.Oracle;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// Decode pages dropped by a store into code are reused for the next page executed (MainMemory's
/// free list), so one decode page serves page A, then page B, then A again. Whatever was keyed on
/// a decode page's identity — the translator's regions, a breakpoint page's shadow copy — must be
/// forgotten when it is dropped, or the old code would run again when the same decode page comes
/// back to the same page (the free list is last in, first out: each round, both functions get their
/// own decode pages back). The program patches a function on each of two pages every round and
/// calls both: any stale decode, region or shadow shows in its known sum.
/// </summary>
public sealed class DecodePageReuseTests
{
    private const int Rounds = 60;
    /// <summary>Σ (r + 2r + r) over the rounds: fa (called twice a round) returns the round number, fb twice it.</summary>
    private const ulong ExpectedSum = 4UL * Rounds * (Rounds - 1) / 2;

    private static byte[] Program(bool fenceI) => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          li s0, 0              # round
          li s1, 0              # sum of what fa and fb return
        loop:
          li t1, 0x00000513     # addi a0, zero, imm: imm goes in bits 31:20
          slli t0, s0, 21
          or t0, t0, t1
          la t2, fb
          sw t0, 0(t2)          # fb: a0 = 2 * round
          slli t0, s0, 20
          or t0, t0, t1
          la t2, fa
          sw t0, 0(t2)          # fa: a0 = round; dropped last, so its decode page is the first reused: by fa itself
          {{(fenceI ? "fence.i" : "")}}
          call fa
          add s1, s1, a0
          call fb
          add s1, s1, a0
          call fa               # a second call finds fa's page decoded (and, at threshold 1, translated)
          add s1, s1, a0
          addi s0, s0, 1
          li t0, {{Rounds}}
          blt s0, t0, loop
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b

        .balign 4096
        fa:
          addi a0, zero, 0
          ret
        fa_unused:
          nop                   # a breakpoint here puts fa's page in a shadow; never executed
          nop

        .balign 4096
        fb:
          addi a0, zero, 0
          ret
        fb_unused:
          nop
          nop
        """);

    private static readonly Lazy<byte[]> WithStoresOnly = new(() => Program(fenceI: false));
    private static readonly Lazy<byte[]> WithFenceI = new(() => Program(fenceI: true));

    public static TheoryData<bool> FenceI => new() { false, true };

    [Theory]
    [MemberData(nameof(FenceI))]
    public void Code_patched_on_two_pages_every_round_runs_as_patched_on_both_engines(bool fenceI)
    {
        var elf = fenceI ? WithFenceI.Value : WithStoresOnly.Value;
        foreach (var slices in new[] { new ulong[] { 1, 7, 333, 4096, 13 }, new ulong[] { 10_000_000 } })
        {
            var (reference, translated) = EngineComparison.RunBoth(elf, slices);
            Assert.Equal(ExpectedSum, reference.Hart.GetX(9));
            Assert.Equal(ExpectedSum, translated.Hart.GetX(9));
            Assert.True(translated.Hart.TranslatorStats.RegionsTranslated > 0, "the translator translated nothing");
            // Both pages' decodes really were dropped (and their decode pages reused) every round after the first.
            Assert.True(reference.Hart.TranslatorStats.CodeInvalidations >= 2 * (Rounds - 1), $"{reference.Hart.TranslatorStats.CodeInvalidations} invalidations");
            Assert.True(reference.Hart.TranslatorStats.DecodePagesCreated >= 2 * Rounds, $"{reference.Hart.TranslatorStats.DecodePagesCreated} decode pages made, {reference.Hart.TranslatorStats.CodeInvalidations} invalidations");
        }
    }

    [Theory]
    [MemberData(nameof(FenceI))]
    public void Breakpoint_page_shadows_follow_code_patched_under_them(bool fenceI)
    {
        var elf = fenceI ? WithFenceI.Value : WithStoresOnly.Value;
        var image = Core.Loading.ElfImage.Parse(elf);
        ulong[] never = [image.FindSymbol("fa_unused")!.Value, image.FindSymbol("fb_unused")!.Value];
        foreach (var engine in new[] { ExecutionEngine.Interpreter, ExecutionEngine.Translator })
        {
            var machine = EngineComparison.Boot(engine, elf);
            machine.Hart.SetBreakpoints(never);
            var result = machine.Run(10_000_000);
            Assert.Equal(StopReason.GuestExit, result.Reason);
            Assert.Equal(ExpectedSum, machine.Hart.GetX(9));
        }
    }
}
