/*
 * virtio-blk over the virtio-mmio version 2 ("modern") transport with one split virtqueue
 * (virtio spec 1.1: 4.2.2 register layout, 3.1.1 initialization, 2.6 split queues, 5.2 block
 * device). Requests complete through the PLIC S context. The disk image's sector 0 starts with
 * "ReplayVm disk!\n"; sector 1 is written with a pattern, read back and compared.
 */
#include <stdio.h>
#include <string.h>
#include "kernel.h"

#define VIRTIO_MMIO_FIRST 0x10001000UL
#define VIRTIO_MMIO_STRIDE 0x1000UL
#define VIRTIO_MMIO_SLOTS 8
#define VIRTIO_FIRST_IRQ 1

/* Register offsets (virtio spec 4.2.2). */
#define MAGIC_VALUE        0x000
#define VERSION            0x004
#define DEVICE_ID          0x008
#define DEVICE_FEATURES    0x010
#define DEVICE_FEATURES_SEL 0x014
#define DRIVER_FEATURES    0x020
#define DRIVER_FEATURES_SEL 0x024
#define QUEUE_SEL          0x030
#define QUEUE_NUM_MAX      0x034
#define QUEUE_NUM          0x038
#define QUEUE_READY        0x044
#define QUEUE_NOTIFY       0x050
#define INTERRUPT_STATUS   0x060
#define INTERRUPT_ACK      0x064
#define STATUS             0x070
#define QUEUE_DESC_LOW     0x080
#define QUEUE_DESC_HIGH    0x084
#define QUEUE_DRIVER_LOW   0x090
#define QUEUE_DRIVER_HIGH  0x094
#define QUEUE_DEVICE_LOW   0x0a0
#define QUEUE_DEVICE_HIGH  0x0a4
#define CONFIG             0x100    /* virtio_blk_config: le64 capacity first */

#define MAGIC 0x74726976u           /* "virt" */
#define DEVICE_ID_BLOCK 2
#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define F_VERSION_1_HIGH (1u << 0)  /* feature bit 32 = bit 0 of the high word */

#define QUEUE_SIZE 8
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define SECTOR_SIZE 512
#define TIMEOUT_TICKS 50000000UL

struct virtq_desc { uint64_t addr; uint32_t len; uint16_t flags; uint16_t next; };
struct virtq_avail { uint16_t flags; uint16_t idx; uint16_t ring[QUEUE_SIZE]; };
struct virtq_used_elem { uint32_t id; uint32_t len; };
struct virtq_used { uint16_t flags; uint16_t idx; struct virtq_used_elem ring[QUEUE_SIZE]; };
struct blk_request_header { uint32_t type; uint32_t reserved; uint64_t sector; };

/* The kernel's RAM mapping is the identity, so these addresses are also the DMA addresses. */
static struct virtq_desc desc[QUEUE_SIZE] __attribute__((aligned(4096)));
static struct virtq_avail avail __attribute__((aligned(4096)));
static struct virtq_used used __attribute__((aligned(4096)));
static struct blk_request_header header;
static uint8_t sector_buffer[SECTOR_SIZE] __attribute__((aligned(16)));
static volatile uint8_t request_status;
static uintptr_t base;
static int irq;
static volatile int completed;
static uint16_t last_used;

static uint32_t rd(unsigned off) { return *(volatile uint32_t *)(base + off); }
static void wr(unsigned off, uint32_t v) { *(volatile uint32_t *)(base + off) = v; }

int virtio_blk_irq(void)
{
    return irq;
}

void virtio_blk_isr(void)
{
    uint32_t pending = rd(INTERRUPT_STATUS);
    wr(INTERRUPT_ACK, pending);
    __sync_synchronize();
    if (*(volatile uint16_t *)&used.idx != last_used)
        completed = 1;
}

static int find_device(void)
{
    for (int slot = 0; slot < VIRTIO_MMIO_SLOTS; slot++) {
        base = VIRTIO_MMIO_FIRST + slot * VIRTIO_MMIO_STRIDE;
        if (rd(MAGIC_VALUE) == MAGIC && rd(DEVICE_ID) == DEVICE_ID_BLOCK) {
            irq = VIRTIO_FIRST_IRQ + slot;
            return 1;
        }
    }
    base = 0;
    return 0;
}

/* Offers `high` as the upper feature word and reports whether FEATURES_OK stuck (3.1.1). */
static int negotiate(uint32_t high)
{
    wr(STATUS, 0);                  /* reset */
    wr(STATUS, STATUS_ACKNOWLEDGE);
    wr(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
    wr(DRIVER_FEATURES_SEL, 0);
    wr(DRIVER_FEATURES, 0);         /* none of the optional block features */
    wr(DRIVER_FEATURES_SEL, 1);
    wr(DRIVER_FEATURES, high);
    wr(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
    return (rd(STATUS) & STATUS_FEATURES_OK) != 0;
}

static void setup_queue(void)
{
    wr(QUEUE_SEL, 0);
    uint32_t max = rd(QUEUE_NUM_MAX);
    expect(max >= QUEUE_SIZE, "queue 0 holds at least 8 descriptors");
    wr(QUEUE_NUM, QUEUE_SIZE);
    wr(QUEUE_DESC_LOW, (uint32_t)(uintptr_t)desc);
    wr(QUEUE_DESC_HIGH, (uint32_t)((uintptr_t)desc >> 32));
    wr(QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)&avail);
    wr(QUEUE_DRIVER_HIGH, (uint32_t)((uintptr_t)&avail >> 32));
    wr(QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)&used);
    wr(QUEUE_DEVICE_HIGH, (uint32_t)((uintptr_t)&used >> 32));
    wr(QUEUE_READY, 1);
}

