# Reproducer (ReplayVm bug): an unlocked PMP entry that matches only PART of an M-mode access
# must make it fail (priv spec 3.7.1: "The matching PMP entry must match all bytes of an
# access, or the access fails, irrespective of the L, R, W, and X bits"). QEMU 7.2 raises a
# load access fault (prints "5"); ReplayVm skips PMP for M-mode while no entry is locked
# (Hart.TranslationChanged: _dataViaTlb = ... || Pmp.AnyLocked) and prints "0".
# Found by PagingDifferentialTests (seeds 1893089679, 1589114795: the M-mode dump ld of a data
# word whose upper half is an NA4 entry).
.option norvc
.section .text
.globl _start
_start:
  la t0, handler
  csrw mtvec, t0
  la t0, word
  addi t1, t0, 4
  srli t1, t1, 2
  csrw pmpaddr0, t1          # NA4 over word+4 .. word+7
  li t1, -1
  csrw pmpaddr15, t1         # catch-all NAPOT
  li t1, 0x17                # entry 0: NA4, RWX, unlocked
  csrw pmpcfg0, t1
  li t1, 0x1f00000000000000  # entry 15: NAPOT, RWX
  csrw pmpcfg2, t1
  li a1, 0
  ld t2, 0(t0)               # 8 bytes: only the upper 4 match entry 0 -> must fault
  li a4, 0x10000000
  addi a1, a1, 48            # a1 = mcause of the fault (0 if none)
  sb a1, 0(a4)
  li a1, 10
  sb a1, 0(a4)
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b
.balign 4
handler:
  csrr a1, mcause
  csrr t1, mepc
  addi t1, t1, 4
  csrw mepc, t1
  mret
.balign 8
word:
  .dword 0x1122334455667788
