#include "pipelines/bag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

typedef struct bag {
    tcat_pipeline base;
    tcat_pipeline_ops ops; /* the bag's operations under the family's name */
    tcat_pipeline **copy;
    size_t n;      /* copies created */
    size_t fitted; /* copies fitted or loaded: the ones predict averages */
} bag;

uint64_t tcat_bag_seed(uint64_t seed, size_t i)
{
    if (i == 0)
        return seed;
    uint64_t s = seed ^ (0x626167ull * (uint64_t)i); /* "bag" */
    return tcat_splitmix64(&s);
}

/* The effective hyperparameters: the first copy's plus "bag": copies. */
static tcat_status record(bag *b, size_t copies, tcat_error *err)
{
    json_t *p = json_deep_copy(tcat_pipeline_params(b->copy[0]));
    if (!p || json_object_set_new(p, "bag", json_integer((json_int_t)copies)) != 0) {
        json_decref(p);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    json_decref(b->base.params);
    b->base.params = p;
    return TCAT_OK;
}

static tcat_status fit(tcat_pipeline *p, const tcat_docs *train, const tcat_docs *dev,
                       const tcat_fit_opts *o, tcat_error *err)
{
    bag *b = (bag *)p;
    b->fitted = 0;
    double start = tcat_now();
    for (size_t i = 0; i < b->n; i++) {
        /* a copy that would end past the deadline is left out: the
         * copies so far are a bag already */
        if (tcat_pace_overruns(start, i, o->deadline))
            break;
        tcat_fit_opts fo = *o;
        fo.seed = tcat_bag_seed(o->seed, i);
        tcat_status st = tcat_pipeline_fit(b->copy[i], train, dev, &fo, err);
        if (st != TCAT_OK)
            return st;
        b->fitted = i + 1;
    }
    return record(b, b->fitted, err);
}

static tcat_status predict_proba(const tcat_pipeline *p, const tcat_docs *docs, float *proba,
                                 int threads, tcat_cache *cache, tcat_error *err)
{
    const bag *b = (const bag *)p;
    size_t cells = docs->n * p->nclasses;
    if (b->fitted == 0)
        return tcat_fail(err, TCAT_ERR_USAGE, "%s: predict before fit", b->ops.family);
    tcat_status st = tcat_pipeline_predict_proba_shared(b->copy[0], docs, proba, threads, cache,
                                                        err);
    if (st != TCAT_OK || b->fitted == 1)
        return st;
    float *one = malloc((cells ? cells : 1) * sizeof *one);
    if (!one)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    for (size_t i = 1; i < b->fitted && st == TCAT_OK; i++) {
        st = tcat_pipeline_predict_proba_shared(b->copy[i], docs, one, threads, cache, err);
        for (size_t j = 0; st == TCAT_OK && j < cells; j++)
            proba[j] += one[j];
    }
    float inv = 1.0f / (float)b->fitted;
    for (size_t j = 0; st == TCAT_OK && j < cells; j++)
        proba[j] *= inv;
    free(one);
    return st;
}

static void copy_prefix(char *buf, size_t size, const char *prefix, size_t i)
{
    snprintf(buf, size, "%s.b%zu", prefix, i);
}

/* Each copy's own effective hyperparameters go in "<copy prefix>.params"
 * (what it fitted on dev, such as its temperature, differs by seed). */
static tcat_status save(const tcat_pipeline *p, tcat_mwriter *w, const char *prefix,
                        tcat_error *err)
{
    const bag *b = (const bag *)p;
    tcat_status st = TCAT_OK;
    for (size_t i = 0; i < b->fitted && st == TCAT_OK; i++) {
        char name[48];
        copy_prefix(name, sizeof name, prefix, i);
        char *js = json_dumps(tcat_pipeline_params(b->copy[i]),
                              JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17));
        st = js ? tcat_pipeline_put(w, name, "params", js, strlen(js), err)
                : tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        free(js);
        if (st == TCAT_OK)
            st = tcat_pipeline_save(b->copy[i], w, name, err);
    }
    return st;
}

static tcat_status load(tcat_pipeline *p, const tcat_mreader *r, const char *prefix,
                        tcat_error *err)
{
    bag *b = (bag *)p;
    for (size_t i = 0; i < b->n; i++) {
        char name[48], section[64];
        copy_prefix(name, sizeof name, prefix, i);
        snprintf(section, sizeof section, "%s.params", name);
        const void *data;
        size_t size;
        if (!tcat_mreader_find(r, section, &data, &size))
            return tcat_fail(err, TCAT_ERR_MODEL, "model file has no section '%s'", section);
        json_error_t je;
        json_t *params = json_loadb(data, size, 0, &je);
        if (!json_is_object(params)) {
            json_decref(params);
            return tcat_fail(err, TCAT_ERR_MODEL, "section '%s' is not a JSON object", section);
        }
        tcat_pipeline_free(&b->copy[i]);
        tcat_status st = tcat_pipeline_load(&b->copy[i], b->ops.family, params,
                                            b->base.nclasses, r, name, err);
        json_decref(params);
        if (st != TCAT_OK)
            return st;
    }
    b->fitted = b->n;
    return record(b, b->fitted, err);
}

static json_t *describe(const tcat_pipeline *p)
{
    const bag *b = (const bag *)p;
    json_t *d = b->copy[0]->ops->describe ? b->copy[0]->ops->describe(b->copy[0]) : json_object();
    if (d)
        json_object_set_new(d, "bag", json_integer((json_int_t)b->fitted));
    return d;
}

/* The copies fit one after another: the peak is one copy's. */
static size_t memory(const tcat_pipeline *p, const tcat_docs *train)
{
    const bag *b = (const bag *)p;
    return tcat_pipeline_memory(b->copy[0], train);
}

static void destroy(tcat_pipeline *p)
{
    bag *b = (bag *)p;
    for (size_t i = 0; i < b->n; i++)
        tcat_pipeline_free(&b->copy[i]);
    free(b->copy);
    free(b);
}

tcat_status tcat_bag_create(tcat_pipeline **out, const tcat_pipeline_ops *ops,
                            const json_t *params, size_t n, size_t nclasses, tcat_error *err)
{
    bag *b = calloc(1, sizeof *b);
    if (!b || !(b->copy = calloc(n, sizeof *b->copy))) {
        free(b);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    b->ops = (tcat_pipeline_ops){ops->family, ops->dev_selects, NULL, fit, predict_proba, save,
                                 load, describe, memory, destroy};
    b->base.ops = &b->ops;
    b->base.nclasses = nclasses;
    b->n = n;
    tcat_status st = TCAT_OK;
    for (size_t i = 0; i < n && st == TCAT_OK; i++)
        st = ops->create(&b->copy[i], params, nclasses, err);
    if (st == TCAT_OK) {
        b->base.multilabel = b->copy[0]->multilabel;
        st = record(b, n, err); /* what the hyperparameters say until fit */
    }
    if (st != TCAT_OK) {
        json_decref(b->base.params);
        destroy(&b->base);
        return st;
    }
    *out = &b->base;
    return TCAT_OK;
}
