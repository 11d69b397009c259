/*
 * Bare-metal virtio-rng driver (virtio 1.1 section 5.4) on the virtio-mmio v2 transport: finds
 * the device by scanning the slots (QEMU and ReplayVm may place it differently), negotiates
 * VERSION_1, then asks for 32 bytes twice — once as one buffer, once split over two — and
 * prints what the protocol says. The bytes themselves differ between runs; they are printed on a
 * "bytes:" line that the test masks.
 */
#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000)
#define REG(off) (*(volatile uint32_t *)(dev + (off)))

enum { MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, VENDOR_ID = 0x00c, DEVICE_FEATURES = 0x010,
       DEVICE_FEATURES_SEL = 0x014, DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024, QUEUE_SEL = 0x030,
       QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038, QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050,
       INTERRUPT_STATUS = 0x060, INTERRUPT_ACK = 0x064, STATUS = 0x070, QUEUE_DESC_LOW = 0x080,
       QUEUE_DESC_HIGH = 0x084, QUEUE_DRIVER_LOW = 0x090, QUEUE_DRIVER_HIGH = 0x094, QUEUE_DEVICE_LOW = 0x0a0,
       QUEUE_DEVICE_HIGH = 0x0a4 };

#define QSIZE 8
struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct avail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct used_elem { uint32_t id, len; };
struct used { uint16_t flags, idx; struct used_elem ring[QSIZE]; uint16_t avail_event; };

static struct desc descs[QSIZE] __attribute__((aligned(16)));
static struct avail avail __attribute__((aligned(2)));
static struct used used __attribute__((aligned(4)));
static uint8_t buffer[32];
static uintptr_t dev;
static uint16_t next_avail;

static void putc(char c) { *UART = c; }
static void puts(const char *s) { while (*s) putc(*s++); }
static void hex(uint64_t v, int digits) { for (int i = digits - 1; i >= 0; i--) putc("0123456789abcdef"[(v >> (4 * i)) & 15]); }
static void line(const char *label, uint64_t v) { puts(label); puts("0x"); hex(v, 8); putc('\n'); }

static void request(int split)
{
    for (int i = 0; i < 32; i++) buffer[i] = 0;
    if (split) {
        descs[0] = (struct desc){ (uintptr_t)buffer, 16, 1 | 2, 1 };
        descs[1] = (struct desc){ (uintptr_t)buffer + 16, 16, 2, 0 };
    } else {
        descs[0] = (struct desc){ (uintptr_t)buffer, 32, 2, 0 };
    }
    avail.ring[next_avail % QSIZE] = 0;
    __sync_synchronize();
    avail.idx = ++next_avail;
    __sync_synchronize();
    REG(QUEUE_NOTIFY) = 0;
    /* QEMU fills the buffer from its main loop: wait (bounded) for the used ring and the interrupt. */
    for (long spin = 0; spin < 100000000 && *(volatile uint16_t *)&used.idx != next_avail; spin++) {}
    for (long spin = 0; spin < 100000000 && !(REG(INTERRUPT_STATUS) & 1); spin++) {}
    __sync_synchronize();
    line("  used idx ", used.idx);
    line("  used id  ", used.ring[(next_avail - 1) % QSIZE].id);
    line("  used len ", used.ring[(next_avail - 1) % QSIZE].len);
    line("  isr      ", REG(INTERRUPT_STATUS));
    REG(INTERRUPT_ACK) = REG(INTERRUPT_STATUS);
    line("  isr ack  ", REG(INTERRUPT_STATUS));
    line("  status   ", REG(STATUS));
    int zero_words = 0;
    for (int i = 0; i < 32; i += 4)
        zero_words += (buffer[i] | buffer[i + 1] | buffer[i + 2] | buffer[i + 3]) == 0;
    line("  zero words ", zero_words);
    puts("bytes: ");
    for (int i = 0; i < 32; i++) hex(buffer[i], 2);
    putc('\n');
}

int main(void)
{
    puts("virtio-rng guest\n");
    int found = 0;
    for (int i = 0; i < 8; i++) {
        uintptr_t base = 0x10001000UL + 0x1000UL * i;
        if (*(volatile uint32_t *)base != 0x74726976) { puts("bad magic\n"); return 1; }
        if (*(volatile uint32_t *)(base + DEVICE_ID) == 4) { found++; if (!dev) dev = base; }
    }
    line("rng devices ", found);
    if (!dev) return 1;
    line("version   ", REG(VERSION));
    line("vendor    ", REG(VENDOR_ID));

    REG(STATUS) = 0;
    REG(STATUS) = 1;
    REG(STATUS) = 1 | 2;
    REG(DEVICE_FEATURES_SEL) = 1;
    uint32_t hi = REG(DEVICE_FEATURES);
    line("VERSION_1 ", hi & 1);
    REG(DRIVER_FEATURES_SEL) = 0;
    REG(DRIVER_FEATURES) = 0;
    REG(DRIVER_FEATURES_SEL) = 1;
    REG(DRIVER_FEATURES) = 1;
    REG(STATUS) = 1 | 2 | 8;
    line("status    ", REG(STATUS));

    REG(QUEUE_SEL) = 0;
    line("qmax>=8   ", REG(QUEUE_NUM_MAX) >= QSIZE);
    REG(QUEUE_SEL) = 1;
    line("queue 1 max ", REG(QUEUE_NUM_MAX));
    REG(QUEUE_SEL) = 0;
    REG(QUEUE_NUM) = QSIZE;
    REG(QUEUE_DESC_LOW) = (uintptr_t)descs; REG(QUEUE_DESC_HIGH) = (uint64_t)(uintptr_t)descs >> 32;
    REG(QUEUE_DRIVER_LOW) = (uintptr_t)&avail; REG(QUEUE_DRIVER_HIGH) = (uint64_t)(uintptr_t)&avail >> 32;
    REG(QUEUE_DEVICE_LOW) = (uintptr_t)&used; REG(QUEUE_DEVICE_HIGH) = (uint64_t)(uintptr_t)&used >> 32;
    REG(QUEUE_READY) = 1;
    line("ready     ", REG(QUEUE_READY));
    REG(STATUS) = 1 | 2 | 8 | 4;
    line("status    ", REG(STATUS));

    puts("one buffer of 32\n");
    request(0);
    puts("two buffers of 16\n");
    request(1);
    puts("done\n");
    return 0;
}
