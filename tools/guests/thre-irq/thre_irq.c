/*
 * Interrupt-driven UART transmit the way older teaching kernels do it: the 16550's THR-empty
 * interrupt (IER.ETBEI) is enabled through the PLIC and the handler NEVER reads IIR. Each
 * interrupt claims the source, writes the next byte if there is one, and completes.
 *
 * On QEMU 7.2 this works: the THRE event is raised when THR empties (after each byte written)
 * and the PLIC makes the UART pending only when the UART signals its line, so once the message
 * is out, one last interrupt finds nothing to send and the UART falls silent. A model in which
 * the PLIC re-pends a source at completion merely because its level is still high (THRE pending,
 * never cleared since IIR is never read) traps forever and never gets back to main.
 *
 * Prints the message through interrupts, then (polled, interrupts off) how many interrupts it
 * took and whether the UART stayed quiet afterwards; exits 0 if everything is as expected.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "csr.h"
#include "platform.h"
#include "trap.h"

#define UART ((volatile uint8_t *)VIRT_UART0_BASE)
#define UART_THR 0
#define UART_IER 1
#define UART_LSR 5
#define IER_ETBEI 0x02
#define LSR_THRE 0x20

/* QEMU virt's PLIC: priority per source, M-mode context 0 enables, threshold and claim/complete. */
#define PLIC_BASE 0x0c000000UL
#define PLIC_PRIORITY(source) (*(volatile uint32_t *)(PLIC_BASE + 4UL * (source)))
#define PLIC_M_ENABLE0 (*(volatile uint32_t *)(PLIC_BASE + 0x2000))
#define PLIC_M_THRESHOLD (*(volatile uint32_t *)(PLIC_BASE + 0x200000))
#define PLIC_M_CLAIM (*(volatile uint32_t *)(PLIC_BASE + 0x200004))
#define UART_IRQ 10
#define MCAUSE_MACHINE_EXTERNAL (MCAUSE_INTERRUPT | 11)
#define MIE_MEIE (1UL << 11)

static const char message[] =
    "THRE interrupts, IIR never read:\n"
    "  every byte of these lines went out from the UART interrupt handler.\n";

static volatile unsigned next_byte;      /* index of the next byte to send */
static volatile unsigned uart_interrupts; /* claims that returned the UART */
static volatile unsigned idle_interrupts; /* of those, claims with nothing left to send */
static volatile unsigned other_claims;    /* claims that returned anything else */

static void on_trap(struct trap_frame *frame)
{
    if (frame->mcause != MCAUSE_MACHINE_EXTERNAL) {
        printf("unexpected trap: mcause 0x%llx mepc 0x%llx\n",
               (unsigned long long)frame->mcause, (unsigned long long)frame->mepc);
        exit(TRAP_UNEXPECTED_EXIT);
    }
    uint32_t source = PLIC_M_CLAIM;
    if (source == UART_IRQ) {
        uart_interrupts++;
        /* Deliberately no IIR read: LSR says whether THR can take a byte. */
        if ((UART[UART_LSR] & LSR_THRE) && next_byte < sizeof message - 1)
            UART[UART_THR] = (uint8_t)message[next_byte++];
        else
            idle_interrupts++;
    } else if (source != 0) {
        other_claims++;
    }
    if (source != 0)
        PLIC_M_CLAIM = source; /* complete */
}

int main(void)
{
    trap_set_handler(on_trap);
    trap_use_direct();

    PLIC_PRIORITY(UART_IRQ) = 1;
    PLIC_M_THRESHOLD = 0;
    PLIC_M_ENABLE0 = 1u << UART_IRQ;
    csr_set(mie, MIE_MEIE);
    csr_set(mstatus, MSTATUS_MIE);

    /* Switching ETBEI on while THR is empty raises the THRE event: the first interrupt. */
    UART[UART_IER] = IER_ETBEI;

    while (next_byte < sizeof message - 1)
        ;
    /* Give a storm every chance to show: the handler would keep running instead of this loop. */
    for (volatile unsigned spin = 0; spin < 20000; spin++)
        ;
    unsigned after_message = uart_interrupts;
    for (volatile unsigned spin = 0; spin < 20000; spin++)
        ;

    csr_clear(mstatus, MSTATUS_MIE);
    UART[UART_IER] = 0;

    unsigned sent = sizeof message - 1;
    printf("bytes sent by the handler: %u\n", sent);
    printf("uart interrupts: %u (idle %u), other claims: %u\n", uart_interrupts, idle_interrupts, other_claims);
    printf("interrupts after the message: %u\n", uart_interrupts - after_message);
    int ok = uart_interrupts == sent + 1 && idle_interrupts == 1 && other_claims == 0 && uart_interrupts == after_message;
    printf("%s\n", ok ? "thre-irq: ok" : "thre-irq: FAIL");
    return ok ? 0 : 1;
}
