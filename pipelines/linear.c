#include "pipelines/linear.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "pipelines/calibrate.h"
#include "pipelines/logreg.h"
#include "pipelines/params.h"
#include "pipelines/svm.h"
#include "pipelines/tfidf.h"

enum learner { LEARN_SVM, LEARN_NBSVM, LEARN_LOGREG };

typedef struct linear {
    tcat_pipeline base;
    enum learner learner;
    double C, nb_alpha, beta, temperature;
    int max_iter;
    size_t min_df, max_features;
    tcat_ngram_opts ngrams;
    bool sublinear;
    /* fitted */
    tcat_vocab vocab;
    uint64_t vocab_id; /* XXH3 of the vocabulary's hashes: members with the
                        * same features share them at predict time */
    const float *W, *b;
    float *own_W, *own_b;
} linear;

/* ---- hyperparameters ------------------------------------------------------ */

static tcat_status parse(tcat_pipeline *base, const json_t *p, tcat_error *err)
{
    linear *m = (linear *)base;
    static const char *const known[] = {"learner", "C", "word_ngrams", "char_min", "char_max",
                                        "min_df", "max_features", "sublinear_tf", "nb_alpha",
                                        "beta", "max_iter", "temperature", "punct", NULL};
    static const char *const learners[] = {"svm", "nbsvm", "logreg", NULL};
    const char *F = "linear";
    int learner;
    long word_n, cmin, cmax, min_df, max_features, max_iter;
    tcat_status st;
    if ((st = tcat_params_check_keys(F, p, known, err)) ||
        (st = tcat_params_choice(F, p, "learner", learners, 0, &learner, err)) ||
        (st = tcat_params_num(F, p, "C", 1.0, 1e-6, 1e6, &m->C, err)) ||
        (st = tcat_params_int(F, p, "word_ngrams", 2, 0, 3, &word_n, err)) ||
        (st = tcat_params_int(F, p, "char_min", 0, 0, 6, &cmin, err)) ||
        (st = tcat_params_int(F, p, "char_max", cmin, 0, 6, &cmax, err)) ||
        (st = tcat_params_int(F, p, "min_df", 2, 1, 1000000000, &min_df, err)) ||
        (st = tcat_params_int(F, p, "max_features", 0, 0, 1000000000, &max_features, err)) ||
        (st = tcat_params_num(F, p, "nb_alpha", 1.0, 1e-6, 1e6, &m->nb_alpha, err)) ||
        (st = tcat_params_num(F, p, "beta", 0.25, 0, 1, &m->beta, err)) ||
        (st = tcat_params_int(F, p, "max_iter", learner == LEARN_LOGREG ? 200 : 1000, 1, 1000000,
                              &max_iter, err)) ||
        (st = tcat_params_num(F, p, "temperature", 1.0, 1e-4, 1e4, &m->temperature, err)) ||
        (st = tcat_params_bool(F, p, "sublinear_tf", true, &m->sublinear, err)) ||
        (st = tcat_params_bool(F, p, "punct", false, &m->ngrams.punct, err)))
        return st;
    m->learner = (enum learner)learner;
    m->ngrams.word_n = (int)word_n;
    m->ngrams.char_min = (int)cmin;
    m->ngrams.char_max = (int)cmax;
    m->min_df = (size_t)min_df;
    m->max_features = (size_t)max_features;
    m->max_iter = (int)max_iter;
    if (cmax < cmin)
        return tcat_fail(err, TCAT_ERR_USAGE, "linear: hyperparameter 'char_max' is below char_min");
    if (word_n == 0 && cmin == 0)
        return tcat_fail(err, TCAT_ERR_USAGE, "linear: no features (word_ngrams and char_min 0)");
    return TCAT_OK;
}

/* The effective hyperparameters as JSON. */
static json_t *effective(const tcat_pipeline *base)
{
    const linear *m = (const linear *)base;
    static const char *const names[] = {"svm", "nbsvm", "logreg"};
    return json_pack("{s:s, s:f, s:i, s:i, s:i, s:I, s:I, s:b, s:f, s:f, s:i, s:f, s:b}", "learner",
                     names[m->learner], "C", m->C, "word_ngrams", m->ngrams.word_n, "char_min",
                     m->ngrams.char_min, "char_max", m->ngrams.char_max, "min_df",
                     (json_int_t)m->min_df, "max_features", (json_int_t)m->max_features,
                     "sublinear_tf", m->sublinear, "nb_alpha", m->nb_alpha, "beta", m->beta,
                     "max_iter", m->max_iter, "temperature", m->temperature, "punct",
                     m->ngrams.punct);
}

