/*
 * search/search.h — choosing models under a time budget.
 *
 * A search fits candidate pipelines (a portfolio of known-good settings,
 * tried in order) and scores each on held-out documents, then builds an
 * ensemble of them and refits its members on every labelled document.
 *
 * How candidates are scored depends on the data:
 *   - k-fold cross-validation (folds > 1): the documents are split into k
 *     stratified folds; each fold is predicted by a model fitted on the
 *     others, and the score is taken over all these out-of-fold
 *     predictions. Used for small corpora, where a single holdout of a
 *     thousand documents would choose on noise.
 *   - holdout (folds = 1): fitted on one set, scored on another.
 * Each fold's fit calibrates on the fold it predicts; the temperature the
 * final refit uses is the geometric mean of the folds'.
 *
 * The ensemble is greedy ensemble selection with replacement (Caruana,
 * Niculescu-Mizil, Crew and Ksikes, ICML 2004) over the candidates'
 * held-out probabilities, at most max_members distinct candidates, and
 * kept only when it scores above the best single candidate.
 *
 * Budget: a candidate is started only while the time used, plus what the
 * slowest so far took, leaves room for the refit; a fit in progress is
 * stopped at the deadline with what it has learnt.
 */
#ifndef TCAT_SEARCH_SEARCH_H
#define TCAT_SEARCH_SEARCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"
#include "model/model.h"
#include "pipelines/pipeline.h"
#include "search/metrics.h"

typedef struct tcat_candidate {
    const char *family;
    json_t *params;   /* as fitted (temperature included); owned */
    double score;     /* held-out score by the search's metric */
    double seconds;   /* to fit and score it (all folds) */
    float *proba;     /* its held-out probabilities, rows in pool order */
    unsigned picks;   /* weight in the ensemble (0: not a member) */
    bool done;        /* fitted and scored within the budget */
} tcat_candidate;

typedef struct tcat_search_opts {
    double t0, budget;   /* tcat_now() at the start of training; seconds */
    size_t trials;       /* candidates to consider at most (0: all) */
    tcat_metric metric;
    int threads;
    uint64_t seed;
    size_t max_members;
    const char *const *families; /* NULL-ended families to try (NULL: all) */
    /* one fixed candidate instead of the portfolio (both NULL: portfolio):
     * the family and its hyperparameters as JSON text */
    const char *fixed_family, *fixed_params;
    const struct tcat_vec *vectors; /* pretrained vectors, or NULL */
    const tcat_corpus *unlabeled;   /* text without labels for word vectors, or NULL */
    /* called after each candidate (for progress lines), may be NULL */
    void (*progress)(void *ctx, size_t i, const tcat_candidate *c);
    void *ctx;
} tcat_search_opts;

/* What the candidates are scored on: `npairs` (fit, eval) pairs; the eval
 * views of all pairs, concatenated, are the pool. */
typedef struct tcat_plan {
    size_t npairs;
    tcat_docs *fit, *eval;
    size_t *pool_idx;  /* the pool's documents, in order */
    size_t npool;
    const tcat_corpus *c;
} tcat_plan;

/* A holdout plan: fit on fit_idx, score on eval_idx (both of c). */
tcat_status tcat_plan_holdout(tcat_plan *p, const tcat_corpus *c, const size_t *fit_idx,
                              size_t nfit, const size_t *eval_idx, size_t neval);

/* A k-fold plan over documents idx[0..n) of c, stratified by label. */
tcat_status tcat_plan_kfold(tcat_plan *p, const tcat_corpus *c, const size_t *idx, size_t n,
                            size_t k, uint64_t seed);

void tcat_plan_free(tcat_plan *p);

typedef struct tcat_search {
    tcat_candidate *cands;
    size_t ncand;
    long best;            /* best single candidate, -1 when none finished */
    double final_score;   /* of the chosen ensemble (or the best single) */
    size_t members;       /* distinct candidates with picks > 0 */
    json_t *best_metrics; /* tcat_metrics_to_json of the chosen model's pool predictions */
} tcat_search;

/* The candidates of the portfolio, in the order they are tried. */
size_t tcat_search_portfolio_size(void);

/* Runs the search over the plan (K classes). On success s holds every
 * candidate, the best and the ensemble (picks). Fails only on errors
 * (out of memory, a pipeline failing), not when time runs out: then fewer
 * candidates are done (at least one). */
tcat_status tcat_search_run(tcat_search *s, const tcat_search_opts *o, const tcat_plan *plan,
                            size_t K, tcat_error *err);

/* Fits the chosen members on docs and adds them to model with their
 * weights. */
tcat_status tcat_search_refit(const tcat_search *s, const tcat_search_opts *o,
                              const tcat_docs *docs, size_t K, tcat_model *model,
                              tcat_error *err);

void tcat_search_free(tcat_search *s);

/* Scores argmax(proba) of docs against their labels into m. */
tcat_status tcat_search_score(const tcat_docs *docs, const float *proba, size_t K,
                              tcat_metrics *m, tcat_error *err);

#endif
