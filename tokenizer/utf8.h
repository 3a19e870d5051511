/*
 * tokenizer/utf8.h — decoding UTF-8 with repair, encoding code points.
 *
 * Invalid input is repaired the way the Unicode Standard recommends
 * (chapter 3, "U+FFFD substitution of maximal subparts"): each maximal
 * subpart of an ill-formed sequence becomes one U+FFFD, so a truncated
 * 3-byte sequence costs one replacement, not three, and a valid character
 * after it is never swallowed. Overlong forms and surrogates are invalid.
 */
#ifndef TCAT_TOKENIZER_UTF8_H
#define TCAT_TOKENIZER_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define TCAT_REPLACEMENT_CHAR 0xFFFD

/* Decodes the code point at s[0..n), n > 0. Returns the bytes consumed
 * (1 to 4) and sets *cp to the code point, or to -1 when the bytes are
 * ill-formed (then the return value is the length of the maximal subpart,
 * to be replaced by one U+FFFD). */
static inline size_t tcat_utf8_decode(const uint8_t *s, size_t n, int32_t *cp)
{
    uint8_t b0 = s[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    int32_t c;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        c = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        c = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;       /* no overlong forms */
        else if (b0 == 0xED) hi = 0x9F;  /* no surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        c = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;
        else if (b0 == 0xF4) hi = 0x8F;  /* nothing above U+10FFFF */
    } else {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= n) {
            *cp = -1;
            return i;
        }
        uint8_t b = s[i];
        if (b < lo || b > hi) {
            *cp = -1;
            return i;
        }
        lo = 0x80;
        hi = 0xBF;
        c = (c << 6) | (b & 0x3F);
    }
    *cp = c;
    return need + 1;
}

/* Writes cp (a valid scalar value) as UTF-8 into out (room for 4 bytes);
 * returns the byte count. */
static inline size_t tcat_utf8_encode(int32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Start of the code point that ends at s[len-1] (len > 0), for valid
 * UTF-8: steps back over continuation bytes. */
static inline size_t tcat_utf8_prev(const uint8_t *s, size_t len)
{
    size_t i = len - 1;
    while (i > 0 && (s[i] & 0xC0) == 0x80 && len - i < 4)
        i--;
    return i;
}

#endif
