#include "corpora/corpus.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "corpora/linereader.h"

void tcat_corpus_init(tcat_corpus *c) { memset(c, 0, sizeof *c); }

void tcat_corpus_free(tcat_corpus *c)
{
    tcat_buf_free(&c->text);
    free(c->tok);
    free(c->punct);
    free(c->doc_tok);
    free(c->label);
    free(c->labels);
    free(c->doc_label);
    free(c->raw_hash);
    free(c->dup_slot);
    tcat_corpus_init(c);
}

void tcat_corpus_clear(tcat_corpus *c)
{
    c->n = 0;
    c->text.len = 0;
    c->ntok = 0;
    c->nlabels_total = 0;
    if (c->doc_tok)
        c->doc_tok[0] = 0;
    if (c->doc_label)
        c->doc_label[0] = 0;
    memset(&c->stats, 0, sizeof c->stats);
    if (c->dup_slot)
        memset(c->dup_slot, 0, c->dup_nslots * sizeof *c->dup_slot);
}

static tcat_status grow_docs(tcat_corpus *c)
{
    size_t cap = c->cap ? 2 * c->cap : 1024;
    size_t *doc_tok = realloc(c->doc_tok, (cap + 1) * sizeof *doc_tok);
    if (!doc_tok)
        return TCAT_ERR_NOMEM;
    c->doc_tok = doc_tok;
    size_t *doc_label = realloc(c->doc_label, (cap + 1) * sizeof *doc_label);
    if (!doc_label)
        return TCAT_ERR_NOMEM;
    c->doc_label = doc_label;
    int32_t *label = realloc(c->label, cap * sizeof *label);
    if (!label)
        return TCAT_ERR_NOMEM;
    c->label = label;
    uint64_t *h = realloc(c->raw_hash, cap * sizeof *h);
    if (!h)
        return TCAT_ERR_NOMEM;
    c->raw_hash = h;
    if (c->cap == 0)
        c->doc_tok[0] = c->doc_label[0] = 0;
    c->cap = cap;
    return TCAT_OK;
}

static bool same_labels(const tcat_corpus *c, size_t a, size_t b)
{
    size_t na = c->doc_label[a + 1] - c->doc_label[a], nb = c->doc_label[b + 1] - c->doc_label[b];
    return na == nb && (na == 0 || memcmp(c->labels + c->doc_label[a], c->labels + c->doc_label[b],
                                           na * sizeof(int32_t)) == 0);
}

/* Records document i in the duplicate finder; counts it when its raw
 * text was seen before. */
static tcat_status note_duplicate(tcat_corpus *c, size_t i)
{
    if (2 * (c->n + 1) > c->dup_nslots) {
        size_t ns = c->dup_nslots ? 2 * c->dup_nslots : 2048;
        size_t *slot = calloc(ns, sizeof *slot);
        if (!slot)
            return TCAT_ERR_NOMEM;
        free(c->dup_slot);
        c->dup_slot = slot;
        c->dup_nslots = ns;
        for (size_t d = 0; d < i; d++) {
            size_t h = (size_t)c->raw_hash[d] & (ns - 1);
            while (c->dup_slot[h])
                h = (h + 1) & (ns - 1);
            c->dup_slot[h] = d + 1;
        }
    }
    size_t mask = c->dup_nslots - 1, h = (size_t)c->raw_hash[i] & mask;
    while (c->dup_slot[h]) {
        size_t d = c->dup_slot[h] - 1;
        if (c->raw_hash[d] == c->raw_hash[i]) {
            c->stats.duplicates++;
            if (!same_labels(c, d, i))
                c->stats.conflicting++;
            return TCAT_OK; /* the first one stays the representative */
        }
        h = (h + 1) & mask;
    }
    c->dup_slot[h] = i + 1;
    return TCAT_OK;
}

