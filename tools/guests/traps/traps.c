/*
 * Trap and interrupt exerciser. Raises each synchronous exception the privileged spec defines
 * for an M-mode-only hart (plus one from U-mode), takes the CLINT software and timer
 * interrupts in direct and vectored mode, and checks mret, misa/mhartid and the counters.
 * Everything printed is deterministic (addresses as offsets, no raw time values), so the
 * output can be compared with QEMU's. Exit status = number of failed expectations.
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "csr.h"
#include "platform.h"
#include "trap.h"

/* Exception codes, privileged spec table 3.6. */
enum {
    CAUSE_FETCH_ACCESS = 1,
    CAUSE_ILLEGAL = 2,
    CAUSE_BREAKPOINT = 3,
    CAUSE_LOAD_MISALIGNED = 4,
    CAUSE_LOAD_ACCESS = 5,
    CAUSE_STORE_MISALIGNED = 6,
    CAUSE_STORE_ACCESS = 7,
    CAUSE_ECALL_U = 8,
    CAUSE_ECALL_M = 11,
    CAUSE_MSI = 3,
    CAUSE_MTI = 7,
};

/* The probes live in probes.S. */
void probe_ecall(void);
void probe_ebreak(void);
void probe_c_ebreak(void);
void probe_illegal_zero(void);
void probe_write_readonly_csr(uint64_t value);
uint64_t probe_amoadd_w(uintptr_t address);
uint64_t probe_load_d(uintptr_t address);
uint64_t probe_load_w(uintptr_t address);
void probe_store_d(uintptr_t address, uint64_t value);
void probe_jump(uintptr_t target);
void probe_enter_user(void (*function)(void));
void user_mode_ecall(void);
uint64_t probe_mret_to_m(void);

/* An address with nothing mapped on virt (below the boot ROM at 0x1000). */
#define UNMAPPED_ADDRESS 0x0UL

struct trap_record {
    int count;
    uint64_t mcause, mepc, mtval, mstatus;
    int64_t vector;
};

static volatile struct trap_record last;
static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        failures++;
        printf("  FAIL: %s\n", what);
    }
}

static void test_handler(struct trap_frame *frame)
{
    last.count++;
    last.mcause = frame->mcause;
    last.mepc = frame->mepc;
    last.mtval = frame->mtval;
    last.mstatus = frame->mstatus;
    last.vector = TRAP_VECTOR(frame);

    if (frame->mcause & MCAUSE_INTERRUPT) {
        /* Silence the source, then resume the interrupted instruction stream. */
        uint64_t code = frame->mcause & ~MCAUSE_INTERRUPT;
        if (code == CAUSE_MSI)
            *CLINT_MSIP = 0;
        else if (code == CAUSE_MTI)
            *CLINT_MTIMECMP = UINT64_MAX;
        return;
    }
    /* An exception: resume as if the probe had returned, in M-mode. */
    frame->mepc = frame->x[1];
    frame->mstatus |= MSTATUS_MPP_M;
}

static void reset_record(void)
{
    memset((void *)&last, 0, sizeof last);
}

/* Prints one exception result relative to `probe` and checks cause and mepc offset. */
static void report_exception(const char *name, void *probe, uint64_t cause, uint64_t mepc_offset)
{
    uint64_t offset = last.mepc - (uint64_t)probe;
    if (last.count != 1) {
        printf("%-22s traps=%d\n", name, last.count);
        expect(0, "expected exactly one trap");
        return;
    }
    printf("%-22s mcause=%llu mepc=+%llu mtval=0x%llx vector=%lld\n", name,
           (unsigned long long)last.mcause, (unsigned long long)offset,
           (unsigned long long)last.mtval, (long long)last.vector);
    expect(last.mcause == cause, "mcause");
    expect(offset == mepc_offset, "mepc offset");
}

