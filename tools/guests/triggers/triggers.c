/*
 * Debug triggers (Sdtrig, RISC-V Debug Specification ch. 5) as seen by M-mode software: the
 * trigger CSRs (tselect, tdata1..3, tinfo, tcontrol, mcontext), what they read back after
 * writes, and type-2 (mcontrol) address triggers on execute, load and store in M- and U-mode,
 * each reported as the breakpoint exception it raises (mcause, mepc, mtval, whether the access
 * happened). Then the logic of the official ISA test rv64mi-p-breakpoint, rewritten here.
 * Everything printed is deterministic, so the output is compared with QEMU's byte for byte.
 * Exit status = number of failed checks of the breakpoint-test logic (QEMU 7.2 passes it).
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "csr.h"
#include "trap.h"

#define CSR_TSELECT  0x7a0
#define CSR_TDATA1   0x7a1
#define CSR_TDATA2   0x7a2
#define CSR_TDATA3   0x7a3
#define CSR_TINFO    0x7a4
#define CSR_TCONTROL 0x7a5
#define CSR_MCONTEXT 0x7a8
#define CSR_SCONTEXT 0x5a8

/* mcontrol (type 2) fields for RV64, Debug Specification 5.7.11. */
#define TYPE(t)      ((uint64_t)(t) << 60)
#define DMODE        (1UL << 59)
#define MASKMAX(m)   ((uint64_t)(m) << 53)
#define SIZEHI(s)    ((uint64_t)(s) << 21)
#define HIT          (1UL << 20)
#define SELECT       (1UL << 19)
#define TIMING       (1UL << 18)
#define SIZELO(s)    ((uint64_t)(s) << 16)
#define ACTION(a)    ((uint64_t)(a) << 12)
#define CHAIN        (1UL << 11)
#define MATCH(m)     ((uint64_t)(m) << 7)
#define MODE_M       (1UL << 6)
#define MODE_S       (1UL << 4)
#define MODE_U       (1UL << 3)
#define EXECUTE      (1UL << 2)
#define STORE        (1UL << 1)
#define LOAD         (1UL << 0)

#define CAUSE_BREAKPOINT 3
#define CAUSE_ECALL_U 8

/* probes.S */
void probe_exec(void);
uint64_t probe_exec_call(uint64_t) __asm__("probe_exec");
uint64_t probe_exec_c(uint64_t);
extern char exec_first[], exec_second[], exec_third[];
extern char exec_c_first[], exec_c_second[], exec_c_third[];
uint64_t probe_lb(uint64_t sentinel, uintptr_t address);
uint64_t probe_lh(uint64_t sentinel, uintptr_t address);
uint64_t probe_lw(uint64_t sentinel, uintptr_t address);
uint64_t probe_ld(uint64_t sentinel, uintptr_t address);
void probe_sb(uintptr_t address, uint64_t value);
void probe_sh(uintptr_t address, uint64_t value);
void probe_sw(uintptr_t address, uint64_t value);
void probe_sd(uintptr_t address, uint64_t value);
uint64_t probe_amoadd_d(uintptr_t address, uint64_t addend);
uint64_t probe_lr_d(uint64_t sentinel, uintptr_t address);
uint64_t probe_lr_sc_d(uintptr_t address, uint64_t value);
extern char sc_instruction[];
uint64_t probe_fld(uint64_t sentinel, uintptr_t address);
void probe_fsd(uintptr_t address, uint64_t bits);
extern char fsd_instruction[];
uint64_t probe_enter_user(void (*function)(void), uint64_t argument);
void user_load(void);
extern char user_load_instruction[];
void user_exec(void);
extern char user_exec_target[];

struct trap_record {
    int count;
    uint64_t mcause, mepc, mtval, mpp;
};
static volatile struct trap_record last;

static void handler(struct trap_frame *frame)
{
    if (frame->mcause == CAUSE_ECALL_U) {
        /* The way home from U-mode, not a result: resume M-mode where probe_enter_user was called. */
        frame->mepc = frame->x[1];
        frame->mstatus |= MSTATUS_MPP_M;
        return;
    }
    last.count++;
    last.mcause = frame->mcause;
    last.mepc = frame->mepc;
    last.mtval = frame->mtval;
    last.mpp = (frame->mstatus >> 11) & 3;
    /* Skip the instruction that trapped (its length from its low bits). */
    uint16_t low = *(volatile uint16_t *)frame->mepc;
    frame->mepc += (low & 3) == 3 ? 4 : 2;
}

