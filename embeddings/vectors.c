/*
 * embeddings/vectors.c — word vector tables: the hash index, the .vec
 * text and word2vec binary readers, n-gram composition, the .vec writer.
 * See vectors.h for the formats and the exact rules.
 */
#include "embeddings/vectors.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/buf.h"
#include "core/parallel.h"
#include "tokenizer/utf8.h"

#define NO_ROW UINT32_MAX
#define MAX_LINE ((size_t)1 << 28) /* longest text line accepted (256 MiB) */
#define MAX_WORD 65536             /* longest binary word accepted */

struct tcat_vec {
    size_t dim;
    size_t n, cap;      /* rows used, rows allocated */
    tcat_tensor mat;    /* n x dim (the block holds cap rows) */
    tcat_buf words;     /* the words, each NUL-terminated */
    size_t *woff;       /* word i at words.data + woff[i] */
    size_t *wlen;
    uint64_t *whash;    /* XXH3-64 of each word (seed 0) */
    uint32_t *slot;     /* open addressing: row + 1, or 0 when empty */
    size_t nslots;      /* a power of two, at least 2 n */
    /* n-gram averages (vectors.h) */
    uint32_t buckets;   /* 0: none built */
    uint32_t *brow;     /* buckets entries: row of ng, or NO_ROW */
    tcat_tensor ng;     /* used buckets x dim */
    tcat_vec_stats stats;
};

/* ---- the table ------------------------------------------------------------ */

void tcat_vec_options_default(tcat_vec_options *o)
{
    memset(o, 0, sizeof *o);
    o->buckets = TCAT_VEC_BUCKETS;
    o->threads = 1;
}

tcat_status tcat_vec_init(tcat_vec **out, size_t dim, tcat_error *err)
{
    *out = NULL;
    if (dim < 1 || dim > TCAT_VEC_MAX_DIM)
        return tcat_fail(err, TCAT_ERR_USAGE, "vectors: dim %zu is not in 1..%d", dim,
                         TCAT_VEC_MAX_DIM);
    tcat_vec *v = calloc(1, sizeof *v);
    if (!v)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    v->dim = dim;
    v->mat.cols = dim;
    *out = v;
    return TCAT_OK;
}

void tcat_vec_free(tcat_vec **pv)
{
    if (!pv || !*pv)
        return;
    tcat_vec *v = *pv;
    tcat_tensor_free(&v->mat);
    tcat_buf_free(&v->words);
    free(v->woff);
    free(v->wlen);
    free(v->whash);
    free(v->slot);
    free(v->brow);
    tcat_tensor_free(&v->ng);
    free(v);
    *pv = NULL;
}

size_t tcat_vec_dim(const tcat_vec *v) { return v->dim; }
size_t tcat_vec_count(const tcat_vec *v) { return v->n; }
tcat_tensor *tcat_vec_matrix(tcat_vec *v) { return &v->mat; }
const tcat_vec_stats *tcat_vec_get_stats(const tcat_vec *v) { return &v->stats; }
bool tcat_vec_has_subwords(const tcat_vec *v) { return v->buckets != 0; }

const char *tcat_vec_word(const tcat_vec *v, size_t i, size_t *len)
{
    if (len)
        *len = v->wlen[i];
    return v->words.data + v->woff[i];
}

static uint64_t word_hash(const char *w, size_t len) { return XXH3_64bits(w, len); }

/* The slot holding word (hash h), or the empty slot where it would go. */
static size_t probe(const tcat_vec *v, const char *w, size_t len, uint64_t h)
{
    size_t mask = v->nslots - 1, s = (size_t)h & mask;
    for (;;) {
        uint32_t r = v->slot[s];
        if (!r)
            return s;
        r--;
        if (v->whash[r] == h && v->wlen[r] == len &&
            memcmp(v->words.data + v->woff[r], w, len) == 0)
            return s;
        s = (s + 1) & mask;
    }
}

bool tcat_vec_find(const tcat_vec *v, const char *word, size_t len, size_t *row)
{
    if (!v->nslots)
        return false;
    uint32_t r = v->slot[probe(v, word, len, word_hash(word, len))];
    if (!r)
        return false;
    *row = r - 1;
    return true;
}

const float *tcat_vec_lookup(const tcat_vec *v, const char *word, size_t len)
{
    size_t r;
    return tcat_vec_find(v, word, len, &r) ? tcat_tensor_row(&v->mat, r) : NULL;
}

