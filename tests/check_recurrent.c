/* tests/check_recurrent.c — embeddings/recurrent: the forward pass against
 * a naive double-precision implementation, the backward pass against
 * finite differences, independence from padding and batch company, a
 * known answer a bag of words cannot reach (which of A and B comes first),
 * and bad arguments. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "embeddings/recurrent.h"
#include "tests/suites.h"
#include "tests/testutil.h"

/* ---- helpers ------------------------------------------------------------------------ */

static tcat_encoder *make(size_t D, tcat_rnn_cell cell, size_t H, size_t L)
{
    tcat_encoder *e = NULL;
    tcat_error err = {0};
    tcat_status st = tcat_rnn_new(&e, D, cell, H, L, &err);
    ck_assert_msg(st == TCAT_OK, "tcat_rnn_new: %s", err.msg);
    ck_assert_ptr_nonnull(e);
    return e;
}

static void uniform(float *v, size_t n, float a, tcat_rng *r)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((2 * tcat_rng_uniform(r) - 1) * a);
}

/* X of B documents of lengths len, T rows each: real rows random, padding 0. */
static float *random_batch(size_t B, size_t T, size_t D, const size_t *len, tcat_rng *r)
{
    float *X = calloc(B * T * D, sizeof *X);
    ck_assert_ptr_nonnull(X);
    for (size_t b = 0; b < B; b++)
        uniform(X + b * T * D, len[b] * D, 1.0f, r);
    return X;
}

static void forward_ok(tcat_encoder *e, const float *theta, tcat_encoder_ws *ws, const float *X,
                       size_t B, size_t T, const size_t *len, bool train, float *H)
{
    tcat_status st = e->ops->forward(e, theta, ws, X, B, T, len, train, H);
    ck_assert_int_eq(st, TCAT_OK);
}

/* ---- the naive reference -------------------------------------------------------------- */

static double sg(double x) { return 1 / (1 + exp(-x)); }

/* H (4*Hd doubles) of one document of n rows, straight from the equations
 * of recurrent.h and its layout of theta, in double precision. */
static void naive(const float *theta, tcat_rnn_cell cell, size_t D, size_t Hd, size_t L,
                  const float *x, size_t n, double *out)
{
    const size_t G = cell == TCAT_RNN_GRU ? 3 : 4, GH = G * Hd;
    const size_t wide = D > 2 * Hd ? D : 2 * Hd;
    double *in = malloc(n * wide * sizeof *in), *y = malloc(n * 2 * Hd * sizeof *y);
    double *h = malloc(Hd * sizeof *h), *c = malloc(Hd * sizeof *c);
    double *pre = malloc(GH * sizeof *pre), *hh = malloc(GH * sizeof *hh);
    double *hnew = malloc(Hd * sizeof *hnew);
    ck_assert(in && y && h && c && pre && hh && hnew);
    for (size_t i = 0; i < n * D; i++)
        in[i] = x[i];
    size_t Din = D;
    const float *p = theta;
    for (size_t l = 0; l < L; l++) {
        for (size_t d = 0; d < 2; d++) {
            const float *Wih = p, *Whh = Wih + GH * Din, *bias = Whh + GH * Hd;
            const float *bhn = bias + GH;
            p = bhn + (cell == TCAT_RNN_GRU ? Hd : 0);
            for (size_t j = 0; j < Hd; j++)
                h[j] = c[j] = 0;
            for (size_t s = 0; s < n; s++) {
                size_t t = d == 0 ? s : n - 1 - s;
                for (size_t g = 0; g < GH; g++) {
                    double a = 0, q = 0;
                    for (size_t k = 0; k < Din; k++)
                        a += (double)Wih[g * Din + k] * in[t * Din + k];
                    for (size_t k = 0; k < Hd; k++)
                        q += (double)Whh[g * Hd + k] * h[k];
                    pre[g] = a + bias[g];
                    hh[g] = q;
                }
                for (size_t j = 0; j < Hd; j++) {
                    if (cell == TCAT_RNN_GRU) {
                        double r = sg(pre[j] + hh[j]), z = sg(pre[Hd + j] + hh[Hd + j]);
                        double nn = tanh(pre[2 * Hd + j] + r * (hh[2 * Hd + j] + bhn[j]));
                        hnew[j] = (1 - z) * nn + z * h[j];
                    } else {
                        double ig = sg(pre[j] + hh[j]), fg = sg(pre[Hd + j] + hh[Hd + j]);
                        double gg = tanh(pre[2 * Hd + j] + hh[2 * Hd + j]);
                        double og = sg(pre[3 * Hd + j] + hh[3 * Hd + j]);
                        c[j] = fg * c[j] + ig * gg;
                        hnew[j] = og * tanh(c[j]);
                    }
                }
                for (size_t j = 0; j < Hd; j++) {
                    h[j] = hnew[j];
                    y[t * 2 * Hd + d * Hd + j] = h[j];
                }
            }
        }
        Din = 2 * Hd;
        memcpy(in, y, n * 2 * Hd * sizeof *y);
    }
    for (size_t d = 0; d < 2; d++)
        for (size_t j = 0; j < Hd; j++) {
            double mx = -INFINITY, sum = 0;
            for (size_t t = 0; t < n; t++) {
                double v = y[t * 2 * Hd + d * Hd + j];
                mx = v > mx ? v : mx;
                sum += v;
            }
            out[d * Hd + j] = mx;
            out[2 * Hd + d * Hd + j] = sum / (double)n;
        }
    free(in);
    free(y);
    free(h);
    free(c);
    free(pre);
    free(hh);
    free(hnew);
}

