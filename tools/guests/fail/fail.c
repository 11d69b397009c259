/* Exercises the failing exit path: QEMU (and ReplayVm) must exit with status 3. */
#include <stdio.h>

int main(void)
{
    printf("fail guest: exiting with code 3\n");
    return 3;
}