static void test_exceptions(const char *mode)
{
    printf("-- exceptions (%s) --\n", mode);

    reset_record();
    probe_ecall();
    report_exception("ecall from M", probe_ecall, CAUSE_ECALL_M, 0);
    expect(last.mtval == 0, "ecall mtval is 0");

    reset_record();
    probe_ebreak();
    report_exception("ebreak", probe_ebreak, CAUSE_BREAKPOINT, 0);

    reset_record();
    probe_c_ebreak();
    report_exception("c.ebreak", probe_c_ebreak, CAUSE_BREAKPOINT, 0);

    reset_record();
    probe_illegal_zero();
    report_exception("illegal .word 0", probe_illegal_zero, CAUSE_ILLEGAL, 0);

    reset_record();
    probe_write_readonly_csr(0x1234);
    report_exception("csrw mvendorid", probe_write_readonly_csr, CAUSE_ILLEGAL, 0);

    /*
     * A misaligned AMO must raise "store/AMO address misaligned" (cause 6): AMOs are reported
     * as stores (privileged spec 3.1.15; A extension "Atomic Memory Operations"). QEMU 7.2
     * reports cause 4 (load misaligned) instead, so both are accepted and neither is printed
     * raw: the line must read the same on QEMU and on a spec-following engine.
     */
    static uint32_t amo_word[2] __attribute__((aligned(8)));
    reset_record();
    probe_amoadd_w((uintptr_t)amo_word + 1);
    uint64_t amo_offset = last.mepc - (uint64_t)probe_amoadd_w;
    int amo_cause_ok = last.mcause == CAUSE_STORE_MISALIGNED || last.mcause == CAUSE_LOAD_MISALIGNED;
    printf("%-22s traps=%d mcause=%s mepc=+%llu mtval=word%+lld vector=%lld\n",
           "amoadd.w misaligned", last.count, amo_cause_ok ? "misaligned" : "WRONG",
           (unsigned long long)amo_offset, (long long)(last.mtval - (uintptr_t)amo_word),
           (long long)last.vector);
    expect(last.count == 1 && amo_cause_ok, "misaligned AMO cause");
    expect(amo_offset == 2, "mepc at the amoadd.w (after a 2-byte c.li)");
    expect(last.mtval == (uint64_t)(uintptr_t)amo_word + 1, "AMO mtval is the address");
    expect(amo_word[0] == 0, "misaligned AMO left memory alone");

    reset_record();
    probe_load_d(UNMAPPED_ADDRESS);
    report_exception("load access fault", probe_load_d, CAUSE_LOAD_ACCESS, 0);
    expect(last.mtval == UNMAPPED_ADDRESS, "load fault mtval");

    reset_record();
    probe_store_d(UNMAPPED_ADDRESS, 42);
    report_exception("store access fault", probe_store_d, CAUSE_STORE_ACCESS, 0);
    expect(last.mtval == UNMAPPED_ADDRESS, "store fault mtval");

    reset_record();
    probe_jump(UNMAPPED_ADDRESS);
    /* mepc is the unmapped target itself, so report it absolutely. */
    if (last.count == 1)
        printf("%-22s mcause=%llu mepc=0x%llx mtval=0x%llx vector=%lld\n", "fetch access fault",
               (unsigned long long)last.mcause, (unsigned long long)last.mepc,
               (unsigned long long)last.mtval, (long long)last.vector);
    expect(last.count == 1 && last.mcause == CAUSE_FETCH_ACCESS, "fetch access fault");
    expect(last.mepc == UNMAPPED_ADDRESS, "fetch fault mepc");

    reset_record();
    probe_enter_user(user_mode_ecall);
    report_exception("ecall from U", user_mode_ecall, CAUSE_ECALL_U, 0);
    expect(((last.mstatus & MSTATUS_MPP) >> 11) == 0, "MPP records U-mode");
}