static const tcat_rnn_cell cells[2] = {TCAT_RNN_GRU, TCAT_RNN_LSTM};

START_TEST(test_shape_and_init)
{
    for (int ci = 0; ci < 2; ci++)
        for (size_t L = 1; L <= 2; L++) {
            const size_t D = 5, Hd = 7, G = ci == 0 ? 3 : 4;
            tcat_encoder *e = make(D, cells[ci], Hd, L);
            ck_assert_str_eq(e->ops->name, ci == 0 ? "gru" : "lstm");
            ck_assert_uint_eq(e->in_dim, D);
            ck_assert_uint_eq(e->ops->out_dim(e), 4 * Hd);
            ck_assert_uint_eq(e->ops->min_len(e), 1);
            size_t extra = ci == 0 ? Hd : 0;
            size_t b1 = G * Hd * (D + Hd + 1) + extra, b2 = G * Hd * (2 * Hd + Hd + 1) + extra;
            size_t np = 2 * b1 + (L == 2 ? 2 * b2 : 0);
            ck_assert_uint_eq(e->ops->nparams(e), np);
            float *th = malloc(np * sizeof *th);
            tcat_rng r;
            tcat_rng_seed(&r, 5);
            e->ops->init(e, th, 0.0f, &r);
            /* weights in [-1/sqrt(H), 1/sqrt(H)), biases 0 but LSTM's forget gate 1 */
            const float a = 1.0f / sqrtf((float)Hd);
            size_t off = 0;
            for (size_t l = 0; l < L; l++)
                for (size_t d = 0; d < 2; d++) {
                    size_t nw = G * Hd * ((l ? 2 * Hd : D) + Hd);
                    double s2 = 0;
                    for (size_t i = 0; i < nw; i++) {
                        ck_assert(th[off + i] >= -a && th[off + i] < a);
                        s2 += (double)th[off + i] * th[off + i];
                    }
                    /* variance of U(-a, a) is a^2 / 3 */
                    ck_assert_double_eq_tol(s2 / (double)nw, a * a / 3.0, a * a * 0.1);
                    off += nw;
                    for (size_t i = 0; i < G * Hd + extra; i++)
                        ck_assert(th[off + i] == (ci == 1 && i >= Hd && i < 2 * Hd ? 1.0f : 0.0f));
                    off += G * Hd + extra;
                }
            ck_assert_uint_eq(off, np);
            /* the same seed gives the same theta */
            float *th2 = malloc(np * sizeof *th2);
            tcat_rng_seed(&r, 5);
            e->ops->init(e, th2, 0.0f, &r);
            ck_assert(memcmp(th, th2, np * sizeof *th) == 0);
            free(th);
            free(th2);
            tcat_encoder_free(&e);
            ck_assert_ptr_null(e);
        }
}
END_TEST

