/*
 * tokenizer/subword_tables.c — the lookup structures of the subword module:
 * a u64 -> u32 hash map (BPE pairs and merges), string interning (pieces,
 * words, characters) and the double-array trie the unigram segmenter
 * walks (Aoe 1989, "An efficient digital search algorithm by using a
 * double-array structure").
 */
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* hashed on every lookup: no call into the library */
#include <xxhash.h>

#include "tokenizer/subword_impl.h"

/* ---- u64 map --------------------------------------------------------------- */

static tcat_status u64map_grow(sw_u64map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *key = malloc(cap * sizeof *key);
    uint32_t *val = malloc(cap * sizeof *val);
    if (!key || !val) {
        free(key);
        free(val);
        return TCAT_ERR_NOMEM;
    }
    memset(val, 0xFF, cap * sizeof *val);
    for (size_t i = 0; i < m->cap; i++) {
        if (m->val[i] == SW_NONE)
            continue;
        size_t j = sw_mix64(m->key[i]) & (cap - 1);
        while (val[j] != SW_NONE)
            j = (j + 1) & (cap - 1);
        key[j] = m->key[i];
        val[j] = m->val[i];
    }
    free(m->key);
    free(m->val);
    m->key = key;
    m->val = val;
    m->cap = cap;
    return TCAT_OK;
}

