#include "tokenizer/normalize.h"

#include <stdlib.h>
#include <utf8proc.h>

#include "tokenizer/utf8.h"

struct tcat_norm {
    bool nfkc, casefold;
    utf8proc_option_t decompose_opts;
    int32_t *u;      /* UTF-32 scratch for a slow region */
    size_t ucap;
    uint8_t ascii[128]; /* byte -> byte to write; 0 = drop */
    /* The fate of each BMP code point (enum bmp_fate in the low byte,
     * the combining class of a BMP_MARK in the high byte), learnt from
     * utf8proc the first time it is met: saves the property lookups on
     * every CJK, Thai or Cyrillic character. */
    uint16_t *bmp_fate;
    uint16_t *bmp_simple; /* BMP_SIMPLE targets, allocated on first use */
};

enum bmp_fate {
    BMP_UNKNOWN,
    BMP_STABLE, /* is_stable: copied as it is */
    BMP_SLOW,   /* needs the slow path */
    BMP_SIMPLE, /* a starter that maps to one stable BMP code point, with
                 * no effect on its neighbours: full-width forms, most
                 * capital letters, spaces */
    BMP_MARK    /* a combining mark that neither maps nor composes (Thai
                 * vowels and tones, Devanagari virama, Arabic harakat):
                 * copied when it is in canonical order after the previous
                 * character, i.e. when its class is not lower */
};

/* ASCII controls that are whitespace: TAB LF VT FF CR and the information
 * separators U+001C-U+001F (Python and the corpora treat them as spaces). */
static bool ascii_space_control(uint8_t b)
{
    return (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x1F);
}

tcat_status tcat_norm_init(tcat_norm **out, bool nfkc, bool casefold)
{
    tcat_norm *n = calloc(1, sizeof *n);
    if (!n)
        return TCAT_ERR_NOMEM;
    n->bmp_fate = calloc(65536, sizeof *n->bmp_fate);
    if (!n->bmp_fate) {
        free(n);
        return TCAT_ERR_NOMEM;
    }
    n->nfkc = nfkc;
    n->casefold = casefold;
    n->decompose_opts = (nfkc ? UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT : 0) |
                        (casefold ? UTF8PROC_CASEFOLD : 0);
    for (int b = 0; b < 128; b++) {
        uint8_t v = (uint8_t)b;
        if (b == 0 || ascii_space_control((uint8_t)b))
            v = ' ';
        else if (b < 0x20 || b == 0x7F)
            v = 0;
        else if (casefold && b >= 'A' && b <= 'Z')
            v = (uint8_t)(b + ('a' - 'A'));
        n->ascii[b] = v;
    }
    *out = n;
    return TCAT_OK;
}

void tcat_norm_free(tcat_norm **n)
{
    if (!n || !*n)
        return;
    free((*n)->u);
    free((*n)->bmp_simple);
    free((*n)->bmp_fate);
    free(*n);
    *n = NULL;
}

/* True when cp (with properties p) is its own normal form and a boundary
 * of normalisation: nothing before it can compose with it or reorder
 * around it, and it needs no mapping or filtering. */
static bool is_stable(const tcat_norm *n, const utf8proc_property_t *p)
{
    switch (p->category) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
        return false;
    default:
        break;
    }
    if (p->combining_class != 0)
        return false;
    if (n->casefold && p->casefold_seqindex != UINT16_MAX)
        return false;
    if (n->nfkc) {
        if (p->decomp_seqindex != UINT16_MAX)
            return false;
        /* composes as the second of a pair (a combining mark with ccc 0,
         * or a Hangul vowel / trailing consonant) */
        if (p->comb_index != UINT16_MAX && p->comb_index >= 0x8000)
            return false;
        if (p->boundclass == UTF8PROC_BOUNDCLASS_V || p->boundclass == UTF8PROC_BOUNDCLASS_T)
            return false;
    }
    return true;
}