START_TEST(test_forward_naive)
{
    const size_t B = 3, T = 6, D = 4, Hd = 3;
    const size_t len[3] = {6, 2, 1};
    tcat_rng r;
    tcat_rng_seed(&r, 21);
    for (int ci = 0; ci < 2; ci++)
        for (size_t L = 1; L <= 2; L++) {
            tcat_encoder *e = make(D, cells[ci], Hd, L);
            size_t np = e->ops->nparams(e), od = e->ops->out_dim(e);
            float *th = malloc(np * sizeof *th);
            uniform(th, np, 0.8f, &r); /* biases nonzero too */
            float *X = random_batch(B, T, D, len, &r);
            float Hf[3 * 12], Hg[3 * 12];
            tcat_encoder_ws *ws = NULL;
            ck_assert_int_eq(e->ops->ws_new(e, &ws), TCAT_OK);
            forward_ok(e, th, ws, X, B, T, len, true, Hf);
            forward_ok(e, th, ws, X, B, T, len, false, Hg);
            ck_assert(memcmp(Hf, Hg, sizeof Hf) == 0);
            for (size_t b = 0; b < B; b++) {
                double want[12];
                naive(th, cells[ci], D, Hd, L, X + b * T * D, len[b], want);
                for (size_t j = 0; j < od; j++)
                    ck_assert_msg(fabs(Hf[b * od + j] - want[j]) < 1e-5,
                                  "cell %d L %zu doc %zu unit %zu: %.8g vs %.8g", ci, L, b, j,
                                  Hf[b * od + j], want[j]);
            }
            e->ops->ws_free(ws);
            free(X);
            free(th);
            tcat_encoder_free(&e);
        }
}
END_TEST

/* ---- gradient ----------------------------------------------------------------------- */

static double loss(tcat_encoder *e, const float *th, tcat_encoder_ws *ws, const float *X, size_t B,
                   size_t T, const size_t *len, const float *Rm, float *Hb)
{
    forward_ok(e, th, ws, X, B, T, len, false, Hb);
    double s = 0;
    for (size_t i = 0; i < B * e->ops->out_dim(e); i++)
        s += (double)Hb[i] * Rm[i];
    return s;
}

