// The shell's built-in commands.
#include "commands.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *command, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", command, what, strerror(errno));
    return 1;
}

static int usage(const char *command)
{
    for (const struct command *c = commands; c->name != NULL; c++)
        if (strcmp(c->name, command) == 0)
            fprintf(stderr, "usage: %s\n", c->usage);
    return 2;
}

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("commands (COMMAND > FILE writes its output to FILE, >> appends):\n");
    for (const struct command *c = commands; c->name != NULL; c++)
        printf("  %s\n", c->usage);
    return 0;
}

static int cmd_echo(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        printf(i > 1 ? " %s" : "%s", argv[i]);
    printf("\n");
    return 0;
}

static int copy_to_stdout(const char *command, const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return fail(command, path);
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0)
        fwrite(buffer, 1, (size_t)n, stdout);
    int error = n < 0 ? errno : 0;
    close(fd);
    if (error != 0) {
        errno = error;
        return fail(command, path);
    }
    return 0;
}

static int cmd_cat(int argc, char **argv)
{
    if (argc < 2)
        return usage(argv[0]);
    int status = 0;
    for (int i = 1; i < argc; i++)
        status |= copy_to_stdout(argv[0], argv[i]);
    return status;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Lists one directory, sorted by name, directories marked with '/'; a file lists itself.
static int list_one(const char *command, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return fail(command, path);
    if (!S_ISDIR(st.st_mode)) {
        printf("%s\n", path);
        return 0;
    }
    DIR *dir = opendir(path);
    if (dir == NULL)
        return fail(command, path);
    char **names = NULL;
    size_t count = 0, capacity = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        if (count == capacity) {
            capacity = capacity ? capacity * 2 : 32;
            names = realloc(names, capacity * sizeof *names);
            if (names == NULL) {
                closedir(dir);
                return fail(command, "out of memory");
            }
        }
        size_t length = strlen(entry->d_name);
        names[count] = malloc(length + 2);
        memcpy(names[count], entry->d_name, length + 1);
        if (entry->d_type == DT_DIR)
            strcat(names[count], "/");
        count++;
    }
    closedir(dir);
    qsort(names, count, sizeof *names, compare_names);
    for (size_t i = 0; i < count; i++) {
        printf("%s\n", names[i]);
        free(names[i]);
    }
    free(names);
    return 0;
}

static int cmd_ls(int argc, char **argv)
{
    if (argc < 2)
        return list_one(argv[0], ".");
    int status = 0;
    for (int i = 1; i < argc; i++) {
        if (argc > 2)
            printf("%s:\n", argv[i]);
        status |= list_one(argv[0], argv[i]);
    }
    return status;
}

