/*
 * PLIC, S-mode context of hart 0 (context 1 on QEMU virt; SiFive PLIC layout as used by QEMU's
 * hw/intc/sifive_plic.c): priority at 4*irq, enables at 0x2000 + 0x80*ctx, threshold and
 * claim/complete at 0x20_0000 + 0x1000*ctx.
 */
#include <stdio.h>
#include <stdlib.h>
#include "csr.h"
#include "kernel.h"

#define PLIC_BASE 0x0c000000UL
#define PLIC_CONTEXT 1
#define PLIC_PRIORITY(irq) ((volatile uint32_t *)(PLIC_BASE + 4 * (irq)))
#define PLIC_ENABLE(irq)   ((volatile uint32_t *)(PLIC_BASE + 0x2000 + 0x80 * PLIC_CONTEXT + 4 * ((irq) / 32)))
#define PLIC_THRESHOLD     ((volatile uint32_t *)(PLIC_BASE + 0x200000 + 0x1000 * PLIC_CONTEXT))
#define PLIC_CLAIM         ((volatile uint32_t *)(PLIC_BASE + 0x200004 + 0x1000 * PLIC_CONTEXT))
#define UART_IRQ 10

void plic_enable(unsigned irq)
{
    *PLIC_PRIORITY(irq) = 1;
    *PLIC_ENABLE(irq) |= 1u << (irq % 32);
    *PLIC_THRESHOLD = 0;
    csr_set(sie, SIE_SEIE);
}

void plic_disable(unsigned irq)
{
    *PLIC_ENABLE(irq) &= ~(1u << (irq % 32));
    *PLIC_PRIORITY(irq) = 0;
}

/* Claims every pending source, runs its handler, completes it (PLIC spec, claim/complete). */
void plic_dispatch(void)
{
    uint32_t irq;
    while ((irq = *PLIC_CLAIM) != 0) {
        if (irq == UART_IRQ) {
            uart_isr();
        } else if ((int)irq == virtio_blk_irq()) {
            virtio_blk_isr();
        } else {
            printf("FAIL: unexpected PLIC source %u\n", (unsigned)irq);
            exit(95);
        }
        *PLIC_CLAIM = irq;
    }
}
