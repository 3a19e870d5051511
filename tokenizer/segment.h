/*
 * tokenizer/segment.h — stage 4: word segmentation.
 *
 * tcat_seg_icu runs ICU's word break iterator (UAX #29 plus ICU's
 * dictionaries for Thai, Lao, Khmer, Burmese, Chinese and Japanese), so
 * emoji ZWJ sequences, skin tones, flags and keycaps stay one segment.
 * tcat_seg_ascii gives the same boundaries for pure ASCII text with a
 * hand-written state machine over the UAX #29 rules restricted to ASCII
 * (WB5-WB13b); a unit test checks it against ICU on random strings.
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

tcat_status tcat_spans_push(tcat_spans *s, size_t off, size_t len);
void tcat_spans_free(tcat_spans *s);

typedef struct tcat_seg tcat_seg;

/* Opens ICU's word break iterator for the root locale (TCAT_ERR_LIBRARY
 * with ICU's error name when it cannot, e.g. missing ICU data). */
tcat_status tcat_seg_init(tcat_seg **out, tcat_error *err);
void tcat_seg_free(tcat_seg **g);

/* Segments s[0..n) (valid UTF-8) with ICU. */
tcat_status tcat_seg_icu(tcat_seg *g, const char *s, size_t n, size_t base, bool keep_punct,
                         tcat_spans *out);

/* Segments s[0..n), which must be pure ASCII, without ICU. */
tcat_status tcat_seg_ascii(const char *s, size_t n, size_t base, bool keep_punct,
                           tcat_spans *out);

#endif
