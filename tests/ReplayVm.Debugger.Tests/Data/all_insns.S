# Every RV64GC instruction form (RV64IMAFD, C, Zicsr, Zifencei, privileged), for the objdump
# comparison test (DisassemblerObjdumpTests). Assembled with -march=rv64gc -mabi=lp64d.
# The first part disables compression so every 32-bit form is kept as written.

    .text
    .globl _start
_start:
    .option push
    .option norvc

# --- RV64I: upper immediates, jumps, branches -----------------------------------------------
    lui     a0, 0x12345
    lui     t6, 0xfffff
    auipc   a1, 0
    auipc   s11, 0x80000
    jal     ra, fwd
    jal     zero, back
    jal     t0, fwd
back:
    jalr    ra, 0(a0)
    jalr    zero, 0(ra)
    jalr    zero, 0(t1)
    jalr    zero, 12(t1)
    jalr    ra, -8(a5)
    jalr    a2, 0(a0)
    jalr    s3, 2047(s4)
    beq     a0, a1, back
    bne     a2, a3, fwd
    blt     a4, a5, back
    bge     a6, a7, fwd
    bltu    s2, s3, back
    bgeu    s4, s5, fwd
    beq     a0, zero, back
    bne     a0, zero, fwd
    blt     a0, zero, back
    blt     zero, a0, fwd
    bge     a0, zero, back
    bge     zero, a0, fwd
    bge     zero, zero, fwd
fwd:
# --- loads and stores ---------------------------------------------------------------------------
    lb      a0, 0(a1)
    lh      a0, -1(a1)
    lw      a0, 2047(sp)
    ld      a0, -2048(s0)
    lbu     t0, 7(t1)
    lhu     t2, 8(t3)
    lwu     t4, 16(t5)
    sb      a0, 0(a1)
    sh      a2, -2(a3)
    sw      a4, 2044(sp)
    sd      a5, -2048(s1)
# --- register-immediate ALU, with objdump's aliases -------------------------------------------
    addi    zero, zero, 0
    addi    a0, zero, 42
    addi    a0, zero, -2048
    addi    zero, zero, 5
    addi    a0, a1, 0
    addi    a0, a1, -1
    slti    a0, a1, -7
    sltiu   a0, a1, 1
    sltiu   a0, a1, 100
    xori    a0, a1, -1
    xori    a0, a1, 0x55
    ori     a0, a1, 0x7ff
    andi    a0, a1, 0xff
    andi    a0, a1, 0x0f
    slli    a0, a1, 1
    slli    a0, a1, 63
    srli    a0, a1, 32
    srai    a0, a1, 63
    addiw   a0, a1, 0
    addiw   a0, a1, -5
    slliw   a0, a1, 31
    srliw   a0, a1, 1
    sraiw   a0, a1, 17
# --- register-register ALU --------------------------------------------------------------------
    add     a0, a1, a2
    add     zero, zero, zero
    add     a0, zero, a2
    sub     a0, a1, a2
    sub     a0, zero, a2
    sll     a0, a1, a2
    slt     a0, a1, a2
    slt     a0, a1, zero
    slt     a0, zero, a2
    sltu    a0, a1, a2
    sltu    a0, zero, a2
    sltu    a0, a1, zero
    xor     a0, a1, a2
    srl     a0, a1, a2
    sra     a0, a1, a2
    or      a0, a1, a2
    and     a0, a1, a2
    addw    a0, a1, a2
    subw    a0, a1, a2
    subw    a0, zero, a2
    sllw    a0, a1, a2
    srlw    a0, a1, a2
    sraw    a0, a1, a2
# --- M ------------------------------------------------------------------------------------------
    mul     a0, a1, a2
    mulh    a0, a1, a2
    mulhsu  a0, a1, a2
    mulhu   a0, a1, a2
    div     a0, a1, a2
    divu    a0, a1, a2
    rem     a0, a1, a2
    remu    a0, a1, a2
    mulw    a0, a1, a2
    divw    a0, a1, a2
    divuw   a0, a1, a2
    remw    a0, a1, a2
    remuw   a0, a1, a2
