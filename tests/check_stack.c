/* tests/check_stack.c — search/stack: choosing how members' held-out
 * probabilities are combined (the best member, greedy ensemble selection,
 * or a stacker), on synthetic members built to make each one win; the
 * combined probabilities; determinism; the stacker's gradient against
 * finite differences; the JSON and weights a model stores. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/metrics.h"
#include "search/stack.h"
#include "tests/suites.h"
#include "tests/testutil.h"

/* ---- synthetic members ------------------------------------------------------ */

typedef struct pool {
    size_t M, n, K;
    int32_t *y;
    float **p; /* M arrays of n x K */
} pool;

static double unif(uint64_t *st) { return (double)(rng_next(st) >> 11) * 0x1.0p-53; }

static void pool_new(pool *P, size_t M, size_t n, size_t K, uint64_t seed)
{
    P->M = M;
    P->n = n;
    P->K = K;
    P->y = malloc(n * sizeof *P->y);
    P->p = calloc(M, sizeof *P->p);
    ck_assert(P->y && P->p);
    uint64_t st = seed;
    for (size_t i = 0; i < n; i++)
        P->y[i] = (int32_t)rng_below(&st, K);
}

static void pool_free(pool *P)
{
    for (size_t m = 0; m < P->M; m++)
        free(P->p[m]);
    free(P->p);
    free(P->y);
}

/* Member m: for each row, with probability acc its peak (probability
 * about conf) is on class (y + shift) % K, otherwise on another class at
 * random; the rest of the mass spread with some jitter. */
static void member(pool *P, size_t m, double acc, double conf, size_t shift, uint64_t seed)
{
    size_t K = P->K;
    P->p[m] = malloc(P->n * K * sizeof *P->p[m]);
    ck_assert_ptr_nonnull(P->p[m]);
    uint64_t st = seed;
    for (size_t i = 0; i < P->n; i++) {
        size_t want = ((size_t)P->y[i] + shift) % K, peak = want;
        if (unif(&st) >= acc)
            peak = (want + 1 + rng_below(&st, K - 1)) % K;
        float *r = P->p[m] + i * K;
        double s = 0;
        for (size_t k = 0; k < K; k++)
            s += r[k] = (float)((k == peak ? conf * K : 1 - conf) * (0.75 + 0.5 * unif(&st)));
        for (size_t k = 0; k < K; k++)
            r[k] = (float)(r[k] / s);
    }
}

static tcat_combiner choose(const pool *P, tcat_metric metric, size_t max_members,
                            uint64_t seed)
{
    tcat_combiner c;
    tcat_error err = {0};
    ck_assert_msg(tcat_combine_choose(&c, (const float *const *)P->p, P->M, P->n, P->K, P->y,
                                      metric, max_members, seed, &err) == TCAT_OK,
                  "choose: %s", err.msg);
    ck_assert_uint_eq(c.M, P->M);
    ck_assert_uint_eq(c.K, P->K);
    return c;
}

/* The metric of argmax(proba) over the pool, by search/metrics.h. */
static double score_of(const pool *P, const float *proba, tcat_metric metric)
{
    int32_t *pred = malloc(P->n * sizeof *pred);
    for (size_t i = 0; i < P->n; i++) {
        size_t b = 0;
        for (size_t k = 1; k < P->K; k++)
            if (proba[i * P->K + k] > proba[i * P->K + b])
                b = k;
        pred[i] = (int32_t)b;
    }
    tcat_metrics mt;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_metrics_compute(&mt, P->y, pred, P->n, P->K, &err), TCAT_OK);
    double s = tcat_metrics_get(&mt, metric);
    tcat_metrics_free(&mt);
    free(pred);
    return s;
}

static float *apply(const tcat_combiner *c, const pool *P)
{
    float *out = malloc(P->n * P->K * sizeof *out);
    ck_assert_ptr_nonnull(out);
    tcat_combine_apply(c, (const float *const *)P->p, P->n, out);
    for (size_t i = 0; i < P->n; i++) {
        double s = 0;
        for (size_t k = 0; k < P->K; k++) {
            float v = out[i * P->K + k];
            ck_assert_msg(v >= 0 && v <= 1, "row %zu class %zu: %g", i, k, v);
            s += v;
        }
        ck_assert_msg(fabs(s - 1) < 1e-5, "row %zu sums to %.9g", i, s);
    }
    return out;
}

