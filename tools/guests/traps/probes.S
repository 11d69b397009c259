/*
 * Leaf functions that each raise one trap. The test's handler resumes an exception at the
 * probe's return address (ra), so every probe is "trigger; ret" with no stack frame, and the
 * reported mepc can be printed as an offset from the probe's start.
 */
#define MSTATUS_MIE  (1 << 3)
#define MSTATUS_MPIE (1 << 7)
#define MSTATUS_MPP  (3 << 11)

    .text
.macro PROBE name
    .globl \name
    .type \name, @function
    .balign 4
\name:
.endm

PROBE probe_ecall
    ecall
    ret

PROBE probe_ebreak
    .option push
    .option norvc           /* the 4-byte encoding; gas would otherwise emit c.ebreak */
    ebreak
    .option pop
    ret

PROBE probe_c_ebreak
    c.ebreak
    ret

PROBE probe_illegal_zero
    .word 0                 /* 0x0000 is reserved as illegal in both 16- and 32-bit space */
    ret

PROBE probe_write_readonly_csr
    /* csrrw to mvendorid (0xF11): CSR[11:10] = 0b11 marks it read-only (priv. spec 2.1). */
    csrrw   zero, 0xF11, a0
    ret

/* a0 = address: amoadd.w must be 4-byte aligned (A extension: misaligned AMOs may trap). */
PROBE probe_amoadd_w
    li      t0, 1
    amoadd.w a0, t0, (a0)
    ret

/* a0 = address -> a0 = 64-bit load */
PROBE probe_load_d
    ld      a0, 0(a0)
    ret

/* a0 = address -> a0 = 32-bit sign-extended load */
PROBE probe_load_w
    lw      a0, 0(a0)
    ret

/* a0 = address, a1 = value */
PROBE probe_store_d
    sd      a1, 0(a0)
    ret

/* a0 = target: jumps there with ra still pointing at our caller */
PROBE probe_jump
    jr      a0

/*
 * a0 = user-mode function. Drops to U-mode with mret (MPP = U); the function's ecall brings
 * the hart back to the handler, which resumes M-mode at our caller's return address.
 */
PROBE probe_enter_user
    csrw    mepc, a0
    /* MPP = U, and MPIE = 0 so the M-mode we come back to still has MIE = 0. */
    li      t0, MSTATUS_MPP | MSTATUS_MPIE
    csrc    mstatus, t0
    mret

PROBE user_mode_ecall
    ecall
1:  j       1b              /* not reached */

/*
 * mret with MPP = M and MPIE = 1, MIE = 0: must land on the label, still in M-mode, with
 * MIE <- MPIE, MPIE <- 1 and MPP <- least-privileged mode (priv. spec 3.1.6.1 / 3.3.2).
 * Returns mstatus as seen after mret; MIE is cleared again before returning.
 */
PROBE probe_mret_to_m
    li      t0, MSTATUS_MPP | MSTATUS_MPIE
    csrs    mstatus, t0
    li      t0, MSTATUS_MIE
    csrc    mstatus, t0
    la      t0, 1f
    csrw    mepc, t0
    mret
1:  csrr    a0, mstatus
    li      t0, MSTATUS_MIE
    csrc    mstatus, t0
    ret
