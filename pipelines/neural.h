/*
 * pipelines/neural.h — what the CNN and recurrent families share.
 *
 * A document is read as a sequence of word ids; an embedding layer turns
 * it into a matrix (embeddings/table.h), a sequence encoder
 * (embeddings/encoder.h: convolutions, or a bidirectional GRU/LSTM) into
 * one feature vector, dropout and a linear layer with a softmax (one
 * sigmoid per label, multi-label) into class probabilities. The families
 * "cnn" (pipelines/cnn.c) and "rnn" (pipelines/rnn.c) differ only in the
 * encoder and in their defaults; everything else is here:
 *
 *   vocabulary  words of the training documents seen >= min_count times
 *               (embeddings/wordids.h, at most max_words), ids 0..n-1; row
 *               n is the unknown word, which words under min_count train.
 *   punct       with punct, punctuation tokens are read as words (Kim's
 *               text keeps them, and they carry sentiment and questions);
 *               without, skipped.
 *   length      documents longer than max_len tokens keep their first
 *               max_len (truncation, the documented limit). A family may
 *               have the encoder read zero rows before and after each
 *               document (the cnn's "wide": tcat_neural_family.pad).
 *   embeddings  init "random" (uniform in [-0.25, 0.25), Kim's choice),
 *               "pretrained" (the --vectors file, tcat_fit_opts.vectors;
 *               words it lacks stay random), or "skipgram" (in-domain
 *               vectors: embeddings/word2vec.h on the training text and
 *               tcat_fit_opts.unlabeled). Without vectors "pretrained"
 *               falls back to "skipgram". The skip-gram has word2vec.c's
 *               settings (window 5, 5 negatives, sample 1e-4) but for dim
 *               (the table's), min_count (the family's) and its epochs:
 *               ceil(6 million / tokens of the text), at least 5 (large
 *               texts: word2vec.c's default) and at most 30: small texts
 *               need many passes. On bench/neural's seven corpora
 *               (26k-190k training tokens, so 30 epochs) this beat the
 *               former 10 epochs on dev by +1.4 points of CNN accuracy on
 *               average, seeds 1 and 2 (better on 6 of 7: SST-1 +3.5,
 *               SST-2 +3.2, MR +2.3; MPQA -1.3), and on test by +1.7
 *               (seed 2, better on 7 of 7). The vectors are used at
 *               the scale skip-gram leaves them (RMS about 0.06 per
 *               component against the random rows' 0.144): rescaling them
 *               to the random rows' RMS, a common trick, lost 5 to 20
 *               points on dev (and several corpora stopped learning), with
 *               or without keeping words under 5 occurrences random.
 *               mode "static" (frozen),
 *               "nonstatic" (fine-tuned) or "multichannel" (a frozen and a
 *               fine-tuned copy side by side: the encoder sees 2 x dim).
 *   output      a softmax layer over the encoder's features, its weights
 *               uniform in +-1/sqrt(features) (PyTorch's Linear default;
 *               the larger Glorot bound cost CNN-rand accuracy, see
 *               embeddings/conv.c), biases 0.
 *   training    mini-batches of `batch` documents in a random order,
 *               padded to the longest in the batch; softmax cross-entropy
 *               (class weights from tcat_fit_opts) averaged over the
 *               batch; dropout on the features; optimiser "adadelta",
 *               "adam" or "sgd" (embeddings/optim.h) for the encoder, the
 *               output layer and the touched embedding rows; gradient
 *               norm clipped to `clip` (0: never); output rows held to L2
 *               norm max_norm (0: never; Kim's constraint, s = 3).
 *   stopping    after each epoch the dev documents (when there are any) are
 *               scored by macro-F1 (multi-label: below); the best epoch's
 *               weights are kept and training stops after `patience`
 *               epochs without a better one, or at the deadline. The effective "epochs" becomes
 *               the best epoch, so a refit on all the data (no dev) trains
 *               just as long. Temperature calibration on dev as the other
 *               families.
 *   threads     each batch is split across `threads` threads (each its own
 *               encoder workspace and gradient), the gradients summed in
 *               thread order: the same model for a seed and thread count.
 *   multi-label with "multilabel": true (pipelines/pipeline.h) the output
 *               layer is K independent sigmoids: the loss is the binary
 *               log-loss summed over labels (class weight w_k scales
 *               label k's positive term, negatives weigh 1); early
 *               stopping scores dev by minus its mean binary log-loss
 *               under the fitted temperature (a score with no threshold
 *               that keeps improving after dev is ranked right), and
 *               predict_proba gives sigmoid(s_k / T), T fitted on dev
 *               (tcat_fit_temperature_ova). Same model file sections.
 *
 * Shared hyperparameters (JSON keys; defaults per family, in its header):
 *   dim, min_count, max_words, max_len, punct, init "random" | "pretrained" |
 *   "skipgram", mode "static" | "nonstatic" | "multichannel", dropout,
 *   optimizer "adadelta" | "adam" | "sgd", lr, batch, epochs, patience,
 *   clip, max_norm, threads, temperature (fitted on dev).
 *
 * Model file sections, "<prefix>.": shape (u64 x 5: nwords, dim, channels,
 * encoder parameters, classes), words (u64 hash per word id), E (f32,
 * (nwords + 1) x dim, the tuned table), S (the frozen table, multichannel
 * only), theta (f32, the encoder's parameters), out (f32, classes x
 * (features + 1): each row the weights then the bias).
 */
