/*
 * Interrupt-driven NS16550A on PLIC source 10: a string sent one byte per THR-empty interrupt,
 * then a line typed by the host received through receive-data interrupts and echoed.
 * The polled console (common/uart.c) shares the UART; nothing prints while the interrupts run.
 */
#include <stdio.h>
#include <string.h>
#include "kernel.h"
#include "uart.h"

#define UART_BASE 0x10000000UL
#define UART_REG(off) (((volatile uint8_t *)UART_BASE)[off])
#define UART_RBR 0
#define UART_THR 0
#define UART_IER 1
#define UART_IIR 2
#define UART_LSR 5
#define IER_RDI  0x01   /* received data available */
#define IER_THRI 0x02   /* transmitter holding register empty */
#define IIR_NO_INTERRUPT 0x01
#define LSR_DR   0x01
#define LSR_THRE 0x20
#define UART_IRQ 10
#define TIMEOUT_TICKS 50000000UL   /* 5 s of the 10 MHz timebase */

static const char tx_message[] = "uart: this line was sent by THR-empty interrupts\n";
static volatile size_t tx_next;
static volatile int tx_done;
static volatile unsigned tx_bytes;

static char rx_line[32];
static volatile size_t rx_length;
static volatile int rx_done;

static void transmit_next(void)
{
    if (tx_next < sizeof tx_message - 1) {
        UART_REG(UART_THR) = (uint8_t)tx_message[tx_next++];
        tx_bytes++;
    } else {
        UART_REG(UART_IER) &= (uint8_t)~IER_THRI;
        tx_done = 1;
    }
}

static void receive_all(void)
{
    while (UART_REG(UART_LSR) & LSR_DR) {
        char c = (char)UART_REG(UART_RBR);
        if (rx_done)
            continue;               /* anything after the line is ignored */
        uart_putc(c);               /* echo */
        if (c == '\n' || c == '\r') {
            rx_done = 1;
        } else if (rx_length < sizeof rx_line - 1) {
            rx_line[rx_length++] = c;
        }
    }
}

/* IIR names the highest-priority cause; reading it clears a THR-empty one (16550 datasheet). */
void uart_isr(void)
{
    uint8_t iir;
    while (!((iir = UART_REG(UART_IIR)) & IIR_NO_INTERRUPT)) {
        switch (iir & 0x0e) {
        case 0x02:                  /* THR empty */
            if (UART_REG(UART_LSR) & LSR_THRE)
                transmit_next();
            break;
        case 0x04:                  /* receive data available */
        case 0x0c:                  /* character timeout */
            receive_all();
            break;
        case 0x06:                  /* line status: reading LSR clears it */
            (void)UART_REG(UART_LSR);
            break;
        default:
            receive_all();
            break;
        }
    }
}

void uart_irq_test(void)
{
    fflush(stdout);
    uart_drain();
    plic_enable(UART_IRQ);

    UART_REG(UART_IER) = IER_THRI;  /* THR is empty: the first interrupt comes at once */
    wait_for(&tx_done, TIMEOUT_TICKS, "the interrupt-driven transmission");
    uart_drain();
    printf("uart: %u bytes sent by interrupts via PLIC S-context source %d\n", tx_bytes, UART_IRQ);
    expect(tx_bytes == sizeof tx_message - 1, "every byte of the message was sent");

    printf("type: ");
    fflush(stdout);
    uart_drain();
    UART_REG(UART_IER) = IER_RDI;
    wait_for(&rx_done, TIMEOUT_TICKS, "a line on the console");
    UART_REG(UART_IER) = 0;
    plic_disable(UART_IRQ);
    rx_line[rx_length] = '\0';
    printf("uart: received \"%s\" (%u bytes) by interrupts\n", rx_line, (unsigned)rx_length);
    expect(strcmp(rx_line, "hello") == 0, "the typed line is \"hello\"");
}
