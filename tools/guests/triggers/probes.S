/*
 * Leaf functions for the trigger tests. Every instruction a trigger is aimed at has a global
 * label, so the C side can point tdata2 at it and print mepc relative to it. The test's handler
 * resumes a breakpoint exception after the instruction that raised it (mepc + its length).
 */
    .option arch, +d        /* fld/fsd, to check that FP accesses meet data triggers too */

    .text
.macro PROBE name
    .globl \name
    .type \name, @function
    .balign 4
\name:
.endm
.macro MARK name
    .globl \name
\name:
.endm

/* a0 -> a0 + 1 + 2 + 4: each addi skipped by an execute trigger leaves its bit out. */
PROBE probe_exec
    .option push
    .option norvc
MARK exec_first
    addi    a0, a0, 1
MARK exec_second
    addi    a0, a0, 2
MARK exec_third
    addi    a0, a0, 4
    .option pop
    ret

/* The same with 16-bit instructions, so a trigger can sit on a 2-byte boundary. */
PROBE probe_exec_c
MARK exec_c_first
    c.addi  a0, 1
MARK exec_c_second
    c.addi  a0, 2
MARK exec_c_third
    c.addi  a0, 4
    ret

/* Loads and stores, all 32-bit encodings: a0 = address, a1 = value to store. Loads return in a0;
   a trapped load leaves a0 alone, so the caller passes a sentinel in a0 via a1 = address. */
    .option push
    .option norvc
PROBE probe_lb
    lb      a0, 0(a1)
    ret
PROBE probe_lh
    lh      a0, 0(a1)
    ret
PROBE probe_lw
    lw      a0, 0(a1)
    ret
PROBE probe_ld
    ld      a0, 0(a1)
    ret
PROBE probe_sb
    sb      a1, 0(a0)
    ret
PROBE probe_sh
    sh      a1, 0(a0)
    ret
PROBE probe_sw
    sw      a1, 0(a0)
    ret
PROBE probe_sd
    sd      a1, 0(a0)
    ret
/* a0 = address, a1 = addend -> a0 = old value (unchanged a0 if trapped) */
PROBE probe_amoadd_d
    amoadd.d a0, a1, (a0)
    ret
/* a1 = address -> a0 = loaded (lr.d) */
PROBE probe_lr_d
    lr.d    a0, (a1)
    ret
/* a0 = address, a1 = value -> a0 = sc.d's result (0 = stored) after a fresh lr.d */
PROBE probe_lr_sc_d
    lr.d    t0, (a0)
MARK sc_instruction
    sc.d    a0, a1, (a0)
    ret
/* a1 = address -> a0 = raw bits of fld */
PROBE probe_fld
    fld     ft0, 0(a1)
    fmv.x.d a0, ft0
    ret
/* a0 = address, a1 = raw bits for fsd */
PROBE probe_fsd
    fmv.d.x ft0, a1
MARK fsd_instruction
    fsd     ft0, 0(a0)
    ret
    .option pop

/*
 * a0 = user-mode function, a1 = its argument. Drops to U-mode with mret (MPP = U, MPIE = 0);
 * the function ends with ecall, and the handler resumes M-mode at our return address.
 */
PROBE probe_enter_user
    csrw    mepc, a0
    mv      a0, a1
    li      t0, (3 << 11) | (1 << 7)
    csrc    mstatus, t0
    mret

/* U-mode: a0 = address to load from -> loads it into a0, then ecall back to M. */
    .option push
    .option norvc
PROBE user_load
MARK user_load_instruction
    ld      a0, 0(a0)
    ecall
1:  j       1b
    .option pop

/* U-mode: executes user_exec_target (a trigger may sit on it), a0 += 1, then ecall. */
PROBE user_exec
MARK user_exec_target
    addi    a0, a0, 1
    ecall
1:  j       1b