/* Room for `want` rows (matrix and per-word arrays). */
static tcat_status reserve_rows(tcat_vec *v, size_t want)
{
    if (want <= v->cap)
        return TCAT_OK;
    if (want >= NO_ROW)
        return TCAT_ERR_NOMEM;
    size_t cap = v->cap ? v->cap : 64;
    while (cap < want)
        cap *= 2;
    if (cap >= NO_ROW)
        cap = NO_ROW - 1;
    tcat_tensor m;
    if (tcat_tensor_init(&m, cap, v->dim) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    if (v->n)
        memcpy(m.data, v->mat.data, v->n * v->dim * sizeof(float));
    size_t *woff = realloc(v->woff, cap * sizeof *woff);
    if (woff)
        v->woff = woff;
    size_t *wlen = realloc(v->wlen, cap * sizeof *wlen);
    if (wlen)
        v->wlen = wlen;
    uint64_t *whash = realloc(v->whash, cap * sizeof *whash);
    if (whash)
        v->whash = whash;
    if (!woff || !wlen || !whash) {
        tcat_tensor_free(&m);
        return TCAT_ERR_NOMEM;
    }
    tcat_tensor_free(&v->mat);
    v->mat = m;
    v->mat.rows = v->n; /* the block holds cap rows; the shape says n */
    v->cap = cap;
    return TCAT_OK;
}

/* Keeps the index at most half full. */
static tcat_status grow_index(tcat_vec *v)
{
    if (2 * (v->n + 1) <= v->nslots)
        return TCAT_OK;
    size_t ns = v->nslots ? 2 * v->nslots : 256;
    uint32_t *slot = calloc(ns, sizeof *slot);
    if (!slot)
        return TCAT_ERR_NOMEM;
    for (size_t r = 0; r < v->n; r++) {
        size_t s = (size_t)v->whash[r] & (ns - 1);
        while (slot[s])
            s = (s + 1) & (ns - 1);
        slot[s] = (uint32_t)(r + 1);
    }
    free(v->slot);
    v->slot = slot;
    v->nslots = ns;
    return TCAT_OK;
}

/* A word that can be a key and a .vec field: not empty, no ASCII
 * whitespace, no NUL. */
static bool word_ok(const char *w, size_t len)
{
    if (!len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = w[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || !c)
            return false;
    }
    return true;
}

tcat_status tcat_vec_add(tcat_vec *v, const char *word, size_t len, const float *row,
                         bool *added, tcat_error *err)
{
    if (added)
        *added = false;
    if (!word_ok(word, len))
        return tcat_fail(err, TCAT_ERR_USAGE,
                         "vectors: a word must be non-empty, without whitespace or NUL");
    if (grow_index(v) != TCAT_OK || reserve_rows(v, v->n + 1) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    uint64_t h = word_hash(word, len);
    size_t s = probe(v, word, len, h);
    if (v->slot[s])
        return TCAT_OK;
    size_t off = v->words.len;
    if (tcat_buf_reserve(&v->words, len + 1) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    memcpy(v->words.data + off, word, len);
    v->words.data[off + len] = '\0';
    v->words.len += len + 1;
    size_t r = v->n;
    v->woff[r] = off;
    v->wlen[r] = len;
    v->whash[r] = h;
    float *dst = v->mat.data + r * v->dim;
    if (row)
        memcpy(dst, row, v->dim * sizeof *dst);
    else
        memset(dst, 0, v->dim * sizeof *dst);
    v->slot[s] = (uint32_t)(r + 1);
    v->n++;
    v->mat.rows = v->n;
    if (added)
        *added = true;
    return TCAT_OK;
}

/* ---- character n-grams ------------------------------------------------------ */

uint64_t tcat_vec_ngram_hash(const char *s, size_t n)
{
    return XXH3_64bits_withSeed(s, n, TCAT_VEC_SEED);
}

/* Byte p of the virtual string "<" w ">" (len + 2 bytes). */
static inline char vbyte(const char *w, size_t len, size_t p)
{
    return p == 0 ? '<' : p <= len ? w[p - 1] : '>';
}

/* Start of the character after the one at p: a byte that is not
 * 10xxxxxx starts a character, and so does a fourth continuation byte
 * in a row (so a character is at most 4 bytes, valid UTF-8 or not). */
static inline size_t vnext(const char *w, size_t len, size_t p)
{
    size_t L = len + 2;
    p++;
    for (int k = 0; k < 3 && p < L && ((unsigned char)vbyte(w, len, p) & 0xC0) == 0x80; k++)
        p++;
    return p;
}

/* Calls fn(ctx, hash) for every n-gram occurrence of "<" w ">",
 * n = TCAT_VEC_MINN..TCAT_VEC_MAXN characters. */
static void for_ngrams(const char *w, size_t len, void (*fn)(void *, uint64_t), void *ctx)
{
    size_t L = len + 2;
    char buf[TCAT_VEC_MAXN * 4];
    for (size_t a = 0; a < L; a = vnext(w, len, a)) {
        size_t e = a, blen = 0;
        for (int n = 1; n <= TCAT_VEC_MAXN && e < L; n++) {
            size_t e2 = vnext(w, len, e);
            for (size_t p = e; p < e2; p++)
                buf[blen++] = vbyte(w, len, p);
            e = e2;
            if (n >= TCAT_VEC_MINN)
                fn(ctx, tcat_vec_ngram_hash(buf, blen));
        }
    }
}

typedef struct mark_ctx {
    uint32_t *brow;
    uint32_t B;
} mark_ctx;

static void mark_bucket(void *ctx, uint64_t h)
{
    mark_ctx *m = ctx;
    m->brow[h % m->B] = 0;
}

typedef struct sum_job {
    tcat_vec *v;
    uint64_t *cnt; /* occurrences per stored bucket */
    int T;
} sum_job;

typedef struct sum_ctx {
    tcat_vec *v;
    uint64_t *cnt;
    const float *row;
    uint32_t lo, hi; /* this thread's buckets */
} sum_ctx;

static void add_to_bucket(void *ctx, uint64_t h)
{
    sum_ctx *c = ctx;
    uint32_t b = (uint32_t)(h % c->v->buckets);
    if (b < c->lo || b >= c->hi)
        return;
    uint32_t r = c->v->brow[b];
    tcat_axpy(c->v->dim, 1.0f, c->row, tcat_tensor_row(&c->v->ng, r));
    c->cnt[r]++;
}

/* Thread t sums the words' vectors into the buckets of its own range (so
 * no two threads write one row, and each row sums in word order: the
 * result does not depend on the thread count), then takes the means. */
static void sum_part(void *ctx, int t)
{
    sum_job *j = ctx;
    tcat_vec *v = j->v;
    uint64_t B = v->buckets;
    sum_ctx c = {v, j->cnt, NULL, (uint32_t)(B * (uint64_t)t / (uint64_t)j->T),
                 (uint32_t)(B * (uint64_t)(t + 1) / (uint64_t)j->T)};
    for (size_t i = 0; i < v->n; i++) {
        c.row = tcat_tensor_row(&v->mat, i);
        for_ngrams(v->words.data + v->woff[i], v->wlen[i], add_to_bucket, &c);
    }
    for (uint32_t b = c.lo; b < c.hi; b++) {
        uint32_t r = v->brow[b];
        if (r == NO_ROW)
            continue;
        float *x = tcat_tensor_row(&v->ng, r), k = (float)j->cnt[r];
        for (size_t d = 0; d < v->dim; d++)
            x[d] /= k;
    }
}

tcat_status tcat_vec_build_subwords(tcat_vec *v, uint32_t buckets, int threads,
                                    tcat_error *err)
{
    free(v->brow);
    v->brow = NULL;
    tcat_tensor_free(&v->ng);
    v->buckets = 0;
    uint32_t B = buckets ? buckets : TCAT_VEC_BUCKETS;
    uint32_t *brow = malloc((size_t)B * sizeof *brow);
    if (!brow)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    memset(brow, 0xFF, (size_t)B * sizeof *brow); /* NO_ROW everywhere */
    mark_ctx m = {brow, B};
    for (size_t i = 0; i < v->n; i++)
        for_ngrams(v->words.data + v->woff[i], v->wlen[i], mark_bucket, &m);
    uint32_t used = 0;
    for (uint32_t b = 0; b < B; b++)
        if (brow[b] != NO_ROW)
            brow[b] = used++; /* rows in bucket order */
    uint64_t *cnt = calloc(used ? used : 1, sizeof *cnt);
    if (!cnt || tcat_tensor_init(&v->ng, used, v->dim) != TCAT_OK) {
        free(cnt);
        free(brow);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    v->brow = brow;
    v->buckets = B;
    int T = threads < 1 ? 1 : threads;
    if ((uint32_t)T > B)
        T = (int)B;
    sum_job j = {v, cnt, T};
    tcat_parallel(T, sum_part, &j);
    free(cnt);
    return TCAT_OK;
}

typedef struct compose_ctx {
    const tcat_vec *v;
    float *out;
    size_t k; /* stored n-grams met */
} compose_ctx;

static void compose_one(void *ctx, uint64_t h)
{
    compose_ctx *c = ctx;
    uint32_t r = c->v->brow[h % c->v->buckets];
    if (r == NO_ROW)
        return;
    const float *x = tcat_tensor_row(&c->v->ng, r);
    if (c->k++ == 0)
        memcpy(c->out, x, c->v->dim * sizeof *x);
    else
        tcat_axpy(c->v->dim, 1.0f, x, c->out);
}

tcat_vec_hit tcat_vec_get(const tcat_vec *v, const char *word, size_t len, float *out)
{
    size_t r;
    if (tcat_vec_find(v, word, len, &r)) {
        memcpy(out, tcat_tensor_row(&v->mat, r), v->dim * sizeof *out);
        return TCAT_VEC_KNOWN;
    }
    if (!v->buckets)
        return TCAT_VEC_MISSING;
    compose_ctx c = {v, out, 0};
    for_ngrams(word, len, compose_one, &c);
    if (!c.k)
        return TCAT_VEC_MISSING;
    for (size_t d = 0; d < v->dim; d++)
        out[d] /= (float)c.k;
    return TCAT_VEC_COMPOSED;
}

/* ---- reading: a buffered stream with look-ahead ------------------------------ */

typedef struct rd {
    FILE *f;
    bool own;           /* close f at the end (not stdin) */
    const char *name;   /* for messages */
    char *buf;
    size_t cap, pos, len; /* unread bytes: buf[pos..len); buf[len] is writable */
    bool eof;
} rd;

/* Reads more bytes: moves the unread ones to the front and doubles the
 * buffer when it is full. Sets r->eof at the end of the stream. */
static tcat_status rd_more(rd *r, tcat_error *err)
{
    if (r->pos) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len + 1 >= r->cap) {
        if (r->cap > MAX_LINE * 2)
            return tcat_fail(err, TCAT_ERR_INPUT, "%s: a line or record over %zu bytes",
                             r->name, MAX_LINE);
        size_t cap = r->cap ? 2 * r->cap : (size_t)1 << 16;
        char *b = realloc(r->buf, cap);
        if (!b)
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        r->buf = b;
        r->cap = cap;
    }
    size_t got = fread(r->buf + r->len, 1, r->cap - r->len - 1, r->f);
    r->len += got;
    if (got == 0) {
        if (ferror(r->f))
            return tcat_fail(err, TCAT_ERR_IO, "%s: %s", r->name, strerror(errno));
        r->eof = true;
    }
    return TCAT_OK;
}

/* Makes n unread bytes available if the stream has them; *avail gets the
 * number available (less than n only at the end of the stream). */
static tcat_status rd_ensure(rd *r, size_t n, size_t *avail, tcat_error *err)
{
    while (r->len - r->pos < n && !r->eof) {
        tcat_status st = rd_more(r, err);
        if (st != TCAT_OK)
            return st;
    }
    *avail = r->len - r->pos;
    return TCAT_OK;
}

/* The next line without its '\n': *n bytes at buf + pos (offset 0 from
 * pos); *nl is its length including the '\n' when there is one (what to
 * consume); *have false at the end of the stream. Does not consume. */
static tcat_status rd_peek_line(rd *r, size_t *n, size_t *nl, bool *have, tcat_error *err)
{
    size_t scanned = 0;
    for (;;) {
        size_t left = r->len - r->pos - scanned;
        char *p = left ? memchr(r->buf + r->pos + scanned, '\n', left) : NULL;
        if (p) {
            *n = (size_t)(p - (r->buf + r->pos));
            *nl = *n + 1;
            *have = true;
            return TCAT_OK;
        }
        scanned = r->len - r->pos;
        if (r->eof) {
            *n = *nl = scanned;
            *have = scanned > 0;
            return TCAT_OK;
        }
        if (scanned > MAX_LINE)
            return tcat_fail(err, TCAT_ERR_INPUT, "%s: a line over %zu bytes", r->name,
                             MAX_LINE);
        tcat_status st = rd_more(r, err);
        if (st != TCAT_OK)
            return st;
    }
}

/* ---- parsing numbers and records --------------------------------------------- */

/* Powers of ten exactly representable as floats (10^10 = 2^10 5^10, 5^10 < 2^24). */
static const float pow10f_exact[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                     1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

/* Parses s[0..n) (s[n] is writable) as a finite float, strtof's syntax in
 * the C locale. Fast path (Clinger 1990): a decimal with a significand
 * below 2^24 and a power of ten up to 10^10 is one correctly rounded
 * float multiplication or division, hence exactly what strtof gives;
 * anything else goes to strtof_l. */
static bool parse_float(char *s, size_t n, locale_t *loc, float *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    uint64_t m = 0;
    int sig = 0, e = 0;
    bool digits = false, fast = true;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        digits = true;
        if (m || s[i] != '0') {
            if (++sig > 18) {
                fast = false;
                break;
            }
            m = m * 10 + (uint64_t)(s[i] - '0');
        }
    }
    if (fast && i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            digits = true;
            if (m || s[i] != '0') {
                if (++sig > 18) {
                    fast = false;
                    break;
                }
                m = m * 10 + (uint64_t)(s[i] - '0');
            }
            e--;
        }
    }
    if (fast && digits && i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t k = i + 1;
        bool eneg = false;
        if (k < n && (s[k] == '-' || s[k] == '+'))
            eneg = s[k++] == '-';
        int x = 0;
        bool xd = false;
        for (; k < n && s[k] >= '0' && s[k] <= '9'; k++) {
            xd = true;
            if (x < 10000)
                x = x * 10 + (s[k] - '0');
        }
        if (xd) {
            e += eneg ? -x : x;
            i = k;
        } /* else: "1e" is 1 followed by junk: the check below fails */
    }
    if (fast && digits && i == n && m <= (1u << 24) && e >= -10 && e <= 10) {
        float f = (float)m;
        f = e < 0 ? f / pow10f_exact[-e] : f * pow10f_exact[e];
        *out = neg ? -f : f;
        return true;
    }
    if (!*loc) {
        *loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
        if (!*loc)
            return false;
    }
    char save = s[n], *end;
    s[n] = '\0';
    float f = strtof_l(s, &end, *loc);
    s[n] = save;
    if (end != s + n || !isfinite(f))
        return false;
    *out = f;
    return true;
}

static inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Bytes that never occur in text: C0 controls other than tab, LF, CR; DEL. */
static inline bool is_control(unsigned char c)
{
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
}

/* True when p[0..n) reads as text: no control byte, valid UTF-8. */
static bool looks_text(const char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x80) {
            if (is_control(c))
                return false;
            i++;
            continue;
        }
        int32_t cp;
        i += tcat_utf8_decode((const uint8_t *)p + i, n - i, &cp);
        if (cp < 0)
            return false;
    }
    return true;
}

