/*
 * embeddings/optim.h — optimisers for the neural pipelines.
 *
 * One optimiser updates one flat parameter array (an encoder's theta, a
 * softmax layer) or the touched rows of an embedding table:
 *
 *   sgd       theta -= lr g
 *   adam      (Kingma and Ba 2015) m = b1 m + (1-b1) g,
 *             v = b2 v + (1-b2) g^2, theta -= lr mhat / (sqrt(vhat) + eps),
 *             mhat = m / (1 - b1^t), vhat = v / (1 - b2^t);
 *             b1 0.9, b2 0.999, eps 1e-8.
 *   adadelta  (Zeiler 2012, as Kim 2014 trains) Eg = rho Eg + (1-rho) g^2,
 *             d = sqrt(Ed + eps) / sqrt(Eg + eps) g, Ed = rho Ed + (1-rho) d^2,
 *             theta -= lr d; rho 0.95, eps 1e-6, lr 1 by convention.
 *
 * For tables (tcat_optim_step_rows) the state of a row only moves when the
 * row has a gradient ("lazy" updates), with the optimiser's own step count
 * t for Adam's bias correction: untouched rows cost nothing.
 *
 * Also: the global gradient-norm clip of recurrent training, and Kim's
 * max-norm constraint on the rows of the output layer.
 */
#ifndef TCAT_EMBEDDINGS_OPTIM_H
#define TCAT_EMBEDDINGS_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef enum tcat_opt_kind { TCAT_OPT_SGD, TCAT_OPT_ADAM, TCAT_OPT_ADADELTA } tcat_opt_kind;

typedef struct tcat_optim {
    tcat_opt_kind kind;
    float lr;
    size_t n;         /* parameters (a table: rows x dim) */
    float *s1, *s2;   /* state: adam m, v; adadelta Eg, Ed (NULL for sgd) */
    long t;           /* steps taken */
} tcat_optim;

/* An optimiser for n parameters, state zeroed. "sgd", "adam", "adadelta"
 * name the kinds (tcat_opt_parse). TCAT_ERR_NOMEM. */
tcat_status tcat_optim_init(tcat_optim *o, tcat_opt_kind kind, float lr, size_t n);
void tcat_optim_free(tcat_optim *o);

/* The kind called name, or -1. */
int tcat_opt_parse(const char *name);

/* One step on all n parameters with gradient g (n). */
void tcat_optim_step(tcat_optim *o, float *theta, const float *g);

/* One step on rows rows[0..nr) of a table (theta: n/dim rows x dim, the
 * optimiser made for all of them) with gradient g (nr x dim, row i for
 * rows[i]). */
void tcat_optim_step_rows(tcat_optim *o, float *theta, size_t dim, const uint32_t *rows,
                          size_t nr, const float *g);

/* The Euclidean norm of the concatenation of parts[i] (len[i] floats).
 * When it exceeds max (> 0), every part is scaled by max / norm. Returns
 * the norm before clipping. */
double tcat_clip_norm(float *const *parts, const size_t *len, size_t nparts, double max);

/* Kim's constraint: every row of W (rows x cols) whose norm exceeds s is
 * rescaled to norm s. */
void tcat_max_norm_rows(float *W, size_t rows, size_t cols, float s);

#endif
