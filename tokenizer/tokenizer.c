/* tokenizer/tokenizer.c — the four stages put together (see tokenizer.h). */
#include "tokenizer/tokenizer.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/ustring.h>
#include <utf8proc.h>

#include "core/buf.h"
#include "tokenizer/normalize.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/segment.h"
#include "tokenizer/utf8.h"

struct tcat_tok {
    tcat_tok_config cfg;
    tcat_norm *norm;
    tcat_pretok *pretok; /* NULL when patterns are off or the table is empty */
    tcat_seg *seg;
    tcat_buf text;       /* the normalised input of the last run */
    tcat_spans spans;    /* its tokens */
    tcat_tok_stats stats;
    bool slow;           /* fast paths off (tcat_tok_set_fast_paths) */
};

tcat_status tcat_tok_init(tcat_tok **out, const tcat_tok_config *cfg, tcat_error *err)
{
    tcat_tok *t = calloc(1, sizeof *t);
    if (!t)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    tcat_status st = tcat_tok_config_copy(&t->cfg, cfg);
    if (st != TCAT_OK) {
        free(t);
        return tcat_fail(err, st, "out of memory");
    }
    st = tcat_norm_init(&t->norm, cfg->nfkc, cfg->casefold);
    if (st != TCAT_OK) {
        tcat_fail(err, st, "out of memory");
        goto fail;
    }
    if (cfg->patterns_on) {
        const char *table = cfg->patterns ? cfg->patterns : tcat_default_patterns;
        st = tcat_pretok_init(&t->pretok, table, strlen(table), err);
        if (st != TCAT_OK)
            goto fail;
        if (tcat_pretok_count(t->pretok) == 0)
            tcat_pretok_free(&t->pretok);
    }
    st = tcat_seg_init(&t->seg, err);
    if (st != TCAT_OK)
        goto fail;
    *out = t;
    return TCAT_OK;
fail:
    tcat_tok_free(&t);
    return st;
}

void tcat_tok_free(tcat_tok **tp)
{
    if (!tp || !*tp)
        return;
    tcat_tok *t = *tp;
    tcat_tok_config_clear(&t->cfg);
    tcat_norm_free(&t->norm);
    tcat_pretok_free(&t->pretok);
    tcat_seg_free(&t->seg);
    tcat_buf_free(&t->text);
    tcat_spans_free(&t->spans);
    free(t);
    *tp = NULL;
}

const tcat_tok_config *tcat_tok_get_config(const tcat_tok *t) { return &t->cfg; }

bool tcat_tok_is_punct(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        i += tcat_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (cp < 0)
            return false;
        switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
        case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
        case UTF8PROC_CATEGORY_PO:
            break;
        default:
            return false;
        }
    }
    return true;
}

void tcat_tok_set_fast_paths(tcat_tok *t, bool on) { t->slow = !on; }

void tcat_tok_get_stats(const tcat_tok *t, tcat_tok_stats *s) { *s = t->stats; }

void tcat_tok_reset_stats(tcat_tok *t) { memset(&t->stats, 0, sizeof t->stats); }

/* Segments a piece that holds no protected span. */
static tcat_status segment(tcat_tok *t, size_t a, size_t b, bool ascii)
{
    const char *s = t->text.data;
    bool kp = t->cfg.keep_punct;
    return ascii && !t->slow ? tcat_seg_ascii(t->seg, s + a, b - a, a, kp, &t->spans)
                 : tcat_seg_icu(t->seg, s + a, b - a, a, kp, &t->spans);
}

static bool all_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

/* A chunk with trigger bytes: protected spans become tokens as they are,
 * the pieces between them are segmented. */
static tcat_status protect_and_segment(tcat_tok *t, size_t a, size_t b, uint32_t mask,
                                       bool ascii)
{
    const tcat_span *prot;
    size_t np;
    tcat_status st = tcat_pretok_find(t->pretok, t->text.data + a, b - a, mask, &prot, &np);
    if (st != TCAT_OK)
        return st;
    if (np == 0)
        return segment(t, a, b, ascii);
    size_t at = a;
    for (size_t k = 0; k < np; k++) {
        size_t ps = a + prot[k].off, pe = ps + prot[k].len;
        if (ps > at && (st = segment(t, at, ps, ascii || all_ascii(t->text.data + at, ps - at))))
            return st;
        if ((st = tcat_spans_push(&t->spans, ps, pe - ps)))
            return st;
        at = pe;
    }
    if (at < b)
        st = segment(t, at, b, ascii || all_ascii(t->text.data + at, b - at));
    return st;
}

/* The run of text waiting for ICU: consecutive chunks that need it are
 * handed over in one call, which saves ICU's per-call set-up. */
typedef struct icu_run {
    size_t a, b;
    bool open;
} icu_run;

static void icu_extend(icu_run *r, size_t a, size_t b)
{
    if (!r->open)
        r->a = a;
    r->open = true;
    r->b = b;
}

static tcat_status icu_flush(tcat_tok *t, icu_run *r)
{
    if (!r->open)
        return TCAT_OK;
    r->open = false;
    return segment(t, r->a, r->b, false);
}

