/* Polled console on QEMU virt's NS16550A (16550 datasheet register offsets, stride 1). */
#include "demo.h"
#include "platform.h"

#define UART_REG(off) (((volatile uint8_t *)VIRT_UART0_BASE)[off])
#define UART_RBR 0
#define UART_THR 0
#define UART_LSR 5
#define LSR_DR   0x01   /* a received byte is waiting */
#define LSR_THRE 0x20   /* room for one more byte to send */

int console_getc(void)
{
    while ((UART_REG(UART_LSR) & LSR_DR) == 0)
        ;
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
