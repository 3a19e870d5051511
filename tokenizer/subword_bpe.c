/*
 * tokenizer/subword_bpe.c — byte-pair encoding: training and segmenting.
 *
 * Sennrich, Haddow and Birch 2016, "Neural machine translation of rare
 * words with subword units": every word starts as its characters; the
 * most frequent pair of adjacent symbols (counted over the distinct words,
 * each weighted by its count) becomes a new symbol, until the vocabulary
 * has the size asked for.
 *
 * Training does not rescan the words for each merge. It keeps the count
 * of every pair, the words each pair occurs in, and a max-heap of pairs
 * by count. A merge visits only the words holding its pair and changes
 * only the counts of the pairs around each occurrence: (p, a) and (b, n)
 * lose, (p, ab) and (ab, n) gain. The heap is lazy: an entry whose count
 * is out of date is refreshed when it reaches the top; every pair whose
 * count grew gets a fresh entry, so the top entry is always a true
 * maximum once checked.
 *
 * Segmenting a word applies the merges by rank with a min-heap of
 * (rank, position) over the adjacent pairs, so a long word costs
 * O(n log n), not a pass over all merges.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/subword_impl.h"
#include "tokenizer/utf8.h"

/* ---- training --------------------------------------------------------------- */

typedef struct occ {
    uint32_t *v; /* word indices, in order, no two equal neighbours */
    uint32_t n, cap;
} occ;

typedef struct heap_entry {
    int64_t count;
    uint32_t pair;
} heap_entry;

typedef struct bpe {
    const sw_words *w;
    size_t maxlen;      /* longest piece, characters */
    int32_t *sym;       /* symbol of each unit still standing (-1: not mergeable) */
    uint32_t *nxt, *prv;
    sw_intern pieces;   /* training ids: base characters first */
    uint16_t *plen;     /* characters in each piece */
    size_t plen_cap;
    sw_u64map pair_of;  /* sw_pair(a, b) -> pair index */
    uint64_t *pkey;
    int64_t *pcount;
    occ *pocc;
    uint32_t *pinc;     /* merge number that last raised the count */
    size_t npairs, pcap;
    heap_entry *heap;
    size_t nheap, heapcap;
    uint32_t *wstamp;   /* merge number that last visited each word */
    uint32_t *inc;      /* pairs raised by the current merge */
    size_t ninc, inccap;
    uint32_t merge_no;  /* 0 while counting the initial pairs */
} bpe;

/* Heap order: higher count first; ties: lower left id, then lower right id. */
static inline bool above(const bpe *b, heap_entry x, heap_entry y)
{
    if (x.count != y.count)
        return x.count > y.count;
    return b->pkey[x.pair] < b->pkey[y.pair];
}

static void sift_down(bpe *b, size_t i)
{
    heap_entry *h = b->heap;
    size_t n = b->nheap;
    heap_entry x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && above(b, h[c + 1], h[c]))
            c++;
        if (!above(b, h[c], x))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static tcat_status heap_push(bpe *b, heap_entry e)
{
    if (b->nheap == b->heapcap) {
        size_t cap = b->heapcap ? b->heapcap * 2 : 1024;
        heap_entry *h = realloc(b->heap, cap * sizeof *h);
        if (!h)
            return TCAT_ERR_NOMEM;
        b->heap = h;
        b->heapcap = cap;
    }
    size_t i = b->nheap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!above(b, e, b->heap[parent]))
            break;
        b->heap[i] = b->heap[parent];
        i = parent;
    }
    b->heap[i] = e;
    return TCAT_OK;
}

static heap_entry heap_pop(bpe *b)
{
    heap_entry top = b->heap[0];
    b->heap[0] = b->heap[--b->nheap];
    if (b->nheap)
        sift_down(b, 0);
    return top;
}

