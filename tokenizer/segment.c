#include "tokenizer/segment.h"

#include <stdlib.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <utf8proc.h>

#include "tokenizer/utf8.h"

tcat_status tcat_spans_grow(tcat_spans *s)
{
    size_t cap = s->cap ? 2 * s->cap : 64;
    tcat_span *v = realloc(s->v, cap * sizeof *v);
    if (!v)
        return TCAT_ERR_NOMEM;
    s->v = v;
    s->cap = cap;
    return TCAT_OK;
}

void tcat_spans_free(tcat_spans *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* ---- what a segment is ------------------------------------------------- */

enum seg_kind { SEG_DROP, SEG_PUNCT, SEG_KEEP };

/* Classifies a segment by its content: a letter or digit anywhere makes a
 * word; otherwise a symbol or emoji keeps it (pictographs such as U+203C
 * and keycaps such as "#" U+FE0F U+20E3 are emoji although their first
 * character is punctuation); otherwise punctuation. */
static enum seg_kind classify(const uint8_t *s, size_t n)
{
    enum seg_kind k = SEG_DROP;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        i += tcat_utf8_decode(s + i, n - i, &cp);
        if (cp == 0xFE0F || cp == 0x20E3)
            return SEG_KEEP; /* emoji presentation, enclosing keycap */
        const utf8proc_property_t *p = utf8proc_get_property(cp);
        if (p->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC)
            return SEG_KEEP;
        switch (p->category) {
        case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
        case UTF8PROC_CATEGORY_SO: case UTF8PROC_CATEGORY_CO:
            return SEG_KEEP;
        case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
        case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
        case UTF8PROC_CATEGORY_PO:
            k = SEG_PUNCT;
            break;
        default:
            break;
        }
    }
    return k;
}

static tcat_status emit(tcat_spans *out, const uint8_t *s, size_t a, size_t b, size_t base,
                        bool keep_punct, enum seg_kind k)
{
    if (k == SEG_KEEP || (k == SEG_PUNCT && keep_punct))
        return tcat_spans_push(out, base + a, b - a);
    (void)s;
    return TCAT_OK;
}

/* ---- ICU ----------------------------------------------------------------- */

/* Word_Break values of UAX #29 that matter for ASCII text. */
enum wb { WB_OTHER, WB_LETTER, WB_NUMERIC, WB_EXTNUMLET, WB_MIDLETTER, WB_MIDNUMLETQ,
          WB_MIDNUM, WB_SPACE };

struct tcat_seg {
    UBreakIterator *bi;
    UChar *u16;
    int32_t u16cap;
    /* For each ASCII byte, read from ICU and utf8proc at init: its
     * Word_Break class and what a lone segment of it is. */
    uint8_t wb[128];
    uint8_t kind[128];
};

/* True when ICU keeps the ASCII string p in one segment. */
static bool one_segment(UBreakIterator *bi, const char *p)
{
    UChar u[8];
    int32_t n = 0;
    while (p[n] && n < 8) {
        u[n] = (UChar)(unsigned char)p[n];
        n++;
    }
    UErrorCode ec = U_ZERO_ERROR;
    ubrk_setText(bi, u, n, &ec);
    return U_SUCCESS(ec) && ubrk_next(bi) == n;
}

/* The Word_Break class ICU's rules give ASCII character c, found by
 * asking the iterator rather than read from the Unicode property: ICU's
 * rules differ from the property (ICU 72 counts '@' as a letter so as not
 * to split e-mail addresses, and does not count ':' as MidLetter). */
static enum wb probe_class(UBreakIterator *bi, char c)
{
    if (c == ' ')
        return WB_SPACE;
    char ac[] = {'a', c, 0}, ca[] = {c, 'a', 0}, cdc[] = {c, '.', c, 0}, ccc[] = {c, ',', c, 0};
    char aca[] = {'a', c, 'a', 0}, dcd[] = {'1', c, '1', 0};
    if (one_segment(bi, ac) && one_segment(bi, ca)) {
        /* letters, digits and ExtendNumLet join each other (WB5-WB13b);
         * only letters join across '.' (WB6/7), only digits across ','
         * (WB11/12) */
        if (!one_segment(bi, cdc))
            return WB_EXTNUMLET;
        return one_segment(bi, ccc) ? WB_NUMERIC : WB_LETTER;
    }
    bool letters = one_segment(bi, aca), digits = one_segment(bi, dcd);
    return letters && digits ? WB_MIDNUMLETQ : letters ? WB_MIDLETTER
           : digits ? WB_MIDNUM : WB_OTHER;
}

tcat_status tcat_seg_init(tcat_seg **out, tcat_error *err)
{
    tcat_seg *g = calloc(1, sizeof *g);
    if (!g)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    UErrorCode ec = U_ZERO_ERROR;
    g->bi = ubrk_open(UBRK_WORD, "", NULL, 0, &ec);
    if (U_FAILURE(ec)) {
        free(g);
        return tcat_fail(err, TCAT_ERR_LIBRARY, "ICU word break iterator: %s", u_errorName(ec));
    }
    for (int c = 0; c < 128; c++) {
        /* controls never reach the fast path (normalisation removed them) */
        enum wb w = c >= 0x20 && c < 0x7F ? probe_class(g->bi, (char)c) : WB_OTHER;
        g->wb[c] = (uint8_t)w;
        uint8_t byte = (uint8_t)c;
        g->kind[c] = (uint8_t)classify(&byte, 1);
    }
    *out = g;
    return TCAT_OK;
}

