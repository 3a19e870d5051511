/* tests/check_conv.c — embeddings/conv: the forward pass against a naive
 * loop in double precision, the backward pass against central finite
 * differences (every parameter, every real input entry), a hand-set
 * bigram detector, the initialisation, and bad arguments. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "embeddings/conv.h"
#include "tests/suites.h"
#include "tests/testutil.h"

static float urand(tcat_rng *r, double a) { return (float)((2 * tcat_rng_uniform(r) - 1) * a); }

static tcat_encoder *make(size_t D, const size_t *widths, size_t n, size_t maps)
{
    tcat_encoder *e = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_conv_new(&e, D, widths, n, maps, &err), TCAT_OK);
    ck_assert_ptr_nonnull(e);
    return e;
}

/* A batch of B documents of T rows: real rows random, padding zero. */
static float *batch(size_t B, size_t T, size_t D, const size_t *len, tcat_rng *r)
{
    float *X = calloc(B * T * D, sizeof *X);
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < len[b]; t++)
            for (size_t d = 0; d < D; d++)
                X[(b * T + t) * D + d] = urand(r, 1.0);
    return X;
}

/* H from the definition in conv.h, in double, theta read by its
 * documented layout. */
static void naive_forward(size_t D, const size_t *widths, size_t n, size_t m, const float *theta,
                          const float *X, size_t B, size_t T, const size_t *len, double *H)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const size_t w = widths[i];
        const float *W = theta + off, *bias = theta + off + m * w * D;
        for (size_t b = 0; b < B; b++) {
            size_t np = (len[b] > w ? len[b] : w) - w + 1;
            for (size_t j = 0; j < m; j++) {
                double best = 0; /* relu: the max of relu values is >= 0 */
                for (size_t p = 0; p < np; p++) {
                    double s = bias[j];
                    for (size_t k = 0; k < w; k++)
                        for (size_t d = 0; d < D; d++)
                            s += (double)X[(b * T + p + k) * D + d] * W[j * w * D + k * D + d];
                    best = s > best ? s : best;
                }
                H[b * n * m + i * m + j] = best;
            }
        }
        off += m * (w * D + 1);
    }
}

static void forward_case(size_t D, const size_t *widths, size_t n, size_t m, size_t B, size_t T,
                         const size_t *len, uint64_t seed)
{
    tcat_rng r;
    tcat_rng_seed(&r, seed);
    tcat_encoder *e = make(D, widths, n, m);
    const size_t P = e->ops->nparams(e), out = e->ops->out_dim(e);
    ck_assert_uint_eq(out, n * m);
    float *theta = malloc(P * sizeof *theta);
    for (size_t i = 0; i < P; i++)
        theta[i] = urand(&r, 0.5); /* biases random too: some maps stay at 0 */
    float *X = batch(B, T, D, len, &r);
    float *H = malloc(B * out * sizeof *H), *H2 = malloc(B * out * sizeof *H2);
    double *want = malloc(B * out * sizeof *want);
    naive_forward(D, widths, n, m, theta, X, B, T, len, want);
    tcat_encoder_ws *ws = NULL;
    ck_assert_int_eq(e->ops->ws_new(e, &ws), TCAT_OK);
    ck_assert_int_eq(e->ops->forward(e, theta, ws, X, B, T, len, true, H), TCAT_OK);
    for (size_t i = 0; i < B * out; i++)
        ck_assert_msg(fabs(H[i] - want[i]) < 1e-5 * (1 + fabs(want[i])), "H[%zu][%zu]: %g vs %g",
                      i / out, i % out, H[i], want[i]);
    /* without train: the same H, bit for bit */
    ck_assert_int_eq(e->ops->forward(e, theta, ws, X, B, T, len, false, H2), TCAT_OK);
    ck_assert_mem_eq(H, H2, B * out * sizeof *H);
    /* a smaller batch on the grown workspace: its first documents */
    ck_assert_int_eq(e->ops->forward(e, theta, ws, X, 1, T, len, true, H2), TCAT_OK);
    ck_assert_mem_eq(H, H2, out * sizeof *H);
    e->ops->ws_free(ws);
    free(want);
    free(H2);
    free(H);
    free(X);
    free(theta);
    tcat_encoder_free(&e);
    ck_assert_ptr_null(e);
}