static tcat_status create(tcat_pipeline **out, const json_t *params, size_t nclasses,
                          tcat_error *err)
{
    return tcat_pipeline_new(out, sizeof(linear), &tcat_linear_ops, params, nclasses, parse,
                             effective, err);
}

static void destroy(tcat_pipeline *p)
{
    linear *m = (linear *)p;
    tcat_vocab_free(&m->vocab);
    free(m->own_W);
    free(m->own_b);
    free(m);
}

/* ---- fit ------------------------------------------------------------------- */

/* NBSVM log-count ratios, K x cols: r_kj = ln((p_j/|p|_1) / (q_j/|q|_1))
 * with p = alpha + sum of binarised x over class k, q the same over the
 * other classes. With label sets t (n x K, else NULL: y), p is over the
 * documents having label k and q over those without it. */
static float *nb_ratios(const tcat_csr *X, const int32_t *y, const uint8_t *t, size_t K,
                        double alpha)
{
    size_t d = X->cols;
    double *cnt = calloc(K * d, sizeof *cnt), *tot = calloc(d, sizeof *tot);
    float *r = malloc(K * d * sizeof *r);
    if (!cnt || !tot || !r) {
        free(cnt);
        free(tot);
        free(r);
        return NULL;
    }
    for (size_t i = 0; i < X->rows; i++)
        for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++)
            if (X->val[p] > 0) {
                if (!t)
                    cnt[(size_t)y[i] * d + X->col[p]] += 1;
                else
                    for (size_t k = 0; k < K; k++)
                        cnt[k * d + X->col[p]] += t[i * K + k];
                tot[X->col[p]] += 1;
            }
    double all = 0;
    for (size_t j = 0; j < d; j++)
        all += tot[j];
    for (size_t k = 0; k < K; k++) {
        double pk = 0;
        for (size_t j = 0; j < d; j++)
            pk += cnt[k * d + j];
        double psum = pk + alpha * (double)d, qsum = (all - pk) + alpha * (double)d;
        for (size_t j = 0; j < d; j++) {
            double pj = cnt[k * d + j] + alpha, qj = tot[j] - cnt[k * d + j] + alpha;
            r[k * d + j] = (float)log((pj / psum) / (qj / qsum));
        }
    }
    free(cnt);
    free(tot);
    return r;
}

/* Scores (n x K) of the rows of X. */
static void scores(const linear *m, const tcat_csr *X, float *s)
{
    size_t K = m->base.nclasses;
    if (K == 2) { /* the common case, unrolled */
        for (size_t i = 0; i < X->rows; i++) {
            float s0 = m->b[0], s1 = m->b[1];
            for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++) {
                const float *w = m->W + (size_t)X->col[p] * 2;
                s0 += w[0] * X->val[p];
                s1 += w[1] * X->val[p];
            }
            s[2 * i] = s0;
            s[2 * i + 1] = s1;
        }
        return;
    }
    for (size_t i = 0; i < X->rows; i++) {
        float *si = s + i * K;
        for (size_t k = 0; k < K; k++)
            si[k] = m->b[k];
        for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++) {
            const float *w = m->W + (size_t)X->col[p] * K;
            float v = X->val[p];
            for (size_t k = 0; k < K; k++)
                si[k] += w[k] * v;
        }
    }
}

/* Features of the training and dev documents, shared through the fit
 * cache by every candidate with the same feature settings. */
typedef struct features {
    tcat_vocab vocab;
    tcat_csr X, Xd;
} features;

static void features_free(void *p)
{
    features *f = p;
    tcat_vocab_free(&f->vocab);
    tcat_csr_free(&f->X);
    tcat_csr_free(&f->Xd);
    free(f);
}