static size_t distinct(const tcat_combiner *c)
{
    size_t d = 0;
    for (size_t m = 0; m < c->M; m++)
        d += c->weight[m] > 0;
    return d;
}

/* ---- which kind wins ---------------------------------------------------------- */

START_TEST(test_stack_perfect_member_single)
{
    /* member 2 is always right: nothing beats it, and ties go to SINGLE */
    pool P;
    pool_new(&P, 4, 600, 4, 1);
    member(&P, 0, 0.7, 0.6, 0, 11);
    member(&P, 1, 0.6, 0.6, 0, 12);
    member(&P, 2, 1.0, 0.9, 0, 13);
    member(&P, 3, 0.5, 0.6, 0, 14);
    tcat_combiner c = choose(&P, TCAT_METRIC_MACRO_F1, 4, 1);
    ck_assert_int_eq(c.kind, TCAT_COMBINE_SINGLE);
    ck_assert_ptr_null(c.W);
    for (size_t m = 0; m < 4; m++)
        ck_assert(c.weight[m] == (m == 2 ? 1.0 : 0.0));
    ck_assert(c.cv_score[TCAT_COMBINE_SINGLE] == 1.0);
    ck_assert(c.cv_score[TCAT_COMBINE_AVERAGE] <= 1.0 && c.cv_score[TCAT_COMBINE_AVERAGE] >= 0);
    ck_assert(c.cv_score[TCAT_COMBINE_STACK] <= 1.0 && c.cv_score[TCAT_COMBINE_STACK] >= 0);
    /* SINGLE passes the member's probabilities through */
    float *out = apply(&c, &P);
    ck_assert(memcmp(out, P.p[2], P.n * P.K * sizeof *out) == 0);
    free(out);
    tcat_combine_free(&c);
    ck_assert_ptr_null(c.weight);
    tcat_combine_free(&c); /* a zeroed one is fine */
    pool_free(&P);
}
END_TEST

START_TEST(test_stack_independent_errors_average)
{
    /* five members, each right 60% of the time with errors of their own:
     * their mean is right far more often than any of them */
    pool P;
    pool_new(&P, 5, 1500, 3, 2);
    for (size_t m = 0; m < 5; m++)
        member(&P, m, 0.6, 0.6, 0, 100 + m);
    tcat_combiner c = choose(&P, TCAT_METRIC_ACCURACY, 5, 7);
    double single = c.cv_score[TCAT_COMBINE_SINGLE], avg = c.cv_score[TCAT_COMBINE_AVERAGE];
    ck_assert_msg(single > 0.5 && single < 0.7, "single %.4f", single);
    ck_assert_msg(avg > single + 0.1, "average %.4f, single %.4f", avg, single);
    ck_assert_int_ne(c.kind, TCAT_COMBINE_SINGLE);
    if (c.kind == TCAT_COMBINE_AVERAGE) {
        ck_assert_ptr_null(c.W);
        ck_assert_uint_ge(distinct(&c), 3);
        double total = 0;
        for (size_t m = 0; m < 5; m++) {
            ck_assert(c.weight[m] == floor(c.weight[m])); /* pick counts */
            total += c.weight[m];
        }
        ck_assert(total >= 3 && total <= 16);
    }
    /* on the pool (which it was fitted on) the combination beats every
     * member */
    float *out = apply(&c, &P);
    double comb = score_of(&P, out, TCAT_METRIC_ACCURACY);
    for (size_t m = 0; m < 5; m++)
        ck_assert_msg(comb > score_of(&P, P.p[m], TCAT_METRIC_ACCURACY) + 0.1,
                      "combined %.4f vs member %zu", comb, m);
    free(out);
    tcat_combine_free(&c);

    /* greedy selection alone (one member at most: no ensemble) cannot
     * help, nor can a one-member stacker much */
    c = choose(&P, TCAT_METRIC_ACCURACY, 1, 7);
    ck_assert(c.cv_score[TCAT_COMBINE_AVERAGE] == c.cv_score[TCAT_COMBINE_SINGLE]);
    ck_assert_uint_eq(distinct(&c), 1);
    tcat_combine_free(&c);
    pool_free(&P);
}
END_TEST

