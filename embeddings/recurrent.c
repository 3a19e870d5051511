/*
 * embeddings/recurrent.c — bidirectional GRU/LSTM encoder with max and
 * mean pooling. See recurrent.h for the equations, the layout of theta and
 * how lengths are handled.
 *
 * Internal layouts. "Row layout": row b*T + t, as X. "Step layout": row
 * s*B + i, i the position of a document in the order of decreasing length
 * (perm[i] is the document), s the step of the direction; at step s rows
 * i < nact[s] are live, the others are zero (states) or never read.
 */
#include "embeddings/recurrent.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "embeddings/tensor.h"

typedef struct rnn {
    tcat_encoder base;
    tcat_rnn_cell cell;
    size_t hidden, layers, G; /* G gates: 3 (GRU) or 4 (LSTM) */
    size_t off[2][2];         /* offset of the block of layer l, direction d */
    size_t nparams;
} rnn;

/* A buffer that grows on demand. */
typedef struct wbuf {
    void *p;
    size_t cap; /* bytes */
} wbuf;

enum {
    W_LEN,
    W_PERM,
    W_NACT,
    W_ARG,
    W_A,
    W_HH,
    W_Y0,
    W_DY0,
    W_DAHH,
    W_DH,
    W_DC,
    W_SORT,
    W_X,
    W_FIXED
};

struct tcat_encoder_ws {
    const rnn *e;
    size_t B, T, S;
    bool trained;
    wbuf w[W_FIXED];
    wbuf gates[2][2]; /* S*B x G*H, step layout, after the nonlinearities */
    wbuf aux[2][2];   /* GRU: S*B x H of W_hn h + b_hn; LSTM: (S+1)*B x H cells */
    wbuf hs[2][2];    /* (S+1)*B x H states, step layout; step s reads block s */
};

/* ---- shape ------------------------------------------------------------------- */

static const rnn *R(const tcat_encoder *e) { return (const rnn *)e; }

static size_t in_of(const rnn *m, size_t l) { return l == 0 ? m->base.in_dim : 2 * m->hidden; }

static size_t block_size(const rnn *m, size_t l)
{
    size_t GH = m->G * m->hidden;
    return GH * (in_of(m, l) + m->hidden + 1) + (m->cell == TCAT_RNN_GRU ? m->hidden : 0);
}

static size_t op_nparams(const tcat_encoder *e) { return R(e)->nparams; }
static size_t op_out_dim(const tcat_encoder *e) { return 4 * R(e)->hidden; }
static size_t op_min_len(const tcat_encoder *e) { return 1; }

/* Pointers into one block of theta (or of a gradient). */
typedef struct blk {
    float *wih, *whh, *b, *bhn;
} blk;

static blk block_of(const rnn *m, const float *theta, size_t l, size_t d)
{
    size_t GH = m->G * m->hidden;
    float *p = (float *)theta + m->off[l][d];
    blk k;
    k.wih = p;
    k.whh = k.wih + GH * in_of(m, l);
    k.b = k.whh + GH * m->hidden;
    k.bhn = m->cell == TCAT_RNN_GRU ? k.b + GH : NULL;
    return k;
}

static void op_init(const tcat_encoder *e, float *theta, float in_rms, tcat_rng *r)
{
    (void)in_rms; /* the gates keep their own scheme (recurrent.h) */
    const rnn *m = R(e);
    size_t H = m->hidden, GH = m->G * H;
    memset(theta, 0, m->nparams * sizeof *theta);
    float a = (float)(1.0 / sqrt((double)H));
    for (size_t l = 0; l < m->layers; l++)
        for (size_t d = 0; d < 2; d++) {
            blk k = block_of(m, theta, l, d);
            tcat_tensor t;
            tcat_tensor_view(&t, k.wih, GH, in_of(m, l));
            tcat_tensor_uniform(&t, a, r);
            tcat_tensor_view(&t, k.whh, GH, H);
            tcat_tensor_uniform(&t, a, r);
            if (m->cell == TCAT_RNN_LSTM)
                for (size_t j = 0; j < H; j++)
                    k.b[H + j] = 1.0f;
        }
}

/* ---- workspace ----------------------------------------------------------------- */