/* What a text line holds. */
typedef enum { LINE_OK, LINE_COUNT, LINE_VALUE } line_fault;

typedef struct text_rec {
    size_t word, wlen; /* offset and length of the word in the line */
    size_t nvals;      /* values found (all of them, on LINE_COUNT) */
    size_t bad;        /* 1-based index of the bad value (LINE_VALUE) */
    size_t boff, blen; /* and where it is */
} text_rec;

/* Parses line[0..n) (blank-trimmed at the end, not blank) as
 * "word v1 ... vdim" into row. */
static line_fault parse_text(char *line, size_t n, size_t dim, locale_t *loc, float *row,
                             text_rec *t)
{
    size_t i = 0;
    while (i < n && is_blank(line[i]))
        i++;
    t->word = i;
    while (i < n && !is_blank(line[i]))
        i++;
    t->wlen = i - t->word;
    t->nvals = 0;
    for (;;) {
        while (i < n && is_blank(line[i]))
            i++;
        if (i == n)
            break;
        size_t a = i;
        while (i < n && !is_blank(line[i]))
            i++;
        if (t->nvals < dim && !parse_float(line + a, i - a, loc, &row[t->nvals])) {
            t->bad = t->nvals + 1;
            t->boff = a;
            t->blen = i - a;
            return LINE_VALUE;
        }
        t->nvals++;
    }
    return t->nvals == dim ? LINE_OK : LINE_COUNT;
}