static void reset(void)
{
    memset((void *)&last, 0, sizeof last);
}

/* CSR access with the CSR number as an immediate; a trapping access is reported as such. */
#define CSR_READ(csr) ({ uint64_t v_ = 0; reset(); \
    __asm__ volatile (".option push\n.option norvc\ncsrr %0, %1\n.option pop" \
                      : "+r"(v_) : "i"(csr) : "memory"); v_; })
#define CSR_WRITE(csr, val) do { reset(); \
    __asm__ volatile (".option push\n.option norvc\ncsrw %0, %1\n.option pop" \
                      :: "i"(csr), "r"((uint64_t)(val)) : "memory"); } while (0)

static void show_read(const char *name, uint64_t value)
{
    if (last.count)
        printf("  read %-9s -> trap mcause=%llu\n", name, (unsigned long long)last.mcause);
    else
        printf("  read %-9s -> 0x%016llx\n", name, (unsigned long long)value);
}

#define SHOW_READ(name, csr) do { uint64_t r_ = CSR_READ(csr); show_read(name, r_); } while (0)
#define SHOW_WRITE(name, csr, val) do { \
    CSR_WRITE(csr, val); int t_ = last.count; uint64_t c_ = last.mcause; \
    uint64_t r_ = CSR_READ(csr); int rt_ = last.count; \
    printf("  write %-9s 0x%016llx: %s -> ", name, (unsigned long long)(uint64_t)(val), \
           t_ ? "trap" : "ok"); \
    if (t_) printf("mcause=%llu, ", (unsigned long long)c_); \
    if (rt_) printf("read traps\n"); else printf("reads 0x%016llx\n", (unsigned long long)r_); \
} while (0)

