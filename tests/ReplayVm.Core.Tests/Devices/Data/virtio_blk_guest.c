/*
 * Bare-metal virtio-blk driver exercising the virtio-mmio v2 transport (virtio 1.1 section
 * 4.2.3), a split virtqueue (2.6) and the PLIC. Runs unchanged on QEMU virt and on ReplayVm;
 * the test compares the console output of the two.
 */
#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000)
#define PLIC 0x0c000000UL
#define REG(base, off) (*(volatile uint32_t *)((base) + (off)))

enum { MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, VENDOR_ID = 0x00c, DEVICE_FEATURES = 0x010,
       DEVICE_FEATURES_SEL = 0x014, DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024, QUEUE_SEL = 0x030,
       QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038, QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050,
       INTERRUPT_STATUS = 0x060, INTERRUPT_ACK = 0x064, STATUS = 0x070, QUEUE_DESC_LOW = 0x080,
       QUEUE_DESC_HIGH = 0x084, QUEUE_DRIVER_LOW = 0x090, QUEUE_DRIVER_HIGH = 0x094, QUEUE_DEVICE_LOW = 0x0a0,
       QUEUE_DEVICE_HIGH = 0x0a4, CONFIG = 0x100 };

#define QSIZE 8
struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct avail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct used_elem { uint32_t id, len; };
struct used { uint16_t flags, idx; struct used_elem ring[QSIZE]; uint16_t avail_event; };
struct req { uint32_t type, reserved; uint64_t sector; };

static struct desc descs[QSIZE] __attribute__((aligned(16)));
static struct avail avail __attribute__((aligned(2)));
static struct used used __attribute__((aligned(4)));
static struct req header;
static uint8_t buffer[512];
static volatile uint8_t status;

static void putc(char c) { *UART = c; }
static void puts(const char *s) { while (*s) putc(*s++); }
static void hex(uint64_t v, int digits) { for (int i = digits - 1; i >= 0; i--) putc("0123456789abcdef"[(v >> (4 * i)) & 15]); }
static void line(const char *label, uint64_t v) { puts(label); puts("0x"); hex(v, 8); putc('\n'); }
static void dump(const uint8_t *b, int n) { for (int i = 0; i < n; i++) { hex(b[i], 2); putc(i + 1 < n ? ' ' : '\n'); } }

static uintptr_t dev;
static uint16_t next_avail;
static uint32_t irq;

static uint32_t plic_pending(void) { return (REG(PLIC, 0x1000) >> irq) & 1; }

/* Submits header + data + status as a three-descriptor chain and waits for the used ring. */
static void submit(uint32_t type, uint64_t sector, int data_len, int device_writes_data)
{
    header.type = type;
    header.reserved = 0;
    header.sector = sector;
    status = 0xff;
    int n = 0;
    descs[n] = (struct desc){ (uintptr_t)&header, sizeof header, 1, (uint16_t)(n + 1) }; n++;
    if (data_len) { descs[n] = (struct desc){ (uintptr_t)buffer, (uint32_t)data_len, (uint16_t)(1 | (device_writes_data ? 2 : 0)), (uint16_t)(n + 1) }; n++; }
    descs[n] = (struct desc){ (uintptr_t)&status, 1, 2, 0 };
    avail.ring[next_avail % QSIZE] = 0;
    __sync_synchronize();
    avail.idx = ++next_avail;
    __sync_synchronize();
    REG(dev, QUEUE_NOTIFY) = 0;
    for (long spin = 0; spin < 100000000 && *(volatile uint16_t *)&used.idx != next_avail; spin++) {}
    __sync_synchronize();
    /* Wait (bounded) for the interrupt: QEMU may complete in another thread. */
    for (long spin = 0; spin < 100000000 && !(REG(dev, INTERRUPT_STATUS) & 1); spin++) {}
    for (long spin = 0; spin < 100000000 && !plic_pending(); spin++) {}
    line("  used idx ", used.idx);
    line("  used len ", used.ring[(next_avail - 1) % QSIZE].len);
    line("  status   ", status);
    line("  isr      ", REG(dev, INTERRUPT_STATUS));
    line("  pending  ", plic_pending());
    uint32_t claimed = REG(PLIC, 0x200004);
    line("  claimed  ", claimed);
    line("  pending after claim ", plic_pending());
    REG(dev, INTERRUPT_ACK) = REG(dev, INTERRUPT_STATUS);
    REG(PLIC, 0x200004) = claimed;
    line("  pending after ack   ", plic_pending());
}

