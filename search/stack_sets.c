/* search/stack_sets.c — the combiner for label sets (see stack.h,
 * tcat_combine_choose_sets). */
#include "search/stack.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "search/thresholds.h"

#define FOLDS 5
#define GREEDY_STEPS 16
#define EPS 1e-6

/* Mean binary log-loss over rows[0..nr) of (sum + member add's
 * probabilities) / den: sum holds the current members' weighted sum,
 * nr x K in row order. */
static double mean_bce(const float *const *proba, size_t K, const uint8_t *truth,
                       const size_t *rows, size_t nr, const double *sum, double den, size_t add)
{
    double tot = 0;
    for (size_t r = 0; r < nr; r++) {
        size_t i = rows[r];
        const float *pa = proba[add] + i * K;
        for (size_t k = 0; k < K; k++) {
            double p = fmin(fmax((sum[r * K + k] + pa[k]) / den, EPS), 1 - EPS);
            tot -= truth[i * K + k] ? log(p) : log1p(-p);
        }
    }
    size_t cells = nr * K;
    return tot / (double)(cells ? cells : 1);
}

/* Rows rows[0..nr) of the members' mean with weights w, as a model
 * predicts them (tcat_combine_apply_rows), into out (nr x K), and the
 * rows' truth into tr. */
static void gather(const float *const *proba, size_t M, size_t K, const uint8_t *truth,
                   const size_t *rows, size_t nr, const double *w, float *out, uint8_t *tr)
{
    tcat_combiner mean = {.kind = TCAT_COMBINE_AVERAGE, .M = M, .K = K, .weight = (double *)w};
    tcat_combine_apply_rows(&mean, proba, rows, nr, out);
    for (size_t r = 0; r < nr; r++)
        memcpy(tr + r * K, truth + rows[r] * K, K);
}

/* Greedy selection with replacement (Caruana et al. 2004) on rows by the
 * mean binary log-loss: from member `first`, up to GREEDY_STEPS additions
 * of the member lowering it most, at most max_members distinct; picks
 * gets the counts of the best prefix. The loss, not the thresholded
 * metric, guides it: it needs no threshold tuning per trial and rewards
 * what the thresholds then use (well-ranked probabilities). */
static void greedy(const float *const *proba, size_t M, size_t K, const uint8_t *truth,
                   const size_t *rows, size_t nr, size_t max_members, size_t first,
                   double *picks, double *cur, double *sum)
{
    memset(cur, 0, M * sizeof *cur);
    memset(sum, 0, nr * K * sizeof *sum);
    double best = INFINITY;
    size_t distinct = 0, arg = first;
    for (int step = 0; step <= GREEDY_STEPS; step++) {
        double v = step == 0 ? mean_bce(proba, K, truth, rows, nr, sum, 1, first) : INFINITY;
        if (step > 0) {
            arg = M;
            for (size_t m = 0; m < M; m++) {
                if (cur[m] == 0 && distinct >= max_members)
                    continue;
                double vm = mean_bce(proba, K, truth, rows, nr, sum, (double)step + 1, m);
                if (vm < v) {
                    v = vm;
                    arg = m;
                }
            }
            if (arg == M)
                break;
        }
        distinct += cur[arg] == 0;
        cur[arg] += 1;
        for (size_t r = 0; r < nr; r++)
            for (size_t k = 0; k < K; k++)
                sum[r * K + k] += proba[arg][rows[r] * K + k];
        if (v < best - 1e-12) {
            best = v;
            memcpy(picks, cur, M * sizeof *picks);
        }
    }
}

/* The member scoring best by the thresholded metric on rows (thresholds
 * tuned on those rows); its tuned thresholds in thr. */
static tcat_status best_member(const float *const *proba, size_t M, size_t K,
                               const uint8_t *truth, const size_t *rows, size_t nr,
                               tcat_metric metric, float *buf, uint8_t *tr, float *thr,
                               double *w, size_t *arg, double *score, tcat_error *err)
{
    *score = -INFINITY;
    *arg = 0;
    for (size_t m = 0; m < M; m++) {
        memset(w, 0, M * sizeof *w);
        w[m] = 1;
        gather(proba, M, K, truth, rows, nr, w, buf, tr);
        tcat_metrics mt = {0};
        tcat_status st = tcat_thresholds_score(buf, tr, nr, K, metric, NULL, &mt, err);
        if (st != TCAT_OK)
            return st;
        double v = tcat_metrics_get(&mt, metric);
        tcat_metrics_free(&mt);
        if (v > *score) {
            *score = v;
            *arg = m;
        }
    }
    memset(w, 0, M * sizeof *w);
    w[*arg] = 1;
    gather(proba, M, K, truth, rows, nr, w, buf, tr);
    return tcat_thresholds_fit(buf, tr, nr, K, metric, thr, err);
}

/* Fits weights w of `kind` on rows, tunes its thresholds there and
 * writes its label sets for the held rows into sets (rows of n x K). */
