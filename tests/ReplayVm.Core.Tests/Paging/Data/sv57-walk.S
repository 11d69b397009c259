# Sv57 (privileged spec 4.5): five-level walks, petapages, and the faults only the fifth level
# and the 57-bit address width can give; QEMU 7.2's rv64 hart takes satp.MODE = 10 like ours.
# First, satp's WARL behaviour (4.1.11): Sv57 and Sv48 are accepted, Sv64 (11) and a reserved
# mode (1) leave satp unchanged. Then an S-mode body, every trap going to M (which logs mcause
# and mtval and skips the instruction), reads and writes through:
#   root[0] -> L3a[0] -> L2a[2]: the image's gigapage, identity (code, results, tables)
#   root[1]: petapage RW at physical 0: VA (1 << 48) + PA, canonical only with 57 bits
#   root[2]: petapage with PPN 1: misaligned, a page fault (4.3.2 step 6)
#   root[3]: petapage R only: a store page-faults, a load works
#   root[4]: petapage RX: fetch and return; a fetch through root[1] (no X) page-faults
#   root[511] -> L3b[510] -> L2b[509] -> L1b[508] -> L0b[507]: a 4 KiB page at a sign-extended
#     VA with A = D = 0 (the hardware sets them, as QEMU does); L0b[506] is a pointer at level 0
#   VA 1 << 56 and 0x8000_0000_8000_1000: not sign-extended from bit 56, page faults
# M then prints the results, the trap log and the PTEs the hardware updated, one hex line each.
.option norvc
.section .text
.globl _start
_start:
  la t0, m_trap
  csrw mtvec, t0
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f                 # entry 0: NAPOT over everything, RWX for S and U
  csrw pmpcfg0, t0
  la s1, results
  la s2, traplog

  # page tables (built here: their physical addresses come from the link)
  la a0, root
  la a1, l3a
  li a2, 0
  call set_pointer
  la a0, l3a
  la a1, l2a
  li a2, 0
  call set_pointer
  la a0, l2a                  # gigapage 0x8000_0000, RWX, A, D, G
  li a1, (0x80000000 >> 12 << 10) | 0xef
  sd a1, 16(a0)
  la a0, root                 # petapage RW at 0
  li a1, 0xc7
  sd a1, 8(a0)
  li a1, (1 << 10) | 0xc7     # PPN 1: misaligned petapage
  sd a1, 16(a0)
  li a1, 0x43                 # R only, A
  sd a1, 24(a0)
  li a1, 0x4b                 # R and X, A
  sd a1, 32(a0)
  la a0, root
  la a1, l3b
  li a2, 511
  call set_pointer
  la a0, l3b
  la a1, l2b
  li a2, 510
  call set_pointer
  la a0, l2b
  la a1, l1b
  li a2, 509
  call set_pointer
  la a0, l1b
  la a1, l0b
  li a2, 508
  call set_pointer
  la a0, l0b                  # leaf at level 0: data page, RW, A = D = 0
  la t0, datapage
  srli t0, t0, 12
  slli t0, t0, 10
  ori t0, t0, 0x7
  addi a0, a0, 2040           # slot 507 = 4056 bytes in
  sd t0, 2016(a0)
  la a0, l0b                  # a pointer at level 0 (to l2b): the walk runs out of levels
  la a1, l2b
  li a2, 506
  call set_pointer

  # satp WARL (4.1.11)
  la t0, root
  srli s3, t0, 12             # root PPN
  li t0, 10
  slli t0, t0, 60
  or t0, t0, s3
  csrw satp, t0
  csrr t1, satp
  sd t1, 0(s1)                # results[0]: Sv57 accepted
  li t0, 11
  slli t0, t0, 60
  ori t0, t0, 1
  csrw satp, t0
  csrr t1, satp
  sd t1, 8(s1)                # results[1]: Sv64 refused, unchanged
  li t0, 1
  slli t0, t0, 60
  ori t0, t0, 2
  csrw satp, t0
  csrr t1, satp
  sd t1, 16(s1)               # results[2]: a reserved mode refused, unchanged
  li t0, 9
  slli t0, t0, 60
  or t0, t0, s3
  csrw satp, t0
  csrr t1, satp
  sd t1, 24(s1)               # results[3]: Sv48 accepted
  li t0, 10
  slli t0, t0, 60
  or t0, t0, s3
  csrw satp, t0
  sfence.vma

  # into S-mode at body
  li t0, 0x1800
  csrc mstatus, t0
  li t0, 0x800                # MPP = S
  csrs mstatus, t0
  la t0, body
  csrw mepc, t0
  mret

# a0 = table, a1 = child table, a2 = slot: table[slot] = pointer to child
set_pointer:
  srli a1, a1, 12
  slli a1, a1, 10
  ori a1, a1, 1
  slli a2, a2, 3
  add a0, a0, a2
  sd a1, 0(a0)
  ret