static int is_number(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static int compare_pids(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

// Prints PID, state and command name of every process, from /proc/PID/stat, ordered by PID.
static int cmd_ps(int argc, char **argv)
{
    (void)argc;
    DIR *proc = opendir("/proc");
    if (proc == NULL)
        return fail(argv[0], "/proc");
    int pids[1024];
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL && count < sizeof pids / sizeof pids[0])
        if (is_number(entry->d_name))
            pids[count++] = atoi(entry->d_name);
    closedir(proc);
    qsort(pids, count, sizeof pids[0], compare_pids);

    printf("  PID S COMMAND\n");
    for (size_t i = 0; i < count; i++) {
        char path[64], stat_line[512];
        snprintf(path, sizeof path, "/proc/%d/stat", pids[i]);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            continue; // the process ended since the directory was read
        ssize_t n = read(fd, stat_line, sizeof stat_line - 1);
        close(fd);
        if (n <= 0)
            continue;
        stat_line[n] = '\0';
        // "PID (COMM) S ...": COMM may hold spaces and parentheses, so take the last ')'.
        char *open_paren = strchr(stat_line, '(');
        char *close_paren = strrchr(stat_line, ')');
        if (open_paren == NULL || close_paren == NULL || close_paren[1] == '\0')
            continue;
        *close_paren = '\0';
        printf("%5d %c %s\n", pids[i], close_paren[2], open_paren + 1);
    }
    return 0;
}

static int cmd_mount(int argc, char **argv)
{
    if (argc == 1)
        return copy_to_stdout(argv[0], "/proc/mounts");
    if (argc != 4)
        return usage(argv[0]);
    if (mount(argv[1], argv[2], argv[3], 0, NULL) != 0)
        return fail(argv[0], argv[1]);
    return 0;
}

static int cmd_umount(int argc, char **argv)
{
    if (argc != 2)
        return usage(argv[0]);
    if (umount(argv[1]) != 0)
        return fail(argv[0], argv[1]);
    return 0;
}

static int cmd_mkdir(int argc, char **argv)
{
    if (argc != 2)
        return usage(argv[0]);
    if (mkdir(argv[1], 0755) != 0)
        return fail(argv[0], argv[1]);
    return 0;
}

static int cmd_rm(int argc, char **argv)
{
    if (argc != 2)
        return usage(argv[0]);
    if (unlink(argv[1]) != 0)
        return fail(argv[0], argv[1]);
    return 0;
}

// Writes the remaining words, joined by blanks, as one line to FILE (created or replaced) and
// flushes it to the disk, so that a write followed by poweroff is on the disk.
static int cmd_write(int argc, char **argv)
{
    if (argc < 3)
        return usage(argv[0]);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return fail(argv[0], argv[1]);
    int status = 0;
    for (int i = 2; i < argc && status == 0; i++) {
        const char *separator = i + 1 < argc ? " " : "\n";
        if (write(fd, argv[i], strlen(argv[i])) < 0 || write(fd, separator, 1) < 0)
            status = fail(argv[0], argv[1]);
    }
    if (status == 0 && fsync(fd) != 0)
        status = fail(argv[0], argv[1]);
    close(fd);
    return status;
}

static int cmd_sync(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    sync();
    return 0;
}

static int cmd_uname(int argc, char **argv)
{
    (void)argc;
    struct utsname u;
    if (uname(&u) != 0)
        return fail(argv[0], "uname");
    printf("%s %s %s %s\n", u.sysname, u.release, u.version, u.machine);
    return 0;
}

// Sleeps on the kernel's timer: exercises the timer interrupt and the scheduler's idle path.
static int cmd_sleep(int argc, char **argv)
{
    if (argc != 2)
        return usage(argv[0]);
    struct timespec t = { .tv_sec = atoi(argv[1]), .tv_nsec = 0 };
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
    return 0;
}

// Floating point in user space: the kernel must enable FS for user mode and keep each task's
// F/D registers across context switches and interrupts. Prints results whose bits are fixed by
// IEEE 754 (sqrt is correctly rounded; the sums are exact sequences of rounded operations).
static int cmd_fp(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    volatile double x = 2.0;
    double root = __builtin_sqrt(x);
    double sum = 0.0;
    for (int i = 1; i <= 1000; i++)
        sum += 1.0 / (double)i;
    volatile float f = 1.0f / 3.0f;
    printf("sqrt(2) = %.17g\nH(1000) = %.17g\n1/3f = %.9g\n", root, sum, (double)f);
    return 0;
}

// A process-heavy workload, as a shell running many short commands is: each round forks, the child
// execs this binary afresh (a new address space, its pages faulted in on demand), touches memory
// of its own and exits; the parent waits. The output is deterministic (the children's statuses are
// a function of their arguments only), so QEMU and ReplayVm print the same line.
static int cmd_spawn(int argc, char **argv)
{
    if (argc != 2 || !is_number(argv[1]) || strlen(argv[1]) > 6)
        return usage(argv[0]);
    long rounds = strtol(argv[1], NULL, 10);
    unsigned long sum = 0;
    for (long i = 0; i < rounds; i++) {
        char round[24];
        snprintf(round, sizeof round, "%ld", i);
        pid_t pid = fork();
        if (pid < 0)
            return fail(argv[0], "fork");
        if (pid == 0) {
            execl("/init", "spawned", round, (char *)NULL);
            _exit(127);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid)
            return fail(argv[0], "waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
            fprintf(stderr, "%s: child %ld did not run\n", argv[0], i);
            return 1;
        }
        sum += (unsigned long)WEXITSTATUS(status);
    }
    printf("spawn: %ld processes, exit statuses sum to %lu\n", rounds, sum);
    return 0;
}

int spawned_child(int argc, char **argv)
{
    // 16 pages the kernel must fault in (zero-filled), each written and read back.
    enum { PAGES = 16, PAGE = 4096 };
    unsigned char *memory = malloc(PAGES * PAGE);
    if (argc != 2 || memory == NULL)
        return 127;
    unsigned long seed = strtoul(argv[1], NULL, 10), sum = 0;
    for (int page = 0; page < PAGES; page++)
        memory[page * PAGE + (int)(seed % PAGE)] = (unsigned char)(seed + (unsigned long)page);
    for (int page = 0; page < PAGES; page++)
        sum += memory[page * PAGE + (int)(seed % PAGE)];
    free(memory);
    return (int)(sum % 100);
}

static int cmd_poweroff(int argc, char **argv)
{
    (void)argc;
    sync();
    reboot(RB_POWER_OFF);
    return fail(argv[0], "reboot");
}

const struct command commands[] = {
    { "help", "help", cmd_help },
    { "echo", "echo [WORD...]", cmd_echo },
    { "cat", "cat FILE...", cmd_cat },
    { "ls", "ls [PATH...]", cmd_ls },
    { "ps", "ps", cmd_ps },
    { "mount", "mount [DEVICE DIR TYPE]", cmd_mount },
    { "umount", "umount DIR", cmd_umount },
    { "mkdir", "mkdir DIR", cmd_mkdir },
    { "rm", "rm FILE", cmd_rm },
    { "write", "write FILE WORD...", cmd_write },
    { "sync", "sync", cmd_sync },
    { "uname", "uname", cmd_uname },
    { "sleep", "sleep SECONDS", cmd_sleep },
    { "fp", "fp", cmd_fp },
    { "spawn", "spawn N", cmd_spawn },
    { "poweroff", "poweroff", cmd_poweroff },
    { NULL, NULL, NULL },
};
