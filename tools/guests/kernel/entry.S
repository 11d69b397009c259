/*
 * Reset entry, trap entries and fault probes of the `kernel` guest.
 *
 * _start runs in M-mode straight from reset (QEMU -bios none) with a0 = hart id, a1 = device
 * tree. Unlike common/start.S it programs PMP first, before any trap vector exists, the way a
 * firmware must: with no PMP entry, S- and U-mode have no access to memory at all (privileged
 * spec 3.7.1), so the later mret into S-mode would fault on its first fetch.
 */
#define FRAME_SIZE   (36 * 8)
#define OFF_EPC      (32 * 8)
#define OFF_STATUS   (33 * 8)
#define OFF_CAUSE    (34 * 8)
#define OFF_TVAL     (35 * 8)
#define SSTATUS_SPP  (1 << 8)

/* pmpcfg field for entry 0: R | W | X | A=NAPOT (privileged spec 3.7.1, figure 3.28). */
#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_NAPOT 0x18

    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop

    csrr    t0, mhartid
    bnez    t0, park

    /*
     * pmpaddr0 holds address bits 55:2; all ones in its 54 bits with NAPOT encodes the whole
     * 2^56-byte physical space. Write only the implemented bits so the read-back is the same on
     * every hart (QEMU 7.2 keeps whatever 64-bit value is written).
     */
    li      t0, (1 << 54) - 1
    csrw    pmpaddr0, t0
    li      t0, PMP_NAPOT | PMP_R | PMP_W | PMP_X
    csrw    pmpcfg0, t0

    mv      s0, a0          /* hart id and device tree survive the .bss clear */
    mv      s1, a1
    la      sp, __stack_top
    la      t0, __zero_start
    la      t1, __zero_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  la      tp, __tls_base
    mv      a0, s0
    mv      a1, s1
    call    m_main          /* never returns: it mrets into the S-mode kernel */
park:
    wfi
    j       park
    .size _start, . - _start

    .text
.macro SAVE_GPRS
    sd      ra, 1*8(sp)
    sd      gp, 3*8(sp)
    sd      tp, 4*8(sp)
    sd      t0, 5*8(sp)
    sd      t1, 6*8(sp)
    sd      t2, 7*8(sp)
    sd      s0, 8*8(sp)
    sd      s1, 9*8(sp)
    sd      a0, 10*8(sp)
    sd      a1, 11*8(sp)
    sd      a2, 12*8(sp)
    sd      a3, 13*8(sp)
    sd      a4, 14*8(sp)
    sd      a5, 15*8(sp)
    sd      a6, 16*8(sp)
    sd      a7, 17*8(sp)
    sd      s2, 18*8(sp)
    sd      s3, 19*8(sp)
    sd      s4, 20*8(sp)
    sd      s5, 21*8(sp)
    sd      s6, 22*8(sp)
    sd      s7, 23*8(sp)
    sd      s8, 24*8(sp)
    sd      s9, 25*8(sp)
    sd      s10, 26*8(sp)
    sd      s11, 27*8(sp)
    sd      t3, 28*8(sp)
    sd      t4, 29*8(sp)
    sd      t5, 30*8(sp)
    sd      t6, 31*8(sp)
.endm

/* Restores every register except sp (the frame base). */
.macro RESTORE_GPRS
    ld      ra, 1*8(sp)
    ld      gp, 3*8(sp)
    ld      tp, 4*8(sp)
    ld      t0, 5*8(sp)
    ld      t1, 6*8(sp)
    ld      t2, 7*8(sp)
    ld      s0, 8*8(sp)
    ld      s1, 9*8(sp)
    ld      a0, 10*8(sp)
    ld      a1, 11*8(sp)
    ld      a2, 12*8(sp)
    ld      a3, 13*8(sp)
    ld      a4, 14*8(sp)
    ld      a5, 15*8(sp)
    ld      a6, 16*8(sp)
    ld      a7, 17*8(sp)
    ld      s2, 18*8(sp)
    ld      s3, 19*8(sp)
    ld      s4, 20*8(sp)
    ld      s5, 21*8(sp)
    ld      s6, 22*8(sp)
    ld      s7, 23*8(sp)
    ld      s8, 24*8(sp)
    ld      s9, 25*8(sp)
    ld      s10, 26*8(sp)
    ld      s11, 27*8(sp)
    ld      t3, 28*8(sp)
    ld      t4, 29*8(sp)
    ld      t5, 30*8(sp)
    ld      t6, 31*8(sp)