static uint64_t docs_id(const tcat_docs *d)
{
    if (!d || d->n == 0)
        return 0;
    uint64_t h = XXH3_64bits(&d->c, sizeof d->c) ^ (uint64_t)d->n;
    return d->idx ? h ^ XXH3_64bits(d->idx, d->n * sizeof *d->idx) : h;
}

static tcat_status get_features(const linear *m, const tcat_docs *train, const tcat_docs *dev,
                                const tcat_fit_opts *o, features **out, bool *owned,
                                tcat_error *err)
{
    char key[256];
    snprintf(key, sizeof key, "linear/w%d/c%d-%d/p%d/df%zu/max%zu/sub%d/%016llx/%016llx",
             m->ngrams.word_n, m->ngrams.char_min, m->ngrams.char_max, m->ngrams.punct, m->min_df,
             m->max_features, m->sublinear, (unsigned long long)docs_id(train),
             (unsigned long long)docs_id(dev));
    features *f = o->cache ? tcat_cache_get(o->cache, key) : NULL;
    if (f) {
        *out = f;
        *owned = false;
        return TCAT_OK;
    }
    f = calloc(1, sizeof *f);
    if (!f)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    tcat_status st = tcat_vocab_build(&f->vocab, train, &m->ngrams, m->sublinear, m->min_df,
                                      m->max_features, err);
    if (st == TCAT_OK)
        st = tcat_tfidf_transform(&f->vocab, train, o->threads, &f->X, err);
    if (st == TCAT_OK && dev && dev->n > 0)
        st = tcat_tfidf_transform(&f->vocab, dev, o->threads, &f->Xd, err);
    if (st != TCAT_OK) {
        features_free(f);
        return st;
    }
    *out = f;
    *owned = true;
    if (o->cache) {
        if (tcat_cache_put(o->cache, key, f, features_free) != TCAT_OK)
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory"); /* f was freed */
        *owned = false;
    }
    return TCAT_OK;
}