START_TEST(test_forward_naive)
{
    /* one document shorter than both widths, one shorter than the larger */
    const size_t w1[] = {2, 3}, len1[] = {7, 1, 2};
    forward_case(5, w1, 2, 4, 3, 7, len1, 1);
    /* uneven lengths with long padding: documents split into several
     * sgemm runs; width 1, repeated widths, a document of exactly T */
    const size_t w2[] = {1, 5, 2, 5}, len2[] = {24, 3, 1, 20, 9, 24, 5};
    forward_case(3, w2, 4, 6, 7, 24, len2, 2);
}
END_TEST

/* ---- gradient --------------------------------------------------------------- */

enum { GB = 3, GT = 7, GD = 5, GM = 4, GN = 2 };
static const size_t gwidths[GN] = {2, 3};
static const size_t glen[GB] = {7, 1, 4};

/* sum_{b,i} H[b,i] R[b,i] with a float forward pass. */
static double loss(tcat_encoder *e, tcat_encoder_ws *ws, const float *theta, const float *X,
                   const double *R)
{
    float H[GB * GN * GM];
    ck_assert_int_eq(e->ops->forward(e, theta, ws, X, GB, GT, glen, false, H), TCAT_OK);
    double L = 0;
    for (size_t i = 0; i < GB * GN * GM; i++)
        L += H[i] * R[i];
    return L;
}

/* Checks one analytic derivative against central differences of the
 * loss in the float *v; returns false when v sits on a kink (a ReLU at 0
 * or a change of the winning window within +-eps: the loss is linear in
 * any one entry elsewhere, so the second difference is rounding only). */
static bool check_entry(tcat_encoder *e, tcat_encoder_ws *ws, float *theta, float *X,
                        const double *R, double L0, float *v, double ana, const char *what,
                        size_t idx)
{
    const float eps = 1e-2f;
    const float keep = *v;
    *v = keep + eps;
    double Lp = loss(e, ws, theta, X, R);
    *v = keep - eps;
    double Lm = loss(e, ws, theta, X, R);
    *v = keep;
    if (fabs(Lp - 2 * L0 + Lm) / (2 * eps) > 5e-4)
        return false;
    double num = (Lp - Lm) / (2 * (double)eps);
    ck_assert_msg(fabs(num - ana) <= 5e-3 * fmax(fabs(num), fabs(ana)) + 1e-3,
                  "d%s[%zu]: backward %g, finite differences %g", what, idx, ana, num);
    return true;
}