START_TEST(test_stack_permuted_member_stack)
{
    /* member 1 is confidently and almost always wrong in a fixed way: it
     * predicts class (y + 1) % K. Alone it scores about 0 and averaging
     * it in only hurts, but a learnt stacker reads y off it. */
    pool P;
    pool_new(&P, 3, 1200, 4, 3);
    member(&P, 0, 0.7, 0.6, 0, 21);
    member(&P, 1, 0.95, 0.8, 1, 22);
    member(&P, 2, 0.65, 0.6, 0, 23);
    tcat_combiner c = choose(&P, TCAT_METRIC_MACRO_F1, 3, 5);
    double single = c.cv_score[TCAT_COMBINE_SINGLE], avg = c.cv_score[TCAT_COMBINE_AVERAGE],
           stack = c.cv_score[TCAT_COMBINE_STACK];
    ck_assert_int_eq(c.kind, TCAT_COMBINE_STACK);
    ck_assert_msg(stack > 0.9, "stack %.4f", stack);
    ck_assert_msg(stack > avg + 0.1 && stack > single + 0.1,
                  "stack %.4f, average %.4f, single %.4f", stack, avg, single);
    ck_assert_ptr_nonnull(c.W);
    ck_assert(c.l2 > 0);
    ck_assert_uint_eq(distinct(&c), 3);
    for (size_t m = 0; m < 3; m++)
        ck_assert(c.weight[m] == 1.0);
    float *out = apply(&c, &P);
    ck_assert(score_of(&P, out, TCAT_METRIC_MACRO_F1) > 0.9);
    free(out);
    tcat_combine_free(&c);

    /* with room for two members only, the stacker takes the two best by
     * their own scores (0 and 2), which cannot read member 1: no stack
     * column of member 1 is used */
    c = choose(&P, TCAT_METRIC_MACRO_F1, 2, 5);
    ck_assert(c.cv_score[TCAT_COMBINE_STACK] < 0.9);
    if (c.kind == TCAT_COMBINE_STACK) {
        ck_assert(c.weight[1] == 0);
        for (size_t k = 0; k < P.K; k++)
            for (size_t j = 0; j < P.K; j++)
                ck_assert(c.W[k * (3 * P.K + 1) + P.K + j] == 0);
    }
    tcat_combine_free(&c);
    pool_free(&P);
}
END_TEST

/* ---- details -------------------------------------------------------------------- */

START_TEST(test_stack_one_member_or_few_rows)
{
    /* one member: SINGLE, scored on the whole pool exactly as metrics.h
     * scores it; the other kinds untried */
    pool P;
    pool_new(&P, 1, 300, 3, 4);
    member(&P, 0, 0.7, 0.6, 0, 31);
    static const tcat_metric metrics[] = {TCAT_METRIC_MACRO_F1, TCAT_METRIC_MICRO_F1,
                                          TCAT_METRIC_ACCURACY, TCAT_METRIC_WEIGHTED_F1};
    for (size_t t = 0; t < 4; t++) {
        tcat_combiner c = choose(&P, metrics[t], 4, 1);
        ck_assert_int_eq(c.kind, TCAT_COMBINE_SINGLE);
        ck_assert(c.weight[0] == 1);
        ck_assert_msg(fabs(c.cv_score[0] - score_of(&P, P.p[0], metrics[t])) < 1e-12,
                      "%s: %.12f vs %.12f", tcat_metric_name(metrics[t]), c.cv_score[0],
                      score_of(&P, P.p[0], metrics[t]));
        ck_assert(c.cv_score[1] == -1 && c.cv_score[2] == -1);
        tcat_combine_free(&c);
    }
    pool_free(&P);

    /* fewer than ten rows: the best member, no cross-validation */
    pool_new(&P, 3, 8, 2, 5);
    for (size_t i = 0; i < 8; i++)
        P.y[i] = (int32_t)(i % 2);
    member(&P, 0, 0.5, 0.6, 0, 41);
    member(&P, 1, 1.0, 0.6, 0, 42);
    member(&P, 2, 0.5, 0.6, 0, 43);
    tcat_combiner c = choose(&P, TCAT_METRIC_MACRO_F1, 4, 1);
    ck_assert_int_eq(c.kind, TCAT_COMBINE_SINGLE);
    ck_assert(c.weight[1] == 1 && c.weight[0] == 0 && c.weight[2] == 0);
    ck_assert(c.cv_score[0] == 1.0);
    tcat_combine_free(&c);
    pool_free(&P);
}
END_TEST

