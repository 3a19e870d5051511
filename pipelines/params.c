#include "pipelines/params.h"

#include <math.h>
#include <string.h>

static tcat_status bad(tcat_error *err, const char *family, const char *key, const char *why)
{
    return tcat_fail(err, TCAT_ERR_USAGE, "%s: hyperparameter '%s' %s", family, key, why);
}

tcat_status tcat_params_check_keys(const char *family, const json_t *p,
                                   const char *const *known, tcat_error *err)
{
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)p, key, val) {
        bool ok = false;
        for (int i = 0; known[i]; i++)
            ok |= strcmp(known[i], key) == 0;
        if (!ok)
            return tcat_fail(err, TCAT_ERR_USAGE, "%s: unknown hyperparameter '%s'", family,
                             key);
    }
    return TCAT_OK;
}

tcat_status tcat_params_num(const char *family, const json_t *p, const char *key, double dflt,
                            double lo, double hi, double *out, tcat_error *err)
{
    const json_t *v = json_object_get(p, key);
    if (!v) {
        *out = dflt;
        return TCAT_OK;
    }
    if (!json_is_number(v))
        return bad(err, family, key, "must be a number");
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi))
        return bad(err, family, key, "is out of range");
    *out = x;
    return TCAT_OK;
}

tcat_status tcat_params_int(const char *family, const json_t *p, const char *key, long dflt,
                            long lo, long hi, long *out, tcat_error *err)
{
    double x;
    tcat_status st = tcat_params_num(family, p, key, (double)dflt, (double)lo, (double)hi, &x, err);
    if (st != TCAT_OK)
        return st;
    if (x != floor(x))
        return bad(err, family, key, "must be a whole number");
    *out = (long)x;
    return TCAT_OK;
}

tcat_status tcat_params_bool(const char *family, const json_t *p, const char *key, bool dflt,
                             bool *out, tcat_error *err)
{
    const json_t *v = json_object_get(p, key);
    if (!v) {
        *out = dflt;
        return TCAT_OK;
    }
    if (!json_is_boolean(v))
        return bad(err, family, key, "must be true or false");
    *out = json_is_true(v);
    return TCAT_OK;
}

tcat_status tcat_params_choice(const char *family, const json_t *p, const char *key,
                               const char *const *choices, int dflt, int *out, tcat_error *err)
{
    const json_t *v = json_object_get(p, key);
    if (!v) {
        *out = dflt;
        return TCAT_OK;
    }
    const char *s = json_string_value(v);
    for (int i = 0; s && choices[i]; i++)
        if (strcmp(s, choices[i]) == 0) {
            *out = i;
            return TCAT_OK;
        }
    char list[256] = "";
    for (int i = 0; choices[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 choices[i]);
    return tcat_fail(err, TCAT_ERR_USAGE, "%s: hyperparameter '%s' must be one of %s", family, key,
                     list);
}
