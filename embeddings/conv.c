/*
 * embeddings/conv.c — the convolutional sentence encoder (Kim 2014). See
 * conv.h for what is computed, the theta layout and the costs.
 */
#include "embeddings/conv.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "embeddings/tensor.h"

/* A document whose padding would make an sgemm compute this many useless
 * rows or more starts a new sgemm for the next document (conv.h). */
#define RUN_GAP 8

#define NO_POS UINT32_MAX /* pooled pre-activation <= 0: no gradient */

typedef struct conv {
    tcat_encoder base;
    size_t nwidths, maps, maxw;
    size_t widths[TCAT_CONV_MAX_WIDTHS];
    size_t off[TCAT_CONV_MAX_WIDTHS]; /* start of width i's block in theta */
    size_t nparams;
} conv;

struct tcat_encoder_ws {
    float *X;        /* copy of the batch (train) */
    size_t X_cap;
    float *Y;        /* window sums of one width, B*T x maps */
    size_t Y_cap;
    uint32_t *pos;   /* winning position, B x out_dim, or NO_POS */
    size_t pos_cap;
    size_t *len;
    size_t len_cap;
    size_t B, T;
    bool ready;      /* a forward(train = true) filled X, pos, len */
};

static const conv *as_conv(const tcat_encoder *e) { return (const conv *)e; }

/* Width i's filters and biases in theta (or a gradient of that layout). */
static inline size_t w_off(const conv *c, size_t i) { return c->off[i]; }
static inline size_t b_off(const conv *c, size_t i)
{
    return c->off[i] + c->maps * c->widths[i] * c->base.in_dim;
}

static size_t conv_nparams(const tcat_encoder *e) { return as_conv(e)->nparams; }

static size_t conv_out_dim(const tcat_encoder *e)
{
    return as_conv(e)->nwidths * as_conv(e)->maps;
}

static size_t conv_min_len(const tcat_encoder *e) { return as_conv(e)->maxw; }

static void conv_init(const tcat_encoder *e, float *theta, float in_rms, tcat_rng *r)
{
    const conv *c = as_conv(e);
    const size_t D = c->base.in_dim, m = c->maps;
    /* For Kim's random rows this is PyTorch's default for a convolution,
     * U(+-1/sqrt(fan_in)). The Glorot bound sqrt(6/(fan_in+maps)) is about
     * twice as large here (maps is small beside w*D), and under Adadelta,
     * whose first steps are small whatever the scale, the larger start
     * cost CNN-rand about a point on TREC (89.4 against 90.4 over 5
     * seeds). Rows of another scale (skip-gram's are about 0.06) scale the
     * bound inversely, so the filters' first responses are as large: with
     * skip-gram rows and the unscaled bound, TREC fell to 80.2 (seed 1).
     * The ratio is taken in float, so Kim's rows give 1 exactly, and held
     * to [1/16, 16] against degenerate vectors (all but zero). */
    double scale = in_rms > 0 ? (double)((float)TCAT_CONV_ROW_RMS / in_rms) : 1.0;
    scale = scale < 1.0 / 16 ? 1.0 / 16 : scale > 16 ? 16 : scale;
    for (size_t i = 0; i < c->nwidths; i++) {
        size_t fan_in = c->widths[i] * D;
        float a = (float)(scale / sqrt((double)fan_in));
        tcat_tensor W;
        tcat_tensor_view(&W, theta + w_off(c, i), m, fan_in);
        tcat_tensor_uniform(&W, a, r);
        memset(theta + b_off(c, i), 0, m * sizeof(float));
    }
}

static tcat_status conv_ws_new(const tcat_encoder *e, tcat_encoder_ws **ws)
{
    (void)e;
    *ws = calloc(1, sizeof **ws);
    return *ws ? TCAT_OK : TCAT_ERR_NOMEM;
}

static void conv_ws_free(tcat_encoder_ws *ws)
{
    if (!ws)
        return;
    free(ws->X);
    free(ws->Y);
    free(ws->pos);
    free(ws->len);
    free(ws);
}

/* Makes *p hold at least n elements of size sz (contents not kept). */
static bool grow(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap)
        return true;
    if (n > SIZE_MAX / sz)
        return false;
    void *q = realloc(*p, n * sz);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

