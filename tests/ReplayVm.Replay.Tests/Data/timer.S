/*
 * Test guest for breakpoints at interrupted instructions: a six-instruction loop that the CLINT's
 * machine timer interrupts every 1300 steps (13 ticks of the 10 MHz timebase at 1 ns per step),
 * minus the handler's five, so the interrupt is taken in front of each loop instruction in turn.
 * It never ends: record it with an instruction limit.
 * Built at test time: riscv64-unknown-elf-gcc -nostdlib -Wl,-Ttext=0x80000000.
 */
    .equ MTIMECMP, 0x02004000   /* CLINT: hart 0's mtimecmp */
    .equ MTIME, 0x0200bff8      /* CLINT: mtime */

    .section .text
    .globl _start
_start:
    la      t0, handler
    csrw    mtvec, t0           /* direct mode: every trap enters at handler */
    li      s0, MTIMECMP
    li      s1, MTIME
    ld      t0, 0(s1)
    addi    t0, t0, 7
    sd      t0, 0(s0)
    li      t0, 0x80            /* mie.MTIE */
    csrw    mie, t0
    csrsi   mstatus, 8          /* mstatus.MIE */
    .globl loop
loop:
    addi    s2, s2, 1
    addi    s3, s3, 3
    xor     s4, s4, s2
    slli    s5, s2, 2
    add     s6, s6, s5
    j       loop

    .globl handler
    .balign 4
handler:
    ld      t0, 0(s0)
    addi    t0, t0, 13
    sd      t0, 0(s0)
    addi    s7, s7, 1
    mret