/* When cp (properties p) is a BMP_SIMPLE character, its target. */
static bool simple_target(const tcat_norm *n, int32_t cp, const utf8proc_property_t *p,
                          int32_t *to)
{
    if (p->combining_class != 0 || p->category == UTF8PROC_CATEGORY_CC ||
        p->category == UTF8PROC_CATEGORY_CF)
        return false;
    /* an emoji's mapping depends on a following VS16 (slow_region) */
    if (p->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC)
        return false;
    if (n->nfkc && ((p->comb_index != UINT16_MAX && p->comb_index >= 0x8000) ||
                    p->boundclass == UTF8PROC_BOUNDCLASS_V || p->boundclass == UTF8PROC_BOUNDCLASS_T))
        return false;
    int32_t buf[8];
    utf8proc_ssize_t r = utf8proc_decompose_char(cp, buf, 8, n->decompose_opts, NULL);
    if (r != 1 || buf[0] >= 0x10000)
        return false;
    utf8proc_category_t cat = utf8proc_category(buf[0]);
    if (cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP) {
        *to = ' ';
        return true;
    }
    if (!is_stable(n, utf8proc_get_property(buf[0])))
        return false;
    *to = buf[0];
    return true;
}

/* A combining mark that passes through untouched, as long as it is in
 * canonical order: no decomposition, no folding, composes with nothing. */
static bool is_inert_mark(const tcat_norm *n, const utf8proc_property_t *p)
{
    if (p->combining_class == 0)
        return false;
    if (p->category != UTF8PROC_CATEGORY_MN && p->category != UTF8PROC_CATEGORY_MC &&
        p->category != UTF8PROC_CATEGORY_ME)
        return false;
    if (n->casefold && p->casefold_seqindex != UINT16_MAX)
        return false;
    return !n->nfkc || (p->decomp_seqindex == UINT16_MAX && p->comb_index == UINT16_MAX);
}

/* The fate of BMP code point cp (learnt and remembered), with the
 * combining class of a BMP_MARK in the high byte. */
static unsigned bmp_fate(tcat_norm *n, int32_t cp)
{
    unsigned v = n->bmp_fate[cp];
    if (v != BMP_UNKNOWN)
        return v;
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    int32_t to;
    if (is_stable(n, p)) {
        v = BMP_STABLE;
    } else if (is_inert_mark(n, p)) {
        v = BMP_MARK | (unsigned)p->combining_class << 8;
    } else if (simple_target(n, cp, p, &to) &&
               (n->bmp_simple || (n->bmp_simple = malloc(65536 * sizeof(uint16_t))))) {
        n->bmp_simple[cp] = (uint16_t)to;
        v = BMP_SIMPLE;
    } else {
        v = BMP_SLOW;
    }
    n->bmp_fate[cp] = (uint16_t)v;
    return v;
}

/* is_stable(cp), through the BMP cache. */
static bool cp_stable(tcat_norm *n, int32_t cp)
{
    if (cp >= 0x10000)
        return is_stable(n, utf8proc_get_property(cp));
    return (bmp_fate(n, cp) & 0xFF) == BMP_STABLE;
}

static bool is_pictographic(int32_t cp)
{
    int bc = utf8proc_get_property(cp)->boundclass;
    return bc == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC || bc == UTF8PROC_BOUNDCLASS_E_ZWG;
}

static bool is_emoji_tag(int32_t cp) { return cp >= 0xE0020 && cp <= 0xE007F; }

/* The last code point written before u[i] (in u[0..i) or, before that, in
 * the output already emitted), skipping Extend characters (variation
 * selectors, skin tones) when skip_extend; -1 when there is none. */
static int32_t previous_base(const int32_t *u, size_t i, const tcat_buf *out, bool skip_extend)
{
    while (i > 0) {
        int32_t cp = u[--i];
        if (!skip_extend || utf8proc_get_property(cp)->boundclass != UTF8PROC_BOUNDCLASS_EXTEND)
            return cp;
    }
    size_t end = out->len;
    while (end > 0) {
        size_t start = tcat_utf8_prev((const uint8_t *)out->data, end);
        int32_t cp;
        tcat_utf8_decode((const uint8_t *)out->data + start, end - start, &cp);
        if (!skip_extend || utf8proc_get_property(cp)->boundclass != UTF8PROC_BOUNDCLASS_EXTEND)
            return cp;
        end = start;
    }
    return -1;
}

