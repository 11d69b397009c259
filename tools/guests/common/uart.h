#ifndef GUEST_UART_H
#define GUEST_UART_H

void uart_init(void);
void uart_putc(char c);
/* Waits until the transmitter is completely empty, so no output is lost at exit. */
void uart_drain(void);

#endif
