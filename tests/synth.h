/*
 * tests/synth.h — small data made by the tests themselves, shared by the
 * corpus, feature, learner, linear and model suites.
 *
 *     tcat_corpus c;
 *     synth_corpus(&c, 3, 20, 7);      // 3 classes x 20 documents, seed 7
 *     ... tcat_docs all = {&c, NULL, c.n}; ...
 *     tcat_corpus_free(&c);
 *
 * Documents of class k draw words from a vocabulary of their own (five
 * words per class) mixed with words every class shares, so any linear
 * model separates the classes exactly. Everything is tokenized with the
 * shared default tokenizer (tests/testutil.h).
 *
 * Scratch folders: scratch_setup/scratch_teardown make and remove a
 * mkdtemp folder (use them as a checked fixture); scratch_path names a
 * file in it (ring storage).
 */
#ifndef TCAT_TESTS_SYNTH_H
#define TCAT_TESTS_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "corpora/corpus.h"
#include "embeddings/tensor.h"
#include "model/model.h"
#include "pipelines/pipeline.h"
#include "pipelines/tfidf.h"

/* The class words of class k (0..2): five of them, and the shared words. */
extern const char *const synth_class_words[3][5];
extern const char *const synth_noise_words[10];

/* Tokenizes text with the default tokenizer and appends it to c with one
 * label (label < 0: no label). Fails the test on error. */
void corpus_add_text(tcat_corpus *c, const char *text, int32_t label);

/* Appends the given bytes (any, NUL included) with nlabels labels. */
void corpus_add_bytes(tcat_corpus *c, const char *raw, size_t len, const int32_t *labels,
                      size_t nlabels);

/* A fresh corpus of K (2..3) classes, per_class documents each,
 * interleaved (document i has class i % K), from seed. */
void synth_corpus(tcat_corpus *c, size_t K, size_t per_class, uint64_t seed);

/* A fresh multi-label corpus of n documents over K (2..3) labels, from
 * seed: document i has label i % K, and every third document also label
 * (i + 1) % K; its text holds three class words of each of its labels and
 * noise words, shuffled. A one-vs-all model should recover every label
 * set. */
void synth_ml_corpus(tcat_corpus *c, size_t K, size_t n, uint64_t seed);

/* 0, 1, ..., n-1, malloc'd (the test frees it). */
size_t *synth_iota(size_t n);

/* An unfitted pipeline of family with the hyperparameters in JSON text
 * params, for K classes. Fails the test on error. */
tcat_pipeline *synth_pipeline(const char *family, const char *params, size_t K);

/* An empty model (default tokenizer) whose K labels are "a", "b", ... */
tcat_model *synth_model(size_t K);

/* Micro-F1 of "label k when proba >= 0.5" against every label of the n
 * documents of c (n x K proba). */
double synth_ml_micro_f1(const tcat_corpus *c, const float *proba, size_t n, size_t K);

/* The text synth_corpus would make for document i (ring storage). */
const char *synth_doc_text(size_t K, size_t i, uint64_t *state);

/* Row i of X as a dense double array of X->cols (caller frees). */
double *csr_dense_row(const tcat_csr *X, size_t i);

/* The L2 norm of row i of X. */
double csr_row_norm(const tcat_csr *X, size_t i);

/* ---- scratch folder -------------------------------------------------- */

void scratch_setup(void);
void scratch_teardown(void);
const char *scratch_path(const char *name);

/* Writes s to the scratch file name; returns its path (ring storage). */
const char *scratch_write(const char *name, const char *s);

/* The whole content of path (malloc'd; *len its size), or NULL. */
char *slurp(const char *path, size_t *len);

/* Saves fitted pipeline p (taken over) as the one member of a model with
 * labels "a", "b", ... (K of them) in the scratch directory, loads it
 * back and returns the loaded model's probabilities of docs (malloc'd,
 * docs->n x K). Needs scratch_setup. */
float *saved_model_predict(tcat_pipeline *p, size_t K, const tcat_docs *docs, int threads);

#endif
