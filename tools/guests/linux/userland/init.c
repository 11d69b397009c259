// ReplayVm's Linux guest userland: PID 1 and a small shell in one static binary.
//
// The kernel starts /init from the initramfs with /dev/console as stdin, stdout and stderr. init
// mounts /dev, /proc and /sys, prints a banner, runs the command the kernel command line gives
// after `--` if any, and runs the shell, which never exits: PID 1 dying
// panics the kernel, so the way out is `poweroff`. Every command's output is deterministic
// (directory listings are sorted, process lists ordered by PID) so that the same session prints
// the same bytes on QEMU and on ReplayVm.
#include "commands.h"
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

int main(int argc, char **argv)
{
    // `spawn` execs this binary again: a process that is not PID 1 is one of its children.
    if (getpid() != 1)
        return spawned_child(argc, argv);

    // Unbuffered: the prompt and every line must reach the console before the shell blocks.
    setvbuf(stdout, NULL, _IONBF, 0);
    mount_or_warn("devtmpfs", "/dev", "devtmpfs");
    mount_or_warn("proc", "/proc", "proc");
    mount_or_warn("sysfs", "/sys", "sysfs");
    mkdir("/mnt", 0755);

    printf("ReplayVm Linux guest: type 'help' for commands\n");
    // Words after `--` on the kernel command line reach init as arguments: a command to run before
    // the first prompt, so a benchmark can run a workload without typing (`-- spawn 500`).
    if (argc > 1)
        shell_run_words(argc - 1, argv + 1);
    shell_run();
    return 0;
}