body:
  li t3, 0x777                # what a faulting load leaves in its destination
  # results[4]: load through the RW petapage
  la t0, magic
  li t1, 1
  slli t1, t1, 48
  add t0, t0, t1
  mv t2, t3
  ld t2, 0(t0)
  sd t2, 32(s1)
  # results[5]: the same word through the misaligned petapage: page fault
  la t0, magic
  li t1, 2
  slli t1, t1, 48
  add t0, t0, t1
  mv t2, t3
  ld t2, 0(t0)
  sd t2, 40(s1)
  # store through the read-only petapage: page fault; results[6]: a load there works
  la t0, magic
  li t1, 3
  slli t1, t1, 48
  add t0, t0, t1
  li t2, 0x1234
  sd t2, 0(t0)
  mv t2, t3
  ld t2, 0(t0)
  sd t2, 48(s1)
  # results[7]: fetch through the RX petapage: runs the ret there
  la t0, landing
  li t1, 4
  slli t1, t1, 48
  add t0, t0, t1
  mv t2, t3
  jalr ra, 0(t0)
  sd t2, 56(s1)
  # results[8]: fetch through the RW petapage: instruction page fault (the handler resumes at ra)
  la t0, landing
  li t1, 1
  slli t1, t1, 48
  add t0, t0, t1
  mv t2, t3
  jalr ra, 0(t0)
  sd t2, 64(s1)
  # results[9]: store and load through the five-level 4 KiB page at the top of the address space
  li t0, 0xffffff7f7f9fb008
  li t2, 0x5a5a0123456789ab
  sd t2, 0(t0)
  mv t2, t3
  ld t2, 0(t0)
  sd t2, 72(s1)
  # results[10]: the pointer at level 0: page fault
  li t0, 0xffffff7f7f9fa010
  mv t2, t3
  ld t2, 0(t0)
  sd t2, 80(s1)
  # results[11], [12]: not sign-extended from bit 56: page faults
  li t0, 1
  slli t0, t0, 56
  mv t2, t3
  ld t2, 0(t0)
  sd t2, 88(s1)
  li t0, 0x8000000080001000
  mv t2, t3
  sd t2, 0(t0)
  sd t2, 96(s1)
  # results[13]: an unmapped slot of the root (VA 5 << 48): page fault
  li t0, 5
  slli t0, t0, 48
  mv t2, t3
  lw t2, 0(t0)
  sd t2, 104(s1)
  ecall

m_trap:
  csrr t5, mcause
  li t6, 9                    # ecall from S: the body is done
  beq t5, t6, dump
  sd t5, 0(s2)
  csrr t6, mtval
  sd t6, 8(s2)
  addi s2, s2, 16
  li t6, 12                   # instruction page fault: resume where the jalr returns to
  beq t5, t6, 1f
  csrr t6, mepc
  addi t6, t6, 4
  csrw mepc, t6
  mret
1:csrw mepc, ra
  mret

dump:
  la s4, results
  li s5, 14
1:ld a0, 0(s4)
  call print_hex
  addi s4, s4, 8
  addi s5, s5, -1
  bnez s5, 1b
  la s4, traplog
  sub a0, s2, s4
  srli a0, a0, 4
  call print_hex              # number of traps
2:beq s4, s2, 3f
  ld a0, 0(s4)
  call print_hex
  addi s4, s4, 8
  j 2b
3:la s4, l0b
  addi s4, s4, 2040
  ld a0, 2016(s4)             # slot 507: A and D now set
  la t1, datapage
  srli t1, t1, 12
  slli t1, t1, 10
  sub a0, a0, t1              # the flags only (the PPN depends on the link)
  call print_hex
  la s4, datapage
  ld a0, 8(s4)
  call print_hex
  la s4, root                 # the petapages' A/D as left
  ld a0, 8(s4)
  call print_hex
  ld a0, 24(s4)
  call print_hex
  ld a0, 32(s4)
  call print_hex
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
4:j 4b

# prints a0 as 16 hex digits and a newline on the UART
print_hex:
  li t0, 0x10000000
  li t1, 60
1:srl t2, a0, t1
  andi t2, t2, 15
  addi t2, t2, 48
  li t3, 58
  blt t2, t3, 2f
  addi t2, t2, 39
2:sb t2, 0(t0)
  addi t1, t1, -4
  bgez t1, 1b
  li t2, 10
  sb t2, 0(t0)
  ret

.balign 4
landing:
  li t2, 0x600d
  ret

.balign 8
magic:
  .dword 0x1122334455667788
results:
  .fill 14, 8, 0
traplog:
  .fill 32, 8, 0

.balign 4096
root: .fill 512, 8, 0
l3a:  .fill 512, 8, 0
l2a:  .fill 512, 8, 0
l3b:  .fill 512, 8, 0
l2b:  .fill 512, 8, 0
l1b:  .fill 512, 8, 0
l0b:  .fill 512, 8, 0
datapage: .fill 512, 8, 0
