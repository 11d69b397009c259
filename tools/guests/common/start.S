/*
 * Reset entry for ReplayVm guests: runs in M-mode straight from reset (QEMU -bios none, Spike).
 * Sets up gp/sp/tp, zeroes .tbss/.bss, installs a catch-all trap vector, calls main and passes
 * its return value to exit(), which ends in the platform's _exit (finisher or HTIF).
 */
    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    /* gp must be set without relaxation: relaxation would express it relative to gp itself. */
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop

    /* Only hart 0 runs the program; any other hart parks (QEMU virt defaults to one hart). */
    csrr    t0, mhartid
    bnez    t0, park

    la      sp, __stack_top

    la      t0, __zero_start
    la      t1, __zero_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    la      tp, __tls_base

    /* Until a guest installs its own handler, any trap is reported and ends the run. */
    la      t0, trap_entry_direct
    csrw    mtvec, t0

    call    main
    call    exit            /* flushes stdio, runs atexit, then _exit(a0) */

park:
    wfi
    j       park
    .size _start, . - _start
