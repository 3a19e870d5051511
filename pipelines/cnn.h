/*
 * pipelines/cnn.h — the convolutional family ("cnn").
 *
 * Kim (2014), "Convolutional Neural Networks for Sentence
 * Classification": word embeddings, convolutions of several widths with
 * ReLU and max-over-time pooling (embeddings/conv.h), dropout and a
 * softmax, trained by Adadelta with Kim's max-norm constraint. Everything
 * but the encoder is shared with the recurrent family: pipelines/neural.h
 * (vocabulary, embedding init and modes, training, early stopping,
 * multi-label sigmoids instead of the softmax, model sections).
 *
 * Hyperparameters (JSON keys, defaults as Kim's CNN-rand unless said):
 *   widths [3, 4, 5], maps 100 (feature maps per width),
 *   wide true: wide convolution, as Kim's code pads: the widest filter
 *     minus one zero rows (4) before and after each document are read as
 *     part of it, so every word is the first and the last token of a window
 *     of every width, and windows over the padding alone (the narrower
 *     widths) give relu(bias). false: narrow, only windows inside the
 *     document (a document shorter than a width: one window over its tokens
 *     and the padding after them). On bench/neural's seven corpora wide
 *     beat narrow by +0.8 points of accuracy on dev (seeds 1 and 2, better
 *     on 6 of 7: MPQA +3.2, TREC +1.7; CR -0.9) and by +0.3 on test (seeds
 *     1 to 3, better on 4 of 7): MPQA, whose documents are phrases of a few
 *     words, +4.2; the others within their seed spread. About 8 more rows
 *     per document to convolve.
 *   dim 300, min_count 1, max_words 200000, max_len 400 (tokens kept per
 *   document), punct true, init "random", mode "nonstatic", dropout 0.5,
 *   optimizer "adadelta", lr 1.0, batch 50, epochs 25, patience 5,
 *   clip 0, max_norm 3, threads 1.
 * CNN-static / non-static / multichannel: init "pretrained" (with
 * `--vectors`) or "skipgram", and mode "static" / "nonstatic" /
 * "multichannel".
 */
#ifndef TCAT_PIPELINES_CNN_H
#define TCAT_PIPELINES_CNN_H

#include "pipelines/pipeline.h"

extern const tcat_pipeline_ops tcat_cnn_ops;

#endif
