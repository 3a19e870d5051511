/*
 * search/stack.h — how the ensemble members' probabilities are combined.
 *
 * Given M members' held-out class probabilities on a pool of n labelled
 * documents (each member's rows predicted by a model that never saw
 * them), tcat_combine_choose picks one of three ways to combine them and
 * fits it:
 *
 *   SINGLE   the best member alone (by the metric);
 *   AVERAGE  a weighted mean of the members' probabilities, the weights
 *            being pick counts of greedy ensemble selection with
 *            replacement (Caruana, Niculescu-Mizil, Crew and Ksikes,
 *            ICML 2004);
 *   STACK    a stacker: multinomial logistic regression with an L2
 *            penalty whose inputs are the log-probabilities of the
 *            members it uses (Wolpert 1992, "stacked generalization";
 *            Ting and Witten 1999 for class probabilities as inputs).
 *
 * How the choice is made. The pool is split into 5 stratified folds
 * (corpora/split.h, the given seed). For each fold, every kind is fitted
 * on the other four and predicts the fold:
 *   SINGLE   the member scoring best on the four folds;
 *   AVERAGE  greedy selection on the four folds: start from the best
 *            member, then up to 15 more steps each adding (again, or for
 *            the first time) the member whose addition scores best, never
 *            more than max_members distinct members; the weights are the
 *            pick counts of the best-scoring prefix (as search.c's
 *            selection has always done);
 *   STACK    the stacker over the min(M, max_members) members scoring
 *            best on the four folds, fitted on them (see below).
 * The out-of-fold predictions of all five folds are concatenated and
 * scored by the metric, giving each kind's cv_score. The kind with the
 * highest score wins; ties go to SINGLE, then AVERAGE: an ensemble is kept
 * only when it beats the best single member. The winner is then refitted
 * the same way on the whole pool. With one member, or fewer than 10 rows,
 * there is nothing to cross-validate: SINGLE is chosen (the best member on
 * the whole pool) and the other kinds' cv_score are -1.
 *
 * The stacker. Inputs x = [log max(p_1, 1e-6), ..., log max(p_S, 1e-6)]
 * (the S*K log-probabilities of its S members, member-major); logits
 * z = W [x; 1] with W of K rows and S*K + 1 columns (the last is the
 * bias); probabilities softmax(z). It is fitted on standardised inputs
 * (each column centred and scaled over the pool; W is mapped back to raw
 * inputs afterwards) by minimising the mean cross-entropy plus
 * (l2/2)|W without bias|^2 with l2 = 3 / (rows fitted on) — scikit-learn's
 * LogisticRegression(C = 1/3) — by L-BFGS (core/lbfgs.h, its stack
 * rules: 8 pairs, up to 200 iterations, until |grad|_inf <= 1e-3 *
 * max(1, |grad at the start|_inf); up to 40 trial steps a line search),
 * each fold's fit starting from the previous one's W.
 *
 * Measured on the development corpora (../shared/corpora: trec, cr, sst1,
 * sst2, mr, subj, mpqa, chnsenticorp; the 14 portfolio candidates'
 * 5-fold out-of-fold probabilities, max_members 4; also on pools cut to
 * 300 and 1000 rows): log inputs scored better out of fold than
 * probabilities on each corpus compared (trec, cr, sst1, mr): a confident
 * member's evidence lives in how small its small probabilities are, which
 * a linear function of probabilities cannot see. Without standardisation
 * L-BFGS needed 200+ iterations. l2 = 3/n did as well as picking l2 from
 * {1e-2, 1e-3, 1e-4} by an inner split, at a third of the cost.
 *
 * Everything is deterministic for a seed (sums in a fixed order; BLAS is
 * the serial build). Costs: greedy selection scores up to 16 * M
 * candidate sums per fold over the rows whose prediction a member can
 * still change; each stacker objective is two n x (S*K+1) x K matrix
 * products. Well under a second for n = 10k, M = 15, K = 20.
 */
#ifndef TCAT_SEARCH_STACK_H
#define TCAT_SEARCH_STACK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "search/metrics.h"

typedef enum tcat_combine_kind {
    TCAT_COMBINE_SINGLE,
    TCAT_COMBINE_AVERAGE,
    TCAT_COMBINE_STACK
} tcat_combine_kind;

/* The stacker's input: log max(p, TCAT_STACK_EPS). */
#define TCAT_STACK_EPS 1e-6

typedef struct tcat_combiner {
    tcat_combine_kind kind;
    size_t M, K;        /* members, classes */
    /* M weights: which members the combiner uses (> 0) and, for SINGLE
     * and AVERAGE, their weights in the mean. SINGLE: one 1, the rest 0;
     * AVERAGE: pick counts; STACK: 1 for the members the stacker uses, 0
     * for the others. */
    double *weight;
    /* STACK only (else NULL): K rows of M*K + 1 weights, row-major; row k
     * gives class k's logit: column m*K + j multiplies member m's log
     * probability of class j, the last column is the bias. The columns of
     * members with weight 0 are 0. */
    float *W;
    double l2;          /* STACK: the L2 strength fitted with (else 0) */
    double cv_score[3]; /* each kind's out-of-fold score by the metric,
                         * indexed by tcat_combine_kind; -1: not tried */
} tcat_combiner;