static inline size_t npos(size_t len, size_t w) { return (len > w ? len : w) - w + 1; }

/* ws->Y rows b*T + p (p < npos(b)) = the window sums of width i. */
static void window_sums(const conv *c, const float *theta, const float *X, size_t B, size_t T,
                        const size_t *len, size_t i, float *Y)
{
    const size_t D = c->base.in_dim, m = c->maps, w = c->widths[i];
    const float *W = theta + w_off(c, i);
    size_t b0 = 0;
    while (b0 < B) {
        /* a run of documents b0..b1 handed to one sgemm per shift */
        size_t b1 = b0;
        while (b1 + 1 < B && T - npos(len[b1], w) < RUN_GAP)
            b1++;
        size_t rows = (b1 - b0) * T + npos(len[b1], w);
        for (size_t k = 0; k < w; k++)
            tcat_sgemm(false, true, rows, m, D, 1.0f, X + (b0 * T + k) * D, D, W + k * D, w * D,
                       k ? 1.0f : 0.0f, Y + b0 * T * m, m);
        b0 = b1 + 1;
    }
}

static tcat_status conv_forward(const tcat_encoder *e, const float *theta, tcat_encoder_ws *ws,
                                const float *X, size_t B, size_t T, const size_t *len, bool train,
                                float *H)
{
    const conv *c = as_conv(e);
    const size_t D = c->base.in_dim, m = c->maps, out = c->nwidths * m;
    if (train)
        ws->ready = false;
    if (T < c->maxw || (B && T > (size_t)INT_MAX / B) || T >= NO_POS)
        return TCAT_ERR_USAGE;
    for (size_t b = 0; b < B; b++)
        if (len[b] < 1 || len[b] > T)
            return TCAT_ERR_USAGE;
    if (B == 0) {
        ws->B = 0;
        ws->T = T;
        ws->ready = train;
        return TCAT_OK;
    }
    const size_t rows = B * T;
    if (!grow((void **)&ws->Y, &ws->Y_cap, rows * m, sizeof(float)))
        return TCAT_ERR_NOMEM;
    if (train) {
        if (!grow((void **)&ws->pos, &ws->pos_cap, B * out, sizeof(uint32_t)) ||
            !grow((void **)&ws->len, &ws->len_cap, B, sizeof(size_t)) ||
            !grow((void **)&ws->X, &ws->X_cap, rows * D, sizeof(float)))
            return TCAT_ERR_NOMEM;
        memcpy(ws->X, X, rows * D * sizeof(float));
        memcpy(ws->len, len, B * sizeof(size_t));
    }
    float *Y = ws->Y;
    for (size_t i = 0; i < c->nwidths; i++) {
        const size_t w = c->widths[i];
        const float *bias = theta + b_off(c, i);
        window_sums(c, theta, X, B, T, len, i, Y);
        for (size_t b = 0; b < B; b++) {
            /* running max over positions, rows contiguous over the maps;
             * only train tracks (and overwrites) the winning positions */
            float *h = H + b * out + i * m;
            const float *y = Y + b * T * m;
            const size_t np = npos(len[b], w);
            memcpy(h, y, m * sizeof(float));
            if (train) {
                uint32_t *pos = ws->pos + b * out + i * m;
                memset(pos, 0, m * sizeof(uint32_t));
                for (size_t p = 1; p < np; p++) {
                    const float *yp = y + p * m;
                    for (size_t j = 0; j < m; j++)
                        if (yp[j] > h[j]) {
                            h[j] = yp[j];
                            pos[j] = (uint32_t)p;
                        }
                }
                for (size_t j = 0; j < m; j++)
                    if (!(h[j] + bias[j] > 0))
                        pos[j] = NO_POS;
            } else {
                for (size_t p = 1; p < np; p++) {
                    const float *yp = y + p * m;
                    for (size_t j = 0; j < m; j++)
                        h[j] = yp[j] > h[j] ? yp[j] : h[j];
                }
            }
            for (size_t j = 0; j < m; j++) {
                float z = h[j] + bias[j];
                h[j] = z > 0 ? z : 0;
            }
        }
    }
    if (train) {
        ws->B = B;
        ws->T = T;
        ws->ready = true;
    }
    return TCAT_OK;
}

