/*
 * pipelines/linear.h — the linear bag-of-n-grams family ("linear").
 *
 * Features: TF-IDF of word n-grams and character n-grams (pipelines/
 * tfidf.h). Learners: a one-vs-rest linear SVM (pipelines/svm.h), the
 * same on NB-weighted features (NBSVM, Wang and Manning 2012: each
 * class's features scaled by their log-count ratio), or multinomial
 * logistic regression (pipelines/logreg.h). Scores become probabilities
 * through a softmax with a temperature fitted on the dev documents by
 * minimum log-loss (Guo et al. 2017), which calibrates the SVMs.
 *
 * Multi-label ("multilabel": true, pipelines/pipeline.h): one-vs-all over
 * each document's label set. Label k's SVM problem takes the documents
 * having label k as positives (NBSVM's log-count ratios of label k too);
 * logreg fits K independent binary regressions. Each label's probability
 * is sigmoid(score / temperature), the temperature fitted on the dev
 * label sets. Class weight w_k weighs the positives of label k (negatives
 * weigh 1), where single-label training weighs every document by its
 * class's weight. The model file is the same.
 *
 * Hyperparameters (JSON keys, defaults):
 *   learner       "svm" | "nbsvm" | "logreg"               "svm"
 *   C             inverse regularisation strength, > 0       1.0
 *   word_ngrams   0..3 (0: no word features)                 2
 *   char_min      0 (no char features) or 1..char_max        0
 *   char_max      char_min..6                                0
 *   min_df        documents an n-gram must appear in         2
 *   max_features  per kind, 0: no limit                      0
 *   sublinear_tf  tf -> 1 + ln tf                            true
 *   punct         punctuation tokens are words too (else
 *                 skipped, pipelines/ngrams.h)               false
 *   nb_alpha      NBSVM count smoothing, > 0                 1.0
 *   beta          NBSVM interpolation in [0, 1]              0.25
 *   max_iter      passes (SVM) or iterations (L-BFGS)        1000 / 200
 *   temperature   softmax (sigmoid) temperature, > 0 (set by fit when
 *                 dev documents are given, else kept)        1.0
 *
 * Model file sections, "<prefix>.":
 *   shape  3 x u64: word features, char features, classes
 *   hash   u64 per feature: the n-gram hashes, word part then char part,
 *          each sorted
 *   idf    f32 per feature
 *   W      f32, features x classes (row-major by feature)
 *   b      f32 per class
 */
#ifndef TCAT_PIPELINES_LINEAR_H
#define TCAT_PIPELINES_LINEAR_H

#include "pipelines/pipeline.h"

extern const tcat_pipeline_ops tcat_linear_ops;

#endif
