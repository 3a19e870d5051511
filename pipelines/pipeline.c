#include "pipelines/pipeline.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pipelines/bag.h"
#include "pipelines/cnn.h"
#include "pipelines/fasttext.h"
#include "pipelines/linear.h"
#include "pipelines/rnn.h"

static const tcat_pipeline_ops *const families[] = {
    &tcat_linear_ops,
    &tcat_fasttext_ops,
    &tcat_cnn_ops,
    &tcat_rnn_ops,
};

static const char *const family_names[] = {"linear", "fasttext", "cnn", "rnn", NULL};

const tcat_pipeline_ops *tcat_pipeline_family(const char *name)
{
    for (size_t i = 0; i < sizeof families / sizeof *families; i++)
        if (strcmp(families[i]->family, name) == 0)
            return families[i];
    return NULL;
}

const char *const *tcat_pipeline_families(void) { return family_names; }

tcat_status tcat_pipeline_create(tcat_pipeline **out, const char *family, const json_t *params,
                                 size_t nclasses, tcat_error *err)
{
    const tcat_pipeline_ops *ops = tcat_pipeline_family(family);
    if (!ops)
        return tcat_fail(err, TCAT_ERR_USAGE, "unknown model family '%s'", family);
    if (nclasses < 2)
        return tcat_fail(err, TCAT_ERR_INPUT, "a classifier needs at least two classes");
    json_t *empty = NULL;
    if (!params)
        params = empty = json_object();
    const json_t *bj = json_is_object(params) ? json_object_get(params, "bag") : NULL;
    if (!bj) {
        tcat_status st = ops->create(out, params, nclasses, err);
        json_decref(empty);
        return st;
    }
    /* "bag" (pipelines/bag.h) is the wrapper's, not the family's */
    if (!json_is_integer(bj) || json_integer_value(bj) < 1 ||
        json_integer_value(bj) > TCAT_BAG_MAX)
        return tcat_fail(err, TCAT_ERR_USAGE,
                         "%s: hyperparameter 'bag' must be a whole number 1..%d", family,
                         TCAT_BAG_MAX);
    size_t n = (size_t)json_integer_value(bj);
    json_t *rest = json_copy((json_t *)params);
    if (!rest)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    json_object_del(rest, "bag");
    tcat_status st = n == 1 ? ops->create(out, rest, nclasses, err)
                            : tcat_bag_create(out, ops, rest, n, nclasses, err);
    json_decref(rest);
    return st;
}

tcat_status tcat_pipeline_fit(tcat_pipeline *p, const tcat_docs *train, const tcat_docs *dev,
                              const tcat_fit_opts *o, tcat_error *err)
{
    const tcat_corpus *c = train->c;
    for (size_t i = 0; i < train->n; i++) {
        size_t d = tcat_docs_at(train, i);
        int32_t y = c->label[d];
        if (y < 0 || (size_t)y >= p->nclasses)
            return tcat_fail(err, TCAT_ERR_INPUT, "training document %zu has no known label", i);
        if (p->multilabel)
            for (size_t j = c->doc_label[d]; j < c->doc_label[d + 1]; j++)
                if (c->labels[j] < 0 || (size_t)c->labels[j] >= p->nclasses)
                    return tcat_fail(err, TCAT_ERR_INPUT,
                                     "training document %zu has a label the model does not know",
                                     i);
    }
    return p->ops->fit(p, train, dev, o, err);
}

tcat_status tcat_pipeline_predict_proba(const tcat_pipeline *p, const tcat_docs *docs,
                                        float *proba, int threads, tcat_error *err)
{
    return p->ops->predict_proba(p, docs, proba, threads < 1 ? 1 : threads, NULL, err);
}

tcat_status tcat_pipeline_predict_proba_shared(const tcat_pipeline *p, const tcat_docs *docs,
                                               float *proba, int threads, tcat_cache *cache,
                                               tcat_error *err)
{
    return p->ops->predict_proba(p, docs, proba, threads < 1 ? 1 : threads, cache, err);
}

tcat_status tcat_pipeline_save(const tcat_pipeline *p, tcat_mwriter *w, const char *prefix,
                               tcat_error *err)
{
    return p->ops->save(p, w, prefix, err);
}