static void test_misaligned_plain(void)
{
    printf("-- misaligned plain load/store --\n");
    static uint8_t bytes[24] __attribute__((aligned(8)));
    for (int i = 0; i < 24; i++)
        bytes[i] = (uint8_t)(0x10 + i);

    reset_record();
    uint64_t d = probe_load_d((uintptr_t)bytes + 3);
    uint64_t w = probe_load_w((uintptr_t)bytes + 6);
    printf("ld +3 = 0x%016llx, lw +6 = 0x%016llx, traps=%d\n", (unsigned long long)d,
           (unsigned long long)w, last.count);
    expect(last.count == 0 || last.mcause == CAUSE_LOAD_MISALIGNED, "misaligned load");

    reset_record();
    probe_store_d((uintptr_t)bytes + 9, 0x8877665544332211ull);
    printf("sd +9 -> bytes[8..17] =");
    for (int i = 8; i < 18; i++)
        printf(" %02x", bytes[i]);
    printf(", traps=%d\n", last.count);
    expect(last.count == 0 || last.mcause == CAUSE_STORE_MISALIGNED, "misaligned store");
}

static void test_mret(void)
{
    printf("-- mret --\n");
    uint64_t status = probe_mret_to_m();
    uint64_t mpp = (status & MSTATUS_MPP) >> 11;
    int mie = (status & MSTATUS_MIE) != 0, mpie = (status & MSTATUS_MPIE) != 0;
    printf("mret to M: landed, MIE=%d MPIE=%d MPP=%llu\n", mie, mpie, (unsigned long long)mpp);
    expect(mie == 1 && mpie == 1, "MIE <- MPIE and MPIE <- 1");
    expect(mpp == 0, "MPP <- U (least-privileged supported mode)");
}

/* Bounded wait so a missing interrupt fails the test instead of hanging the run. */
static int wait_for_trap(int use_wfi)
{
    for (int i = 0; i < 100000; i++) {
        if (last.count)
            return 1;
        if (use_wfi)
            __asm__ volatile ("wfi");
    }
    return last.count != 0;
}

static void test_interrupts(const char *mode, int64_t msi_vector, int64_t mti_vector)
{
    printf("-- interrupts (%s) --\n", mode);
    /* Every trap so far returned through mret; none may have left interrupts enabled. */
    expect((csr_read(mstatus) & MSTATUS_MIE) == 0, "MIE still 0 after the exception tests");
    csr_clear(mstatus, MSTATUS_MIE);

    /* Software interrupt: raise msip with MIE off, see it pending, then let it in. */
    reset_record();
    csr_write(mie, MIP_MSIP);
    *CLINT_MSIP = 1;
    /* The CLINT write may reach mip a few instructions later (QEMU with -icount), so poll. */
    int pending = 0;
    for (int i = 0; i < 1000 && !pending; i++)
        pending = (csr_read(mip) & MIP_MSIP) != 0;
    csr_set(mstatus, MSTATUS_MIE);
    int taken = wait_for_trap(0);
    csr_clear(mstatus, MSTATUS_MIE);
    printf("software: pending=%s taken=%s mcause=0x%llx vector=%lld mip.MSIP after=%d\n",
           pending ? "yes" : "no", taken ? "yes" : "no", (unsigned long long)last.mcause,
           (long long)last.vector, (csr_read(mip) & MIP_MSIP) != 0);
    expect(pending, "mip.MSIP follows the CLINT msip bit");
    expect(taken && last.mcause == (MCAUSE_INTERRUPT | CAUSE_MSI), "MSI cause");
    expect(last.vector == msi_vector, "MSI vector slot");
    expect((last.mstatus & MSTATUS_MPIE) != 0, "MPIE holds the old MIE");

    /* Timer interrupt: program mtimecmp a little ahead and sleep until it fires. */
    reset_record();
    csr_write(mie, MIP_MTIP);
    *CLINT_MTIMECMP = *CLINT_MTIME + 1000;      /* 100 us at 10 MHz */
    csr_set(mstatus, MSTATUS_MIE);
    taken = wait_for_trap(1);
    csr_clear(mstatus, MSTATUS_MIE);
    printf("timer: taken=%s mcause=0x%llx vector=%lld mip.MTIP after=%d\n",
           taken ? "yes" : "no", (unsigned long long)last.mcause, (long long)last.vector,
           (csr_read(mip) & MIP_MTIP) != 0);
    expect(taken && last.mcause == (MCAUSE_INTERRUPT | CAUSE_MTI), "MTI cause");
    expect(last.vector == mti_vector, "MTI vector slot");

    /* wfi wakes on a pending, enabled interrupt even with MIE off (priv. spec 3.3.3). */
    reset_record();
    *CLINT_MTIMECMP = *CLINT_MTIME + 1000;
    int woke = 0;
    for (int i = 0; i < 100000 && !woke; i++) {
        __asm__ volatile ("wfi");
        woke = (csr_read(mip) & MIP_MTIP) != 0;
    }
    *CLINT_MTIMECMP = UINT64_MAX;
    printf("wfi with MIE=0: woke=%s traps=%d mip.MTIP after clear=%d\n", woke ? "yes" : "no",
           last.count, (csr_read(mip) & MIP_MTIP) != 0);
    expect(woke && last.count == 0, "pending timer wakes wfi without a trap");
    csr_write(mie, 0);
}

