/*
 * search/search.h — choosing models under a time budget.
 *
 * A search tries candidate pipelines, scores each on held-out documents,
 * builds an ensemble of the best and refits its members on every labelled
 * document.
 *
 * Candidates: the portfolio of known-good settings (search/space.json),
 * then up to 60 settings drawn at random from each family's space
 * (search/space.h), families in turn; --trials N caps the total. With
 * the macro-F1 metric a random setting also draws balanced class weights
 * half the time (class_weight -1), and when the classes are uneven (the
 * largest over 1.5 times the smallest) the cheap portfolio settings come
 * a second time with balanced weights, before the random ones;
 * class_weight 0 or 1 fixes them.
 *
 * Scoring depends on the data:
 *   - k-fold cross-validation (folds > 1): the documents are split into k
 *     stratified folds; each fold is predicted by a model fitted on the
 *     others, and the score is taken over all these out-of-fold
 *     predictions. Used for small corpora, where a single holdout of a
 *     thousand documents would choose on noise.
 *   - holdout (folds = 1): fitted on one set, scored on another.
 * Each fold's fit calibrates on the fold it predicts (a family that
 * early-stops gets a 10% inner split of its fit documents instead, so the
 * scored documents never pick its epochs); the refit uses the folds'
 * geometric-mean temperature and mean best epoch.
 *
 * Successive halving (rungs, ETA = 3): a candidate is first scored on
 * fold 1 after fitting on a stratified ninth of that fold's fit
 * documents, then a third, then on the whole plan; a rung with fewer than
 * 300 documents is skipped. Random settings climb only while their score
 * is in the top third of all scores at their rung so far (the rule of
 * asynchronous successive halving, applied in a fixed order); known-good
 * settings climb while the next rung fits in the budget, and the cheap
 * families' go straight to the top. Only top-rung candidates (out-of-fold
 * probabilities for every pooled document) can join the ensemble.
 *
 * Memory: a candidate whose family estimates its fit above max_memory
 * (tcat_pipeline_memory), or whose fit runs out of memory, is dropped
 * (rung -3) and the search goes on without it.
 *
 * Concurrency: with threads > 1, that many candidate steps run at once,
 * one thread each; their results are applied in a fixed order, so a search
 * bounded by --trials gives the same model for the same data, seed and
 * threads. A search bounded by time depends on the clock.
 *
 * Budget: steps start only while their estimated cost (from the lower
 * rung, or the family's first step) leaves room for the refit; for a
 * known-good network's top rung, the cost of its first fold (a network's
 * fit grows slower than its data, so the lower rung overstates it), and a
 * top rung starts no fold that its pace so far says would end past the
 * deadline (the candidate is then unscored); every fit
 * stops at 85% of the budget with what it has learnt, a step cut short
 * this way is not counted (except the first candidate: a model is always
 * returned), and the refit stops at 99%. When no candidate reaches the
 * top rung in time (data too big for the budget), the model is trained on
 * a sample: the candidate that did best at a lower rung, or, when nothing
 * was scored at all, the cheapest known-good setting fitted on 1000
 * documents; the refit uses a sample of the same share (sample_share).
 *
 * The ensemble (search/stack.h): the best single candidate, greedy
 * ensemble selection with replacement (Caruana, Niculescu-Mizil, Crew and
 * Ksikes, ICML 2004) or a stacker (L2 logistic regression on the members'
 * log-probabilities), whichever scores best out of fold over the pool;
 * at most max_members distinct candidates, and an ensemble only when it
 * beats the best single one; one that predicts over twice as slowly as the
 * best single candidate only when it beats it by more than the noise of
 * the comparison (tcat_combine_noise; else costly says what was left
 * out). final_score is that out-of-fold score. With
 * min_throughput, candidates predicting slower (documents/s per thread,
 * measured on the held-out predictions) are left out, and the ensemble's
 * combined rate stays above it; when none is fast enough the fastest is
 * the model.
 *
 * Networks on small data: on a k-fold plan a CNN or recurrent candidate
 * is, at the top rung and in the model, a bag of 3 seeds (pipelines/
 * bag.h), its probabilities their mean. One network's score moves by
 * points from seed to seed on a few thousand documents, which buries
 * what it adds beside the linear members; the bag steadies it, and what
 * is scored out of fold is what the model keeps (its time and predict
 * rate too). In the refit a bag's copies after the first are fitted
 * last, and only while they end within the budget. Not with label sets
 * (their thresholds are tuned per candidate, not worth three fits) nor
 * with min_throughput (a bag predicts three times slower).
 *
 * Label sets (multilabel): every candidate is one-vs-all; scores are the
 * metric over label sets, each label's threshold tuned on the documents
 * scored (search/thresholds.h: optimistic by the same amount for every
 * candidate, so fair for ranking); the ensemble is the best single or a
 * greedy average (tcat_combine_choose_sets, chosen out of fold), and the
 * thresholds the model keeps are tuned on its pool probabilities.
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
#include "search/stack.h"

typedef struct tcat_candidate {
    const char *family;
    json_t *params;   /* as given; once done, as fitted (temperature,
                       * epochs); owned */
    bool balanced;    /* trained with balanced class weights */
    bool portfolio;   /* a known-good setting (else drawn at random) */
    int rung;         /* the highest rung it was scored at, -1: none */
    double rung_score[2]; /* its scores at the lower rungs (fold 0) */
    double score;     /* held-out score by the search's metric (top rung) */
    double seconds;   /* to fit and score it, all rungs */
    double top_seconds; /* ... of which the top rung (all folds) */
    double predict_rate; /* documents per second per thread, measured on
                       * the held-out predictions */
    float *proba;     /* its held-out probabilities, rows in pool order */
    size_t bag;       /* seeds its top rung and refit average
                       * (pipelines/bag.h); 0 before its top rung */
    unsigned picks;   /* weight in the ensemble (0: not a member) */
    bool done;        /* scored at the top rung within the budget */
    /* scheduler state */
    bool rung_seen[2];
    bool promote;
    int next_rung;
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
    int class_weight;    /* 0 none, 1 balanced, -1 search both (random
                          * settings draw it when the metric is macro-F1) */
    bool multilabel;     /* label sets: one-vs-all candidates ("multilabel"
                          * in their params), scored with per-label
                          * thresholds tuned on the pool (search/thresholds.h),
                          * combined by tcat_combine_choose_sets */
    size_t max_memory;   /* bytes one candidate's fit may take (0: no cap):
                          * a candidate whose family estimates more
                          * (tcat_pipeline_memory) is not fitted */
    double min_throughput; /* documents/s/thread the model must predict
                          * (0: no limit): slower candidates are not
                          * members, and the ensemble as a whole keeps up */
    /* called after each step of a candidate (for progress), may be NULL */
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