tcat_status tcat_corpus_add(tcat_corpus *c, tcat_tok *tok, const char *raw, size_t len,
                            const int32_t *labels, size_t nlabels, tcat_error *err)
{
    if (c->n == c->cap && grow_docs(c) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    tcat_tok_stats before, after;
    tcat_tok_get_stats(tok, &before);
    tcat_tokens t;
    tcat_status st = tcat_tok_run(tok, raw, len, &t, err);
    if (st != TCAT_OK)
        return st;
    tcat_tok_get_stats(tok, &after);
    c->stats.invalid_utf8 += after.invalid_utf8 - before.invalid_utf8;
    c->stats.nul_bytes += after.nul_bytes - before.nul_bytes;

    /* tokens: copied into the arena, a space between those that did not touch */
    if (c->ntok + t.n > c->tokcap) {
        size_t cap = c->tokcap ? c->tokcap : 4096;
        while (cap < c->ntok + t.n)
            cap *= 2;
        tcat_span *v = realloc(c->tok, cap * sizeof *v);
        if (v)
            c->tok = v;
        uint8_t *pu = realloc(c->punct, cap);
        if (pu)
            c->punct = pu;
        if (!v || !pu)
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        c->tokcap = cap;
    }
    size_t bytes = t.n;
    for (size_t k = 0; k < t.n; k++)
        bytes += t.spans[k].len;
    if (tcat_buf_reserve(&c->text, bytes + 1) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < t.n; k++) {
        const tcat_span *s = &t.spans[k];
        bool glued = k > 0 && t.spans[k - 1].off + t.spans[k - 1].len == s->off;
        if (!glued)
            c->text.data[c->text.len++] = ' ';
        c->punct[c->ntok] = tcat_tok_is_punct(t.text + s->off, s->len);
        c->tok[c->ntok++] = (tcat_span){c->text.len, s->len};
        memcpy(c->text.data + c->text.len, t.text + s->off, s->len);
        c->text.len += s->len;
    }
    if (t.n == 0)
        c->stats.empty++;

    if (c->nlabels_total + nlabels > c->labcap) {
        size_t cap = c->labcap ? c->labcap : 1024;
        while (cap < c->nlabels_total + nlabels)
            cap *= 2;
        int32_t *v = realloc(c->labels, cap * sizeof *v);
        if (!v)
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        c->labels = v;
        c->labcap = cap;
    }
    if (nlabels)
        memcpy(c->labels + c->nlabels_total, labels, nlabels * sizeof *labels);
    c->nlabels_total += nlabels;
    if (nlabels > 1)
        c->stats.multi_label++;

    size_t i = c->n;
    c->label[i] = nlabels ? labels[0] : -1;
    c->raw_hash[i] = XXH3_64bits(raw, len);
    c->doc_tok[i + 1] = c->ntok;
    c->doc_label[i + 1] = c->nlabels_total;
    c->n++;
    if (note_duplicate(c, i) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    return TCAT_OK;
}

tcat_status tcat_corpus_copy_doc(tcat_corpus *dst, const tcat_corpus *src, size_t i)
{
    size_t a = src->doc_tok[i], b = src->doc_tok[i + 1], nt = b - a;
    if (dst->n == dst->cap && grow_docs(dst) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    if (dst->ntok + nt > dst->tokcap) {
        size_t cap = dst->tokcap ? dst->tokcap : 4096;
        while (cap < dst->ntok + nt)
            cap *= 2;
        tcat_span *v = realloc(dst->tok, cap * sizeof *v);
        if (v)
            dst->tok = v;
        uint8_t *pu = realloc(dst->punct, cap);
        if (pu)
            dst->punct = pu;
        if (!v || !pu)
            return TCAT_ERR_NOMEM;
        dst->tokcap = cap;
    }
    size_t bytes = nt;
    for (size_t k = a; k < b; k++)
        bytes += src->tok[k].len;
    if (tcat_buf_reserve(&dst->text, bytes + 1) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    for (size_t k = a; k < b; k++) {
        if (k == a || !tcat_corpus_glued(src, k))
            dst->text.data[dst->text.len++] = ' ';
        dst->punct[dst->ntok] = src->punct[k];
        dst->tok[dst->ntok++] = (tcat_span){dst->text.len, src->tok[k].len};
        memcpy(dst->text.data + dst->text.len, src->text.data + src->tok[k].off, src->tok[k].len);
        dst->text.len += src->tok[k].len;
    }
    if (nt == 0)
        dst->stats.empty++;
    size_t j = dst->n;
    dst->label[j] = -1;
    dst->raw_hash[j] = src->raw_hash[i];
    dst->doc_tok[j + 1] = dst->ntok;
    dst->doc_label[j + 1] = dst->nlabels_total;
    dst->n++;
    return TCAT_OK;
}

tcat_status tcat_corpus_read(tcat_corpus *c, const char *path, tcat_format fmt, tcat_tok *tok,
                             tcat_labels *labels, bool add_labels, tcat_error *err)
{
    return tcat_corpus_read_ex(c, path, fmt, tok, labels, add_labels, NULL, NULL, err);
}

tcat_status tcat_corpus_read_lines(tcat_corpus *c, const char *path, tcat_tok *tok,
                                   tcat_error *err)
{
    tcat_lines *l;
    tcat_status st = tcat_lines_open(&l, path, 0, err);
    if (st != TCAT_OK)
        return st;
    for (;;) {
        tcat_piece p;
        bool done;
        if ((st = tcat_lines_next(l, &p, &done, err)) != TCAT_OK || done)
            break;
        if (p.len && (st = tcat_corpus_add(c, tok, p.data, p.len, NULL, 0, err)) != TCAT_OK)
            break;
    }
    tcat_lines_close(&l);
    return st;
}

tcat_status tcat_corpus_read_ex(tcat_corpus *c, const char *path, tcat_format fmt, tcat_tok *tok,
                                tcat_labels *labels, bool add_labels,
                                tcat_status (*on_unknown)(void *ctx, const char *name,
                                                          size_t len),
                                void *ctx, tcat_error *err)
{
    tcat_reader *r;
    tcat_status st = tcat_reader_open(&r, path, fmt, err);
    if (st != TCAT_OK)
        return st;
    int32_t *ids = NULL;
    size_t idcap = 0;
    for (;;) {
        tcat_rawdoc d;
        bool done;
        if ((st = tcat_reader_next(r, &d, &done, err)) != TCAT_OK || done)
            break;
        if (d.nlabels > idcap) {
            int32_t *v = realloc(ids, d.nlabels * sizeof *v);
            if (!v) {
                st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
                break;
            }
            ids = v;
            idcap = d.nlabels;
        }
        size_t k = 0;
        for (size_t j = 0; j < d.nlabels; j++) {
            int32_t id;
            if (add_labels) {
                if ((st = tcat_labels_intern(labels, d.labels[j], d.label_lens[j], &id)) != TCAT_OK) {
                    tcat_fail(err, st, "out of memory");
                    break;
                }
            } else {
                id = tcat_labels_find(labels, d.labels[j], d.label_lens[j]);
                if (id < 0) {
                    c->stats.unknown_labels++;
                    if (on_unknown &&
                        (st = on_unknown(ctx, d.labels[j], d.label_lens[j])) != TCAT_OK) {
                        tcat_fail(err, st, "%s", tcat_strerror(st));
                        break;
                    }
                }
            }
            ids[k++] = id;
        }
        if (st != TCAT_OK)
            break;
        if ((st = tcat_corpus_add(c, tok, d.text, d.len, ids, k, err)) != TCAT_OK)
            break;
    }
    free(ids);
    tcat_reader_close(&r);
    return st;
}

void tcat_corpus_label_counts(const tcat_corpus *c, size_t k, uint64_t *counts)
{
    memset(counts, 0, k * sizeof *counts);
    for (size_t i = 0; i < c->n; i++)
        if (c->label[i] >= 0 && (size_t)c->label[i] < k)
            counts[c->label[i]]++;
}

tcat_docs_size tcat_docs_measure(const tcat_docs *d)
{
    tcat_docs_size z = {0, 0, 0};
    for (size_t i = 0; i < d->n; i++) {
        size_t doc = tcat_docs_at(d, i);
        z.tokens += d->c->doc_tok[doc + 1] - d->c->doc_tok[doc];
    }
    size_t cap = 64;
    while (cap < 2 * z.tokens)
        cap *= 2;
    uint64_t *set = calloc(cap, sizeof *set); /* 0: empty (a hash of 0 counts as 1) */
    for (size_t i = 0; i < d->n; i++) {
        size_t n, doc = tcat_docs_at(d, i);
        const tcat_span *t = tcat_corpus_tokens(d->c, doc, &n);
        for (size_t k = 0; k < n; k++) {
            z.bytes += t[k].len;
            if (!set)
                continue;
            uint64_t h = XXH3_64bits(d->c->text.data + t[k].off, t[k].len);
            h += h == 0;
            size_t at = (size_t)h & (cap - 1);
            while (set[at] && set[at] != h)
                at = (at + 1) & (cap - 1);
            if (!set[at]) {
                set[at] = h;
                z.distinct++;
            }
        }
    }
    free(set);
    return z;
}

uint8_t *tcat_docs_targets(const tcat_docs *d, size_t K)
{
    uint8_t *t = calloc(d->n && K ? d->n * K : 1, 1);
    if (t)
        for (size_t i = 0; i < d->n; i++) {
            size_t doc = tcat_docs_at(d, i);
            for (size_t j = d->c->doc_label[doc]; j < d->c->doc_label[doc + 1]; j++) {
                int32_t y = d->c->labels[j];
                if (y >= 0 && (size_t)y < K)
                    t[i * K + (size_t)y] = 1;
            }
        }
    return t;
}

int32_t *tcat_docs_labels(const tcat_docs *d)
{
    int32_t *y = malloc((d->n ? d->n : 1) * sizeof *y);
    if (y)
        for (size_t i = 0; i < d->n; i++)
            y[i] = d->c->label[tcat_docs_at(d, i)];
    return y;
}