int main(void)
{
    puts("virtio-blk guest\n");
    for (int i = 0; i < 8; i++) {
        uintptr_t base = 0x10001000UL + 0x1000UL * i;
        if (REG(base, MAGIC) != 0x74726976) { puts("bad magic\n"); return 1; }
        if (REG(base, DEVICE_ID) == 2 && !dev) { dev = base; irq = 1 + i; }
        else if (REG(base, DEVICE_ID) == 0) { puts("empty slot "); hex(base, 8); puts(" version "); hex(REG(base, VERSION), 1); putc('\n'); }
    }
    if (!dev) { puts("no virtio-blk\n"); return 1; }
    line("disk at   ", dev);
    line("irq       ", irq);
    line("version   ", REG(dev, VERSION));
    line("vendor    ", REG(dev, VENDOR_ID));

    REG(dev, STATUS) = 0;
    REG(dev, STATUS) = 1;
    REG(dev, STATUS) = 1 | 2;
    REG(dev, DEVICE_FEATURES_SEL) = 0;
    uint32_t lo = REG(dev, DEVICE_FEATURES);
    REG(dev, DEVICE_FEATURES_SEL) = 1;
    uint32_t hi = REG(dev, DEVICE_FEATURES);
    line("VERSION_1 ", hi & 1);
    line("FLUSH     ", (lo >> 9) & 1);
    REG(dev, DRIVER_FEATURES_SEL) = 0;
    REG(dev, DRIVER_FEATURES) = lo & (1u << 9);
    REG(dev, DRIVER_FEATURES_SEL) = 1;
    REG(dev, DRIVER_FEATURES) = 1;
    REG(dev, STATUS) = 1 | 2 | 8;
    line("status    ", REG(dev, STATUS));
    line("capacity  ", REG(dev, CONFIG) | (uint64_t)REG(dev, CONFIG + 4) << 32);

    REG(dev, QUEUE_SEL) = 0;
    line("qmax>=8   ", REG(dev, QUEUE_NUM_MAX) >= QSIZE);
    line("ready0    ", REG(dev, QUEUE_READY));
    REG(dev, QUEUE_NUM) = QSIZE;
    REG(dev, QUEUE_DESC_LOW) = (uintptr_t)descs; REG(dev, QUEUE_DESC_HIGH) = (uint64_t)(uintptr_t)descs >> 32;
    REG(dev, QUEUE_DRIVER_LOW) = (uintptr_t)&avail; REG(dev, QUEUE_DRIVER_HIGH) = (uint64_t)(uintptr_t)&avail >> 32;
    REG(dev, QUEUE_DEVICE_LOW) = (uintptr_t)&used; REG(dev, QUEUE_DEVICE_HIGH) = (uint64_t)(uintptr_t)&used >> 32;
    REG(dev, QUEUE_READY) = 1;
    line("ready1    ", REG(dev, QUEUE_READY));
    REG(dev, STATUS) = 1 | 2 | 8 | 4;
    line("status    ", REG(dev, STATUS));

    /* The PLIC: priority 1 for the disk's source, enabled in context 0 (hart 0 M-mode), threshold 0. */
    REG(PLIC, 4 * irq) = 1;
    REG(PLIC, 0x2000) = 1u << irq;
    REG(PLIC, 0x200000) = 0;
    line("claim idle ", REG(PLIC, 0x200004));

    puts("read sector 0\n");
    submit(0, 0, 512, 1);
    dump(buffer, 32);

    puts("write sector 1\n");
    const char *text = "sector one, written by the guest";
    for (int i = 0; i < 512; i++) buffer[i] = (uint8_t)(i < 32 ? text[i] : i);
    submit(1, 1, 512, 0);
    for (int i = 0; i < 512; i++) buffer[i] = 0;

    puts("read sector 1\n");
    submit(0, 1, 512, 1);
    dump(buffer, 40);

    puts("flush\n");
    submit(4, 0, 0, 0);

    puts("read past the end\n");
    submit(0, REG(dev, CONFIG), 512, 1);

    puts("unsupported type\n");
    submit(0x1234, 0, 512, 1);

    puts("done\n");
    return 0;
}
