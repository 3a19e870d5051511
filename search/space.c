#include "search/space.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

extern const char tcat_default_space[]; /* search/space.json, build/gen/default_space.c */

struct tcat_space {
    json_t *root;
    const char *order[TCAT_SPACE_MAX_FAMILIES + 1];
};

void tcat_space_free(tcat_space **s)
{
    if (!s || !*s)
        return;
    json_decref((*s)->root);
    free(*s);
    *s = NULL;
}

/* Checks one sampler: {"log"|"uniform"|"int": [lo, hi]} or {"choice": [...]}. */
static bool sampler_ok(const json_t *v)
{
    if (!json_is_object(v) || json_object_size(v) != 1)
        return false;
    const char *kind = json_object_iter_key(json_object_iter((json_t *)v));
    const json_t *a = json_object_iter_value(json_object_iter((json_t *)v));
    if (!strcmp(kind, "choice"))
        return json_is_array(a) && json_array_size(a) > 0;
    if (strcmp(kind, "log") && strcmp(kind, "uniform") && strcmp(kind, "int"))
        return false;
    if (!json_is_array(a) || json_array_size(a) != 2 || !json_is_number(json_array_get(a, 0)) ||
        !json_is_number(json_array_get(a, 1)))
        return false;
    double lo = json_number_value(json_array_get(a, 0)), hi = json_number_value(json_array_get(a, 1));
    return lo <= hi && (strcmp(kind, "log") || lo > 0);
}

tcat_status tcat_space_parse(tcat_space **out, const char *text, tcat_error *err)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root)
        return tcat_fail(err, TCAT_ERR_USAGE, "search space: line %d: %s", je.line, je.text);
    tcat_space *s = calloc(1, sizeof *s);
    if (!s) {
        json_decref(root);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    s->root = root;
    const json_t *order = json_object_get(root, "order"), *fams = json_object_get(root, "families");
    const json_t *port = json_object_get(root, "portfolio");
    if (!json_is_array(order) || !json_is_object(fams) || !json_is_array(port) ||
        json_array_size(order) > TCAT_SPACE_MAX_FAMILIES) {
        tcat_space_free(&s);
        return tcat_fail(err, TCAT_ERR_USAGE,
                         "search space: needs \"order\", \"families\" and \"portfolio\"");
    }
    for (size_t i = 0; i < json_array_size(order); i++) {
        const char *f = json_string_value(json_array_get(order, i));
        const json_t *fam = f ? json_object_get(fams, f) : NULL;
        const json_t *space = json_object_get(fam, "space");
        if (!fam || !json_is_object(space) || !json_is_number(json_object_get(fam, "cost"))) {
            tcat_space_free(&s);
            return tcat_fail(err, TCAT_ERR_USAGE,
                             "search space: family %zu of \"order\" has no space or cost", i);
        }
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)space, key, v)
            if (!sampler_ok(v)) {
                tcat_fail(err, TCAT_ERR_USAGE, "search space: %s.%s is not a sampler", f, key);
                tcat_space_free(&s); /* after the message: f and key live in it */
                return TCAT_ERR_USAGE;
            }
        s->order[i] = f;
    }
    for (size_t i = 0; i < json_array_size(port); i++) {
        const json_t *e = json_array_get(port, i);
        if (!json_is_array(e) || json_array_size(e) != 2 ||
            !json_is_string(json_array_get(e, 0)) || !json_is_object(json_array_get(e, 1))) {
            tcat_space_free(&s);
            return tcat_fail(err, TCAT_ERR_USAGE,
                             "search space: portfolio entry %zu is not [family, {params}]", i);
        }
    }
    *out = s;
    return TCAT_OK;
}

tcat_status tcat_space_default(tcat_space **out, tcat_error *err)
{
    return tcat_space_parse(out, tcat_default_space, err);
}

size_t tcat_space_portfolio_size(const tcat_space *s)
{
    return json_array_size(json_object_get(s->root, "portfolio"));
}

void tcat_space_portfolio(const tcat_space *s, size_t i, const char **family,
                          const json_t **params)
{
    const json_t *e = json_array_get(json_object_get(s->root, "portfolio"), i);
    *family = json_string_value(json_array_get(e, 0));
    *params = json_array_get(e, 1);
}

const char *const *tcat_space_families(const tcat_space *s) { return s->order; }

double tcat_space_cost(const tcat_space *s, const char *family)
{
    const json_t *f = json_object_get(json_object_get(s->root, "families"), family);
    return f ? json_number_value(json_object_get(f, "cost")) : 1.0;
}

/* One draw of a sampler. */
static json_t *draw(const json_t *v, tcat_rng *r)
{
    const char *kind = json_object_iter_key(json_object_iter((json_t *)v));
    const json_t *a = json_object_iter_value(json_object_iter((json_t *)v));
    if (!strcmp(kind, "choice"))
        return json_deep_copy(json_array_get(a, (size_t)tcat_rng_below(r, json_array_size(a))));
    double lo = json_number_value(json_array_get(a, 0)), hi = json_number_value(json_array_get(a, 1));
    double u = tcat_rng_uniform(r);
    if (!strcmp(kind, "int"))
        return json_integer((json_int_t)floor(lo + u * (hi - lo + 1)));
    double x = !strcmp(kind, "log") ? exp(log(lo) + u * (log(hi) - log(lo))) : lo + u * (hi - lo);
    /* four significant digits: settings that read well in a leaderboard */
    double mag = pow(10, floor(log10(fabs(x))) - 3);
    return json_real(round(x / mag) * mag);
}

json_t *tcat_space_sample(const tcat_space *s, const char *family, tcat_rng *r)
{
    const json_t *f = json_object_get(json_object_get(s->root, "families"), family);
    const json_t *space = json_object_get(f, "space"), *fixed = json_object_get(f, "fixed");
    if (!json_is_object(space))
        return NULL;
    json_t *p = fixed ? json_deep_copy(fixed) : json_object();
    const char *key;
    json_t *v;
    /* keys in sorted order: the same draws whatever the table's layout */
    const char *keys[64];
    size_t nk = 0;
    json_object_foreach((json_t *)space, key, v)
        if (nk < 64)
            keys[nk++] = key;
    for (size_t i = 1; i < nk; i++)
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    for (size_t i = 0; p && i < nk; i++) {
        json_t *x = draw(json_object_get(space, keys[i]), r);
        if (!x) {
            json_decref(p);
            return NULL;
        }
        if (json_is_object(x)) {
            json_object_update(p, x);
            json_decref(x);
        } else
            json_object_set_new(p, keys[i], x);
    }
    return p;
}