/* Removes control and format characters from u[0..m) in place and maps
 * spaces to ' '; next_cp is the code point following the region (-1 at
 * the end). Returns the new length. */
static size_t filter_region(int32_t *u, size_t m, int32_t next_cp, const tcat_buf *out)
{
    size_t w = 0;
    for (size_t r = 0; r < m; r++) {
        int32_t cp = u[r];
        switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_CC:
            if (cp < 0x80 ? ascii_space_control((uint8_t)cp) : cp == 0x85)
                u[w++] = ' ';
            break;
        case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
            u[w++] = ' ';
            break;
        case UTF8PROC_CATEGORY_CF: {
            bool keep = false;
            if (cp == 0x200D) {
                int32_t next = r + 1 < m ? u[r + 1] : next_cp;
                int32_t prev = previous_base(u, w, out, true);
                keep = next >= 0 && prev >= 0 && is_pictographic(next) && is_pictographic(prev);
            } else if (is_emoji_tag(cp)) {
                int32_t prev = previous_base(u, w, out, false);
                keep = prev >= 0 && (is_emoji_tag(prev) || is_pictographic(prev));
            }
            if (keep)
                u[w++] = cp;
            break;
        }
        default:
            u[w++] = cp;
        }
    }
    return w;
}

/* Canonical ordering: a stable sort of each run of non-starters by
 * combining class (Unicode chapter 3.11). */
static void canonical_order(int32_t *u, size_t m)
{
    for (size_t i = 1; i < m; i++) {
        int32_t cp = u[i];
        int ccc = utf8proc_get_property(cp)->combining_class;
        if (ccc == 0)
            continue;
        size_t j = i;
        while (j > 0) {
            int prev = utf8proc_get_property(u[j - 1])->combining_class;
            if (prev <= ccc)
                break;
            u[j] = u[j - 1];
            j--;
        }
        u[j] = cp;
    }
}

static tcat_status grow_u(tcat_norm *n, size_t need)
{
    if (need <= n->ucap)
        return TCAT_OK;
    size_t cap = n->ucap ? n->ucap : 64;
    while (cap < need)
        cap *= 2;
    int32_t *p = realloc(n->u, cap * sizeof *p);
    if (!p)
        return TCAT_ERR_NOMEM;
    n->u = p;
    n->ucap = cap;
    return TCAT_OK;
}

/* Decodes the code point at s[i..len), counting repairs. */
static size_t decode_at(const uint8_t *s, size_t i, size_t len, int32_t *cp,
                        tcat_norm_counts *counts)
{
    size_t k = tcat_utf8_decode(s + i, len - i, cp);
    if (*cp < 0) {
        *cp = TCAT_REPLACEMENT_CHAR;
        counts->invalid_utf8++;
    } else if (*cp == 0) {
        *cp = ' ';
        counts->nul_bytes++;
    }
    return k;
}

/* Normalises the code points of s[begin..end) the slow way (decompose,
 * order, filter, compose) and appends them to out. next_cp is the code
 * point at end (-1 when end is the end of the text). */