# --- A ------------------------------------------------------------------------------------------
    lr.w        a0, (a1)
    lr.w.aq     a0, (a1)
    lr.d.aqrl   a0, (a1)
    sc.w        a0, a2, (a1)
    sc.d.rl     a0, a2, (a1)
    amoswap.w   a0, a2, (a1)
    amoadd.w.aq a0, a2, (a1)
    amoxor.w.rl a0, a2, (a1)
    amoand.w    a0, a2, (a1)
    amoor.w     a0, a2, (a1)
    amomin.w    a0, a2, (a1)
    amomax.w    a0, a2, (a1)
    amominu.w   a0, a2, (a1)
    amomaxu.w   a0, a2, (a1)
    amoswap.d   a0, a2, (a1)
    amoadd.d    a0, a2, (a1)
    amoxor.d    a0, a2, (a1)
    amoand.d.aqrl a0, a2, (a1)
    amoor.d     a0, a2, (a1)
    amomin.d    a0, a2, (a1)
    amomax.d    a0, a2, (a1)
    amominu.d   a0, a2, (a1)
    amomaxu.d   a0, a2, (a1)
# --- F and D --------------------------------------------------------------------------------------
    flw     fa0, 4(a0)
    fsw     fa1, -4(sp)
    fld     fs0, 8(a0)
    fsd     ft11, 2040(sp)
    fadd.s  fa0, fa1, fa2
    fadd.s  fa0, fa1, fa2, rne
    fsub.s  fa0, fa1, fa2, rtz
    fmul.s  fa0, fa1, fa2, rdn
    fdiv.s  fa0, fa1, fa2, rup
    fsqrt.s fa0, fa1, rmm
    fadd.d  fa0, fa1, fa2
    fadd.d  fa0, fa1, fa2, rtz
    fsub.d  ft0, ft1, ft2
    fmul.d  fs0, fs1, fs2
    fdiv.d  fa0, fa1, fa2
    fsqrt.d fa0, fa1
    fmadd.s  fa0, fa1, fa2, fa3
    fmsub.s  fa0, fa1, fa2, fa3, rne
    fnmsub.s fa0, fa1, fa2, fa3
    fnmadd.s fa0, fa1, fa2, fa3
    fmadd.d  fa0, fa1, fa2, fa3
    fmsub.d  fa0, fa1, fa2, fa3
    fnmsub.d fa0, fa1, fa2, fa3, rup
    fnmadd.d fa0, fa1, fa2, fa3
    fsgnj.s  fa0, fa1, fa2
    fsgnjn.s fa0, fa1, fa2
    fsgnjx.s fa0, fa1, fa2
    fmv.s    fa0, fa1
    fneg.s   fa0, fa1
    fabs.s   fa0, fa1
    fsgnj.d  fa0, fa1, fa2
    fsgnjn.d fa0, fa1, fa2
    fsgnjx.d fa0, fa1, fa2
    fmv.d    fa0, fa1
    fneg.d   fa0, fa1
    fabs.d   fa0, fa1
    fmin.s   fa0, fa1, fa2
    fmax.s   fa0, fa1, fa2
    fmin.d   fa0, fa1, fa2
    fmax.d   fa0, fa1, fa2
    feq.s    a0, fa1, fa2
    flt.s    a0, fa1, fa2
    fle.s    a0, fa1, fa2
    feq.d    a0, fa1, fa2
    flt.d    a0, fa1, fa2
    fle.d    a0, fa1, fa2
    fclass.s a0, fa1
    fclass.d a0, fa1
    fmv.x.w  a0, fa1
    fmv.w.x  fa0, a1
    fmv.x.d  a0, fa1
    fmv.d.x  fa0, a1
    fcvt.w.s  a0, fa0
    fcvt.w.s  a0, fa0, rtz
    fcvt.wu.s a0, fa0
    fcvt.l.s  a0, fa0, rdn
    fcvt.lu.s a0, fa0
    fcvt.s.w  fa0, a0
    fcvt.s.wu fa0, a0, rne
    fcvt.s.l  fa0, a0
    fcvt.s.lu fa0, a0
    fcvt.w.d  a0, fa0, rtz
    fcvt.wu.d a0, fa0
    fcvt.l.d  a0, fa0
    fcvt.lu.d a0, fa0, rmm
    fcvt.d.w  fa0, a0
    fcvt.d.wu fa0, a0
    fcvt.d.l  fa0, a0
    fcvt.d.lu fa0, a0, rup
    fcvt.s.d  fa0, fa1
    fcvt.s.d  fa0, fa1, rtz
    fcvt.d.s  fa0, fa1