START_TEST(test_gradient)
{
    tcat_rng r;
    tcat_rng_seed(&r, 7);
    tcat_encoder *e = make(GD, gwidths, GN, GM);
    const size_t P = e->ops->nparams(e), out = GN * GM;
    ck_assert_uint_eq(P, GM * (2 * GD + 1) + GM * (3 * GD + 1));
    float *theta = malloc(P * sizeof *theta);
    e->ops->init(e, theta, 0.0f, &r);
    /* biases: map 3 of each width pushed below 0 on most documents */
    for (size_t i = 0, off = 0; i < GN; i++) {
        off += GM * gwidths[i] * GD;
        for (size_t j = 0; j < GM; j++)
            theta[off + j] = j == 3 ? -1.5f : urand(&r, 0.2);
        off += GM;
    }
    float *X = batch(GB, GT, GD, glen, &r);
    double R[GB * GN * GM];
    for (size_t i = 0; i < GB * out; i++)
        R[i] = 2 * tcat_rng_uniform(&r) - 1;
    float dH[GB * GN * GM], H[GB * GN * GM];
    for (size_t i = 0; i < GB * out; i++)
        dH[i] = (float)R[i];

    tcat_encoder_ws *ws = NULL;
    ck_assert_int_eq(e->ops->ws_new(e, &ws), TCAT_OK);
    ck_assert_int_eq(e->ops->forward(e, theta, ws, X, GB, GT, glen, true, H), TCAT_OK);
    size_t zeros = 0;
    for (size_t i = 0; i < GB * out; i++)
        zeros += H[i] == 0;
    ck_assert_msg(zeros > 0 && zeros < GB * out / 2, "%zu pooled values at 0", zeros);

    float *g = calloc(P, sizeof *g), *dX = malloc(GB * GT * GD * sizeof *dX);
    for (size_t i = 0; i < GB * GT * GD; i++)
        dX[i] = 123.0f; /* dX is overwritten, padding included */
    ck_assert_int_eq(e->ops->backward(e, theta, ws, dH, dX, g), TCAT_OK);

    /* the finite differences run forward without train on ws: that must
     * leave what backward needs (checked at the end) */
    const double L0 = loss(e, ws, theta, X, R);
    size_t checked = 0, kinks = 0, nonzero = 0;
    for (size_t i = 0; i < P; i++) {
        if (check_entry(e, ws, theta, X, R, L0, &theta[i], g[i], "theta", i))
            checked++, nonzero += fabsf(g[i]) > 1e-3f;
        else
            kinks++;
    }
    for (size_t b = 0; b < GB; b++)
        for (size_t t = 0; t < GT; t++)
            for (size_t d = 0; d < GD; d++) {
                size_t k = (b * GT + t) * GD + d;
                if (t >= glen[b]) {
                    ck_assert_msg(dX[k] == 0, "padding dX[%zu] = %g", k, dX[k]);
                    continue;
                }
                if (check_entry(e, ws, theta, X, R, L0, &X[k], dX[k], "X", k))
                    checked++, nonzero += fabsf(dX[k]) > 1e-3f;
                else
                    kinks++;
            }
    /* the test is not vacuous: most entries checked, many of them moving */
    ck_assert_msg(kinks * 10 < checked, "%zu kinks, %zu checked", kinks, checked);
    ck_assert_msg(nonzero > checked / 3, "%zu of %zu checked derivatives non-zero", nonzero,
                  checked);

    /* dtheta is added to; dX NULL gives the same dtheta; forward passes
     * without train in between changed nothing */
    float *g2 = malloc(P * sizeof *g2), *g3 = calloc(P, sizeof *g3);
    float *base = malloc(P * sizeof *base);
    for (size_t i = 0; i < P; i++)
        base[i] = g2[i] = urand(&r, 1.0);
    ck_assert_int_eq(e->ops->backward(e, theta, ws, dH, dX, g2), TCAT_OK);
    ck_assert_int_eq(e->ops->backward(e, theta, ws, dH, NULL, g3), TCAT_OK);
    for (size_t i = 0; i < P; i++) {
        ck_assert_msg(fabsf(g2[i] - (base[i] + g[i])) <= 1e-6f * (1 + fabsf(g[i])),
                      "dtheta[%zu] overwritten: %g, want %g + %g", i, g2[i], base[i], g[i]);
        ck_assert_msg(g3[i] == g[i], "dX NULL: dtheta[%zu] %g vs %g", i, g3[i], g[i]);
    }
    e->ops->ws_free(ws);
    free(base);
    free(g3);
    free(g2);
    free(dX);
    free(g);
    free(X);
    free(theta);
    tcat_encoder_free(&e);
}
END_TEST

/* ---- a known answer ------------------------------------------------------------ */

