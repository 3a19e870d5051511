/*
 * tokenizer/subword_impl.h — what subword.c, subword_bpe.c and
 * subword_unigram.c share: the vocabulary object, two hash tables and the
 * prepared training words. Not part of the installed API.
 */
#ifndef TCAT_TOKENIZER_SUBWORD_IMPL_H
#define TCAT_TOKENIZER_SUBWORD_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/status.h"
#include "tokenizer/subword.h"

#define SW_NONE UINT32_MAX

/* ---- u64 -> u32 hash map (open addressing, linear probing) ------------- */

typedef struct sw_u64map {
    uint64_t *key;
    uint32_t *val; /* SW_NONE: empty slot */
    size_t cap, n; /* cap a power of two (0 before the first put) */
} sw_u64map;

static inline size_t sw_mix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    k *= 0xC4CEB9FE1A85EC53ull;
    k ^= k >> 33;
    return (size_t)k;
}

/* The value of key, or SW_NONE. */
static inline uint32_t sw_u64map_get(const sw_u64map *m, uint64_t key)
{
    if (!m->cap)
        return SW_NONE;
    size_t mask = m->cap - 1;
    for (size_t i = sw_mix64(key) & mask;; i = (i + 1) & mask) {
        if (m->val[i] == SW_NONE)
            return SW_NONE;
        if (m->key[i] == key)
            return m->val[i];
    }
}

/* Sets key to val (val != SW_NONE). TCAT_ERR_NOMEM. */
tcat_status sw_u64map_put(sw_u64map *m, uint64_t key, uint32_t val);
void sw_u64map_free(sw_u64map *m);

static inline uint64_t sw_pair(uint32_t a, uint32_t b)
{
    return (uint64_t)a << 32 | b;
}

/* ---- string interning: bytes -> dense index ----------------------------- */

typedef struct sw_intern {
    tcat_buf pool;    /* the strings' bytes, one after the other */
    uint32_t *off;    /* string i: pool.data[off[i] .. off[i] + len[i]) */
    uint32_t *len;
    uint32_t *hash;   /* low 32 bits of XXH3 of each string */
    size_t n, cap;
    uint32_t *slot;   /* index + 1, 0: empty */
    size_t nslots;    /* a power of two */
} sw_intern;

/* Index of s[0..len), adding it when new (*added tells). TCAT_ERR_NOMEM,
 * TCAT_ERR_UNSUPPORTED past 2^32 - 2 strings or 4 GB of bytes. */
tcat_status sw_intern_add(sw_intern *t, const char *s, size_t len, uint32_t *idx, bool *added);
/* Index of s[0..len), or SW_NONE. */
uint32_t sw_intern_find(const sw_intern *t, const char *s, size_t len);
static inline const char *sw_intern_str(const sw_intern *t, uint32_t i, size_t *len)
{
    *len = t->len[i];
    return t->pool.data + t->off[i];
}
void sw_intern_free(sw_intern *t);

/* ---- the vocabulary ----------------------------------------------------- */

/* One line of a BPE vocabulary: a base symbol (left < 0) or a merge. Ids
 * are vocabulary ids (256 and up). */
typedef struct sw_line {
    int32_t left, right, result;
} sw_line;

struct tcat_subword {
    tcat_subword_type type;
    sw_intern pieces;   /* learned piece k has id 256 + k */
    float *score;       /* per learned piece (see tcat_subword_score) */
    float unk_score;    /* unigram: the score of one byte-fallback character */
    /* BPE */
    sw_line *lines;     /* the file's entries, in order */
    size_t nlines;
    sw_line *merges;    /* by rank */
    size_t nmerges;
    sw_u64map merge;    /* sw_pair(left, right) -> rank */
    int32_t ascii[128]; /* base symbol id of each ASCII character, or -1 */
    /* unigram: a double-array trie over the pieces' bytes (Aoe 1989):
     * the child of node s by byte c is t = base[s] + c when check[t] == s;
     * val[t] is the id of the piece ending there, or -1. Node 0 is the
     * root. */
    int32_t *da_base, *da_check, *da_val;
    size_t da_size;
    char byte_name[256][7]; /* "<0xHH>" */
};

/* Builds a vocabulary from pieces (moved into it: *pieces is emptied) and,
 * for unigram, their scores (copied, one per piece); for BPE, its lines
 * (copied; results must index pieces). TCAT_ERR_NOMEM. */
tcat_status sw_vocab_build(tcat_subword **out, tcat_subword_type type, sw_intern *pieces,
                           const float *scores, const sw_line *lines, size_t nlines);

/* A segment of an encoded word: piece id, or -1 for bytes [off, off+len)
 * of the marked word encoded by byte fallback. */
typedef struct sw_seg {
    int32_t id;
    uint32_t off, len;
} sw_seg;

/* Segment the marked word m[0..mlen) (mark included) into seg (room for
 * mlen entries); *nseg receives the count. scratch: see each function.
 * TCAT_ERR_NOMEM only. */
tcat_status sw_bpe_segment(const tcat_subword *v, const char *m, size_t mlen, sw_seg *seg,
                           size_t *nseg);
tcat_status sw_unigram_segment(const tcat_subword *v, const char *m, size_t mlen, sw_seg *seg,
                               size_t *nseg);

/* Builds the double-array trie of a unigram vocabulary. */
tcat_status sw_trie_build(tcat_subword *v);

/* ---- prepared training words ------------------------------------------- */

typedef struct sw_words {
    size_t n;           /* distinct words, count > 0, sorted by bytes */
    uint64_t *count;
    char *text;         /* "▁" + word of each, one after the other */
    size_t text_len;
    uint32_t *wunit;    /* word w: units [wunit[w], wunit[w + 1]) */
    uint32_t *uoff;     /* unit u: text[uoff[u] .. uoff[u + 1]); nunits + 1 of them */
    int32_t *uchar;     /* unit u: its base character (index into chars), or -1 */
    size_t nunits;
    size_t maxunits;    /* units of the longest word */
    sw_intern chars;    /* the base characters, most frequent first */
    uint64_t *char_count;
} sw_words;

void sw_words_free(sw_words *w);

tcat_status sw_train_bpe(tcat_subword **out, const sw_words *w, const tcat_subword_params *p,
                         tcat_error *err);
tcat_status sw_train_unigram(tcat_subword **out, const sw_words *w,
                             const tcat_subword_params *p, tcat_error *err);

#endif
