/*
 * Console on QEMU virt's NS16550A (16550 datasheet register offsets, stride 1). Output is polled;
 * input waits with wfi for the UART's receive interrupt, so an idle shell executes nothing: the
 * UART raises PLIC source 10, enabled for hart 0's M-mode context, which sets mip.MEIP. With
 * mie.MEIE set and mstatus.MIE clear no trap is ever taken, but wfi still wakes on the pending,
 * enabled interrupt (privileged spec 3.3.3); claiming and completing it clears the PLIC's pending
 * bit for the next wait.
 */
#include "csr.h"
#include "demo.h"
#include "platform.h"

#define UART_REG(off) (((volatile uint8_t *)VIRT_UART0_BASE)[off])
#define UART_RBR 0
#define UART_THR 0
#define UART_IER 1
#define UART_LSR 5
#define IER_RDI  0x01   /* interrupt when a received byte is waiting */
#define LSR_DR   0x01   /* a received byte is waiting */
#define LSR_THRE 0x20   /* room for one more byte to send */

/* PLIC as on QEMU virt (hw/intc/sifive_plic.c layout); context 0 is hart 0's M-mode. */
#define PLIC_BASE          0x0c000000UL
#define PLIC_CONTEXT       0
#define UART_IRQ           10
#define PLIC_PRIORITY(irq) ((volatile uint32_t *)(PLIC_BASE + 4 * (irq)))
#define PLIC_ENABLE(irq)   ((volatile uint32_t *)(PLIC_BASE + 0x2000 + 0x80 * PLIC_CONTEXT + 4 * ((irq) / 32)))
#define PLIC_THRESHOLD     ((volatile uint32_t *)(PLIC_BASE + 0x200000 + 0x1000 * PLIC_CONTEXT))
#define PLIC_CLAIM         ((volatile uint32_t *)(PLIC_BASE + 0x200004 + 0x1000 * PLIC_CONTEXT))

static void receive_interrupt_init(void)
{
    *PLIC_PRIORITY(UART_IRQ) = 1;
    *PLIC_ENABLE(UART_IRQ) |= 1u << (UART_IRQ % 32);
    *PLIC_THRESHOLD = 0;
    csr_set(mie, MIP_MEIP);
    UART_REG(UART_IER) = IER_RDI;
}

int console_getc(void)
{
    static int waiting_set_up;
    if (!waiting_set_up) {
        receive_interrupt_init();
        waiting_set_up = 1;
    }
    while ((UART_REG(UART_LSR) & LSR_DR) == 0) {
        /* A byte arriving after the test above leaves the interrupt pending: wfi returns at once. */
        __asm__ volatile ("wfi");
        uint32_t irq = *PLIC_CLAIM;
        if (irq)
            *PLIC_CLAIM = irq;
    }
    return UART_REG(UART_RBR);
}

void console_putc(char c)
{
    while ((UART_REG(UART_LSR) & LSR_THRE) == 0)
        ;
    UART_REG(UART_THR) = (uint8_t)c;
}

void console_puts(const char *s)
{
    while (*s)
        console_putc(*s++);
}

void console_putu(uint64_t v)
{
    char digits[21];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        console_putc(digits[--n]);
}

void console_puthex(uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        console_putc("0123456789abcdef"[(v >> (4 * i)) & 15]);
}

int console_readline(char *buf, int size)
{
    static int last_was_cr;
    int len = 0;
    for (;;) {
        int c = console_getc();
        /* A terminal sends CR, a file LF, some both: CR LF counts as one line end. */
        if (c == '\n' && last_was_cr) {
            last_was_cr = 0;
            continue;
        }
        last_was_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            console_putc('\n');
            buf[len] = 0;
            return len;
        }
        if (c == 0x7f || c == 0x08) {
            if (len > 0) {
                len--;
                console_puts("\b \b");
            }
            continue;
        }
        if (c < 0x20 || c > 0x7e || len >= size - 1)
            continue;   /* control characters and overlong lines are dropped */
        buf[len++] = (char)c;
        console_putc((char)c);
    }
}
