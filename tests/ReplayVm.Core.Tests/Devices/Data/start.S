  .section .text.start, "ax"
  .globl _start
_start:
  la sp, stack_top
  call main
  # sifive_test: 0x5555 = pass
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b
