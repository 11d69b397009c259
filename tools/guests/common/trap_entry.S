/*
 * Trap entry: saves every integer register into a struct trap_frame on the current stack,
 * calls trap_dispatch(frame), then restores mepc/mstatus from the (possibly edited) frame and
 * returns with mret. In vectored mode (privileged spec 3.1.7) interrupts land on
 * BASE + 4 * cause; each slot records its own index in x[0] of the frame so a test can tell
 * which slot was taken.
 */
#define FRAME_SIZE (36 * 8)
#define OFF_MEPC    (32 * 8)
#define OFF_MSTATUS (33 * 8)
#define OFF_MCAUSE  (34 * 8)
#define OFF_MTVAL   (35 * 8)

    .text
    .option norvc           /* every vector slot must be exactly one 4-byte jump */

    .globl trap_entry_direct
    .balign 4
trap_entry_direct:
    addi    sp, sp, -FRAME_SIZE
    sd      t0, 5*8(sp)
    li      t0, -1
    j       trap_common

.macro VECTOR_SLOT n
vector_slot_\n:
    addi    sp, sp, -FRAME_SIZE
    sd      t0, 5*8(sp)
    li      t0, \n
    j       trap_common
.endm

    VECTOR_SLOT 0
    VECTOR_SLOT 1
    VECTOR_SLOT 3
    VECTOR_SLOT 5
    VECTOR_SLOT 7
    VECTOR_SLOT 9
    VECTOR_SLOT 11
    VECTOR_SLOT 99

    /* Vectored mode needs a 4-byte aligned base; 256 leaves room for any stricter hart. */
    .globl trap_vector_table
    .balign 256
trap_vector_table:
    j vector_slot_0         /* 0: all exceptions */
    j vector_slot_1         /* 1: supervisor software interrupt */
    j vector_slot_99
    j vector_slot_3         /* 3: machine software interrupt */
    j vector_slot_99
    j vector_slot_5         /* 5: supervisor timer interrupt */
    j vector_slot_99
    j vector_slot_7         /* 7: machine timer interrupt */
    j vector_slot_99
    j vector_slot_9         /* 9: supervisor external interrupt */
    j vector_slot_99
    j vector_slot_11        /* 11: machine external interrupt */
    j vector_slot_99
    j vector_slot_99
    j vector_slot_99
    j vector_slot_99

trap_common:
    sd      t0, 0*8(sp)     /* vector index */
    sd      ra, 1*8(sp)
    sd      gp, 3*8(sp)
    sd      tp, 4*8(sp)
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
    addi    t0, sp, FRAME_SIZE
    sd      t0, 2*8(sp)     /* sp before the trap */
    csrr    t0, mepc
    sd      t0, OFF_MEPC(sp)
    csrr    t0, mstatus
    sd      t0, OFF_MSTATUS(sp)
    csrr    t0, mcause
    sd      t0, OFF_MCAUSE(sp)
    csrr    t0, mtval
    sd      t0, OFF_MTVAL(sp)

    mv      a0, sp
    call    trap_dispatch

    ld      t0, OFF_MEPC(sp)
    csrw    mepc, t0
    ld      t0, OFF_MSTATUS(sp)
    csrw    mstatus, t0
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
    addi    sp, sp, FRAME_SIZE
    mret
