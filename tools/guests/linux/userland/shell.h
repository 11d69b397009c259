// The shell of ReplayVm's Linux guest: reads lines from stdin, runs built-in commands.
#ifndef SHELL_H
#define SHELL_H

// Prints the prompt `# `, reads a line, runs it; forever (PID 1 must not return).
void shell_run(void);

// Runs one command line already split into words (argv[0] is the command's name), as if typed.
void shell_run_words(int argc, char **words);

#endif