.endm

/* Lower-privilege code may have any gp/tp; the C handlers need the kernel's. */
.macro LOAD_KERNEL_GP_TP
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      tp, __tls_base
.endm

/*
 * M-mode trap entry. mscratch always holds the top of the M stack while S or U code runs, so
 * the first instruction swaps it with the interrupted sp (privileged spec 3.1.13).
 */
    .globl m_trap_entry
    .balign 4
m_trap_entry:
    csrrw   sp, mscratch, sp
    addi    sp, sp, -FRAME_SIZE
    SAVE_GPRS
    csrr    t0, mscratch
    sd      t0, 2*8(sp)
    csrr    t0, mepc
    sd      t0, OFF_EPC(sp)
    csrr    t0, mstatus
    sd      t0, OFF_STATUS(sp)
    csrr    t0, mcause
    sd      t0, OFF_CAUSE(sp)
    csrr    t0, mtval
    sd      t0, OFF_TVAL(sp)
    LOAD_KERNEL_GP_TP
    mv      a0, sp
    call    m_trap
    ld      t0, OFF_EPC(sp)
    csrw    mepc, t0
    ld      t0, OFF_STATUS(sp)
    csrw    mstatus, t0
    RESTORE_GPRS
    addi    sp, sp, FRAME_SIZE
    csrrw   sp, mscratch, sp
    mret

/*
 * S-mode trap entry. sscratch is 0 while the kernel runs and holds the top of the kernel trap
 * stack while a user process runs, so one swap tells the two cases apart.
 */
    .globl s_trap_entry
    .balign 4
s_trap_entry:
    csrrw   sp, sscratch, sp
    bnez    sp, 1f
    csrrw   sp, sscratch, sp        /* from S: keep the kernel stack, sscratch back to 0 */
1:  addi    sp, sp, -FRAME_SIZE
    SAVE_GPRS
    csrr    t0, sscratch            /* user sp, or 0 when the trap came from S */
    bnez    t0, 2f
    addi    t0, sp, FRAME_SIZE
2:  sd      t0, 2*8(sp)
    csrw    sscratch, zero
    csrr    t0, sepc
    sd      t0, OFF_EPC(sp)
    csrr    t0, sstatus
    sd      t0, OFF_STATUS(sp)
    csrr    t0, scause
    sd      t0, OFF_CAUSE(sp)
    csrr    t0, stval
    sd      t0, OFF_TVAL(sp)
    LOAD_KERNEL_GP_TP
    mv      a0, sp
    call    s_trap
    mv      a0, sp
    /* fall through */

/*
 * s_return_to(frame): sret with the registers in `frame`. Returning to U-mode (SPP = 0) arms
 * sscratch with the address just above the frame, which is the top of the trap stack: user
 * frames always sit there (see proc.c).
 */
    .globl s_return_to
s_return_to:
    mv      sp, a0
    ld      t0, OFF_EPC(sp)
    csrw    sepc, t0
    ld      t0, OFF_STATUS(sp)
    csrw    sstatus, t0
    andi    t0, t0, SSTATUS_SPP
    bnez    t0, 3f
    addi    t0, sp, FRAME_SIZE
    csrw    sscratch, t0
3:  RESTORE_GPRS
    ld      sp, 2*8(sp)
    sret

/*
 * Probes: one 4-byte access each, so the S handler can skip a faulting one with sepc += 4 and
 * make it return PROBE_FAULTED.
 */
    .option push
    .option norvc
    .globl probe_load
    .balign 4
probe_load:
    ld      a0, 0(a0)
    ret

    .globl probe_store
    .balign 4
probe_store:
    sd      a1, 0(a0)
    ret
    .option pop