/* An ensemble that would have predicted `factor` times slower than the
 * best single candidate, for an out-of-fold gain of `gain` within the
 * comparison's noise (both in metric units). */
typedef struct tcat_costly {
    size_t members;
    double gain, noise, factor;
} tcat_costly;

typedef struct tcat_search {
    tcat_candidate *cands;
    size_t ncand;
    long best;            /* best single candidate, -1 when none finished */
    double final_score;   /* of the chosen ensemble (or the best single) */
    size_t members;       /* distinct candidates with picks > 0 */
    bool throughput_met;  /* with a min_throughput: some candidate met it */
    tcat_combiner comb;   /* how the members are combined (has_comb) */
    bool has_comb;
    json_t *best_metrics; /* tcat_metrics_to_json of the chosen model's pool predictions */
    float *thresholds;    /* multilabel: K thresholds tuned on the chosen
                           * model's pool probabilities, else NULL */
    size_t out_of_memory; /* candidates dropped: over max_memory, or an
                           * allocation failed while fitting them */
    char memory_note[512]; /* the first such candidate's message */
    tcat_costly costly;   /* an ensemble left out for its predict cost
                           * (members 0: none) */
    double sample_share;  /* 0: a normal search; else no candidate reached
                           * the top rung in the budget, the model is one
                           * fitted on this share of the documents and the
                           * refit uses a sample of that share (see Budget) */
} tcat_search;

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

/* Scores the label sets of one-vs-all probabilities of docs against
 * every label of each document into m, with thresholds tuned on docs for
 * metric (kept in thr, K of them, unless thr is NULL). */
tcat_status tcat_search_score_sets(const tcat_docs *docs, const float *proba, size_t K,
                                   tcat_metric metric, float *thr, tcat_metrics *m,
                                   tcat_error *err);

#endif