tcat_status tcat_tok_run(tcat_tok *t, const char *in, size_t len, tcat_tokens *out,
                         tcat_error *err)
{
    t->text.len = 0;
    t->spans.n = 0;
    tcat_norm_counts counts = {0, 0};
    tcat_status st = t->slow ? tcat_norm_run_slow(t->norm, in, len, &t->text, &counts)
                             : tcat_norm_run(t->norm, in, len, &t->text, &counts);
    t->stats.invalid_utf8 += counts.invalid_utf8;
    t->stats.nul_bytes += counts.nul_bytes;
    t->stats.bytes_in += len;
    if (st != TCAT_OK)
        return tcat_fail(err, st, "normalising text: %s", tcat_strerror(st));

    const unsigned char *s = (const unsigned char *)t->text.data;
    size_t n = t->text.len;
    const uint32_t *trig = t->pretok ? tcat_pretok_triggers(t->pretok) : NULL;
    icu_run icu = {0, 0, false};
    size_t i = 0;
    while (i < n) {
        if (s[i] == ' ') {
            i++;
            continue;
        }
        /* A chunk: the bytes up to the next space. */
        size_t j = i;
        uint32_t mask = 0;
        unsigned char hi = 0;
        if (trig) {
            for (; j < n && s[j] != ' '; j++) {
                mask |= trig[s[j]];
                hi |= s[j];
            }
        } else {
            for (; j < n && s[j] != ' '; j++)
                hi |= s[j];
        }
        bool ascii = hi < 0x80;
        if (!mask && !ascii)
            icu_extend(&icu, i, j);
        else if (!(st = icu_flush(t, &icu)))
            st = mask ? protect_and_segment(t, i, j, mask, ascii) : segment(t, i, j, true);
        if (st)
            goto fail;
        i = j;
    }
    if ((st = icu_flush(t, &icu)))
        goto fail;
    out->text = t->text.data;
    out->spans = t->spans.v;
    out->n = t->spans.n;
    return TCAT_OK;
fail:
    return tcat_fail(err, st, "segmenting text: %s", tcat_strerror(st));
}

/* The last ICU word boundary but one in s[0..n) (UTF-8 offset), or 0.
 * The last is skipped because the text goes on after n and may move it. */
static size_t icu_inner_boundary(const char *s, size_t n)
{
    UErrorCode ec = U_ZERO_ERROR;
    UChar u[4200];
    int32_t ulen = 0;
    u_strFromUTF8WithSub(u, (int32_t)(sizeof u / sizeof *u), &ulen, s, (int32_t)n, 0xFFFD, NULL,
                         &ec);
    if (U_FAILURE(ec) || ulen == 0)
        return 0;
    UBreakIterator *bi = ubrk_open(UBRK_WORD, "", u, ulen, &ec);
    if (U_FAILURE(ec))
        return 0;
    int32_t b = ubrk_preceding(bi, ulen);
    if (b > 0)
        b = ubrk_preceding(bi, b);
    ubrk_close(bi);
    if (b <= 0)
        return 0;
    /* back to a UTF-8 offset */
    size_t pos = 0;
    for (int32_t k = 0; k < b && pos < n;) {
        int32_t cp;
        pos += tcat_utf8_decode((const uint8_t *)s + pos, n - pos, &cp);
        k += cp >= 0x10000 ? 2 : 1; /* an ill-formed subpart is one U+FFFD */
    }
    return pos < n ? pos : 0;
}

size_t tcat_tok_safe_cut(const char *buf, size_t len)
{
    const unsigned char *s = (const unsigned char *)buf;
    if (len <= 1)
        return len;
    for (size_t i = len; i > 0; i--) {
        unsigned char b = s[i - 1];
        if (b == ' ' || b == '\t' || b == '\r')
            return i;
    }
    /* No space at all (a long run of Chinese, or base64): cut at a word
     * boundary ICU finds in the last few kilobytes, excluding the last
     * code point, which may be incomplete since the text goes on. */
    size_t end = len - 1;
    while (end > 0 && (s[end] & 0xC0) == 0x80)
        end--;
    size_t tail = end > 4096 ? end - 4096 : 0;
    while (tail > 0 && (s[tail] & 0xC0) == 0x80)
        tail++;
    size_t b = icu_inner_boundary(buf + tail, end - tail);
    if (b > 0)
        return tail + b;
    /* No word boundary either (one huge "word"): the last grapheme cluster
     * boundary, tracked with utf8proc's state so that emoji ZWJ sequences
     * and flag pairs are not split. */
    size_t last = 0;
    int32_t state = 0, prev = -1;
    for (size_t i = tail; i < end;) {
        int32_t cp;
        size_t k = tcat_utf8_decode(s + i, end - i, &cp);
        if (cp < 0)
            cp = TCAT_REPLACEMENT_CHAR;
        if (prev >= 0 && utf8proc_grapheme_break_stateful(prev, cp, &state))
            last = i;
        prev = cp;
        i += k;
    }
    if (prev >= 0) {
        int32_t cp;
        tcat_utf8_decode(s + end, len - end, &cp);
        if (cp >= 0 && utf8proc_grapheme_break_stateful(prev, cp, &state))
            last = end;
    }
    if (last > 0)
        return last;
    return end > 0 ? end : len;
}
