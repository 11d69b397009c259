/*
 * Two user programs. Each is copied into its own code page mapped at USER_BASE (0x40_0000) in
 * its own address space, so it must be position independent: only pc-relative `la` and the
 * stack (USER_BASE + 0x2000, top of its stack page). System calls use the Linux RISC-V numbers
 * in a7, arguments in a0..a2, result in a0.
 */
#define SYS_write       64
#define SYS_exit        93
#define SYS_sched_yield 124
#define SYS_getpid      172
#define EFAULT          14
#define KERNEL_ADDRESS  0x80000000

    .section .text.user, "ax", @progbits
    /* No linker relaxation: it could rewrite `la` as gp-relative, which means nothing in U. */
    .option norelax

/* Builds "X: running as pid N\n" on the stack (a dirty stack page) and writes it. */
.macro SAY_PID template
    li      a7, SYS_getpid
    ecall
    mv      s0, a0
    addi    sp, sp, -32
    la      a0, \template
    mv      a1, sp
    li      a2, 20
1:  lbu     t0, 0(a0)
    sb      t0, 0(a1)
    addi    a0, a0, 1
    addi    a1, a1, 1
    addi    a2, a2, -1
    bnez    a2, 1b
    addi    t0, s0, '0'
    sb      t0, 18(sp)          /* the '?' in the template */
    mv      a0, sp
    li      a1, 20
    li      a7, SYS_write
    ecall
.endm

.macro WRITE label, length
    la      a0, \label
    li      a1, \length
    li      a7, SYS_write
    ecall
.endm

/* Program A: says hello, pings three times yielding in between, probes write() with a kernel
 * pointer (must get -EFAULT), exits with 40 + pid. */
    .globl user_a_start, user_a_end
    .balign 8
user_a_start:
    SAY_PID a_template
    li      s1, 3
2:  WRITE   a_ping, 8
    li      a7, SYS_sched_yield
    ecall
    addi    s1, s1, -1
    bnez    s1, 2b
    li      a0, KERNEL_ADDRESS
    li      a1, 8
    li      a7, SYS_write
    ecall
    li      t0, -EFAULT
    bne     a0, t0, 3f
    WRITE   a_refused, 35
    j       4f
3:  WRITE   a_accepted, 40
4:  addi    a0, s0, 40
    li      a7, SYS_exit
    ecall
5:  j       5b
a_template: .ascii "A: running as pid ?\n"
a_ping:     .ascii "A: ping\n"
a_refused:  .ascii "A: write(kernel pointer) -> EFAULT\n"
a_accepted: .ascii "A: FAIL: write(kernel pointer) accepted\n"
    .balign 8
user_a_end:

/* Program B: says hello, pongs twice yielding in between, then reads kernel memory, which
 * must page-fault (U=0 page) and get it killed before the next line. */
    .globl user_b_start, user_b_end
    .balign 8
user_b_start:
    SAY_PID b_template
    li      s1, 2
2:  WRITE   b_pong, 8
    li      a7, SYS_sched_yield
    ecall
    addi    s1, s1, -1
    bnez    s1, 2b
    li      t0, KERNEL_ADDRESS
    ld      t1, 0(t0)
    WRITE   b_survived, 35
    li      a0, 1
    li      a7, SYS_exit
    ecall
3:  j       3b
b_template: .ascii "B: running as pid ?\n"
b_pong:     .ascii "B: pong\n"
b_survived: .ascii "B: FAIL: read kernel memory from U\n"
    .balign 8
user_b_end:
