/* tests/check_learners.c — pipelines/logreg and pipelines/svm on small
 * matrices made here: the logistic objective and its gradient against
 * the formula and finite differences, optimality of both solvers,
 * separable data, the two-class shortcut, NB scaling, and independence
 * from thread timing; each for label sets (multi-label targets) too. */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pipelines/logreg.h"
#include "pipelines/svm.h"
#include "pipelines/tfidf.h"
#include "tests/suites.h"
#include "tests/testutil.h"

/* ---- matrices ---------------------------------------------------------------- */

/* A random sparse rows x cols matrix: each entry present with
 * probability density, values in [-1, 1). */
static void random_csr(tcat_csr *X, size_t rows, size_t cols, double density, uint64_t seed)
{
    uint64_t st = seed;
    X->rows = rows;
    X->cols = cols;
    X->ptr = malloc((rows + 1) * sizeof *X->ptr);
    size_t cap = rows * cols > 0 ? rows * cols : 1;
    X->col = malloc(cap * sizeof *X->col);
    X->val = malloc(cap * sizeof *X->val);
    ck_assert(X->ptr && X->col && X->val);
    size_t z = 0;
    X->ptr[0] = 0;
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            if ((double)(rng_next(&st) >> 11) * 0x1.0p-53 < density) {
                X->col[z] = (uint32_t)j;
                X->val[z++] = (float)((double)(rng_next(&st) >> 11) * 0x1.0p-52 - 1.0);
            }
        }
        X->ptr[i + 1] = z;
    }
}

/* Rows whose label sets t (rows x K, 0/1) can be read off the features:
 * features 0..K-1 indicate the row's labels (value 0.6..1), then `noise`
 * features with small random values shared by all. */
static void indicator_rows(tcat_csr *X, const uint8_t *t, size_t rows, size_t K, size_t noise,
                           uint64_t seed)
{
    uint64_t st = seed;
    size_t cols = K + noise;
    X->rows = rows;
    X->cols = cols;
    X->ptr = malloc((rows + 1) * sizeof *X->ptr);
    X->col = malloc(rows * cols * sizeof *X->col);
    X->val = malloc(rows * cols * sizeof *X->val);
    ck_assert(X->ptr && X->col && X->val);
    size_t z = 0;
    X->ptr[0] = 0;
    for (size_t i = 0; i < rows; i++) {
        for (size_t k = 0; k < K; k++)
            if (t[i * K + k]) {
                X->col[z] = (uint32_t)k;
                X->val[z++] = (float)(0.6 + 0.4 * (double)rng_below(&st, 1000) / 1000.0);
            }
        for (size_t j = 0; j < noise; j++) {
            if (rng_below(&st, 3) == 0)
                continue;
            X->col[z] = (uint32_t)(K + j);
            X->val[z++] = (float)(0.5 * (double)rng_below(&st, 1000) / 1000.0);
        }
        X->ptr[i + 1] = z;
    }
}

/* Separable data: K classes, labels i % K, read off indicator_rows. */
static void separable(tcat_csr *X, int32_t **y, size_t rows, size_t K, size_t noise,
                      uint64_t seed)
{
    uint8_t *t = calloc(rows * K, 1);
    *y = malloc(rows * sizeof **y);
    ck_assert(t && *y);
    for (size_t i = 0; i < rows; i++) {
        (*y)[i] = (int32_t)(i % K);
        t[i * K + i % K] = 1;
    }
    indicator_rows(X, t, rows, K, noise, seed);
    free(t);
}

/* Separable label sets: row i has label i % K, and every third row also
 * label (i + 1) % K; t: rows x K 0/1 (malloc'd). */
static void separable_sets(tcat_csr *X, uint8_t **t, size_t rows, size_t K, size_t noise,
                           uint64_t seed)
{
    *t = calloc(rows * K, 1);
    ck_assert(*t);
    for (size_t i = 0; i < rows; i++) {
        (*t)[i * K + i % K] = 1;
        if (i % 3 == 0)
            (*t)[i * K + (i + 1) % K] = 1;
    }
    indicator_rows(X, *t, rows, K, noise, seed);
}

/* Random 0/1 label sets, each entry 1 with probability 2/5. */
static uint8_t *random_sets(size_t rows, size_t K, uint64_t seed)
{
    uint64_t st = seed;
    uint8_t *t = malloc(rows * K);
    ck_assert_ptr_nonnull(t);
    for (size_t j = 0; j < rows * K; j++)
        t[j] = rng_below(&st, 5) < 2;
    return t;
}

/* Whether every label of every row is on the side of 0 its target says. */
static bool sets_separated(const tcat_csr *X, const uint8_t *t, size_t K, const float *W,
                           const float *b)
{
    for (size_t i = 0; i < X->rows; i++)
        for (size_t k = 0; k < K; k++) {
            double s = b[k];
            for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++)
                s += (double)W[(size_t)X->col[p] * K + k] * X->val[p];
            if ((s > 0) != (t[i * K + k] != 0))
                return false;
        }
    return true;
}

