/*
 * pipelines/rnn.h — the recurrent family ("rnn").
 *
 * A bidirectional GRU or LSTM over the word embeddings (one or two
 * layers, embeddings/recurrent.h), max- and mean-pooling over time
 * concatenated, dropout and a softmax, trained by Adam with the gradient
 * norm clipped. Everything but the encoder is shared with the
 * convolutional family: pipelines/neural.h (vocabulary, embedding init and
 * modes, training, early stopping, multi-label sigmoids instead of the
 * softmax, model sections). Documents longer than max_len tokens are read
 * up to max_len (the documented limit).
 *
 * Hyperparameters (JSON keys and defaults):
 *   cell "gru" | "lstm" ("gru"), hidden 128 (per direction), layers 1 (or 2),
 *   dim 128, min_count 2, max_words 200000, max_len 200, punct true, init "random",
 *   mode "nonstatic", dropout 0.3, optimizer "adam", lr 0.002, batch 32,
 *   epochs 10, patience 3, clip 5, max_norm 0, threads 1.
 */
#ifndef TCAT_PIPELINES_RNN_H
#define TCAT_PIPELINES_RNN_H

#include "pipelines/pipeline.h"

extern const tcat_pipeline_ops tcat_rnn_ops;

#endif