static void gradient_case(tcat_rnn_cell cell, size_t L)
{
    const size_t B = 3, T = 6, D = 4, Hd = 3, od = 4 * Hd;
    const size_t len[3] = {6, 2, 1};
    tcat_rng r;
    tcat_rng_seed(&r, 31 + (uint64_t)cell * 2 + L);
    tcat_encoder *e = make(D, cell, Hd, L);
    size_t np = e->ops->nparams(e);
    float *th = malloc(np * sizeof *th), *g = malloc(np * sizeof *g), *g0 = malloc(np * sizeof *g0);
    float *g2 = calloc(np, sizeof *g2);
    uniform(th, np, 0.8f, &r);
    uniform(g0, np, 1.0f, &r);
    memcpy(g, g0, np * sizeof *g);
    float *X = random_batch(B, T, D, len, &r);
    float *dX = malloc(B * T * D * sizeof *dX), Rm[3 * 12], Hb[3 * 12];
    for (size_t i = 0; i < B * T * D; i++)
        dX[i] = 7.0f; /* every entry must be written */
    uniform(Rm, B * od, 1.0f, &r);
    tcat_encoder_ws *ws = NULL, *ws2 = NULL;
    ck_assert_int_eq(e->ops->ws_new(e, &ws), TCAT_OK);
    ck_assert_int_eq(e->ops->ws_new(e, &ws2), TCAT_OK);
    forward_ok(e, th, ws, X, B, T, len, true, Hb);
    ck_assert_int_eq(e->ops->backward(e, th, ws, Rm, dX, g), TCAT_OK);
    /* dX NULL: the same parameter gradient */
    forward_ok(e, th, ws, X, B, T, len, true, Hb);
    ck_assert_int_eq(e->ops->backward(e, th, ws, Rm, NULL, g2), TCAT_OK);

    /* Central differences on the float forward. eps 1e-3: the rounding
     * noise of a float loss of size ~1 is ~1e-7 / 1e-3, the truncation
     * error ~eps^2; a wrong term is off by ~0.1 or more. */
    const float eps = 1e-3f;
    const double tol_abs = 1e-3, tol_rel = 5e-3;
    double worst = 0;
    for (size_t i = 0; i < np; i++) {
        float keep = th[i];
        th[i] = keep + eps;
        double fp = loss(e, th, ws2, X, B, T, len, Rm, Hb);
        th[i] = keep - eps;
        double fm = loss(e, th, ws2, X, B, T, len, Rm, Hb);
        th[i] = keep;
        double num = (fp - fm) / (2.0 * ((double)(keep + eps) - (double)keep));
        double ana = (double)g[i] - (double)g0[i];
        worst = fmax(worst, fabs(num - ana));
        ck_assert_msg(fabs(num - ana) <= tol_abs + tol_rel * fabs(num),
                      "cell %d L %zu: dtheta[%zu] analytic %.6g numeric %.6g", (int)cell, L, i, ana,
                      num);
        ck_assert_msg(fabs((double)g2[i] - ana) <= 1e-6 * fmax(1.0, fabs(ana)),
                      "dX NULL changed dtheta[%zu]", i);
    }
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T; t++)
            for (size_t k = 0; k < D; k++) {
                size_t i = (b * T + t) * D + k;
                if (t >= len[b]) {
                    ck_assert_msg(dX[i] == 0.0f, "padding dX[%zu] = %g", i, dX[i]);
                    continue;
                }
                float keep = X[i];
                X[i] = keep + eps;
                double fp = loss(e, th, ws2, X, B, T, len, Rm, Hb);
                X[i] = keep - eps;
                double fm = loss(e, th, ws2, X, B, T, len, Rm, Hb);
                X[i] = keep;
                double num = (fp - fm) / (2.0 * ((double)(keep + eps) - (double)keep));
                worst = fmax(worst, fabs(num - dX[i]));
                ck_assert_msg(fabs(num - dX[i]) <= tol_abs + tol_rel * fabs(num),
                              "cell %d L %zu: dX[%zu] analytic %.6g numeric %.6g", (int)cell, L, i,
                              dX[i], num);
            }
    ck_assert(worst < tol_abs);
    /* backward without a training forward is refused */
    forward_ok(e, th, ws2, X, B, T, len, false, Hb);
    ck_assert_int_eq(e->ops->backward(e, th, ws2, Rm, dX, g), TCAT_ERR_USAGE);
    e->ops->ws_free(ws);
    e->ops->ws_free(ws2);
    free(X);
    free(dX);
    free(th);
    free(g);
    free(g0);
    free(g2);
    tcat_encoder_free(&e);
}

START_TEST(test_gradient_gru_1) { gradient_case(TCAT_RNN_GRU, 1); }
END_TEST
START_TEST(test_gradient_gru_2) { gradient_case(TCAT_RNN_GRU, 2); }
END_TEST
START_TEST(test_gradient_lstm_1) { gradient_case(TCAT_RNN_LSTM, 1); }
END_TEST
START_TEST(test_gradient_lstm_2) { gradient_case(TCAT_RNN_LSTM, 2); }
END_TEST

/* A document alone (T = its length) and the same document second in a
 * batch with a longer and a shorter one (T larger): the same H, and with
 * the others' dH zero, the same dX rows and dtheta. One workspace serves
 * both batches (it grows). */
