/*
 * The subcommands of the slawatch executable. Each takes argv from its own name on and
 * returns the process exit status: 0 success, 1 bad input or a negative verdict, 2 usage or
 * I/O errors.
 */
#ifndef SLAWATCH_CLI_H
#define SLAWATCH_CLI_H

#include <stdio.h>

enum { SW_EXIT_OK = 0, SW_EXIT_INPUT = 1, SW_EXIT_USAGE = 2 };

int sw_cli_check(int argc, char **argv);
int sw_cli_hdr(int argc, char **argv);
int sw_cli_eval(int argc, char **argv);

/* Print "slawatch X.Y.Z" to f. */
void sw_cli_version(FILE *f);

#endif