static tcat_status new_pair(bpe *b, uint64_t key, uint32_t *idx)
{
    if (b->npairs == b->pcap) {
        size_t cap = b->pcap ? b->pcap * 2 : 4096;
        uint64_t *k = realloc(b->pkey, cap * sizeof *k);
        if (!k)
            return TCAT_ERR_NOMEM;
        b->pkey = k;
        int64_t *c = realloc(b->pcount, cap * sizeof *c);
        if (!c)
            return TCAT_ERR_NOMEM;
        b->pcount = c;
        occ *o = realloc(b->pocc, cap * sizeof *o);
        if (!o)
            return TCAT_ERR_NOMEM;
        b->pocc = o;
        uint32_t *s = realloc(b->pinc, cap * sizeof *s);
        if (!s)
            return TCAT_ERR_NOMEM;
        b->pinc = s;
        b->pcap = cap;
    }
    *idx = (uint32_t)b->npairs;
    if (sw_u64map_put(&b->pair_of, key, *idx) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    b->pkey[*idx] = key;
    b->pcount[*idx] = 0;
    b->pocc[*idx] = (occ){0};
    b->pinc[*idx] = 0;
    b->npairs++;
    return TCAT_OK;
}

/* Adds delta to the count of pair (x, y) in word wi. Pairs with a symbol
 * that cannot merge, or making a piece too long, are not counted. */
static tcat_status pair_add(bpe *b, int32_t x, int32_t y, int64_t delta, uint32_t wi)
{
    if (x < 0 || y < 0 || (size_t)b->plen[x] + b->plen[y] > b->maxlen)
        return TCAT_OK;
    uint64_t key = sw_pair((uint32_t)x, (uint32_t)y);
    uint32_t idx = sw_u64map_get(&b->pair_of, key);
    if (idx == SW_NONE) {
        if (delta <= 0)
            return TCAT_OK; /* cannot happen: a pair is counted before it is taken away */
        if (new_pair(b, key, &idx) != TCAT_OK)
            return TCAT_ERR_NOMEM;
    }
    b->pcount[idx] += delta;
    if (delta <= 0)
        return TCAT_OK;
    occ *o = &b->pocc[idx];
    if (o->n == 0 || o->v[o->n - 1] != wi) {
        if (o->n == o->cap) {
            uint32_t cap = o->cap ? o->cap * 2 : 4;
            uint32_t *v = realloc(o->v, cap * sizeof *v);
            if (!v)
                return TCAT_ERR_NOMEM;
            o->v = v;
            o->cap = cap;
        }
        o->v[o->n++] = wi;
    }
    if (b->merge_no && b->pinc[idx] != b->merge_no) {
        b->pinc[idx] = b->merge_no;
        if (b->ninc == b->inccap) {
            size_t cap = b->inccap ? b->inccap * 2 : 256;
            uint32_t *v = realloc(b->inc, cap * sizeof *v);
            if (!v)
                return TCAT_ERR_NOMEM;
            b->inc = v;
            b->inccap = cap;
        }
        b->inc[b->ninc++] = idx;
    }
    return TCAT_OK;
}

static tcat_status add_piece(bpe *b, const char *s, size_t len, size_t chars, uint32_t *idx)
{
    bool added;
    tcat_status st = sw_intern_add(&b->pieces, s, len, idx, &added);
    if (st != TCAT_OK || !added)
        return st;
    if (b->pieces.n > b->plen_cap) {
        size_t cap = b->plen_cap ? b->plen_cap * 2 : 1024;
        uint16_t *p = realloc(b->plen, cap * sizeof *p);
        if (!p)
            return TCAT_ERR_NOMEM;
        b->plen = p;
        b->plen_cap = cap;
    }
    b->plen[*idx] = (uint16_t)chars;
    return TCAT_OK;
}

/* Merges every occurrence of pair idx = (x, y) into symbol z. */
static tcat_status apply_merge(bpe *b, uint32_t idx, int32_t x, int32_t y, int32_t z)
{
    const sw_words *w = b->w;
    occ o = b->pocc[idx];
    b->pocc[idx] = (occ){0};
    tcat_status st = TCAT_OK;
    for (uint32_t i = 0; i < o.n && st == TCAT_OK; i++) {
        uint32_t wi = o.v[i];
        if (b->wstamp[wi] == b->merge_no)
            continue;
        b->wstamp[wi] = b->merge_no;
        int64_t c = (int64_t)w->count[wi];
        uint32_t u = w->wunit[wi];
        while (u != SW_NONE && st == TCAT_OK) {
            uint32_t r = b->nxt[u];
            if (r == SW_NONE || b->sym[u] != x || b->sym[r] != y) {
                u = r;
                continue;
            }
            uint32_t p = b->prv[u], q = b->nxt[r];
            if (p != SW_NONE) {
                st = pair_add(b, b->sym[p], x, -c, wi);
                if (st == TCAT_OK)
                    st = pair_add(b, b->sym[p], z, c, wi);
            }
            if (q != SW_NONE && st == TCAT_OK) {
                st = pair_add(b, y, b->sym[q], -c, wi);
                if (st == TCAT_OK)
                    st = pair_add(b, z, b->sym[q], c, wi);
            }
            b->sym[u] = z;
            b->nxt[u] = q;
            if (q != SW_NONE)
                b->prv[q] = u;
            u = q;
        }
    }
    free(o.v);
    b->pcount[idx] = 0;
    return st;
}

static void bpe_free(bpe *b)
{
    free(b->sym);
    free(b->nxt);
    free(b->prv);
    sw_intern_free(&b->pieces);
    free(b->plen);
    sw_u64map_free(&b->pair_of);
    for (size_t i = 0; i < b->npairs; i++)
        free(b->pocc[i].v);
    free(b->pkey);
    free(b->pcount);
    free(b->pocc);
    free(b->pinc);
    free(b->heap);
    free(b->wstamp);
    free(b->inc);
}

tcat_status sw_train_bpe(tcat_subword **out, const sw_words *w, const tcat_subword_params *p,
                         tcat_error *err)
{
    bpe b = {.w = w, .maxlen = p->max_piece_chars};
    sw_line *lines = NULL;
    size_t nlines = 0, linecap = 0;
    tcat_status st = TCAT_ERR_NOMEM;
    size_t nu = w->nunits;
    b.sym = malloc((nu ? nu : 1) * sizeof *b.sym);
    b.nxt = malloc((nu ? nu : 1) * sizeof *b.nxt);
    b.prv = malloc((nu ? nu : 1) * sizeof *b.prv);
    b.wstamp = calloc(w->n ? w->n : 1, sizeof *b.wstamp);
    if (!b.sym || !b.nxt || !b.prv || !b.wstamp)
        goto done;

    /* base symbols: the characters, most frequent first */
    linecap = w->chars.n + 1024;
    lines = malloc(linecap * sizeof *lines);
    if (!lines)
        goto done;
    for (size_t c = 0; c < w->chars.n; c++) {
        size_t len;
        const char *s = sw_intern_str(&w->chars, (uint32_t)c, &len);
        uint32_t idx;
        if ((st = add_piece(&b, s, len, 1, &idx)) != TCAT_OK)
            goto done;
        lines[nlines++] = (sw_line){-1, -1, (int32_t)idx + TCAT_SUBWORD_NBYTES};
    }

    /* every word as its characters; the initial pair counts */
    for (size_t wi = 0; wi < w->n; wi++) {
        uint32_t a = w->wunit[wi], e = w->wunit[wi + 1];
        for (uint32_t u = a; u < e; u++) {
            b.sym[u] = w->uchar[u];
            b.nxt[u] = u + 1 < e ? u + 1 : SW_NONE;
            b.prv[u] = u > a ? u - 1 : SW_NONE;
        }
        for (uint32_t u = a; u + 1 < e; u++)
            if ((st = pair_add(&b, b.sym[u], b.sym[u + 1], (int64_t)w->count[wi],
                               (uint32_t)wi)) != TCAT_OK)
                goto done;
    }
    b.heap = malloc((b.npairs ? b.npairs : 1) * sizeof *b.heap);
    if (!b.heap) {
        st = TCAT_ERR_NOMEM;
        goto done;
    }
    b.heapcap = b.npairs ? b.npairs : 1;
    for (size_t i = 0; i < b.npairs; i++)
        b.heap[b.nheap++] = (heap_entry){b.pcount[i], (uint32_t)i};
    for (size_t i = b.nheap / 2; i-- > 0;)
        sift_down(&b, i);

    /* merges */
    tcat_buf s = {0};
    while (b.pieces.n < p->size && b.nheap) {
        heap_entry top = heap_pop(&b);
        int64_t now = b.pcount[top.pair];
        if (top.count != now) {
            /* out of date: a lower count goes back in; a higher one has
             * its own entry already */
            if (now > 0 && top.count > now &&
                (st = heap_push(&b, (heap_entry){now, top.pair})) != TCAT_OK)
                break;
            continue;
        }
        if (now <= 0)
            continue;
        int32_t x = (int32_t)(b.pkey[top.pair] >> 32), y = (int32_t)(uint32_t)b.pkey[top.pair];
        size_t lx, ly;
        const char *sx = sw_intern_str(&b.pieces, (uint32_t)x, &lx);
        s.len = 0;
        if ((st = tcat_buf_append(&s, sx, lx)) != TCAT_OK)
            break;
        const char *sy = sw_intern_str(&b.pieces, (uint32_t)y, &ly);
        if ((st = tcat_buf_append(&s, sy, ly)) != TCAT_OK)
            break;
        uint32_t z;
        if ((st = add_piece(&b, s.data, s.len, (size_t)b.plen[x] + b.plen[y], &z)) != TCAT_OK)
            break;
        if (nlines == linecap) {
            linecap *= 2;
            sw_line *l = realloc(lines, linecap * sizeof *l);
            if (!l) {
                st = TCAT_ERR_NOMEM;
                break;
            }
            lines = l;
        }
        lines[nlines++] = (sw_line){x + TCAT_SUBWORD_NBYTES, y + TCAT_SUBWORD_NBYTES,
                                    (int32_t)z + TCAT_SUBWORD_NBYTES};
        b.merge_no++;
        b.ninc = 0;
        if ((st = apply_merge(&b, top.pair, x, y, (int32_t)z)) != TCAT_OK)
            break;
        for (size_t i = 0; i < b.ninc && st == TCAT_OK; i++)
            if (b.pcount[b.inc[i]] > 0)
                st = heap_push(&b, (heap_entry){b.pcount[b.inc[i]], b.inc[i]});
        if (st != TCAT_OK)
            break;
    }
    tcat_buf_free(&s);
    if (st == TCAT_OK)
        st = sw_vocab_build(out, TCAT_SUBWORD_BPE, &b.pieces, NULL, lines, nlines);
done:
    bpe_free(&b);
    free(lines);
    if (st != TCAT_OK)
        return tcat_fail(err, st == TCAT_ERR_UNSUPPORTED ? st : TCAT_ERR_NOMEM,
                         st == TCAT_ERR_UNSUPPORTED ? "too many pieces" : "out of memory");
    return TCAT_OK;
}

/* ---- segmenting ------------------------------------------------------------------ */

/* Base symbol of the unit m[0..len), or -1. */
static inline int32_t base_id(const tcat_subword *v, const char *m, size_t len)
{
    if (len == 1 && (unsigned char)m[0] < 128)
        return v->ascii[(unsigned char)m[0]];
    uint32_t k = sw_intern_find(&v->pieces, m, len);
    return k == SW_NONE ? -1 : (int32_t)k + TCAT_SUBWORD_NBYTES;
}

/* The rank of merging a and b, or SW_NONE. */
static inline uint32_t rank_of(const tcat_subword *v, int32_t a, int32_t b)
{
    if (a < 0 || b < 0)
        return SW_NONE;
    return sw_u64map_get(&v->merge, sw_pair((uint32_t)a, (uint32_t)b));
}

/* min-heap of rank << 32 | position */
static void push_u64(uint64_t *h, size_t *n, uint64_t x)
{
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > x) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static uint64_t pop_u64(uint64_t *h, size_t *n)
{
    uint64_t top = h[0], x = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (h[c] >= x)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = x;
    return top;
}

#define SMALL_UNITS 128

tcat_status sw_bpe_segment(const tcat_subword *v, const char *m, size_t mlen, sw_seg *seg,
                           size_t *nseg)
{
    uint32_t nxt_s[SMALL_UNITS], prv_s[SMALL_UNITS];
    uint64_t heap_s[3 * SMALL_UNITS];
    uint32_t *nxt = nxt_s, *prv = prv_s;
    uint64_t *heap = heap_s;
    /* units */
    size_t k = 0;
    for (size_t i = 0; i < mlen;) {
        size_t ulen = 1;
        int32_t id;
        if ((unsigned char)m[i] < 0x80) {
            id = v->ascii[(unsigned char)m[i]];
        } else {
            int32_t cp;
            ulen = tcat_utf8_decode((const uint8_t *)m + i, mlen - i, &cp);
            id = cp < 0 ? -1 : base_id(v, m + i, ulen);
        }
        seg[k++] = (sw_seg){id, (uint32_t)i, (uint32_t)ulen};
        i += ulen;
    }
    if (k > SMALL_UNITS) {
        nxt = malloc(k * sizeof *nxt);
        prv = malloc(k * sizeof *prv);
        heap = malloc(3 * k * sizeof *heap);
        if (!nxt || !prv || !heap) {
            free(nxt);
            free(prv);
            free(heap);
            return TCAT_ERR_NOMEM;
        }
    }
    size_t nh = 0;
    for (size_t i = 0; i < k; i++) {
        nxt[i] = i + 1 < k ? (uint32_t)i + 1 : SW_NONE;
        prv[i] = i ? (uint32_t)i - 1 : SW_NONE;
        if (i + 1 < k) {
            uint32_t r = rank_of(v, seg[i].id, seg[i + 1].id);
            if (r != SW_NONE)
                push_u64(heap, &nh, (uint64_t)r << 32 | i);
        }
    }
    /* merges, lowest rank first; equal ranks left to right */
    while (nh) {
        uint64_t e = pop_u64(heap, &nh);
        uint32_t r = (uint32_t)(e >> 32), i = (uint32_t)e;
        uint32_t j = nxt[i];
        if (seg[i].len == 0 || j == SW_NONE || rank_of(v, seg[i].id, seg[j].id) != r)
            continue; /* out of date */
        seg[i].id = v->merges[r].result;
        seg[i].len += seg[j].len;
        seg[j].len = 0; /* gone */
        nxt[i] = nxt[j];
        if (nxt[j] != SW_NONE)
            prv[nxt[j]] = i;
        uint32_t q;
        if (prv[i] != SW_NONE && (q = rank_of(v, seg[prv[i]].id, seg[i].id)) != SW_NONE)
            push_u64(heap, &nh, (uint64_t)q << 32 | prv[i]);
        if (nxt[i] != SW_NONE && (q = rank_of(v, seg[i].id, seg[nxt[i]].id)) != SW_NONE)
            push_u64(heap, &nh, (uint64_t)q << 32 | i);
    }
    size_t n = 0;
    for (uint32_t i = 0; i != SW_NONE; i = nxt[i])
        seg[n++] = seg[i];
    *nseg = n;
    if (nxt != nxt_s) {
        free(nxt);
        free(prv);
        free(heap);
    }
    return TCAT_OK;
}
