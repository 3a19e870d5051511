/* cli/main.c — `tcat`: dispatches to a subcommand, prints help and version. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unicode/uversion.h>
#include <utf8proc.h>

#include "cli/cli.h"
#include "core/status.h"
#include "core/version.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

const tcat_command tcat_commands[] = {
    {"train", "train a classifier (model search under a time budget)", cmd_train_help, cmd_train},
    {"predict", "classify lines from stdin or whole files", cmd_predict_help, cmd_predict},
    {"eval", "score a model on labelled test data", cmd_eval_help, cmd_eval},
    {"tokenize", "print the tokens of each input line", cmd_tokenize_help, cmd_tokenize},
    {"vocab", "build a subword vocabulary (BPE or unigram)", cmd_vocab_help, cmd_vocab},
    {"info", "describe a model file", cmd_info_help, cmd_info},
    {NULL, NULL, NULL, NULL},
};

static void vmessage(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "tcat%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(cmd, fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'tcat %s%s--help' for more information.\n", cmd ? cmd : "",
            cmd ? " " : "");
    return TCAT_EXIT_USAGE;
}

static void print_help(FILE *f)
{
    fprintf(f,
            "tcat %s — an AutoML text classifier\n"
            "\n"
            "usage: tcat COMMAND [OPTIONS] [ARGS]\n"
            "       tcat COMMAND --help    options of one command\n"
            "       tcat --version\n"
            "\n"
            "Commands:\n",
            TCAT_VERSION);
    for (const tcat_command *c = tcat_commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f,
            "\n"
            "Exit codes:\n"
            "  0  success\n"
            "  1  failure not listed below (out of memory, a library failure,\n"
            "     a model family not built yet)\n"
            "  2  usage error (unknown command or option, bad option value)\n"
            "  3  bad input data (the message names the file and line)\n"
            "  4  input/output error (a file that cannot be read or written)\n"
            "  5  bad model file (truncated, corrupted or foreign)\n"
            "  6  new model not promoted (train --promote-if-better)\n");
}

static void print_version(void)
{
    UVersionInfo icu;
    char icu_s[U_MAX_VERSION_STRING_LENGTH];
    u_getVersion(icu);
    u_versionToString(icu, icu_s);
    char pcre[64] = "";
    pcre2_config(PCRE2_CONFIG_VERSION, pcre);
    printf("tcat %s (ICU %s, utf8proc %s, PCRE2 %s)\n", TCAT_VERSION, icu_s, utf8proc_version(),
           pcre);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return TCAT_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        if (argc > 2 && cmd[0] == 'h') {
            for (const tcat_command *c = tcat_commands; c->name; c++)
                if (strcmp(c->name, argv[2]) == 0) {
                    fputs(c->help, stdout);
                    return TCAT_EXIT_OK;
                }
            return cli_usage_error(NULL, "unknown command '%s'", argv[2]);
        }
        print_help(stdout);
        return TCAT_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        print_version();
        return TCAT_EXIT_OK;
    }
    for (const tcat_command *c = tcat_commands; c->name; c++) {
        if (strcmp(c->name, cmd) != 0)
            continue;
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--") == 0)
                break;
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                fputs(c->help, stdout);
                return TCAT_EXIT_OK;
            }
        }
        return c->run(argc - 1, argv + 1);
    }
    if (cmd[0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", cmd);
    return cli_usage_error(NULL, "unknown command '%s'", cmd);
}
