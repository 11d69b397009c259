/*
 * Polled NS16550A console (UART0) for picolibc's stdio, implementing common/uart.h.
 *
 * Unlike common/uart.c it never writes FCR: enabling the FIFOs flushes the receiver (QEMU does
 * so on any change of FCR.FE, as the 16550 datasheet describes), which would throw away bytes
 * the host typed before the kernel got here. With FIFOs off the UART holds one received byte
 * and QEMU keeps the rest of the input queued until RBR is read, so no input is ever lost.
 */
#include <stdio.h>
#include <stdint.h>
#include "platform.h"
#include "uart.h"

#define UART_REG(off) (((volatile uint8_t *)VIRT_UART0_BASE)[off])
#define UART_THR 0
#define UART_LCR 3
#define UART_LSR 5
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

static int initialised;

void uart_init(void)
{
    UART_REG(UART_LCR) = 0x03;  /* 8 data bits, no parity, 1 stop bit; IER keeps its reset 0 */
    initialised = 1;
}

void uart_putc(char c)
{
    if (!initialised)
        uart_init();
    while ((UART_REG(UART_LSR) & LSR_THRE) == 0)
        ;
    UART_REG(UART_THR) = (uint8_t)c;
}

void uart_drain(void)
{
    if (!initialised)
        return;
    while ((UART_REG(UART_LSR) & LSR_TEMT) == 0)
        ;
}

static int stdio_put(char c, FILE *f)
{
    (void)f;
    uart_putc(c);
    return (unsigned char)c;
}

static int stdio_get(FILE *f)
{
    (void)f;
    return _FDEV_EOF;   /* input is read by interrupts (uart_irq.c), not through stdio */
}

static FILE console = FDEV_SETUP_STREAM(stdio_put, stdio_get, NULL, _FDEV_SETUP_RW);

FILE *const stdin = &console;
FILE *const stdout = &console;
FILE *const stderr = &console;