static void test_identity_and_counters(void)
{
    printf("-- identity and counters --\n");
    /*
     * Only the extensions the project implements are checked: QEMU 7.2's default CPU also
     * sets H, which ReplayVm does not claim, so the raw value is not printed.
     */
    uint64_t misa = csr_read(misa);
    const char *required = "ACDFIMSU";
    int all_present = 1;
    for (const char *p = required; *p; p++)
        if (!(misa & (1UL << (*p - 'A'))))
            all_present = 0;
    printf("misa: MXL=%llu, %s present: %s\n", (unsigned long long)(misa >> 62), required,
           all_present ? "yes" : "no");
    expect(all_present, "misa has RV64GC + S + U");
    printf("mhartid=%llu\n", (unsigned long long)csr_read(mhartid));
    expect(misa >> 62 == 2, "MXL = 64-bit");
    expect(csr_read(mhartid) == 0, "hart 0");

    uint64_t c0 = csr_read(cycle), i0 = csr_read(instret), t0 = csr_read(time);
    uint64_t m0 = *CLINT_MTIME;
    volatile uint64_t sink = 0;
    for (int i = 0; i < 20000; i++)
        sink += (uint64_t)i;
    uint64_t c1 = csr_read(cycle), i1 = csr_read(instret), t1 = csr_read(time);
    uint64_t m1 = *CLINT_MTIME;
    printf("cycle advanced: %s\n", c1 > c0 ? "yes" : "no");
    printf("instret advanced: %s\n", i1 > i0 ? "yes" : "no");
    printf("time advanced: %s\n", t1 > t0 ? "yes" : "no");
    printf("mtime advanced: %s\n", m1 > m0 ? "yes" : "no");
    expect(c1 > c0 && i1 > i0 && t1 > t0 && m1 > m0, "counters advance");
}

int main(void)
{
    printf("traps guest\n");
    /* U-mode needs PMP permission for memory (priv. spec 3.7.1): one NAPOT entry for everything. */
    csr_write(pmpaddr0, ~0UL >> 10);
    csr_write(pmpcfg0, 0x1f);   /* A = NAPOT, X, W, R */

    trap_set_handler(test_handler);

    trap_use_direct();
    test_exceptions("direct");
    test_interrupts("direct", -1, -1);

    trap_use_vectored();
    test_exceptions("vectored");
    test_interrupts("vectored", CAUSE_MSI, CAUSE_MTI);

    trap_use_direct();
    test_misaligned_plain();
    test_mret();
    test_identity_and_counters();

    trap_set_handler(NULL);
    printf("failures: %d\n", failures);
    return failures;
}
