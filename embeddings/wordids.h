/*
 * embeddings/wordids.h — which words get their own embedding row.
 *
 * A word vocabulary for the families that embed words (fastText-style,
 * CNN, recurrent): the tokens of the training documents seen at least
 * min_count times, each known by the XXH3-64 hash of its bytes with seed
 * TCAT_WORD_SEED (pipelines/ngrams.h), so a model file stores 8 bytes a
 * word and never the text. Ids are 0..n-1 in increasing order of hash:
 * independent of hash-table layout and thread count, so the same data
 * gives the same ids. With max_words > 0, only the max_words most
 * frequent words are kept (ties: smaller hash first).
 *
 *     tcat_wordids v;
 *     tcat_wordids_build(&v, &train_docs, 2, 0);     // min_count 2, no cap
 *     int64_t id = tcat_wordids_find(&v, tcat_wordids_hash(word, len)); // -1: unknown
 *     tcat_wordids_free(&v);
 *
 * tcat_wordids_view rebuilds the lookup over hashes read from a model
 * file (the hashes are not copied).
 */
#ifndef TCAT_EMBEDDINGS_WORDIDS_H
#define TCAT_EMBEDDINGS_WORDIDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "corpora/corpus.h"
#include "embeddings/tensor.h"
#include "embeddings/vectors.h"

typedef struct tcat_wordids {
    size_t n;               /* words */
    const uint64_t *hash;   /* hash of word id i, increasing */
    uint64_t *own;          /* hash when owned */
    uint32_t *slot;         /* open-addressing table: id + 1, 0 empty */
    size_t nslots;          /* a power of two, >= 2n */
} tcat_wordids;

/* The hash a word is known by. */
uint64_t tcat_wordids_hash(const char *word, size_t len);

/* Counts the tokens of docs and keeps those seen >= min_count times (and
 * the max_words most frequent of them when max_words > 0). On failure
 * (TCAT_ERR_NOMEM) v is empty. */
tcat_status tcat_wordids_build(tcat_wordids *v, const tcat_docs *docs, uint64_t min_count,
                               size_t max_words);

/* A vocabulary over n hashes that are not copied (they must outlive v).
 * TCAT_ERR_MODEL when they are not strictly increasing, NOMEM. */
tcat_status tcat_wordids_view(tcat_wordids *v, const uint64_t *hash, size_t n);

/* The id of the word with hash h, or -1. */
int64_t tcat_wordids_find(const tcat_wordids *v, uint64_t h);

void tcat_wordids_free(tcat_wordids *v);

/* Sets row id of E (E has at least v->n rows of the vectors' dimension)
 * to the vector of each word of v that occurs in docs and that vec has
 * or can build from subwords (tcat_vec_get); other rows stay as they
 * are. Returns how many rows were set (0 also when out of memory). */
size_t tcat_wordids_rows_from_vectors(const tcat_wordids *v, const tcat_docs *docs,
                                      const tcat_vec *vec, tcat_tensor *E);

#endif
