#include "tokenizer/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STRINGS 8

typedef struct pattern {
    char *name;
    pcre2_code *re;
    /* literal trigger strings: the pattern runs only on chunks holding
     * one of them (or one of its single trigger bytes, when has_bytes) */
    char *str[MAX_STRINGS];
    size_t nstr;
    bool has_bytes;
} pattern;

/* A candidate match before overlaps are resolved. */
typedef struct match {
    size_t start, end;
    size_t prio;
} match;

struct tcat_pretok {
    pattern pat[TCAT_PRETOK_MAX_PATTERNS];
    size_t n;
    uint32_t trig[256];       /* single trigger bytes and first bytes of strings */
    uint32_t trig_bytes[256]; /* single trigger bytes only */
    pcre2_match_data *md;
    match *cand;
    size_t ncand, candcap;
    tcat_span *out;
    size_t outcap;
};

/* Marks bytes lo..hi as triggers of pattern i. */
static void trigger_bytes(tcat_pretok *p, size_t i, unsigned lo, unsigned hi)
{
    uint32_t bit = (uint32_t)1 << i;
    for (unsigned b = lo; b <= hi; b++) {
        p->trig[b] |= bit;
        p->trig_bytes[b] |= bit;
    }
    p->pat[i].has_bytes = true;
}

/* Parses a trigger field for pattern i. Without a space it is a list of
 * ASCII characters and ranges ("0-9", ":;=") or "*"; with spaces, a list
 * of alternatives, each a character, a range X-Y, or a literal string of
 * two or more characters (":// www."). Returns 0, or -1 when malformed. */
static int parse_triggers(tcat_pretok *p, size_t i, const char *t, size_t len)
{
    if (len == 1 && t[0] == '*') {
        trigger_bytes(p, i, 0, 255);
        return 0;
    }
    if (len == 0)
        return -1;
    for (size_t k = 0; k < len; k++)
        if ((unsigned char)t[k] >= 0x80)
            return -1;
    if (!memchr(t, ' ', len)) {
        for (size_t k = 0; k < len; k++) {
            unsigned char lo = (unsigned char)t[k], hi = lo;
            if (k + 2 < len && t[k + 1] == '-') {
                hi = (unsigned char)t[k + 2];
                if (hi < lo)
                    return -1;
                k += 2;
            }
            trigger_bytes(p, i, lo, hi);
        }
        return 0;
    }
    pattern *pt = &p->pat[i];
    for (size_t k = 0; k < len;) {
        while (k < len && t[k] == ' ')
            k++;
        size_t e = k;
        while (e < len && t[e] != ' ')
            e++;
        size_t w = e - k;
        if (w == 1) {
            trigger_bytes(p, i, (unsigned char)t[k], (unsigned char)t[k]);
        } else if (w == 3 && t[k + 1] == '-') {
            if ((unsigned char)t[k + 2] < (unsigned char)t[k])
                return -1;
            trigger_bytes(p, i, (unsigned char)t[k], (unsigned char)t[k + 2]);
        } else if (w > 1) {
            if (pt->nstr == MAX_STRINGS)
                return -1;
            if (!(pt->str[pt->nstr] = strndup(t + k, w)))
                return -1;
            pt->nstr++;
            p->trig[(unsigned char)t[k]] |= (uint32_t)1 << i;
        }
        k = e;
    }
    return pt->nstr || pt->has_bytes ? 0 : -1;
}

/* For a pattern with trigger strings: does chunk s[0..n) hold one of
 * them, or one of its trigger bytes? */
static bool triggered(const tcat_pretok *p, size_t i, const char *s, size_t n)
{
    const pattern *pt = &p->pat[i];
    for (size_t k = 0; k < pt->nstr; k++)
        if (memmem(s, n, pt->str[k], strlen(pt->str[k])))
            return true;
    if (pt->has_bytes) {
        uint32_t bit = (uint32_t)1 << i;
        for (size_t k = 0; k < n; k++)
            if (p->trig_bytes[(unsigned char)s[k]] & bit)
                return true;
    }
    return false;
}

static tcat_status add_pattern(tcat_pretok *p, size_t line, const char *name, size_t nlen,
                               const char *trig, size_t tlen, const char *re, size_t rlen,
                               tcat_error *err)
{
    if (p->n == TCAT_PRETOK_MAX_PATTERNS)
        return tcat_fail(err, TCAT_ERR_INPUT, "pattern table line %zu: more than %d patterns",
                         line, TCAT_PRETOK_MAX_PATTERNS);
    if (nlen == 0)
        return tcat_fail(err, TCAT_ERR_INPUT, "pattern table line %zu: empty pattern name", line);
    if (parse_triggers(p, p->n, trig, tlen) != 0) {
        for (size_t k = 0; k < p->pat[p->n].nstr; k++)
            free(p->pat[p->n].str[k]);
        memset(&p->pat[p->n], 0, sizeof p->pat[p->n]);
        return tcat_fail(err, TCAT_ERR_INPUT,
                         "pattern table line %zu: bad trigger list '%.*s' (ASCII characters, "
                         "ranges like 0-9, *, or space-separated characters, ranges and "
                         "strings)", line, (int)tlen, trig);
    }
    int code;
    PCRE2_SIZE off;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, rlen, PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
    if (!c) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return tcat_fail(err, TCAT_ERR_INPUT, "pattern table line %zu (%.*s): %s at offset %zu",
                         line, (int)nlen, name, (const char *)msg, (size_t)off);
    }
    /* JIT when available; pcre2_match uses it automatically. */
    pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
    char *nm = malloc(nlen + 1);
    if (!nm) {
        pcre2_code_free(c);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    memcpy(nm, name, nlen);
    nm[nlen] = 0;
    p->pat[p->n].name = nm;
    p->pat[p->n].re = c;
    p->n++;
    return TCAT_OK;
}