START_TEST(test_padding_independent)
{
    const size_t D = 5, Hd = 6, n = 4, T2 = 9, B2 = 3;
    const size_t len1[1] = {n}, len2[3] = {9, n, 2};
    for (int ci = 0; ci < 2; ci++)
        for (size_t L = 1; L <= 2; L++) {
            tcat_rng r;
            tcat_rng_seed(&r, 41);
            tcat_encoder *e = make(D, cells[ci], Hd, L);
            size_t np = e->ops->nparams(e), od = e->ops->out_dim(e);
            float *th = malloc(np * sizeof *th);
            e->ops->init(e, th, 0.0f, &r);
            float *X2 = random_batch(B2, T2, D, len2, &r);
            float *X1 = X2 + T2 * D; /* document 1 alone: its n rows */
            float H1[24], H2[3 * 24], dH1[24], dH2[3 * 24];
            uniform(dH1, od, 1.0f, &r);
            memset(dH2, 0, sizeof dH2);
            memcpy(dH2 + od, dH1, od * sizeof *dH1);
            float *g1 = calloc(np, sizeof *g1), *g2 = calloc(np, sizeof *g2);
            float *dX1 = malloc(n * D * sizeof *dX1), *dX2 = malloc(B2 * T2 * D * sizeof *dX2);
            tcat_encoder_ws *ws = NULL;
            ck_assert_int_eq(e->ops->ws_new(e, &ws), TCAT_OK);
            forward_ok(e, th, ws, X1, 1, n, len1, true, H1);
            ck_assert_int_eq(e->ops->backward(e, th, ws, dH1, dX1, g1), TCAT_OK);
            forward_ok(e, th, ws, X2, B2, T2, len2, true, H2);
            ck_assert_int_eq(e->ops->backward(e, th, ws, dH2, dX2, g2), TCAT_OK);
            for (size_t j = 0; j < od; j++)
                ck_assert_msg(fabsf(H1[j] - H2[od + j]) <= 1e-6f, "H[%zu]: %.9g vs %.9g", j, H1[j],
                              H2[od + j]);
            for (size_t i = 0; i < n * D; i++)
                ck_assert_msg(fabsf(dX1[i] - dX2[T2 * D + i]) <= 1e-6f, "dX[%zu]", i);
            for (size_t i = 0; i < np; i++)
                ck_assert_msg(fabsf(g1[i] - g2[i]) <= 1e-6f, "dtheta[%zu]: %.9g vs %.9g", i, g1[i],
                              g2[i]);
            /* the other documents got dH 0: their rows of dX are 0 too */
            for (size_t i = 0; i < T2 * D; i++)
                ck_assert(dX2[i] == 0.0f && dX2[2 * T2 * D + i] == 0.0f);
            e->ops->ws_free(ws);
            free(X2);
            free(th);
            free(g1);
            free(g2);
            free(dX1);
            free(dX2);
            tcat_encoder_free(&e);
        }
}
END_TEST

/* ---- known answer: does the first A come before the first B? -------------------------- */

enum { TOK_A, TOK_B, TOK_C };
#define SEQ_MIN 3
#define SEQ_MAX 10

/* A sequence over {A, B, C} holding at least one A and one B, as one-hot
 * rows into X (T = SEQ_MAX rows); returns its label. */
static int draw_seq(tcat_rng *r, float *X, size_t *len)
{
    for (;;) {
        size_t n = SEQ_MIN + (size_t)tcat_rng_below(r, SEQ_MAX - SEQ_MIN + 1);
        int tok[SEQ_MAX], first = -1;
        bool a = false, b = false;
        for (size_t t = 0; t < n; t++) {
            tok[t] = (int)tcat_rng_below(r, 3);
            a |= tok[t] == TOK_A;
            b |= tok[t] == TOK_B;
            if (first < 0 && tok[t] != TOK_C)
                first = tok[t];
        }
        if (!a || !b)
            continue;
        memset(X, 0, SEQ_MAX * 3 * sizeof *X);
        for (size_t t = 0; t < n; t++)
            X[t * 3 + (size_t)tok[t]] = 1.0f;
        *len = n;
        return first == TOK_A;
    }
}