static double uniform(uint64_t *st, double lo, double hi)
{
    return lo + (hi - lo) * (double)(rng_next(st) >> 11) * 0x1.0p-53;
}

/* Training accuracy of scores X W + b. */
static double accuracy(const tcat_csr *X, const int32_t *y, size_t K, const float *W,
                       const float *b)
{
    size_t right = 0;
    double *s = malloc(K * sizeof *s);
    for (size_t i = 0; i < X->rows; i++) {
        for (size_t k = 0; k < K; k++)
            s[k] = b[k];
        for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++)
            for (size_t k = 0; k < K; k++)
                s[k] += (double)W[(size_t)X->col[p] * K + k] * X->val[p];
        size_t best = 0;
        for (size_t k = 1; k < K; k++)
            if (s[k] > s[best])
                best = k;
        right += best == (size_t)y[i];
    }
    free(s);
    return (double)right / (double)X->rows;
}

/* ---- logistic regression ------------------------------------------------------- */

/* The documented objective, computed directly. */
static double logreg_reference(const tcat_csr *X, const int32_t *y, size_t K, double C,
                               const double *cw, const double *theta)
{
    size_t d = X->cols;
    double f = 0;
    for (size_t j = 0; j < d * K; j++)
        f += 0.5 * theta[j] * theta[j];
    double z[8];
    for (size_t i = 0; i < X->rows; i++) {
        for (size_t k = 0; k < K; k++) {
            z[k] = theta[d * K + k];
            for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++)
                z[k] += theta[(size_t)X->col[p] * K + k] * (double)X->val[p];
        }
        double se = 0;
        for (size_t k = 0; k < K; k++)
            se += exp(z[k]);
        f += C * (cw ? cw[y[i]] : 1.0) * (log(se) - z[y[i]]);
    }
    return f;
}

START_TEST(test_logreg_gradient_check)
{
    enum { R = 30, D = 12, K = 3, NP = D * K + K };
    tcat_csr X;
    random_csr(&X, R, D, 0.3, 17);
    int32_t y[R];
    uint64_t st = 5;
    for (size_t i = 0; i < R; i++)
        y[i] = (int32_t)rng_below(&st, K);
    double cw[K] = {1.0, 2.5, 0.4};
    double theta[NP], g[NP];
    for (size_t j = 0; j < NP; j++)
        theta[j] = uniform(&st, -1, 1);
    tcat_logreg_opts o = {.C = 0.7, .max_iter = 10, .tol = 1e-4, .memory = 5, .threads = 1,
                          .class_weight = cw};
    double f = tcat_logreg_objective(&X, y, K, &o, theta, g);
    double fref = logreg_reference(&X, y, K, 0.7, cw, theta);
    ck_assert_msg(fabs(f - fref) <= 1e-12 * fabs(fref), "objective %.17g, formula %.17g", f,
                  fref);
    /* without a gradient: the same value */
    ck_assert(tcat_logreg_objective(&X, y, K, &o, theta, NULL) == f);

    const double h = 1e-5;
    double worst = 0;
    for (size_t j = 0; j < NP; j++) {
        double save = theta[j];
        theta[j] = save + h;
        double fp = tcat_logreg_objective(&X, y, K, &o, theta, NULL);
        theta[j] = save - h;
        double fm = tcat_logreg_objective(&X, y, K, &o, theta, NULL);
        theta[j] = save;
        double fd = (fp - fm) / (2 * h);
        double rel = fabs(fd - g[j]) / fmax(fmax(fabs(fd), fabs(g[j])), 1e-3);
        ck_assert_msg(rel < 1e-5, "coordinate %zu: gradient %.12g, finite difference %.12g", j,
                      g[j], fd);
        if (rel > worst)
            worst = rel;
    }
    /* the bias is not penalised: with W = 0, bias (1, 0, -1) and balanced
     * labels, its gradient is the loss part alone, R (p_k - 1/K) */
    double t2[NP] = {0};
    t2[D * K] = 1;
    t2[D * K + 2] = -1;
    int32_t yb[R];
    for (size_t i = 0; i < R; i++)
        yb[i] = (int32_t)(i % K);
    o.class_weight = NULL;
    o.C = 1.0;
    double fb = tcat_logreg_objective(&X, yb, K, &o, t2, g);
    double se = exp(1.0) + 1 + exp(-1.0);
    double p[K] = {exp(1.0) / se, 1 / se, exp(-1.0) / se};
    for (size_t k = 0; k < K; k++)
        ck_assert_msg(fabs(g[D * K + k] - R * (p[k] - 1.0 / K)) < 1e-10, "bias %zu: %.12g", k,
                      g[D * K + k]);
    ck_assert(fabs(fb - R * (log(se) - (1 + 0 - 1) / 3.0)) < 1e-10);
    tcat_csr_free(&X);
}
END_TEST

START_TEST(test_logreg_threads)
{
    /* 30 rows: well below the rows per thread, so one share either way */
    enum { K = 3 };
    tcat_csr X;
    random_csr(&X, 30, 12, 0.3, 23);
    int32_t y[30];
    for (size_t i = 0; i < 30; i++)
        y[i] = (int32_t)(i * 7 % K);
    double theta[12 * K + K], g1[12 * K + K], g3[12 * K + K];
    uint64_t st = 9;
    for (size_t j = 0; j < 12 * K + K; j++)
        theta[j] = uniform(&st, -1, 1);
    double cw[K] = {0.5, 1, 2};
    tcat_logreg_opts o1 = {.C = 2.0, .threads = 1, .class_weight = cw}, o3 = o1;
    o3.threads = 3;
    double f1 = tcat_logreg_objective(&X, y, K, &o1, theta, g1);
    double f3 = tcat_logreg_objective(&X, y, K, &o3, theta, g3);
    ck_assert(memcmp(&f1, &f3, sizeof f1) == 0);
    ck_assert(memcmp(g1, g3, sizeof g1) == 0);
    tcat_csr_free(&X);

    /* 2000 rows: really split; the same threads give the same bits every
     * time (fixed split, fixed order), and other thread counts agree to
     * rounding */
    enum { R = 2000, D = 40, NP = D * K + K };
    random_csr(&X, R, D, 0.2, 31);
    int32_t *yy = malloc(R * sizeof *yy);
    double *th = malloc(NP * sizeof *th), *ga = malloc(NP * sizeof *ga),
           *gb = malloc(NP * sizeof *gb), *gc = malloc(NP * sizeof *gc);
    ck_assert(yy && th && ga && gb && gc);
    for (size_t i = 0; i < R; i++)
        yy[i] = (int32_t)rng_below(&st, K);
    for (size_t j = 0; j < NP; j++)
        th[j] = uniform(&st, -0.5, 0.5);
    double fa = tcat_logreg_objective(&X, yy, K, &o3, th, ga);
    for (int rep = 0; rep < 5; rep++) {
        double fb = tcat_logreg_objective(&X, yy, K, &o3, th, gb);
        ck_assert(memcmp(&fa, &fb, sizeof fa) == 0);
        ck_assert(memcmp(ga, gb, NP * sizeof *ga) == 0);
    }
    double fc = tcat_logreg_objective(&X, yy, K, &o1, th, gc);
    ck_assert(fabs(fa - fc) <= 1e-12 * fabs(fc));
    for (size_t j = 0; j < NP; j++)
        ck_assert(fabs(ga[j] - gc[j]) <= 1e-10 * fmax(1, fabs(gc[j])));
    free(yy);
    free(th);
    free(ga);
    free(gb);
    free(gc);
    tcat_csr_free(&X);
}
END_TEST

START_TEST(test_logreg_train_optimal)
{
    /* the fitted W, b nearly zero the gradient, and separate the data */
    enum { K = 3, NOISE = 6, R = 90, D = K + NOISE, NP = D * K + K };
    tcat_csr X;
    int32_t *y;
    separable(&X, &y, R, K, NOISE, 3);
    double cw[K] = {1, 2, 0.5};
    tcat_logreg_opts o = {.C = 10.0, .max_iter = 500, .tol = 1e-7, .memory = 7, .threads = 1,
                          .class_weight = cw};
    float W[D * K], b[K];
    ck_assert_int_eq(tcat_logreg_train(&X, y, K, &o, W, b), TCAT_OK);
    ck_assert(accuracy(&X, y, K, W, b) == 1.0);
    double theta[NP], g[NP], zero[NP] = {0}, g0[NP];
    for (size_t j = 0; j < D * K; j++)
        theta[j] = W[j];
    for (size_t k = 0; k < K; k++)
        theta[D * K + k] = b[k];
    double f = tcat_logreg_objective(&X, y, K, &o, theta, g);
    double f0 = tcat_logreg_objective(&X, y, K, &o, zero, g0);
    ck_assert(f < f0);
    double gmax = 0, g0max = 0;
    for (size_t j = 0; j < NP; j++) {
        gmax = fmax(gmax, fabs(g[j]));
        g0max = fmax(g0max, fabs(g0[j]));
    }
    ck_assert_msg(gmax <= 1e-3 * g0max, "gradient at the solution %g (at 0: %g)", gmax, g0max);
    /* deterministic */
    float W2[D * K], b2[K];
    ck_assert_int_eq(tcat_logreg_train(&X, y, K, &o, W2, b2), TCAT_OK);
    ck_assert(memcmp(W, W2, sizeof W) == 0);
    ck_assert(memcmp(b, b2, sizeof b) == 0);
    free(y);
    tcat_csr_free(&X);
}
END_TEST

/* The documented multi-label objective, computed directly. */
static double logreg_ova_reference(const tcat_csr *X, const uint8_t *t, size_t K, double C,
                                   const double *cw, const double *theta)
{
    size_t d = X->cols;
    double f = 0;
    for (size_t j = 0; j < d * K; j++)
        f += 0.5 * theta[j] * theta[j];
    for (size_t i = 0; i < X->rows; i++)
        for (size_t k = 0; k < K; k++) {
            double z = theta[d * K + k];
            for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++)
                z += theta[(size_t)X->col[p] * K + k] * (double)X->val[p];
            double c = C * (cw && t[i * K + k] ? cw[k] : 1.0);
            f += c * (log(1 + exp(z)) - (t[i * K + k] ? z : 0));
        }
    return f;
}

