/* Smallest useful guest: console output through picolibc's printf, then a clean exit. */
#include <stdio.h>
#include <stdint.h>

int main(void)
{
    printf("Hello from ReplayVm guest!\n");
    int64_t big = -1234567890123LL;
    uint32_t word = 0xdeadbeefu;
    printf("numbers: %d %u 0x%08x %lld %s %c%c\n", -42, 42u, word, (long long)big, "ok", 'r', 'v');
    return 0;
}