START_TEST(test_stack_cv_scores_match_metrics)
{
    /* every kind's cv_score is a score by metrics.h's conventions: with
     * several members whose errors differ, the three lie in [0, 1], and
     * SINGLE's out-of-fold score never exceeds the best member's pool
     * score */
    pool P;
    pool_new(&P, 4, 800, 5, 6);
    for (size_t m = 0; m < 4; m++)
        member(&P, m, 0.5 + 0.1 * (double)m, 0.5, 0, 50 + m);
    static const tcat_metric metrics[] = {TCAT_METRIC_MACRO_F1, TCAT_METRIC_ACCURACY,
                                          TCAT_METRIC_WEIGHTED_F1};
    for (size_t t = 0; t < 3; t++) {
        tcat_combiner c = choose(&P, metrics[t], 4, 3);
        double best = 0;
        for (size_t m = 0; m < 4; m++)
            best = fmax(best, score_of(&P, P.p[m], metrics[t]));
        for (int k = 0; k < 3; k++)
            ck_assert(c.cv_score[k] >= 0 && c.cv_score[k] <= 1);
        ck_assert(c.cv_score[TCAT_COMBINE_SINGLE] <= best + 1e-12);
        /* the winner is the best score, SINGLE then AVERAGE on ties */
        for (int k = 0; k < 3; k++) {
            if (k < (int)c.kind)
                ck_assert(c.cv_score[k] < c.cv_score[c.kind]);
            else
                ck_assert(c.cv_score[k] <= c.cv_score[c.kind] + 1e-12);
        }
        tcat_combine_free(&c);
    }
    pool_free(&P);
}
END_TEST

START_TEST(test_stack_deterministic)
{
    pool P;
    pool_new(&P, 4, 900, 4, 8);
    member(&P, 0, 0.7, 0.6, 0, 61);
    member(&P, 1, 0.9, 0.7, 1, 62);
    member(&P, 2, 0.6, 0.6, 0, 63);
    member(&P, 3, 0.6, 0.5, 0, 64);
    tcat_combiner a = choose(&P, TCAT_METRIC_MACRO_F1, 4, 9),
                  b = choose(&P, TCAT_METRIC_MACRO_F1, 4, 9);
    ck_assert_int_eq(a.kind, TCAT_COMBINE_STACK);
    ck_assert_int_eq(a.kind, b.kind);
    ck_assert(memcmp(a.weight, b.weight, 4 * sizeof *a.weight) == 0);
    ck_assert(memcmp(a.cv_score, b.cv_score, sizeof a.cv_score) == 0);
    ck_assert(a.l2 == b.l2);
    ck_assert(memcmp(a.W, b.W, P.K * (4 * P.K + 1) * sizeof *a.W) == 0);
    float *oa = apply(&a, &P), *ob = apply(&b, &P);
    ck_assert(memcmp(oa, ob, P.n * P.K * sizeof *oa) == 0);
    free(oa);
    free(ob);
    tcat_combine_free(&a);
    tcat_combine_free(&b);
    pool_free(&P);
}
END_TEST

