/*
 * A polled virtio-rng driver (virtio 1.1 section 5.4) on the virtio-mmio version 2 transport
 * (section 4.2.2). It scans the eight slots of QEMU virt for device ID 4, so it finds the device
 * wherever the board put it, and uses one request queue of QSIZE descriptors.
 */
#include "demo.h"

#define VIRTIO_FIRST 0x10001000UL
#define VIRTIO_STRIDE 0x1000UL
#define VIRTIO_SLOTS 8
#define REG(off) (*(volatile uint32_t *)(dev + (off)))

enum { MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, DEVICE_FEATURES = 0x010,
       DEVICE_FEATURES_SEL = 0x014, DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024,
       QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038, QUEUE_READY = 0x044,
       QUEUE_NOTIFY = 0x050, INTERRUPT_STATUS = 0x060, INTERRUPT_ACK = 0x064, STATUS = 0x070,
       QUEUE_DESC_LOW = 0x080, QUEUE_DESC_HIGH = 0x084, QUEUE_DRIVER_LOW = 0x090,
       QUEUE_DRIVER_HIGH = 0x094, QUEUE_DEVICE_LOW = 0x0a0, QUEUE_DEVICE_HIGH = 0x0a4 };
enum { ACKNOWLEDGE = 1, DRIVER = 2, DRIVER_OK = 4, FEATURES_OK = 8, NEEDS_RESET = 0x40 };
#define MAGIC_VALUE 0x74726976u  /* "virt" */
#define DEVICE_ID_RNG 4
#define DESC_F_WRITE 2

#define QSIZE 4
struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct avail { uint16_t flags, idx, ring[QSIZE], used_event; };
struct used_elem { uint32_t id, len; };
struct used { uint16_t flags, idx; struct used_elem ring[QSIZE]; uint16_t avail_event; };

static struct desc descs[QSIZE] __attribute__((aligned(16)));
static struct avail avail __attribute__((aligned(2)));
static struct used used __attribute__((aligned(4)));
static uintptr_t dev;
static uint16_t next_avail;

uint64_t rng_slot_address(void) { return dev; }

static uintptr_t find_rng(void)
{
    for (int slot = 0; slot < VIRTIO_SLOTS; slot++) {
        uintptr_t base = VIRTIO_FIRST + VIRTIO_STRIDE * slot;
        volatile uint32_t *regs = (volatile uint32_t *)base;
        if (regs[MAGIC / 4] == MAGIC_VALUE && regs[VERSION / 4] == 2 && regs[DEVICE_ID / 4] == DEVICE_ID_RNG)
            return base;
    }
    return 0;
}

/* Device initialization, spec 3.1.1: accept only VIRTIO_F_VERSION_1 (feature bit 32). */
int rng_init(void)
{
    dev = find_rng();
    if (!dev)
        return -1;
    REG(STATUS) = 0;
    REG(STATUS) = ACKNOWLEDGE;
    REG(STATUS) = ACKNOWLEDGE | DRIVER;
    REG(DEVICE_FEATURES_SEL) = 1;
    if ((REG(DEVICE_FEATURES) & 1) == 0)
        return -2;
    REG(DRIVER_FEATURES_SEL) = 0;
    REG(DRIVER_FEATURES) = 0;
    REG(DRIVER_FEATURES_SEL) = 1;
    REG(DRIVER_FEATURES) = 1;
    REG(STATUS) = ACKNOWLEDGE | DRIVER | FEATURES_OK;
    if ((REG(STATUS) & FEATURES_OK) == 0)
        return -3;
    REG(QUEUE_SEL) = 0;
    if (REG(QUEUE_NUM_MAX) < QSIZE)
        return -4;
    REG(QUEUE_NUM) = QSIZE;
    REG(QUEUE_DESC_LOW) = (uint32_t)(uintptr_t)descs;
    REG(QUEUE_DESC_HIGH) = (uint32_t)((uint64_t)(uintptr_t)descs >> 32);
    REG(QUEUE_DRIVER_LOW) = (uint32_t)(uintptr_t)&avail;
    REG(QUEUE_DRIVER_HIGH) = (uint32_t)((uint64_t)(uintptr_t)&avail >> 32);
    REG(QUEUE_DEVICE_LOW) = (uint32_t)(uintptr_t)&used;
    REG(QUEUE_DEVICE_HIGH) = (uint32_t)((uint64_t)(uintptr_t)&used >> 32);
    REG(QUEUE_READY) = 1;
    REG(STATUS) = ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK;
    return 0;
}

/*
 * One request: a single device-writable buffer. The used ring says how many bytes the device
 * wrote (spec 5.4.6.1 allows fewer than offered). QEMU answers from another thread, so wait for
 * the used index rather than assuming the notify completed the request.
 */
int rng_read(uint8_t *buf, uint32_t len)
{
    if (!dev)
        return -1;
    uint16_t slot = next_avail % QSIZE;
    descs[slot] = (struct desc){ (uintptr_t)buf, len, DESC_F_WRITE, 0 };
    avail.ring[slot] = slot;
    __sync_synchronize();
    avail.idx = ++next_avail;
    __sync_synchronize();
    REG(QUEUE_NOTIFY) = 0;
    for (long spin = 0; *(volatile uint16_t *)&used.idx != next_avail; spin++)
        if (spin > 200000000L || (REG(STATUS) & NEEDS_RESET))
            return -1;
    __sync_synchronize();
    REG(INTERRUPT_ACK) = REG(INTERRUPT_STATUS);
    return (int)used.ring[(uint16_t)(next_avail - 1) % QSIZE].len;
}
