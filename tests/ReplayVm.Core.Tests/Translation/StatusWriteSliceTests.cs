using ReplayVm.Core.Hart;
using ReplayVm.Core.Translation;

namespace ReplayVm.Core.Tests.Translation;

/// <summary>
/// CSR writes that cannot make an interrupt deliverable (clearing mstatus.MIE, setting it with
/// nothing pending, the scratch and epc registers) leave the slice running; one that enables a
/// pending interrupt must still end it,
/// so that the interrupt is taken right after the enabling instruction (privileged spec 3.1.9),
/// whatever the slices and the engine.
/// </summary>
public sealed class StatusWriteSliceTests
{
    private const int Rounds = 20;

    private static readonly Lazy<byte[]> Program = new(() => EngineComparison.Assemble($$"""
        .option norvc
        .globl _start
        _start:
          la t0, handler
          csrw mtvec, t0
          li t0, 8              # MSIE
          csrw mie, t0
          li s0, 0              # rounds
          li s5, 0              # interrupts taken anywhere but right after the enabling write
          li s6, 0              # interrupts taken
        round:
          li t0, 0x2000000      # CLINT msip: a machine software interrupt pending, masked by MIE = 0
          li t1, 1
          sw t1, 0(t0)
          csrci mstatus, 8      # MIE stays clear: nothing to take
          csrw mscratch, s0
          addi s1, s1, 1
          csrsi mstatus, 8      # enables it: taken before the next instruction
        expected:
          addi s1, s1, 100
          csrci mstatus, 8
          addi s0, s0, 1
          li t0, {{Rounds}}
          blt s0, t0, round
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        1: j 1b

        .balign 4
        handler:
          addi s6, s6, 1
          csrr t2, mepc
          la t3, expected
          beq t2, t3, 2f
          addi s5, s5, 1
        2:
          li t0, 0x2000000
          sw zero, 0(t0)        # msip cleared
          mret
        """));

    [Fact]
    public void Enabling_a_pending_interrupt_takes_it_at_once_and_masking_writes_keep_the_slice()
    {
        foreach (var slices in new[] { new ulong[] { 1, 7, 333, 4096, 13 }, new ulong[] { 10_000_000 } })
        {
            var (reference, translated) = EngineComparison.RunBoth(Program.Value, slices);
            foreach (var m in new[] { reference, translated })
            {
                Assert.Equal((ulong)Rounds, m.Hart.GetX(22)); // s6
                Assert.Equal(0UL, m.Hart.GetX(21));           // s5
            }
        }
    }
    /// <summary>Sets MIE with MSIE enabled but nothing pending, then runs on: nothing can be taken, so
    /// the slice need not end (Linux unmasks interrupts after every irq-saving lock).</summary>
    private static readonly Lazy<byte[]> UnmaskWithNothingPending = new(() => EngineComparison.Assemble("""
        .option norvc
        .globl _start
        _start:
          li t0, 8              # MSIE enabled, nothing pending
          csrw mie, t0
          csrsi mstatus, 8      # MIE set: nothing to take
          csrci mstatus, 8
          csrs mstatus, t0      # again, by register
        1: addi s1, s1, 1
          j 1b
        """));

    [Fact]
    public void Enabling_interrupts_with_none_pending_keeps_the_slice()
    {
        foreach (var engine in new[] { ExecutionEngine.Interpreter, ExecutionEngine.Translator })
        {
            var machine = EngineComparison.Boot(engine, UnmaskWithNothingPending.Value);
            while (machine.Hart.Pc != 0x8000_0008) machine.Run(1); // through the reset ROM and the mie write
            ulong start = machine.Hart.Steps;
            machine.Hart.RunSlice(start + 1000);
            Assert.True(machine.Hart.Steps == start + 1000, $"{engine}: the slice ended {machine.Hart.Steps - start} steps in, at pc 0x{machine.Hart.Pc:x}");
            Assert.Equal(Mstatus.Mie, machine.Hart.ReadCsr(0x300) & Mstatus.Mie);
        }
    }