static void test_csrs(void)
{
    printf("-- trigger CSRs at reset --\n");
    for (int i = 0; i < 4; i++) {
        CSR_WRITE(CSR_TSELECT, i);
        uint64_t sel = CSR_READ(CSR_TSELECT);
        printf(" tselect <- %d reads %llu\n", i, (unsigned long long)sel);
        SHOW_READ("tdata1", CSR_TDATA1);
        SHOW_READ("tdata2", CSR_TDATA2);
        SHOW_READ("tdata3", CSR_TDATA3);
        SHOW_READ("tinfo", CSR_TINFO);
    }
    CSR_WRITE(CSR_TSELECT, ~0UL);
    printf(" tselect <- ~0 reads %llu\n", (unsigned long long)CSR_READ(CSR_TSELECT));
    SHOW_READ("tcontrol", CSR_TCONTROL);
    SHOW_READ("mcontext", CSR_MCONTEXT);
    SHOW_READ("scontext", CSR_SCONTEXT);
    SHOW_WRITE("tcontrol", CSR_TCONTROL, 0x88);
    SHOW_WRITE("mcontext", CSR_MCONTEXT, 0x55);
    SHOW_WRITE("tinfo", CSR_TINFO, 0xff);

    printf("-- tdata1 write legalisation (trigger 0) --\n");
    CSR_WRITE(CSR_TSELECT, 0);
    const uint64_t writes[] = {
        TYPE(2) | MODE_M | EXECUTE,
        TYPE(2) | MODE_M | MODE_S | MODE_U | LOAD | STORE | EXECUTE,
        ~0UL,
        TYPE(2) | DMODE | MODE_M | LOAD,
        TYPE(2) | MASKMAX(63) | HIT | MODE_M | LOAD,
        TYPE(2) | SELECT | MODE_M | LOAD,
        TYPE(2) | TIMING | MODE_M | LOAD,
        TYPE(2) | ACTION(1) | MODE_M | LOAD,
        TYPE(2) | CHAIN | MODE_M | LOAD,
        TYPE(2) | MATCH(2) | MODE_M | LOAD,
        TYPE(2) | SIZELO(1) | MODE_M | LOAD,
        TYPE(2) | SIZELO(2) | MODE_M | LOAD,
        TYPE(2) | SIZELO(3) | MODE_M | LOAD,
        TYPE(2) | SIZEHI(1) | SIZELO(1) | MODE_M | LOAD,
        TYPE(2) | SIZEHI(1) | MODE_M | LOAD,
        TYPE(2) | SIZEHI(3) | SIZELO(3) | MODE_M | LOAD,
        TYPE(2) | (1UL << 5) | MODE_M | LOAD,
        TYPE(2),
        TYPE(0) | MODE_M | LOAD,
        TYPE(3) | MODE_M | LOAD,
        TYPE(4) | MODE_M | LOAD,
        TYPE(5) | MODE_M | LOAD,
        TYPE(6) | MODE_M | LOAD,
        TYPE(6) | (1UL << 24) | MODE_M | LOAD,
        TYPE(15) | MODE_M | LOAD,
        0,
    };
    for (unsigned i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        /* Start each from the same type-2 trigger, so that an ignored write shows. */
        CSR_WRITE(CSR_TDATA1, TYPE(2) | MODE_U | STORE);
        SHOW_WRITE("tdata1", CSR_TDATA1, writes[i]);
    }
    CSR_WRITE(CSR_TDATA1, TYPE(2));
    printf("-- tdata2 / tdata3 --\n");
    SHOW_WRITE("tdata2", CSR_TDATA2, 0x8000123456789abcUL);
    SHOW_WRITE("tdata2", CSR_TDATA2, ~0UL);
    SHOW_WRITE("tdata3", CSR_TDATA3, ~0UL);
    SHOW_WRITE("tdata3", CSR_TDATA3, 0x1234);
    CSR_WRITE(CSR_TDATA3, 0);
    CSR_WRITE(CSR_TDATA2, 0);
    /* Trigger 1 keeps its own state. */
    CSR_WRITE(CSR_TSELECT, 1);
    SHOW_WRITE("tdata2", CSR_TDATA2, 0x42);
    CSR_WRITE(CSR_TSELECT, 0);
    SHOW_READ("tdata2", CSR_TDATA2);
    CSR_WRITE(CSR_TSELECT, 1);
    CSR_WRITE(CSR_TDATA2, 0);
    CSR_WRITE(CSR_TSELECT, 0);
}

/* Arms trigger `index` and returns what tdata1 reads back. */
static uint64_t arm(int index, uint64_t tdata1, uintptr_t tdata2)
{
    CSR_WRITE(CSR_TSELECT, index);
    CSR_WRITE(CSR_TDATA1, TYPE(2));
    CSR_WRITE(CSR_TDATA2, tdata2);
    CSR_WRITE(CSR_TDATA1, tdata1);
    return CSR_READ(CSR_TDATA1);
}

static void disarm_all(void)
{
    for (int i = 0; i < 2; i++) {
        CSR_WRITE(CSR_TSELECT, i);
        CSR_WRITE(CSR_TDATA1, TYPE(2));
        CSR_WRITE(CSR_TDATA2, 0);
    }
    CSR_WRITE(CSR_TSELECT, 0);
}

/* One trap report: mepc relative to `pc_ref`, mtval relative to `address_ref`. */
static void report2(const char *what, uintptr_t pc_ref, uintptr_t address_ref, uint64_t result)
{
    printf("  %-34s", what);
    if (last.count == 0) {
        printf(" no trap, result 0x%llx\n", (unsigned long long)result);
        return;
    }
    printf(" traps=%d mcause=%llu mepc=%+lld mtval=", last.count, (unsigned long long)last.mcause,
           (long long)(last.mepc - pc_ref));
    if (last.mtval == 0)
        printf("0");
    else
        printf("ref%+lld", (long long)(last.mtval - address_ref));
    printf(" mpp=%llu result 0x%llx\n", (unsigned long long)last.mpp, (unsigned long long)result);
}

static void report(const char *what, uintptr_t reference, uint64_t result)
{
    report2(what, reference, reference, result);
}