/* One request as a three-descriptor chain: header, data, status byte (virtio spec 5.2.6). */
static int transfer(uint32_t type, uint64_t sector)
{
    header.type = type;
    header.reserved = 0;
    header.sector = sector;
    request_status = 0xff;
    desc[0] = (struct virtq_desc){ (uintptr_t)&header, sizeof header, DESC_F_NEXT, 1 };
    desc[1] = (struct virtq_desc){ (uintptr_t)sector_buffer, SECTOR_SIZE,
                                   (uint16_t)(DESC_F_NEXT | (type == BLK_T_IN ? DESC_F_WRITE : 0)), 2 };
    desc[2] = (struct virtq_desc){ (uintptr_t)&request_status, 1, DESC_F_WRITE, 0 };
    avail.ring[avail.idx % QUEUE_SIZE] = 0;
    __sync_synchronize();           /* descriptors before the index the device reads */
    avail.idx++;
    __sync_synchronize();
    completed = 0;
    wr(QUEUE_NOTIFY, 0);
    wait_for(&completed, TIMEOUT_TICKS, "a virtio-blk completion interrupt");
    __sync_synchronize();
    struct virtq_used_elem elem = used.ring[last_used % QUEUE_SIZE];
    last_used++;
    return elem.id == 0 && request_status == 0;
}

static void print_bytes(const char *label, const uint8_t *bytes, int n)
{
    printf("%s", label);
    for (int i = 0; i < n; i++)
        printf(" %02x", bytes[i]);
    printf("  \"");
    for (int i = 0; i < n; i++) {
        if (bytes[i] == '\n')
            printf("\\n");
        else if (bytes[i] >= 0x20 && bytes[i] < 0x7f)
            printf("%c", bytes[i]);
        else
            printf("\\x%02x", bytes[i]);
    }
    printf("\"\n");
}

void virtio_blk_test(void)
{
    if (!find_device()) {
        expect(0, "a virtio-blk device on one of the virtio-mmio slots");
        return;
    }
    uint32_t version = rd(VERSION);
    printf("virtio: block device at 0x%lx (PLIC source %d), transport version %u\n",
           (unsigned long)base, irq, (unsigned)version);
    expect(version == 2, "modern virtio-mmio transport (-global virtio-mmio.force-legacy=false)");
    if (version != 2)
        return;

    wr(DEVICE_FEATURES_SEL, 1);
    int offers_v1 = (rd(DEVICE_FEATURES) & F_VERSION_1_HIGH) != 0;
    int accepted = negotiate(0);
    printf("virtio: device offers VERSION_1: %s; FEATURES_OK with the low 32 bits only: %s\n",
           offers_v1 ? "yes" : "no", accepted ? "accepted" : "refused");
    if (!accepted) {
        accepted = negotiate(F_VERSION_1_HIGH);
        printf("virtio: FEATURES_OK with VERSION_1: %s\n", accepted ? "accepted" : "refused");
    }
    expect(accepted, "the device accepts the negotiated features");
    if (!accepted)
        return;
    setup_queue();
    wr(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK);
    uint64_t capacity = rd(CONFIG) | (uint64_t)rd(CONFIG + 4) << 32;
    printf("virtio: capacity %llu sectors\n", (unsigned long long)capacity);
    expect(capacity == 128, "disk image is 64 KiB");
    plic_enable((unsigned)irq);

    int ok = transfer(BLK_T_IN, 0);
    print_bytes("virtio: sector 0:", sector_buffer, 16);
    expect(ok, "read of sector 0 completed with VIRTIO_BLK_S_OK");
    expect(memcmp(sector_buffer, "ReplayVm disk!\n", 15) == 0, "sector 0 starts with \"ReplayVm disk!\\n\"");

    for (int i = 0; i < SECTOR_SIZE; i++)
        sector_buffer[i] = (uint8_t)(i * 7 + 3);
    ok = transfer(BLK_T_OUT, 1);
    expect(ok, "write of sector 1 completed with VIRTIO_BLK_S_OK");
    memset(sector_buffer, 0, sizeof sector_buffer);
    ok = transfer(BLK_T_IN, 1) && ok;
    int same = 1;
    for (int i = 0; i < SECTOR_SIZE; i++)
        same &= sector_buffer[i] == (uint8_t)(i * 7 + 3);
    printf("virtio: sector 1 written with a pattern and read back: %s\n", ok && same ? "match" : "MISMATCH");
    expect(same, "sector 1 reads back what was written");
    plic_disable((unsigned)irq);
}