/* Decodes dim little-endian float32 values. False when one is NaN or
 * infinite (*bad gets its 1-based index). */
static bool decode_floats(const char *p, size_t dim, float *row, size_t *bad)
{
    for (size_t d = 0; d < dim; d++) {
        const unsigned char *b = (const unsigned char *)p + 4 * d;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24;
        float f;
        memcpy(&f, &u, sizeof f);
        if (!isfinite(f)) {
            *bad = d + 1;
            return false;
        }
        row[d] = f;
    }
    return true;
}

/* ---- loading ----------------------------------------------------------------- */

typedef struct loader {
    rd r;
    tcat_vec *v;
    tcat_tok *tok;
    const tcat_vec_options *opt;
    locale_t loc;
    float *row;          /* one record's values */
    uint64_t count;      /* the header's */
    uint64_t line;       /* text: lines read */
    tcat_error *err;
} loader;

static tcat_status nomem(tcat_error *err)
{
    return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
}

/* Normalises word[0..len) and stores the record under its token. */
static tcat_status take_word(loader *L, const char *word, size_t len)
{
    tcat_vec *v = L->v;
    tcat_tokens tk;
    tcat_status st = tcat_tok_run(L->tok, word, len, &tk, L->err);
    if (st != TCAT_OK)
        return st;
    v->stats.records++;
    if (tk.n == 0) {
        v->stats.skipped_empty++;
        return TCAT_OK;
    }
    const char *t = tk.text + tk.spans[0].off;
    size_t tl = tk.spans[0].len;
    if (tk.n > 1 || !word_ok(t, tl)) { /* a token never holds whitespace: a guard */
        v->stats.skipped_multi++;
        return TCAT_OK;
    }
    bool added;
    st = tcat_vec_add(v, t, tl, L->row, &added, L->err);
    if (st != TCAT_OK)
        return st;
    if (!added)
        v->stats.duplicates++;
    return TCAT_OK;
}