static tcat_status op_ws_new(const tcat_encoder *e, tcat_encoder_ws **out)
{
    tcat_encoder_ws *ws = calloc(1, sizeof *ws);
    *out = ws;
    if (!ws)
        return TCAT_ERR_NOMEM;
    ws->e = R(e);
    return TCAT_OK;
}

static void op_ws_free(tcat_encoder_ws *ws)
{
    if (!ws)
        return;
    for (size_t i = 0; i < W_FIXED; i++)
        free(ws->w[i].p);
    for (size_t l = 0; l < 2; l++)
        for (size_t d = 0; d < 2; d++) {
            free(ws->gates[l][d].p);
            free(ws->aux[l][d].p);
            free(ws->hs[l][d].p);
        }
    free(ws);
}

/* Makes b hold at least n1*n2*n3 elements of size sz; false on overflow or
 * no memory (the old block is kept then). */
static bool grow(wbuf *b, size_t n1, size_t n2, size_t n3, size_t sz)
{
    size_t n;
    if (__builtin_mul_overflow(n1, n2, &n) || __builtin_mul_overflow(n, n3, &n) ||
        __builtin_mul_overflow(n, sz, &n))
        return false;
    if (n <= b->cap)
        return true;
    void *p = realloc(b->p, n);
    if (!p)
        return false;
    b->p = p;
    b->cap = n;
    return true;
}

#define F(ws, i) ((float *)(ws)->w[i].p)

/* ---- products ---------------------------------------------------------------- */

/* C (M x N) = alpha op(A) op(B) + beta C, row-major with leading dimensions
 * equal to the stored widths. */
static void gemm(bool ta, bool tb, size_t M, size_t N, size_t K, const float *A, size_t lda,
                 const float *Bm, size_t ldb, float beta, float *C, size_t ldc)
{
    if (M == 0 || N == 0)
        return;
    tcat_sgemm(ta, tb, M, N, K, 1.0f, A, lda, Bm, ldb, beta, C, ldc);
}

static inline float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

/* tanh through expf: 2 s(2x) - 1. glibc's tanhf (through expm1f) took a
 * quarter of the time of a GRU; this one is within 2e-7 of tanh (absolute)
 * and saturates cleanly to +-1. */
static inline float tanh_fast(float x) { return 2.0f / (1.0f + expf(-2.0f * x)) - 1.0f; }

/* ---- forward ------------------------------------------------------------------- */

typedef struct lenidx {
    size_t len, idx;
} lenidx;

