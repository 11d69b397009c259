#include <stdio.h>
#include <stdlib.h>
#include "csr.h"
#include "trap.h"

static trap_handler_t current_handler;

void trap_set_handler(trap_handler_t handler)
{
    current_handler = handler;
}

/* mtvec MODE field (privileged spec 3.1.7): 0 = direct, 1 = vectored. */
void trap_use_direct(void)
{
    csr_write(mtvec, (uint64_t)trap_entry_direct);
}

void trap_use_vectored(void)
{
    csr_write(mtvec, (uint64_t)trap_vector_table | 1);
}

void trap_dispatch(struct trap_frame *frame)
{
    if (current_handler) {
        current_handler(frame);
        return;
    }
    printf("unexpected trap: mcause=0x%llx mepc=0x%llx mtval=0x%llx\n",
           (unsigned long long)frame->mcause, (unsigned long long)frame->mepc,
           (unsigned long long)frame->mtval);
    exit(TRAP_UNEXPECTED_EXIT);
}