/* A short report for tables: "bp" for the expected breakpoint (cause 3 at the probe, mtval 0,
   destination untouched), the loaded value when nothing trapped, and the details otherwise. */
static void compact(const char *name, uintptr_t probe, uint64_t result)
{
    if (last.count == 1 && last.mcause == CAUSE_BREAKPOINT && last.mepc == probe && last.mtval == 0 && result == 0xbad)
        printf(" %s bp", name);
    else if (last.count == 0)
        printf(" %s %llx", name, (unsigned long long)result);
    else
        printf(" %s traps=%d mcause=%llu mepc=%+lld mtval=0x%llx result=0x%llx", name, last.count,
               (unsigned long long)last.mcause, (long long)(last.mepc - probe),
               (unsigned long long)last.mtval, (unsigned long long)result);
}

static void test_execute(void)
{
    printf("-- execute triggers --\n");
    uint64_t r;
    arm(0, TYPE(2) | MODE_M | EXECUTE, (uintptr_t)exec_second);
    reset(); r = probe_exec_call(0); report("M exec on 2nd addi", (uintptr_t)exec_second, r);
    arm(0, TYPE(2) | MODE_M | EXECUTE, (uintptr_t)exec_first);
    reset(); r = probe_exec_call(0); report("M exec on 1st addi", (uintptr_t)exec_first, r);
    arm(0, TYPE(2) | MODE_M | EXECUTE, (uintptr_t)exec_second + 2);
    reset(); r = probe_exec_call(0); report("M exec mid-instruction", (uintptr_t)exec_second, r);
    arm(0, TYPE(2) | MODE_U | MODE_S | EXECUTE, (uintptr_t)exec_second);
    reset(); r = probe_exec_call(0); report("U|S exec while in M", (uintptr_t)exec_second, r);
    arm(0, TYPE(2) | MODE_M | LOAD | STORE, (uintptr_t)exec_second);
    reset(); r = probe_exec_call(0); report("load|store trigger on code", (uintptr_t)exec_second, r);
    arm(0, TYPE(2) | MODE_M | EXECUTE, (uintptr_t)exec_c_second);
    reset(); r = probe_exec_c(0); report("M exec on 2nd c.addi", (uintptr_t)exec_c_second, r);
    arm(0, TYPE(2) | MODE_M | EXECUTE, (uintptr_t)exec_c_third);
    arm(1, TYPE(2) | MODE_M | EXECUTE, (uintptr_t)exec_c_first);
    reset(); r = probe_exec_c(0); report("two exec triggers, c.addi 1 and 3", (uintptr_t)exec_c_first, r);
    arm(1, TYPE(2) | SELECT | MODE_M | EXECUTE, (uintptr_t)exec_c_second);
    arm(0, TYPE(2), 0);
    reset(); r = probe_exec_c(0); report("exec with select (data match)", (uintptr_t)exec_c_second, r);
    arm(1, TYPE(2) | MODE_M | EXECUTE, 0x1f);  /* addi a0,a0,... encodings never equal this */
    reset(); r = probe_exec_c(0); report("exec at an address never run", (uintptr_t)exec_c_second, r);
    arm(0, TYPE(6) | MODE_M | EXECUTE, (uintptr_t)exec_second);
    reset(); r = probe_exec_call(0); report("type 6 exec", (uintptr_t)exec_second, r);
    disarm_all();
}

static uint64_t words[8] __attribute__((aligned(64)));

static void fill(void)
{
    for (int i = 0; i < 8; i++)
        words[i] = 0x1111111111111111UL * (uint64_t)(i + 1);
}

