/*
 * The S-mode kernel: entered by mret from machine.c, runs the checks in order (paging, user
 * processes, timer, PLIC + UART, virtio-blk) and ends through the sifive_test finisher, which is
 * mapped for it. Each step prints a deterministic line; a failed check prints "FAIL: ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include "csr.h"
#include "kernel.h"

#define UNMAPPED_ADDRESS 0x40000000UL     /* root entry 1 is never valid */
#define TICKS_WANTED 5
#define TICK_INTERVAL 10000UL             /* 1 ms of the 10 MHz timebase */

int failures;
volatile int probe_active;
volatile uint64_t probe_cause, probe_tval;

enum timer_use { TIMER_TICKS, TIMER_WATCHDOG };
static volatile enum timer_use timer_use;
static volatile int ticks, timed_out;

void expect(int ok, const char *what)
{
    if (!ok) {
        failures++;
        printf("FAIL: %s\n", what);
    }
}

void phase_done(const char *phase)
{
    if (failures != 0) {
        printf("FAIL: %s: %d check(s) failed\n", phase, failures);
        exit(failures);
    }
}

uint64_t read_time(void)
{
    return csr_read(time);
}

/* Supervisor software interrupt = the machine timer, forwarded by machine.c. */
static void timer_interrupt(void)
{
    csr_clear(sip, SIP_SSIP);
    if (timer_use == TIMER_WATCHDOG) {
        timed_out = 1;
        return;
    }
    ticks++;
    printf("S: tick %d, sip.SSIP cleared: %s\n", ticks, (csr_read(sip) & SIP_SSIP) ? "no" : "yes");
    if (ticks < TICKS_WANTED)
        sbi_set_timer(read_time() + TICK_INTERVAL);
}

void s_trap(struct kframe *frame);
void s_trap(struct kframe *frame)
{
    if (frame->cause & CAUSE_INTERRUPT) {
        uint64_t code = frame->cause & ~CAUSE_INTERRUPT;
        if (code == IRQ_S_SOFT) {
            timer_interrupt();
            return;
        }
        if (code == IRQ_S_EXT) {
            plic_dispatch();
            return;
        }
    } else if (!(frame->status & SSTATUS_SPP)) {
        proc_handle_trap(frame);
        return;
    } else if (probe_active &&
               (frame->cause == EXC_LOAD_PAGE_FAULT || frame->cause == EXC_STORE_PAGE_FAULT)) {
        probe_cause = frame->cause;
        probe_tval = frame->tval;
        frame->epc += 4;
        frame->x[REG_A0] = PROBE_FAULTED;
        return;
    }
    printf("FAIL: unexpected S-mode trap scause=0x%llx sepc=0x%llx stval=0x%llx\n",
           (unsigned long long)frame->cause, (unsigned long long)frame->epc,
           (unsigned long long)frame->tval);
    exit(97);
}

/*
 * Sleeps until *flag is set or the watchdog timer fires. SIE stays clear between the test and
 * wfi, and wfi wakes on a pending enabled interrupt even then (privileged spec 3.3.3), so an
 * interrupt arriving in between cannot be missed; it is taken once SIE is set again.
 */
void wait_for(volatile int *flag, uint64_t timeout_ticks, const char *what)
{
    timer_use = TIMER_WATCHDOG;
    timed_out = 0;
    sbi_set_timer(read_time() + timeout_ticks);
    csr_set(sie, SIE_SSIE);
    while (!*flag && !timed_out) {
        csr_clear(sstatus, SSTATUS_SIE);
        if (!*flag && !timed_out)
            __asm__ volatile ("wfi");
        csr_set(sstatus, SSTATUS_SIE);
    }
    csr_clear(sstatus, SSTATUS_SIE);
    sbi_set_timer(UINT64_MAX);
    csr_clear(sip, SIP_SSIP);
    if (!*flag) {
        printf("FAIL: timed out waiting for %s\n", what);
        exit(96);
    }
}

static int pte_accessed_dirty(uintptr_t va)
{
    int level;
    uint64_t *pte = vm_pte(vm_kernel_root(), va, &level);
    uint64_t v = pte ? *(volatile uint64_t *)pte : 0;
    return (v & (PTE_A | PTE_D)) == (PTE_A | PTE_D);
}

static void paging_checks(void)
{
    vm_build_kernel();
    vm_switch(vm_kernel_root());
    printf("S: Sv39 on: RAM by a 1 GiB identity superpage, MMIO by 2 MiB superpages, A/D clear\n");

    static volatile uint64_t written;
    written = 1;
    int ram_ok = pte_accessed_dirty((uintptr_t)&written);
    int uart_ok = pte_accessed_dirty(0x10000000UL);
    printf("S: A/D set by hardware: %s\n", ram_ok && uart_ok ? "yes" : "no");
    expect(ram_ok, "RAM superpage PTE has A and D set");
    expect(uart_ok, "UART superpage PTE has A and D set");

    probe_active = 1;
    probe_cause = probe_tval = 0;
    uint64_t value = probe_load(UNMAPPED_ADDRESS);
    printf("S: load from unmapped 0x%lx: scause=%llu stval=0x%llx, recovered\n", UNMAPPED_ADDRESS,
           (unsigned long long)probe_cause, (unsigned long long)probe_tval);
    expect(value == PROBE_FAULTED && probe_cause == EXC_LOAD_PAGE_FAULT &&
           probe_tval == UNMAPPED_ADDRESS, "load page fault on an unmapped address");
    probe_cause = probe_tval = 0;
    probe_store(UNMAPPED_ADDRESS + 8, 1);
    printf("S: store to unmapped 0x%lx: scause=%llu stval=0x%llx, recovered\n", UNMAPPED_ADDRESS + 8,
           (unsigned long long)probe_cause, (unsigned long long)probe_tval);
    expect(probe_cause == EXC_STORE_PAGE_FAULT && probe_tval == UNMAPPED_ADDRESS + 8,
           "store page fault on an unmapped address");
    probe_active = 0;
}

static void timer_checks(void)
{
    timer_use = TIMER_TICKS;
    ticks = 0;
    uint64_t start = read_time();
    csr_set(sie, SIE_SSIE);
    sbi_set_timer(start + TICK_INTERVAL);
    while (ticks < TICKS_WANTED) {
        csr_clear(sstatus, SSTATUS_SIE);
        if (ticks < TICKS_WANTED)
            __asm__ volatile ("wfi");
        csr_set(sstatus, SSTATUS_SIE);
    }
    csr_clear(sstatus, SSTATUS_SIE);
    uint64_t elapsed = read_time() - start;
    printf("S: %d timer ticks via M-mode forwarding, time advanced by at least %d intervals: %s\n",
           ticks, TICKS_WANTED, elapsed >= TICKS_WANTED * TICK_INTERVAL ? "yes" : "no");
    expect(elapsed >= TICKS_WANTED * TICK_INTERVAL, "time advanced across the ticks");
}

void s_main(void) __attribute__((noreturn));
void s_main(void)
{
    printf("S: kernel entered in S-mode\n");
    paging_checks();
    phase_done("paging");

    proc_run_all();
    phase_done("processes");

    timer_checks();
    phase_done("timer");

    uart_irq_test();
    phase_done("uart");

    virtio_blk_test();
    phase_done("virtio-blk");

    printf("kernel: all checks passed\n");
    exit(0);
}
