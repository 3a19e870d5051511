#include "embeddings/tensor.h"

#include <assert.h>
#include <cblas.h>
#include <pthread.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

tcat_status tcat_tensor_alloc(tcat_tensor *t, size_t rows, size_t cols)
{
    memset(t, 0, sizeof *t);
    if (cols && rows > SIZE_MAX / sizeof(float) / cols)
        return TCAT_ERR_NOMEM;
    size_t bytes = (rows * cols * sizeof(float) + 63) / 64 * 64;
    float *d = aligned_alloc(64, bytes ? bytes : 64);
    if (!d)
        return TCAT_ERR_NOMEM;
    t->data = d;
    t->block = d;
    t->rows = rows;
    t->cols = cols;
    t->own = true;
    return TCAT_OK;
}

tcat_status tcat_tensor_init(tcat_tensor *t, size_t rows, size_t cols)
{
    memset(t, 0, sizeof *t);
    if (cols && rows > SIZE_MAX / sizeof(float) / cols)
        return TCAT_ERR_NOMEM;
    size_t bytes = rows * cols * sizeof(float);
    if (bytes > SIZE_MAX - 64)
        return TCAT_ERR_NOMEM;
    /* calloc, not aligned_alloc + memset: fresh mmap'd pages are zero
     * already and stay untouched; aligned by hand */
    void *block = calloc(1, bytes + 64);
    if (!block)
        return TCAT_ERR_NOMEM;
    t->data = (float *)(((uintptr_t)block + 63) & ~(uintptr_t)63);
    t->block = block;
    t->rows = rows;
    t->cols = cols;
    t->own = true;
    return TCAT_OK;
}

void tcat_tensor_view(tcat_tensor *t, float *data, size_t rows, size_t cols)
{
    t->data = data;
    t->rows = rows;
    t->cols = cols;
    t->own = false;
}

size_t tcat_tensor_resident(size_t rows, size_t cols, size_t touched)
{
    const double page = 4096;
    double bytes = (double)rows * (double)cols * sizeof(float);
    double pages = ceil(bytes / page);
    if (pages <= 0)
        return 0;
    /* a row wider than a page touches all its pages */
    double per_row = fmax(1.0, (double)cols * sizeof(float) / page);
    double hit = pages * (1 - exp(-(double)touched * per_row / pages));
    return (size_t)fmin(bytes, hit * page);
}

void tcat_tensor_free(tcat_tensor *t)
{
    if (t->own)
        free(t->block);
    memset(t, 0, sizeof *t);
}

void tcat_tensor_uniform(tcat_tensor *t, float a, tcat_rng *r)
{
    /* two floats from each 64-bit draw, 24 random bits each: a model with
     * two million hashed buckets initialises 200 million of them */
    size_t n = t->rows * t->cols, i = 0;
    const float scale = 2.0f * a / 16777216.0f;
    for (; i + 1 < n; i += 2) {
        uint64_t x = tcat_rng_next(r);
        t->data[i] = (float)(x >> 40) * scale - a;
        t->data[i + 1] = (float)((x >> 16) & 0xFFFFFF) * scale - a;
    }
    if (i < n)
        t->data[i] = (float)(tcat_rng_next(r) >> 40) * scale - a;
}

void tcat_gemm(bool trans_a, bool trans_b, float alpha, const tcat_tensor *A,
               const tcat_tensor *B, float beta, tcat_tensor *C)
{
    size_t m = trans_a ? A->cols : A->rows, k = trans_a ? A->rows : A->cols;
    size_t kb = trans_b ? B->cols : B->rows, n = trans_b ? B->rows : B->cols;
    assert(k == kb && C->rows == m && C->cols == n);
    (void)kb;
    tcat_sgemm(trans_a, trans_b, m, n, k, alpha, A->data, A->cols, B->data, B->cols, beta,
               C->data, C->cols);
}

static pthread_mutex_t sgemm_lock = PTHREAD_MUTEX_INITIALIZER;

void tcat_sgemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, float alpha,
                const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                size_t ldc)
{
    if (M == 0 || N == 0)
        return;
    pthread_mutex_lock(&sgemm_lock);
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, alpha, A, (int)lda,
                B, (int)ldb, beta, C, (int)ldc);
    pthread_mutex_unlock(&sgemm_lock);
}

void tcat_gemv(bool trans, float alpha, const tcat_tensor *A, const float *x, float beta,
               float *y)
{
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, (int)A->rows, (int)A->cols,
                alpha, A->data, (int)A->cols, x, 1, beta, y, 1);
}

void tcat_axpy(size_t n, float alpha, const float *x, float *y)
{
    cblas_saxpy((int)n, alpha, x, 1, y, 1);
}

float tcat_dot(size_t n, const float *x, const float *y) { return cblas_sdot((int)n, x, 1, y, 1); }

void tcat_softmax(float *v, size_t n)
{
    float mx = v[0];
    for (size_t i = 1; i < n; i++)
        if (v[i] > mx)
            mx = v[i];
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = expf(v[i] - mx);
        sum += v[i];
    }
    float inv = (float)(1.0 / sum);
    for (size_t i = 0; i < n; i++)
        v[i] *= inv;
}