static bool full(const loader *L)
{
    return L->opt->max_words && L->v->n >= L->opt->max_words;
}

/* Parses the header line "count dim". */
static tcat_status read_header(loader *L, size_t *dim)
{
    rd *r = &L->r;
    size_t n, nl;
    bool have;
    tcat_status st = rd_peek_line(r, &n, &nl, &have, L->err);
    if (st != TCAT_OK)
        return st;
    if (!have)
        return tcat_fail(L->err, TCAT_ERR_INPUT,
                         "%s:1: empty file (expected a header line \"count dim\")", r->name);
    const char *p = r->buf + r->pos;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 byte order mark */
        p += 3;
        n -= 3;
    }
    uint64_t val[2] = {0, 0};
    size_t i = 0;
    for (int k = 0; k < 2; k++) {
        while (i < n && is_blank(p[i]))
            i++;
        size_t a = i;
        for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
            if (val[k] > (UINT64_MAX - 9) / 10)
                return tcat_fail(L->err, TCAT_ERR_INPUT, "%s:1: header number too large",
                                 r->name);
            val[k] = val[k] * 10 + (uint64_t)(p[i] - '0');
        }
        if (i == a || (i < n && !is_blank(p[i])))
            return tcat_fail(L->err, TCAT_ERR_INPUT,
                             "%s:1: expected a header line \"count dim\" (two integers)",
                             r->name);
    }
    while (i < n && is_blank(p[i]))
        i++;
    if (i != n)
        return tcat_fail(L->err, TCAT_ERR_INPUT,
                         "%s:1: expected a header line \"count dim\" (two integers)", r->name);
    if (val[1] < 1 || val[1] > TCAT_VEC_MAX_DIM)
        return tcat_fail(L->err, TCAT_ERR_INPUT, "%s:1: dim %llu is not in 1..%d", r->name,
                         (unsigned long long)val[1], TCAT_VEC_MAX_DIM);
    r->pos += nl;
    L->line = 1;
    L->count = val[0];
    *dim = (size_t)val[1];
    return TCAT_OK;
}