static tcat_status conv_backward(const tcat_encoder *e, const float *theta, tcat_encoder_ws *ws,
                                 const float *dH, float *dX, float *dtheta)
{
    const conv *c = as_conv(e);
    if (!ws->ready)
        return TCAT_ERR_USAGE;
    const size_t D = c->base.in_dim, m = c->maps, out = c->nwidths * m;
    const size_t B = ws->B, T = ws->T;
    if (dX)
        memset(dX, 0, B * T * D * sizeof(float));
    for (size_t i = 0; i < c->nwidths; i++) {
        const size_t w = c->widths[i], fan_in = w * D;
        const float *W = theta + w_off(c, i);
        float *dW = dtheta + w_off(c, i), *dbias = dtheta + b_off(c, i);
        for (size_t b = 0; b < B; b++) {
            const uint32_t *pos = ws->pos + b * out + i * m;
            const float *g = dH + b * out + i * m;
            for (size_t j = 0; j < m; j++) {
                if (pos[j] == NO_POS || g[j] == 0)
                    continue;
                const size_t p = pos[j], r = b * T + p;
                dbias[j] += g[j];
                /* the window's padding rows are zero: no dW from them */
                cblas_saxpy((int)fan_in, g[j], ws->X + r * D, 1, dW + j * fan_in, 1);
                if (dX) {
                    /* rows past the document's end are padding: they get 0 */
                    size_t real = ws->len[b] - p < w ? ws->len[b] - p : w;
                    cblas_saxpy((int)(real * D), g[j], W + j * fan_in, 1, dX + r * D, 1);
                }
            }
        }
    }
    return TCAT_OK;
}

static void conv_destroy(tcat_encoder *e) { free(e); }

static const tcat_encoder_ops conv_ops = {
    .name = "conv",
    .nparams = conv_nparams,
    .out_dim = conv_out_dim,
    .min_len = conv_min_len,
    .init = conv_init,
    .ws_new = conv_ws_new,
    .ws_free = conv_ws_free,
    .forward = conv_forward,
    .backward = conv_backward,
    .destroy = conv_destroy,
};

tcat_status tcat_conv_new(tcat_encoder **out, size_t in_dim, const size_t *widths,
                          size_t nwidths, size_t maps, tcat_error *err)
{
    *out = NULL;
    if (in_dim == 0)
        return tcat_fail(err, TCAT_ERR_USAGE, "conv: the input dimension is 0");
    if (nwidths < 1 || nwidths > TCAT_CONV_MAX_WIDTHS)
        return tcat_fail(err, TCAT_ERR_USAGE, "conv: %zu filter widths, not in 1..%d", nwidths,
                         TCAT_CONV_MAX_WIDTHS);
    if (maps < 1 || maps > TCAT_CONV_MAX_MAPS)
        return tcat_fail(err, TCAT_ERR_USAGE, "conv: %zu feature maps, not in 1..%d", maps,
                         TCAT_CONV_MAX_MAPS);
    size_t maxw = 0, sumw = 0;
    for (size_t i = 0; i < nwidths; i++) {
        if (widths[i] < 1 || widths[i] > TCAT_CONV_MAX_WIDTH)
            return tcat_fail(err, TCAT_ERR_USAGE, "conv: filter width %zu is not in 1..%d",
                             widths[i], TCAT_CONV_MAX_WIDTH);
        maxw = widths[i] > maxw ? widths[i] : maxw;
        sumw += widths[i];
    }
    /* every count handed to OpenBLAS is an int; nparams must fit size_t */
    if (in_dim > (size_t)INT_MAX / TCAT_CONV_MAX_WIDTH ||
        in_dim > (SIZE_MAX / 2) / (sumw * maps))
        return tcat_fail(err, TCAT_ERR_USAGE, "conv: input dimension %zu is too large", in_dim);
    conv *c = calloc(1, sizeof *c);
    if (!c)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    c->base.ops = &conv_ops;
    c->base.in_dim = in_dim;
    c->nwidths = nwidths;
    c->maps = maps;
    c->maxw = maxw;
    size_t off = 0;
    for (size_t i = 0; i < nwidths; i++) {
        c->widths[i] = widths[i];
        c->off[i] = off;
        off += maps * (widths[i] * in_dim + 1);
    }
    c->nparams = off;
    *out = &c->base;
    return TCAT_OK;
}