static void adam(float *p, const float *g, float *m, float *v, size_t n, double lr, int step)
{
    const double b1 = 0.9, b2 = 0.999;
    double c1 = 1 - pow(b1, step), c2 = 1 - pow(b2, step);
    for (size_t i = 0; i < n; i++) {
        m[i] = (float)(b1 * m[i] + (1 - b1) * g[i]);
        v[i] = (float)(b2 * v[i] + (1 - b2) * (double)g[i] * g[i]);
        p[i] -= (float)(lr * (m[i] / c1) / (sqrt(v[i] / c2) + 1e-8));
    }
}

START_TEST(test_learns_order)
{
    const size_t Hd = 8, B = 32, steps = 300, ntest = 1000;
    tcat_encoder *e = make(3, TCAT_RNN_GRU, Hd, 1);
    const size_t np = e->ops->nparams(e), od = e->ops->out_dim(e);
    /* parameters: theta of the encoder, then the logistic layer (od + 1) */
    const size_t nall = np + od + 1;
    float *p = calloc(nall, sizeof *p), *g = calloc(nall, sizeof *g);
    float *m = calloc(nall, sizeof *m), *v = calloc(nall, sizeof *v);
    float *X = malloc(ntest * SEQ_MAX * 3 * sizeof *X), *Hb = malloc(ntest * od * sizeof *Hb);
    float *dH = malloc(B * od * sizeof *dH);
    size_t *len = malloc(ntest * sizeof *len);
    int *y = malloc(ntest * sizeof *y);
    ck_assert(p && g && m && v && X && Hb && dH && len && y);
    tcat_rng r;
    tcat_rng_seed(&r, 2024);
    e->ops->init(e, p, 0.0f, &r);
    float *w = p + np;
    tcat_encoder_ws *ws = NULL;
    ck_assert_int_eq(e->ops->ws_new(e, &ws), TCAT_OK);
    for (size_t it = 1; it <= steps; it++) {
        for (size_t b = 0; b < B; b++)
            y[b] = draw_seq(&r, X + b * SEQ_MAX * 3, &len[b]);
        forward_ok(e, p, ws, X, B, SEQ_MAX, len, true, Hb);
        memset(g, 0, nall * sizeof *g);
        for (size_t b = 0; b < B; b++) {
            double z = w[od];
            for (size_t j = 0; j < od; j++)
                z += (double)w[j] * Hb[b * od + j];
            double dz = (1 / (1 + exp(-z)) - y[b]) / (double)B; /* mean log loss */
            for (size_t j = 0; j < od; j++) {
                g[np + j] += (float)(dz * Hb[b * od + j]);
                dH[b * od + j] = (float)(dz * w[j]);
            }
            g[np + od] += (float)dz;
        }
        ck_assert_int_eq(e->ops->backward(e, p, ws, dH, NULL, g), TCAT_OK);
        adam(p, g, m, v, nall, 0.03, (int)it);
    }
    /* held out: fresh sequences, one batch */
    size_t right = 0, pos = 0;
    for (size_t b = 0; b < ntest; b++) {
        y[b] = draw_seq(&r, X + b * SEQ_MAX * 3, &len[b]);
        pos += (size_t)y[b];
    }
    forward_ok(e, p, ws, X, ntest, SEQ_MAX, len, false, Hb);
    for (size_t b = 0; b < ntest; b++) {
        double z = w[od];
        for (size_t j = 0; j < od; j++)
            z += (double)w[j] * Hb[b * od + j];
        right += (z > 0) == (y[b] == 1);
    }
    double acc = (double)right / (double)ntest;
    ck_assert_msg(pos > ntest / 3 && pos < 2 * ntest / 3, "unbalanced: %zu positives", pos);
    ck_assert_msg(acc > 0.95, "held-out accuracy %.3f", acc);
    e->ops->ws_free(ws);
    tcat_encoder_free(&e);
    free(p);
    free(g);
    free(m);
    free(v);
    free(X);
    free(Hb);
    free(dH);
    free(len);
    free(y);
}
END_TEST

/* ---- errors ----------------------------------------------------------------------------- */