tcat_status sw_u64map_put(sw_u64map *m, uint64_t key, uint32_t val)
{
    if ((m->n + 1) * 2 > m->cap && u64map_grow(m) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    size_t mask = m->cap - 1;
    size_t i = sw_mix64(key) & mask;
    while (m->val[i] != SW_NONE && m->key[i] != key)
        i = (i + 1) & mask;
    if (m->val[i] == SW_NONE)
        m->n++;
    m->key[i] = key;
    m->val[i] = val;
    return TCAT_OK;
}

void sw_u64map_free(sw_u64map *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

/* ---- string interning ------------------------------------------------------ */

static uint32_t str_hash(const char *s, size_t len)
{
    return (uint32_t)XXH3_64bits(s, len);
}

static tcat_status intern_rehash(sw_intern *t, size_t nslots)
{
    uint32_t *slot = calloc(nslots, sizeof *slot);
    if (!slot)
        return TCAT_ERR_NOMEM;
    for (size_t i = 0; i < t->n; i++) {
        size_t j = t->hash[i] & (nslots - 1);
        while (slot[j])
            j = (j + 1) & (nslots - 1);
        slot[j] = (uint32_t)i + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->nslots = nslots;
    return TCAT_OK;
}

static uint32_t intern_lookup(const sw_intern *t, const char *s, size_t len, uint32_t h,
                              size_t *where)
{
    size_t mask = t->nslots - 1;
    size_t j = h & mask;
    for (;; j = (j + 1) & mask) {
        uint32_t k = t->slot[j];
        if (!k)
            break;
        k--;
        if (t->hash[k] == h && t->len[k] == len && memcmp(t->pool.data + t->off[k], s, len) == 0) {
            *where = j;
            return k;
        }
    }
    *where = j;
    return SW_NONE;
}

uint32_t sw_intern_find(const sw_intern *t, const char *s, size_t len)
{
    if (!t->nslots)
        return SW_NONE;
    size_t where;
    return intern_lookup(t, s, len, str_hash(s, len), &where);
}

tcat_status sw_intern_add(sw_intern *t, const char *s, size_t len, uint32_t *idx, bool *added)
{
    if ((t->n + 1) * 2 > t->nslots) {
        tcat_status st = intern_rehash(t, t->nslots ? t->nslots * 2 : 64);
        if (st != TCAT_OK)
            return st;
    }
    uint32_t h = str_hash(s, len);
    size_t where;
    uint32_t k = intern_lookup(t, s, len, h, &where);
    if (added)
        *added = k == SW_NONE;
    if (k != SW_NONE) {
        *idx = k;
        return TCAT_OK;
    }
    if (t->n >= SW_NONE - 2 || len > UINT32_MAX - t->pool.len)
        return TCAT_ERR_UNSUPPORTED;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        uint32_t *off = realloc(t->off, cap * sizeof *off);
        if (!off)
            return TCAT_ERR_NOMEM;
        t->off = off;
        uint32_t *ln = realloc(t->len, cap * sizeof *ln);
        if (!ln)
            return TCAT_ERR_NOMEM;
        t->len = ln;
        uint32_t *hs = realloc(t->hash, cap * sizeof *hs);
        if (!hs)
            return TCAT_ERR_NOMEM;
        t->hash = hs;
        t->cap = cap;
    }
    uint32_t off = (uint32_t)t->pool.len;
    if (tcat_buf_append(&t->pool, s, len) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    t->off[t->n] = off;
    t->len[t->n] = (uint32_t)len;
    t->hash[t->n] = h;
    t->slot[where] = (uint32_t)t->n + 1;
    *idx = (uint32_t)t->n++;
    return TCAT_OK;
}

void sw_intern_free(sw_intern *t)
{
    tcat_buf_free(&t->pool);
    free(t->off);
    free(t->len);
    free(t->hash);
    free(t->slot);
    memset(t, 0, sizeof *t);
}

/* ---- the double-array trie ---------------------------------------------- */

typedef struct da_key {
    const unsigned char *s;
    uint32_t len;
    int32_t id;
} da_key;

static int cmp_key(const void *a, const void *b)
{
    const da_key *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* The arrays grow together; nf[i] leads to the first free slot >= i (a
 * union-find over taken slots, with path halving), so finding room for a
 * node's children skips taken slots in near-constant time. */
static tcat_status da_grow(tcat_subword *v, uint32_t **nf, size_t need)
{
    if (need <= v->da_size)
        return TCAT_OK;
    size_t size = v->da_size ? v->da_size : 1024;
    while (size < need)
        size *= 2;
    if (size > INT32_MAX)
        return TCAT_ERR_NOMEM;
    int32_t *b = realloc(v->da_base, size * sizeof *b);
    if (b)
        v->da_base = b;
    int32_t *c = realloc(v->da_check, size * sizeof *c);
    if (c)
        v->da_check = c;
    int32_t *l = realloc(v->da_val, size * sizeof *l);
    if (l)
        v->da_val = l;
    uint32_t *f = realloc(*nf, (size + 1) * sizeof *f);
    if (f)
        *nf = f;
    if (!b || !c || !l || !f)
        return TCAT_ERR_NOMEM;
    for (size_t i = v->da_size; i < size; i++) {
        v->da_base[i] = 0;
        v->da_check[i] = -1; /* free */
        v->da_val[i] = -1;
        f[i] = (uint32_t)i;
    }
    f[size] = (uint32_t)size; /* past the end: "free", the arrays grow there */
    v->da_size = size;
    return TCAT_OK;
}

static size_t next_free(uint32_t *nf, size_t i)
{
    while (nf[i] != i) {
        nf[i] = nf[nf[i]];
        i = nf[i];
    }
    return i;
}

typedef struct da_task {
    uint32_t lo, hi, depth;
    int32_t node;
} da_task;

tcat_status sw_trie_build(tcat_subword *v)
{
    size_t np = v->pieces.n;
    da_key *keys = malloc((np ? np : 1) * sizeof *keys);
    da_task *stack = malloc((np + 1) * sizeof *stack);
    uint32_t *nf = NULL;
    tcat_status st = TCAT_ERR_NOMEM;
    if (!keys || !stack || da_grow(v, &nf, 1024) != TCAT_OK)
        goto done;
    for (size_t k = 0; k < np; k++) {
        size_t len;
        keys[k].s = (const unsigned char *)sw_intern_str(&v->pieces, (uint32_t)k, &len);
        keys[k].len = (uint32_t)len;
        keys[k].id = (int32_t)(k + TCAT_SUBWORD_NBYTES);
    }
    qsort(keys, np, sizeof *keys, cmp_key);
    v->da_check[0] = -2; /* the root: taken, child of nobody */
    nf[0] = 1;
    size_t top = 0;
    stack[top++] = (da_task){0, (uint32_t)np, 0, 0};
    while (top) {
        da_task t = stack[--top];
        uint32_t lo = t.lo;
        if (lo < t.hi && keys[lo].len == t.depth) /* sorts first among its extensions */
            v->da_val[t.node] = keys[lo++].id;
        if (lo == t.hi)
            continue;
        /* the children's labels, in order */
        unsigned char labels[256];
        uint32_t from[257];
        int nl = 0;
        for (uint32_t i = lo; i < t.hi; i++) {
            unsigned char c = keys[i].s[t.depth];
            if (nl == 0 || labels[nl - 1] != c) {
                labels[nl] = c;
                from[nl++] = i;
            }
        }
        from[nl] = t.hi;
        /* the first base >= 1 at which every child's slot is free: try the
         * free slots for the first label only */
        size_t b;
        for (size_t q = next_free(nf, (size_t)labels[0] + 1);; q = next_free(nf, q + 1)) {
            b = q - labels[0];
            if (da_grow(v, &nf, b + 257) != TCAT_OK)
                goto done;
            int i = 1;
            while (i < nl && v->da_check[b + labels[i]] == -1)
                i++;
            if (i == nl)
                break;
        }
        v->da_base[t.node] = (int32_t)b;
        for (int i = 0; i < nl; i++) {
            v->da_check[b + labels[i]] = t.node;
            nf[b + labels[i]] = (uint32_t)(b + labels[i] + 1);
        }
        for (int i = nl - 1; i >= 0; i--)
            stack[top++] = (da_task){from[i], from[i + 1], t.depth + 1, (int32_t)(b + labels[i])};
    }
    st = TCAT_OK;
done:
    free(keys);
    free(stack);
    free(nf);
    return st;
}
