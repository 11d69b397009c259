/*
 * Polled NS16550A console on QEMU virt's UART0, hooked into picolibc's stdio.
 * Register offsets follow the 16550 datasheet (byte-wide registers, stride 1 on virt).
 */
#include <stdio.h>
#include <stdint.h>
#include "platform.h"
#include "uart.h"

#define UART_REG(off) (((volatile uint8_t *)VIRT_UART0_BASE)[off])
#define UART_THR 0          /* transmit holding register (write) */
#define UART_IER 1
#define UART_FCR 2          /* FIFO control (write) */
#define UART_LCR 3
#define UART_LSR 5
#define LSR_THRE 0x20       /* THR empty: one more byte may be written */
#define LSR_TEMT 0x40       /* THR and shift register both empty */

static int initialised;

void uart_init(void)
{
    UART_REG(UART_IER) = 0x00;  /* polled: no interrupts */
    UART_REG(UART_LCR) = 0x03;  /* 8 data bits, no parity, 1 stop bit */
    UART_REG(UART_FCR) = 0x07;  /* enable and reset both FIFOs */
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
    return _FDEV_EOF;   /* the guests never read the console */
}

static FILE console = FDEV_SETUP_STREAM(stdio_put, stdio_get, NULL, _FDEV_SETUP_RW);

FILE *const stdin = &console;
FILE *const stdout = &console;
FILE *const stderr = &console;