/* Where a binary record starts (after newlines) and how long its word is:
 * *woff from pos, *wlen; *ok false when the stream ends before the space
 * or no space comes within MAX_WORD bytes (*eof tells which). */
static tcat_status bin_word(rd *r, size_t *woff, size_t *wlen, bool *ok, bool *eof,
                            tcat_error *err)
{
    size_t k = 0, avail;
    *ok = *eof = false;
    for (;;) { /* newlines before the word */
        tcat_status st = rd_ensure(r, k + 1, &avail, err);
        if (st != TCAT_OK)
            return st;
        if (avail <= k) {
            *eof = true;
            *woff = k;
            *wlen = 0;
            return TCAT_OK;
        }
        if (r->buf[r->pos + k] != '\n')
            break;
        k++;
    }
    *woff = k;
    for (size_t w = 0;; w++) {
        if (w > MAX_WORD) {
            *wlen = w;
            return TCAT_OK;
        }
        tcat_status st = rd_ensure(r, k + w + 1, &avail, err);
        if (st != TCAT_OK)
            return st;
        if (avail <= k + w) {
            *eof = true;
            *wlen = w;
            return TCAT_OK;
        }
        if (r->buf[r->pos + k + w] == ' ') {
            *wlen = w;
            *ok = w > 0;
            return TCAT_OK;
        }
    }
}

/* Tells the format from the first record (see vectors.h). */
static tcat_status detect(loader *L, size_t dim, tcat_vec_format *fmt)
{
    rd *r = &L->r;
    size_t n, nl;
    bool have;
    tcat_status st;
    for (;;) { /* blank lines before the first record: consumed, counted */
        if ((st = rd_peek_line(r, &n, &nl, &have, L->err)) != TCAT_OK)
            return st;
        const char *p = r->buf + r->pos;
        size_t i = 0;
        while (i < n && is_blank(p[i]))
            i++;
        if (!have || i < n || nl == n)
            break;
        r->pos += nl;
        L->line++;
    }
    if (!have) {
        *fmt = TCAT_VEC_TEXT; /* the text reader says what is missing */
        return TCAT_OK;
    }
    char *line = r->buf + r->pos;
    size_t m = n;
    while (m > 0 && is_blank(line[m - 1]))
        m--;
    text_rec t;
    if (parse_text(line, m, dim, &L->loc, L->row, &t) == LINE_OK) {
        *fmt = TCAT_VEC_TEXT; /* binary values never parse as dim numbers */
        return TCAT_OK;
    }
    size_t woff, wlen, avail, bad;
    bool ok, eof;
    if ((st = bin_word(r, &woff, &wlen, &ok, &eof, L->err)) != TCAT_OK)
        return st;
    if (ok) {
        size_t need = woff + wlen + 1 + 4 * dim;
        if ((st = rd_ensure(r, need, &avail, L->err)) != TCAT_OK)
            return st;
        const char *vals = r->buf + r->pos + woff + wlen + 1;
        if (avail >= need && decode_floats(vals, dim, L->row, &bad) &&
            !looks_text(vals, 4 * dim)) {
            *fmt = TCAT_VEC_BINARY;
            return TCAT_OK;
        }
    }
    /* neither is well-formed: blame the format the bytes after the word
     * look like (the word may be any bytes in either) */
    if ((st = rd_peek_line(r, &n, &nl, &have, L->err)) != TCAT_OK)
        return st;
    line = r->buf + r->pos;
    size_t i = 0;
    while (i < n && is_blank(line[i]))
        i++;
    while (i < n && !is_blank(line[i]))
        i++;
    *fmt = looks_text(line + i, n - i) ? TCAT_VEC_TEXT : TCAT_VEC_BINARY;
    return TCAT_OK;
}

