/*
 * M-mode part of the guest: what a minimal SBI firmware does before it hands the hart to a
 * supervisor. PMP is already open (entry.S). Here: trap delegation, counter access, a tiny
 * trap handler that turns the CLINT machine timer into a supervisor software interrupt, and the
 * mret into S-mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include "csr.h"
#include "platform.h"
#include "kernel.h"

/* Exceptions a typical SBI leaves to the kernel (privileged spec 3.1.8, medeleg). */
#define DELEGATED_EXCEPTIONS ((1UL << EXC_INSN_MISALIGNED) | (1UL << EXC_BREAKPOINT) | \
                              (1UL << EXC_ECALL_U) | (1UL << EXC_INSN_PAGE_FAULT) |   \
                              (1UL << EXC_LOAD_PAGE_FAULT) | (1UL << EXC_STORE_PAGE_FAULT))
/* SSIP, STIP, SEIP (mideleg). Read back masked: with the H extension, QEMU forces VS bits. */
#define DELEGATED_INTERRUPTS ((1UL << IRQ_S_SOFT) | (1UL << IRQ_S_TIMER) | (1UL << IRQ_S_EXT))
#define MIE_MTIE  (1UL << IRQ_M_TIMER)
#define MCOUNTEREN_CY_TM_IR 0x7UL
#define MSTATUS_MPP_S (1UL << 11)
#define DTB_MAGIC 0xd00dfeedu

static uint64_t m_stack[1024] __attribute__((aligned(16)));
static uint64_t s_stack[4096] __attribute__((aligned(16)));

void s_main(void) __attribute__((noreturn));
void m_trap(struct kframe *frame);

static uint32_t be32(const volatile uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Runs until mret from hart 0's reset path; never returns. */
void m_main(uint64_t hartid, uint64_t dtb) __attribute__((noreturn));
void m_main(uint64_t hartid, uint64_t dtb)
{
    /* PMP was written in entry.S while mtvec still held its reset value: now a handler exists. */
    csr_write(mtvec, (uint64_t)m_trap_entry);
    csr_write(mscratch, (uint64_t)(m_stack + sizeof m_stack / sizeof m_stack[0]));

    printf("M: boot hart %llu, device tree magic %s\n", (unsigned long long)hartid,
           dtb != 0 && be32((const volatile uint8_t *)dtb) == DTB_MAGIC ? "ok" : "MISSING");
    expect(hartid == 0, "boot hart is 0");
    uint64_t pmpcfg0 = csr_read(pmpcfg0), pmpaddr0 = csr_read(pmpaddr0);
    printf("M: PMP before mtvec: pmpcfg0[7:0]=0x%02llx pmpaddr0=0x%llx (NAPOT, all memory, RWX)\n",
           (unsigned long long)(pmpcfg0 & 0xff), (unsigned long long)pmpaddr0);
    expect((pmpcfg0 & 0xff) == 0x1f && pmpaddr0 == (1UL << 54) - 1, "PMP entry 0 reads back");

    csr_write(medeleg, DELEGATED_EXCEPTIONS);
    csr_write(mideleg, DELEGATED_INTERRUPTS);
    csr_write(mcounteren, MCOUNTEREN_CY_TM_IR);
    uint64_t medeleg = csr_read(medeleg), mideleg = csr_read(mideleg);
    printf("M: medeleg=0x%llx mideleg&0x222=0x%llx mcounteren=0x%llx\n",
           (unsigned long long)(medeleg & DELEGATED_EXCEPTIONS),
           (unsigned long long)(mideleg & DELEGATED_INTERRUPTS),
           (unsigned long long)(csr_read(mcounteren) & MCOUNTEREN_CY_TM_IR));
    expect((medeleg & DELEGATED_EXCEPTIONS) == DELEGATED_EXCEPTIONS, "medeleg holds the delegated exceptions");
    expect((mideleg & DELEGATED_INTERRUPTS) == DELEGATED_INTERRUPTS, "mideleg holds SSIP/STIP/SEIP");
    phase_done("M-mode setup");

    /* No timer until the kernel asks for one; the M timer is forwarded as SSIP (m_trap). */
    *CLINT_MTIMECMP = UINT64_MAX;
    csr_write(mie, MIE_MTIE);
    csr_write(satp, 0);
    csr_write(stvec, (uint64_t)s_trap_entry);
    csr_write(sscratch, 0);
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, MSTATUS_MPP_S);
    csr_write(mepc, (uint64_t)s_main);
    printf("M: mret to S-mode\n");
    __asm__ volatile (
        "mv sp, %0\n"
        "mret\n" :: "r"(s_stack + sizeof s_stack / sizeof s_stack[0]) : "memory");
    __builtin_unreachable();
}

/*
 * The firmware's only services. Machine timer interrupt: silence it (mtimecmp = max) and raise
 * the supervisor software interrupt, which mideleg sends to S-mode (privileged spec 3.1.9:
 * M-mode may write mip.SSIP). ecall from S with the SBI TIME extension: program mtimecmp.
 */
void m_trap(struct kframe *frame)
{
    if (frame->cause == (CAUSE_INTERRUPT | IRQ_M_TIMER)) {
        *CLINT_MTIMECMP = UINT64_MAX;
        csr_set(mip, 1UL << IRQ_S_SOFT);
        return;
    }
    if (frame->cause == EXC_ECALL_S && frame->x[REG_A7] == SBI_EXT_TIME && frame->x[REG_A6] == 0) {
        *CLINT_MTIMECMP = frame->x[REG_A0];
        frame->x[REG_A0] = 0;       /* SBI_SUCCESS */
        frame->epc += 4;
        return;
    }
    printf("FAIL: unexpected M-mode trap mcause=0x%llx mepc=0x%llx mtval=0x%llx\n",
           (unsigned long long)frame->cause, (unsigned long long)frame->epc,
           (unsigned long long)frame->tval);
    exit(98);
}

void sbi_set_timer(uint64_t stime_value)
{
    register uint64_t a0 __asm__("a0") = stime_value;
    register uint64_t a6 __asm__("a6") = 0;
    register uint64_t a7 __asm__("a7") = SBI_EXT_TIME;
    __asm__ volatile ("ecall" : "+r"(a0) : "r"(a6), "r"(a7) : "memory");
}
