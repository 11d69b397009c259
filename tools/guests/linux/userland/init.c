// ReplayVm's Linux guest userland: PID 1 and a small shell in one static binary.
//
// The kernel starts /init from the initramfs with /dev/console as stdin, stdout and stderr. init
// mounts /dev, /proc and /sys, prints a banner and runs the shell, which never exits: PID 1 dying
// panics the kernel, so the way out is `poweroff`. Every command's output is deterministic
// (directory listings are sorted, process lists ordered by PID) so that the same session prints
// the same bytes on QEMU and on ReplayVm.
#include "shell.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static void mount_or_warn(const char *source, const char *target, const char *type)
{
    mkdir(target, 0755);
    if (mount(source, target, type, 0, NULL) != 0 && errno != EBUSY)
        fprintf(stderr, "init: mount %s on %s: %s\n", type, target, strerror(errno));
}

int main(void)
{
    // Unbuffered: the prompt and every line must reach the console before the shell blocks.
    setvbuf(stdout, NULL, _IONBF, 0);
    mount_or_warn("devtmpfs", "/dev", "devtmpfs");
    mount_or_warn("proc", "/proc", "proc");
    mount_or_warn("sysfs", "/sys", "sysfs");
    mkdir("/mnt", 0755);

    printf("ReplayVm Linux guest: type 'help' for commands\n");
    shell_run();
    return 0;
}
