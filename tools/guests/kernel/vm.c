/*
 * Sv39 page tables (privileged spec 4.4). The kernel maps RAM with one 1 GiB identity superpage
 * and the MMIO it uses with 2 MiB superpages; each process gets its own root that shares those
 * and adds two 4 KiB user pages at USER_BASE. Every PTE is created with A and D clear, so the
 * hart must set them on first access / first write (4.3.1; QEMU updates them in hardware).
 */
#include <string.h>
#include "csr.h"
#include "kernel.h"

#define SATP_MODE_SV39 (8UL << 60)
#define PTE_PPN_SHIFT 10
#define POOL_PAGES 32

static uint8_t page_pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static unsigned pages_used;
static uint64_t *kernel_root, *kernel_mmio_l1;

void *alloc_page(void)
{
    expect(pages_used < POOL_PAGES, "page pool not exhausted");
    if (pages_used >= POOL_PAGES)
        phase_done("page allocation");
    void *page = page_pool[pages_used++];
    memset(page, 0, PAGE_SIZE);
    return page;
}

static uint64_t leaf(uintptr_t pa, uint64_t flags)
{
    return (pa >> 12) << PTE_PPN_SHIFT | flags | PTE_V;
}

static uint64_t pointer_to(const void *table)
{
    return ((uintptr_t)table >> 12) << PTE_PPN_SHIFT | PTE_V;
}

static unsigned vpn(uintptr_t va, int level)
{
    return (va >> (12 + 9 * level)) & 0x1ff;
}

static uint64_t *table_at(uint64_t pte)
{
    return (uint64_t *)((pte >> PTE_PPN_SHIFT) << 12);
}

uint64_t *vm_kernel_root(void)
{
    return kernel_root;
}

/* 2 MiB superpages for the MMIO windows the kernel touches: finisher, PLIC, UART + virtio. */
static const uintptr_t mmio_megapages[] = {
    0x00000000UL,   /* sifive_test at 0x10_0000 */
    0x0c000000UL,   /* PLIC priorities, pending, enables */
    0x0c200000UL,   /* PLIC thresholds and claim/complete */
    0x10000000UL,   /* UART0 at 0x1000_0000, virtio-mmio slots at 0x1000_1000..0x1000_8000 */
};

void vm_build_kernel(void)
{
    kernel_root = alloc_page();
    kernel_mmio_l1 = alloc_page();
    /* RAM: one gigapage, identity, global, RWX; the PPN must be 1 GiB aligned (4.4.1). */
    kernel_root[vpn(0x80000000UL, 2)] = leaf(0x80000000UL, PTE_R | PTE_W | PTE_X | PTE_G);
    kernel_root[0] = pointer_to(kernel_mmio_l1);
    for (size_t i = 0; i < sizeof mmio_megapages / sizeof mmio_megapages[0]; i++)
        kernel_mmio_l1[vpn(mmio_megapages[i], 1)] = leaf(mmio_megapages[i], PTE_R | PTE_W | PTE_G);
}

/*
 * A process: its own root and level-1 table (copies of the kernel's entries) plus a level-0
 * table for the user code page (R|X|U) and stack page (R|W|U). The code is copied in through
 * the kernel's identity mapping, so the hart never writes the code page through its user PTE.
 */
uint64_t *vm_new_user_space(const void *code, size_t code_size)
{
    uint64_t *root = alloc_page(), *l1 = alloc_page(), *l0 = alloc_page();
    memcpy(root, kernel_root, PAGE_SIZE);
    memcpy(l1, kernel_mmio_l1, PAGE_SIZE);
    root[0] = pointer_to(l1);
    l1[vpn(USER_BASE, 1)] = pointer_to(l0);
    void *code_page = alloc_page(), *stack_page = alloc_page();
    memcpy(code_page, code, code_size);
    l0[vpn(USER_BASE, 0)] = leaf((uintptr_t)code_page, PTE_R | PTE_X | PTE_U);
    l0[vpn(USER_STACK_PAGE, 0)] = leaf((uintptr_t)stack_page, PTE_R | PTE_W | PTE_U);
    __asm__ volatile ("fence.i" ::: "memory");  /* the copied code is fetched later */
    return root;
}

uint64_t vm_satp(uint64_t *root)
{
    return SATP_MODE_SV39 | (uintptr_t)root >> 12;
}

/* satp write then sfence.vma: the fence orders the new tables before later accesses (4.2.1). */
void vm_switch(uint64_t *root)
{
    csr_write(satp, vm_satp(root));
    __asm__ volatile ("sfence.vma zero, zero" ::: "memory");
}

/* The leaf PTE mapping va (walking like the hart does), with its level; NULL if unmapped. */
uint64_t *vm_pte(uint64_t *root, uintptr_t va, int *level)
{
    uint64_t *table = root;
    for (int lvl = 2; lvl >= 0; lvl--) {
        uint64_t *pte = &table[vpn(va, lvl)];
        if (!(*pte & PTE_V))
            return NULL;
        if (*pte & (PTE_R | PTE_X)) {
            *level = lvl;
            return pte;
        }
        table = table_at(*pte);
    }
    return NULL;
}