START_TEST(test_bigram_detector)
{
    /* one-hot words a b c d; map 0 fires on "b c", map 1 on "c b":
     * +1 for the wanted word at each window slot, -1 for the others,
     * bias -1, so the bigram scores 1 and anything else at most 0 */
    enum { D = 4, B = 5, T = 5 };
    const size_t w[] = {2};
    tcat_encoder *e = make(D, w, 1, 2);
    ck_assert_str_eq(e->ops->name, "conv");
    ck_assert_uint_eq(e->ops->nparams(e), 2 * (2 * D + 1));
    ck_assert_uint_eq(e->ops->out_dim(e), 2);
    ck_assert_uint_eq(e->ops->min_len(e), 2);
    float theta[2 * (2 * D + 1)];
    const int want_word[2][2] = {{1, 2}, {2, 1}};
    for (int j = 0; j < 2; j++)
        for (int k = 0; k < 2; k++)
            for (int d = 0; d < D; d++)
                theta[j * 2 * D + k * D + d] = d == want_word[j][k] ? 1.0f : -1.0f;
    theta[2 * 2 * D] = theta[2 * 2 * D + 1] = -1.0f;
    const char *docs[B] = {"dabcd", "cba", "bbdc", "b", "acbbc"};
    const float want[B][2] = {{1, 0}, {0, 1}, {0, 0}, {0, 0}, {1, 1}};
    float X[B * T * D] = {0}, H[B * 2];
    size_t len[B];
    for (size_t b = 0; b < B; b++) {
        len[b] = strlen(docs[b]);
        for (size_t t = 0; t < len[b]; t++)
            X[(b * T + t) * D + (size_t)(docs[b][t] - 'a')] = 1.0f;
    }
    tcat_encoder_ws *ws = NULL;
    ck_assert_int_eq(e->ops->ws_new(e, &ws), TCAT_OK);
    ck_assert_int_eq(e->ops->forward(e, theta, ws, X, B, T, len, true, H), TCAT_OK);
    for (size_t b = 0; b < B; b++)
        for (size_t j = 0; j < 2; j++)
            ck_assert_msg(H[b * 2 + j] == want[b][j], "'%s' map %zu: %g", docs[b], j,
                          H[b * 2 + j]);
    /* the gradient goes to the bigram's window only: in "dabcd" rows 2, 3 */
    float dH[B * 2] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, dX[B * T * D], g[2 * (2 * D + 1)] = {0};
    ck_assert_int_eq(e->ops->backward(e, theta, ws, dH, dX, g), TCAT_OK);
    for (size_t i = 0; i < B * T * D; i++) {
        size_t row = i / D;
        float want_dx = row == 2 || row == 3 ? theta[(row - 2) * D + i % D] : 0.0f;
        ck_assert_msg(dX[i] == want_dx, "dX[%zu] = %g, want %g", i, dX[i], want_dx);
    }
    for (size_t i = 0; i < 2 * D; i++) /* dW of map 0 = the window "b c" */
        ck_assert_msg(g[i] == X[2 * D + i], "dW[%zu] = %g", i, g[i]);
    ck_assert(g[2 * 2 * D] == 1.0f && g[2 * 2 * D + 1] == 0.0f);
    e->ops->ws_free(ws);
    tcat_encoder_free(&e);
}
END_TEST

START_TEST(test_init)
{
    /* in_rms Kim's (or 0: unknown) gives 1/sqrt(fan_in); rows half as
     * large give twice the bound; all but zero rows at most 16 times */
    const size_t w[] = {3, 5}, D = 40, m = 30;
    const float rms[] = {0.0f, (float)TCAT_CONV_ROW_RMS, (float)TCAT_CONV_ROW_RMS / 2, 1e-9f};
    const double scale[] = {1, 1, 2, 16};
    tcat_encoder *e = make(D, w, 2, m);
    const size_t P = e->ops->nparams(e);
    float *theta = malloc(P * sizeof *theta);
    for (size_t v = 0; v < 4; v++) {
        tcat_rng r;
        tcat_rng_seed(&r, 5);
        e->ops->init(e, theta, rms[v], &r);
        size_t off = 0;
        for (size_t i = 0; i < 2; i++) {
            const double a = scale[v] / sqrt((double)(w[i] * D));
            const size_t n = m * w[i] * D;
            double sum = 0, sq = 0;
            for (size_t k = 0; k < n; k++) {
                ck_assert(theta[off + k] >= -a * (1 + 1e-6) && theta[off + k] < a * (1 + 1e-6));
                sum += theta[off + k];
                sq += (double)theta[off + k] * theta[off + k];
            }
            ck_assert_double_le(fabs(sum / (double)n), 0.05 * a);                /* mean 0 */
            ck_assert_double_le(fabs(sq / (double)n - a * a / 3), 0.05 * a * a); /* variance a^2/3 */
            for (size_t j = 0; j < m; j++)
                ck_assert(theta[off + n + j] == 0.0f);
            off += n + m;
        }
        ck_assert_uint_eq(off, P);
    }
    free(theta);
    tcat_encoder_free(&e);
}
END_TEST

/* ---- bad arguments ---------------------------------------------------------------- */