static int by_len_desc(const void *a, const void *b)
{
    const lenidx *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Token index read at step s by direction d for a document of length n. */
static inline size_t tok_at(size_t d, size_t s, size_t n) { return d == 0 ? s : n - 1 - s; }

/* One direction d of layer l over the whole batch: input Xl (B*T x Din). */
static void run_dir(const rnn *m, const float *theta, tcat_encoder_ws *ws, size_t l, size_t d,
                    const float *Xl)
{
    const size_t H = m->hidden, G = m->G, GH = G * H, B = ws->B, T = ws->T, S = ws->S;
    const size_t Din = in_of(m, l);
    const size_t *len = ws->w[W_LEN].p, *perm = ws->w[W_PERM].p, *nact = ws->w[W_NACT].p;
    blk k = block_of(m, theta, l, d);
    float *A = F(ws, W_A), *hh = F(ws, W_HH);
    float *gates = ws->gates[l][d].p, *aux = ws->aux[l][d].p, *hs = ws->hs[l][d].p;
    float *y0 = (l == 0 && m->layers == 2) ? F(ws, W_Y0) : NULL;
    const bool gru = m->cell == TCAT_RNN_GRU;

    /* the input products of every step at once */
    gemm(false, true, B * T, GH, Din, Xl, Din, k.wih, Din, 0.0f, A, GH);
    memset(hs, 0, B * H * sizeof *hs);
    if (!gru)
        memset(aux, 0, B * H * sizeof *aux);
    for (size_t s = 0; s < S; s++) {
        size_t n = nact[s];
        const float *hp = hs + s * B * H;
        float *hn = hs + (s + 1) * B * H;
        gemm(false, true, n, GH, H, hp, H, k.whh, H, 0.0f, hh, GH);
        for (size_t i = 0; i < n; i++) {
            size_t b = perm[i], t = tok_at(d, s, len[b]);
            const float *a = A + (b * T + t) * GH, *q = hh + i * GH, *h0 = hp + i * H;
            float *g = gates + (s * B + i) * GH, *h1 = hn + i * H;
            if (gru) {
                float *qn = aux + (s * B + i) * H;
                for (size_t j = 0; j < H; j++) {
                    float r = sigm(a[j] + k.b[j] + q[j]);
                    float z = sigm(a[H + j] + k.b[H + j] + q[H + j]);
                    float u = q[2 * H + j] + k.bhn[j];
                    float nn = tanh_fast(a[2 * H + j] + k.b[2 * H + j] + r * u);
                    g[j] = r;
                    g[H + j] = z;
                    g[2 * H + j] = nn;
                    qn[j] = u;
                    h1[j] = (1.0f - z) * nn + z * h0[j];
                }
            } else {
                const float *c0 = aux + s * B * H + i * H;
                float *c1 = aux + (s + 1) * B * H + i * H;
                for (size_t j = 0; j < H; j++) {
                    float ig = sigm(a[j] + k.b[j] + q[j]);
                    float fg = sigm(a[H + j] + k.b[H + j] + q[H + j]);
                    float gg = tanh_fast(a[2 * H + j] + k.b[2 * H + j] + q[2 * H + j]);
                    float og = sigm(a[3 * H + j] + k.b[3 * H + j] + q[3 * H + j]);
                    g[j] = ig;
                    g[H + j] = fg;
                    g[2 * H + j] = gg;
                    g[3 * H + j] = og;
                    float c = fg * c0[j] + ig * gg;
                    c1[j] = c;
                    h1[j] = og * tanh_fast(c);
                }
            }
            if (y0)
                memcpy(y0 + (b * T + t) * 2 * H + d * H, h1, H * sizeof *h1);
        }
        /* finished documents: zero rows, so the dW_hh product reads zeros */
        memset(hn + n * H, 0, (B - n) * H * sizeof *hn);
        if (!gru)
            memset(aux + (s + 1) * B * H + n * H, 0, (B - n) * H * sizeof *aux);
    }
}

static tcat_status op_forward(const tcat_encoder *e, const float *theta, tcat_encoder_ws *ws,
                              const float *X, size_t B, size_t T, const size_t *len, bool train,
                              float *Hout)
{
    const rnn *m = R(e);
    const size_t H = m->hidden, GH = m->G * H, L = m->layers;
    ws->trained = false;
    if (T < 1)
        return TCAT_ERR_USAGE;
    if (B == 0) {
        ws->B = 0; /* nothing to do, backward included */
        ws->trained = train;
        return TCAT_OK;
    }
    size_t BT, S = 0;
    if (__builtin_mul_overflow(B, T, &BT) || BT > INT_MAX)
        return TCAT_ERR_USAGE;
    for (size_t b = 0; b < B; b++) {
        if (len[b] < 1 || len[b] > T)
            return TCAT_ERR_USAGE;
        if (len[b] > S)
            S = len[b];
    }
    if (!grow(&ws->w[W_LEN], B, 1, 1, sizeof(size_t)) ||
        !grow(&ws->w[W_PERM], B, 1, 1, sizeof(size_t)) ||
        !grow(&ws->w[W_NACT], S, 1, 1, sizeof(size_t)) ||
        !grow(&ws->w[W_ARG], B, 2 * H, 1, sizeof(uint32_t)) ||
        !grow(&ws->w[W_SORT], B, 1, 1, sizeof(lenidx)) ||
        !grow(&ws->w[W_A], BT, GH, 1, sizeof(float)) ||
        !grow(&ws->w[W_HH], B, GH, 1, sizeof(float)) ||
        !grow(&ws->w[W_DAHH], S, B, GH, sizeof(float)) ||
        !grow(&ws->w[W_DH], B, H, 1, sizeof(float)) || !grow(&ws->w[W_DC], B, H, 1, sizeof(float)))
        return TCAT_ERR_NOMEM;
    if (train && !grow(&ws->w[W_X], BT, m->base.in_dim, 1, sizeof(float)))
        return TCAT_ERR_NOMEM;
    if (L == 2 && (!grow(&ws->w[W_Y0], BT, 2 * H, 1, sizeof(float)) ||
                   !grow(&ws->w[W_DY0], BT, 2 * H, 1, sizeof(float))))
        return TCAT_ERR_NOMEM;
    for (size_t l = 0; l < L; l++)
        for (size_t d = 0; d < 2; d++)
            if (!grow(&ws->gates[l][d], S, B, GH, sizeof(float)) ||
                !grow(&ws->hs[l][d], S + 1, B, H, sizeof(float)) ||
                !grow(&ws->aux[l][d], m->cell == TCAT_RNN_GRU ? S : S + 1, B, H, sizeof(float)))
                return TCAT_ERR_NOMEM;
    ws->B = B;
    ws->T = T;
    ws->S = S;

    /* documents by decreasing length; nact[s] = how many have len > s */
    size_t *lens = ws->w[W_LEN].p, *perm = ws->w[W_PERM].p, *nact = ws->w[W_NACT].p;
    lenidx *li = ws->w[W_SORT].p;
    for (size_t b = 0; b < B; b++) {
        lens[b] = len[b];
        li[b].len = len[b];
        li[b].idx = b;
    }
    qsort(li, B, sizeof *li, by_len_desc);
    for (size_t i = 0; i < B; i++)
        perm[i] = li[i].idx;
    for (size_t s = 0, i = B; s < S; s++) {
        while (i > 0 && li[i - 1].len <= s)
            i--;
        nact[s] = i;
    }

    if (L == 2)
        memset(F(ws, W_Y0), 0, BT * 2 * H * sizeof(float));
    for (size_t l = 0; l < L; l++)
        for (size_t d = 0; d < 2; d++)
            run_dir(m, theta, ws, l, d, l == 0 ? X : F(ws, W_Y0));

    /* pooling over the top layer */
    uint32_t *arg = ws->w[W_ARG].p;
    for (size_t i = 0; i < B; i++) {
        size_t b = perm[i], n = len[b];
        float *out = Hout + b * 4 * H;
        float inv = 1.0f / (float)n;
        for (size_t d = 0; d < 2; d++) {
            const float *hs = ws->hs[L - 1][d].p;
            float *mx = out + d * H, *mean = out + 2 * H + d * H;
            uint32_t *am = arg + b * 2 * H + d * H;
            const float *h = hs + B * H + i * H;
            for (size_t j = 0; j < H; j++) {
                mx[j] = h[j];
                mean[j] = h[j];
                am[j] = 0;
            }
            for (size_t s = 1; s < n; s++) {
                h = hs + (s + 1) * B * H + i * H;
                for (size_t j = 0; j < H; j++) {
                    if (h[j] > mx[j]) {
                        mx[j] = h[j];
                        am[j] = (uint32_t)s;
                    }
                    mean[j] += h[j];
                }
            }
            for (size_t j = 0; j < H; j++)
                mean[j] *= inv;
        }
    }
    /* backward needs layer 1's input: the caller's X may change meanwhile */
    if (train)
        memcpy(ws->w[W_X].p, X, BT * m->base.in_dim * sizeof(float));
    ws->trained = train;
    return TCAT_OK;
}

/* ---- backward ------------------------------------------------------------------ */

/* Backpropagation through one direction d of layer l. The gradient of its
 * states comes from the pooling (top layer, dH) or from dY0 (layer 1 of
 * 2). Adds to the block's gradient; writes dXl (beta: 0 overwrites,
 * 1 adds) when dXl is not NULL. */
static void back_dir(const rnn *m, const float *theta, tcat_encoder_ws *ws, size_t l, size_t d,
                     const float *Xl, const float *dH, float *dXl, float beta, float *dtheta)
{
    const size_t H = m->hidden, G = m->G, GH = G * H, B = ws->B, T = ws->T, S = ws->S;
    const size_t Din = in_of(m, l);
    const bool gru = m->cell == TCAT_RNN_GRU, top = l + 1 == m->layers;
    const size_t *len = ws->w[W_LEN].p, *perm = ws->w[W_PERM].p, *nact = ws->w[W_NACT].p;
    const uint32_t *arg = ws->w[W_ARG].p;
    blk k = block_of(m, theta, l, d), gk = block_of(m, dtheta, l, d);
    float *dA = F(ws, W_A), *dAhh = F(ws, W_DAHH), *dh = F(ws, W_DH), *dc = F(ws, W_DC);
    const float *dy0 = F(ws, W_DY0);
    const float *gates = ws->gates[l][d].p, *aux = ws->aux[l][d].p, *hs = ws->hs[l][d].p;

    memset(dA, 0, B * T * GH * sizeof *dA);
    memset(dAhh, 0, S * B * GH * sizeof *dAhh);
    memset(dh, 0, B * H * sizeof *dh);
    memset(dc, 0, B * H * sizeof *dc);
    for (size_t s = S; s-- > 0;) {
        size_t n = nact[s];
        for (size_t i = 0; i < n; i++) {
            size_t b = perm[i], t = tok_at(d, s, len[b]);
            float *dhi = dh + i * H, *da = dA + (b * T + t) * GH, *dq = dAhh + (s * B + i) * GH;
            const float *g = gates + (s * B + i) * GH, *h0 = hs + s * B * H + i * H;
            /* the gradient reaching h_s: from the step after, plus outside */
            if (top) {
                const float *dmax = dH + b * 4 * H + d * H, *dmean = dH + b * 4 * H + 2 * H + d * H;
                const uint32_t *am = arg + b * 2 * H + d * H;
                float inv = 1.0f / (float)len[b];
                for (size_t j = 0; j < H; j++)
                    dhi[j] += dmean[j] * inv + (am[j] == s ? dmax[j] : 0.0f);
            } else {
                const float *dy = dy0 + (b * T + t) * 2 * H + d * H;
                for (size_t j = 0; j < H; j++)
                    dhi[j] += dy[j];
            }
            if (gru) {
                const float *u = aux + (s * B + i) * H;
                for (size_t j = 0; j < H; j++) {
                    float r = g[j], z = g[H + j], nn = g[2 * H + j], gh = dhi[j];
                    float dpn = gh * (1.0f - z) * (1.0f - nn * nn);
                    float dpz = gh * (h0[j] - nn) * z * (1.0f - z);
                    float dpr = dpn * u[j] * r * (1.0f - r);
                    da[j] = dq[j] = dpr;
                    da[H + j] = dq[H + j] = dpz;
                    da[2 * H + j] = dpn;
                    dq[2 * H + j] = dpn * r;
                    dhi[j] = gh * z; /* the direct path; W_hh's part added below */
                }
            } else {
                const float *c0 = aux + s * B * H + i * H, *c1 = aux + (s + 1) * B * H + i * H;
                float *dci = dc + i * H;
                for (size_t j = 0; j < H; j++) {
                    float ig = g[j], fg = g[H + j], gg = g[2 * H + j], og = g[3 * H + j];
                    float tc = tanh_fast(c1[j]);
                    float dcc = dci[j] + dhi[j] * og * (1.0f - tc * tc);
                    float dpi = dcc * gg * ig * (1.0f - ig);
                    float dpf = dcc * c0[j] * fg * (1.0f - fg);
                    float dpg = dcc * ig * (1.0f - gg * gg);
                    float dpo = dhi[j] * tc * og * (1.0f - og);
                    da[j] = dq[j] = dpi;
                    da[H + j] = dq[H + j] = dpf;
                    da[2 * H + j] = dq[2 * H + j] = dpg;
                    da[3 * H + j] = dq[3 * H + j] = dpo;
                    dci[j] = dcc * fg;
                    dhi[j] = 0.0f;
                }
            }
        }
        /* dh of step s-1 (h_{-1} = 0 needs none) */
        if (s > 0)
            gemm(false, false, n, H, GH, dAhh + s * B * GH, GH, k.whh, H, 1.0f, dh, H);
    }
    /* the weights: one product each over every step */
    gemm(true, false, GH, H, S * B, dAhh, GH, hs, H, 1.0f, gk.whh, H);
    gemm(true, false, GH, Din, B * T, dA, GH, Xl, Din, 1.0f, gk.wih, Din);
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < len[b]; t++) {
            const float *da = dA + (b * T + t) * GH;
            for (size_t j = 0; j < GH; j++)
                gk.b[j] += da[j];
        }
    if (gru)
        for (size_t s = 0; s < S; s++)
            for (size_t i = 0; i < nact[s]; i++) {
                const float *dq = dAhh + (s * B + i) * GH + 2 * H;
                for (size_t j = 0; j < H; j++)
                    gk.bhn[j] += dq[j];
            }
    if (dXl)
        gemm(false, false, B * T, Din, GH, dA, GH, k.wih, Din, beta, dXl, Din);
}

