/*
 * core/status.h — how tcat reports failure.
 *
 * Every library function that can fail returns a tcat_status and, when the
 * caller passes a tcat_error, fills it with a one-line message naming what
 * went wrong and where (file and line when the input is at fault). Library
 * code never prints and never exits: only the command line decides that.
 *
 *     tcat_error err = {0};
 *     if (tcat_tok_init(&tok, &cfg, &err) != TCAT_OK)
 *         fprintf(stderr, "tcat: %s\n", err.msg);
 *
 * Each status maps to one documented exit code of the command line
 * (tcat_status_exit_code), so scripts can tell bad data from a full disk.
 */
#ifndef TCAT_CORE_STATUS_H
#define TCAT_CORE_STATUS_H

#include <stddef.h>

typedef enum tcat_status {
    TCAT_OK = 0,
    TCAT_ERR_NOMEM,        /* out of memory */
    TCAT_ERR_USAGE,        /* a bad argument or option value */
    TCAT_ERR_INPUT,        /* input data at fault: the message names file and line */
    TCAT_ERR_IO,           /* reading or writing failed (errno text in the message) */
    TCAT_ERR_MODEL,        /* a model file is truncated, corrupted or foreign */
    TCAT_ERR_NOT_PROMOTED, /* --promote-if-better: the new model did not win */
    TCAT_ERR_LIBRARY,      /* ICU, PCRE2 or utf8proc refused a request */
    TCAT_ERR_UNSUPPORTED   /* a feature this build does not have yet */
} tcat_status;

/* Exit codes of the tcat command, one per failure class (documented in
 * README.md and `tcat --help`). */
enum {
    TCAT_EXIT_OK = 0,
    TCAT_EXIT_FAILURE = 1,      /* anything not listed below */
    TCAT_EXIT_USAGE = 2,
    TCAT_EXIT_INPUT = 3,
    TCAT_EXIT_IO = 4,
    TCAT_EXIT_MODEL = 5,
    TCAT_EXIT_NOT_PROMOTED = 6
};

typedef struct tcat_error {
    tcat_status status;
    char msg[512];
} tcat_error;

/* A short fixed description of a status ("out of memory", ...). Never NULL. */
const char *tcat_strerror(tcat_status s);

/* Records status s and a printf-style message in err (when err is not NULL)
 * and returns s, so a failing path reads `return tcat_fail(err, ..., ...)`. */
tcat_status tcat_fail(tcat_error *err, tcat_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The exit code the command line uses for status s. */
int tcat_status_exit_code(tcat_status s);

#endif
