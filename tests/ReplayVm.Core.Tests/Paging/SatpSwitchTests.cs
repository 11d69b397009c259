using ReplayVm.Core.Hart;
using ReplayVm.Core.Tests.Translation;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// Switching satp between roots, as an OS does at every context switch, with page tables changed
/// between and after the switches and never a sfence.vma. The hart keeps the translations made
/// through top-level entries both roots share, forgets the tables read only for the other ones,
/// and marks the new root; whatever it keeps, every load must see what the page tables give at
/// that moment (ReplayVm never lets a stale translation be used, see StaleTranslationTests), so
/// the guest's sum is known.
/// </summary>
public sealed class SatpSwitchTests
{
    private const int Rounds = 300;

    /// <summary>Sv39 root entries every test root has: devices (0) and RAM (2) as identity gigapages.</summary>
    private const string Prologue = """
        .option norvc
        .globl _start
        _start:
          li t0, -1
          csrw pmpaddr0, t0
          li t0, 0x1f           # NAPOT, RWX over everything
          csrw pmpcfg0, t0
          la t0, mtrap
          csrw mtvec, t0
        .macro ENTRY table, index, target, flags
          la t0, \target
          srli t0, t0, 12
          slli t0, t0, 10
          ori t0, t0, \flags
          la t1, \table
          sd t0, (\index * 8)(t1)
        .endm
        .macro GIGAPAGES root
          li t0, 0xCF
          la t1, \root
          sd t0, 0(t1)          # 0x0: devices
          li t0, (0x80000000 >> 12 << 10) | 0xCF
          sd t0, 16(t1)         # 0x8000_0000: RAM
        .endm
        .macro SATP reg, root
          la \reg, \root
          srli \reg, \reg, 12
          or \reg, \reg, s11
        .endm
        """;

    private const string Epilogue = """
          li t0, 1 << 11
          csrs mstatus, t0      # MPP = S
          la t0, supervisor
          csrw mepc, t0
          li s11, 8 << 60       # Sv39
          mret
        mtrap:                  # nothing is delegated: any trap ends the test with a wrong sum
          li s1, -1
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        9: j 9b
        """;

    /// <summary>
    /// Roots A and B share their entries for RAM (a pointer to a table mapping the program's 2 MiB)
    /// and for 0x400F_0000 (a pointer to the same tables), and differ at 0xC00F_1000 (data_a under
    /// A, data_b under B). Every round loads both addresses under each root; the program's fetches
    /// and its stores into the tables go through translations kept across the switches. A third of
    /// the way in, the shared leaf is rewritten under B (to data_d): a translation kept from A's walks
    /// must go. Two thirds in, right after a switch to B and before any walk, B's own top-level entry
    /// for 0x400F_0000 is rewritten (to tables leading to data_e) through a translation of its page
    /// made under A: the store into the new root must be caught.
    /// </summary>
    private static readonly Lazy<byte[]> SharedTables = new(() => EngineComparison.Assemble($$"""
        {{Prologue}}
          GIGAPAGES root_a
          GIGAPAGES root_b
          ENTRY root_a, 2, l1_ram, 1
          ENTRY root_b, 2, l1_ram, 1
          li t0, (0x80000000 >> 12 << 10) | 0xCF
          la t1, l1_ram
          sd t0, 0(t1)          # 0x8000_0000: a 2 MiB page
          ENTRY root_a, 1, l1_shared, 1
          ENTRY root_b, 1, l1_shared, 1
          ENTRY l1_shared, 0, l0_shared, 1
          ENTRY l0_shared, 0xF0, data_c, 0xC7
          ENTRY root_a, 3, l1_a, 1
          ENTRY l1_a, 0, l0_a, 1
          ENTRY l0_a, 0xF1, data_a, 0xC7
          ENTRY root_b, 3, l1_b, 1
          ENTRY l1_b, 0, l0_b, 1
          ENTRY l0_b, 0xF1, data_b, 0xC7
          ENTRY l1_e, 0, l0_e, 1
          ENTRY l0_e, 0xF0, data_e, 0xC7
        {{Epilogue}}
        supervisor:
          SATP s2, root_a
          SATP s3, root_b
          la s10, root_b
          li s0, 0              # round
          li s1, 0              # sum
          li s4, 0x400F0000     # TLB slots apart from each other's and the program's pages
          li s5, 0xC00F1000
          li s6, {{Rounds}}
        1:
          csrw satp, s2
          ld t2, 8(s10)         # B's root, read under A: the TLB holds its page, writable while it is no root in use
          ld t0, 0(s5)
          add s1, s1, t0
          ld t0, 0(s4)
          add s1, s1, t0
          csrw satp, s3
          li t1, {{2 * Rounds / 3}}
          bne s0, t1, 2f
          ENTRY root_b, 1, l1_e, 1
        2:
          ld t0, 0(s5)
          add s1, s1, t0
          ld t0, 0(s4)
          add s1, s1, t0
          li t1, {{Rounds / 3}}
          bne s0, t1, 3f
          ENTRY l0_shared, 0xF0, data_d, 0xC7
        3:
          addi s0, s0, 1
          blt s0, s6, 1b
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        4: j 4b
        .balign 4096
        data_a: .dword 1
        .balign 4096
        data_b: .dword 10
        .balign 4096
        data_c: .dword 100
        .balign 4096
        data_d: .dword 1000
        .balign 4096
        data_e: .dword 10000
        .balign 4096
        root_a: .zero 4096
        root_b: .zero 4096
        l1_ram: .zero 4096
        l1_shared: .zero 4096
        l0_shared: .zero 4096
        l1_a: .zero 4096
        l0_a: .zero 4096
        l1_b: .zero 4096
        l0_b: .zero 4096
        l1_e: .zero 4096
        l0_e: .zero 4096
        """));