static tcat_status fit_predict(tcat_combine_kind kind, const float *const *proba, size_t M,
                               size_t K, const uint8_t *truth, const size_t *rows, size_t nr,
                               const size_t *held, size_t nh, tcat_metric metric,
                               size_t max_members, float *buf, uint8_t *tr, float *thr,
                               double *w, double *cur, double *sum, uint8_t *sets,
                               tcat_error *err)
{
    size_t best;
    double score;
    tcat_status st = best_member(proba, M, K, truth, rows, nr, metric, buf, tr, thr, w, &best,
                                 &score, err);
    if (st != TCAT_OK)
        return st;
    if (kind == TCAT_COMBINE_AVERAGE) {
        greedy(proba, M, K, truth, rows, nr, max_members, best, w, cur, sum);
        gather(proba, M, K, truth, rows, nr, w, buf, tr);
        if ((st = tcat_thresholds_fit(buf, tr, nr, K, metric, thr, err)) != TCAT_OK)
            return st;
    }
    if (!held)
        return TCAT_OK;
    gather(proba, M, K, truth, held, nh, w, buf, tr);
    size_t cells = nh * K;
    uint8_t *out = malloc(cells ? cells : 1);
    if (!out)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    tcat_thresholds_apply(buf, nh, K, thr, out);
    for (size_t r = 0; r < nh; r++)
        memcpy(sets + held[r] * K, out + r * K, K);
    free(out);
    return TCAT_OK;
}

tcat_status tcat_combine_choose_sets(tcat_combiner *out, const float *const *proba, size_t M,
                                     size_t n, size_t K, const uint8_t *truth,
                                     tcat_metric metric, size_t max_members, uint64_t seed,
                                     tcat_error *err)
{
    memset(out, 0, sizeof *out);
    if (M == 0 || K == 0)
        return tcat_fail(err, TCAT_ERR_USAGE, "combining %zu members of %zu labels", M, K);
    for (size_t m = 0; m < M; m++)
        if (!proba[m])
            return tcat_fail(err, TCAT_ERR_USAGE, "member %zu has no probabilities", m);
    if (max_members == 0)
        max_members = 1;
    size_t n1 = n ? n : 1;
    out->M = M;
    out->K = K;
    out->cv_score[0] = out->cv_score[1] = out->cv_score[2] = -1;
    out->kind = TCAT_COMBINE_SINGLE;
    out->weight = calloc(M, sizeof *out->weight);
    size_t *order = malloc(n1 * sizeof *order), *rows = malloc(n1 * sizeof *rows);
    float *buf = malloc(n1 * K * sizeof *buf), *thr = malloc(K * sizeof *thr);
    uint8_t *tr = malloc(n1 * K), *sets[2] = {malloc(n1 * K), malloc(n1 * K)};
    double *cur = malloc(M * sizeof *cur), *w = malloc(M * sizeof *w);
    double *sum = malloc(n1 * K * sizeof *sum);
    tcat_status st = TCAT_OK;
    if (!out->weight || !order || !rows || !buf || !thr || !tr || !sets[0] || !sets[1] || !cur ||
        !w || !sum) {
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    bool cv = M > 1 && n >= 2 * FOLDS;
    if (cv) {
        tcat_rng rng;
        tcat_rng_seed(&rng, seed ^ 0x73657473ull /* "sets" */);
        tcat_rng_shuffle(&rng, order, n);
        for (size_t f = 0; f < FOLDS && st == TCAT_OK; f++) {
            size_t lo = n * f / FOLDS, hi = n * (f + 1) / FOLDS, nr = 0;
            for (size_t r = 0; r < n; r++)
                if (r < lo || r >= hi)
                    rows[nr++] = order[r];
            for (int k = 0; k < 2 && st == TCAT_OK; k++)
                st = fit_predict((tcat_combine_kind)k, proba, M, K, truth, rows, nr, order + lo,
                                 hi - lo, metric, max_members, buf, tr, thr, w, cur, sum,
                                 sets[k], err);
        }
        for (int k = 0; k < 2 && st == TCAT_OK; k++) {
            tcat_metrics mt = {0};
            if ((st = tcat_metrics_compute_sets(&mt, truth, sets[k], n, K, err)) == TCAT_OK)
                out->cv_score[k] = tcat_metrics_get(&mt, metric);
            tcat_metrics_free(&mt);
        }
        if (out->cv_score[TCAT_COMBINE_AVERAGE] > out->cv_score[TCAT_COMBINE_SINGLE] + 1e-12)
            out->kind = TCAT_COMBINE_AVERAGE;
    }
    /* the winner on the whole pool */
    if (st == TCAT_OK)
        st = fit_predict(out->kind, proba, M, K, truth, order, n, NULL, 0, metric, max_members,
                         buf, tr, thr, w, cur, sum, NULL, err);
    if (st == TCAT_OK) {
        memcpy(out->weight, w, M * sizeof *w);
        if (!cv) { /* nothing to cross-validate: the best member's own score */
            double s;
            size_t b;
            st = best_member(proba, M, K, truth, order, n, metric, buf, tr, thr, w, &b, &s, err);
            out->cv_score[TCAT_COMBINE_SINGLE] = s;
        }
    }
done:
    free(order);
    free(rows);
    free(buf);
    free(thr);
    free(tr);
    free(sets[0]);
    free(sets[1]);
    free(cur);
    free(w);
    free(sum);
    if (st != TCAT_OK)
        tcat_combine_free(out);
    return st;
}