static tcat_status slow_region(tcat_norm *n, const uint8_t *s, size_t begin, size_t end,
                               int32_t next_cp, tcat_buf *out, tcat_norm_counts *counts)
{
    size_t m = 0;
    int32_t cp = -1;
    size_t i = begin;
    if (i < end)
        i += decode_at(s, i, end, &cp, counts);
    while (cp >= 0) {
        /* one code point of look-ahead: an emoji followed by VS16 (U+FE0F,
         * emoji presentation) keeps its form, so NFKC does not turn the
         * emoji "‼️" or "™️" into letters and punctuation */
        int32_t next = -1;
        if (i < end)
            i += decode_at(s, i, end, &next, counts);
        int32_t after = next >= 0 ? next : next_cp;
        utf8proc_option_t opts = n->decompose_opts;
        if (after == 0xFE0F && is_pictographic(cp))
            opts &= ~UTF8PROC_COMPAT;
        for (;;) {
            if (grow_u(n, m + 32) != TCAT_OK)
                return TCAT_ERR_NOMEM;
            utf8proc_ssize_t r = utf8proc_decompose_char(cp, n->u + m, (utf8proc_ssize_t)(n->ucap - m),
                                                         opts, NULL);
            if (r < 0)
                return TCAT_ERR_LIBRARY;
            if ((size_t)r <= n->ucap - m) {
                m += (size_t)r;
                break;
            }
            if (grow_u(n, m + (size_t)r) != TCAT_OK)
                return TCAT_ERR_NOMEM;
        }
        cp = next;
    }
    if (n->nfkc)
        canonical_order(n->u, m);
    m = filter_region(n->u, m, next_cp, out);
    if (n->nfkc && m > 0) {
        utf8proc_ssize_t r = utf8proc_normalize_utf32(n->u, (utf8proc_ssize_t)m, UTF8PROC_COMPOSE);
        if (r < 0)
            return TCAT_ERR_LIBRARY;
        m = (size_t)r;
    }
    if (tcat_buf_reserve(out, 4 * m) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    for (size_t k = 0; k < m; k++)
        out->len += tcat_utf8_encode(n->u[k], (uint8_t *)out->data + out->len);
    return TCAT_OK;
}

/* The code point at s[i..len) as the slow path would see it, or -1 at the end. */
static int32_t peek_cp(const uint8_t *s, size_t i, size_t len)
{
    if (i >= len)
        return -1;
    int32_t cp;
    tcat_utf8_decode(s + i, len - i, &cp);
    return cp < 0 ? TCAT_REPLACEMENT_CHAR : cp == 0 ? ' ' : cp;
}

tcat_status tcat_norm_run(tcat_norm *n, const char *in, size_t len, tcat_buf *out,
                          tcat_norm_counts *counts)
{
    const uint8_t *s = (const uint8_t *)in;
    if (tcat_buf_reserve(out, len) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    /* Where the current combining sequence began (its starter, a space
     * included), in the input and in the output: a mark that follows may
     * compose with the starter or need reordering with the marks before
     * it, so the slow path restarts there. At the start of the text, the
     * sequence begins there too. */
    size_t starter_in = 0, starter_out = out->len;
    unsigned last_ccc = 0; /* combining class of the last character written */
    size_t i = 0;
    while (i < len) {
        uint8_t b = s[i];
        if (b < 0x80) {
            /* The ASCII run: one table lookup a byte. */
            uint8_t *o = (uint8_t *)out->data + out->len;
            size_t j = i;
            do {
                uint8_t v = n->ascii[b];
                counts->nul_bytes += b == 0;
                *o = v;
                o += v != 0;
                if (++j == len)
                    break;
                b = s[j];
            } while (b < 0x80);
            out->len = (size_t)(o - (uint8_t *)out->data);
            /* The last byte that wrote something is the starter; dropped
             * controls are transparent, as on the slow path. */
            size_t last = j;
            while (last > i && n->ascii[s[last - 1]] == 0)
                last--;
            if (last > i) {
                last_ccc = 0;
                starter_in = last - 1;
                starter_out = out->len - 1;
            }
            i = j;
            continue;
        }
        /* A run of 2- and 3-byte characters that are stable or simple
         * (Cyrillic, Arabic, Devanagari, Thai, CJK, full-width forms, ...):
         * decoded inline and looked up in the BMP cache. */
        /* Output grows at most 3 bytes for 2 (a 2-byte character mapped to a
         * 3-byte one): room for that, once, keeps checks out of the loop. */
        if (tcat_buf_reserve(out, (len - i) / 2 * 3 + 3) != TCAT_OK)
            return TCAT_ERR_NOMEM;
        uint8_t *restrict o = (uint8_t *)out->data + out->len;
        uint8_t *const o0 = (uint8_t *)out->data;
        const uint16_t *const fates = n->bmp_fate;
        size_t j = i;
        for (;;) {
            int32_t c;
            size_t k2;
            uint8_t b0 = s[j], b1 = j + 1 < len ? s[j + 1] : 0, b2 = 0;
            if (b0 >= 0xC2 && b0 <= 0xDF && (b1 & 0xC0) == 0x80) {
                c = ((b0 & 0x1F) << 6) | (b1 & 0x3F);
                k2 = 2;
            } else if ((b0 & 0xF0) == 0xE0 && (b1 & 0xC0) == 0x80 && j + 2 < len &&
                       ((b2 = s[j + 2]) & 0xC0) == 0x80) {
                c = ((b0 & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F);
                if (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))
                    break; /* overlong or surrogate: the general path repairs it */
                k2 = 3;
            } else {
                break;
            }
            unsigned fate = fates[c];
            if (fate == BMP_UNKNOWN)
                fate = bmp_fate(n, c);
            unsigned ccc = fate >> 8;
            fate &= 0xFF;
            if (fate == BMP_SLOW || (fate == BMP_MARK && ccc < last_ccc))
                break;
            if (fate == BMP_SIMPLE) {
                int32_t to = n->bmp_simple[c];
                starter_in = j;
                starter_out = (size_t)(o - o0);
                o += tcat_utf8_encode(to, o);
                last_ccc = 0;
            } else {
                o[0] = b0;
                o[1] = b1;
                o[2] = b2; /* harmless when k2 == 2: overwritten or past len */
                if (fate == BMP_MARK) {
                    /* a mark leaves the last starter where it was */
                    last_ccc = ccc;
                } else {
                    starter_in = j;
                    starter_out = (size_t)(o - o0);
                    last_ccc = 0;
                }
                o += k2;
            }
            j += k2;
            if (j >= len)
                break;
        }
        size_t w = (size_t)(o - o0);
        if (j > i) {
            out->len = w;
            i = j;
            continue;
        }
        int32_t cp;
        size_t k = tcat_utf8_decode(s + i, len - i, &cp);
        if (cp >= 0 && cp_stable(n, cp)) {
            last_ccc = 0;
            starter_in = i;
            starter_out = out->len;
            memcpy(out->data + out->len, s + i, k);
            out->len += k;
            i += k;
            continue;
        }
        /* A character that changes: redo from the last starter up to the
         * next stable character or kept ASCII byte, neither of which can
         * interact with what precedes it. Dropped controls stay inside. */
        size_t begin = starter_in;
        out->len = starter_out;
        if (begin < i && s[begin] == 0) {
            /* a NUL starter was counted and written as ' ' already, and a
             * space composes with nothing: start after it */
            begin++;
            out->len++;
        }
        size_t end = i + k;
        while (end < len) {
            if (s[end] < 0x80) {
                if (n->ascii[s[end]] != 0)
                    break;
                end++;
                continue;
            }
            int32_t c2;
            size_t k2 = tcat_utf8_decode(s + end, len - end, &c2);
            if (c2 >= 0 && cp_stable(n, c2))
                break;
            end += k2;
        }
        tcat_status st = slow_region(n, s, begin, end, peek_cp(s, end, len), out, counts);
        if (st != TCAT_OK)
            return st;
        if (tcat_buf_reserve(out, len - end) != TCAT_OK)
            return TCAT_ERR_NOMEM;
        starter_in = end;
        starter_out = out->len;
        last_ccc = 0;
        i = end;
    }
    return TCAT_OK;
}

tcat_status tcat_norm_run_slow(tcat_norm *n, const char *in, size_t len, tcat_buf *out,
                               tcat_norm_counts *counts)
{
    return slow_region(n, (const uint8_t *)in, 0, len, -1, out, counts);
}
