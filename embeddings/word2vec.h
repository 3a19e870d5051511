/*
 * embeddings/word2vec.h — word vectors learnt from unlabelled text.
 *
 * Skip-gram and CBOW with negative sampling (Mikolov, Chen, Corrado and
 * Dean 2013, "Efficient estimation of word representations in vector
 * space"; Mikolov, Sutskever, Chen, Corrado and Dean 2013, "Distributed
 * representations of words and phrases and their compositionality"),
 * trained on the tokens of every document of a corpus (labels ignored),
 * so CNN and recurrent pipelines can start from in-domain vectors:
 *
 *     tcat_w2v_options o;
 *     tcat_w2v_options_default(&o);
 *     o.dim = 100;
 *     tcat_vec *v = NULL;
 *     if (tcat_w2v_train(&v, &corpus, &o, NULL, &err) != TCAT_OK) ...
 *     tcat_vec_save_text(v, "indomain.vec", &err);   // reload with tcat_vec_load
 *     tcat_vec_free(&v);
 *
 * What it does, as word2vec.c does unless said otherwise:
 *
 *   vocabulary  tokens seen at least min_count times, most frequent first
 *               (ties in byte order); rarer tokens are dropped from the
 *               text before windows are taken.
 *   subsampling each occurrence of a word of count f among N tokens is
 *               kept with probability (sqrt(f / (t N)) + 1) t N / f
 *               (word2vec.c's formula; t = sample, 0 keeps all), drawn
 *               anew each epoch.
 *   window      for each position a width b is drawn uniformly in
 *               1..window; the context is the b kept tokens on each side
 *               within the document. A document is taken in pieces of
 *               1000 vocabulary tokens (word2vec.c's sentences): windows
 *               do not cross pieces.
 *   skip-gram   for each (center, context) pair: h = in[center], the true
 *               output row is out[context].
 *   CBOW        h = the mean of in[context]; the true output row is
 *               out[center]; each context row receives the whole gradient
 *               of h (word2vec.c's choice, not divided by the width).
 *   negatives   `negative` words drawn from the unigram distribution to
 *               the power 0.75, through a table where each word fills
 *               ceil(p^0.75 share x S) entries, S = min(10^7, max(10^5,
 *               1000 x vocabulary)); a draw equal to the true word is
 *               drawn again (fastText's rule).
 *   loss        one example: L = -log s(u_0 . h) - sum_k log s(-u_k . h),
 *               s the logistic function, u_0 the true output row, u_k the
 *               negatives (tcat_w2v_ns_loss below). Exact sigmoid, no
 *               lookup table. Plain SGD.
 *   learning    lr decays linearly to lr x 1e-4 over epochs x N tokens.
 *   init        in: uniform in [-0.5/dim, 0.5/dim); out: zeros.
 *
 * The vectors returned are the input vectors `in`, one row per vocabulary
 * word, in vocabulary order; the words are the corpus's normalised
 * tokens, so lookups work as for a loaded .vec file. Saved with
 * tcat_vec_save_text and loaded again, the rare token the tokenizer cuts
 * otherwise on its own (a pattern that matched only in context, as "2@h"
 * out of an e-mail address) is skipped and counted in skipped_multi.
 *
 * Determinism: with threads = 1 (the default) the vectors are the same
 * for the same corpus, options and seed, bit for bit. threads > 1 trains
 * Hogwild (Recht, Re, Wright and Niu 2011), as word2vec.c does: each
 * thread takes a contiguous share of the documents and updates the shared
 * rows without locks; faster, NOT reproducible (the result depends on
 * timing), so a caller that stores the result must record that it used
 * more than one thread.
 */
#ifndef TCAT_EMBEDDINGS_WORD2VEC_H
#define TCAT_EMBEDDINGS_WORD2VEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "corpora/corpus.h"
#include "embeddings/vectors.h"

typedef enum tcat_w2v_arch {
    TCAT_W2V_SKIPGRAM = 0,
    TCAT_W2V_CBOW
} tcat_w2v_arch;

typedef struct tcat_w2v_options {
    tcat_w2v_arch arch; /* TCAT_W2V_SKIPGRAM */
    size_t dim;         /* 100 (1..TCAT_VEC_MAX_DIM) */
    int window;         /* 5 (1..1000) */
    int negative;       /* 5 (1..1000) */
    int epochs;         /* 5 (1..100000) */
    double lr;          /* starting learning rate; 0 picks word2vec.c's:
                           0.025 skip-gram, 0.05 CBOW */
    uint64_t min_count; /* 5 (at least 1) */
    double sample;      /* 1e-4 (0 keeps every token; 0..1) */
    int threads;        /* 1; more is Hogwild, not reproducible */
    uint64_t seed;      /* 1 */
} tcat_w2v_options;

/* What training saw. */
typedef struct tcat_w2v_stats {
    size_t vocab;          /* words kept */
    uint64_t dropped;      /* distinct tokens under min_count */
    uint64_t train_words;  /* corpus tokens of vocabulary words (N) */
    uint64_t examples;     /* (h, true word) examples trained, all epochs */
    double first_loss;     /* mean loss per example in the first epoch */
    double last_loss;      /* ... and in the last one */
} tcat_w2v_stats;

/* Fills o with the defaults above. */
void tcat_w2v_options_default(tcat_w2v_options *o);

/* Trains on every document of c. *out gets a table (tcat_vec_free) of
 * the vocabulary words and their vectors; stats (may be NULL) what
 * training saw. Errors: TCAT_ERR_USAGE for options out of range,
 * TCAT_ERR_INPUT when no token occurs min_count times, TCAT_ERR_NOMEM.
 * On failure *out is NULL. */
tcat_status tcat_w2v_train(tcat_vec **out, const tcat_corpus *c, const tcat_w2v_options *o,
                           tcat_w2v_stats *stats, tcat_error *err);

/* ---- one example, for the gradient check ---------------------------------
 *
 * The negative-sampling loss of one example, in double precision:
 *
 *     L = -log s(u[0] . h) - sum_{k=1}^{n-1} log s(-u[k] . h)
 *
 * h has dim entries, u[k] dim entries each (u[0] the true word's output
 * row, u[1..n-1] the negatives). Returns L; g_h (dim) receives dL/dh and
 * g_u (n x dim, row k for u[k]) dL/du[k], both overwritten; either may
 * be NULL. Computed stably (log(1 + e^x) without overflow). */
double tcat_w2v_ns_loss(size_t dim, const double *h, const double *const *u, size_t n,
                        double *g_h, double *g_u);

/* The float step training runs on one example: the same gradients as
 * tcat_w2v_ns_loss at the current values, applied by SGD with rate lr.
 * Each u[k] moves by -lr dL/du[k] in turn (word2vec.c's order: a row
 * listed twice sees its first update), and -lr dL/dh is ADDED to acc
 * (dim), which the caller applies to the input rows; h is not changed.
 * h must not alias any u[k]. Returns L (in float). */
float tcat_w2v_ns_step(size_t dim, const float *h, float *const *u, size_t n, float lr,
                       float *acc);

#endif
