/*
 * The ReplayVm demo: a tiny interactive shell over the UART that reads keystrokes, the Goldfish
 * RTC and virtio-rng, the three nondeterministic inputs a recording captures. Its output depends
 * only on what is typed, the clock and the entropy, so a replay reproduces it byte for byte.
 *
 * Commands: help, time, rand, guess, add NAME, list, quit.
 *
 * THE DELIBERATE BUG (this guest is the debugger's practice target): `add` copies the name into
 * a 16-byte field without checking its length. A name of 16..19 characters runs into that
 * entry's `wins` (so `list` prints a garbage win count); a longer one runs into the next entry
 * or, from the last entry, into `state.secret`, the number the guessing game wants: add a
 * fourth name of 21 characters and its 21st character becomes the secret ('#' makes it 35).
 * To find it with the debugger: record a session that shows the symptom, replay it, set a watch
 * on `state.secret` (or on the garbled `wins`) at the point where it is wrong, and
 * reverse-continue: the run stops on the store inside copy_name, called from cmd_add.
 */
#include <stddef.h>
#include "demo.h"

#define MAX_NAMES 4
#define NAME_FIELD 16
#define LINE_MAX 40

struct entry {
    char name[NAME_FIELD];   /* NUL-terminated: at most 15 characters fit */
    uint32_t wins;           /* rounds of the guessing game won while this was the newest player */
};

/* One struct, so the layout the bug corrupts is fixed by C's rules, not by the linker. */
static struct {
    uint32_t count;                  /* names stored */
    struct entry table[MAX_NAMES];
    uint32_t secret;                 /* the guessing game's number, 1..100 */
    uint32_t tries;                  /* guesses in the current round */
    char last_winner[24];            /* for `list` */
} state;

static char line[LINE_MAX + 1];

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static int starts_with(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return 0;
    return 1;
}

/* Copies with a bound, for the places that are meant to be safe. */
static void copy_bounded(char *dst, const char *src, size_t size)
{
    size_t i = 0;
    for (; i + 1 < size && src[i]; i++)
        dst[i] = src[i];
    dst[i] = 0;
}

/* BUG (deliberate, see the top of the file): no bound. Should be copy_bounded(dst, src, NAME_FIELD). */
static void __attribute__((noinline)) copy_name(char *dst, const char *src)
{
    while ((*dst++ = *src++) != 0)
        ;
}

/* A new secret in 1..100 from eight bytes of entropy (modulo bias is irrelevant here). */
static void new_round(void)
{
    uint8_t bytes[8];
    uint64_t r = 0;
    if (rng_read(bytes, sizeof bytes) == (int)sizeof bytes)
        for (int i = 0; i < 8; i++)
            r = r << 8 | bytes[i];
    state.secret = (uint32_t)(r % 100) + 1;   /* never 0, which means "no round yet" */
    state.tries = 0;
}

/* Parses a decimal number; -1 when the text is not one (or is absurdly long). */
static long parse_number(const char *s)
{
    long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000000L)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

static void cmd_help(void)
{
    console_puts("commands:\n"
                 "  help       this list\n"
                 "  time       the date and time (Goldfish RTC)\n"
                 "  rand       8 random bytes (virtio-rng)\n"
                 "  guess      guess my number from 1 to 100 (q gives up for now)\n"
                 "  add NAME   add a player\n"
                 "  list       show the players\n"
                 "  quit       leave\n");
}

static void cmd_time(void)
{
    console_puts("time: ");
    rtc_print_utc(rtc_nanoseconds());
    console_putc('\n');
}

/* The only line with entropy in it starts with "rand:", so output checks can mask it. */
static void cmd_rand(void)
{
    uint8_t bytes[8];
    int n = rng_read(bytes, sizeof bytes);
    if (n != (int)sizeof bytes) {
        console_puts("error: virtio-rng gave ");
        console_putu((uint64_t)(int64_t)n);
        console_puts(" bytes\n");
        return;
    }
    console_puts("rand: ");
    for (int i = 0; i < n; i++)
        console_puthex(bytes[i], 2);
    console_putc('\n');
}

static void cmd_guess(void)
{
    if (state.secret == 0)
        new_round();
    console_puts("I am thinking of a number from 1 to 100.\n");
    for (;;) {
        console_puts("guess> ");
        console_readline(line, sizeof line);
        if (streq(line, "q")) {
            console_puts("keeping my number for later.\n");
            return;
        }
        long n = parse_number(line);
        if (n < 1 || n > 100) {
            console_puts("a number from 1 to 100, or q\n");
            continue;
        }
        state.tries++;
        if ((uint32_t)n < state.secret) {
            console_puts("higher\n");
        } else if ((uint32_t)n > state.secret) {
            console_puts("lower\n");
        } else {
            console_puts("yes! ");
            console_putu(state.tries);
            console_puts(state.tries == 1 ? " try\n" : " tries\n");
            if (state.count > 0) {
                struct entry *winner = &state.table[state.count - 1];
                winner->wins++;
                copy_bounded(state.last_winner, winner->name, sizeof state.last_winner);
            }
            state.secret = 0;   /* the next round's number is drawn when it starts */
            return;
        }
    }
}

static void cmd_add(const char *name)
{
    if (!*name) {
        console_puts("usage: add NAME\n");
        return;
    }
    if (state.count == MAX_NAMES) {
        console_puts("the table is full\n");
        return;
    }
    struct entry *e = &state.table[state.count++];
    e->wins = 0;
    copy_name(e->name, name);
    console_puts("added ");
    console_puts(e->name);
    console_putc('\n');
}

static void cmd_list(void)
{
    if (state.count == 0)
        console_puts("no players\n");
    for (uint32_t i = 0; i < state.count; i++) {
        console_putu(i + 1);
        console_puts(". ");
        console_puts(state.table[i].name);
        console_puts(" (wins: ");
        console_putu(state.table[i].wins);
        console_puts(")\n");
    }
    if (state.last_winner[0]) {
        console_puts("last winner: ");
        console_puts(state.last_winner);
        console_putc('\n');
    }
}

int main(void)
{
    console_puts("ReplayVm demo shell. Type help.\n");
    int rng = rng_init();
    if (rng != 0) {
        console_puts("error: no usable virtio-rng (");
        console_putu((uint64_t)(-rng));
        console_puts(")\n");
    }
    new_round();
    for (;;) {
        console_puts("demo> ");
        console_readline(line, sizeof line);
        if (!line[0])
            continue;
        if (streq(line, "help"))
            cmd_help();
        else if (streq(line, "time"))
            cmd_time();
        else if (streq(line, "rand"))
            cmd_rand();
        else if (streq(line, "guess"))
            cmd_guess();
        else if (streq(line, "add") || starts_with(line, "add "))
            cmd_add(line[3] ? line + 4 : line + 3);
        else if (streq(line, "list"))
            cmd_list();
        else if (streq(line, "quit")) {
            console_puts("bye\n");
            return 0;
        } else {
            console_puts("unknown command: ");
            console_puts(line);
            console_puts(" (try help)\n");
        }
    }
}