    private static ulong SharedTablesSum()
    {
        ulong sum = 0;
        for (int round = 0; round < Rounds; round++)
        {
            ulong shared = round <= Rounds / 3 ? 100UL : 1000UL; // rewritten after round Rounds / 3's loads
            ulong underB = round < 2 * Rounds / 3 ? shared : 10000UL; // B's root rewritten before round 2 Rounds / 3's loads under B
            sum += 1 + shared + 10 + underB;
        }
        return sum;
    }

    /// <summary>
    /// Roots A and B share no lower-half pointer (their RAM and device entries are gigapage leaves),
    /// so each switch drops every lower-half translation and forgets the tables read only for them;
    /// both map the program's RAM again in the upper half through one shared pointer, as Linux maps
    /// all RAM, and that translation stays. Under A the program reads A's last-level table through
    /// the upper-half alias (the TLB then holds that page with no store fast path); under B it
    /// rewrites the table (a page no longer marked, whose store fast path comes back); back under A
    /// a walk reads that table again, and a store into it must be caught once more.
    /// </summary>
    private static readonly Lazy<byte[]> ReusedTable = new(() => EngineComparison.Assemble($$"""
        {{Prologue}}
          GIGAPAGES root_a
          GIGAPAGES root_b
          ENTRY root_a, 1, l1_a, 1
          ENTRY l1_a, 0, l0_a, 1
          ENTRY l0_a, 0xF0, data_a, 0xC7
          ENTRY root_b, 1, l1_b, 1
          ENTRY l1_b, 0, l0_b, 1
          ENTRY l0_b, 0xF0, data_b, 0xC7
          ENTRY l1_high, 0, _start, 0xCF # a 2 MiB page: the program's RAM again at 0xFFFF_FFC0_0000_0000
          la t0, l1_high
          srli t0, t0, 12
          slli t0, t0, 10
          ori t0, t0, 1
          li t2, 256 * 8        # both roots point there from index 256, the upper half's first
          la t1, root_a
          add t1, t1, t2
          sd t0, 0(t1)
          la t1, root_b
          add t1, t1, t2
          sd t0, 0(t1)
        {{Epilogue}}
        supervisor:
          SATP s2, root_a
          SATP s3, root_b
          la s7, l0_a
          li t0, 0xFFFFFFC000000000 - 0x80000000
          add s7, s7, t0        # A's table through the upper-half alias, which both roots share
          addi s7, s7, 0xF0 * 8 # the entry for 0x400F_0000
          la t0, data_a
          srli t0, t0, 12
          slli t0, t0, 10
          ori s8, t0, 0xC7      # s8: PTE -> data_a
          la t0, data_c
          srli t0, t0, 12
          slli t0, t0, 10
          ori s9, t0, 0xC7      # s9: PTE -> data_c
          li s0, 0
          li s1, 0
          li s4, 0x400F0000     # a TLB slot apart from the program's pages
          li s6, {{Rounds}}
        1:
          csrw satp, s2
          ld t0, 0(s4)          # data_a
          add s1, s1, t0
          ld t2, 0(s7)          # A's table read while it is one: the TLB holds its page, not writable by the fast path
          csrw satp, s3
          ld t0, 0(s4)          # data_b
          add s1, s1, t0
          sd s9, 0(s7)          # A's table -> data_c, written under B (twice: the second store may take the fast path)
          sd s9, 0(s7)
          csrw satp, s2
          ld t0, 0(s4)          # data_c
          add s1, s1, t0
          sd s8, 0(s7)          # A's table -> data_a again, under A: a table the TLB used
          ld t0, 0(s4)          # data_a
          add s1, s1, t0
          addi s0, s0, 1
          blt s0, s6, 1b
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        4: j 4b
        .balign 4096
        data_a: .dword 1
        .balign 4096
        data_b: .dword 10
        .balign 4096
        data_c: .dword 100
        .balign 4096
        root_a: .zero 4096
        root_b: .zero 4096
        l1_a: .zero 4096
        l0_a: .zero 4096
        l1_b: .zero 4096
        l0_b: .zero 4096
        l1_high: .zero 4096
        """));

    private static ulong Sum(byte[] elf, ExecutionEngine engine)
    {
        var machine = EngineComparison.Boot(engine, elf);
        Assert.Equal(StopReason.GuestExit, machine.Run(10_000_000).Reason);
        return machine.Hart.GetX(9); // s1
    }

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void Tables_changed_around_switches_are_seen_at_once(ExecutionEngine engine) =>
        Assert.Equal(SharedTablesSum(), Sum(SharedTables.Value, engine));

    [Theory]
    [InlineData(ExecutionEngine.Interpreter)]
    [InlineData(ExecutionEngine.Translator)]
    public void A_table_written_while_another_root_runs_is_checked_again_once_walked(ExecutionEngine engine) =>
        Assert.Equal((ulong)Rounds * (1 + 10 + 100 + 1), Sum(ReusedTable.Value, engine));

    [Fact]
    public void The_engines_agree_at_every_slice_end()
    {
        EngineComparison.RunBoth(SharedTables.Value, [1, 7, 333, 4096, 13, 100_000, 2, 999]);
        EngineComparison.RunBoth(ReusedTable.Value, [1, 7, 333, 4096, 13, 100_000, 2, 999]);
    }
}
