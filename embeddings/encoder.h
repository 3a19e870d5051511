/*
 * embeddings/encoder.h — a sequence encoder: a padded batch of embedded
 * tokens in, one feature vector per document out.
 *
 * The convolutional encoder (embeddings/conv.h, Kim 2014) and the
 * recurrent one (embeddings/recurrent.h, bidirectional GRU/LSTM)
 * implement this interface; pipelines/neural.c trains either under the
 * same embedding layer, dropout, softmax, optimiser and early stopping.
 *
 *     tcat_encoder *e;                        // made by tcat_conv_new, ...
 *     float *theta = ...nparams floats...;    // owned by the caller
 *     e->ops->init(e, theta, in_rms, &rng);
 *     tcat_encoder_ws *ws;
 *     e->ops->ws_new(e, &ws);
 *     e->ops->forward(e, theta, ws, X, B, T, len, true, H);   // H: B x out_dim
 *     e->ops->backward(e, theta, ws, dH, dX, dtheta);         // after forward
 *     e->ops->ws_free(ws);
 *     tcat_encoder_free(&e);
 *
 * Parameters: one flat float array theta of nparams() entries that the
 * caller owns (the optimiser updates it, the model file stores it as one
 * section); its layout is the encoder's business and documented in its
 * header. A gradient is an array of the same layout.
 *
 * Workspaces: an encoder object holds only its shape; everything one
 * batch needs (activations kept for the backward pass, scratch) lives in
 * a workspace, which grows as batches need. Threads each run a sub-batch
 * on their own workspace against the same theta and accumulate into their
 * own gradient array; the caller sums those in a fixed order, so training
 * is deterministic for a thread count.
 *
 * Batch layout: X holds B*T rows of in_dim floats, row b*T + t the
 * embedding of token t of document b. len[b] (1..T) tokens of document b
 * are real; rows b*T + t for t >= len[b] are zero (padding). T is at least
 * min_len(). H gets B rows of out_dim floats.
 *
 * Every product of matrices goes through OpenBLAS (embeddings/tensor.h or
 * cblas directly). Encoders do no dropout and draw no random numbers
 * after init: forward with train = false computes the same H as with
 * train = true, it only may skip keeping what backward needs.
 */
#ifndef TCAT_EMBEDDINGS_ENCODER_H
#define TCAT_EMBEDDINGS_ENCODER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rng.h"
#include "core/status.h"

typedef struct tcat_encoder tcat_encoder;
typedef struct tcat_encoder_ws tcat_encoder_ws;

typedef struct tcat_encoder_ops {
    const char *name;                                /* "conv", "gru", "lstm" */
    size_t (*nparams)(const tcat_encoder *e);
    size_t (*out_dim)(const tcat_encoder *e);
    size_t (*min_len)(const tcat_encoder *e);        /* smallest T accepted */
    /* Random initial parameters (the scheme is documented per encoder).
     * in_rms: the root mean square of the input rows' entries, for an
     * encoder that scales its input weights to the rows it will read. */
    void (*init)(const tcat_encoder *e, float *theta, float in_rms, tcat_rng *r);
    tcat_status (*ws_new)(const tcat_encoder *e, tcat_encoder_ws **ws);
    void (*ws_free)(tcat_encoder_ws *ws);
    /* H (B x out_dim) of the batch X; with train, keeps in ws what
     * backward needs. TCAT_ERR_NOMEM when the workspace cannot grow. */
    tcat_status (*forward)(const tcat_encoder *e, const float *theta, tcat_encoder_ws *ws,
                           const float *X, size_t B, size_t T, const size_t *len, bool train,
                           float *H);
    /* Given dH = dLoss/dH (B x out_dim) for the batch of the last
     * forward(train = true) on ws: writes dX = dLoss/dX (B*T x in_dim,
     * overwritten; padding rows get 0) and ADDS dLoss/dtheta to dtheta.
     * dX may be NULL when the input needs no gradient (frozen
     * embeddings). */
    tcat_status (*backward)(const tcat_encoder *e, const float *theta, tcat_encoder_ws *ws,
                            const float *dH, float *dX, float *dtheta);
    void (*destroy)(tcat_encoder *e);
} tcat_encoder_ops;

/* The part every encoder's object starts with. */
struct tcat_encoder {
    const tcat_encoder_ops *ops;
    size_t in_dim;
};

static inline void tcat_encoder_free(tcat_encoder **e)
{
    if (e && *e) {
        (*e)->ops->destroy(*e);
        *e = NULL;
    }
}

#endif
