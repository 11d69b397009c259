/*
 * Spike-style HTIF console and exit (riscv-isa-sim fesvr). The host polls the 64-bit `tohost`
 * word; a command is device << 56 | command << 48 | payload. Device 1 ("bcd") command 1 writes the
 * payload byte to the console. The host clears `tohost` once it has taken the command and may
 * answer in `fromhost`, which the guest must clear again. Any odd value with device 0 ends the
 * simulation: 1 = pass, (code << 1) | 1 = fail with `code`.
 */
#include <stdio.h>
#include <stdint.h>

volatile uint64_t tohost __attribute__((section(".tohost"), aligned(64)));
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(64)));

#define HTIF_DEV_CONSOLE 1ULL
#define HTIF_CMD_PUTCHAR 1ULL

static void htif_send(uint64_t command)
{
    while (tohost != 0) {
        /* The previous command is still pending; drop any answer the host already posted. */
        if (fromhost != 0)
            fromhost = 0;
    }
    tohost = command;
    while (tohost != 0)
        ;
    if (fromhost != 0)
        fromhost = 0;
}

static int stdio_put(char c, FILE *f)
{
    (void)f;
    htif_send(HTIF_DEV_CONSOLE << 56 | HTIF_CMD_PUTCHAR << 48 | (unsigned char)c);
    return (unsigned char)c;
}

static FILE console = FDEV_SETUP_STREAM(stdio_put, NULL, NULL, _FDEV_SETUP_WRITE);

FILE *const stdin = &console;
FILE *const stdout = &console;
FILE *const stderr = &console;

void _exit(int code)
{
    tohost = ((uint64_t)(unsigned)code << 1) | 1;
    for (;;)
        ;
}
