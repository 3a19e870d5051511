/*
 * tokenizer/tokenizer.h — text in, tokens out, for every script.
 *
 * A tokenizer runs four stages over a piece of text (a line, a document, or
 * a window of a very long line):
 *
 *   1. decode     UTF-8 in; each invalid sequence becomes U+FFFD and is
 *                 counted; NUL bytes read as spaces (counted too).
 *   2. normalize  utf8proc: NFKC (full-width forms, ligatures) and case
 *                 folding, each optional; control and format characters
 *                 removed except those that carry meaning (a ZWJ between
 *                 emoji, emoji tag characters); every Unicode space -> ' '.
 *                 ASCII and text already in normal form take a fast path
 *                 that gives byte-identical output (tokenizer/normalize.h).
 *   3. protect    PCRE2 patterns (URLs, e-mail addresses, numbers with
 *                 separators, @mentions, #hashtags, emoticons) mark spans
 *                 kept as single tokens. The pattern set is data: a TSV
 *                 table (tokenizer/patterns.tsv is the built-in one).
 *   4. segment    ICU's word break iterator cuts the rest into words, with
 *                 dictionaries for Thai, Lao, Khmer, Burmese, Chinese and
 *                 Japanese; emoji sequences stay one token. Pure ASCII runs
 *                 take a fast path giving the same boundaries as ICU.
 *
 * Which segments become tokens: any segment holding a letter or a digit
 * (a word), a symbol or an emoji; punctuation-only segments only when
 * keep_punct is set; whitespace and lone marks never.
 *
 * The settings (tcat_tok_config) serialise to a short text so a model file
 * can store them and predict tokenizes exactly as train did.
 *
 * A tokenizer object is not thread-safe: use one per thread.
 */
#ifndef TCAT_TOKENIZER_H
#define TCAT_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* ---- settings ---------------------------------------------------------- */

typedef struct tcat_tok_config {
    bool nfkc;        /* NFKC normalisation (default true) */
    bool casefold;    /* full Unicode case folding (default true) */
    bool keep_punct;  /* keep punctuation-only tokens (default false) */
    bool patterns_on; /* run the protecting patterns (default true) */
    /* The pattern table as TSV text (see tokenizer/pretokenize.h), owned
     * by the config. NULL means the built-in table. */
    char *patterns;
} tcat_tok_config;

/* Fills c with the defaults above. */
void tcat_tok_config_default(tcat_tok_config *c);

/* Frees what c owns (the pattern text) and resets it to the defaults. */
void tcat_tok_config_clear(tcat_tok_config *c);

/* Deep copy: dst receives its own pattern text. dst is overwritten (not
 * cleared) first. Returns TCAT_ERR_NOMEM on allocation failure. */
tcat_status tcat_tok_config_copy(tcat_tok_config *dst, const tcat_tok_config *src);

/* Serialises c as "key=value\n" lines (the pattern table last, as a
 * length-prefixed block so it may hold any byte). *out is malloc'd and
 * NUL-terminated, *out_len excludes the NUL; the caller frees it. */
tcat_status tcat_tok_config_save(const tcat_tok_config *c, char **out, size_t *out_len);

/* Parses the text tcat_tok_config_save wrote into c (which is cleared
 * first). Unknown keys, bad values and a truncated pattern block are
 * TCAT_ERR_INPUT with the offending line in err. */
tcat_status tcat_tok_config_load(tcat_tok_config *c, const char *text, size_t len,
                                 tcat_error *err);

/* ---- the tokenizer ----------------------------------------------------- */

typedef struct tcat_tok tcat_tok;

/* One token: bytes [off, off+len) of tcat_tokens.text. */
typedef struct tcat_span {
    size_t off, len;
} tcat_span;

/* The tokens of one call. Both arrays belong to the tokenizer and stay
 * valid until its next tcat_tok_run or tcat_tok_free. text is the
 * normalised input (valid UTF-8); tokens never overlap and come in order. */
typedef struct tcat_tokens {
    const char *text;
    const tcat_span *spans;
    size_t n;
} tcat_tokens;

/* Repairs counted over the tokenizer's life (reset with tcat_tok_reset_stats). */
typedef struct tcat_tok_stats {
    uint64_t invalid_utf8; /* sequences replaced by U+FFFD */
    uint64_t nul_bytes;    /* NUL bytes read as spaces */
    uint64_t bytes_in;     /* input bytes seen */
} tcat_tok_stats;

/* Builds a tokenizer: opens ICU's word break iterator and compiles the
 * patterns (JIT where PCRE2 has it). A bad pattern table is TCAT_ERR_INPUT
 * naming the table line; ICU failing to open is TCAT_ERR_LIBRARY.
 * The config is copied; *out is freed with tcat_tok_free. */
tcat_status tcat_tok_init(tcat_tok **out, const tcat_tok_config *cfg, tcat_error *err);

/* Frees t and sets *t to NULL. NULL and *t == NULL are fine. */
void tcat_tok_free(tcat_tok **t);

/* The settings t runs with. */
const tcat_tok_config *tcat_tok_get_config(const tcat_tok *t);

/* Tokenizes len bytes of in (any bytes: invalid UTF-8 and NUL are
 * repaired and counted). The text is one piece: a newline inside it is
 * just a space. Fails only with TCAT_ERR_NOMEM or TCAT_ERR_LIBRARY. */
tcat_status tcat_tok_run(tcat_tok *t, const char *in, size_t len, tcat_tokens *out,
                         tcat_error *err);

/* Fast paths (ASCII and already-normal text) are on by default. Turned
 * off, every character goes through utf8proc's full mapping and every
 * segment through ICU: the same tokens, only slower. For tests and
 * benchmarks that prove the fast paths change nothing. */
void tcat_tok_set_fast_paths(tcat_tok *t, bool on);

void tcat_tok_get_stats(const tcat_tok *t, tcat_tok_stats *s);
void tcat_tok_reset_stats(tcat_tok *t);

/* Where to cut a window buf[0..len) of a longer text so that tokenizing
 * the two sides separately gives the same tokens as the whole: just after
 * the last ASCII space, tab or CR in the window. Failing that (a long run
 * without spaces, as in Chinese or base64), at the last ICU word boundary
 * but one within the window's last 4 KB, and failing that at the last
 * grapheme cluster boundary (never inside an emoji sequence). Those two
 * are the documented approximation: ICU's dictionary may cut a word
 * differently with the text that follows in view. The result p is in
 * (0, len] for len > 0, never inside a UTF-8 sequence; the text is assumed
 * to continue after len. */
size_t tcat_tok_safe_cut(const char *buf, size_t len);

/* True when s[0..n) (UTF-8) is punctuation only: every code point of a
 * Unicode category P* (Pc Pd Ps Pe Pi Pf Po). Symbols, emoji, letters and
 * digits are not punctuation. The empty string is not. */
bool tcat_tok_is_punct(const char *s, size_t n);

#endif
