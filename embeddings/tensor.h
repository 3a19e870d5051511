/*
 * embeddings/tensor.h — float32 matrices and the few operations on them.
 *
 * A tensor here is a row-major matrix of floats, rows x cols, in one
 * 64-byte-aligned block (so rows can be handed to SIMD code and a model
 * file can map them in place). Matrix products go through OpenBLAS
 * (cblas_sgemm, cblas_sgemv): no hand-written GEMM.
 *
 *     tcat_tensor E;
 *     tcat_tensor_init(&E, nrows, dim);       // zeroed
 *     tcat_tensor_uniform(&E, 1.0f / dim, &rng);
 *     float *row = tcat_tensor_row(&E, i);
 *     tcat_tensor_free(&E);
 *
 * A tensor may also be a view of memory it does not own (a mapped model
 * file): tcat_tensor_view; freeing a view frees nothing.
 */
#ifndef TCAT_EMBEDDINGS_TENSOR_H
#define TCAT_EMBEDDINGS_TENSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rng.h"
#include "core/status.h"

typedef struct tcat_tensor {
    float *data;
    size_t rows, cols;
    bool own;
    void *block;  /* what to free when owned (data is aligned inside it) */
} tcat_tensor;

/* A zeroed rows x cols tensor. TCAT_ERR_NOMEM (also on size overflow).
 * Zeroed by calloc: a big tensor's pages stay untouched (and cost
 * neither time nor memory) until written, so a table of two million
 * hashed buckets that a small corpus barely touches is nearly free. */
tcat_status tcat_tensor_init(tcat_tensor *t, size_t rows, size_t cols);

/* Bytes of memory a tcat_tensor_init'ed rows x cols tensor takes once
 * `touched` of its rows, spread at random (hashed buckets), have been
 * written: the pages holding them, expected count P (1 - e^(-touched/P))
 * of its P pages. For memory estimates. */
size_t tcat_tensor_resident(size_t rows, size_t cols, size_t touched);

/* The same without zeroing, for a tensor about to be filled whole (the
 * values are undefined until then). */
tcat_status tcat_tensor_alloc(tcat_tensor *t, size_t rows, size_t cols);

/* A tensor over data it does not own (not copied, not freed). */
void tcat_tensor_view(tcat_tensor *t, float *data, size_t rows, size_t cols);

void tcat_tensor_free(tcat_tensor *t);

/* Every element uniform in [-a, a), at 24-bit resolution. */
void tcat_tensor_uniform(tcat_tensor *t, float a, tcat_rng *r);

static inline float *tcat_tensor_row(const tcat_tensor *t, size_t i)
{
    return t->data + i * t->cols;
}

/* C (M x N) = alpha op(A) op(B) + beta C on row-major arrays with leading
 * dimensions lda, ldb, ldc: cblas_sgemm, called under one process-wide
 * lock. Debian's serial OpenBLAS (the build tcat links, see the Makefile)
 * is compiled without USE_LOCKING: two threads in sgemm at once share its
 * packing buffers and get wrong products (measured: up to 1e-3 of the
 * results wrong with 2 threads). Every sgemm of tcat goes through here. */
void tcat_sgemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, float alpha,
                const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                size_t ldc);

/* C (m x n) = alpha * op(A) op(B) + beta * C, op transposing when trans_*.
 * tcat_sgemm with the shapes checked by assert. */
void tcat_gemm(bool trans_a, bool trans_b, float alpha, const tcat_tensor *A,
               const tcat_tensor *B, float beta, tcat_tensor *C);

/* y (m) = alpha * A x + beta * y (A: m x n), or with A transposed
 * (y has n entries, x m) when trans. cblas_sgemv. */
void tcat_gemv(bool trans, float alpha, const tcat_tensor *A, const float *x, float beta,
               float *y);

/* y += alpha * x over n floats (cblas_saxpy). */
void tcat_axpy(size_t n, float alpha, const float *x, float *y);

/* The dot product of n floats (cblas_sdot). */
float tcat_dot(size_t n, const float *x, const float *y);

/* The index of the largest of v[0..n) (the first of equals; 0 when n
 * is 0): a class from scores or probabilities. */
static inline size_t tcat_argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t k = 1; k < n; k++)
        if (v[k] > v[best])
            best = k;
    return best;
}

/* In place: v <- softmax(v) over n entries (numerically stable). */
void tcat_softmax(float *v, size_t n);

#endif
