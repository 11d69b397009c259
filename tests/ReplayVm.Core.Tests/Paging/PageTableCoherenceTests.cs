using ReplayVm.Core.Tests.Translation;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// The caches in front of the page tables (the TLB, the page-walk cache, translated regions) are
/// kept coherent by what a store into a table overwrites, not by sfence.vma: a leaf entry drops the
/// translations made from it (and, if code was fetched through it, the regions found through it), a
/// table pointer drops everything. Each guest here rewrites one kind of entry every 64 uses, never
/// fences, and must see every new mapping at once on both engines; the sum tells which mapping each
/// use saw.
/// </summary>
public sealed class PageTableCoherenceTests
{
    private const int Blocks = 200, PerBlock = 64;

    /// <summary>Blocks of 64 uses alternate between the mapping worth 1000 and the one worth 1, starting with 1000.</summary>
    private const ulong ExpectedSum = Blocks / 2 * PerBlock * 1000UL + Blocks / 2 * PerBlock * 1UL;

    /// <summary>The loop: every 64 iterations it swaps the dword at s2 between s3 and s4, then runs <paramref name="use"/> (which adds to s1).</summary>
    private static string Loop(string use) => $$"""
          li s0, 0              # i
          li s1, 0              # sum
          li s5, 0x40000000
          li s6, {{Blocks * PerBlock}}
        1:
          andi t0, s0, {{PerBlock - 1}}
          bnez t0, 2f
          ld t1, 0(s2)          # swap the entry, with no sfence.vma
          xor t1, t1, s3
          xor t1, t1, s4
          sd t1, 0(s2)
        2:
          {{use}}
          addi s0, s0, 1
          blt s0, s6, 1b
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        3: j 3b
        """;


    /// <summary>Swaps pt_l1's pointer between pt_l0 (to data_a) and pt_l0b (to data_b): the walk cache must not keep the old table.</summary>
    private static readonly Lazy<byte[]> PointerSwapper = new(() => EngineComparison.Assemble($$"""
        {{SupervisorPrologue.MappingOnePageTo("data_a", "0xC7")}}
        supervisor:
        {{SupervisorPrologue.EntryTo("data_b", "0xC7", "t1")}}
          la t0, pt_l0b
          sd t1, 0(t0)          # pt_l0b[0] -> data_b
          la s2, pt_l1
        {{SupervisorPrologue.EntryTo("pt_l0", "1", "s3")}}
        {{SupervisorPrologue.EntryTo("pt_l0b", "1", "s4")}}
        {{Loop("ld a0, 0(s5)\n  add s1, s1, a0")}}
        .balign 4096
        data_a: .dword 1
        .balign 4096
        data_b: .dword 1000
        {{SupervisorPrologue.PageTables}}
        pt_l0b: .zero 4096
        """));

    /// <summary>
    /// Swaps a 2 MiB superpage leaf (pt_l1[1], mapping 0x4020_0000) between RAM at 0x8040_0000 and at
    /// 0x8060_0000, and reads through it at 0x4020_5008: the TLB entry sits in slot 5, not the slot
    /// of the leaf's own index (1), where a 4 KiB page's would, so it must be found by a search.
    /// </summary>
    private static readonly Lazy<byte[]> SuperpageSwapper = new(() => EngineComparison.Assemble($$"""
        {{SupervisorPrologue.MappingOnePageTo("data_a", "0xC7")}}
        supervisor:
          li t0, 0x80605008
          li t1, 1000
          sd t1, 0(t0)          # the first mapping the loop swaps in reads 1000
          li t0, 0x80405008
          li t1, 1
          sd t1, 0(t0)
          li s3, (0x80400000 >> 12 << 10) | 0xC7
          li s4, (0x80600000 >> 12 << 10) | 0xC7
          la s2, pt_l1
          addi s2, s2, 8
          sd s3, 0(s2)          # pt_l1[1]: 0x4020_0000 -> 0x8040_0000, 2 MiB
        {{Loop("li a1, 0x40205008\n  ld a0, 0(a1)\n  add s1, s1, a0")}}
        .balign 4096
        data_a: .dword 0
        {{SupervisorPrologue.PageTables}}
        """));

    /// <summary>
    /// Reads through pt_l0 (so the walker marks it as a table), then stores 2000 times into one of its
    /// invalid entries through the RAM identity mapping, changing nothing: every store takes the
    /// slow path, which checks what it overwrites, but only the first needs a walk.
    /// </summary>
    private static readonly Lazy<byte[]> TableStorer = new(() => EngineComparison.Assemble($$"""
        {{SupervisorPrologue.MappingOnePageTo("data_a", "0xC7")}}
        supervisor:
          li t0, 0x40000000
          ld t1, 0(t0)          # walks through pt_l0
          la t2, pt_l0
          li t3, 2000
        1:
          sd zero, 800(t2)      # pt_l0[100], invalid before and after
          addi t3, t3, -1
          bnez t3, 1b
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        3: j 3b
        .balign 4096
        data_a: .dword 0
        {{SupervisorPrologue.PageTables}}
        """));

