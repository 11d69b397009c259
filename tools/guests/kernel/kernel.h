/*
 * Shared declarations of the `kernel` guest: a small supervisor-mode kernel for QEMU virt.
 * M-mode firmware (machine.c) -> S-mode kernel (kernel.c) with Sv39 (vm.c), U-mode processes
 * (proc.c, user.S), PLIC (plic.c), interrupt-driven UART (uart_irq.c) and virtio-blk
 * (virtio_blk.c). Every line it prints is deterministic so QEMU's output is the expected output.
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <stdint.h>
#include <stddef.h>

/* Register frame built by the M and S trap entries in entry.S (layout shared with it). */
struct kframe {
    uint64_t x[32];     /* x[2] = sp at the time of the trap */
    uint64_t epc;       /* mepc / sepc, written back on return */
    uint64_t status;    /* mstatus / sstatus, written back on return */
    uint64_t cause;
    uint64_t tval;
};
#define REG_A0 10
#define REG_A1 11
#define REG_A6 16
#define REG_A7 17
#define REG_SP 2

/* Exception and interrupt codes (privileged spec tables 3.6 and 4.2). */
#define CAUSE_INTERRUPT          (1UL << 63)
#define EXC_INSN_MISALIGNED      0
#define EXC_BREAKPOINT           3
#define EXC_ECALL_U              8
#define EXC_ECALL_S              9
#define EXC_INSN_PAGE_FAULT      12
#define EXC_LOAD_PAGE_FAULT      13
#define EXC_STORE_PAGE_FAULT     15
#define IRQ_S_SOFT               1
#define IRQ_S_TIMER              5
#define IRQ_M_TIMER              7
#define IRQ_S_EXT                9

/* sstatus / sie / sip bits (privileged spec 4.1.1, 4.1.3). */
#define SSTATUS_SIE  (1UL << 1)
#define SSTATUS_SPIE (1UL << 5)
#define SSTATUS_SPP  (1UL << 8)
#define SSTATUS_SUM  (1UL << 18)
#define SIP_SSIP     (1UL << 1)
#define SIE_SSIE     (1UL << 1)
#define SIE_SEIE     (1UL << 9)

/* The one SBI call the kernel needs: TIME extension, set_timer (SBI spec chapter 6). */
#define SBI_EXT_TIME 0x54494D45UL

/* Checks: expect() prints "FAIL: ..." and counts; phase_done() exits if anything failed. */
void expect(int ok, const char *what);
void phase_done(const char *phase);
extern int failures;

/* entry.S */
extern char m_trap_entry[];
extern char s_trap_entry[];
void s_return_to(struct kframe *frame) __attribute__((noreturn));
uint64_t probe_load(uintptr_t address);
void probe_store(uintptr_t address, uint64_t value);
#define PROBE_FAULTED 0xfa017fa017fa017fUL

/* machine.c: the SBI-like services the S-mode kernel calls. */
void sbi_set_timer(uint64_t stime_value);

/* kernel.c: the S trap dispatcher hooks. */
extern volatile int probe_active;
extern volatile uint64_t probe_cause, probe_tval;
void wait_for(volatile int *flag, uint64_t timeout_ticks, const char *what);
uint64_t read_time(void);

/* vm.c */
#define PAGE_SIZE 4096UL
#define USER_BASE 0x400000UL        /* user code page; the stack page follows */
#define USER_STACK_PAGE (USER_BASE + PAGE_SIZE)
#define USER_END (USER_BASE + 2 * PAGE_SIZE)
#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_G (1UL << 5)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
void *alloc_page(void);
uint64_t *vm_kernel_root(void);
void vm_build_kernel(void);
uint64_t *vm_new_user_space(const void *code, size_t code_size);
uint64_t vm_satp(uint64_t *root);
void vm_switch(uint64_t *root);
uint64_t *vm_pte(uint64_t *root, uintptr_t va, int *level);

/* proc.c */
void proc_run_all(void);
int proc_handle_trap(struct kframe *frame);

/* plic.c */
void plic_enable(unsigned irq);
void plic_disable(unsigned irq);
void plic_dispatch(void);

/* uart_irq.c and virtio_blk.c */
void uart_irq_test(void);
void uart_isr(void);
void virtio_blk_test(void);
int virtio_blk_irq(void);       /* PLIC source number of the device, 0 if none */
void virtio_blk_isr(void);

#endif