START_TEST(test_stack_apply_weighted_mean)
{
    /* AVERAGE is the weighted mean; members of weight 0 are not read */
    pool P;
    pool_new(&P, 3, 50, 3, 9);
    for (size_t m = 0; m < 3; m++)
        member(&P, m, 0.6, 0.6, 0, 70 + m);
    double w[3] = {3, 0, 1};
    tcat_combiner c = {.kind = TCAT_COMBINE_AVERAGE, .M = 3, .K = 3, .weight = w};
    const float *pp[3] = {P.p[0], NULL, P.p[2]};
    float *out = malloc(P.n * P.K * sizeof *out);
    tcat_combine_apply(&c, pp, P.n, out);
    for (size_t i = 0; i < P.n * P.K; i++)
        ck_assert(fabs(out[i] - (0.75 * P.p[0][i] + 0.25 * P.p[2][i])) < 1e-6);
    free(out);
    pool_free(&P);
}
END_TEST

START_TEST(test_stack_apply_extreme)
{
    /* probabilities of exactly 0 and 1, and more classes than apply()
     * accumulates at once: finite, rows summing to 1 */
    size_t K = 70, n = 5;
    pool P;
    pool_new(&P, 2, n, K, 10);
    for (size_t m = 0; m < 2; m++) {
        P.p[m] = calloc(n * K, sizeof *P.p[m]);
        for (size_t i = 0; i < n; i++)
            P.p[m][i * K + (i * 7 + m) % K] = 1;
    }
    double w[2] = {1, 1};
    float *W = malloc(K * (2 * K + 1) * sizeof *W);
    uint64_t st = 5;
    for (size_t i = 0; i < K * (2 * K + 1); i++)
        W[i] = (float)(unif(&st) * 4 - 2);
    tcat_combiner c = {.kind = TCAT_COMBINE_STACK, .M = 2, .K = K, .weight = w, .W = W};
    float *out = apply(&c, &P);
    for (size_t i = 0; i < n * K; i++)
        ck_assert(isfinite(out[i]));
    free(out);
    free(W);
    pool_free(&P);
}
END_TEST

START_TEST(test_stack_gradient)
{
    /* the stacker's gradient against central differences */
    size_t S = 2, n = 40, K = 3, F = S * K + 1;
    pool P;
    pool_new(&P, S, n, K, 11);
    member(&P, 0, 0.7, 0.6, 0, 81);
    member(&P, 1, 0.8, 0.7, 1, 82);
    P.p[1][0] = 0; /* clamped at eps: still differentiable (a constant input) */
    double *W = malloc(K * F * sizeof *W), *G = malloc(K * F * sizeof *G);
    uint64_t st = 3;
    for (size_t i = 0; i < K * F; i++)
        W[i] = unif(&st) - 0.5;
    for (int t = 0; t < 2; t++) {
        double l2 = t ? 0.3 : 0;
        double f = tcat_stack_objective((const float *const *)P.p, S, n, K, P.y, l2, W, G);
        ck_assert(isfinite(f) && f > 0);
        double maxerr = 0;
        for (size_t i = 0; i < K * F; i++) {
            double h = 1e-5, keep = W[i];
            W[i] = keep + h;
            double fp = tcat_stack_objective((const float *const *)P.p, S, n, K, P.y, l2, W,
                                             NULL);
            W[i] = keep - h;
            double fm = tcat_stack_objective((const float *const *)P.p, S, n, K, P.y, l2, W,
                                             NULL);
            W[i] = keep;
            double num = (fp - fm) / (2 * h);
            double e = fabs(num - G[i]) / fmax(1e-3, fabs(num) + fabs(G[i]));
            if (e > maxerr)
                maxerr = e;
        }
        ck_assert_msg(maxerr < 1e-6, "l2 %g: relative gradient error %g", l2, maxerr);
    }
    /* at W = 0 the loss is log K whatever the inputs */
    memset(W, 0, K * F * sizeof *W);
    double f0 = tcat_stack_objective((const float *const *)P.p, S, n, K, P.y, 1, W, NULL);
    ck_assert(fabs(f0 - log((double)K)) < 1e-12);
    free(W);
    free(G);
    pool_free(&P);
}
END_TEST