static void test_data(void)
{
    printf("-- load/store triggers --\n");
    uintptr_t base = (uintptr_t)&words[2];
    uint64_t r;
    struct { const char *name; uint64_t mcontrol; } loads[] = {
        {"load size any", TYPE(2) | MODE_M | LOAD},
        {"load size 1", TYPE(2) | SIZELO(1) | MODE_M | LOAD},
        {"load size 2", TYPE(2) | SIZELO(2) | MODE_M | LOAD},
        {"load size 4", TYPE(2) | SIZELO(3) | MODE_M | LOAD},
        {"load size 8", TYPE(2) | SIZEHI(1) | SIZELO(1) | MODE_M | LOAD},
        {"load select (data)", TYPE(2) | SELECT | MODE_M | LOAD},
        {"load U only", TYPE(2) | MODE_U | LOAD},
        {"store only", TYPE(2) | MODE_M | STORE},
    };
    const int offsets[] = {-8, -4, -1, 0, 1, 3, 4, 7, 8};
    for (unsigned k = 0; k < sizeof loads / sizeof loads[0]; k++) {
        printf(" %s\n", loads[k].name);
        for (unsigned j = 0; j < sizeof offsets / sizeof offsets[0]; j++) {
            int off = offsets[j];
            fill();
            arm(0, loads[k].mcontrol, base);
            printf("  at %+d:", off);
            reset(); r = probe_lb(0xbad, base + off); compact("lb", (uintptr_t)probe_lb, r);
            reset(); r = probe_lh(0xbad, base + off); compact("lh", (uintptr_t)probe_lh, r);
            reset(); r = probe_lw(0xbad, base + off); compact("lw", (uintptr_t)probe_lw, r);
            reset(); r = probe_ld(0xbad, base + off); compact("ld", (uintptr_t)probe_ld, r);
            printf("\n");
        }
    }
    disarm_all();

    struct { const char *name; uint64_t mcontrol; } stores[] = {
        {"store size any", TYPE(2) | MODE_M | STORE},
        {"store size 2", TYPE(2) | SIZELO(2) | MODE_M | STORE},
        {"load only", TYPE(2) | MODE_M | LOAD},
    };
    const int store_offsets[] = {-8, -2, 0, 1, 6, 8};
    struct trap_record saved;
    for (unsigned k = 0; k < sizeof stores / sizeof stores[0]; k++) {
        printf(" %s\n", stores[k].name);
        for (unsigned j = 0; j < sizeof store_offsets / sizeof store_offsets[0]; j++) {
            int off = store_offsets[j];
            char what[64];
            fill();
            arm(0, stores[k].mcontrol, base);
            reset(); probe_sb(base + off, 0xa5);
            saved = last; disarm_all(); last = saved;
            snprintf(what, sizeof what, "sb at %+d, word then %016llx", off, (unsigned long long)words[2]);
            report2(what, (uintptr_t)probe_sb, base, 0);
            fill();
            arm(0, stores[k].mcontrol, base);
            reset(); probe_sw(base + off, 0xa5a5a5a5);
            saved = last; disarm_all(); last = saved;
            snprintf(what, sizeof what, "sw at %+d, word then %016llx", off, (unsigned long long)words[2]);
            report2(what, (uintptr_t)probe_sw, base, 0);
            fill();
            arm(0, stores[k].mcontrol, base);
            reset(); probe_sd(base + off, 0xa5a5a5a5a5a5a5a5UL);
            saved = last; disarm_all(); last = saved;
            snprintf(what, sizeof what, "sd at %+d, word then %016llx", off, (unsigned long long)words[2]);
            report2(what, (uintptr_t)probe_sd, base, 0);
        }
    }

    printf(" atomics and FP\n");
    const uint64_t kinds[] = {TYPE(2) | MODE_M | LOAD, TYPE(2) | MODE_M | STORE};
    const char *kind_names[] = {"load", "store"};
    for (int k = 0; k < 2; k++) {
        char what[64];
        fill(); arm(0, kinds[k], base);
        reset(); r = probe_amoadd_d(base, 5);
        saved = last; disarm_all(); last = saved;
        snprintf(what, sizeof what, "amoadd.d, %s trigger, word %016llx", kind_names[k], (unsigned long long)words[2]);
        report2(what, (uintptr_t)probe_amoadd_d, base, r);
        fill(); arm(0, kinds[k], base);
        reset(); r = probe_lr_d(0xbad, base);
        saved = last; disarm_all(); last = saved;
        snprintf(what, sizeof what, "lr.d, %s trigger", kind_names[k]);
        report2(what, (uintptr_t)probe_lr_d, base, r);
        fill(); arm(0, kinds[k], base);
        reset(); r = probe_lr_sc_d(base, 7);
        saved = last; disarm_all(); last = saved;
        snprintf(what, sizeof what, "lr.d+sc.d, %s trigger, word %016llx", kind_names[k], (unsigned long long)words[2]);
        report2(what, (uintptr_t)sc_instruction, base, r);
        fill(); arm(0, kinds[k], base);
        reset(); r = probe_fld(0xbad, base);
        saved = last; disarm_all(); last = saved;
        snprintf(what, sizeof what, "fld, %s trigger", kind_names[k]);
        report2(what, (uintptr_t)probe_fld, base, r);
        fill(); arm(0, kinds[k], base);
        reset(); probe_fsd(base, 0x4000000000000000UL);
        saved = last; disarm_all(); last = saved;
        snprintf(what, sizeof what, "fsd, %s trigger, word %016llx", kind_names[k], (unsigned long long)words[2]);
        report2(what, (uintptr_t)fsd_instruction, base, 0);
    }

    printf(" two triggers\n");
    fill();
    arm(0, TYPE(2) | MODE_M | STORE, base);
    arm(1, TYPE(2) | MODE_M | LOAD, base + 16);
    reset(); r = probe_ld(0xbad, base); report2("ld at trigger 0 (store)", (uintptr_t)probe_ld, base, r);
    reset(); r = probe_ld(0xbad, base + 16); report2("ld at trigger 1 (load)", (uintptr_t)probe_ld, base, r);
    reset(); probe_sd(base, 1); report2("sd at trigger 0 (store)", (uintptr_t)probe_sd, base, 0);
    reset(); probe_sd(base + 16, 1); report2("sd at trigger 1 (load)", (uintptr_t)probe_sd, base, 0);
    disarm_all();
    /* A disarmed trigger (no mode bits) never fires. */
    arm(0, TYPE(2) | LOAD | STORE | EXECUTE, base);
    reset(); r = probe_ld(0xbad, base); report2("no mode bits", (uintptr_t)probe_ld, base, r);
    arm(0, TYPE(2) | MODE_M, base);
    reset(); r = probe_ld(0xbad, base); report2("no access bits", (uintptr_t)probe_ld, base, r);
    disarm_all();
}