static tcat_status load_text(loader *L)
{
    rd *r = &L->r;
    const char *name = r->name;
    for (;;) {
        size_t n, nl;
        bool have;
        tcat_status st = rd_peek_line(r, &n, &nl, &have, L->err);
        if (st != TCAT_OK)
            return st;
        if (!have)
            break;
        L->line++;
        char *line = r->buf + r->pos;
        while (n > 0 && is_blank(line[n - 1]))
            n--;
        size_t i = 0;
        while (i < n && is_blank(line[i]))
            i++;
        if (i == n) { /* a blank line */
            r->pos += nl;
            continue;
        }
        if (full(L)) {
            L->v->stats.stopped = true;
            return TCAT_OK;
        }
        if (L->v->stats.records == L->count)
            return tcat_fail(L->err, TCAT_ERR_INPUT,
                             "%s:%llu: more vectors than the %llu the header announces", name,
                             (unsigned long long)L->line, (unsigned long long)L->count);
        text_rec t;
        switch (parse_text(line, n, L->v->dim, &L->loc, L->row, &t)) {
        case LINE_OK:
            break;
        case LINE_COUNT:
            return tcat_fail(L->err, TCAT_ERR_INPUT,
                             "%s:%llu: %zu values after the word, expected %zu (the header's dim)",
                             name, (unsigned long long)L->line, t.nvals, L->v->dim);
        case LINE_VALUE: {
            size_t bl = t.blen > 40 ? 40 : t.blen;
            return tcat_fail(L->err, TCAT_ERR_INPUT,
                             "%s:%llu: value %zu \"%.*s%s\" is not a finite float", name,
                             (unsigned long long)L->line, t.bad, (int)bl, line + t.boff,
                             bl < t.blen ? "..." : "");
        }
        }
        st = take_word(L, line + t.word, t.wlen);
        if (st != TCAT_OK)
            return st;
        r->pos += nl;
    }
    if (L->v->stats.records < L->count)
        return tcat_fail(L->err, TCAT_ERR_INPUT,
                         "%s:%llu: the file ends after %llu of the %llu vectors the header "
                         "announces",
                         name, (unsigned long long)L->line + 1,
                         (unsigned long long)L->v->stats.records, (unsigned long long)L->count);
    return TCAT_OK;
}

static tcat_status load_binary(loader *L)
{
    rd *r = &L->r;
    const char *name = r->name;
    size_t dim = L->v->dim;
    for (uint64_t rec = 1; rec <= L->count; rec++) {
        if (full(L)) {
            L->v->stats.stopped = true;
            return TCAT_OK;
        }
        size_t woff, wlen, avail, bad;
        bool ok, eof;
        tcat_status st = bin_word(r, &woff, &wlen, &ok, &eof, L->err);
        if (st != TCAT_OK)
            return st;
        if (!ok) {
            if (eof && wlen == 0)
                return tcat_fail(L->err, TCAT_ERR_INPUT,
                                 "%s: record %llu: the file ends after %llu of the %llu "
                                 "vectors the header announces",
                                 name, (unsigned long long)rec, (unsigned long long)rec - 1,
                                 (unsigned long long)L->count);
            if (eof)
                return tcat_fail(L->err, TCAT_ERR_INPUT,
                                 "%s: record %llu: truncated (the file ends inside the word)",
                                 name, (unsigned long long)rec);
            if (!wlen)
                return tcat_fail(L->err, TCAT_ERR_INPUT, "%s: record %llu: empty word", name,
                                 (unsigned long long)rec);
            return tcat_fail(L->err, TCAT_ERR_INPUT,
                             "%s: record %llu: no space after the word within %d bytes "
                             "(not a word2vec binary record)",
                             name, (unsigned long long)rec, MAX_WORD);
        }
        size_t need = woff + wlen + 1 + 4 * dim;
        if ((st = rd_ensure(r, need, &avail, L->err)) != TCAT_OK)
            return st;
        if (avail < need)
            return tcat_fail(L->err, TCAT_ERR_INPUT,
                             "%s: record %llu: truncated (the file ends after %zu of its %zu "
                             "value bytes)",
                             name, (unsigned long long)rec, avail - (woff + wlen + 1),
                             4 * dim);
        if (!decode_floats(r->buf + r->pos + woff + wlen + 1, dim, L->row, &bad))
            return tcat_fail(L->err, TCAT_ERR_INPUT,
                             "%s: record %llu: value %zu is not a finite float", name,
                             (unsigned long long)rec, bad);
        if ((st = take_word(L, r->buf + r->pos + woff, wlen)) != TCAT_OK)
            return st;
        r->pos += need;
    }
    /* after the last record: only whitespace */
    for (;;) {
        size_t avail;
        tcat_status st = rd_ensure(r, 1, &avail, L->err);
        if (st != TCAT_OK)
            return st;
        if (!avail)
            return TCAT_OK;
        char c = r->buf[r->pos];
        if (c != '\n' && !is_blank(c))
            return tcat_fail(L->err, TCAT_ERR_INPUT,
                             "%s: record %llu: data after the %llu records the header "
                             "announces",
                             name, (unsigned long long)L->count + 1,
                             (unsigned long long)L->count);
        r->pos++;
    }
}

