/*
 * embeddings/conv.h — the convolutional sentence encoder of Kim (2014),
 * "Convolutional Neural Networks for Sentence Classification": filters
 * of a few widths slide over the embedded tokens of a document, each
 * filter's ReLU response is max-pooled over time, and the pooled values
 * of all filters are the document's feature vector. A tcat_encoder
 * (embeddings/encoder.h):
 *
 *     static const size_t widths[] = {3, 4, 5};
 *     tcat_encoder *e = NULL;
 *     if (tcat_conv_new(&e, 300, widths, 3, 100, &err) != TCAT_OK) ...
 *     // nparams = 100 x (3+4+5) x 300 + 3 x 100, out_dim = 300, min_len = 5
 *
 * ---- what it computes ------------------------------------------------------
 *
 * D = in_dim, n = nwidths, m = maps; X is the padded batch of encoder.h
 * (row b*T + t the embedding of token t of document b, zero past len[b]).
 * For the i-th width w = widths[i] and each map j < m:
 *
 *   s[b,p,j]  = sum_{k<w} X[b*T + p + k] . W_i[j,k,:]          (a window)
 *   H[b, i*m + j] = relu(bias_i[j] + max_{p < npos(b)} s[b,p,j])
 *   npos(b)   = max(len[b], w) - w + 1
 *
 * i.e. max over time of relu(bias + s), since relu is monotone. A
 * document shorter than w has one window, over its tokens and the zero
 * padding after them (T >= min_len() = the largest width guarantees the
 * rows exist). Windows never cross into the next document. out_dim() is
 * n x m, the maps of widths[0] first.
 *
 * Gradient: only the window that won the max (the first position p with
 * the largest s when several tie) carries gradient, and only when the
 * pooled pre-activation bias + s is > 0. At exactly 0 (and below) relu's
 * slope is taken as 0: H is 0 and nothing flows to W, bias or X for that
 * (document, map). dX rows of padding get 0, also when a short document's
 * window spans them.
 *
 * ---- theta layout -----------------------------------------------------------
 *
 * One block per width, in the order of widths[]:
 *
 *   W_i     m x (w*D) floats, row-major: filter j is the row of w*D floats
 *           W_i[j, k*D + d] (token k of the window, then the dimension d),
 *   bias_i  m floats,
 *
 * so block i starts at sum_{i' < i} m*(w_i'*D + 1) and nparams() =
 * m x (sum of widths x D + n).
 *
 * ---- init --------------------------------------------------------------------
 *
 * W_i uniform in [-a, a), a = (TCAT_CONV_ROW_RMS / in_rms) / sqrt(fan_in)
 * with fan_in = w*D: for rows of Kim's random scale (uniform in [-0.25,
 * 0.25), RMS 0.25/sqrt(3) = TCAT_CONV_ROW_RMS) PyTorch's default for a
 * convolution, and for rows of another scale (in-domain skip-gram vectors,
 * RMS about 0.06) as much larger as the rows are smaller, so the filters'
 * first responses have the same scale (see conv.c for the measurements);
 * the factor TCAT_CONV_ROW_RMS / in_rms is held to [1/16, 16], and is 1
 * when in_rms is 0 (unknown); drawn block after block with
 * tcat_tensor_uniform; biases 0.
 *
 * ---- shapes and cost ---------------------------------------------------------
 *
 * forward: per width, w accumulated sgemms over shifted row blocks of X,
 *   Y[r] += X[r + k] W_i[:,k,:]^T (m outputs per row), then a max over the
 *   positions of each document. Consecutive documents are handed to one
 *   sgemm; a document whose padding would waste 8 or more rows ends a run
 *   (so batches of uneven lengths skip most of their padding). Cost
 *   about B*T*D*m*(sum of widths) multiply-adds, all in OpenBLAS.
 * backward: only the B*n*m winning windows carry gradient, and a window is
 *   w*D contiguous floats of X (rows are consecutive), so each (document,
 *   map) adds dH x window to filter j (dW) and dH x filter j to the window
 *   of dX: two saxpys of w*D floats. Cost B*m*D*(sum of widths) x 2 —
 *   about T times less than the forward pass. Measured at B=50, T=60,
 *   D=300, widths 3,4,5, m=100: 3 ms against 37 ms for the dense sgemms
 *   over an all-but-empty dY, and 21-33 ms for gathering the distinct
 *   winning windows into one matrix (one sgemm each for dW and dX); the
 *   forward pass takes 19 ms.
 * workspace: a copy of X (B*T*D floats, so the caller may reuse X before
 *   backward; not kept when train is false), the responses of one width
 *   (B*T*m floats), the winning positions (B*n*m) and len (B). It grows
 *   to the largest batch seen and is never shrunk before ws_free. A
 *   forward pass with train false leaves what backward needs untouched,
 *   so evaluation may run between a training forward and its backward.
 *
 * forward returns TCAT_ERR_USAGE when T < min_len(), a len[b] is not in
 * 1..T, or B*T does not fit an int (OpenBLAS's index); backward returns it
 * when no forward(train = true) has run on ws or the last one failed.
 * Timings above: one core of an AMD EPYC (AVX-512), Debian's serial
 * OpenBLAS 0.3.21.
 */
#ifndef TCAT_EMBEDDINGS_CONV_H
#define TCAT_EMBEDDINGS_CONV_H

#include <stddef.h>

#include "core/status.h"
#include "embeddings/encoder.h"

#define TCAT_CONV_MAX_WIDTHS 8
#define TCAT_CONV_MAX_WIDTH 32
#define TCAT_CONV_MAX_MAPS 4096
/* The RMS of Kim's random rows, uniform in [-0.25, 0.25): 0.25 / sqrt(3). */
#define TCAT_CONV_ROW_RMS 0.14433756729740643

/* A convolutional encoder over in_dim-dimensional inputs with nwidths
 * filter widths (copied) and maps filters per width. TCAT_ERR_USAGE for
 * in_dim 0, nwidths 0 or over TCAT_CONV_MAX_WIDTHS, a width 0 or over
 * TCAT_CONV_MAX_WIDTH, maps 0 or over TCAT_CONV_MAX_MAPS, or a shape too
 * large to index; TCAT_ERR_NOMEM. Free with tcat_encoder_free. */
tcat_status tcat_conv_new(tcat_encoder **out, size_t in_dim, const size_t *widths,
                          size_t nwidths, size_t maps, tcat_error *err);

#endif
