/*
 * pipelines/ngrams.h — bag-of-n-gram features of tokenized documents.
 *
 * Two kinds of features, each a 64-bit hash:
 *
 *   word n-grams  n consecutive tokens, n = 1..word_n. The hash of a
 *                 token is XXH3-64 of its bytes with seed 0x74636174 ("tcat");
 *                 an n-gram folds its tokens' hashes left to right with
 *                 h = mix(h * 0x9E3779B97F4A7C15 + t) (mix = the splitmix64
 *                 finaliser) starting from h = n.
 *   char n-grams  n consecutive grapheme clusters (utf8proc's rules), n =
 *                 char_min..char_max, inside " word ": a word is a run of
 *                 tokens that touch in the text, so the characters of
 *                 Chinese or Thai are covered across the segmenter's cuts.
 *                 The hash is XXH3-64 of the n-gram's bytes with seed
 *                 0x63686172 ("char").
 *
 * The hash functions are those of embeddings/hashing.h: a model file
 * stores hashes, not strings.
 */
#ifndef TCAT_PIPELINES_NGRAMS_H
#define TCAT_PIPELINES_NGRAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "embeddings/hashing.h"
#include "corpora/corpus.h"

typedef struct tcat_ngram_opts {
    int word_n;   /* 0 (no word features) to 3 */
    int char_min; /* 0 (no char features) or 1..char_max */
    int char_max; /* up to 6 */
    bool punct;   /* punctuation tokens count as words; false: they are
                   * skipped and end a run of touching tokens, which gives
                   * the features of a tokenizer that drops them */
} tcat_ngram_opts;

/* A growable list of hashes. */
typedef struct tcat_hashes {
    uint64_t *v;
    size_t n, cap;
} tcat_hashes;

void tcat_hashes_free(tcat_hashes *h);

/* Appends the word n-gram hashes of document d of c to words and its char
 * n-gram hashes to chars (either may be NULL to skip that kind). */
tcat_status tcat_ngrams_doc(const tcat_corpus *c, size_t d, const tcat_ngram_opts *o,
                            tcat_hashes *words, tcat_hashes *chars);

#endif