tcat_status tcat_vec_load(tcat_vec **out, const char *path, const tcat_tok_config *cfg,
                          const tcat_vec_options *opt, tcat_error *err)
{
    *out = NULL;
    tcat_vec_options defaults;
    if (!opt) {
        tcat_vec_options_default(&defaults);
        opt = &defaults;
    }
    tcat_tok_config dcfg;
    if (!cfg) {
        tcat_tok_config_default(&dcfg);
        cfg = &dcfg;
    }
    loader L = {.opt = opt, .err = err};
    L.r.name = strcmp(path, "-") == 0 ? "stdin" : path;
    if (strcmp(path, "-") == 0) {
        L.r.f = stdin;
    } else {
        L.r.f = fopen(path, "rb");
        if (!L.r.f)
            return tcat_fail(err, TCAT_ERR_IO, "%s: %s", path, strerror(errno));
        L.r.own = true;
    }
    size_t dim = 0;
    tcat_vec_format fmt = TCAT_VEC_TEXT;
    tcat_status st = tcat_tok_init(&L.tok, cfg, err);
    if (st == TCAT_OK)
        st = read_header(&L, &dim);
    if (st == TCAT_OK)
        st = tcat_vec_init(&L.v, dim, err);
    if (st == TCAT_OK && !(L.row = malloc(dim * sizeof *L.row)))
        st = nomem(err);
    if (st == TCAT_OK) {
        uint64_t want = L.count;
        if (opt->max_words && want > opt->max_words)
            want = opt->max_words;
        uint64_t most = ((uint64_t)1 << 28) / (4 * dim); /* 256 MiB up front at most: */
        if (want > most)                                  /* the header may lie, and */
            want = most;                                  /* rows grow as needed */
        if (reserve_rows(L.v, (size_t)want) != TCAT_OK)
            st = nomem(err);
    }
    if (st == TCAT_OK && L.count > 0)
        st = detect(&L, dim, &fmt);
    if (st == TCAT_OK) {
        L.v->stats.format = fmt;
        L.v->stats.header_count = L.count;
        st = fmt == TCAT_VEC_BINARY ? load_binary(&L) : load_text(&L);
    }
    if (st == TCAT_OK && opt->subwords)
        st = tcat_vec_build_subwords(L.v, opt->buckets, opt->threads, err);
    if (st == TCAT_OK) {
        tcat_tok_stats ts;
        tcat_tok_get_stats(L.tok, &ts);
        L.v->stats.invalid_utf8 = ts.invalid_utf8;
    }
    if (L.r.own)
        fclose(L.r.f);
    free(L.r.buf);
    free(L.row);
    if (L.loc)
        freelocale(L.loc);
    tcat_tok_free(&L.tok);
    if (st != TCAT_OK) {
        tcat_vec_free(&L.v);
        return st;
    }
    *out = L.v;
    return TCAT_OK;
}

/* ---- writing ------------------------------------------------------------------ */

tcat_status tcat_vec_save_text(const tcat_vec *v, const char *path, tcat_error *err)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp)
        return nomem(err);
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        tcat_status st = tcat_fail(err, TCAT_ERR_IO, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        tcat_status st = tcat_fail(err, TCAT_ERR_IO, "%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return st;
    }
    /* "%.9g" in the C locale whatever the program's LC_NUMERIC says */
    locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t old = c ? uselocale(c) : (locale_t)0;
    fprintf(f, "%zu %zu\n", v->n, v->dim);
    for (size_t i = 0; i < v->n; i++) {
        fputs(v->words.data + v->woff[i], f);
        const float *x = tcat_tensor_row(&v->mat, i);
        for (size_t d = 0; d < v->dim; d++)
            fprintf(f, " %.9g", (double)x[d]);
        fputc('\n', f);
    }
    if (c) {
        uselocale(old);
        freelocale(c);
    }
    int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        free(tmp);
        return tcat_fail(err, TCAT_ERR_IO, "%s: %s", path, strerror(e));
    }
    free(tmp);
    return TCAT_OK;
}