/* Chooses and fits the combiner (see the top of this file). proba holds M
 * arrays of n x K probabilities (rows sum to 1): member m's held-out
 * predictions of the pool's rows, all in the same row order; y the n
 * true classes (each in [0, K)). max_members bounds the distinct members
 * of AVERAGE and the members of STACK (0 counts as 1). *out is
 * overwritten; free it with tcat_combine_free. TCAT_ERR_USAGE for M or K
 * of 0, a NULL array or a class outside [0, K) (the message names the
 * row); TCAT_ERR_NOMEM. On failure *out is zeroed. */
tcat_status tcat_combine_choose(tcat_combiner *out, const float *const *proba, size_t M,
                                size_t n, size_t K, const int32_t *y, tcat_metric metric,
                                size_t max_members, uint64_t seed, tcat_error *err);

/* The combiner for label sets: members that are one-vs-all
 * (multi-label) models, whose n x K probabilities are each label's own,
 * against truth, the n x K 0/1 true label sets. SINGLE or AVERAGE (the
 * stacker is a softmax, which label sets have no use for; cv_score of
 * STACK stays -1). Chosen out of fold as tcat_combine_choose does, on 5
 * random folds, each kind scored by the metric over label sets with
 * thresholds tuned on the four other folds (search/thresholds.h):
 *   SINGLE   the member scoring best with its own tuned thresholds;
 *   AVERAGE  greedy selection with replacement from that member, up to
 *            16 additions, guided by the mean binary log-loss (no
 *            threshold tuning per trial), the best prefix's pick counts.
 * Ties go to SINGLE. Arguments and errors as tcat_combine_choose. */
tcat_status tcat_combine_choose_sets(tcat_combiner *out, const float *const *proba, size_t M,
                                     size_t n, size_t K, const uint8_t *truth,
                                     tcat_metric metric, size_t max_members, uint64_t seed,
                                     tcat_error *err);

/* Combined probabilities of n rows into out (n x K, rows sum to 1 when
 * the members' do).
 * proba[m] is member m's n x K probabilities; it is not read, and may be
 * NULL, when c->weight[m] is 0. SINGLE and AVERAGE: the weighted mean;
 * STACK: the stacker. Allocates nothing. */
void tcat_combine_apply(const tcat_combiner *c, const float *const *proba, size_t n,
                        float *out);

/* The same for rows rows[0..nr) of the members' arrays (rows NULL:
 * 0..nr-1), into out (nr x K). */
void tcat_combine_apply_rows(const tcat_combiner *c, const float *const *proba,
                             const size_t *rows, size_t nr, float *out);

/* The noise in comparing two models' scores on the same n rows, from
 * their n x K probabilities a and b: one standard error of the
 * difference, sqrt(d) / n, where d is the rows whose most probable class
 * differs (each such row moves accuracy by 1/n either way, and how many
 * go each way is a sign test). 0 when n is. */
double tcat_combine_noise(const float *a, const float *b, size_t n, size_t K);

/* Frees the arrays and zeroes c. A zeroed c is fine. */
void tcat_combine_free(tcat_combiner *c);

/* A deep copy of src into *dst (overwritten). TCAT_ERR_NOMEM. */
tcat_status tcat_combine_copy(tcat_combiner *dst, const tcat_combiner *src, tcat_error *err);

/* The combiner restricted to the members with weight > 0, in order (what
 * a model holds: only the members it uses): M becomes their count and
 * W loses the other members' columns. TCAT_ERR_NOMEM. */
tcat_status tcat_combine_compact(tcat_combiner *dst, const tcat_combiner *src, tcat_error *err);

/* "single", "average", "stack" ("?" outside the enum), and back
 * (false for anything else). */
const char *tcat_combine_kind_name(tcat_combine_kind k);
bool tcat_combine_kind_parse(const char *name, tcat_combine_kind *out);

/* ---- what a model file holds --------------------------------------------- */

/* The combiner's description, for the model's "combiner" section and
 * reports: {"kind": "stack", "members": M, "classes": K, "cv_scores":
 * {"single": .., "average": .., "stack": ..} (the kinds tried)} and, for
 * STACK, "inputs": "log", "eps": 1e-6, "l2": ... The weights are not in
 * it (a model keeps them with its members) nor is W (a float section of
 * K x (M*K + 1) values: c->W as it is in memory). New reference; NULL on
 * OOM. */
json_t *tcat_combine_to_json(const tcat_combiner *c);

/* Rebuilds a combiner from tcat_combine_to_json's object, the members'
 * weights (M of them) and, for STACK, the float section W of Wsize bytes
 * (ignored otherwise). Anything that does not fit — an unknown kind or
 * inputs, members or classes other than M and K, a STACK without W or
 * with W of the wrong size or not finite, a weight not > 0 — is
 * TCAT_ERR_MODEL with a message saying what (no file name: the caller
 * adds it); TCAT_ERR_NOMEM. */
tcat_status tcat_combine_from_json(tcat_combiner *out, const json_t *j, const double *weight,
                                   size_t M, size_t K, const void *W, size_t Wsize,
                                   tcat_error *err);

/* ---- exposed for the tests ----------------------------------------------- */

/* The stacker's objective over n rows of the S members' probabilities
 * proba (S arrays of n x K) with true classes y, at W (K x (S*K + 1),
 * double, over the raw log inputs: no standardisation) — the mean
 * cross-entropy plus (l2/2)|W without bias|^2 — and,
 * when grad is not NULL, its gradient (same layout). NAN when out of
 * memory. */
double tcat_stack_objective(const float *const *proba, size_t S, size_t n, size_t K,
                            const int32_t *y, double l2, const double *W, double *grad);

#endif