# --- Zicsr, with CSR names and pseudo-instructions ------------------------------------------------
    csrrw   a0, mstatus, a1
    csrrs   a0, mtvec, a1
    csrrc   a0, mie, a1
    csrrwi  a0, mscratch, 5
    csrrsi  a0, mepc, 31
    csrrci  a0, mcause, 1
    csrr    a0, mhartid
    csrr    t0, satp
    csrw    sepc, a0
    csrs    sstatus, a0
    csrc    sie, a0
    csrwi   mtvec, 4
    csrsi   mstatus, 8
    csrci   mstatus, 8
    csrr    a0, 0x7c0
    csrw    0x7c1, a0
    csrr    a0, pmpaddr63
    csrr    a0, mhpmcounter31
    csrr    a0, cycle
    csrr    a0, time
    csrr    a0, instret
    frflags a0
    fsflags a0, a1
    fsflags a1
    fsflagsi a0, 3
    fsflagsi 7
    frrm    a0
    fsrm    a0, a1
    fsrmi   a0, 2
    frcsr   a0
    fscsr   a0, a1
    fscsr   a1
# --- fences, Zifencei, system and privileged --------------------------------------------------------
    fence
    fence   rw, rw
    fence   r, w
    fence   iorw, o
    fence.tso
    fence.i
    ecall
    ebreak
    mret
    sret
    wfi
    sfence.vma
    sfence.vma a0
    sfence.vma a0, a1
    .option pop

# --- C: each compressed form written explicitly ------------------------------------------------------
    .option push
    .option rvc
cstart:
    c.addi4spn  a0, sp, 16
    c.addi4spn  s1, sp, 1020
    c.fld       fa0, 8(a1)
    c.lw        a0, 4(a1)
    c.lw        s0, 124(a5)
    c.ld        a0, 248(a1)
    c.fsd       fs1, 0(s0)
    c.sw        a0, 64(a1)
    c.sd        a0, 8(a1)
    c.nop
    c.addi      a0, 1
    c.addi      sp, -32
    c.addiw     a0, -1
    c.addiw     a0, 0
    c.li        a0, 31
    c.li        t6, -32
    c.addi16sp  sp, -512
    c.addi16sp  sp, 496
    c.lui       a0, 1
    c.lui       s11, 0xfffff
    c.srli      a0, 1
    c.srli      s1, 63
    c.srai      a0, 3
    c.andi      a0, -1
    c.andi      a5, 15
    c.sub       a0, a1
    c.xor       a0, a1
    c.or        a0, a1
    c.and       a0, a1
    c.subw      a0, a1
    c.addw      a0, a1
    c.j         cstart
    c.beqz      a0, cstart
    c.bnez      s1, cend
    c.slli      a0, 1
    c.slli      t6, 63
    c.fldsp     fa0, 8(sp)
    c.lwsp      a0, 252(sp)
    c.ldsp      ra, 504(sp)
    c.jr        a0
    c.jr        ra
    c.mv        a0, a1
    c.ebreak
    c.jalr      a0
    c.add       a0, a1
    c.fsdsp     fa0, 8(sp)
    c.swsp      a0, 252(sp)
    c.sdsp      ra, 504(sp)
    c.unimp
# HINT encodings objdump names with a c. prefix.
    .insn 2, 0x0005     # c.nop 1
    .insn 2, 0x4001     # c.li zero,0
    .insn 2, 0x6005     # c.lui zero,0x1
    .insn 2, 0x800e     # c.mv zero,gp
    .insn 2, 0x900e     # c.add zero,gp
    .insn 2, 0x000a     # c.slli zero,0x2
    .insn 2, 0x0502     # c.slli64 a0
    .insn 2, 0x8101     # c.srli64 a0
    .insn 2, 0x8501     # c.srai64 a0
cend:
# Reserved or unknown encodings: objdump prints raw parcels.
    .insn 2, 0x8002     # c.jr zero (reserved)
    .insn 2, 0x9d41     # reserved CA encoding
    .insn 4, 0x0000000b # custom-0
    .insn 4, 0xffffffab # custom-2 (rv128) space
    .option pop
