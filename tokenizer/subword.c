/*
 * tokenizer/subword.c — subword vocabularies: word counts, the prepared
 * training words, the vocabulary object, encoding and its cache. The two
 * trainers and segmenters are in subword_bpe.c and subword_unigram.c, the
 * hash tables and the trie in subword_tables.c, the vocabulary file in
 * subword_file.c; tokenizer/subword.h tells the whole story.
 */
#include "tokenizer/subword.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* the cache hashes every token: no call into the library */
#include <xxhash.h>

#include "tokenizer/subword_impl.h"
#include "tokenizer/utf8.h"
/* ---- word counts ---------------------------------------------------------- */

struct tcat_wordcounts {
    sw_intern words;
    uint64_t *count;
    size_t cap;
    uint64_t total;
    tcat_wordcount *list; /* built by tcat_wordcounts_list */
};

tcat_status tcat_wordcounts_init(tcat_wordcounts **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? TCAT_OK : TCAT_ERR_NOMEM;
}

tcat_status tcat_wordcounts_add(tcat_wordcounts *wc, const char *word, size_t len,
                                uint64_t count)
{
    if (wc->words.n == wc->cap) { /* room for a new word's count first */
        size_t cap = wc->cap ? wc->cap * 2 : 1024;
        uint64_t *c = realloc(wc->count, cap * sizeof *c);
        if (!c)
            return TCAT_ERR_NOMEM;
        wc->count = c;
        wc->cap = cap;
    }
    uint32_t k;
    bool added;
    tcat_status st = sw_intern_add(&wc->words, word, len, &k, &added);
    if (st != TCAT_OK)
        return st;
    if (added)
        wc->count[k] = 0;
    uint64_t c = wc->count[k] + count;
    wc->count[k] = c < count ? UINT64_MAX : c; /* saturates */
    wc->total = wc->total + count < count ? UINT64_MAX : wc->total + count;
    return TCAT_OK;
}

size_t tcat_wordcounts_size(const tcat_wordcounts *wc)
{
    return wc->words.n;
}

uint64_t tcat_wordcounts_total(const tcat_wordcounts *wc)
{
    return wc->total;
}

tcat_status tcat_wordcounts_list(tcat_wordcounts *wc, const tcat_wordcount **list, size_t *n)
{
    free(wc->list);
    wc->list = malloc((wc->words.n ? wc->words.n : 1) * sizeof *wc->list);
    if (!wc->list)
        return TCAT_ERR_NOMEM;
    for (size_t i = 0; i < wc->words.n; i++) {
        wc->list[i].word = sw_intern_str(&wc->words, (uint32_t)i, &wc->list[i].len);
        wc->list[i].count = wc->count[i];
    }
    *list = wc->list;
    *n = wc->words.n;
    return TCAT_OK;
}

void tcat_wordcounts_free(tcat_wordcounts **wc)
{
    if (!wc || !*wc)
        return;
    sw_intern_free(&(*wc)->words);
    free((*wc)->count);
    free((*wc)->list);
    free(*wc);
    *wc = NULL;
}

/* ---- parameters and names --------------------------------------------------- */

const char *tcat_subword_type_name(tcat_subword_type t)
{
    return t == TCAT_SUBWORD_BPE ? "bpe" : "unigram";
}

tcat_status tcat_subword_type_parse(const char *name, tcat_subword_type *out, tcat_error *err)
{
    if (strcmp(name, "unigram") == 0)
        *out = TCAT_SUBWORD_UNIGRAM;
    else if (strcmp(name, "bpe") == 0)
        *out = TCAT_SUBWORD_BPE;
    else
        return tcat_fail(err, TCAT_ERR_USAGE, "unknown subword type '%s' (bpe or unigram)", name);
    return TCAT_OK;
}

void tcat_subword_params_default(tcat_subword_params *p)
{
    p->type = TCAT_SUBWORD_UNIGRAM;
    p->size = 8000;
    p->char_coverage = 0.9995;
    p->max_piece_chars = 16;
    p->seed_size = 1000000;
    p->shrink = 0.75;
    p->em_iters = 2;
}

/* ---- preparing the training words ------------------------------------------- */

void sw_words_free(sw_words *w)
{
    free(w->count);
    free(w->text);
    free(w->wunit);
    free(w->uoff);
    free(w->uchar);
    sw_intern_free(&w->chars);
    free(w->char_count);
    memset(w, 0, sizeof *w);
}

