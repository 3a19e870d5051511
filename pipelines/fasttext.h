/*
 * pipelines/fasttext.h — the fastText-style family ("fasttext").
 *
 * Bag of tricks for efficient text classification (Joulin, Grave,
 * Bojanowski and Mikolov, EACL 2017): a document is the mean of the
 * embeddings of its words, of its word n-grams and (optionally) of the
 * character n-grams of its words, hashed into buckets; a linear layer and
 * a softmax (or independent sigmoids, one-vs-all) give the classes.
 * Trained by SGD with a linearly decaying learning rate, the input
 * gradient divided by the number of inputs, as fastText does.
 *
 * Ids: words seen at least min_count times get ids 0..nwords-1
 * (embeddings/wordids.h); a word n-gram (n = 2..word_ngrams) goes to row
 * nwords + h % bucket, h its hash, and a character n-gram of "<word>"
 * (n = minn..maxn code points) to nwords + h % bucket, h its char n-gram
 * hash (both in embeddings/hashing.h). Input layer: the mean of the rows
 * (embeddings/table.h, tcat_emb_bag).
 *
 * Class weights (tcat_fit_opts.class_weight) scale each example's
 * learning rate: SGD on the weighted loss.
 *
 * Multi-label ("multilabel": true, pipelines/pipeline.h): the loss is
 * one-vs-all over the document's label set, the sum over labels k of the
 * binary log-loss of sigmoid(s_k) against t_k (fastText's `-loss ova`
 * with several labels); "loss" is "ova" whatever was asked, so params
 * written for single-label data still serve. Class weight w_k scales
 * label k's positive term only, negatives weigh 1 (pos_weight elsewhere):
 * missing a rare label costs more, while the documents without it push
 * its score down no harder than before.
 * predict_proba gives sigmoid(s_k / T) per label, T fitted on dev
 * (tcat_fit_temperature_ova; 1 without dev); rows do not sum to 1.
 *
 * Pretrained vectors (tcat_fit_opts.vectors, `tcat train --vectors`):
 * the rows of the training words start from them (a word the table lacks
 * from its subword composition, when the table has one) instead of small
 * random values, and their dimension replaces dim.
 *
 * Determinism: with threads = 1 (the default) training is reproducible
 * for a seed. threads > 1 trains Hogwild (Recht et al. 2011): faster,
 * not bit-reproducible; the model records it.
 *
 * Hyperparameters (JSON keys, defaults as fastText's supervised mode):
 *   dim 100, lr 0.1, epoch 5, word_ngrams 1, min_count 1,
 *   bucket 2000000 (0 when word_ngrams is 1 and maxn is 0), minn 0, maxn 0,
 *   loss "softmax" | "ova", threads 1, temperature 1.0 (fitted on dev),
 *   punct false (punctuation tokens are inputs too when true), eos false
 *   (true: each document has one more input, a row of its own after the
 *   pieces, as fastText's end-of-line word "</s>": a learnt bias; over 8
 *   seeds it moved CR +0.7, Subj -0.5, MPQA (bigrams) -0.7 points, so it
 *   is the search's choice, not a default),
 *   pieces 0 (else: a subword vocabulary of that many pieces is learnt
 *   from the training words, tokenizer/subword.h, and every token's
 *   pieces become inputs, ids after the buckets), pieces_type "unigram" |
 *   "bpe"
 *
 * Hashed buckets start at zero (words and pieces small and random), so
 * the buckets no training n-gram reached stay zero and add nothing.
 *
 * Model file sections, "<prefix>.": shape (4 x u64: nwords, bucket, dim,
 * classes), words (u64 hash per word id), pieces (the subword vocabulary
 * as text, tokenizer/subword.h, when pieces > 0), Ew (f32, the rows of
 * the words, then of the pieces, then the end-of-document row with
 * eos), Eb_ids (u32, increasing: the buckets whose rows are not zero) and
 * Eb (f32, those rows), W (f32, classes x dim), prior (f32 per class: the
 * answer for a document with no known input, the training classes'
 * weighted frequencies, or each label's with label sets; older models
 * lack it and answer uniform scores there). Only the buckets training
 * reached are stored: a model of 2 million buckets trained on a small
 * corpus stays small. Loading rebuilds the whole table (untouched pages
 * of its zero rows cost no memory).
 */
#ifndef TCAT_PIPELINES_FASTTEXT_H
#define TCAT_PIPELINES_FASTTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "pipelines/pipeline.h"

extern const tcat_pipeline_ops tcat_fasttext_ops;

/* The loss of one example and its gradients, for the finite-difference
 * test: inputs ids[0..n) into E (rows x dim), output W (K x dim), label y,
 * or with t not NULL the label set t (K bytes, 0/1; y unused); softmax
 * (ova false; NAN with t) or one-vs-all sigmoids (ova true). gE (rows x
 * dim, only the rows of ids are touched, accumulated) and gW (K x dim)
 * receive the gradients; either may be NULL. Double precision throughout. */
double tcat_fasttext_loss(const double *E, size_t dim, const double *W, size_t K,
                          const uint32_t *ids, size_t n, int32_t y, const uint8_t *t, int ova,
                          double *gE, double *gW);

#endif
