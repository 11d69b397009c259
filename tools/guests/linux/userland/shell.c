// The shell loop: prompt, read one line, split it into words, apply an output redirection
// (`> FILE`), run the built-in command.
#include "shell.h"
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { LINE_MAX_BYTES = 1024, WORDS_MAX = 64 };

// Reads one line from fd 0 into line (without its newline). The console is a tty in canonical
// mode, so each read returns at most one line; a pipe may return less, so read up to '\n'.
// Returns 0 at end of input, 1 otherwise; an over-long line is cut at LINE_MAX_BYTES - 1.
static int read_line(char *line, size_t size)
{
    size_t used = 0;
    for (;;) {
        char c;
        ssize_t n = read(0, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (c == '\n' || c == '\r') {
            line[used] = '\0';
            return 1;
        }
        if (used + 1 < size)
            line[used++] = c;
    }
    line[used] = '\0';
    return used > 0;
}

// Splits line in place at blanks; "double quotes" keep blanks inside one word.
static int split_words(char *line, char **words, int max)
{
    int count = 0;
    char *p = line;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (count == max) {
            fprintf(stderr, "sh: too many words (at most %d)\n", max);
            return -1;
        }
        char *out = p;
        words[count++] = out;
        int quoted = 0;
        while (*p != '\0' && (quoted || (*p != ' ' && *p != '\t'))) {
            if (*p == '"')
                quoted = !quoted;
            else
                *out++ = *p;
            p++;
        }
        if (*p != '\0')
            p++;
        *out = '\0';
    }
    words[count] = NULL;
    return count;
}

static const struct command *find_command(const char *name)
{
    for (const struct command *c = commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

// Runs words[0] with stdout sent to `> FILE` (or appended with `>> FILE`) when the line asks.
void shell_run_words(int argc, char **words)
{
    const char *target = NULL;
    int append = 0;
    if (argc >= 2 && (strcmp(words[argc - 2], ">") == 0 || strcmp(words[argc - 2], ">>") == 0)) {
        append = words[argc - 2][1] == '>';
        target = words[argc - 1];
        argc -= 2;
        words[argc] = NULL;
    }
    if (argc == 0)
        return;
    const struct command *command = find_command(words[0]);
    if (command == NULL) {
        fprintf(stderr, "sh: %s: command not found\n", words[0]);
        return;
    }

    int saved_stdout = -1;
    if (target != NULL) {
        int fd = open(target, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
        if (fd < 0) {
            fprintf(stderr, "sh: %s: %s\n", target, strerror(errno));
            return;
        }
        saved_stdout = dup(1);
        dup2(fd, 1);
        close(fd);
    }
    command->run(argc, words);
    fflush(stdout);
    if (saved_stdout >= 0) {
        dup2(saved_stdout, 1);
        close(saved_stdout);
    }
}

void shell_run(void)
{
    char line[LINE_MAX_BYTES];
    char *words[WORDS_MAX + 1];
    for (;;) {
        fputs("# ", stdout);
        fflush(stdout);
        if (!read_line(line, sizeof line)) {
            // End of input (Ctrl-D on the console): PID 1 cannot leave, so prompt again.
            fputs("\n", stdout);
            continue;
        }
        int argc = split_words(line, words, WORDS_MAX);
        if (argc > 0)
            shell_run_words(argc, words);
    }
}
