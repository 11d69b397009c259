namespace ReplayVm.Core.Tests.Paging;

/// <summary>
/// The start of a bare-metal test program that pages: M-mode opens PMP, builds Sv39 tables with
/// identity gigapages at 0x0 (the devices) and 0x8000_0000 (RAM) and one 4 KiB page at 0x4000_0000
/// (through pt_l1 and pt_l0) mapped to a label, and enters S-mode at <c>supervisor</c>. The program
/// defines <c>supervisor</c>, the target label and three zeroed, 4 KiB-aligned pages <c>pt_root</c>,
/// <c>pt_l1</c> and <c>pt_l0</c>.
/// </summary>
internal static class SupervisorPrologue
{
    /// <param name="target">The label 0x4000_0000 maps to.</param>
    /// <param name="leafFlags">The leaf entry's flag bits, e.g. <c>0x4B</c> (V R X A) for code.</param>
    /// <param name="machineTrapHandler">A label for mtvec (M-mode takes every trap: nothing is delegated), or null to leave it unset.</param>
    public static string MappingOnePageTo(string target, string leafFlags, string? machineTrapHandler = null) => $$"""
        .option norvc
        .globl _start
        _start:
          {{(machineTrapHandler is null ? "" : $"la t0, {machineTrapHandler}\n  csrw mtvec, t0")}}
          li t0, -1
          csrw pmpaddr0, t0
          li t0, 0x1f           # NAPOT, RWX over everything: S-mode may access memory
          csrw pmpcfg0, t0
          la t0, pt_root        # Sv39: 0x0 and 0x8000_0000 identity gigapages, 0x4000_0000 via pt_l1/pt_l0
          li t1, 0xCF
          sd t1, 0(t0)          # root[0]: 0x0 gigapage (devices)
          li t1, (0x80000000 >> 12 << 10) | 0xCF
          sd t1, 16(t0)         # root[2]: RAM
          la t1, pt_l1
          srli t1, t1, 12
          slli t1, t1, 10
          ori t1, t1, 1
          sd t1, 8(t0)          # root[1] -> pt_l1
          la t2, pt_l0
          srli t2, t2, 12
          slli t2, t2, 10
          ori t2, t2, 1
          la t1, pt_l1
          sd t2, 0(t1)          # pt_l1[0] -> pt_l0
          la t1, {{target}}
          srli t1, t1, 12
          slli t1, t1, 10
          ori t1, t1, {{leafFlags}}
          la t2, pt_l0
          sd t1, 0(t2)          # 0x4000_0000 -> {{target}}
          srli t0, t0, 12
          li t1, 8 << 60
          or t0, t0, t1
          csrw satp, t0
          sfence.vma
          li t0, 1 << 11
          csrs mstatus, t0      # MPP = S
          la t0, supervisor
          csrw mepc, t0
          mret
        """;

    /// <summary>Register <paramref name="into"/> = a page-table entry pointing at <paramref name="label"/>'s page with <paramref name="flags"/> (t0 is clobbered).</summary>
    public static string EntryTo(string label, string flags, string into) => $"""
          la t0, {label}
          srli t0, t0, 12
          slli t0, t0, 10
          ori {into}, t0, {flags}
        """;

    /// <summary>The three page-table pages the prologue fills, page-aligned and zeroed; programs end with them.</summary>
    public const string PageTables = """
        .balign 4096
        pt_root: .zero 4096
        pt_l1: .zero 4096
        pt_l0: .zero 4096
        """;
}