    /// <summary>With an interrupt enabled in mie but none pending: SUM, MXR and FS toggled (Linux, around
    /// every access to user memory and at every trap), fcsr, mie and a far stimecmp written. None can
    /// make an interrupt deliverable, so none ends the slice.</summary>
    private static readonly Lazy<byte[]> NeutralWrites = new(() => EngineComparison.Assemble("""
        .option norvc
        .globl _start
        _start:
          li t0, 1
          slli t0, t0, 63
          csrs 0x30a, t0        # menvcfg.STCE: stimecmp drives STIP
          li t0, -1
          csrw 0x14d, t0        # stimecmp: never
          li t0, 0x28           # MSIE and STIE enabled, nothing pending
          csrsi mstatus, 8      # MIE
        1:
          csrw mie, t0
          li t1, 0xc0000        # SUM and MXR
          csrs mstatus, t1
          csrc mstatus, t1
          li t1, 0x2000         # FS = Initial
          csrs mstatus, t1
          csrw fcsr, zero
          csrc mstatus, t1
          li t1, 0x7fffffff
          csrw 0x14d, t1        # stimecmp far ahead
          csrw sie, zero
          addi s1, s1, 1
          j 1b
        """));

    [Fact]
    public void Writes_that_make_nothing_deliverable_keep_the_slice()
    {
        foreach (var engine in new[] { ExecutionEngine.Interpreter, ExecutionEngine.Translator })
        {
            var machine = EngineComparison.Boot(engine, NeutralWrites.Value);
            while (machine.Hart.Pc != 0x8000_001c) machine.Run(1); // through the reset ROM and the set-up, to the loop
            ulong start = machine.Hart.Steps;
            machine.Hart.RunSlice(start + 1000);
            Assert.True(machine.Hart.Steps == start + 1000, $"{engine}: the slice ended {machine.Hart.Steps - start} steps in, at pc 0x{machine.Hart.Pc:x}");
            Assert.True(machine.Hart.GetX(9) > 50, $"{engine}: {machine.Hart.GetX(9)} rounds"); // s1
        }
    }

    /// <summary>Sets stimecmp a few ticks ahead with STIP enabled, then counts until the timer interrupt:
    /// the write keeps the slice, but the slice must not run past the new deadline, so the count is the
    /// same whatever the slices (one step at a time, the machine looks before every step) and the engine.</summary>
    private static readonly Lazy<byte[]> TimerCompareAhead = new(() => EngineComparison.Assemble("""
        .option norvc
        .globl _start
        _start:
          la t0, handler
          csrw mtvec, t0
          li t0, 1
          slli t0, t0, 63
          csrs 0x30a, t0        # menvcfg.STCE
          li t0, 0x20           # STIE: an M-level interrupt while not delegated
          csrw mie, t0
          csrsi mstatus, 8      # MIE
          li s1, 0
          csrr t0, time
          addi t0, t0, 7        # 7 ticks (700 steps) ahead
          csrw 0x14d, t0
        1: addi s1, s1, 1
          j 1b

        .balign 4
        handler:
          mv s7, s1
          li t0, 0x100000
          li t1, 0x5555
          sw t1, 0(t0)
        2: j 2b
        """));

    [Fact]
    public void A_timer_compare_written_mid_slice_bounds_it()
    {
        ulong? expected = null;
        foreach (var slices in new[] { new ulong[] { 1 }, new ulong[] { 10_000_000 }, new ulong[] { 7, 333, 4096, 13 } })
        {
            var (reference, translated) = EngineComparison.RunBoth(TimerCompareAhead.Value, slices);
            foreach (var m in new[] { reference, translated })
            {
                ulong rounds = m.Hart.GetX(23); // s7
                Assert.True(rounds > 100, $"{rounds} rounds before the interrupt");
                expected ??= rounds;
                Assert.Equal(expected, rounds);
            }
        }
    }
}
