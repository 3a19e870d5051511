#include "embeddings/wordids.h"

#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "embeddings/hashing.h"
#include "embeddings/vectors.h"

uint64_t tcat_wordids_hash(const char *word, size_t len)
{
    return XXH3_64bits_withSeed(word, len, TCAT_WORD_SEED);
}

static size_t slot_of(uint64_t h, size_t mask) { return (size_t)(h ^ (h >> 31)) & mask; }

static tcat_status index_words(tcat_wordids *v)
{
    size_t ns = 16;
    while (ns < 2 * v->n)
        ns *= 2;
    free(v->slot);
    if (!(v->slot = calloc(ns, sizeof *v->slot)))
        return TCAT_ERR_NOMEM;
    v->nslots = ns;
    for (size_t i = 0; i < v->n; i++) {
        size_t s = slot_of(v->hash[i], ns - 1);
        while (v->slot[s])
            s = (s + 1) & (ns - 1);
        v->slot[s] = (uint32_t)(i + 1);
    }
    return TCAT_OK;
}

int64_t tcat_wordids_find(const tcat_wordids *v, uint64_t h)
{
    if (!v->nslots)
        return -1;
    size_t mask = v->nslots - 1, s = slot_of(h, mask);
    for (;;) {
        uint32_t id = v->slot[s];
        if (!id)
            return -1;
        if (v->hash[id - 1] == h)
            return id - 1;
        s = (s + 1) & mask;
    }
}

void tcat_wordids_free(tcat_wordids *v)
{
    free(v->own);
    free(v->slot);
    memset(v, 0, sizeof *v);
}

tcat_status tcat_wordids_view(tcat_wordids *v, const uint64_t *hash, size_t n)
{
    tcat_wordids_free(v);
    for (size_t i = 1; i < n; i++)
        if (hash[i] <= hash[i - 1])
            return TCAT_ERR_MODEL;
    if (n > UINT32_MAX - 1)
        return TCAT_ERR_MODEL;
    v->hash = hash;
    v->n = n;
    tcat_status st = index_words(v);
    if (st != TCAT_OK)
        tcat_wordids_free(v);
    return st;
}

/* ---- counting --------------------------------------------------------------- */

typedef struct counts {
    uint64_t *key;
    uint64_t *cnt; /* 0: empty slot */
    size_t ns, used;
} counts;

static tcat_status counts_grow(counts *c)
{
    size_t n2 = c->ns ? 2 * c->ns : 1 << 16;
    uint64_t *k2 = malloc(n2 * sizeof *k2), *c2 = calloc(n2, sizeof *c2);
    if (!k2 || !c2) {
        free(k2);
        free(c2);
        return TCAT_ERR_NOMEM;
    }
    for (size_t s = 0; s < c->ns; s++)
        if (c->cnt[s]) {
            size_t q = slot_of(c->key[s], n2 - 1);
            while (c2[q])
                q = (q + 1) & (n2 - 1);
            k2[q] = c->key[s];
            c2[q] = c->cnt[s];
        }
    free(c->key);
    free(c->cnt);
    c->key = k2;
    c->cnt = c2;
    c->ns = n2;
    return TCAT_OK;
}

typedef struct kc {
    uint64_t key, cnt;
} kc;

static int by_count_then_hash(const void *a, const void *b)
{
    const kc *x = a, *y = b;
    if (x->cnt != y->cnt)
        return x->cnt > y->cnt ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int by_hash(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

tcat_status tcat_wordids_build(tcat_wordids *v, const tcat_docs *docs, uint64_t min_count,
                               size_t max_words)
{
    memset(v, 0, sizeof *v);
    counts c = {0};
    tcat_status st = counts_grow(&c);
    for (size_t i = 0; i < docs->n && st == TCAT_OK; i++) {
        size_t nt, d = tcat_docs_at(docs, i);
        const tcat_span *t = tcat_corpus_tokens(docs->c, d, &nt);
        for (size_t k = 0; k < nt; k++) {
            if (2 * (c.used + 1) > c.ns && (st = counts_grow(&c)) != TCAT_OK)
                break;
            uint64_t h = tcat_wordids_hash(docs->c->text.data + t[k].off, t[k].len);
            size_t s = slot_of(h, c.ns - 1);
            while (c.cnt[s] && c.key[s] != h)
                s = (s + 1) & (c.ns - 1);
            if (!c.cnt[s]) {
                c.key[s] = h;
                c.used++;
            }
            c.cnt[s]++;
        }
    }
    kc *list = NULL;
    size_t n = 0;
    if (st == TCAT_OK && !(list = malloc((c.used ? c.used : 1) * sizeof *list)))
        st = TCAT_ERR_NOMEM;
    if (st == TCAT_OK)
        for (size_t s = 0; s < c.ns; s++)
            if (c.cnt[s] && c.cnt[s] >= min_count)
                list[n++] = (kc){c.key[s], c.cnt[s]};
    free(c.key);
    free(c.cnt);
    if (st != TCAT_OK) {
        free(list);
        return st;
    }
    if (max_words > 0 && n > max_words) {
        qsort(list, n, sizeof *list, by_count_then_hash);
        n = max_words;
    }
    if (n > UINT32_MAX - 1)
        n = UINT32_MAX - 1;
    if (!(v->own = malloc((n ? n : 1) * sizeof *v->own))) {
        free(list);
        return TCAT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        v->own[i] = list[i].key;
    free(list);
    /* sorted hashes: ids independent of the table's layout */
    qsort(v->own, n, sizeof *v->own, by_hash);
    v->hash = v->own;
    v->n = n;
    if ((st = index_words(v)) != TCAT_OK)
        tcat_wordids_free(v);
    return st;
}

size_t tcat_wordids_rows_from_vectors(const tcat_wordids *v, const tcat_docs *docs,
                                      const tcat_vec *vec, tcat_tensor *E)
{
    size_t set = 0;
    unsigned char *done = calloc(v->n ? v->n : 1, 1);
    if (!done)
        return 0;
    for (size_t i = 0; i < docs->n; i++) {
        size_t nt;
        const tcat_span *t = tcat_corpus_tokens(docs->c, tcat_docs_at(docs, i), &nt);
        for (size_t k = 0; k < nt; k++) {
            const char *word = docs->c->text.data + t[k].off;
            int64_t id = tcat_wordids_find(v, tcat_wordids_hash(word, t[k].len));
            if (id < 0 || done[id])
                continue;
            done[id] = 1;
            if (tcat_vec_get(vec, word, t[k].len, tcat_tensor_row(E, (size_t)id)) !=
                TCAT_VEC_MISSING)
                set++;
        }
    }
    free(done);
    return set;
}