static tcat_status op_backward(const tcat_encoder *e, const float *theta, tcat_encoder_ws *ws,
                               const float *dH, float *dX, float *dtheta)
{
    const rnn *m = R(e);
    if (!ws->trained || ws->e != m)
        return TCAT_ERR_USAGE;
    const size_t L = m->layers, D = m->base.in_dim, B = ws->B, T = ws->T;
    if (B == 0)
        return TCAT_OK;
    if (L == 2) {
        for (size_t d = 0; d < 2; d++)
            back_dir(m, theta, ws, 1, d, F(ws, W_Y0), dH, F(ws, W_DY0), d ? 1.0f : 0.0f, dtheta);
    }
    for (size_t d = 0; d < 2; d++)
        back_dir(m, theta, ws, 0, d, F(ws, W_X), dH, dX, d ? 1.0f : 0.0f, dtheta);
    if (dX) {
        /* padding rows: exactly zero whatever the products gave */
        const size_t *len = ws->w[W_LEN].p;
        for (size_t b = 0; b < B; b++)
            memset(dX + (b * T + len[b]) * D, 0, (T - len[b]) * D * sizeof *dX);
    }
    return TCAT_OK;
}

/* ---- object ---------------------------------------------------------------------- */

static void op_destroy(tcat_encoder *e) { free(e); }

