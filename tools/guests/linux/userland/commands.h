// The shell's built-in commands. Each takes the words of its line (argv[0] is the command's
// name) and returns 0 on success; errors are printed on stderr as `NAME: what: why`.
#ifndef COMMANDS_H
#define COMMANDS_H

struct command {
    const char *name;
    const char *usage;
    int (*run)(int argc, char **argv);
};

// The table of commands, ended by an entry whose name is NULL.
extern const struct command commands[];

// The program a `spawn`ed process runs (this binary, exec'd again): touches fresh memory and exits
// with a status computed from it and from its argument.
int spawned_child(int argc, char **argv);

#endif
