#include "model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/version.h"

/* 17 significant digits: every double survives the round trip, so a
 * loaded model predicts exactly as the saved one did */
#define JSON_FLAGS (JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17))

tcat_status tcat_model_new(tcat_model **out, const tcat_tok_config *tok, tcat_error *err)
{
    tcat_model *m = calloc(1, sizeof *m);
    if (!m)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    if (tcat_tok_config_copy(&m->tok, tok) != TCAT_OK || tcat_labels_new(&m->labels) != TCAT_OK ||
        !(m->meta = json_object())) {
        tcat_model_free(&m);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    *out = m;
    return TCAT_OK;
}

tcat_status tcat_model_add_member(tcat_model *m, tcat_pipeline *p, double weight, json_t *scores,
                                  tcat_error *err)
{
    tcat_member *v = realloc(m->members, (m->nmembers + 1) * sizeof *v);
    if (!v) {
        tcat_pipeline_free(&p);
        json_decref(scores);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    m->members = v;
    m->members[m->nmembers++] = (tcat_member){p, weight, scores};
    return TCAT_OK;
}

size_t tcat_model_classes(const tcat_model *m) { return tcat_labels_count(m->labels); }

tcat_status tcat_model_set_thresholds(tcat_model *m, const float *thr, size_t K,
                                      tcat_error *err)
{
    if (K != tcat_model_classes(m))
        return tcat_fail(err, TCAT_ERR_USAGE, "%zu thresholds for a model of %zu labels", K,
                         tcat_model_classes(m));
    float *t = malloc(K * sizeof *t);
    if (!t)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    memcpy(t, thr, K * sizeof *t);
    free(m->thresholds);
    m->thresholds = t;
    return TCAT_OK;
}

tcat_status tcat_model_set_combiner(tcat_model *m, const tcat_combiner *c, tcat_error *err)
{
    size_t used = 0;
    for (size_t i = 0; i < c->M; i++)
        used += c->weight[i] > 0;
    if (c->K != tcat_model_classes(m) || used != m->nmembers)
        return tcat_fail(err, TCAT_ERR_USAGE,
                         "the combiner uses %zu members of %zu classes; the model has %zu "
                         "members of %zu classes",
                         used, c->K, m->nmembers, tcat_model_classes(m));
    tcat_combiner *copy = malloc(sizeof *copy);
    if (!copy)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    tcat_status st = tcat_combine_compact(copy, c, err);
    if (st != TCAT_OK) {
        free(copy);
        return st;
    }
    for (size_t i = 0; i < m->nmembers; i++)
        m->members[i].weight = copy->weight[i];
    if (m->combiner)
        tcat_combine_free(m->combiner);
    free(m->combiner);
    m->combiner = copy;
    return TCAT_OK;
}

void tcat_model_free(tcat_model **mp)
{
    if (!mp || !*mp)
        return;
    tcat_model *m = *mp;
    for (size_t i = 0; i < m->nmembers; i++) {
        tcat_pipeline_free(&m->members[i].p);
        json_decref(m->members[i].scores);
    }
    free(m->members);
    tcat_combine_free(m->combiner);
    free(m->combiner);
    free(m->thresholds);
    tcat_labels_free(&m->labels);
    tcat_tok_config_clear(&m->tok);
    json_decref(m->meta);
    tcat_mreader_close(&m->file);
    free(m);
    *mp = NULL;
}

void tcat_model_timestamp(char *buf, size_t size)
{
    time_t t = time(NULL);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *e;
        long long v = strtoll(sde, &e, 10);
        if (!*e && v >= 0)
            t = (time_t)v;
    }
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Adds a JSON value as a section. */
static tcat_status add_json(tcat_mwriter *w, const char *name, const json_t *j, tcat_error *err)
{
    char *s = json_dumps(j, JSON_FLAGS | JSON_ENCODE_ANY);
    if (!s)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    tcat_status st = tcat_mwriter_add(w, name, s, strlen(s), err);
    free(s);
    return st;
}

tcat_status tcat_model_save(const tcat_model *m, const char *path, tcat_error *err)
{
    tcat_mwriter *w;
    tcat_status st = tcat_mwriter_open(&w, path, err);
    if (st != TCAT_OK)
        return st;
    json_t *labels = json_array(), *members = json_array();
    char *tok = NULL;
    size_t toklen;
    if (!labels || !members || tcat_tok_config_save(&m->tok, &tok, &toklen) != TCAT_OK) {
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < tcat_labels_count(m->labels); i++)
        json_array_append_new(labels, json_string(tcat_labels_name(m->labels, (int32_t)i)));
    for (size_t i = 0; i < m->nmembers; i++) {
        const tcat_member *mb = &m->members[i];
        json_t *o = json_pack("{s:s, s:O, s:f}", "family", mb->p->ops->family, "params",
                              tcat_pipeline_params(mb->p), "weight", mb->weight);
        if (!o) {
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
            goto done;
        }
        if (mb->scores)
            json_object_set(o, "scores", mb->scores);
        json_array_append_new(members, o);
    }
    if ((st = add_json(w, "meta", m->meta, err)) ||
        (st = tcat_mwriter_add(w, "tokenizer", tok, toklen, err)) ||
        (st = add_json(w, "labels", labels, err)) || (st = add_json(w, "members", members, err)))
        goto done;
    if (m->combiner) {
        const tcat_combiner *c = m->combiner;
        json_t *cj = tcat_combine_to_json(c);
        if (!cj) {
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
            goto done;
        }
        st = add_json(w, "combiner", cj, err);
        json_decref(cj);
        if (st == TCAT_OK && c->kind == TCAT_COMBINE_STACK)
            st = tcat_mwriter_add(w, "stack", c->W, c->K * (c->M * c->K + 1) * sizeof *c->W,
                                  err);
        if (st != TCAT_OK)
            goto done;
    }
    if (m->thresholds &&
        (st = tcat_mwriter_add(w, "thresholds", m->thresholds,
                               tcat_model_classes(m) * sizeof *m->thresholds, err)) != TCAT_OK)
        goto done;
    for (size_t i = 0; i < m->nmembers; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "m%zu", i);
        if ((st = tcat_pipeline_save(m->members[i].p, w, prefix, err)) != TCAT_OK)
            goto done;
    }
    st = tcat_mwriter_commit(&w, err);
done:
    tcat_mwriter_abort(&w);
    json_decref(labels);
    json_decref(members);
    free(tok);
    return st;
}

/* Parses the JSON section name of r. */
static json_t *load_json(const tcat_mreader *r, const char *path, const char *name,
                         tcat_error *err)
{
    const void *data;
    size_t size;
    if (!tcat_mreader_find(r, name, &data, &size)) {
        tcat_fail(err, TCAT_ERR_MODEL, "%s: no '%s' section: not a complete tcat model", path,
                  name);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(data, size, JSON_DECODE_ANY, &je);
    if (!j)
        tcat_fail(err, TCAT_ERR_MODEL, "%s: section '%s' is not valid JSON: %s", path, name,
                  je.text);
    return j;
}

/* The optional combiner of a model whose members are loaded. */
static tcat_status load_combiner(tcat_model *m, const tcat_mreader *r, const char *path,
                                 tcat_error *err)
{
    const void *W = NULL;
    size_t Wsize = 0;
    bool has_stack = tcat_mreader_find(r, "stack", &W, &Wsize);
    if (!tcat_mreader_find(r, "combiner", NULL, NULL)) {
        if (has_stack)
            return tcat_fail(err, TCAT_ERR_MODEL,
                             "%s: a 'stack' section but no 'combiner' section", path);
        return TCAT_OK;
    }
    json_t *cj = load_json(r, path, "combiner", err);
    if (!cj)
        return TCAT_ERR_MODEL;
    double *weight = malloc(m->nmembers * sizeof *weight);
    tcat_combiner *c = calloc(1, sizeof *c);
    if (!weight || !c) {
        free(weight);
        free(c);
        json_decref(cj);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < m->nmembers; i++)
        weight[i] = m->members[i].weight;
    tcat_error cerr = {0};
    tcat_status st = tcat_combine_from_json(c, cj, weight, m->nmembers, tcat_model_classes(m), W,
                                            Wsize, &cerr);
    if (st == TCAT_OK && c->kind != TCAT_COMBINE_STACK && has_stack) {
        st = tcat_fail(&cerr, TCAT_ERR_MODEL, "a 'stack' section but a combiner of kind '%s'",
                       tcat_combine_kind_name(c->kind));
        tcat_combine_free(c);
    }
    free(weight);
    json_decref(cj);
    if (st != TCAT_OK) {
        free(c);
        return st == TCAT_ERR_NOMEM ? tcat_fail(err, st, "out of memory")
                                    : tcat_fail(err, TCAT_ERR_MODEL, "%s: section 'combiner': %s",
                                                path, cerr.msg);
    }
    m->combiner = c;
    return TCAT_OK;
}

/* The optional thresholds of a model whose members are loaded: they and
 * the members must agree on being multi-label. */
static tcat_status load_thresholds(tcat_model *m, const tcat_mreader *r, const char *path,
                                   tcat_error *err)
{
    const void *data = NULL;
    size_t size = 0, K = tcat_model_classes(m);
    bool multi = tcat_mreader_find(r, "thresholds", &data, &size);
    for (size_t i = 0; i < m->nmembers; i++)
        if (m->members[i].p->multilabel != multi)
            return tcat_fail(err, TCAT_ERR_MODEL,
                             multi ? "%s: member %zu is single-label in a multi-label model"
                                   : "%s: member %zu is multi-label but the model has no "
                                     "'thresholds' section",
                             path, i);
    if (!multi)
        return TCAT_OK;
    if (size != K * sizeof(float))
        return tcat_fail(err, TCAT_ERR_MODEL,
                         "%s: section 'thresholds' has %zu bytes, expected %zu (%zu labels)",
                         path, size, K * sizeof(float), K);
    if (!(m->thresholds = malloc(K * sizeof *m->thresholds)))
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    memcpy(m->thresholds, data, size);
    for (size_t k = 0; k < K; k++)
        if (!isfinite(m->thresholds[k]))
            return tcat_fail(err, TCAT_ERR_MODEL, "%s: threshold %zu is not a finite number",
                             path, k);
    return TCAT_OK;
}

tcat_status tcat_model_load(tcat_model **out, const char *path, tcat_error *err)
{
    tcat_mreader *r;
    tcat_status st = tcat_mreader_open(&r, path, err);
    if (st != TCAT_OK)
        return st;
    tcat_model *m = calloc(1, sizeof *m);
    json_t *labels = NULL, *members = NULL;
    if (!m) {
        tcat_mreader_close(&r);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    m->file = r;
    tcat_tok_config_default(&m->tok);
    if (tcat_labels_new(&m->labels) != TCAT_OK) {
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!(m->meta = load_json(r, path, "meta", err)) || !json_is_object(m->meta)) {
        st = tcat_fail(err, TCAT_ERR_MODEL, "%s: bad or missing 'meta' section", path);
        goto fail;
    }
    const void *tokdata;
    size_t toklen;
    if (!tcat_mreader_find(r, "tokenizer", &tokdata, &toklen)) {
        st = tcat_fail(err, TCAT_ERR_MODEL, "%s: no 'tokenizer' section", path);
        goto fail;
    }
    tcat_error terr = {0};
    if (tcat_tok_config_load(&m->tok, tokdata, toklen, &terr) != TCAT_OK) {
        st = tcat_fail(err, TCAT_ERR_MODEL, "%s: %s", path, terr.msg);
        goto fail;
    }
    if (!(labels = load_json(r, path, "labels", err)) || !json_is_array(labels) ||
        json_array_size(labels) < 2) {
        st = tcat_fail(err, TCAT_ERR_MODEL, "%s: bad or missing 'labels' section", path);
        goto fail;
    }
    size_t i;
    json_t *v;
    json_array_foreach(labels, i, v) {
        int32_t id;
        const char *s = json_string_value(v);
        if (!s || tcat_labels_intern(m->labels, s, strlen(s), &id) != TCAT_OK || (size_t)id != i) {
            st = tcat_fail(err, TCAT_ERR_MODEL, "%s: label %zu is missing or repeated", path, i);
            goto fail;
        }
    }
    if (!(members = load_json(r, path, "members", err)) || !json_is_array(members) ||
        json_array_size(members) == 0) {
        st = tcat_fail(err, TCAT_ERR_MODEL, "%s: bad or missing 'members' section", path);
        goto fail;
    }
    json_array_foreach(members, i, v) {
        const char *family = json_string_value(json_object_get(v, "family"));
        json_t *params = json_object_get(v, "params");
        json_t *weight = json_object_get(v, "weight");
        if (!family || !json_is_object(params) || !json_is_number(weight) ||
            !(json_number_value(weight) > 0)) {
            st = tcat_fail(err, TCAT_ERR_MODEL, "%s: member %zu is malformed", path, i);
            goto fail;
        }
        char prefix[32];
        snprintf(prefix, sizeof prefix, "m%zu", i);
        tcat_pipeline *p;
        tcat_error perr = {0};
        if (tcat_pipeline_load(&p, family, params, tcat_labels_count(m->labels), r, prefix,
                               &perr) != TCAT_OK) {
            st = tcat_fail(err, TCAT_ERR_MODEL, "%s: member %zu (%s): %s", path, i, family,
                           perr.msg);
            goto fail;
        }
        json_t *scores = json_object_get(v, "scores");
        if ((st = tcat_model_add_member(m, p, json_number_value(weight),
                                        scores ? json_incref(scores) : NULL, err)) != TCAT_OK)
            goto fail;
    }
    if ((st = load_combiner(m, r, path, err)) != TCAT_OK ||
        (st = load_thresholds(m, r, path, err)) != TCAT_OK)
        goto fail;
    json_decref(labels);
    json_decref(members);
    *out = m;
    return TCAT_OK;
fail:
    json_decref(labels);
    json_decref(members);
    tcat_model_free(&m);
    return st;
}

/* Each member's probabilities, then the stacker. */
static tcat_status predict_stacked(const tcat_model *m, const tcat_docs *docs, float *proba,
                                   int threads, tcat_error *err)
{
    size_t K = tcat_model_classes(m), n = docs->n, M = m->nmembers, cells = (n ? n : 1) * K;
    float *all = malloc(M * cells * sizeof *all);
    const float **each = malloc(M * sizeof *each);
    tcat_cache *cache = NULL;
    if (!all || !each || tcat_cache_new(&cache) != TCAT_OK) {
        free(all);
        free(each);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    tcat_status st = TCAT_OK;
    for (size_t j = 0; j < M && st == TCAT_OK; j++) {
        st = tcat_pipeline_predict_proba_shared(m->members[j].p, docs, all + j * cells, threads,
                                                cache, err);
        each[j] = all + j * cells;
    }
    if (st == TCAT_OK)
        tcat_combine_apply(m->combiner, each, n, proba);
    tcat_cache_free(&cache);
    free(all);
    free(each);
    return st;
}

tcat_status tcat_model_predict_proba(const tcat_model *m, const tcat_docs *docs, float *proba,
                                     int threads, tcat_error *err)
{
    size_t K = tcat_model_classes(m), n = docs->n;
    if (m->combiner && m->combiner->kind == TCAT_COMBINE_STACK)
        return predict_stacked(m, docs, proba, threads, err);
    if (m->nmembers == 1)
        return tcat_pipeline_predict_proba(m->members[0].p, docs, proba, threads, err);
    float *tmp = malloc((n ? n : 1) * K * sizeof *tmp);
    tcat_cache *cache = NULL;
    if (!tmp || tcat_cache_new(&cache) != TCAT_OK) {
        free(tmp);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    memset(proba, 0, n * K * sizeof *proba);
    double total = 0;
    for (size_t j = 0; j < m->nmembers; j++)
        total += m->members[j].weight;
    tcat_status st = TCAT_OK;
    for (size_t j = 0; j < m->nmembers && st == TCAT_OK; j++) {
        st = tcat_pipeline_predict_proba_shared(m->members[j].p, docs, tmp, threads, cache, err);
        float w = (float)(m->members[j].weight / total);
        for (size_t i = 0; st == TCAT_OK && i < n * K; i++)
            proba[i] += w * tmp[i];
    }
    tcat_cache_free(&cache);
    free(tmp);
    return st;
}
