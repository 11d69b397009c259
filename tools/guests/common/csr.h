/* Tiny CSR accessors; the CSR is named textually so the assembler resolves its number. */
#ifndef GUEST_CSR_H
#define GUEST_CSR_H

#include <stdint.h>

#define CSR_STR_(x) #x
#define CSR_STR(x) CSR_STR_(x)

#define csr_read(csr) ({ uint64_t v_; \
    __asm__ volatile ("csrr %0, " CSR_STR(csr) : "=r"(v_) :: "memory"); v_; })
#define csr_write(csr, val) \
    __asm__ volatile ("csrw " CSR_STR(csr) ", %0" :: "rK"((uint64_t)(val)) : "memory")
#define csr_set(csr, bits) \
    __asm__ volatile ("csrs " CSR_STR(csr) ", %0" :: "rK"((uint64_t)(bits)) : "memory")
#define csr_clear(csr, bits) \
    __asm__ volatile ("csrc " CSR_STR(csr) ", %0" :: "rK"((uint64_t)(bits)) : "memory")

/* mstatus / mie / mip bits (privileged spec, sections 3.1.6 and 3.1.9). */
#define MSTATUS_MIE   (1UL << 3)
#define MSTATUS_MPIE  (1UL << 7)
#define MSTATUS_MPP   (3UL << 11)
#define MSTATUS_MPP_M (3UL << 11)
#define MIP_MSIP      (1UL << 3)
#define MIP_MTIP      (1UL << 7)
#define MIP_MEIP      (1UL << 11)

#define MCAUSE_INTERRUPT (1UL << 63)

#endif
