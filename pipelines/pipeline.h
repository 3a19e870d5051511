/*
 * pipelines/pipeline.h — the interface every model family implements.
 *
 * A pipeline turns tokenized documents (corpora/corpus.h) into class
 * probabilities. Each family (linear bag-of-n-grams, fastText-style,
 * CNN, recurrent) provides the operations of tcat_pipeline_ops; callers
 * only use the wrappers below, so a new family plugs in by adding one
 * entry to the registry in pipelines/pipeline.c.
 *
 *     tcat_pipeline *p;
 *     tcat_pipeline_create(&p, "linear", params, nclasses, &err);
 *     tcat_pipeline_fit(p, &train, &dev, &opts, &err);    // dev may be empty
 *     tcat_pipeline_predict_proba(p, &docs, proba, 1, &err); // docs.n x nclasses
 *     tcat_pipeline_save(p, writer, "m0", &err);          // sections "m0.*"
 *     tcat_pipeline_free(&p);
 *
 * Hyperparameters are a JSON object (jansson): the search space is data,
 * a model file stores them as they are, and every family documents its
 * keys and defaults in its header. An unknown key or a bad value is
 * TCAT_ERR_USAGE naming it. The effective values (defaults filled in,
 * plus anything fitted such as a calibration temperature) are what
 * tcat_pipeline_params returns after fit.
 *
 * Multi-label data. The key "multilabel": true, which every family
 * accepts (pipeline.c takes it off before the family parses the rest),
 * makes a one-vs-all pipeline: document i's targets are all its labels
 * (tcat_docs_targets), fit minimises the sum over labels of the binary
 * log-loss (or each label's binary SVM loss), and predict_proba writes
 * each label's own probability in [0, 1], rows not summing to 1. Which
 * labels to output is the caller's decision (search/thresholds.h). The
 * key is kept in the effective hyperparameters, so a model file says it.
 *
 * Seed bagging. The key "bag": n (every family accepts it; 1, the
 * default, is no bag) makes tcat_pipeline_create return a wrapper of n
 * copies fitted with different seeds, their probabilities averaged
 * (pipelines/bag.h).
 */
#ifndef TCAT_PIPELINES_PIPELINE_H
#define TCAT_PIPELINES_PIPELINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cache.h"
#include "core/status.h"
#include "corpora/corpus.h"
#include "model/modelfile.h"

/* What fit may use besides the data. */
typedef struct tcat_fit_opts {
    int threads;            /* >= 1 */
    uint64_t seed;
    double deadline;        /* tcat_now() value by which fit returns, 0: none */
    const double *class_weight; /* nclasses weights, or NULL for 1 each */
    tcat_cache *cache;      /* artefacts shared between fits on the same
                             * documents (features), or NULL */
    const struct tcat_vec *vectors; /* pretrained word vectors
                             * (embeddings/vectors.h) for the families
                             * that embed words, or NULL */
    const tcat_corpus *unlabeled; /* more text without labels (`tcat train
                             * --unlabeled`) for in-domain word vectors,
                             * or NULL */
} tcat_fit_opts;

typedef struct tcat_pipeline tcat_pipeline;

typedef struct tcat_pipeline_ops {
    const char *family;
    /* fit chooses by dev (early stopping), not only calibrates on it: a
     * search must give it documents other than those it scores on */
    bool dev_selects;
    tcat_status (*create)(tcat_pipeline **out, const json_t *params, size_t nclasses,
                          tcat_error *err);
    tcat_status (*fit)(tcat_pipeline *p, const tcat_docs *train, const tcat_docs *dev,
                       const tcat_fit_opts *o, tcat_error *err);
    tcat_status (*predict_proba)(const tcat_pipeline *p, const tcat_docs *docs, float *proba,
                                 int threads, tcat_cache *cache, tcat_error *err);
    tcat_status (*save)(const tcat_pipeline *p, tcat_mwriter *w, const char *prefix,
                        tcat_error *err);
    tcat_status (*load)(tcat_pipeline *p, const tcat_mreader *r, const char *prefix,
                        tcat_error *err);
    json_t *(*describe)(const tcat_pipeline *p); /* sizes for `tcat info` */
    /* bytes fitting on train would take at its peak, estimated from the
     * hyperparameters and the data's size before fitting (NULL: 0,
     * unknown) */
    size_t (*memory)(const tcat_pipeline *p, const tcat_docs *train);
    void (*destroy)(tcat_pipeline *p);
} tcat_pipeline_ops;

/* The part every family's object starts with. */
struct tcat_pipeline {
    const tcat_pipeline_ops *ops;
    json_t *params;   /* effective hyperparameters (owned) */
    size_t nclasses;
    bool multilabel;  /* one-vs-all over label sets (see the top) */
};

/* The family called name ("linear", ...), or NULL. */
const tcat_pipeline_ops *tcat_pipeline_family(const char *name);