#ifndef TCAT_PIPELINES_NEURAL_H
#define TCAT_PIPELINES_NEURAL_H

#include <jansson.h>

#include "core/status.h"
#include "embeddings/encoder.h"
#include "pipelines/pipeline.h"

/* A family's defaults for the shared hyperparameters. */
typedef struct tcat_neural_defaults {
    long dim, min_count, max_words, max_len, batch, epochs, patience;
    double dropout, lr, clip, max_norm;
    const char *init, *mode, *optimizer;
    bool punct;
} tcat_neural_defaults;

/* What a family adds to the shared machinery. */
typedef struct tcat_neural_family {
    const tcat_pipeline_ops *ops;
    tcat_neural_defaults defaults;
    const char *const *extra_keys;    /* the family's own keys, NULL-ended */
    /* Parses the family's own keys of params into its object (the bytes
     * after struct tcat_neural); TCAT_ERR_USAGE naming a bad one. */
    tcat_status (*parse)(void *self, const json_t *params, tcat_error *err);
    json_t *(*effective)(const void *self); /* its own keys, effective values */
    /* The encoder for inputs of in_dim floats per token. */
    tcat_status (*encoder)(const void *self, size_t in_dim, tcat_encoder **out, tcat_error *err);
    /* Zero rows read before and after each document's tokens (the cnn's
     * wide convolution); NULL: none. */
    size_t (*pad)(const void *self);
    /* Sets the family's keys for no padding: a model file saved before
     * the family padded (it has no 'pad' section). NULL when pad is. */
    void (*unpadded)(void *self);
    size_t self_size;                 /* bytes of the family's own part */
} tcat_neural_family;

/* The pipeline operations, shared: each family's tcat_pipeline_ops points
 * its create at a function calling tcat_neural_create with its
 * tcat_neural_family, and every other operation at these. */
tcat_status tcat_neural_create(tcat_pipeline **out, const tcat_neural_family *fam,
                               const json_t *params, size_t nclasses, tcat_error *err);
tcat_status tcat_neural_fit(tcat_pipeline *p, const tcat_docs *train, const tcat_docs *dev,
                            const tcat_fit_opts *o, tcat_error *err);
size_t tcat_neural_memory(const tcat_pipeline *p, const tcat_docs *train);
tcat_status tcat_neural_predict_proba(const tcat_pipeline *p, const tcat_docs *docs,
                                      float *proba, int threads, tcat_cache *cache,
                                      tcat_error *err);
tcat_status tcat_neural_save(const tcat_pipeline *p, tcat_mwriter *w, const char *prefix,
                             tcat_error *err);
tcat_status tcat_neural_load(tcat_pipeline *p, const tcat_mreader *r, const char *prefix,
                             tcat_error *err);
json_t *tcat_neural_describe(const tcat_pipeline *p);
void tcat_neural_destroy(tcat_pipeline *p);

/* The family's own part of a neural pipeline (what its parse filled). */
void *tcat_neural_self(const tcat_pipeline *p);

#endif