START_TEST(test_logreg_ova_gradient_check)
{
    enum { R = 30, D = 12, K = 3, NP = D * K + K };
    tcat_csr X;
    random_csr(&X, R, D, 0.3, 19);
    uint8_t *t = random_sets(R, K, 8);
    uint64_t st = 6;
    double cw[K] = {1.0, 2.5, 0.4};
    double theta[NP], g[NP];
    for (size_t j = 0; j < NP; j++)
        theta[j] = uniform(&st, -1, 1);
    tcat_logreg_opts o = {.C = 0.7, .threads = 1, .class_weight = cw, .targets = t};
    /* y is not used: NULL */
    double f = tcat_logreg_objective(&X, NULL, K, &o, theta, g);
    double fref = logreg_ova_reference(&X, t, K, 0.7, cw, theta);
    ck_assert_msg(fabs(f - fref) <= 1e-12 * fabs(fref), "objective %.17g, formula %.17g", f,
                  fref);
    ck_assert(tcat_logreg_objective(&X, NULL, K, &o, theta, NULL) == f);
    const double h = 1e-5;
    for (size_t j = 0; j < NP; j++) {
        double save = theta[j];
        theta[j] = save + h;
        double fp = tcat_logreg_objective(&X, NULL, K, &o, theta, NULL);
        theta[j] = save - h;
        double fm = tcat_logreg_objective(&X, NULL, K, &o, theta, NULL);
        theta[j] = save;
        double fd = (fp - fm) / (2 * h);
        double rel = fabs(fd - g[j]) / fmax(fmax(fabs(fd), fabs(g[j])), 1e-3);
        ck_assert_msg(rel < 1e-5, "coordinate %zu: gradient %.12g, finite difference %.12g", j,
                      g[j], fd);
    }
    /* the labels are independent: with W = 0 the bias gradient of label k
     * is C sum_i c_ik (sigmoid(b_k) - t_ik), whatever the other labels */
    double t2[NP] = {0};
    t2[D * K] = 2;
    t2[D * K + 2] = -30; /* far out on the flat side: no overflow */
    o.class_weight = NULL;
    o.C = 1.0;
    tcat_logreg_objective(&X, NULL, K, &o, t2, g);
    for (size_t k = 0; k < K; k++) {
        double want = 0, sig = 1 / (1 + exp(-t2[D * K + k]));
        for (size_t i = 0; i < R; i++)
            want += sig - t[i * K + k];
        ck_assert_msg(fabs(g[D * K + k] - want) < 1e-10, "bias %zu: %.12g, want %.12g", k,
                      g[D * K + k], want);
    }
    /* large scores in either direction stay finite */
    for (size_t j = 0; j < NP; j++)
        t2[j] = j % 2 ? 800 : -800;
    f = tcat_logreg_objective(&X, NULL, K, &o, t2, g);
    ck_assert(isfinite(f));
    for (size_t j = 0; j < NP; j++)
        ck_assert(isfinite(g[j]));
    free(t);
    tcat_csr_free(&X);
}
END_TEST

START_TEST(test_logreg_ova_threads)
{
    /* a real split of 2000 rows: fixed bits per thread count, other
     * counts agree to rounding */
    enum { R = 2000, D = 40, K = 3, NP = D * K + K };
    tcat_csr X;
    random_csr(&X, R, D, 0.2, 37);
    uint8_t *t = random_sets(R, K, 12);
    double *th = malloc(NP * sizeof *th), *ga = malloc(NP * sizeof *ga),
           *gb = malloc(NP * sizeof *gb), *gc = malloc(NP * sizeof *gc);
    ck_assert(th && ga && gb && gc);
    uint64_t st = 10;
    for (size_t j = 0; j < NP; j++)
        th[j] = uniform(&st, -0.5, 0.5);
    double cw[K] = {0.5, 1, 2};
    tcat_logreg_opts o1 = {.C = 2.0, .threads = 1, .class_weight = cw, .targets = t}, o3 = o1;
    o3.threads = 3;
    double fa = tcat_logreg_objective(&X, NULL, K, &o3, th, ga);
    double fb = tcat_logreg_objective(&X, NULL, K, &o3, th, gb);
    ck_assert(memcmp(&fa, &fb, sizeof fa) == 0);
    ck_assert(memcmp(ga, gb, NP * sizeof *ga) == 0);
    double fc = tcat_logreg_objective(&X, NULL, K, &o1, th, gc);
    ck_assert(fabs(fa - fc) <= 1e-12 * fabs(fc));
    for (size_t j = 0; j < NP; j++)
        ck_assert(fabs(ga[j] - gc[j]) <= 1e-10 * fmax(1, fabs(gc[j])));
    free(th);
    free(ga);
    free(gb);
    free(gc);
    free(t);
    tcat_csr_free(&X);
}
END_TEST

