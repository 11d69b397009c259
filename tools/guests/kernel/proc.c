/*
 * U-mode processes: two programs from user.S, each in its own Sv39 address space, run round
 * robin. A process gives up the hart with sched_yield, exit, or a fault (which kills it); the
 * kernel never preempts, so the interleaving, and hence the output, is deterministic.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include "csr.h"
#include "kernel.h"

#define SYS_write       64
#define SYS_exit        93
#define SYS_sched_yield 124
#define SYS_getpid      172
#define EFAULT 14
#define ENOSYS 38
#define MAX_WRITE 128

extern char user_a_start[], user_a_end[], user_b_start[], user_b_end[];

enum proc_state { PROC_FREE, PROC_RUNNABLE, PROC_DEAD };

struct proc {
    int pid;
    enum proc_state state;
    uint64_t *root;
    struct kframe frame;    /* user registers while the process is not running */
};

#define NPROC 2
static struct proc procs[NPROC];
static int current;
static unsigned switches;
static jmp_buf all_done;

/*
 * Traps from U-mode land on this stack (sscratch points at its top), so the running process's
 * registers are always the frame just below the top: switching process = swapping that frame.
 */
static uint8_t trap_stack[16384] __attribute__((aligned(16)));
#define USER_FRAME ((struct kframe *)(trap_stack + sizeof trap_stack) - 1)

static const char *fault_name(uint64_t cause)
{
    switch (cause) {
    case EXC_INSN_PAGE_FAULT: return "instruction page fault";
    case EXC_LOAD_PAGE_FAULT: return "load page fault";
    case EXC_STORE_PAGE_FAULT: return "store page fault";
    default: return "unexpected exception";
    }
}

static void create(int slot, const char *start, const char *end)
{
    struct proc *p = &procs[slot];
    p->pid = slot + 1;
    p->state = PROC_RUNNABLE;
    p->root = vm_new_user_space(start, (size_t)(end - start));
    memset(&p->frame, 0, sizeof p->frame);
    p->frame.epc = USER_BASE;
    p->frame.x[REG_SP] = USER_END;
    /* sret to U-mode (SPP = 0) with SUM clear; SPIE = 1 like any kernel would set. */
    p->frame.status = (csr_read(sstatus) & ~(SSTATUS_SPP | SSTATUS_SUM | SSTATUS_SIE)) | SSTATUS_SPIE;
}

/* Saves the running process's registers and loads the next runnable one (round robin). */
static void schedule(struct kframe *frame)
{
    if (procs[current].state == PROC_RUNNABLE)
        procs[current].frame = *frame;
    for (int step = 1; step <= NPROC; step++) {
        int next = (current + step) % NPROC;
        if (procs[next].state != PROC_RUNNABLE)
            continue;
        if (next != current)
            switches++;
        current = next;
        *frame = procs[next].frame;
        vm_switch(procs[next].root);
        return;
    }
    longjmp(all_done, 1);
}

static int user_range_ok(uint64_t address, uint64_t length)
{
    return length <= MAX_WRITE && address >= USER_BASE && address <= USER_END - length;
}

/* write(buffer, length) to the console. The copy from user memory needs sstatus.SUM (4.1.1). */
static int64_t sys_write(uint64_t address, uint64_t length)
{
    if (!user_range_ok(address, length))
        return -EFAULT;
    char buffer[MAX_WRITE];
    csr_set(sstatus, SSTATUS_SUM);
    memcpy(buffer, (const void *)address, length);
    csr_clear(sstatus, SSTATUS_SUM);
    fwrite(buffer, 1, length, stdout);
    return (int64_t)length;
}

static void syscall(struct kframe *frame)
{
    struct proc *p = &procs[current];
    frame->epc += 4;
    switch (frame->x[REG_A7]) {
    case SYS_write:
        frame->x[REG_A0] = (uint64_t)sys_write(frame->x[REG_A0], frame->x[REG_A1]);
        break;
    case SYS_getpid:
        frame->x[REG_A0] = (uint64_t)p->pid;
        break;
    case SYS_sched_yield:
        frame->x[REG_A0] = 0;
        schedule(frame);
        break;
    case SYS_exit:
        printf("S: pid %d exited with status %d\n", p->pid, (int)frame->x[REG_A0]);
        expect((int)frame->x[REG_A0] == 40 + p->pid, "process exit status is 40 + pid");
        p->state = PROC_DEAD;
        schedule(frame);
        break;
    default:
        frame->x[REG_A0] = (uint64_t)-ENOSYS;
        break;
    }
}

/* Called by s_trap for every exception taken from U-mode. */
int proc_handle_trap(struct kframe *frame)
{
    if (frame->cause == EXC_ECALL_U) {
        syscall(frame);
        return 1;
    }
    struct proc *p = &procs[current];
    printf("S: pid %d killed: %s (scause %llu) at stval=0x%llx\n", p->pid,
           fault_name(frame->cause), (unsigned long long)frame->cause,
           (unsigned long long)frame->tval);
    p->state = PROC_DEAD;
    schedule(frame);
    return 1;
}

static void check_sum_gates_user_access(void)
{
    uint64_t expected;
    memcpy(&expected, user_a_start, sizeof expected);
    vm_switch(procs[0].root);
    probe_active = 1;
    probe_cause = probe_tval = 0;
    uint64_t without = probe_load(USER_BASE);
    csr_set(sstatus, SSTATUS_SUM);
    uint64_t with = probe_load(USER_BASE);
    csr_clear(sstatus, SSTATUS_SUM);
    probe_active = 0;
    vm_switch(vm_kernel_root());
    printf("S: kernel read of a user page with SUM=0: %s (scause %llu); with SUM=1: %s\n",
           without == PROBE_FAULTED ? "page fault" : "allowed", (unsigned long long)probe_cause,
           with == expected ? "ok" : "wrong");
    expect(without == PROBE_FAULTED && probe_cause == EXC_LOAD_PAGE_FAULT && probe_tval == USER_BASE,
           "SUM=0 blocks S-mode loads from U pages");
    expect(with == expected, "SUM=1 allows S-mode loads from U pages");
}

static void check_user_accessed_dirty(void)
{
    int level;
    uint64_t *code = vm_pte(procs[0].root, USER_BASE, &level);
    uint64_t *stack = vm_pte(procs[0].root, USER_STACK_PAGE, &level);
    uint64_t c = code ? *(volatile uint64_t *)code : 0, s = stack ? *(volatile uint64_t *)stack : 0;
    printf("S: user PTEs after the run: code A=%d D=%d, stack A=%d D=%d\n",
           !!(c & PTE_A), !!(c & PTE_D), !!(s & PTE_A), !!(s & PTE_D));
    expect((c & (PTE_A | PTE_D)) == PTE_A, "fetched-only user page: A set, D clear");
    expect((s & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "written user page: A and D set");
}

void proc_run_all(void)
{
    create(0, user_a_start, user_a_end);
    create(1, user_b_start, user_b_end);
    printf("S: created pid 1 and pid 2, each with its own page table, code at 0x%lx\n", USER_BASE);
    check_sum_gates_user_access();
    phase_done("SUM");

    if (setjmp(all_done) == 0) {
        current = 0;
        *USER_FRAME = procs[0].frame;
        vm_switch(procs[0].root);
        s_return_to(USER_FRAME);
    }
    /* Back from the last process's exit or kill, still on the trap stack's caller frame. */
    vm_switch(vm_kernel_root());
    printf("S: all processes finished after %u context switches\n", switches);
    expect(procs[0].state == PROC_DEAD && procs[1].state == PROC_DEAD, "both processes ended");
    check_user_accessed_dirty();
}
