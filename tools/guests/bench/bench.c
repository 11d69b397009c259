/*
 * CPU benchmark guest: a deterministic mix of integer arithmetic (mul/div/rem), memory traffic
 * (memcpy, array walks, sorting) and branch-heavy code (bitwise CRC32, sieve, a bytecode
 * interpreter). About 400 million instructions in total; the retired-instruction count is read
 * from the instret CSR around the work and printed, so every engine reports the same figure.
 *
 * The output is deterministic except for the "instret:" line on engines whose instret is not an
 * instruction count (QEMU without -icount). The checksum is compared with the known-good value;
 * a mismatch means the engine computed something wrong and the guest exits with status 1.
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "csr.h"

#ifndef BENCH_ROUNDS
#define BENCH_ROUNDS 72             /* compile-time so the workload is fixed per ELF */
#endif
#define EXPECTED_CHECKSUM 0xe1e3b1b85d000e2eULL  /* from QEMU; update with BENCH_ROUNDS */

#define BUF_BYTES   8192
#define SORT_COUNT  2048
#define SIEVE_LIMIT 32768
#define MAT_N       24

static uint64_t rng_state;

/* xorshift64: cheap, deterministic pseudo-random data. */
static uint64_t next_random(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static uint8_t buffer_a[BUF_BYTES];
static uint8_t buffer_b[BUF_BYTES];

/* Bitwise (table-free) CRC32, reflected polynomial 0xEDB88320: eight branches per byte. */
static uint32_t crc32_bitwise(const uint8_t *data, size_t length)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < length; i++) {
        crc ^= data[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 1) ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
    }
    return ~crc;
}

static uint64_t memory_round(void)
{
    for (size_t i = 0; i < BUF_BYTES; i += 8) {
        uint64_t r = next_random();
        memcpy(&buffer_a[i], &r, 8);
    }
    uint64_t sum = crc32_bitwise(buffer_a, BUF_BYTES);
    for (int pass = 0; pass < 4; pass++) {
        memcpy(buffer_b, buffer_a + pass * 64, BUF_BYTES - pass * 64);
        memmove(buffer_a + 1, buffer_b, BUF_BYTES - 1);
        sum = sum * 31 + buffer_b[(pass * 977) % BUF_BYTES] + buffer_a[BUF_BYTES - 1 - pass];
    }
    return sum;
}

static uint32_t sort_items[SORT_COUNT];

static void quicksort(uint32_t *items, int low, int high)
{
    while (low < high) {
        uint32_t pivot = items[low + (high - low) / 2];
        int i = low, j = high;
        while (i <= j) {
            while (items[i] < pivot) i++;
            while (items[j] > pivot) j--;
            if (i <= j) {
                uint32_t t = items[i];
                items[i] = items[j];
                items[j] = t;
                i++;
                j--;
            }
        }
        /* Recurse into the smaller half to bound the stack depth. */
        if (j - low < high - i) {
            quicksort(items, low, j);
            low = i;
        } else {
            quicksort(items, i, high);
            high = j;
        }
    }
}

static uint64_t sort_round(void)
{
    for (int i = 0; i < SORT_COUNT; i++)
        sort_items[i] = (uint32_t)next_random();
    quicksort(sort_items, 0, SORT_COUNT - 1);
    uint64_t sum = 0;
    for (int i = 1; i < SORT_COUNT; i++) {
        if (sort_items[i - 1] > sort_items[i])
            return 0xbad;   /* not sorted: the checksum will not match */
        sum += (uint64_t)sort_items[i] * (uint64_t)i;
    }
    return sum;
}

static uint8_t composite[SIEVE_LIMIT];

static uint64_t sieve_round(void)
{
    memset(composite, 0, sizeof composite);
    uint64_t count = 0, sum = 0;
    for (uint32_t n = 2; n < SIEVE_LIMIT; n++) {
        if (composite[n])
            continue;
        count++;
        sum += n;
        for (uint32_t m = n * 2; m < SIEVE_LIMIT; m += n)
            composite[m] = 1;
    }
    return count << 32 ^ sum;
}

static int64_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];

static uint64_t matrix_round(void)
{
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            mat_a[i][j] = (int64_t)(next_random() % 2001) - 1000;
            mat_b[i][j] = (int64_t)(next_random() % 2001) - 1000;
        }
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            int64_t acc = 0;
            for (int k = 0; k < MAT_N; k++)
                acc += mat_a[i][k] * mat_b[k][j];
            mat_c[i][j] = acc;
        }
    uint64_t sum = 0;
    for (int i = 0; i < MAT_N; i++)
        sum = sum * 1000003u + (uint64_t)mat_c[i][(i * 7) % MAT_N];
    return sum;
}

/* Signed and unsigned, 64- and 32-bit division and remainder, including negative operands. */
static uint64_t division_round(void)
{
    uint64_t sum = 0;
    for (int i = 0; i < 4000; i++) {
        uint64_t x = next_random();
        uint64_t y = (next_random() >> (i & 31)) | 1;
        int64_t sx = (int64_t)x, sy = (int64_t)(y >> 3) - (int64_t)(y >> 2);
        if (sy == 0)
            sy = -7;
        uint32_t x32 = (uint32_t)x, y32 = (uint32_t)y;
        int32_t sx32 = (int32_t)x32, sy32 = (int32_t)y32;
        sum += x / y + x % y;
        sum ^= (uint64_t)(sx / sy) + (uint64_t)(sx % sy);
        sum += x32 / y32 + x32 % y32;
        sum ^= (uint64_t)(int64_t)(sx32 / sy32) + (uint64_t)(int64_t)(sx32 % sy32);
        sum = sum * 0x9e3779b97f4a7c15ull + (uint64_t)((__int128)sx * sy >> 64);
    }
    return sum;
}

