using ReplayVm.Core.Input;
using ReplayVm.Core.Loading;
using ReplayVm.Core.Tests.Oracle;

namespace ReplayVm.Core.Tests.FloatingPoint;

/// <summary>
/// The F/D state as the hart exposes it: mstatus.FS gating and SD, misa, fcsr, rounding-mode
/// legality, NaN-boxing and the RVC forms (unprivileged spec ch. 11–12, privileged spec 3.1.6.6).
/// Guests are built with the riscv64 toolchain and run in-process.
/// </summary>
public class FloatHartTests
{
    private const int Mcause = 26, Mtval = 27; // s10, s11: where the guest's trap handler leaves them

    /// <summary>Runs <paramref name="body"/> in M-mode; a trap stores mcause/mtval in s10/s11 (else s10 = -1) and stops.</summary>
    private static Machine Run(string body)
    {
        var dir = Directory.CreateTempSubdirectory("replayvm-fphart-").FullName;
        var source = Path.Combine(dir, "t.S");
        var elf = Path.Combine(dir, "t.elf");
        File.WriteAllText(source, $"""
            .globl _start
            _start:
              li s10, -1
              la t0, trap
              csrw mtvec, t0
            {body}
              j finish
            .balign 4                   # mtvec needs a 4-byte aligned base
            trap:
              csrr s10, mcause
              csrr s11, mtval
            finish:
              li t0, 0x100000
              li t1, 0x5555
              sw t1, 0(t0)
            1: j 1b
            .balign 8
            scratch: .dword 0, 0
            """);
        var gcc = ExternalTools.Require(ExternalTools.Gcc);
        var r = ExternalTools.Run(gcc, ["-nostdlib", "-march=rv64gc", "-mabi=lp64d", "-Wl,-Ttext=0x80000000", "-Wl,--nmagic",
            "-Wl,--no-warn-rwx-segments", "-o", elf, source], TimeSpan.FromSeconds(60));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var machine = new Machine(new MachineConfig(), NoInput.Instance, _ => { });
        machine.LoadElf(ElfImage.Parse(File.ReadAllBytes(elf)));
        var result = machine.Run(100_000);
        Assert.Equal(StopReason.GuestExit, result.Reason);
        Directory.Delete(dir, recursive: true);
        return machine;
    }

    private const string EnableFpu = "  li t0, 0x6000\n  csrs mstatus, t0\n";

    [Fact]
    public void Misa_announces_F_and_D_like_qemu() =>
        Assert.Equal(0x8000_0000_0014_112DUL, Run("  nop").Hart.ReadCsr(0x301));

    [Fact]
    public void With_FS_off_an_FP_instruction_is_illegal()
    {
        var m = Run("  fadd.s f1, f2, f3");
        Assert.Equal(2UL, m.Hart.GetX(Mcause));
        Assert.Equal(0x003170D3UL, m.Hart.GetX(Mtval)); // the instruction's bits
        Assert.Equal(0UL, m.Hart.ReadCsr(0x300) & (3UL << 13));
    }

    [Fact]
    public void With_FS_off_fcsr_is_inaccessible() =>
        Assert.Equal(2UL, Run("  csrr a0, fflags").Hart.GetX(Mcause));

    [Fact]
    public void Writing_an_FP_register_makes_FS_dirty_and_sets_SD()
    {
        var m = Run("  li t0, 0x2000\n  csrs mstatus, t0\n  csrr a0, mstatus\n  fmv.d.x f1, zero\n  csrr a1, mstatus\n  csrr a2, sstatus");
        Assert.Equal(-1L, (long)m.Hart.GetX(Mcause));
        Assert.Equal(1UL << 13, m.Hart.GetX(10) & (3UL << 13 | 1UL << 63)); // Initial, SD clear
        Assert.Equal(3UL << 13 | 1UL << 63, m.Hart.GetX(11) & (3UL << 13 | 1UL << 63));
        Assert.Equal(3UL << 13 | 1UL << 63, m.Hart.GetX(12) & (3UL << 13 | 1UL << 63));
    }

    [Fact]
    public void Dynamic_rounding_with_a_reserved_frm_is_illegal()
    {
        var m = Run(EnableFpu + "  fsrmi 5\n  fadd.d f1, f2, f3, dyn");
        Assert.Equal(2UL, m.Hart.GetX(Mcause));
        Assert.Equal(5u, m.Hart.Fcsr >> 5);
    }

    [Fact]
    public void A_reserved_static_rounding_mode_is_illegal() =>
        // fadd.d f1, f2, f3 with rm = 6
        Assert.Equal(2UL, Run(EnableFpu + "  .word 0x023160D3").Hart.GetX(Mcause));

    [Fact]
    public void Fcsr_fields_and_accrued_flags()
    {
        var m = Run(EnableFpu + "  li t0, 0x60\n  csrw fcsr, t0\n  fmv.w.x f1, zero\n  fdiv.s f2, f1, f1\n  csrr a0, fflags\n  csrr a1, frm");
        Assert.Equal(0x10UL, m.Hart.GetX(10)); // 0/0: NV
        Assert.Equal(3UL, m.Hart.GetX(11));
        Assert.Equal(0x70u, m.Hart.Fcsr);
        Assert.Equal(0xFFFF_FFFF_7FC0_0000UL, m.Hart.GetF(2));
    }

    [Fact]
    public void Single_operands_that_are_not_NaN_boxed_read_as_the_canonical_NaN()
    {
        var m = Run(EnableFpu + "  li t0, 0x3f800000\n  fmv.d.x f1, t0\n  fadd.s f2, f1, f1\n  fsgnjn.s f3, f1, f1\n  fmv.x.w a0, f1\n  fclass.s a1, f1");
        Assert.Equal(0xFFFF_FFFF_7FC0_0000UL, m.Hart.GetF(2));
        Assert.Equal(0xFFFF_FFFF_FFC0_0000UL, m.Hart.GetF(3)); // sign injection works on the canonical NaN
        Assert.Equal(0x3F80_0000UL, m.Hart.GetX(10));          // moves take the raw low bits
        Assert.Equal(1UL << 9, m.Hart.GetX(11));
        Assert.Equal(0u, m.Hart.Fcsr);                         // a quiet NaN raises nothing
    }

    [Fact]
    public void Compressed_stack_pointer_loads_and_stores_move_raw_bits()
    {
        var m = Run(EnableFpu + "  la sp, scratch\n  li t0, 0x123456789abcdef0\n  fmv.d.x f9, t0\n  c.fsdsp f9, 8(sp)\n  c.fldsp f20, 8(sp)\n  flw f21, 8(sp)\n  fsw f21, 0(sp)\n  ld a0, 0(sp)");
        Assert.Equal(0x1234_5678_9ABC_DEF0UL, m.Hart.GetF(20));
        Assert.Equal(0xFFFF_FFFF_9ABC_DEF0UL, m.Hart.GetF(21)); // FLW NaN-boxes
        Assert.Equal(0x9ABC_DEF0UL, m.Hart.GetX(10) & 0xFFFF_FFFF);
    }

    [Fact]
    public void Debugger_accessors_reach_the_registers()
    {
        var m = Run("  nop");
        m.Hart.SetF(31, 0xDEAD);
        Assert.Equal(0xDEADUL, m.Hart.GetF(31));
        Assert.Equal(0UL, m.Hart.GetF(32));
    }
}
