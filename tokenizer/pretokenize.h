/*
 * tokenizer/pretokenize.h — stage 3: spans protected by PCRE2 patterns.
 *
 * The pattern table is TSV text, one pattern a line:
 *
 *     NAME <TAB> TRIGGERS <TAB> PATTERN
 *
 * with '#' comment lines and blank lines ignored. tokenizer/patterns.tsv
 * is the built-in table and documents the format. At most
 * TCAT_PRETOK_MAX_PATTERNS patterns; each is compiled once with
 * PCRE2_UTF | PCRE2_UCP and JIT-compiled where PCRE2 supports it.
 *
 * Patterns run over one whitespace-free chunk at a time; a pattern is
 * tried only when the chunk holds one of its triggers: characters, ranges
 * or literal strings (see patterns.tsv for the syntax).
 */
#ifndef TCAT_TOKENIZER_PRETOKENIZE_H
#define TCAT_TOKENIZER_PRETOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "tokenizer/tokenizer.h"

#define TCAT_PRETOK_MAX_PATTERNS 32

typedef struct tcat_pretok tcat_pretok;

/* The built-in table (the text of tokenizer/patterns.tsv). */
extern const char tcat_default_patterns[];

/* Parses and compiles a table. A line without two tabs, an empty name, a
 * bad trigger list, too many patterns or a pattern PCRE2 rejects is
 * TCAT_ERR_INPUT naming the table line (and PCRE2's message and offset). */
tcat_status tcat_pretok_init(tcat_pretok **out, const char *table, size_t len,
                             tcat_error *err);
void tcat_pretok_free(tcat_pretok **p);

/* Number of patterns and the name of pattern i. */
size_t tcat_pretok_count(const tcat_pretok *p);
const char *tcat_pretok_name(const tcat_pretok *p, size_t i);

/* For each byte value, the set of patterns (bit i = pattern i) it
 * triggers. OR it over a chunk's bytes to get the patterns to try. */
const uint32_t *tcat_pretok_triggers(const tcat_pretok *p);

/* Finds the protected spans in chunk s[0..n) (valid UTF-8), trying only
 * the patterns in mask. *spans gets them, non-overlapping and sorted, with
 * offsets relative to s, in storage owned by p that stays valid until the
 * next call; *found gets their number. Overlaps are resolved leftmost
 * first, then by table order. TCAT_ERR_LIBRARY when PCRE2 fails at match
 * time (a resource limit); TCAT_ERR_NOMEM. */
tcat_status tcat_pretok_find(tcat_pretok *p, const char *s, size_t n, uint32_t mask,
                             const tcat_span **spans, size_t *found);

#endif