tcat_status tcat_pretok_init(tcat_pretok **out, const char *table, size_t len, tcat_error *err)
{
    tcat_pretok *p = calloc(1, sizeof *p);
    if (!p)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    size_t line = 0;
    const char *s = table, *end = table + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        line++;
        size_t ll = (size_t)(le - s);
        if (ll > 0 && s[ll - 1] == '\r')
            ll--;
        if (ll > 0 && s[0] != '#') {
            const char *t1 = memchr(s, '\t', ll);
            const char *t2 = t1 ? memchr(t1 + 1, '\t', ll - (size_t)(t1 + 1 - s)) : NULL;
            tcat_status st;
            if (!t2)
                st = tcat_fail(err, TCAT_ERR_INPUT,
                               "pattern table line %zu: expected NAME<TAB>TRIGGERS<TAB>PATTERN",
                               line);
            else
                st = add_pattern(p, line, s, (size_t)(t1 - s), t1 + 1, (size_t)(t2 - t1 - 1),
                                 t2 + 1, ll - (size_t)(t2 + 1 - s), err);
            if (st != TCAT_OK) {
                tcat_pretok_free(&p);
                return st;
            }
        }
        s = nl ? nl + 1 : end;
    }
    p->md = pcre2_match_data_create(4, NULL);
    if (!p->md) {
        tcat_pretok_free(&p);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    *out = p;
    return TCAT_OK;
}

void tcat_pretok_free(tcat_pretok **pp)
{
    if (!pp || !*pp)
        return;
    tcat_pretok *p = *pp;
    for (size_t i = 0; i < TCAT_PRETOK_MAX_PATTERNS; i++) {
        free(p->pat[i].name);
        pcre2_code_free(p->pat[i].re);
        for (size_t k = 0; k < p->pat[i].nstr; k++)
            free(p->pat[i].str[k]);
    }
    pcre2_match_data_free(p->md);
    free(p->cand);
    free(p->out);
    free(p);
    *pp = NULL;
}

size_t tcat_pretok_count(const tcat_pretok *p) { return p->n; }

const char *tcat_pretok_name(const tcat_pretok *p, size_t i)
{
    return i < p->n ? p->pat[i].name : NULL;
}

const uint32_t *tcat_pretok_triggers(const tcat_pretok *p) { return p->trig; }

static int push_candidate(tcat_pretok *p, size_t start, size_t end, size_t prio)
{
    if (p->ncand == p->candcap) {
        size_t cap = p->candcap ? 2 * p->candcap : 16;
        match *m = realloc(p->cand, cap * sizeof *m);
        if (!m)
            return -1;
        p->cand = m;
        p->candcap = cap;
    }
    p->cand[p->ncand++] = (match){start, end, prio};
    return 0;
}

static int by_start_then_prio(const void *a, const void *b)
{
    const match *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    return 0;
}

tcat_status tcat_pretok_find(tcat_pretok *p, const char *s, size_t n, uint32_t mask,
                             const tcat_span **spans, size_t *found)
{
    p->ncand = 0;
    *found = 0;
    *spans = p->out;
    for (size_t i = 0; i < p->n; i++) {
        if (!(mask & ((uint32_t)1 << i)))
            continue;
        if (p->pat[i].nstr && !triggered(p, i, s, n))
            continue;
        size_t at = 0;
        while (at < n) {
            int rc = pcre2_match(p->pat[i].re, (PCRE2_SPTR)s, n, at, PCRE2_NO_UTF_CHECK, p->md,
                                 NULL);
            if (rc == PCRE2_ERROR_NOMATCH)
                break;
            if (rc < 0)
                return TCAT_ERR_LIBRARY;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
            size_t a = ov[0], b = ov[1];
            if (b > a) {
                if (push_candidate(p, a, b, i) != 0)
                    return TCAT_ERR_NOMEM;
                at = b;
            } else {
                /* an empty match protects nothing: step one code point */
                at = a + 1;
                while (at < n && ((unsigned char)s[at] & 0xC0) == 0x80)
                    at++;
            }
        }
    }
    if (p->ncand == 0)
        return TCAT_OK;
    if (p->ncand > 1)
        qsort(p->cand, p->ncand, sizeof *p->cand, by_start_then_prio);
    if (p->outcap < p->ncand) {
        tcat_span *o = realloc(p->out, p->ncand * sizeof *o);
        if (!o)
            return TCAT_ERR_NOMEM;
        p->out = o;
        p->outcap = p->ncand;
    }
    size_t k = 0, taken_to = 0;
    for (size_t i = 0; i < p->ncand; i++) {
        if (k > 0 && p->cand[i].start < taken_to)
            continue;
        p->out[k++] = (tcat_span){p->cand[i].start, p->cand[i].end - p->cand[i].start};
        taken_to = p->cand[i].end;
    }
    *spans = p->out;
    *found = k;
    return TCAT_OK;
}
