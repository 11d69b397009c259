/* Minimal M-mode trap support shared by the guests. */
#ifndef GUEST_TRAP_H
#define GUEST_TRAP_H

#include <stdint.h>

/* Layout must match trap_entry.S: x[0..31] (x[0] holds the vector index), then CSRs. */
struct trap_frame {
    uint64_t x[32];     /* x[2] is the sp at the time of the trap */
    uint64_t mepc;      /* written back to mepc before mret */
    uint64_t mstatus;   /* written back to mstatus before mret */
    uint64_t mcause;
    uint64_t mtval;
};
#define TRAP_VECTOR(f) ((int64_t)(f)->x[0])   /* -1 = direct mode, else vectored slot */

typedef void (*trap_handler_t)(struct trap_frame *frame);

/* Handler called for every trap; NULL restores the catch-all that reports and exits. */
void trap_set_handler(trap_handler_t handler);
void trap_use_direct(void);
void trap_use_vectored(void);

/* Exit status used when a trap nobody expected ends the run. */
#define TRAP_UNEXPECTED_EXIT 99

/* Entry points in trap_entry.S. */
extern char trap_entry_direct[];
extern char trap_vector_table[];

#endif
