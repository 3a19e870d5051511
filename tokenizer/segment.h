/*
 * tokenizer/segment.h — stage 4: word segmentation.
 *
 * tcat_seg_icu runs ICU's word break iterator (UAX #29 plus ICU's
 * dictionaries for Thai, Lao, Khmer, Burmese, Chinese and Japanese), so
 * emoji ZWJ sequences, skin tones, flags and keycaps stay one segment.
 * tcat_seg_ascii gives the same boundaries for pure ASCII text with a
 * state machine over the UAX #29 rules that apply to ASCII (WB5-WB13b),
 * driven by ICU's own Word_Break classes; a unit test checks it against
 * ICU on random strings.
 *
 * Both append the segments worth keeping to a span list, with offsets
 * shifted by `base`: words (any letter or digit), symbols and emoji; and
 * punctuation-only segments when keep_punct. Whitespace is never kept.
 */
#ifndef TCAT_TOKENIZER_SEGMENT_H
#define TCAT_TOKENIZER_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"
#include "tokenizer/tokenizer.h"

/* A growable list of spans. */
typedef struct tcat_spans {
    tcat_span *v;
    size_t n, cap;
} tcat_spans;

/* Doubles the capacity of s (TCAT_ERR_NOMEM when it cannot). */
tcat_status tcat_spans_grow(tcat_spans *s);
void tcat_spans_free(tcat_spans *s);

/* Appends one span; inline because it runs once a token. */
static inline tcat_status tcat_spans_push(tcat_spans *s, size_t off, size_t len)
{
    if (s->n == s->cap && tcat_spans_grow(s) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    s->v[s->n++] = (tcat_span){off, len};
    return TCAT_OK;
}

typedef struct tcat_seg tcat_seg;

/* Opens ICU's word break iterator for the root locale (TCAT_ERR_LIBRARY
 * with ICU's error name when it cannot, e.g. missing ICU data). */
tcat_status tcat_seg_init(tcat_seg **out, tcat_error *err);
void tcat_seg_free(tcat_seg **g);

/* Segments s[0..n) (valid UTF-8) with ICU. */
tcat_status tcat_seg_icu(tcat_seg *g, const char *s, size_t n, size_t base, bool keep_punct,
                         tcat_spans *out);

/* Segments s[0..n), which must be pure ASCII, without calling ICU (the
 * Word_Break classes of the ASCII characters were read from it at init). */
tcat_status tcat_seg_ascii(const tcat_seg *g, const char *s, size_t n, size_t base,
                           bool keep_punct, tcat_spans *out);

#endif
