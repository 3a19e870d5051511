/*
 * cli/cli.h — what the subcommands of the tcat command share.
 *
 * Each subcommand is one function `int cmd_NAME(int argc, char **argv)`
 * (argv[0] is the command name) that parses its own options, calls into
 * the library and returns the process exit code (core/status.h).
 */
#ifndef TCAT_CLI_H
#define TCAT_CLI_H

#include <stdio.h>

typedef struct tcat_command {
    const char *name;
    const char *summary;
    const char *help; /* the full text of `tcat NAME --help` */
    int (*run)(int argc, char **argv);
} tcat_command;

/* The table of subcommands, ending with a NULL name. */
extern const tcat_command tcat_commands[];

/* Prints "tcat CMD: <message>" and the hint to run --help, returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "tcat CMD: <message>" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int cmd_tokenize(int argc, char **argv);
int cmd_train(int argc, char **argv);
extern const char cmd_train_help[];
extern const char cmd_tokenize_help[];
int cmd_predict(int argc, char **argv);
extern const char cmd_predict_help[];
int cmd_eval(int argc, char **argv);
extern const char cmd_eval_help[];
int cmd_info(int argc, char **argv);
extern const char cmd_info_help[];
int cmd_vocab(int argc, char **argv);
extern const char cmd_vocab_help[];

#endif
