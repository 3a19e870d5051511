/*
 * embeddings/hashing.h — the hash functions a model file depends on.
 *
 * Models store hashes, not strings (word vocabularies, n-gram buckets),
 * so every build of tcat must compute the same ones; they are fixed here:
 *
 *   word         XXH3-64 of the token's bytes, seed TCAT_WORD_SEED
 *                (0x74636174, "tcat").
 *   word n-gram  the n tokens' hashes t_1..t_n folded left to right,
 *                h = n, then h = mix(h * 0x9E3779B97F4A7C15 + t_i), where
 *                mix is the splitmix64 finaliser (tcat_hash_fold).
 *   char n-gram  XXH3-64 of the n-gram's bytes, seed TCAT_CHAR_SEED
 *                (0x63686172, "char").
 *   bucket       a hashed feature h goes to row h % buckets of its table
 *                (after the rows of the known words).
 */
#ifndef TCAT_EMBEDDINGS_HASHING_H
#define TCAT_EMBEDDINGS_HASHING_H

#include <stdint.h>

#define TCAT_WORD_SEED 0x74636174u /* "tcat" */
#define TCAT_CHAR_SEED 0x63686172u /* "char" */

/* The splitmix64 finaliser: folds n-gram hashes. */
static inline uint64_t tcat_hash_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* One fold step: h = mix(h * 0x9E3779B97F4A7C15 + t). */
static inline uint64_t tcat_hash_fold(uint64_t h, uint64_t t)
{
    return tcat_hash_mix(h * 0x9E3779B97F4A7C15ull + t);
}

#endif