static int cmp_word(const void *a, const void *b)
{
    const tcat_wordcount *x = *(const tcat_wordcount *const *)a;
    const tcat_wordcount *y = *(const tcat_wordcount *const *)b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->word, y->word, n) : 0;
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

typedef struct char_rank {
    uint32_t idx;
    uint64_t count;
    const char *s;
    size_t len;
} char_rank;

static int cmp_char(const void *a, const void *b)
{
    const char_rank *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* All characters seen, by their bytes, with their weighted counts. */
typedef struct char_counts {
    sw_intern all;
    uint64_t *count;
    size_t cap;
} char_counts;

static tcat_status count_char(char_counts *cc, const char *s, size_t len, uint64_t n,
                              uint32_t *idx)
{
    bool added;
    tcat_status st = sw_intern_add(&cc->all, s, len, idx, &added);
    if (st != TCAT_OK || !added) {
        if (st == TCAT_OK) {
            uint64_t c = cc->count[*idx] + n;
            cc->count[*idx] = c < n ? UINT64_MAX : c; /* saturates */
        }
        return st;
    }
    if (cc->all.n > cc->cap) {
        size_t cap = cc->cap ? cc->cap * 2 : 1024;
        uint64_t *c = realloc(cc->count, cap * sizeof *c);
        if (!c)
            return TCAT_ERR_NOMEM;
        cc->count = c;
        cc->cap = cap;
    }
    cc->count[*idx] = n;
    return TCAT_OK;
}

/* 1. The distinct words with a count, sorted by bytes, duplicates added
 * up: w->n, w->count, and *order (the words, for the text). */
static tcat_status unique_words(sw_words *w, const tcat_wordcount *words, size_t n,
                                const tcat_wordcount ***order_out, size_t *bytes_out,
                                tcat_error *err)
{
    const tcat_wordcount **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (words[i].count)
            order[m++] = &words[i];
    if (m == 0) {
        free(order);
        return tcat_fail(err, TCAT_ERR_INPUT, "no words to train a subword vocabulary on");
    }
    qsort(order, m, sizeof *order, cmp_word);
    size_t nw = 0, bytes = 0;
    for (size_t i = 0; i < m; i++) {
        if (nw && cmp_word(&order[nw - 1], &order[i]) == 0)
            continue; /* its count is added below */
        order[nw++] = order[i];
        bytes += TCAT_SUBWORD_MARK_LEN + order[i]->len;
        if (bytes > UINT32_MAX - 8) {
            free(order);
            return tcat_fail(err, TCAT_ERR_UNSUPPORTED,
                             "the distinct words hold more than 4 GB: too many to train on");
        }
    }
    w->n = nw;
    w->count = calloc(nw, sizeof *w->count);
    if (!w->count) {
        free(order);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) { /* binary search in the unique list */
        if (!words[i].count)
            continue;
        const tcat_wordcount *key = &words[i];
        size_t lo = 0, hi = nw;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (cmp_word(&order[mid], &key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        uint64_t c = w->count[lo] + words[i].count;
        w->count[lo] = c < words[i].count ? UINT64_MAX : c; /* saturates */
    }
    *order_out = order;
    *bytes_out = bytes;
    return TCAT_OK;
}

/* 2. The marked text of the words and its units (characters, or invalid
 * bytes); every character counted, weighted by its word's count. uchar
 * holds indices into cc for now. */
static tcat_status cut_units(sw_words *w, const tcat_wordcount **order, size_t bytes,
                             char_counts *cc)
{
    w->text = malloc(bytes ? bytes : 1);
    w->wunit = malloc((w->n + 1) * sizeof *w->wunit);
    w->uoff = malloc((bytes + 1) * sizeof *w->uoff);
    w->uchar = malloc((bytes ? bytes : 1) * sizeof *w->uchar);
    if (!w->text || !w->wunit || !w->uoff || !w->uchar)
        return TCAT_ERR_NOMEM;
    size_t pos = 0, nu = 0;
    for (size_t i = 0; i < w->n; i++) {
        w->wunit[i] = (uint32_t)nu;
        size_t q = pos;
        memcpy(w->text + pos, TCAT_SUBWORD_MARK, TCAT_SUBWORD_MARK_LEN);
        pos += TCAT_SUBWORD_MARK_LEN;
        if (order[i]->len)
            memcpy(w->text + pos, order[i]->word, order[i]->len);
        pos += order[i]->len;
        while (q < pos) {
            int32_t cp;
            size_t k = tcat_utf8_decode((const uint8_t *)w->text + q, pos - q, &cp);
            w->uoff[nu] = (uint32_t)q;
            w->uchar[nu] = -1;
            if (cp >= 0) {
                uint32_t idx;
                tcat_status st = count_char(cc, w->text + q, k, w->count[i], &idx);
                if (st != TCAT_OK)
                    return st;
                w->uchar[nu] = (int32_t)idx;
            }
            nu++;
            q += k;
        }
        if (nu - w->wunit[i] > w->maxunits)
            w->maxunits = nu - w->wunit[i];
    }
    w->wunit[w->n] = (uint32_t)nu;
    w->uoff[nu] = (uint32_t)pos;
    w->nunits = nu;
    w->text_len = pos;
    return TCAT_OK;
}

/* 3. The base characters: by count, then bytes, until the coverage is
 * reached, at most size of them; uchar becomes an index into w->chars
 * (-1: left to byte fallback). */
static tcat_status choose_chars(sw_words *w, const char_counts *cc, const tcat_subword_params *p)
{
    size_t na = cc->all.n;
    char_rank *rank = malloc((na ? na : 1) * sizeof *rank);
    uint32_t *remap = malloc((na ? na : 1) * sizeof *remap);
    w->char_count = malloc((na ? na : 1) * sizeof *w->char_count);
    tcat_status st = TCAT_ERR_NOMEM;
    if (!rank || !remap || !w->char_count)
        goto done;
    long double total = 0, cum = 0;
    for (size_t i = 0; i < na; i++) {
        rank[i].idx = (uint32_t)i;
        rank[i].count = cc->count[i];
        rank[i].s = sw_intern_str(&cc->all, (uint32_t)i, &rank[i].len);
        total += cc->count[i];
        remap[i] = SW_NONE;
    }
    qsort(rank, na, sizeof *rank, cmp_char);
    for (size_t i = 0; i < na && w->chars.n < p->size; i++) {
        uint32_t idx;
        if ((st = sw_intern_add(&w->chars, rank[i].s, rank[i].len, &idx, NULL)) != TCAT_OK)
            goto done;
        w->char_count[idx] = rank[i].count;
        remap[rank[i].idx] = idx;
        cum += rank[i].count;
        if (cum >= (long double)p->char_coverage * total)
            break;
    }
    for (size_t u = 0; u < w->nunits; u++)
        if (w->uchar[u] >= 0)
            w->uchar[u] = remap[w->uchar[u]] == SW_NONE ? -1 : (int32_t)remap[w->uchar[u]];
    st = TCAT_OK;
done:
    free(rank);
    free(remap);
    return st;
}

/* Sorts and merges the words, builds the marked text, cuts it into units
 * and chooses the base characters (see tcat_subword_train). */
static tcat_status prepare(sw_words *w, const tcat_wordcount *words, size_t n,
                           const tcat_subword_params *p, tcat_error *err)
{
    memset(w, 0, sizeof *w);
    const tcat_wordcount **order = NULL;
    size_t bytes = 0;
    tcat_status st = unique_words(w, words, n, &order, &bytes, err);
    if (st != TCAT_OK)
        return st;
    char_counts cc = {0};
    st = cut_units(w, order, bytes, &cc);
    if (st == TCAT_OK)
        st = choose_chars(w, &cc, p);
    free(order);
    sw_intern_free(&cc.all);
    free(cc.count);
    if (st == TCAT_OK)
        return TCAT_OK;
    sw_words_free(w);
    if (st == TCAT_ERR_UNSUPPORTED)
        return tcat_fail(err, st, "too many distinct characters or bytes to train on");
    return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
}

tcat_status tcat_subword_train(tcat_subword **out, const tcat_wordcount *words, size_t n,
                               const tcat_subword_params *p, tcat_error *err)
{
    *out = NULL;
    if (p->size == 0 || p->size > (1u << 24))
        return tcat_fail(err, TCAT_ERR_USAGE, "the vocabulary size must be 1 to 16777216, not %zu",
                         p->size);
    if (!(p->char_coverage > 0 && p->char_coverage <= 1))
        return tcat_fail(err, TCAT_ERR_USAGE, "the character coverage must be in (0, 1], not %g",
                         p->char_coverage);
    if (p->max_piece_chars == 0 || p->max_piece_chars > 255)
        return tcat_fail(err, TCAT_ERR_USAGE,
                         "the longest piece must be 1 to 255 characters, not %zu",
                         p->max_piece_chars);
    if (p->type == TCAT_SUBWORD_UNIGRAM &&
        (!(p->shrink > 0 && p->shrink < 1) || p->em_iters < 1 || p->seed_size == 0))
        return tcat_fail(err, TCAT_ERR_USAGE,
                         "unigram: shrink must be in (0, 1), em_iters and seed_size positive");
    sw_words w;
    tcat_status st = prepare(&w, words, n, p, err);
    if (st != TCAT_OK)
        return st;
    st = p->type == TCAT_SUBWORD_BPE ? sw_train_bpe(out, &w, p, err)
                                     : sw_train_unigram(out, &w, p, err);
    sw_words_free(&w);
    return st;
}

/* ---- the vocabulary object ------------------------------------------------ */

tcat_status sw_vocab_build(tcat_subword **out, tcat_subword_type type, sw_intern *pieces,
                           const float *scores, const sw_line *lines, size_t nlines)
{
    *out = NULL;
    tcat_subword *v = calloc(1, sizeof *v);
    if (!v)
        return TCAT_ERR_NOMEM;
    v->type = type;
    v->pieces = *pieces;
    memset(pieces, 0, sizeof *pieces);
    for (int b = 0; b < 256; b++)
        snprintf(v->byte_name[b], sizeof v->byte_name[b], "<0x%02X>", b);
    size_t np = v->pieces.n;
    v->score = calloc(np ? np : 1, sizeof *v->score);
    if (!v->score)
        goto nomem;
    for (int c = 0; c < 128; c++)
        v->ascii[c] = -1;
    if (type == TCAT_SUBWORD_UNIGRAM) {
        float min = 0;
        for (size_t k = 0; k < np; k++) {
            v->score[k] = scores[k];
            if (k == 0 || scores[k] < min)
                min = scores[k];
        }
        /* sentencepiece's unknown penalty: 10 below the least likely piece */
        v->unk_score = min - 10.0f;
        if (sw_trie_build(v) != TCAT_OK)
            goto nomem;
    } else {
        v->lines = malloc((nlines ? nlines : 1) * sizeof *v->lines);
        v->merges = malloc((nlines ? nlines : 1) * sizeof *v->merges);
        if (!v->lines || !v->merges)
            goto nomem;
        if (nlines)
            memcpy(v->lines, lines, nlines * sizeof *lines);
        v->nlines = nlines;
        bool *made = calloc(np ? np : 1, sizeof *made);
        if (!made)
            goto nomem;
        for (size_t i = 0; i < nlines; i++) {
            const sw_line *l = &lines[i];
            size_t k = (size_t)(l->result - TCAT_SUBWORD_NBYTES);
            if (l->left < 0) {
                size_t len;
                const char *s = sw_intern_str(&v->pieces, (uint32_t)k, &len);
                if (len == 1 && (unsigned char)s[0] < 128)
                    v->ascii[(unsigned char)s[0]] = l->result;
                continue;
            }
            uint32_t rank = (uint32_t)v->nmerges;
            if (!made[k]) {
                made[k] = true;
                v->score[k] = -(float)(rank + 1);
            }
            v->merges[v->nmerges++] = *l;
            if (sw_u64map_put(&v->merge, sw_pair((uint32_t)l->left, (uint32_t)l->right), rank) !=
                TCAT_OK) {
                free(made);
                goto nomem;
            }
        }
        free(made);
    }
    *out = v;
    return TCAT_OK;
nomem:
    tcat_subword_free(&v);
    return TCAT_ERR_NOMEM;
}

void tcat_subword_free(tcat_subword **vp)
{
    if (!vp || !*vp)
        return;
    tcat_subword *v = *vp;
    sw_intern_free(&v->pieces);
    free(v->score);
    free(v->lines);
    free(v->merges);
    sw_u64map_free(&v->merge);
    free(v->da_base);
    free(v->da_check);
    free(v->da_val);
    free(v);
    *vp = NULL;
}

tcat_subword_type tcat_subword_get_type(const tcat_subword *v)
{
    return v->type;
}

size_t tcat_subword_size(const tcat_subword *v)
{
    return TCAT_SUBWORD_NBYTES + v->pieces.n;
}

const char *tcat_subword_piece(const tcat_subword *v, int32_t id, size_t *len)
{
    if (id < 0 || (size_t)id >= tcat_subword_size(v)) {
        *len = 0;
        return NULL;
    }
    if (id < TCAT_SUBWORD_NBYTES) {
        *len = 6;
        return v->byte_name[id];
    }
    return sw_intern_str(&v->pieces, (uint32_t)(id - TCAT_SUBWORD_NBYTES), len);
}

float tcat_subword_score(const tcat_subword *v, int32_t id)
{
    if (id < 0 || (size_t)id >= tcat_subword_size(v))
        return 0;
    if (id < TCAT_SUBWORD_NBYTES)
        return v->type == TCAT_SUBWORD_UNIGRAM ? v->unk_score : 0;
    return v->score[id - TCAT_SUBWORD_NBYTES];
}

int32_t tcat_subword_find(const tcat_subword *v, const char *piece, size_t len)
{
    uint32_t k = sw_intern_find(&v->pieces, piece, len);
    return k == SW_NONE ? -1 : (int32_t)k + TCAT_SUBWORD_NBYTES;
}

size_t tcat_subword_nmerges(const tcat_subword *v)
{
    return v->nmerges;
}

void tcat_subword_merge(const tcat_subword *v, size_t k, int32_t *left, int32_t *right,
                        int32_t *result)
{
    *left = *right = *result = -1;
    if (k < v->nmerges) {
        *left = v->merges[k].left;
        *right = v->merges[k].right;
        *result = v->merges[k].result;
    }
}

/* ---- encoding -------------------------------------------------------------- */

#define SMALL_WORD 128 /* marked words up to this many bytes use the stack */

/* Segments word into seg (mlen entries) through the model's segmenter.
 * *m receives the marked word (buf when it fits, else malloc'd: the
 * caller frees it when it differs from buf). */
static tcat_status segment(const tcat_subword *v, const char *word, size_t len, char *buf,
                           char **m, sw_seg *small_seg, sw_seg **seg, size_t *nseg)
{
    size_t mlen = len + TCAT_SUBWORD_MARK_LEN;
    if (len > UINT32_MAX - 8)
        return TCAT_ERR_UNSUPPORTED;
    *m = buf;
    *seg = small_seg;
    if (mlen > SMALL_WORD) {
        *m = malloc(mlen);
        *seg = malloc(mlen * sizeof **seg);
        if (!*m || !*seg) {
            free(*m == buf ? NULL : *m);
            free(*seg == small_seg ? NULL : *seg);
            *m = buf;
            *seg = small_seg;
            return TCAT_ERR_NOMEM;
        }
    }
    memcpy(*m, TCAT_SUBWORD_MARK, TCAT_SUBWORD_MARK_LEN);
    if (len)
        memcpy(*m + TCAT_SUBWORD_MARK_LEN, word, len);
    tcat_status st = v->type == TCAT_SUBWORD_BPE ? sw_bpe_segment(v, *m, mlen, *seg, nseg)
                                                 : sw_unigram_segment(v, *m, mlen, *seg, nseg);
    if (st != TCAT_OK && *m != buf) {
        free(*m);
        free(*seg);
        *m = buf;
        *seg = small_seg;
    }
    return st;
}

tcat_status tcat_subword_encode(const tcat_subword *v, const char *word, size_t len,
                                int32_t *ids, size_t max, size_t *n)
{
    char buf[SMALL_WORD];
    sw_seg small[SMALL_WORD];
    char *m;
    sw_seg *seg;
    size_t nseg;
    *n = 0;
    tcat_status st = segment(v, word, len, buf, &m, small, &seg, &nseg);
    if (st != TCAT_OK)
        return st;
    size_t k = 0;
    for (size_t i = 0; i < nseg; i++) {
        if (seg[i].id >= 0) {
            if (k < max)
                ids[k] = seg[i].id;
            k++;
            continue;
        }
        for (uint32_t b = 0; b < seg[i].len; b++, k++)
            if (k < max)
                ids[k] = (unsigned char)m[seg[i].off + b];
    }
    *n = k;
    if (m != buf) {
        free(m);
        free(seg);
    }
    return TCAT_OK;
}

tcat_status tcat_subword_append_pieces(const tcat_subword *v, const char *word, size_t len,
                                       tcat_buf *out)
{
    char buf[SMALL_WORD];
    sw_seg small[SMALL_WORD];
    char *m;
    sw_seg *seg;
    size_t nseg;
    tcat_status st = segment(v, word, len, buf, &m, small, &seg, &nseg);
    if (st != TCAT_OK)
        return st;
    bool first = true;
    for (size_t i = 0; i < nseg && st == TCAT_OK; i++) {
        if (seg[i].id >= 0) {
            size_t pl;
            const char *p = tcat_subword_piece(v, seg[i].id, &pl);
            if ((st = tcat_buf_reserve(out, pl + 1)) != TCAT_OK)
                break;
            if (!first)
                out->data[out->len++] = ' ';
            memcpy(out->data + out->len, p, pl);
            out->len += pl;
            first = false;
            continue;
        }
        if ((st = tcat_buf_reserve(out, (size_t)seg[i].len * 7)) != TCAT_OK)
            break;
        for (uint32_t b = 0; b < seg[i].len; b++) {
            if (!first)
                out->data[out->len++] = ' ';
            memcpy(out->data + out->len, v->byte_name[(unsigned char)m[seg[i].off + b]], 6);
            out->len += 6;
            first = false;
        }
    }
    if (m != buf) {
        free(m);
        free(seg);
    }
    return st;
}

tcat_status tcat_subword_decode(const tcat_subword *v, const int32_t *ids, size_t n,
                                tcat_buf *out)
{
    size_t start = out->len;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= tcat_subword_size(v))
            return TCAT_ERR_USAGE;
        tcat_status st;
        if (ids[i] < TCAT_SUBWORD_NBYTES) {
            char b = (char)ids[i];
            st = tcat_buf_append(out, &b, 1);
        } else {
            size_t len;
            const char *p = sw_intern_str(&v->pieces, (uint32_t)(ids[i] - TCAT_SUBWORD_NBYTES),
                                          &len);
            st = tcat_buf_append(out, p, len);
        }
        if (st != TCAT_OK)
            return st;
    }
    if (out->len - start >= TCAT_SUBWORD_MARK_LEN &&
        memcmp(out->data + start, TCAT_SUBWORD_MARK, TCAT_SUBWORD_MARK_LEN) == 0) {
        memmove(out->data + start, out->data + start + TCAT_SUBWORD_MARK_LEN,
                out->len - start - TCAT_SUBWORD_MARK_LEN);
        out->len -= TCAT_SUBWORD_MARK_LEN;
    }
    return TCAT_OK;
}

/* ---- the cache -------------------------------------------------------------- */

#define CACHE_MAX_WORD 255

typedef struct cache_slot {
    uint64_t h;    /* 0: empty */
    uint32_t off;  /* arena: the word's bytes, padded to 4, its ids, its pieces' text */
    uint16_t len;
    uint16_t n;
    uint32_t tlen; /* the text's length */
} cache_slot;

struct tcat_subword_cache {
    const tcat_subword *v;
    size_t max_words, nwords, mask;
    cache_slot *slot;
    tcat_buf arena;
    int32_t *ids; /* scratch for words not cached */
    size_t cap;
};

tcat_status tcat_subword_cache_init(tcat_subword_cache **out, const tcat_subword *v,
                                    size_t max_words)
{
    *out = NULL;
    if (max_words == 0)
        max_words = 65536;
    if (max_words > (1u << 24))
        max_words = 1u << 24;
    size_t nslots = 16;
    while (nslots < 2 * max_words)
        nslots *= 2;
    tcat_subword_cache *c = calloc(1, sizeof *c);
    if (!c)
        return TCAT_ERR_NOMEM;
    c->slot = calloc(nslots, sizeof *c->slot);
    if (!c->slot) {
        free(c);
        return TCAT_ERR_NOMEM;
    }
    c->v = v;
    c->max_words = max_words;
    c->mask = nslots - 1;
    *out = c;
    return TCAT_OK;
}

void tcat_subword_cache_free(tcat_subword_cache **cp)
{
    if (!cp || !*cp)
        return;
    free((*cp)->slot);
    tcat_buf_free(&(*cp)->arena);
    free((*cp)->ids);
    free(*cp);
    *cp = NULL;
}

static tcat_status encode_scratch(tcat_subword_cache *c, const char *word, size_t len,
                                  size_t *n)
{
    size_t need = TCAT_SUBWORD_MAX_PIECES(len);
    if (need > c->cap) {
        int32_t *p = realloc(c->ids, need * sizeof *p);
        if (!p)
            return TCAT_ERR_NOMEM;
        c->ids = p;
        c->cap = need;
    }
    return tcat_subword_encode(c->v, word, len, c->ids, c->cap, n);
}

/* The slot of word (found, or the empty one where it goes). */
static cache_slot *cache_find(tcat_subword_cache *c, const char *word, size_t len, uint64_t h,
                              bool *found)
{
    for (size_t i = (size_t)h & c->mask;; i = (i + 1) & c->mask) {
        cache_slot *s = &c->slot[i];
        if (!s->h || (s->h == h && s->len == len &&
                      memcmp(c->arena.data + s->off, word, len) == 0)) {
            *found = s->h != 0;
            return s;
        }
    }
}

/* Looks word up, encoding and adding it on a miss; *s is its slot, or
 * NULL when it is not cached (too long, or no memory for it): then the
 * ids are in c->ids. */
static tcat_status cache_get(tcat_subword_cache *c, const char *word, size_t len, cache_slot **sp,
                             size_t *n)
{
    *sp = NULL;
    if (len > CACHE_MAX_WORD)
        return encode_scratch(c, word, len, n);
    uint64_t h = XXH3_64bits(word, len) | 1;
    bool found;
    cache_slot *s = cache_find(c, word, len, h, &found);
    if (found) {
        *sp = s;
        *n = s->n;
        return TCAT_OK;
    }
    tcat_status st = encode_scratch(c, word, len, n);
    if (st != TCAT_OK)
        return st;
    if (c->nwords == c->max_words || c->arena.len > UINT32_MAX / 2) { /* full: start over */
        memset(c->slot, 0, (c->mask + 1) * sizeof *c->slot);
        c->arena.len = 0;
        c->nwords = 0;
        s = cache_find(c, word, len, h, &found);
    }
    size_t tlen = 0;
    for (size_t k = 0; k < *n; k++) {
        size_t pl;
        tcat_subword_piece(c->v, c->ids[k], &pl);
        tlen += pl + (k > 0);
    }
    size_t pad = (len + 3) & ~(size_t)3;
    size_t off = (c->arena.len + 3) & ~(size_t)3;
    if (tcat_buf_reserve(&c->arena, off - c->arena.len + pad + *n * sizeof(int32_t) + tlen) !=
        TCAT_OK)
        return TCAT_OK; /* not cached: the answer stands */
    char *e = c->arena.data + off;
    memcpy(e, word, len);
    memcpy(e + pad, c->ids, *n * sizeof(int32_t));
    char *t = e + pad + *n * sizeof(int32_t);
    for (size_t k = 0; k < *n; k++) {
        size_t pl;
        const char *p = tcat_subword_piece(c->v, c->ids[k], &pl);
        if (k)
            *t++ = ' ';
        memcpy(t, p, pl);
        t += pl;
    }
    c->arena.len = off + pad + *n * sizeof(int32_t) + tlen;
    *s = (cache_slot){h, (uint32_t)off, (uint16_t)len, (uint16_t)*n, (uint32_t)tlen};
    c->nwords++;
    *sp = s;
    return TCAT_OK;
}

tcat_status tcat_subword_cache_encode(tcat_subword_cache *c, const char *word, size_t len,
                                      const int32_t **ids, size_t *n)
{
    cache_slot *s;
    tcat_status st = cache_get(c, word, len, &s, n);
    *ids = s ? (const int32_t *)(const void *)(c->arena.data + s->off +
                                               ((s->len + 3) & ~(size_t)3))
             : c->ids;
    return st;
}

tcat_status tcat_subword_cache_append_pieces(tcat_subword_cache *c, const char *word,
                                             size_t len, tcat_buf *out)
{
    cache_slot *s;
    size_t n;
    tcat_status st = cache_get(c, word, len, &s, &n);
    if (st != TCAT_OK)
        return st;
    if (s) {
        const char *t = c->arena.data + s->off + ((s->len + 3) & ~(size_t)3) + n * 4;
        return tcat_buf_append(out, t, s->tlen);
    }
    for (size_t k = 0; k < n; k++) {
        size_t pl;
        const char *p = tcat_subword_piece(c->v, c->ids[k], &pl);
        if (tcat_buf_reserve(out, pl + 1) != TCAT_OK)
            return TCAT_ERR_NOMEM;
        if (k)
            out->data[out->len++] = ' ';
        memcpy(out->data + out->len, p, pl);
        out->len += pl;
    }
    return TCAT_OK;
}