START_TEST(test_bad_arguments)
{
    static tcat_encoder dummy;
    tcat_encoder *e = &dummy; /* must be reset to NULL */
    tcat_error err = {0};
    ck_assert_int_eq(tcat_rnn_new(&e, 0, TCAT_RNN_GRU, 8, 1, &err), TCAT_ERR_USAGE);
    ck_assert_ptr_null(e);
    ck_assert(err.status == TCAT_ERR_USAGE && strstr(err.msg, "input dimension") != NULL);
    ck_assert_int_eq(tcat_rnn_new(&e, 4, TCAT_RNN_LSTM, 0, 1, &err), TCAT_ERR_USAGE);
    ck_assert(strstr(err.msg, "hidden") != NULL);
    ck_assert_int_eq(tcat_rnn_new(&e, 4, TCAT_RNN_GRU, 4097, 1, &err), TCAT_ERR_USAGE);
    ck_assert_int_eq(tcat_rnn_new(&e, 4, TCAT_RNN_GRU, 8, 0, &err), TCAT_ERR_USAGE);
    ck_assert(strstr(err.msg, "layers") != NULL);
    ck_assert_int_eq(tcat_rnn_new(&e, 4, TCAT_RNN_LSTM, 8, 3, NULL), TCAT_ERR_USAGE);
    ck_assert_int_eq(tcat_rnn_new(&e, 4, (tcat_rnn_cell)7, 8, 1, NULL), TCAT_ERR_USAGE);
    ck_assert_int_eq(tcat_rnn_new(&e, (size_t)1 << 40, TCAT_RNN_GRU, 8, 1, NULL), TCAT_ERR_USAGE);
    ck_assert_ptr_null(e);
    ck_assert_int_eq(tcat_rnn_new(&e, 4, TCAT_RNN_GRU, 4096, 2, NULL), TCAT_OK);
    tcat_encoder_free(&e);

    /* forward: T 0, a length 0 or over T */
    e = make(2, TCAT_RNN_GRU, 2, 1);
    float th[64] = {0}, X[8] = {0}, H[16];
    ck_assert_uint_le(e->ops->nparams(e), 64);
    tcat_encoder_ws *ws = NULL;
    ck_assert_int_eq(e->ops->ws_new(e, &ws), TCAT_OK);
    size_t bad0[2] = {0, 2}, bad3[2] = {3, 2}, good[2] = {2, 1};
    ck_assert_int_eq(e->ops->forward(e, th, ws, X, 2, 0, good, true, H), TCAT_ERR_USAGE);
    ck_assert_int_eq(e->ops->forward(e, th, ws, X, 2, 2, bad0, true, H), TCAT_ERR_USAGE);
    ck_assert_int_eq(e->ops->forward(e, th, ws, X, 2, 2, bad3, true, H), TCAT_ERR_USAGE);
    float dH[16] = {0};
    ck_assert_int_eq(e->ops->backward(e, th, ws, dH, NULL, th), TCAT_ERR_USAGE);
    ck_assert_int_eq(e->ops->forward(e, th, ws, X, 2, 2, good, true, H), TCAT_OK);
    /* an empty batch is no error */
    ck_assert_int_eq(e->ops->forward(e, th, ws, X, 0, 2, good, true, H), TCAT_OK);
    ck_assert_int_eq(e->ops->backward(e, th, ws, dH, NULL, th), TCAT_OK);
    e->ops->ws_free(ws);
    tcat_encoder_free(&e);
}
END_TEST

Suite *recurrent_suite(void)
{
    Suite *s = suite_create("recurrent");
    TCase *tc = tcase_new(s, "forward");
    tcase_add_test(tc, test_shape_and_init);
    tcase_add_test(tc, test_forward_naive);
    tc = tcase_new(s, "gradient");
    tcase_add_test(tc, test_gradient_gru_1);
    tcase_add_test(tc, test_gradient_gru_2);
    tcase_add_test(tc, test_gradient_lstm_1);
    tcase_add_test(tc, test_gradient_lstm_2);
    tcase_add_test(tc, test_padding_independent);
    tc = tcase_new(s, "learning");
    tcase_add_test(tc, test_learns_order);
    tc = tcase_new(s, "errors");
    tcase_add_test(tc, test_bad_arguments);
    return s;
}
