/*
 * Test guest for record/replay: echoes UART input, answers 't' with a letter derived from the
 * Goldfish RTC (a wall-clock read, so recorded input), and exits through the sifive_test finisher
 * on 'q'. s3 counts polling iterations; each byte is stored in RAM with the count at its arrival.
 * Built at test time: riscv64-unknown-elf-gcc -nostdlib -Wl,-Ttext=0x80000000.
 */
    .equ UART, 0x10000000       /* NS16550A: RBR/THR at 0, LSR at 5 (bit 0 = data ready) */
    .equ FINISHER, 0x00100000   /* sifive_test: 0x5555 = pass */
    .equ RTC, 0x00101000        /* Goldfish RTC: TIME_LOW at 0 */

    .section .text
    .globl _start
_start:
    li      s0, UART
    li      s1, FINISHER
    li      s2, RTC
    li      s3, 0
    la      s4, buffer
poll:
    addi    s3, s3, 1
    lbu     t0, 5(s0)
    andi    t0, t0, 1
    beqz    t0, poll
    lbu     t1, 0(s0)
    sb      t1, 0(s4)           /* keep a history in RAM: the byte and the poll count when it came, */
    sb      s3, 1(s4)           /* so the state depends on when each byte arrived, not only on which */
    addi    s4, s4, 2
    li      t2, 'q'
    beq     t1, t2, done
    li      t2, 't'
    bne     t1, t2, echo
    lw      t3, 0(s2)
    andi    t3, t3, 15
    addi    t1, t3, 'A'
echo:
    sb      t1, 0(s0)
    j       poll
done:
    li      t0, 0x5555
    sw      t0, 0(s1)
1:  j       1b

    .section .data
buffer:
    .space 4096