START_TEST(test_stack_usage_errors)
{
    pool P;
    pool_new(&P, 2, 20, 3, 12);
    member(&P, 0, 0.7, 0.6, 0, 91);
    member(&P, 1, 0.7, 0.6, 0, 92);
    tcat_combiner c;
    tcat_error err = {0};
    const float *const *pp = (const float *const *)P.p;
    ck_assert_int_eq(tcat_combine_choose(&c, pp, 0, P.n, 3, P.y, TCAT_METRIC_MACRO_F1, 4, 1, &err),
                     TCAT_ERR_USAGE);
    ck_assert_int_eq(tcat_combine_choose(&c, pp, 2, P.n, 0, P.y, TCAT_METRIC_MACRO_F1, 4, 1, &err),
                     TCAT_ERR_USAGE);
    P.y[7] = 3;
    ck_assert_int_eq(tcat_combine_choose(&c, pp, 2, P.n, 3, P.y, TCAT_METRIC_MACRO_F1, 4, 1, &err),
                     TCAT_ERR_USAGE);
    ck_assert_msg(strstr(err.msg, "row 7") != NULL, "%s", err.msg);
    ck_assert_ptr_null(c.weight);
    P.y[7] = -1;
    ck_assert_int_eq(tcat_combine_choose(&c, pp, 2, P.n, 3, P.y, TCAT_METRIC_MACRO_F1, 4, 1, &err),
                     TCAT_ERR_USAGE);
    P.y[7] = 0;
    const float *withnull[2] = {P.p[0], NULL};
    ck_assert_int_eq(
        tcat_combine_choose(&c, withnull, 2, P.n, 3, P.y, TCAT_METRIC_MACRO_F1, 4, 1, &err),
        TCAT_ERR_USAGE);
    /* max_members 0 counts as 1 */
    ck_assert_int_eq(tcat_combine_choose(&c, pp, 2, P.n, 3, P.y, TCAT_METRIC_MACRO_F1, 0, 1, &err),
                     TCAT_OK);
    ck_assert_uint_le(distinct(&c), 1);
    tcat_combine_free(&c);
    pool_free(&P);
}
END_TEST

START_TEST(test_stack_noise)
{
    /* two models over 100 rows of 3 classes that disagree on 9 rows:
     * one standard error of their score difference is sqrt(9)/100 */
    enum { N = 100, K = 3 };
    static float a[N * K], b[N * K];
    for (size_t i = 0; i < N; i++) {
        size_t ka = i % K, kb = i < 9 ? (ka + 1) % K : ka;
        for (size_t k = 0; k < K; k++) {
            a[i * K + k] = k == ka ? 0.6f : 0.2f;
            b[i * K + k] = k == kb ? 0.5f : 0.25f;
        }
    }
    ck_assert_double_eq_tol(tcat_combine_noise(a, b, N, K), 0.03, 1e-12);
    ck_assert_double_eq(tcat_combine_noise(a, a, N, K), 0.0);
    ck_assert_double_eq(tcat_combine_noise(a, b, 0, K), 0.0);
}
END_TEST

/* ---- what a model stores ----------------------------------------------------- */

