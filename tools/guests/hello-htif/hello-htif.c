/* The hello guest for `--machine spike`: same output, but console and exit go through HTIF. */
#include <stdio.h>

int main(void)
{
    printf("Hello from ReplayVm guest (HTIF)!\n");
    printf("numbers: %d %u 0x%08x\n", -42, 42u, 0xdeadbeefu);
    return 0;
}
