/* The demo guest's parts: a console (input by interrupt-woken wfi), the Goldfish RTC, a virtio-rng driver. */
#ifndef DEMO_H
#define DEMO_H

#include <stdint.h>

/* console.c: NS16550A at 0x1000_0000; output polled, input waited for with wfi and the receive
 * interrupt (PLIC source 10, M-mode context). Never touches the FIFO control register: on QEMU
 * enabling or resetting the FIFOs flushes bytes already received from a pipe. */
int  console_getc(void);                 /* sleeps (wfi) until a byte arrives */
void console_putc(char c);
void console_puts(const char *s);
void console_putu(uint64_t v);           /* decimal */
void console_puthex(uint64_t v, int digits);
/* Reads one line into buf (at most size - 1 characters), echoing what is typed; handles
 * backspace and both CR and LF endings. Returns the length. */
int  console_readline(char *buf, int size);

/* rtc.c: Goldfish RTC at 0x10_1000. */
uint64_t rtc_nanoseconds(void);          /* since the Unix epoch, UTC */
void     rtc_print_utc(uint64_t ns);     /* YYYY-MM-DD HH:MM:SS UTC */

/* virtio_rng.c: the first virtio-mmio slot holding device ID 4. */
int  rng_init(void);                     /* 0 when found and set up */
int  rng_read(uint8_t *buf, uint32_t len); /* bytes the device wrote, or -1 */
uint64_t rng_slot_address(void);

#endif
