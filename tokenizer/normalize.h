/*
 * tokenizer/normalize.h — stages 1 and 2 of the tokenizer: decode UTF-8
 * with repair, then normalise with utf8proc.
 *
 * Output, for any input bytes, is valid UTF-8 in which:
 *   - each ill-formed sequence is U+FFFD (tokenizer/utf8.h), NUL is ' ';
 *   - NFKC (when nfkc) and full case folding (when casefold) are applied,
 *     as NFKC(casefold(NFKD(x))) — the NFKC_Casefold recipe;
 *   - control (Cc) and format (Cf) characters are removed, except a ZWJ
 *     between two emoji (family and profession sequences) and emoji tag
 *     characters after an emoji (subdivision flags); whitespace controls
 *     (TAB, LF, VT, FF, CR, U+001C-U+001F, NEL) and every Zs/Zl/Zp space
 *     become ' '. A BOM (U+FEFF, a format character) is thus dropped.
 *
 * Speed: ASCII goes through a byte table and any character already in its
 * final form (no decomposition, no case folding, a starter that composes
 * with nothing before it) is copied; only the few characters around one
 * that changes go through utf8proc. tcat_norm_run_slow does everything the
 * slow way and exists so tests can prove both give identical bytes.
 */
#ifndef TCAT_TOKENIZER_NORMALIZE_H
#define TCAT_TOKENIZER_NORMALIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/status.h"

typedef struct tcat_norm tcat_norm;

typedef struct tcat_norm_counts {
    uint64_t invalid_utf8;
    uint64_t nul_bytes;
} tcat_norm_counts;

/* A normaliser with its scratch space; free with tcat_norm_free. */
tcat_status tcat_norm_init(tcat_norm **out, bool nfkc, bool casefold);
void tcat_norm_free(tcat_norm **n);

/* Appends the normalised form of in[0..len) to out and adds the repairs
 * made to *counts. Fails only with TCAT_ERR_NOMEM or TCAT_ERR_LIBRARY. */
tcat_status tcat_norm_run(tcat_norm *n, const char *in, size_t len, tcat_buf *out,
                          tcat_norm_counts *counts);

/* The same result without the fast paths (for tests). */
tcat_status tcat_norm_run_slow(tcat_norm *n, const char *in, size_t len, tcat_buf *out,
                               tcat_norm_counts *counts);

#endif