START_TEST(test_logreg_ova_train_optimal)
{
    /* label sets, two labels too (K = 2 included: two regressions, not a
     * softmax): the fit nearly zeroes the gradient and recovers every set */
    for (size_t K = 2; K <= 3; K++) {
        tcat_csr X;
        uint8_t *t;
        separable_sets(&X, &t, 90, K, 6, 4 + K);
        size_t D = X.cols, NP = D * K + K;
        double cw[3] = {1, 2, 0.5};
        tcat_logreg_opts o = {.C = 10.0, .max_iter = 500, .tol = 1e-7, .memory = 7,
                              .threads = 1, .class_weight = cw, .targets = t};
        float *W = malloc(D * K * sizeof *W), b[3];
        double *theta = malloc(NP * sizeof *theta), *g = malloc(NP * sizeof *g),
               *zero = calloc(NP, sizeof *zero), *g0 = malloc(NP * sizeof *g0);
        ck_assert(W && theta && g && zero && g0);
        ck_assert_int_eq(tcat_logreg_train(&X, NULL, K, &o, W, b), TCAT_OK);
        ck_assert_msg(sets_separated(&X, t, K, W, b), "K = %zu: label sets not recovered", K);
        for (size_t j = 0; j < D * K; j++)
            theta[j] = W[j];
        for (size_t k = 0; k < K; k++)
            theta[D * K + k] = b[k];
        double f = tcat_logreg_objective(&X, NULL, K, &o, theta, g);
        double f0 = tcat_logreg_objective(&X, NULL, K, &o, zero, g0);
        ck_assert(f < f0);
        double gmax = 0, g0max = 0;
        for (size_t j = 0; j < NP; j++) {
            gmax = fmax(gmax, fabs(g[j]));
            g0max = fmax(g0max, fabs(g0[j]));
        }
        ck_assert_msg(gmax <= 1e-3 * g0max, "K = %zu: gradient at the solution %g (at 0: %g)",
                      K, gmax, g0max);
        free(W);
        free(theta);
        free(g);
        free(zero);
        free(g0);
        free(t);
        tcat_csr_free(&X);
    }
}
END_TEST

/* ---- SVM ------------------------------------------------------------------------ */

static tcat_svm_opts svm_opts(void)
{
    return (tcat_svm_opts){.C = 1.0, .eps = 0.1, .max_iter = 1000, .seed = 1, .threads = 1,
                           .beta = 1.0};
}

START_TEST(test_svm_separable)
{
    for (size_t K = 2; K <= 4; K++) {
        tcat_csr X;
        int32_t *y;
        separable(&X, &y, 40 * K, K, 8, 10 + K);
        size_t D = X.cols;
        float *W = malloc(D * K * sizeof *W), *b = malloc(K * sizeof *b);
        tcat_svm_opts o = svm_opts();
        ck_assert_int_eq(tcat_svm_train(&X, y, K, &o, W, b), TCAT_OK);
        ck_assert_msg(accuracy(&X, y, K, W, b) == 1.0, "K = %zu: not separated", K);
        /* each class's own indicator weighs most in its column */
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < D; j++)
                if (j != k)
                    ck_assert(W[k * K + k] > W[j * K + k]);
        free(W);
        free(b);
        free(y);
        tcat_csr_free(&X);
    }
}
END_TEST

/* The primal objective's gradient (w, bias) of one binary problem at
 * W[:, k], b[k]: w - 2 C sum c_i y_i x_i max(0, 1 - y_i (w.x_i + b)).
 * With label sets t (else NULL: y), y_i is +1 for t_ik = 1 and c_i is
 * cw[k] for those, 1 for the others. */
static double svm_primal_grad_max(const tcat_csr *X, const int32_t *y, const uint8_t *t,
                                  size_t K, size_t k, double C, const double *cw, const float *W,
                                  const float *b)
{
    size_t d = X->cols;
    double *g = calloc(d + 1, sizeof *g);
    for (size_t j = 0; j < d; j++)
        g[j] = W[j * K + k];
    g[d] = b[k];
    for (size_t i = 0; i < X->rows; i++) {
        bool pos = t ? t[i * K + k] != 0 : y[i] == (int32_t)k;
        double yi = pos ? 1 : -1, dot = b[k];
        for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++)
            dot += (double)W[(size_t)X->col[p] * K + k] * X->val[p];
        double m = 1 - yi * dot;
        if (m <= 0)
            continue;
        double ci = !cw ? 1.0 : t ? (pos ? cw[k] : 1.0) : cw[y[i]];
        double c = 2 * C * ci * m * yi;
        for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++)
            g[X->col[p]] -= c * X->val[p];
        g[d] -= c;
    }
    double mx = 0;
    for (size_t j = 0; j <= d; j++)
        mx = fmax(mx, fabs(g[j]));
    free(g);
    return mx;
}

