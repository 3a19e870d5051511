/*
 * pipelines/params.h — reading hyperparameters from a JSON object.
 *
 * Every family reads its hyperparameters the same way: a missing key
 * takes its default, a present one must have the right type and lie in
 * range, and a key the family does not know is refused, so a typo in a
 * search space fails loudly instead of being ignored. Messages read
 * "FAMILY: hyperparameter 'KEY' ..." (TCAT_ERR_USAGE).
 */
#ifndef TCAT_PIPELINES_PARAMS_H
#define TCAT_PIPELINES_PARAMS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/status.h"

/* TCAT_ERR_USAGE naming the first key of p not in known (NULL-ended). */
tcat_status tcat_params_check_keys(const char *family, const json_t *p,
                                   const char *const *known, tcat_error *err);

/* A number in [lo, hi] (default dflt when absent). */
tcat_status tcat_params_num(const char *family, const json_t *p, const char *key, double dflt,
                            double lo, double hi, double *out, tcat_error *err);

/* A whole number in [lo, hi]. */
tcat_status tcat_params_int(const char *family, const json_t *p, const char *key, long dflt,
                            long lo, long hi, long *out, tcat_error *err);

/* true or false. */
tcat_status tcat_params_bool(const char *family, const json_t *p, const char *key, bool dflt,
                             bool *out, tcat_error *err);

/* One of the NULL-ended choices; *out is its index. */
tcat_status tcat_params_choice(const char *family, const json_t *p, const char *key,
                               const char *const *choices, int dflt, int *out, tcat_error *err);

#endif