START_TEST(test_stack_json_round_trip)
{
    pool P;
    pool_new(&P, 3, 900, 4, 13);
    member(&P, 0, 0.7, 0.6, 0, 101);
    member(&P, 1, 0.95, 0.8, 1, 102);
    member(&P, 2, 0.6, 0.6, 0, 103);
    tcat_combiner c = choose(&P, TCAT_METRIC_MACRO_F1, 3, 1);
    ck_assert_int_eq(c.kind, TCAT_COMBINE_STACK);
    json_t *j = tcat_combine_to_json(&c);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "stack");
    ck_assert_str_eq(json_string_value(json_object_get(j, "inputs")), "log");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "members")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "classes")), 4);
    ck_assert_uint_eq(json_object_size(json_object_get(j, "cv_scores")), 3);
    /* through text, as a model file holds it */
    char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_t *back = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(back);
    size_t Wsize = 4 * (3 * 4 + 1) * sizeof(float);
    tcat_combiner d;
    tcat_error err = {0};
    ck_assert_msg(tcat_combine_from_json(&d, back, c.weight, 3, 4, c.W, Wsize, &err) == TCAT_OK,
                  "%s", err.msg);
    ck_assert_int_eq(d.kind, c.kind);
    ck_assert(d.l2 == c.l2);
    ck_assert(memcmp(d.cv_score, c.cv_score, sizeof c.cv_score) == 0);
    ck_assert(memcmp(d.W, c.W, Wsize) == 0);
    ck_assert(d.W != c.W);
    float *oc = apply(&c, &P), *od = apply(&d, &P);
    ck_assert(memcmp(oc, od, P.n * P.K * sizeof *oc) == 0);
    free(oc);
    free(od);
    tcat_combine_free(&d);

    /* what does not fit is TCAT_ERR_MODEL saying what */
    struct {
        size_t M, K, Wsize;
        const char *what;
    } bad[] = {{2, 4, Wsize, "members"}, {3, 5, Wsize, "classes"},
               {3, 4, Wsize - 4, "stack"}, {3, 4, Wsize + 4, "stack"}};
    for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
        tcat_status st = tcat_combine_from_json(&d, back, c.weight, bad[t].M, bad[t].K, c.W,
                                                bad[t].Wsize, &err);
        ck_assert_int_eq(st, TCAT_ERR_MODEL);
        ck_assert_ptr_null(d.weight);
        ck_assert_msg(strstr(err.msg, bad[t].what) != NULL, "%s", err.msg);
    }
    ck_assert_int_eq(tcat_combine_from_json(&d, back, c.weight, 3, 4, NULL, 0, &err),
                     TCAT_ERR_MODEL);
    ck_assert_msg(strstr(err.msg, "'stack'") != NULL, "%s", err.msg);
    float *W = malloc(Wsize);
    memcpy(W, c.W, Wsize);
    W[5] = NAN;
    ck_assert_int_eq(tcat_combine_from_json(&d, back, c.weight, 3, 4, W, Wsize, &err),
                     TCAT_ERR_MODEL);
    ck_assert_msg(strstr(err.msg, "finite") != NULL, "%s", err.msg);
    free(W);
    double w0[3] = {1, 0, 1};
    ck_assert_int_eq(tcat_combine_from_json(&d, back, w0, 3, 4, c.W, Wsize, &err),
                     TCAT_ERR_MODEL);
    json_object_set_new(back, "inputs", json_string("probabilities"));
    ck_assert_int_eq(tcat_combine_from_json(&d, back, c.weight, 3, 4, c.W, Wsize, &err),
                     TCAT_ERR_MODEL);
    json_object_set_new(back, "inputs", json_string("log"));
    json_object_set_new(back, "eps", json_real(1e-3));
    ck_assert_int_eq(tcat_combine_from_json(&d, back, c.weight, 3, 4, c.W, Wsize, &err),
                     TCAT_ERR_MODEL);
    json_object_set_new(back, "kind", json_string("forest"));
    ck_assert_int_eq(tcat_combine_from_json(&d, back, c.weight, 3, 4, c.W, Wsize, &err),
                     TCAT_ERR_MODEL);
    json_t *arr = json_array();
    ck_assert_int_eq(tcat_combine_from_json(&d, arr, c.weight, 3, 4, c.W, Wsize, &err),
                     TCAT_ERR_MODEL);
    json_decref(arr);
    /* SINGLE is over one member */
    json_object_set_new(back, "kind", json_string("single"));
    ck_assert_int_eq(tcat_combine_from_json(&d, back, c.weight, 3, 4, NULL, 0, &err),
                     TCAT_ERR_MODEL);
    json_decref(back);
    free(text);
    json_decref(j);

    /* an AVERAGE's description has no stacker fields and needs no W */
    tcat_combiner a = {.kind = TCAT_COMBINE_AVERAGE, .M = 2, .K = 4,
                       .cv_score = {0.5, 0.75, -1}};
    double w[2] = {2, 1};
    a.weight = w;
    j = tcat_combine_to_json(&a);
    ck_assert_ptr_null(json_object_get(j, "inputs"));
    ck_assert_uint_eq(json_object_size(json_object_get(j, "cv_scores")), 2);
    ck_assert_int_eq(tcat_combine_from_json(&d, j, w, 2, 4, NULL, 0, &err), TCAT_OK);
    ck_assert_int_eq(d.kind, TCAT_COMBINE_AVERAGE);
    ck_assert_ptr_null(d.W);
    ck_assert(d.weight[0] == 2 && d.weight[1] == 1);
    ck_assert(d.cv_score[1] == 0.75 && d.cv_score[2] == -1);
    tcat_combine_free(&d);
    json_decref(j);

    tcat_combine_free(&c);
    pool_free(&P);
}
END_TEST