#define RNN_OPS(nm)                                                                                \
    {                                                                                              \
        .name = nm, .nparams = op_nparams, .out_dim = op_out_dim, .min_len = op_min_len,           \
        .init = op_init, .ws_new = op_ws_new, .ws_free = op_ws_free, .forward = op_forward,        \
        .backward = op_backward, .destroy = op_destroy                                             \
    }

static const tcat_encoder_ops gru_ops = RNN_OPS("gru");
static const tcat_encoder_ops lstm_ops = RNN_OPS("lstm");

tcat_status tcat_rnn_new(tcat_encoder **out, size_t in_dim, tcat_rnn_cell cell, size_t hidden,
                         size_t layers, tcat_error *err)
{
    *out = NULL;
    if (cell != TCAT_RNN_GRU && cell != TCAT_RNN_LSTM)
        return tcat_fail(err, TCAT_ERR_USAGE, "recurrent encoder: unknown cell %d", (int)cell);
    if (in_dim == 0 || in_dim > INT_MAX)
        return tcat_fail(err, TCAT_ERR_USAGE,
                         "recurrent encoder: input dimension %zu is not in 1..%d", in_dim, INT_MAX);
    if (hidden == 0 || hidden > TCAT_RNN_MAX_HIDDEN)
        return tcat_fail(err, TCAT_ERR_USAGE, "recurrent encoder: hidden size %zu is not in 1..%d",
                         hidden, TCAT_RNN_MAX_HIDDEN);
    if (layers != 1 && layers != 2)
        return tcat_fail(err, TCAT_ERR_USAGE, "recurrent encoder: %zu layers (1 or 2 only)",
                         layers);
    rnn *m = calloc(1, sizeof *m);
    if (!m)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    m->base.ops = cell == TCAT_RNN_GRU ? &gru_ops : &lstm_ops;
    m->base.in_dim = in_dim;
    m->cell = cell;
    m->hidden = hidden;
    m->layers = layers;
    m->G = cell == TCAT_RNN_GRU ? 3 : 4;
    size_t total = 0;
    for (size_t l = 0; l < layers; l++)
        for (size_t d = 0; d < 2; d++) {
            m->off[l][d] = total;
            size_t bs;
            if (__builtin_mul_overflow(m->G * hidden, in_dim, &bs) || bs > INT_MAX ||
                __builtin_add_overflow(total, block_size(m, l), &total) ||
                total > SIZE_MAX / sizeof(float)) {
                free(m);
                return tcat_fail(err, TCAT_ERR_USAGE,
                                 "recurrent encoder: input dimension %zu is too large", in_dim);
            }
        }
    m->nparams = total;
    *out = &m->base;
    return TCAT_OK;
}