tcat_status tcat_pipeline_load(tcat_pipeline **out, const char *family, const json_t *params,
                               size_t nclasses, const tcat_mreader *r, const char *prefix,
                               tcat_error *err)
{
    tcat_error cerr = {0};
    tcat_status st = tcat_pipeline_create(out, family, params, nclasses, &cerr);
    if (st != TCAT_OK) /* a bad hyperparameter in a file is a bad file */
        return tcat_fail(err, st == TCAT_ERR_USAGE ? TCAT_ERR_MODEL : st, "%s", cerr.msg);
    st = (*out)->ops->load(*out, r, prefix, err);
    if (st != TCAT_OK)
        tcat_pipeline_free(out);
    return st;
}

size_t tcat_pipeline_memory(const tcat_pipeline *p, const tcat_docs *train)
{
    return p->ops->memory ? p->ops->memory(p, train) : 0;
}

const json_t *tcat_pipeline_params(const tcat_pipeline *p) { return p->params; }

json_t *tcat_pipeline_describe(const tcat_pipeline *p)
{
    json_t *d = p->ops->describe ? p->ops->describe(p) : json_object();
    if (d) {
        json_object_set_new(d, "family", json_string(p->ops->family));
        json_object_set(d, "params", p->params);
    }
    return d;
}

void tcat_pipeline_free(tcat_pipeline **p)
{
    if (!p || !*p)
        return;
    json_decref((*p)->params);
    (*p)->ops->destroy(*p);
    *p = NULL;
}

tcat_status tcat_pipeline_task_parse(tcat_pipeline *p, const json_t *params, json_t **rest,
                                     tcat_error *err)
{
    *rest = NULL;
    json_t *own = json_is_object(params) ? json_copy((json_t *)params) : json_incref((json_t *)params);
    if (!own)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    const json_t *ml = json_is_object(own) ? json_object_get(own, "multilabel") : NULL;
    if (ml && !json_is_boolean(ml)) {
        json_decref(own);
        return tcat_fail(err, TCAT_ERR_USAGE, "hyperparameter 'multilabel' must be true or false");
    }
    p->multilabel = json_is_true(ml);
    if (ml)
        json_object_del(own, "multilabel");
    *rest = own;
    return TCAT_OK;
}

tcat_status tcat_pipeline_task_record(tcat_pipeline *p, tcat_error *err)
{
    if (p->multilabel && json_object_set_new(p->params, "multilabel", json_true()) != 0)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    return TCAT_OK;
}

tcat_status tcat_pipeline_new(tcat_pipeline **out, size_t size, const tcat_pipeline_ops *ops,
                              const json_t *params, size_t nclasses,
                              tcat_status (*parse)(tcat_pipeline *p, const json_t *params,
                                                   tcat_error *err),
                              json_t *(*effective)(const tcat_pipeline *p), tcat_error *err)
{
    tcat_pipeline *p = calloc(1, size);
    if (!p)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    p->ops = ops;
    p->nclasses = nclasses;
    json_t *rest = NULL;
    tcat_status st = tcat_pipeline_task_parse(p, params, &rest, err);
    if (st == TCAT_OK)
        st = parse(p, rest, err);
    json_decref(rest);
    if (st == TCAT_OK && !(p->params = effective(p)))
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    if (st == TCAT_OK)
        st = tcat_pipeline_task_record(p, err);
    if (st != TCAT_OK) {
        json_decref(p->params);
        free(p);
        return st;
    }
    *out = p;
    return TCAT_OK;
}

tcat_status tcat_pipeline_put(tcat_mwriter *w, const char *prefix, const char *part,
                              const void *data, size_t size, tcat_error *err)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%s", prefix, part);
    return tcat_mwriter_add(w, name, data, size, err);
}

const void *tcat_pipeline_get(const tcat_mreader *r, const char *prefix, const char *part,
                              size_t want, tcat_status *st, tcat_error *err)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%s", prefix, part);
    const void *data;
    size_t size;
    if (!tcat_mreader_find(r, name, &data, &size)) {
        *st = tcat_fail(err, TCAT_ERR_MODEL, "model file has no section '%s'", name);
        return NULL;
    }
    if (size != want) {
        *st = tcat_fail(err, TCAT_ERR_MODEL, "section '%s' has %zu bytes, expected %zu", name,
                        size, want);
        return NULL;
    }
    return data;
}

double tcat_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bool tcat_pace_overruns(double start, size_t done, double deadline)
{
    if (done == 0 || deadline <= 0)
        return false;
    double now = tcat_now();
    return now + (now - start) / (double)done > deadline;
}