static void test_user(void)
{
    printf("-- U-mode --\n");
    uintptr_t base = (uintptr_t)&words[4];
    uint64_t r;
    fill();
    arm(0, TYPE(2) | MODE_U | LOAD, base);
    reset(); r = probe_enter_user(user_load, base); report2("U load, U trigger", (uintptr_t)user_load_instruction, base, r);
    arm(0, TYPE(2) | MODE_M | LOAD, base);
    reset(); r = probe_enter_user(user_load, base); report2("U load, M trigger", (uintptr_t)user_load_instruction, base, r);
    arm(0, TYPE(2) | MODE_U | EXECUTE, (uintptr_t)user_exec_target);
    reset(); r = probe_enter_user(user_exec, 10); report("U exec, U trigger", (uintptr_t)user_exec_target, r);
    arm(0, TYPE(2) | MODE_S | EXECUTE, (uintptr_t)user_exec_target);
    reset(); r = probe_enter_user(user_exec, 10); report("U exec, S trigger", (uintptr_t)user_exec_target, r);
    disarm_all();
}

/*
 * The checks of the official ISA test rv64mi-p-breakpoint (riscv-tests, isa/rv64mi/breakpoint.S),
 * re-expressed here: each step has a number, and only even-numbered steps may trap, each with a
 * breakpoint exception that the handler skips. Steps the hardware cannot do (tselect hard-wired,
 * a type it lacks) end the test as a pass, as there.
 */
static int step;
static int breakpoint_failures;
static uint64_t data1, data2;

static void bp_expect(int ok, const char *what)
{
    if (!ok) {
        breakpoint_failures++;
        printf("  step %d FAIL: %s\n", step, what);
    }
}

static void bp_step_traps(int traps_expected)
{
    bp_expect(last.count == traps_expected, traps_expected ? "expected a breakpoint" : "unexpected trap");
    if (last.count)
        bp_expect(last.mcause == CAUSE_BREAKPOINT, "cause is not breakpoint");
    bp_expect(traps_expected == 0 || (step & 1) == 0, "odd steps must not trap");
}