void tcat_seg_free(tcat_seg **gp)
{
    if (!gp || !*gp)
        return;
    ubrk_close((*gp)->bi);
    free((*gp)->u16);
    free(*gp);
    *gp = NULL;
}

tcat_status tcat_seg_icu(tcat_seg *g, const char *str, size_t n, size_t base, bool keep_punct,
                         tcat_spans *out)
{
    const uint8_t *s = (const uint8_t *)str;
    /* ICU indexes are int32_t; callers pass bounded windows, but split
     * anything larger at a space rather than overflow. */
    if (n > (size_t)INT32_MAX / 2)
        return TCAT_ERR_LIBRARY;
    if (n + 1 > (size_t)g->u16cap) {
        int32_t cap = g->u16cap ? g->u16cap : 256;
        while ((size_t)cap < n + 1)
            cap *= 2;
        UChar *u = realloc(g->u16, (size_t)cap * sizeof *u);
        if (!u)
            return TCAT_ERR_NOMEM;
        g->u16 = u;
        g->u16cap = cap;
    }
    UErrorCode ec = U_ZERO_ERROR;
    int32_t u16len = 0;
    u_strFromUTF8(g->u16, g->u16cap, &u16len, str, (int32_t)n, &ec);
    if (U_FAILURE(ec))
        return TCAT_ERR_LIBRARY;
    ubrk_setText(g->bi, g->u16, u16len, &ec);
    if (U_FAILURE(ec))
        return TCAT_ERR_LIBRARY;
    /* Walk UTF-8 and UTF-16 positions in step to map ICU's indexes back. */
    size_t u8pos = 0;
    int32_t u16pos = 0;
    size_t seg_start = 0;
    for (int32_t b = ubrk_next(g->bi); b != UBRK_DONE; b = ubrk_next(g->bi)) {
        while (u16pos < b) {
            uint8_t lead = s[u8pos];
            size_t k = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
            u8pos += k;
            u16pos += k == 4 ? 2 : 1;
        }
        int32_t status = ubrk_getRuleStatus(g->bi);
        enum seg_kind k = status >= UBRK_WORD_NONE_LIMIT
                              ? SEG_KEEP
                              : classify(s + seg_start, u8pos - seg_start);
        tcat_status st = emit(out, s, seg_start, u8pos, base, keep_punct, k);
        if (st != TCAT_OK)
            return st;
        seg_start = u8pos;
    }
    return TCAT_OK;
}

/* ---- ASCII fast path ------------------------------------------------------ */

static bool wordlike(enum wb c) { return c == WB_LETTER || c == WB_NUMERIC || c == WB_EXTNUMLET; }

tcat_status tcat_seg_ascii(const tcat_seg *g, const char *str, size_t n, size_t base,
                           bool keep_punct, tcat_spans *out)
{
    const uint8_t *s = (const uint8_t *)str;
    const uint8_t *wb = g->wb;
    size_t i = 0;
    while (i < n) {
        enum wb c = (enum wb)wb[s[i]];
        if (wordlike(c)) {
            /* WB5, WB8-WB10, WB13a/b: letters, digits and '_' join freely;
             * WB6/7: letter (MidLetter|MidNumLetQ) letter;
             * WB11/12: digit (MidNum|MidNumLetQ) digit. */
            size_t j = i + 1;
            enum wb prev = c;

            while (j < n) {
                enum wb d = (enum wb)wb[s[j]];
                if (wordlike(d)) {
                    prev = d;
                    j++;
                    continue;
                }
                if (j + 1 < n) {
                    enum wb e = (enum wb)wb[s[j + 1]];
                    bool mid_letter = d == WB_MIDLETTER || d == WB_MIDNUMLETQ;
                    bool mid_num = d == WB_MIDNUM || d == WB_MIDNUMLETQ;
                    if ((prev == WB_LETTER && e == WB_LETTER && mid_letter) ||
                        (prev == WB_NUMERIC && e == WB_NUMERIC && mid_num)) {
                        prev = e;
                        j += 2;
                        continue;
                    }
                }
                break;
            }
            /* Every rule that joins characters carries a word status in
             * ICU's rules; a lone ExtendNumLet ('_') has none and counts
             * as punctuation there. */
            bool word = j - i > 1 || c != WB_EXTNUMLET;
            tcat_status st = word ? tcat_spans_push(out, base + i, j - i)
                                  : emit(out, s, i, j, base, keep_punct, classify(s + i, j - i));
            if (st != TCAT_OK)
                return st;
            i = j;
        } else if (c == WB_SPACE) {
            i++;
        } else {
            /* any other ASCII character is a segment of its own */
            tcat_status st = emit(out, s, i, i + 1, base, keep_punct, (enum seg_kind)g->kind[s[i]]);
            if (st != TCAT_OK)
                return st;
            i++;
        }
    }
    return TCAT_OK;
}
