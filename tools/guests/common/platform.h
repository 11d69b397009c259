/* Physical addresses of the QEMU `virt` devices the guests use (hw/riscv/virt.c memory map). */
#ifndef GUEST_PLATFORM_H
#define GUEST_PLATFORM_H

#include <stdint.h>

#define VIRT_TEST_BASE   0x00100000UL  /* sifive_test finisher */
#define VIRT_CLINT_BASE  0x02000000UL
#define VIRT_UART0_BASE  0x10000000UL  /* NS16550A */
#define VIRT_DRAM_BASE   0x80000000UL

/* CLINT layout (SiFive CLINT, one hart): msip, mtimecmp, mtime; mtime ticks at 10 MHz on virt. */
#define CLINT_MSIP       ((volatile uint32_t *)(VIRT_CLINT_BASE + 0x0000))
#define CLINT_MTIMECMP   ((volatile uint64_t *)(VIRT_CLINT_BASE + 0x4000))
#define CLINT_MTIME      ((volatile uint64_t *)(VIRT_CLINT_BASE + 0xBFF8))
#define CLINT_TIMEBASE_HZ 10000000UL

#endif