START_TEST(test_svm_primal_optimal)
{
    /* overlapping classes (random data), tight tolerance: the solution
     * of the documented problem has a zero primal gradient */
    enum { R = 120, D = 10, K = 3 };
    tcat_csr X;
    random_csr(&X, R, D, 0.5, 41);
    int32_t y[R];
    uint64_t st = 3;
    for (size_t i = 0; i < R; i++)
        y[i] = (int32_t)rng_below(&st, K);
    double cw[K] = {1, 3, 0.5};
    tcat_svm_opts o = svm_opts();
    o.C = 0.5;
    o.eps = 1e-6;
    o.max_iter = 100000;
    o.class_weight = cw;
    float W[D * K], b[K];
    ck_assert_int_eq(tcat_svm_train(&X, y, K, &o, W, b), TCAT_OK);
    for (size_t k = 0; k < K; k++) {
        double gm = svm_primal_grad_max(&X, y, NULL, K, k, o.C, cw, W, b);
        ck_assert_msg(gm < 1e-3, "class %zu: primal gradient %g", k, gm);
    }
    tcat_csr_free(&X);
}
END_TEST

START_TEST(test_svm_two_classes_shortcut)
{
    tcat_csr X;
    int32_t *y;
    separable(&X, &y, 60, 2, 6, 8);
    size_t D = X.cols;
    float W[64], b[2];
    tcat_svm_opts o = svm_opts();
    ck_assert_int_eq(tcat_svm_train(&X, y, 2, &o, W, b), TCAT_OK);
    for (size_t j = 0; j < D; j++)
        ck_assert(W[j * 2 + 1] == -W[j * 2]);
    ck_assert(b[1] == -b[0]);
    ck_assert(accuracy(&X, y, 2, W, b) == 1.0);
    /* and it is the solution of class 1's own problem: its primal gradient
     * vanishes too (tight tolerance) */
    o.eps = 1e-6;
    o.max_iter = 100000;
    ck_assert_int_eq(tcat_svm_train(&X, y, 2, &o, W, b), TCAT_OK);
    ck_assert(svm_primal_grad_max(&X, y, NULL, 2, 0, o.C, NULL, W, b) < 1e-3);
    ck_assert(svm_primal_grad_max(&X, y, NULL, 2, 1, o.C, NULL, W, b) < 1e-3);
    free(y);
    tcat_csr_free(&X);
}
END_TEST

START_TEST(test_svm_threads_identical)
{
    enum { K = 5 };
    tcat_csr X;
    int32_t *y;
    separable(&X, &y, 200, K, 10, 4);
    size_t D = X.cols;
    float *W1 = malloc(D * K * sizeof *W1), *W2 = malloc(D * K * sizeof *W2);
    float b1[K], b2[K];
    tcat_svm_opts o = svm_opts();
    ck_assert_int_eq(tcat_svm_train(&X, y, K, &o, W1, b1), TCAT_OK);
    for (int T = 2; T <= 8; T *= 2) {
        o.threads = T;
        memset(W2, 0, D * K * sizeof *W2);
        ck_assert_int_eq(tcat_svm_train(&X, y, K, &o, W2, b2), TCAT_OK);
        ck_assert_msg(memcmp(W1, W2, D * K * sizeof *W1) == 0, "threads %d: other weights", T);
        ck_assert(memcmp(b1, b2, sizeof b1) == 0);
    }
    /* another seed: another order of the coordinates, still separating */
    o.seed = 2;
    ck_assert_int_eq(tcat_svm_train(&X, y, K, &o, W2, b2), TCAT_OK);
    ck_assert(accuracy(&X, y, K, W2, b2) == 1.0);
    free(W1);
    free(W2);
    free(y);
    tcat_csr_free(&X);
}
END_TEST

