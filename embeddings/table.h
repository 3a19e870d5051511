/*
 * embeddings/table.h — embedding tables: rows of a tensor looked up by id.
 *
 * A table is a tcat_tensor (rows x dim, embeddings/tensor.h); ids index
 * its rows (word ids from embeddings/wordids.h, then hashed buckets as in
 * embeddings/hashing.h, laid out by each family). Three ways in:
 *
 *   bag      the sum or mean of some rows (fastText's input layer);
 *            its gradient goes back to those rows by tcat_emb_bag_add.
 *   gather   rows copied into a batch matrix, one per position, zeros for
 *            TCAT_EMB_PAD (the input of the CNN and recurrent encoders);
 *            its gradient is collected by a tcat_emb_grad.
 *   sparse gradient  tcat_emb_grad holds the gradient of only the rows a
 *            batch touched (row list in first-touch order, so reductions
 *            over threads are deterministic); an optimiser
 *            (embeddings/optim.h) then updates just those rows.
 */
#ifndef TCAT_EMBEDDINGS_TABLE_H
#define TCAT_EMBEDDINGS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "embeddings/tensor.h"

#define TCAT_EMB_PAD UINT32_MAX /* a padding position: a zero row */

/* out (dim) = the sum of rows ids[0..n) of E, divided by n when mean
 * (n = 0 gives zeros). */
void tcat_emb_bag(const tcat_tensor *E, const uint32_t *ids, size_t n, bool mean, float *out);

/* Row ids[i] of E += scale * g for each i (a row listed twice moves
 * twice): the sparse SGD step of a bag. */
void tcat_emb_bag_add(tcat_tensor *E, const uint32_t *ids, size_t n, float scale, const float *g);

/* Row i of out (n x E->cols) = row ids[i] of E, or zeros for TCAT_EMB_PAD. */
void tcat_emb_gather(const tcat_tensor *E, const uint32_t *ids, size_t n, float *out);

/* The gradient of the rows of a table that a batch touched. */
typedef struct tcat_emb_grad {
    size_t dim, nrows;
    int32_t *slot;   /* nrows: index into rows/g, -1 untouched */
    uint32_t *rows;  /* touched rows, first-touch order */
    float *g;        /* n x dim */
    size_t n, cap;
} tcat_emb_grad;

tcat_status tcat_emb_grad_init(tcat_emb_grad *g, size_t nrows, size_t dim);
void tcat_emb_grad_free(tcat_emb_grad *g);

/* Forgets every touched row (cost: the rows touched). */
void tcat_emb_grad_clear(tcat_emb_grad *g);

/* Adds row i of dX (n x dim) to the gradient of row ids[i] (padding
 * skipped). TCAT_ERR_NOMEM when the row list cannot grow. */
tcat_status tcat_emb_grad_scatter(tcat_emb_grad *g, const uint32_t *ids, size_t n,
                                  const float *dX);

/* dst += src, row by row (threads' gradients summed in a fixed order). */
tcat_status tcat_emb_grad_merge(tcat_emb_grad *dst, const tcat_emb_grad *src);

#endif