/* A small register-machine interpreter: switch dispatch makes it indirect-branch heavy. */
enum opcode { OP_LOADI, OP_MOV, OP_ADDI, OP_MULI, OP_ANDI, OP_SHRI, OP_EQI, OP_JNZ, OP_JZ, OP_JMP,
              OP_HALT };

struct vm_insn {
    uint8_t op, dst, src;
    int32_t imm;
};

/* Sums the Collatz path lengths of every n in [1, r1]; the result is left in r2. */
static const struct vm_insn collatz_program[] = {
    /* 0 */ { OP_LOADI, 2, 0, 0 },      /* total = 0 */
    /* 1 */ { OP_MOV, 3, 1, 0 },        /* next_n: x = n */
    /* 2 */ { OP_EQI, 4, 3, 1 },        /* loop: t = x == 1 */
    /* 3 */ { OP_JNZ, 0, 4, 12 },       /* if t goto done_n */
    /* 4 */ { OP_ADDI, 2, 2, 1 },       /* total++ */
    /* 5 */ { OP_ANDI, 4, 3, 1 },
    /* 6 */ { OP_JZ, 0, 4, 10 },        /* even? */
    /* 7 */ { OP_MULI, 3, 3, 3 },
    /* 8 */ { OP_ADDI, 3, 3, 1 },       /* x = 3x + 1 */
    /* 9 */ { OP_JMP, 0, 0, 2 },
    /* 10 */ { OP_SHRI, 3, 3, 1 },      /* x = x / 2 */
    /* 11 */ { OP_JMP, 0, 0, 2 },
    /* 12 */ { OP_ADDI, 1, 1, -1 },     /* done_n: n-- */
    /* 13 */ { OP_JNZ, 0, 1, 1 },
    /* 14 */ { OP_HALT, 0, 0, 0 },
};

static uint64_t run_vm(const struct vm_insn *program, uint64_t limit, uint64_t *executed)
{
    uint64_t r[8] = { 0 };
    uint64_t steps = 0;
    uint32_t pc = 0;
    r[1] = limit;
    for (;;) {
        const struct vm_insn *in = &program[pc++];
        steps++;
        switch (in->op) {
        case OP_LOADI: r[in->dst] = (uint64_t)(int64_t)in->imm; break;
        case OP_MOV:   r[in->dst] = r[in->src]; break;
        case OP_ADDI:  r[in->dst] = r[in->src] + (uint64_t)(int64_t)in->imm; break;
        case OP_MULI:  r[in->dst] = r[in->src] * (uint64_t)(int64_t)in->imm; break;
        case OP_ANDI:  r[in->dst] = r[in->src] & (uint64_t)(int64_t)in->imm; break;
        case OP_SHRI:  r[in->dst] = r[in->src] >> in->imm; break;
        case OP_EQI:   r[in->dst] = r[in->src] == (uint64_t)(int64_t)in->imm; break;
        case OP_JNZ:   if (r[in->src]) pc = (uint32_t)in->imm; break;
        case OP_JZ:    if (!r[in->src]) pc = (uint32_t)in->imm; break;
        case OP_JMP:   pc = (uint32_t)in->imm; break;
        case OP_HALT:  *executed += steps; return r[2];
        }
    }
}

static uint64_t interpreter_round(uint64_t *executed)
{
    return run_vm(collatz_program, 300, executed);
}

static inline uint64_t read_instret(void)
{
    uint64_t v;
    __asm__ volatile ("rdinstret %0" : "=r"(v));
    return v;
}

int main(void)
{
    uint64_t sums[6] = { 0 };
    uint64_t vm_steps = 0;
    rng_state = 0x2545f4914f6cdd1dull;

    uint64_t instret_start = read_instret();
    for (int round = 0; round < BENCH_ROUNDS; round++) {
        sums[0] += memory_round();
        sums[1] += sort_round();
        sums[2] += sieve_round();
        sums[3] += matrix_round();
        sums[4] += division_round();
        sums[5] += interpreter_round(&vm_steps);
    }
    uint64_t instret_end = read_instret();

    static const char *const names[] = { "memory", "sort", "sieve", "matrix", "division",
                                         "interpreter" };
    uint64_t checksum = 0;
    for (int i = 0; i < 6; i++) {
        printf("%-12s 0x%016llx\n", names[i], (unsigned long long)sums[i]);
        checksum = checksum * 0x100000001b3ull ^ sums[i];
    }
    printf("vm steps     %llu\n", (unsigned long long)vm_steps);
    printf("rounds: %d checksum: 0x%016llx\n", BENCH_ROUNDS, (unsigned long long)checksum);
    printf("instret: %llu\n", (unsigned long long)(instret_end - instret_start));
    if (checksum != EXPECTED_CHECKSUM) {
        printf("checksum MISMATCH (expected 0x%016llx)\n", (unsigned long long)EXPECTED_CHECKSUM);
        return 1;
    }
    printf("checksum OK\n");
    return 0;
}