START_TEST(test_stack_compact_and_copy)
{
    /* a stacker over members 0 and 2 of 3 applies the same after its
     * members are compacted to those two */
    pool P;
    pool_new(&P, 4, 1000, 3, 14);
    member(&P, 0, 0.7, 0.6, 0, 111);
    member(&P, 1, 0.0, 0.6, 0, 112); /* never right: left out with max_members 3 */
    member(&P, 2, 0.9, 0.8, 2, 113);
    member(&P, 3, 0.6, 0.6, 0, 114);
    tcat_combiner c = choose(&P, TCAT_METRIC_MACRO_F1, 3, 2);
    ck_assert_int_eq(c.kind, TCAT_COMBINE_STACK);
    ck_assert(c.weight[1] == 0);
    tcat_combiner k, cp;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_combine_compact(&k, &c, &err), TCAT_OK);
    ck_assert_int_eq(tcat_combine_copy(&cp, &c, &err), TCAT_OK);
    ck_assert_uint_eq(k.M, 3);
    ck_assert_uint_eq(cp.M, 4);
    float *full = apply(&c, &P), *copied = apply(&cp, &P);
    float *part = malloc(P.n * P.K * sizeof *part);
    const float *pp[3] = {P.p[0], P.p[2], P.p[3]};
    tcat_combine_apply(&k, pp, P.n, part);
    ck_assert(memcmp(full, part, P.n * P.K * sizeof *part) == 0);
    ck_assert(memcmp(full, copied, P.n * P.K * sizeof *part) == 0);
    free(full);
    free(copied);
    free(part);
    tcat_combine_free(&k);
    tcat_combine_free(&cp);
    tcat_combine_free(&c);
    pool_free(&P);
}
END_TEST

START_TEST(test_stack_kind_names)
{
    tcat_combine_kind k;
    for (int i = 0; i < 3; i++) {
        ck_assert(tcat_combine_kind_parse(tcat_combine_kind_name((tcat_combine_kind)i), &k));
        ck_assert_int_eq(k, i);
    }
    ck_assert_str_eq(tcat_combine_kind_name(TCAT_COMBINE_STACK), "stack");
    ck_assert_str_eq(tcat_combine_kind_name((tcat_combine_kind)7), "?");
    ck_assert(!tcat_combine_kind_parse("Stack", &k));
    ck_assert(!tcat_combine_kind_parse(NULL, &k));
}
END_TEST

Suite *stack_suite(void)
{
    Suite *s = suite_create("stack");
    TCase *tc = tcase_new(s, "choose");
    tcase_add_test(tc, test_stack_perfect_member_single);
    tcase_add_test(tc, test_stack_independent_errors_average);
    tcase_add_test(tc, test_stack_permuted_member_stack);
    tcase_add_test(tc, test_stack_one_member_or_few_rows);
    tcase_add_test(tc, test_stack_cv_scores_match_metrics);
    tcase_add_test(tc, test_stack_deterministic);
    tcase_add_test(tc, test_stack_usage_errors);
    tc = tcase_new(s, "apply");
    tcase_add_test(tc, test_stack_apply_weighted_mean);
    tcase_add_test(tc, test_stack_apply_extreme);
    tcase_add_test(tc, test_stack_gradient);
    tc = tcase_new(s, "storage");
    tcase_add_test(tc, test_stack_noise);
    tcase_add_test(tc, test_stack_json_round_trip);
    tcase_add_test(tc, test_stack_compact_and_copy);
    tcase_add_test(tc, test_stack_kind_names);
    return s;
}