static void breakpoint_test(void)
{
    printf("-- rv64mi breakpoint logic --\n");
    step = 2;
    CSR_WRITE(CSR_TCONTROL, 0);
    { uint64_t v = CSR_READ(CSR_TCONTROL); (void)v; }
    reset(); __asm__ volatile (".option push\n.option norvc\ncsrs 0x7a5, %0\n.option pop" :: "r"(8UL));
    CSR_WRITE(CSR_TSELECT, 0);
    if (CSR_READ(CSR_TSELECT) != 0) { printf("  tselect hard-wired: pass\n"); return; }
    if ((CSR_READ(CSR_TDATA1) >> 60) != 2) { printf("  no type-2 trigger: pass\n"); return; }

    uint64_t want = TYPE(2) | MODE_M | EXECUTE;
    CSR_WRITE(CSR_TDATA2, (uintptr_t)exec_second);
    CSR_WRITE(CSR_TDATA1, want);
    if (CSR_READ(CSR_TDATA1) == want) {
        reset(); uint64_t r = probe_exec_call(0);
        bp_step_traps(1);
        bp_expect(r == 5, "the triggering instruction ran");
        step = 3;
        reset(); uint64_t v = probe_lw(0, (uintptr_t)exec_second); (void)v;
        bp_step_traps(0);
    }

    step = 4;
    want = TYPE(2) | MODE_M | LOAD;
    CSR_WRITE(CSR_TDATA1, want);
    if (CSR_READ(CSR_TDATA1) == want) {
        CSR_WRITE(CSR_TDATA2, (uintptr_t)&data1);
        reset(); uint64_t r = probe_lw(0x77, (uintptr_t)&data1);
        bp_step_traps(1);
        bp_expect(r == 0x77, "the triggering load wrote its register");
        step = 5;
        reset(); probe_sw((uintptr_t)&data1, 0);
        bp_step_traps(0);
    }

    step = 6;
    want = TYPE(2) | MODE_M | STORE;
    CSR_WRITE(CSR_TDATA1, want);
    if (CSR_READ(CSR_TDATA1) != want) goto done;
    reset(); probe_sw((uintptr_t)&data1, (uintptr_t)&data1);
    bp_step_traps(1);
    step = 7;
    reset(); uint64_t v = probe_lw(0x77, (uintptr_t)&data1);
    bp_step_traps(0);
    bp_expect(v == 0, "the triggering store reached memory");

    /* A second trigger, if there is one. */
    CSR_WRITE(CSR_TSELECT, 1);
    if (CSR_READ(CSR_TSELECT) != 1) { printf("  one trigger only\n"); goto done; }
    CSR_WRITE(CSR_TDATA1, TYPE(2) | MODE_M | LOAD);
    CSR_WRITE(CSR_TDATA2, (uintptr_t)&data2);
    step = 8;
    reset(); v = probe_lw(0x77, (uintptr_t)&data2);
    bp_step_traps(1);
    bp_expect(v == 0x77, "second trigger: the load wrote its register");
    step = 10;
    reset(); probe_sw((uintptr_t)&data1, (uintptr_t)&data1);
    bp_step_traps(1);
    step = 11;
    reset(); v = probe_lw(0x77, (uintptr_t)&data1);
    bp_step_traps(0);
    bp_expect(v == 0, "first trigger: the store reached memory");

done:
    disarm_all();
    printf("  breakpoint logic: %s\n", breakpoint_failures ? "FAIL" : "pass");
}

int main(void)
{
    printf("triggers guest\n");
    /* U-mode needs PMP permission for memory (priv. spec 3.7.1): one NAPOT entry for everything. */
    csr_write(pmpaddr0, ~0UL >> 10);
    csr_write(pmpcfg0, 0x1f);
    csr_set(mstatus, 1UL << 13);    /* FS = Initial, for fld/fsd */
    trap_set_handler(handler);
    trap_use_direct();

    test_csrs();
    test_execute();
    test_data();
    test_user();
    breakpoint_test();

    trap_set_handler(NULL);
    printf("failures: %d\n", breakpoint_failures);
    return breakpoint_failures;
}
