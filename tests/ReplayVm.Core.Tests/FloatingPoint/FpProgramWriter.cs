using System.Globalization;
using System.Text;

namespace ReplayVm.Core.Tests.FloatingPoint;

/// <summary>
/// Renders a batch of <see cref="FpCase"/>s as a bare-metal RV64GC program for QEMU's virt board
/// and ReplayVm. Each run of consecutive cases with the same instruction (operation and static
/// rounding mode) is one loop over their rows of a table: per row it writes fcsr (frm, cleared
/// flags), loads the operands, runs the instruction and records two words — the result's bits and
/// fflags — in a buffer. At the end it prints every record as "RESULT FLAGS" in hex on the 16550
/// UART and stops the machine through the test finisher.
///
/// One loop per instruction rather than one copy per case: the translator (at threshold 1) then
/// compiles each distinct instruction once and runs that code on every value of its cases, where a
/// straight-line copy per case made it compile one region per case — a hundred thousand .NET JIT
/// compilations for the special-value grid, nearly all of the test's time.
///
/// Registers: the table pointer s1 and buffer pointer s0 with f8–f11 and a0/a1 keep the loads and
/// stores within the compressed forms' register range, so C.FLD/C.FSD are exercised too; s2 counts
/// a loop's remaining rows.
/// </summary>
public static class FpProgramWriter
{
    public const ulong ResultBuffer = 0x8080_0000;
    private static readonly string[] RmNames = ["rne", "rtz", "rdn", "rup", "rmm", "", "", "dyn"];

    public static string Render(IReadOnlyList<FpCase> cases)
    {
        var s = new StringBuilder();
        s.AppendLine(".section .text");
        s.AppendLine(".globl _start");
        s.AppendLine("_start:");
        s.AppendLine("  li t0, 0x6000");
        s.AppendLine("  csrs mstatus, t0          # mstatus.FS = Dirty: enable the FPU");
        s.AppendLine("  la t0, trap");
        s.AppendLine("  csrw mtvec, t0            # no trap is expected: report one and stop");
        s.AppendLine("  la s1, operands");
        s.AppendLine($"  li s0, 0x{ResultBuffer:x}");
        int group = 0;
        for (int start = 0; start < cases.Count;)
        {
            int end = start + 1;
            while (end < cases.Count && SameInstruction(cases[end], cases[start])) end++;
            RenderLoop(s, cases[start], end - start, group++);
            start = end;
        }
        s.AppendLine($"""
              li s1, 0x{ResultBuffer:x}
            dump:
              bgeu s1, s0, finish
              ld a5, 0(s1)
              jal ra, puthex
              li a0, 32
              jal ra, putc
              ld a5, 8(s1)
              jal ra, puthex
              li a0, 10
              jal ra, putc
              addi s1, s1, 16
              j dump
              j finish
            .balign 4                   # mtvec needs a 4-byte aligned base
            trap:
              li a0, 84                 # "T mcause mepc mtval"
              jal ra, putc
              li a0, 32
              jal ra, putc
              csrr a5, mcause
              jal ra, puthex
              li a0, 32
              jal ra, putc
              csrr a5, mepc
              jal ra, puthex
              li a0, 32
              jal ra, putc
              csrr a5, mtval
              jal ra, puthex
              li a0, 10
              jal ra, putc
            finish:
              li t0, 0x100000
              li t1, 0x5555
              sw t1, 0(t0)
            hang:
              j hang

            putc:                       # a0: byte; waits for LSR.THRE
              li t3, 0x10000000
            1:
              lbu t4, 5(t3)
              andi t4, t4, 0x20
              beqz t4, 1b
              sb a0, 0(t3)
              ret

            puthex:                     # a5: value, 16 hex digits
              mv s3, ra
              li s4, 60
            2:
              srl t1, a5, s4
              andi t1, t1, 15
              addi a0, t1, 48
              li t2, 10
              blt t1, t2, 3f
              addi a0, t1, 87
            3:
              jal ra, putc
              addi s4, s4, -4
              bgez s4, 2b
              mv ra, s3
              ret

            .section .rodata
            .balign 8
            operands:
            """);
        foreach (var c in cases)
            s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  .dword 0x{c.A:x16}, 0x{c.B:x16}, 0x{c.C:x16}, 0x{c.Frm << 5:x}"));
        return s.ToString();
    }

    /// <summary>Whether two cases run the same encoded instruction (their operands and frm may differ).</summary>
    public static bool SameInstruction(FpCase a, FpCase b) => a.Op == b.Op && a.Rm == b.Rm;

    /// <summary>One loop over <paramref name="count"/> table rows (A, B, C, fcsr) that all run <paramref name="first"/>'s instruction.</summary>
    private static void RenderLoop(StringBuilder s, FpCase first, int count, int group)
    {
        var op = first.Op;
        s.AppendLine($"  # {op.Mnemonic} rm={(op.HasRm ? RmNames[first.Rm] : "-")}: {count} cases");
        s.AppendLine($"  li s2, {count}");
        s.AppendLine($"group{group}:");
        s.AppendLine($"  ld t0, {RowFcsr}(s1)");
        s.AppendLine("  csrw fcsr, t0");
        string Operand(ValueKind kind, int index, string fp)
        {
            if (kind == ValueKind.Integer)
            {
                s.AppendLine($"  ld a0, {index * 8}(s1)");
                return "a0";
            }
            s.AppendLine($"  fld {fp}, {index * 8}(s1)");
            return fp;
        }
        var operands = new List<string>();
        if (op.A != ValueKind.None) operands.Add(Operand(op.A, 0, "f8"));
        if (op.B != ValueKind.None) operands.Add(Operand(op.B, 1, "f9"));
        if (op.C != ValueKind.None) operands.Add(Operand(op.C, 2, "f10"));
        string dest = op.Result == ValueKind.Integer ? "a1" : "f11";
        string rm = op.HasRm ? ", " + RmNames[first.Rm] : "";
        s.AppendLine($"  {op.Mnemonic} {dest}, {string.Join(", ", operands)}{rm}");
        s.AppendLine(op.Result == ValueKind.Integer ? "  sd a1, 0(s0)" : "  fsd f11, 0(s0)");
        s.AppendLine("  frflags a2");
        s.AppendLine("  sd a2, 8(s0)");
        s.AppendLine("  addi s0, s0, 16");
        s.AppendLine($"  addi s1, s1, {RowBytes}");
        s.AppendLine("  addi s2, s2, -1");
        s.AppendLine($"  bnez s2, group{group}");
    }

    /// <summary>A case's table row: the operands A, B, C, then the fcsr value (frm, no flags) to run it with.</summary>
    private const int RowBytes = 32;
    private const int RowFcsr = 24;
}