static tcat_status fit(tcat_pipeline *p, const tcat_docs *train, const tcat_docs *dev,
                       const tcat_fit_opts *o, tcat_error *err)
{
    linear *m = (linear *)p;
    size_t K = p->nclasses;
    tcat_vocab_free(&m->vocab);
    free(m->own_W);
    free(m->own_b);
    m->own_W = m->own_b = NULL;
    m->W = m->b = NULL;
    features *f = NULL;
    bool owned = false;
    tcat_status st = get_features(m, train, dev, o, &f, &owned, err);
    if (st != TCAT_OK)
        return st;
    int32_t *y = NULL, *yd = NULL;
    uint8_t *t = NULL, *td = NULL; /* label sets (multilabel) instead of y, yd */
    float *ratios = NULL, *s = NULL;
    size_t d = f->X.cols;
    if (p->multilabel)
        t = tcat_docs_targets(train, K);
    else
        y = tcat_docs_labels(train);
    m->own_W = calloc((d ? d : 1) * K, sizeof *m->own_W);
    m->own_b = calloc(K, sizeof *m->own_b);
    if ((!y && !t) || !m->own_W || !m->own_b || tcat_vocab_copy(&m->vocab, &f->vocab) != TCAT_OK) {
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (m->learner == LEARN_LOGREG) {
        tcat_logreg_opts lo = {m->C, m->max_iter, 1e-4, 7, o->threads, o->deadline,
                               o->class_weight, t};
        st = tcat_logreg_train(&f->X, y, K, &lo, m->own_W, m->own_b);
    } else {
        if (m->learner == LEARN_NBSVM && !(ratios = nb_ratios(&f->X, y, t, K, m->nb_alpha))) {
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
            goto done;
        }
        tcat_svm_opts so = {m->C, 0.1, m->max_iter, o->seed, o->threads, o->deadline,
                            o->class_weight, ratios, m->learner == LEARN_NBSVM ? m->beta : 1.0,
                            t};
        st = tcat_svm_train(&f->X, y, K, &so, m->own_W, m->own_b);
    }
    if (st != TCAT_OK) {
        tcat_fail(err, st, "linear: training failed: %s", tcat_strerror(st));
        goto done;
    }
    m->W = m->own_W;
    m->b = m->own_b;
    m->vocab_id = XXH3_64bits(m->vocab.hash, d * sizeof *m->vocab.hash);
    if (dev && dev->n > 0) {
        s = malloc(dev->n * K * sizeof *s);
        if (p->multilabel)
            td = tcat_docs_targets(dev, K);
        else
            yd = tcat_docs_labels(dev);
        if (!s || (!yd && !td)) {
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
            goto done;
        }
        scores(m, &f->Xd, s);
        m->temperature = p->multilabel ? tcat_fit_temperature_ova(s, td, dev->n, K)
                                       : tcat_fit_temperature(s, yd, dev->n, K);
        json_object_set_new(p->params, "temperature", json_real(m->temperature));
    }
done:
    if (owned)
        features_free(f);
    free(y);
    free(yd);
    free(t);
    free(td);
    free(ratios);
    free(s);
    return st;
}

/* ---- predict, save, load ---------------------------------------------------- */

static void csr_free(void *x)
{
    tcat_csr_free(x);
    free(x);
}

static tcat_status predict_proba(const tcat_pipeline *p, const tcat_docs *docs, float *proba,
                                 int threads, tcat_cache *cache, tcat_error *err)
{
    const linear *m = (const linear *)p;
    if (!m->W)
        return tcat_fail(err, TCAT_ERR_USAGE, "linear: predict before fit");
    /* members refitted on the same documents with the same feature
     * settings have identical vocabularies: their features are computed
     * once per batch */
    char key[160];
    size_t d = m->vocab.nword + m->vocab.nchar;
    snprintf(key, sizeof key, "linear-X/w%d/c%d-%d/p%d/sub%d/%zu/%016llx", m->ngrams.word_n,
             m->ngrams.char_min, m->ngrams.char_max, m->ngrams.punct, m->sublinear, d,
             (unsigned long long)m->vocab_id);
    tcat_csr *X = cache ? tcat_cache_get(cache, key) : NULL;
    tcat_csr own = {0};
    if (!X) {
        tcat_csr *fresh = cache ? calloc(1, sizeof *fresh) : &own;
        if (!fresh)
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        tcat_status st = tcat_tfidf_transform(&m->vocab, docs, threads, fresh, err);
        if (st != TCAT_OK) {
            if (cache)
                free(fresh);
            return st;
        }
        if (cache && tcat_cache_put(cache, key, fresh, csr_free) != TCAT_OK)
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        X = fresh;
    }
    scores(m, X, proba);
    if (p->multilabel)
        tcat_sigmoid_rows(proba, docs->n, p->nclasses, m->temperature);
    else
        tcat_softmax_rows(proba, docs->n, p->nclasses, m->temperature);
    tcat_csr_free(&own);
    return TCAT_OK;
}

static tcat_status save(const tcat_pipeline *p, tcat_mwriter *w, const char *prefix,
                        tcat_error *err)
{
    const linear *m = (const linear *)p;
    size_t K = p->nclasses, d = m->vocab.nword + m->vocab.nchar;
    uint64_t shape[3] = {m->vocab.nword, m->vocab.nchar, K};
    tcat_status st;
    if ((st = tcat_pipeline_put(w, prefix, "shape", shape, sizeof shape, err)) ||
        (st = tcat_pipeline_put(w, prefix, "hash", m->vocab.hash, d * sizeof *m->vocab.hash, err)) ||
        (st = tcat_pipeline_put(w, prefix, "idf", m->vocab.idf, d * sizeof *m->vocab.idf, err)) ||
        (st = tcat_pipeline_put(w, prefix, "W", m->W, d * K * sizeof *m->W, err)) ||
        (st = tcat_pipeline_put(w, prefix, "b", m->b, K * sizeof *m->b, err)))
        return st;
    return TCAT_OK;
}

static tcat_status load(tcat_pipeline *p, const tcat_mreader *r, const char *prefix,
                        tcat_error *err)
{
    linear *m = (linear *)p;
    tcat_status st = TCAT_OK;
    const uint64_t *shape = tcat_pipeline_get(r, prefix, "shape", 3 * sizeof(uint64_t), &st, err);
    if (!shape)
        return st;
    size_t K = p->nclasses;
    if (shape[2] != K || shape[0] > UINT32_MAX || shape[1] > UINT32_MAX)
        return tcat_fail(err, TCAT_ERR_MODEL, "section '%s.shape' does not match the model", prefix);
    size_t d = (size_t)(shape[0] + shape[1]);
    const uint64_t *hash = tcat_pipeline_get(r, prefix, "hash", d * sizeof *hash, &st, err);
    const float *idf = hash ? tcat_pipeline_get(r, prefix, "idf", d * sizeof *idf, &st, err) : NULL;
    const float *W = idf ? tcat_pipeline_get(r, prefix, "W", d * K * sizeof *W, &st, err) : NULL;
    const float *b = W ? tcat_pipeline_get(r, prefix, "b", K * sizeof *b, &st, err) : NULL;
    if (!b)
        return st;
    if ((st = tcat_vocab_adopt(&m->vocab, &m->ngrams, m->sublinear, (size_t)shape[0],
                               (size_t)shape[1], hash, idf, err)) != TCAT_OK)
        return st;
    m->W = W;
    m->b = b;
    m->vocab_id = XXH3_64bits(hash, d * sizeof *hash);
    return TCAT_OK;
}

static json_t *describe(const tcat_pipeline *p)
{
    const linear *m = (const linear *)p;
    return json_pack("{s:I, s:I}", "word_features", (json_int_t)m->vocab.nword, "char_features",
                     (json_int_t)m->vocab.nchar);
}

/* Peak bytes of fit, roughly (checked against the peak RSS of fits on
 * 20news and MR: up to 2.5x over, rarely under). Distinct n-grams of each order or length: at most
 * one per occurrence and, as text goes, about ten times the distinct
 * words; min_df >= 2 drops most of them (singletons), max_features caps
 * what is kept. The counting tables hold every distinct n-gram; the
 * train and dev vectors one entry per distinct n-gram of a document
 * (measured: about 0.8 of the word and 0.35 of the character
 * occurrences); then the weights and the learner's state: per thread an
 * SVM weight vector and per-document duals, or L-BFGS's 2 x 7 + 5 copies
 * of the d x K parameters and a gradient per thread. */
static size_t memory(const tcat_pipeline *p, const tcat_docs *train)
{
    const linear *m = (const linear *)p;
    tcat_docs_size z = tcat_docs_measure(train);
    size_t K = p->nclasses, n = train->n, T = 2;
    double dw = (double)z.distinct, occ_w = 0, occ_c = 0, counted = 0, kept = 0;
    double cut = m->min_df >= 2 ? 0.3 : 1.0;
    double cap = m->max_features > 0 ? (double)m->max_features : INFINITY;
    for (int o = 1; o <= m->ngrams.word_n; o++) {
        double occ = (double)z.tokens, distinct = o == 1 ? dw : fmin(occ, 10 * dw);
        occ_w += occ;
        counted += distinct;
        kept += o == 1 ? distinct : distinct * cut;
    }
    kept = fmin(kept, cap);
    double kept_c = 0;
    for (int L = m->ngrams.char_min; L > 0 && L <= m->ngrams.char_max; L++) {
        double occ = (double)(z.bytes + 2 * z.tokens), distinct = fmin(occ, 10 * dw);
        occ_c += occ;
        counted += distinct;
        kept_c += distinct * cut;
    }
    double d = kept + fmin(kept_c, cap);
    double nnz = 0.8 * occ_w + 0.35 * occ_c;
    double bytes = counted * 2 * (sizeof(uint64_t) + sizeof(uint32_t)) +
                   nnz * (sizeof(uint32_t) + sizeof(float)) * 1.2 +
                   d * K * sizeof(float) + d * (sizeof(uint64_t) + sizeof(float));
    if (m->learner == LEARN_LOGREG)
        bytes += (d * K + K) * sizeof(double) * (2 * 7 + 5 + T);
    else
        bytes += (double)T * ((d + 1) * sizeof(double) + (double)n * 4 * sizeof(double)) +
                 (m->learner == LEARN_NBSVM ? d * K * sizeof(float) : 0);
    return (size_t)bytes;
}

const tcat_pipeline_ops tcat_linear_ops = {
    .family = "linear",
    .create = create,
    .fit = fit,
    .predict_proba = predict_proba,
    .save = save,
    .load = load,
    .describe = describe,
    .memory = memory,
    .destroy = destroy,
};
