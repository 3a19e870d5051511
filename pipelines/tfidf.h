/*
 * pipelines/tfidf.h — n-gram vocabulary and TF-IDF vectors.
 *
 * A vocabulary keeps the n-gram hashes (pipelines/ngrams.h) seen in at
 * least min_df training documents, at most max_features of each kind (the
 * most frequent; ties by hash, so it is deterministic), with their inverse
 * document frequency idf = ln((1 + N) / (1 + df)) + 1 (scikit-learn's
 * smooth idf). Word features come first (ids 0..nword-1), then char
 * features.
 *
 * A document's vector: for each feature, tf (or 1 + ln tf when sublinear)
 * times idf; the word part and the char part are each scaled to unit L2
 * norm and, when the document has both, by 1/sqrt(2), so the whole vector
 * has norm 1 (0 without any known feature) and neither kind drowns the
 * other.
 */
#ifndef TCAT_PIPELINES_TFIDF_H
#define TCAT_PIPELINES_TFIDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "pipelines/ngrams.h"
#include "pipelines/pipeline.h"

/* Compressed sparse rows: row i is col/val[ptr[i] .. ptr[i+1]). */
typedef struct tcat_csr {
    size_t rows, cols;
    size_t *ptr;
    uint32_t *col;
    float *val;
} tcat_csr;

void tcat_csr_free(tcat_csr *m);

typedef struct tcat_vocab {
    tcat_ngram_opts ngrams;
    bool sublinear;
    size_t nword, nchar;
    const uint64_t *hash; /* nword + nchar, each part sorted */
    const float *idf;
    uint64_t *own_hash;   /* set when the arrays are owned (not mapped) */
    float *own_idf;
    uint32_t *slot;       /* lookup: feature id + 1, 0 empty */
    size_t nslots;
} tcat_vocab;

/* Counts document frequencies over docs and keeps the vocabulary. */
tcat_status tcat_vocab_build(tcat_vocab *v, const tcat_docs *docs, const tcat_ngram_opts *o,
                             bool sublinear, size_t min_df, size_t max_features, tcat_error *err);

/* Adopts arrays from elsewhere (a model file mapping) and builds the
 * lookup table. TCAT_ERR_MODEL when the word or char part is not sorted. */
tcat_status tcat_vocab_adopt(tcat_vocab *v, const tcat_ngram_opts *o, bool sublinear,
                             size_t nword, size_t nchar, const uint64_t *hash, const float *idf,
                             tcat_error *err);

/* A deep copy with its own arrays and lookup table. */
tcat_status tcat_vocab_copy(tcat_vocab *dst, const tcat_vocab *src);

void tcat_vocab_free(tcat_vocab *v);

/* Feature id of hash h in the word (is_char false) or char part, or -1. */
int64_t tcat_vocab_find(const tcat_vocab *v, uint64_t h, bool is_char);

/* The TF-IDF rows of docs (in order) on threads threads. */
tcat_status tcat_tfidf_transform(const tcat_vocab *v, const tcat_docs *docs, int threads,
                                 tcat_csr *out, tcat_error *err);

#endif