/* The names of all families, NULL-terminated. */
const char *const *tcat_pipeline_families(void);

/* Makes an unfitted pipeline of family with params (NULL: defaults).
 * TCAT_ERR_USAGE for an unknown family or a bad hyperparameter. */
tcat_status tcat_pipeline_create(tcat_pipeline **out, const char *family, const json_t *params,
                                 size_t nclasses, tcat_error *err);

/* Fits on train (labels: the corpus's first label of each document, or
 * with multilabel all its labels; all must be in [0, nclasses)); dev (n
 * may be 0) is for early stopping and calibration. */
tcat_status tcat_pipeline_fit(tcat_pipeline *p, const tcat_docs *train, const tcat_docs *dev,
                              const tcat_fit_opts *o, tcat_error *err);

/* Writes docs->n rows of nclasses probabilities (each row sums to 1;
 * multilabel: each entry is that label's probability). */
tcat_status tcat_pipeline_predict_proba(const tcat_pipeline *p, const tcat_docs *docs,
                                        float *proba, int threads, tcat_error *err);

/* The same, sharing work with other members predicting the same docs
 * through cache (an ensemble's members with the same features compute
 * them once). The cache must only ever see these docs. */
tcat_status tcat_pipeline_predict_proba_shared(const tcat_pipeline *p, const tcat_docs *docs,
                                               float *proba, int threads, tcat_cache *cache,
                                               tcat_error *err);

/* Saves the fitted parameters as sections named "<prefix>.<part>". */
tcat_status tcat_pipeline_save(const tcat_pipeline *p, tcat_mwriter *w, const char *prefix,
                               tcat_error *err);

/* Re-creates a fitted pipeline from a model file: family and params as
 * saved by the caller (the model's member table), parts from sections
 * "<prefix>.*". A missing or malformed section is TCAT_ERR_MODEL. The
 * pipeline may point into r's mapping: r must outlive it. */
tcat_status tcat_pipeline_load(tcat_pipeline **out, const char *family, const json_t *params,
                               size_t nclasses, const tcat_mreader *r, const char *prefix,
                               tcat_error *err);

/* Estimated peak bytes of fitting p (created, not yet fitted) on train:
 * what the search compares with --max-memory. 0 when the family cannot
 * tell. */
size_t tcat_pipeline_memory(const tcat_pipeline *p, const tcat_docs *train);

/* The effective hyperparameters (borrowed; valid while p lives). */
const json_t *tcat_pipeline_params(const tcat_pipeline *p);

/* A new JSON object describing p (family, params, sizes). */
json_t *tcat_pipeline_describe(const tcat_pipeline *p);

void tcat_pipeline_free(tcat_pipeline **p);

/* ---- for the families ------------------------------------------------- */

/* Allocates a family's object of `size` bytes (its struct starts with a
 * tcat_pipeline), parses params with parse and records the effective ones
 * from effective. On failure nothing is left allocated. */
tcat_status tcat_pipeline_new(tcat_pipeline **out, size_t size, const tcat_pipeline_ops *ops,
                              const json_t *params, size_t nclasses,
                              tcat_status (*parse)(tcat_pipeline *p, const json_t *params,
                                                   tcat_error *err),
                              json_t *(*effective)(const tcat_pipeline *p), tcat_error *err);

/* What tcat_pipeline_new does about the task keys, for a family that
 * allocates its object itself: task_parse sets p->multilabel from params
 * and gives the rest (a new reference, for the family to parse);
 * task_record adds the task keys to p->params once the family has set
 * its effective hyperparameters. TCAT_ERR_USAGE for a "multilabel" that
 * is not a boolean; TCAT_ERR_NOMEM. */
tcat_status tcat_pipeline_task_parse(tcat_pipeline *p, const json_t *params, json_t **rest,
                                     tcat_error *err);
tcat_status tcat_pipeline_task_record(tcat_pipeline *p, tcat_error *err);

/* Writes section "<prefix>.<part>". */
tcat_status tcat_pipeline_put(tcat_mwriter *w, const char *prefix, const char *part,
                              const void *data, size_t size, tcat_error *err);

/* Section "<prefix>.<part>" of exactly `want` bytes, or NULL with *st set
 * to TCAT_ERR_MODEL and a message naming it. */
const void *tcat_pipeline_get(const tcat_mreader *r, const char *prefix, const char *part,
                              size_t want, tcat_status *st, tcat_error *err);

/* Seconds on a monotonic clock (for deadlines). */
double tcat_now(void);

/* True when one more step, at the mean pace of the `done` steps taken
 * since `start` (tcat_now values), would end past deadline; false when
 * nothing is done yet or deadline is 0 (none). For loops of like steps
 * (a bag's copies, a candidate's folds) that stop rather than overrun. */
bool tcat_pace_overruns(double start, size_t done, double deadline);

#endif