    /// <summary>Swaps the leaf of the code page at 0x4000_0000 between code_a (returns 1000 — swapped in first) and code_b: regions found through it must go.</summary>
    private static readonly Lazy<byte[]> CodeSwapper = new(() => EngineComparison.Assemble($$"""
        {{SupervisorPrologue.MappingOnePageTo("code_b", "0x4B")}}
        supervisor:
          la s2, pt_l0
        {{SupervisorPrologue.EntryTo("code_a", "0x4B", "s3")}}
        {{SupervisorPrologue.EntryTo("code_b", "0x4B", "s4")}}
        {{Loop("jalr ra, 0(s5)\n  add s1, s1, a0")}}
        .balign 4096
        code_a:
          li a0, 1000
          ret
        .balign 4096
        code_b:
          li a0, 1
          ret
        {{SupervisorPrologue.PageTables}}
        """));

    /// <summary>One copy of a loop that swaps the mapping of the page it runs on: the instruction after the swap must come from the other copy.</summary>
    private static string SelfSwappingLoop(string label, int value) => $$"""
        .balign 4096
        {{label}}:
        1:
          andi t0, s0, {{PerBlock - 1}}
          bnez t0, 2f
          ld t1, 0(s2)          # swap this page's own entry, with no sfence.vma
          xor t1, t1, s3
          xor t1, t1, s4
          sd t1, 0(s2)
        2:
          li a0, {{value}}      # fetched from whichever copy the page maps now
          add s1, s1, a0
          addi s0, s0, 1
          blt s0, s6, 1b
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        3: j 3b
        """;

    /// <summary>Runs at 0x4000_0000 a loop that swaps that page between two copies of itself (loop_a adds 1000, loop_b 1).</summary>
    private static readonly Lazy<byte[]> SelfSwapper = new(() => EngineComparison.Assemble($$"""
        {{SupervisorPrologue.MappingOnePageTo("loop_b", "0x4B")}}
        supervisor:
          la s2, pt_l0
        {{SupervisorPrologue.EntryTo("loop_a", "0x4B", "s3")}}
        {{SupervisorPrologue.EntryTo("loop_b", "0x4B", "s4")}}
          li s0, 0
          li s1, 0
          li s6, {{Blocks * PerBlock}}
          li t0, 0x40000000
          jr t0
        {{SelfSwappingLoop("loop_a", 1000)}}
        {{SelfSwappingLoop("loop_b", 1)}}
        {{SupervisorPrologue.PageTables}}
        """));

    private static ulong Sum(byte[] program, ExecutionEngine engine)
    {
        var machine = EngineComparison.Boot(engine, program, threshold: 1);
        var result = machine.Run(10_000_000);
        Assert.Equal(StopReason.GuestExit, result.Reason);
        return machine.Hart.GetX(9); // s1
    }

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void A_swapped_table_pointer_is_seen_without_sfence_vma(ExecutionEngine engine) =>
        Assert.Equal(ExpectedSum, Sum(PointerSwapper.Value, engine));

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void A_remapped_code_page_runs_its_new_code_without_sfence_vma(ExecutionEngine engine) =>
        Assert.Equal(ExpectedSum, Sum(CodeSwapper.Value, engine));

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void Code_that_remaps_its_own_page_goes_on_in_the_new_page(ExecutionEngine engine) =>
        Assert.Equal(ExpectedSum, Sum(SelfSwapper.Value, engine));

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void A_remapped_superpage_is_seen_through_every_slot_it_filled(ExecutionEngine engine) =>
        Assert.Equal(ExpectedSum, Sum(SuperpageSwapper.Value, engine));

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void Stores_into_a_page_table_walk_once_and_are_each_checked(ExecutionEngine engine)
    {
        var machine = EngineComparison.Boot(engine, TableStorer.Value, threshold: 1);
        Assert.Equal(StopReason.GuestExit, machine.Run(1_000_000).Reason);
        Assert.True(machine.Hart.TranslatorStats.PageWalks < 100, $"{machine.Hart.TranslatorStats.PageWalks} walks for 2000 stores");
        Assert.True(machine.Ram.PageTables.Contains((ElfSymbol(TableStorer.Value, "pt_l0") - machine.Ram.Base) >> 12), "pt_l0 was not marked as a table: the stores took the fast path");
    }

    private static ulong ElfSymbol(byte[] elf, string name) => Core.Loading.ElfImage.Parse(elf).FindSymbol(name)!.Value;

    [Fact]
    public void The_engines_agree_at_every_slice_end_while_tables_change()
    {
        EngineComparison.RunBoth(SelfSwapper.Value, [1, 7, 333, 4096, 13, 100_000, 2, 999]);
        EngineComparison.RunBoth(PointerSwapper.Value, [1, 7, 333, 4096, 13, 100_000, 2, 999]);
        EngineComparison.RunBoth(CodeSwapper.Value, [1, 7, 333, 4096, 13, 100_000, 2, 999]);
        EngineComparison.RunBoth(SuperpageSwapper.Value, [1, 7, 333, 4096, 13, 100_000, 2, 999]);
    }
}