START_TEST(test_bad_arguments)
{
    const size_t ok[] = {3, 4, 5}, zero[] = {3, 0}, big[] = {33};
    const size_t nine[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const struct {
        size_t D;
        const size_t *w;
        size_t n, m;
    } bad[] = {
        {0, ok, 3, 10},   {10, ok, 0, 10}, {10, nine, 9, 10}, {10, zero, 2, 10},
        {10, big, 1, 10}, {10, ok, 3, 0},  {10, ok, 3, 4097},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tcat_encoder dummy = {0}, *e = &dummy; /* must be reset to NULL */
        tcat_error err = {0};
        ck_assert_msg(tcat_conv_new(&e, bad[i].D, bad[i].w, bad[i].n, bad[i].m, &err) ==
                          TCAT_ERR_USAGE,
                      "case %zu accepted", i);
        ck_assert_ptr_null(e);
        ck_assert_int_eq(err.status, TCAT_ERR_USAGE);
        ck_assert_msg(strncmp(err.msg, "conv: ", 6) == 0, "message '%s'", err.msg);
        ck_assert_int_eq(tcat_conv_new(&e, bad[i].D, bad[i].w, bad[i].n, bad[i].m, NULL),
                         TCAT_ERR_USAGE);
    }
    /* the limits themselves are accepted */
    const size_t w32[] = {32, 1, 1, 1, 1, 1, 1, 1};
    tcat_encoder *e = NULL;
    ck_assert_int_eq(tcat_conv_new(&e, 1, w32, 8, 4096, NULL), TCAT_OK);
    ck_assert_uint_eq(e->ops->min_len(e), 32);
    ck_assert_uint_eq(e->ops->out_dim(e), 8 * 4096);
    tcat_encoder_free(&e);

    /* forward: T below min_len, a length 0 or over T; backward before a
     * forward with train */
    const size_t w[] = {2, 3};
    e = make(2, w, 2, 2);
    float theta[2 * (2 * 2 + 1) + 2 * (3 * 2 + 1)] = {0}, X[2 * 4 * 2] = {0}, H[2 * 4], g[24] = {0};
    tcat_encoder_ws *ws = NULL;
    ck_assert_int_eq(e->ops->ws_new(e, &ws), TCAT_OK);
    const size_t len_ok[] = {1, 3}, len_zero[] = {0, 2}, len_long[] = {2, 5};
    ck_assert_int_eq(e->ops->backward(e, theta, ws, H, NULL, g), TCAT_ERR_USAGE);
    ck_assert_int_eq(e->ops->forward(e, theta, ws, X, 2, 2, len_ok, true, H), TCAT_ERR_USAGE);
    ck_assert_int_eq(e->ops->forward(e, theta, ws, X, 2, 4, len_zero, true, H), TCAT_ERR_USAGE);
    ck_assert_int_eq(e->ops->forward(e, theta, ws, X, 2, 4, len_long, true, H), TCAT_ERR_USAGE);
    ck_assert_int_eq(e->ops->backward(e, theta, ws, H, NULL, g), TCAT_ERR_USAGE);
    ck_assert_int_eq(e->ops->forward(e, theta, ws, X, 2, 3, len_ok, true, H), TCAT_OK);
    ck_assert_int_eq(e->ops->backward(e, theta, ws, H, NULL, g), TCAT_OK);
    /* an empty batch is no error */
    ck_assert_int_eq(e->ops->forward(e, theta, ws, X, 0, 3, len_ok, true, H), TCAT_OK);
    ck_assert_int_eq(e->ops->backward(e, theta, ws, H, X, g), TCAT_OK);
    e->ops->ws_free(ws);
    e->ops->ws_free(NULL);
    tcat_encoder_free(&e);
}
END_TEST

Suite *conv_suite(void)
{
    Suite *s = suite_create("conv");
    TCase *tc = tcase_new(s, "conv");
    tcase_add_test(tc, test_forward_naive);
    tcase_add_test(tc, test_gradient);
    tcase_add_test(tc, test_bigram_detector);
    tcase_add_test(tc, test_init);
    tcase_add_test(tc, test_bad_arguments);
    return s;
}