START_TEST(test_svm_nb_scaling)
{
    /* scale folded into the weights: training with scale s equals training
     * on X with column j multiplied by s_j, then multiplying weight j by s_j */
    enum { K = 3 };
    tcat_csr X;
    int32_t *y;
    separable(&X, &y, 90, K, 6, 12);
    size_t D = X.cols;
    float *scale = malloc(K * D * sizeof *scale);
    uint64_t st = 77;
    for (size_t j = 0; j < K * D; j++)
        scale[j] = (float)uniform(&st, 0.5, 2.0);
    float *W = malloc(D * K * sizeof *W), b[K];
    tcat_svm_opts o = svm_opts();
    o.scale = scale;
    o.eps = 1e-6;
    o.max_iter = 100000;
    ck_assert_int_eq(tcat_svm_train(&X, y, K, &o, W, b), TCAT_OK);
    ck_assert(accuracy(&X, y, K, W, b) == 1.0);
    o.scale = NULL;
    float *Wk = malloc(D * K * sizeof *Wk), bk[K];
    for (size_t k = 0; k < K; k++) {
        tcat_csr S = X;
        S.val = malloc(X.ptr[X.rows] * sizeof *S.val);
        for (size_t p = 0; p < X.ptr[X.rows]; p++)
            S.val[p] = X.val[p] * scale[k * D + X.col[p]];
        ck_assert_int_eq(tcat_svm_train(&S, y, K, &o, Wk, bk), TCAT_OK);
        for (size_t j = 0; j < D; j++) {
            double want = (double)Wk[j * K + k] * scale[k * D + j];
            ck_assert_msg(fabs(W[j * K + k] - want) <= 1e-3 * fmax(1, fabs(want)),
                          "class %zu feature %zu: %g, want %g", k, j, W[j * K + k], want);
        }
        ck_assert(fabs(b[k] - bk[k]) <= 1e-3 * fmax(1, fabs(bk[k])));
        free(S.val);
    }
    /* the NBSVM interpolation path runs and keeps the data separated */
    o.scale = scale;
    o.beta = 0.25;
    o.eps = 0.1;
    o.max_iter = 1000;
    ck_assert_int_eq(tcat_svm_train(&X, y, K, &o, W, b), TCAT_OK);
    for (size_t j = 0; j < D * K; j++)
        ck_assert(isfinite(W[j]));
    /* two classes with scaling: the shortcut still mirrors */
    float W2[64], b2[2];
    int32_t *y2 = malloc(X.rows * sizeof *y2);
    for (size_t i = 0; i < X.rows; i++)
        y2[i] = y[i] == 0 ? 0 : 1;
    ck_assert_int_eq(tcat_svm_train(&X, y2, 2, &o, W2, b2), TCAT_OK);
    for (size_t j = 0; j < D; j++)
        ck_assert(W2[j * 2 + 1] == -W2[j * 2]);
    free(y2);
    free(W);
    free(Wk);
    free(scale);
    free(y);
    tcat_csr_free(&X);
}
END_TEST

START_TEST(test_svm_deadline)
{
    /* a deadline already past: one pass, still a usable model */
    tcat_csr X;
    int32_t *y;
    separable(&X, &y, 60, 3, 4, 6);
    float W[64], b[3];
    tcat_svm_opts o = svm_opts();
    o.eps = 0;
    o.max_iter = 1000000;
    o.deadline = 1e-9; /* long ago on the monotonic clock */
    ck_assert_int_eq(tcat_svm_train(&X, y, 3, &o, W, b), TCAT_OK);
    for (size_t j = 0; j < X.cols * 3; j++)
        ck_assert(isfinite(W[j]));
    free(y);
    tcat_csr_free(&X);
}
END_TEST

START_TEST(test_svm_ova_primal_optimal)
{
    /* random label sets with weights, K = 2 and 3: each label's solution
     * is that of its documented problem (for K = 2 not the mirror of the
     * other label's) */
    for (size_t K = 2; K <= 3; K++) {
        enum { R = 120, D = 10 };
        tcat_csr X;
        random_csr(&X, R, D, 0.5, 43);
        uint8_t *t = random_sets(R, K, 5 + K);
        double cw[3] = {1, 3, 0.5};
        tcat_svm_opts o = svm_opts();
        o.C = 0.5;
        o.eps = 1e-6;
        o.max_iter = 100000;
        o.class_weight = cw;
        o.targets = t;
        float W[D * 3], b[3];
        ck_assert_int_eq(tcat_svm_train(&X, NULL, K, &o, W, b), TCAT_OK);
        for (size_t k = 0; k < K; k++) {
            double gm = svm_primal_grad_max(&X, NULL, t, K, k, o.C, cw, W, b);
            ck_assert_msg(gm < 1e-3, "K = %zu label %zu: primal gradient %g", K, k, gm);
        }
        /* the weights are those of the label's positives: other weights
         * give another solution */
        double cw2[3] = {3, 1, 0.5};
        ck_assert(svm_primal_grad_max(&X, NULL, t, K, 0, o.C, cw2, W, b) > 1e-2);
        free(t);
        tcat_csr_free(&X);
    }
}
END_TEST

START_TEST(test_svm_ova_sets)
{
    /* separable label sets are recovered, by any thread count alike */
    enum { K = 3 };
    tcat_csr X;
    uint8_t *t;
    separable_sets(&X, &t, 150, K, 8, 9);
    size_t D = X.cols;
    float *W1 = malloc(D * K * sizeof *W1), *W2 = malloc(D * K * sizeof *W2), b1[K], b2[K];
    tcat_svm_opts o = svm_opts();
    o.targets = t;
    ck_assert_int_eq(tcat_svm_train(&X, NULL, K, &o, W1, b1), TCAT_OK);
    ck_assert(sets_separated(&X, t, K, W1, b1));
    o.threads = 3;
    ck_assert_int_eq(tcat_svm_train(&X, NULL, K, &o, W2, b2), TCAT_OK);
    ck_assert(memcmp(W1, W2, D * K * sizeof *W1) == 0);
    ck_assert(memcmp(b1, b2, sizeof b1) == 0);
    free(t);
    tcat_csr_free(&X);

    /* one label per document: the one-vs-rest problems of single-label
     * training, bit for bit (no class weights, NB scaling included; not
     * the interpolation, after which label sets refit the bias) */
    int32_t *y;
    separable(&X, &y, 90, K, 6, 13);
    D = X.cols;
    t = calloc(X.rows * K, 1);
    float *scale = malloc(K * D * sizeof *scale);
    ck_assert(t && scale);
    for (size_t i = 0; i < X.rows; i++)
        t[i * K + (size_t)y[i]] = 1;
    uint64_t st = 21;
    for (size_t j = 0; j < K * D; j++)
        scale[j] = (float)uniform(&st, 0.5, 2.0);
    o = svm_opts();
    o.scale = scale;
    W1 = realloc(W1, D * K * sizeof *W1);
    W2 = realloc(W2, D * K * sizeof *W2);
    ck_assert_int_eq(tcat_svm_train(&X, y, K, &o, W1, b1), TCAT_OK);
    o.targets = t;
    ck_assert_int_eq(tcat_svm_train(&X, NULL, K, &o, W2, b2), TCAT_OK);
    ck_assert(memcmp(W1, W2, D * K * sizeof *W1) == 0);
    ck_assert(memcmp(b1, b2, sizeof b1) == 0);
    free(scale);
    free(t);
    free(y);
    free(W1);
    free(W2);
    tcat_csr_free(&X);
}
END_TEST

START_TEST(test_svm_nb_interpolation)
{
    /* NBSVM's interpolation, checked against its formula from the plain
     * solution (beta 1) of the same problems: w'_j = (1 - beta) mean|w| +
     * beta w_j on the scaled features, b' = beta b. Label sets (three
     * problems) and two classes (one mirrored problem). */
    for (int sets = 0; sets < 2; sets++) {
        size_t K = sets ? 3 : 2;
        tcat_csr X;
        uint8_t *t = NULL;
        int32_t *y = NULL;
        if (sets)
            separable_sets(&X, &t, 150, K, 8, 15);
        else
            separable(&X, &y, 150, K, 8, 15);
        size_t D = X.cols;
        float *scale = malloc(K * D * sizeof *scale), *W1 = malloc(D * K * sizeof *W1),
              *W2 = malloc(D * K * sizeof *W2), b1[3], b2[3];
        ck_assert(scale && W1 && W2);
        uint64_t st = 31;
        for (size_t j = 0; j < K * D; j++)
            scale[j] = (float)uniform(&st, 0.5, 2.0);
        if (!sets) /* class 1's ratios are class 0's negated */
            for (size_t j = 0; j < D; j++)
                scale[D + j] = -scale[j];
        tcat_svm_opts o = svm_opts();
        o.scale = scale;
        o.targets = t;
        o.beta = 1.0;
        ck_assert_int_eq(tcat_svm_train(&X, y, K, &o, W1, b1), TCAT_OK);
        o.beta = 0.25;
        ck_assert_int_eq(tcat_svm_train(&X, y, K, &o, W2, b2), TCAT_OK);
        for (size_t k = 0; k < K; k++) {
            size_t kk = sets ? k : 0; /* two classes: class 1 mirrors class 0 */
            double sign = sets || k == 0 ? 1.0 : -1.0, mean = 0;
            for (size_t j = 0; j < D; j++)
                mean += fabs(W1[j * K + kk] / scale[kk * D + j]);
            mean /= (double)D;
            for (size_t j = 0; j < D; j++) {
                double w = W1[j * K + kk] / scale[kk * D + j];
                double want = sign * (0.75 * mean + 0.25 * w) * scale[kk * D + j];
                ck_assert_msg(fabs(W2[j * K + k] - want) <= 1e-5 * (1 + fabs(want)),
                              "class %zu feature %zu: %g, want %g", k, j, W2[j * K + k], want);
            }
            ck_assert_msg(fabs(b2[k] - 0.25 * b1[k]) <= 1e-6 * (1 + fabs(b1[k])),
                          "class %zu: bias %g, want %g", k, b2[k], 0.25 * b1[k]);
        }
        free(scale);
        free(W1);
        free(W2);
        free(t);
        free(y);
        tcat_csr_free(&X);
    }
}
END_TEST

Suite *learners_suite(void)
{
    Suite *s = suite_create("learners");
    TCase *tc = tcase_new(s, "logreg");
    tcase_add_test(tc, test_logreg_gradient_check);
    tcase_add_test(tc, test_logreg_threads);
    tcase_add_test(tc, test_logreg_train_optimal);
    tcase_add_test(tc, test_logreg_ova_gradient_check);
    tcase_add_test(tc, test_logreg_ova_threads);
    tcase_add_test(tc, test_logreg_ova_train_optimal);
    tc = tcase_new(s, "svm");
    tcase_add_test(tc, test_svm_separable);
    tcase_add_test(tc, test_svm_primal_optimal);
    tcase_add_test(tc, test_svm_two_classes_shortcut);
    tcase_add_test(tc, test_svm_threads_identical);
    tcase_add_test(tc, test_svm_nb_scaling);
    tcase_add_test(tc, test_svm_deadline);
    tcase_add_test(tc, test_svm_ova_primal_optimal);
    tcase_add_test(tc, test_svm_ova_sets);
    tcase_add_test(tc, test_svm_nb_interpolation);
    return s;
}
