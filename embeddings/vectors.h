/*
 * embeddings/vectors.h — a table of word vectors: pretrained (.vec text or
 * word2vec binary) or trained in-domain (embeddings/word2vec.h).
 *
 *     tcat_vec *v = NULL;
 *     tcat_vec_options o;
 *     tcat_vec_options_default(&o);
 *     o.max_words = 200000;
 *     if (tcat_vec_load(&v, "cc.en.300.vec", &tok_cfg, &o, &err) != TCAT_OK) ...
 *     const float *x = tcat_vec_lookup(v, "hello", 5);   // NULL when absent
 *     tcat_vec_free(&v);
 *
 * Words are keys in normalised form: every word of a file is put through a
 * tokenizer built from the caller's tcat_tok_config (the one the corpus is
 * tokenized with), so "Ｈｅｌｌｏ" in a file is found as the token "hello".
 * A word whose normalised text is exactly one token is stored under that
 * token; one giving no token or several tokens is skipped and counted.
 * When several words give the same token, the first one read is kept (the
 * files are sorted by frequency, so that is the most frequent form) and
 * the others are counted as duplicates. Lookups take normalised tokens
 * (as tcat_tok_run or tcat_corpus_tokens give them) and do not normalise.
 *
 * ---- file formats, told apart by content --------------------------------
 *
 * Both start with a text header line "count dim" (two decimal integers).
 *
 *   text (.vec: fastText, word2vec -binary 0): one record per line,
 *        "word v1 v2 ... vdim", fields separated by spaces or tabs, an
 *        optional trailing space and CR. Blank lines are ignored.
 *   binary (word2vec -binary 1): per record, the word's bytes (newlines
 *        before a word are skipped), one space, then dim little-endian
 *        IEEE-754 float32 values, then an optional newline.
 *
 * Which one: the first record is text when it is a well-formed text line
 * (a word and exactly dim numbers). Otherwise it is binary when it is a
 * well-formed binary record whose 4 x dim value bytes do not read as
 * text (they hold a control byte or are not valid UTF-8). Otherwise
 * neither reading works and the file is malformed: it is reported as
 * binary when the rest of the first line after the word does not read as
 * text, else as text. Real binary values always hold such bytes; values
 * made only of printable, valid UTF-8 bytes are the one case read wrongly.
 *
 * Errors (TCAT_ERR_INPUT, the message naming the file and the line, or
 * the record number for binary, records counted from 1): a bad header; a
 * text line with another number of values than the header's dim; a value
 * that is not a number (strtof's syntax in the C locale) or is NaN or
 * infinite, or a float beyond float range; a binary record cut short by
 * the end of the file or without a space within 64 KiB; fewer records
 * than the header announces, or more. A file that cannot be opened or
 * read is TCAT_ERR_IO. Path "-" reads stdin.
 *
 * ---- out-of-vocabulary words from character n-grams ---------------------
 *
 * On request (options.subwords, or tcat_vec_build_subwords) the table
 * also holds, for hashed character n-grams, the mean vector of the words
 * containing them, and composes vectors for unknown words from those.
 * Exactly:
 *
 *   n-grams   of the string "<" word ">" (fastText's boundary marks), of
 *             n = 3..6 code points (a code point here is a byte below 0x80
 *             or 0xC0 and above plus at most three continuation bytes), at
 *             every starting position; each occurrence counts.
 *   bucket    XXH3-64 of the n-gram's bytes with seed 0x766563 ("vec"),
 *             modulo the bucket count B (default 2^20).
 *   average   at build time, for each bucket b: the mean of the vectors
 *             of the table's words over every n-gram occurrence hashed to
 *             b (a word with the n-gram twice counts twice). Buckets that
 *             no word reaches are not stored: memory is 4 B bytes for the
 *             bucket index plus 4 x dim bytes per used bucket.
 *   compose   an unknown word's vector is the mean of the averages of its
 *             n-grams' buckets that are stored (occurrences counted);
 *             when none is stored, the word has no vector.
 *
 * Hash collisions merge n-grams, as in fastText. Rows changed after the
 * averages were built (tcat_vec_matrix) do not update them.
 *
 * Thread safety: a table being built (load, add, build_subwords) is one
 * thread's; a finished table may be read (lookup, get, find, word) from
 * any number of threads at once.
 */
#ifndef TCAT_EMBEDDINGS_VECTORS_H
#define TCAT_EMBEDDINGS_VECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "embeddings/tensor.h"
#include "tokenizer/tokenizer.h"

#define TCAT_VEC_BUCKETS (1u << 20) /* default n-gram buckets */
#define TCAT_VEC_MINN 3             /* n-gram lengths, code points */
#define TCAT_VEC_MAXN 6
#define TCAT_VEC_SEED 0x766563u     /* "vec": seed of the n-gram hash */
#define TCAT_VEC_MAX_DIM 100000     /* larger header dims are refused */

typedef struct tcat_vec tcat_vec;

typedef enum tcat_vec_format {
    TCAT_VEC_NONE = 0, /* built in memory (tcat_vec_init / word2vec) */
    TCAT_VEC_TEXT,
    TCAT_VEC_BINARY
} tcat_vec_format;

typedef struct tcat_vec_options {
    size_t max_words; /* stop once the table holds this many words (0: no limit) */
    bool subwords;    /* build the n-gram averages after loading (default false) */
    uint32_t buckets; /* n-gram buckets, 0 means TCAT_VEC_BUCKETS */
    int threads;      /* threads for the n-gram averages (default 1; the
                         result does not depend on it) */
} tcat_vec_options;

/* What loading found. */
typedef struct tcat_vec_stats {
    tcat_vec_format format;
    uint64_t header_count;  /* records the header announces */
    uint64_t records;       /* records read */
    uint64_t skipped_empty; /* words normalising to no token */
    uint64_t skipped_multi; /* words normalising to several tokens */
    uint64_t duplicates;    /* words normalising to a token already kept */
    uint64_t invalid_utf8;  /* invalid UTF-8 sequences in words (repaired) */
    bool stopped;           /* max_words reached before the end of the file */
} tcat_vec_stats;

/* Fills o with the defaults above. */
void tcat_vec_options_default(tcat_vec_options *o);

/* Loads the vectors of path ("-" is stdin) in either format (above). cfg
 * is the tokenizer configuration whose normaliser the words go through
 * (NULL: the defaults); opt may be NULL for the defaults. On success *out
 * holds the table, freed with tcat_vec_free; on failure *out is NULL.
 * Errors: TCAT_ERR_INPUT (malformed file, message with file and line or
 * record), TCAT_ERR_IO, TCAT_ERR_NOMEM, the tokenizer's errors,
 * TCAT_ERR_USAGE for bad options. */
tcat_status tcat_vec_load(tcat_vec **out, const char *path, const tcat_tok_config *cfg,
                          const tcat_vec_options *opt, tcat_error *err);

/* An empty table of dim-dimensional vectors (1 <= dim <= TCAT_VEC_MAX_DIM,
 * else TCAT_ERR_USAGE), filled with tcat_vec_add. */
tcat_status tcat_vec_init(tcat_vec **out, size_t dim, tcat_error *err);

/* Adds word[0..len) (taken as is: already normalised) with the vector
 * row[0..dim) (NULL: zeros) as the next row. A word already present is
 * left alone and *added (may be NULL) is set false. Empty words and words
 * holding ASCII whitespace or NUL are TCAT_ERR_USAGE (they could not be
 * written as .vec). TCAT_ERR_NOMEM. */
tcat_status tcat_vec_add(tcat_vec *v, const char *word, size_t len, const float *row,
                         bool *added, tcat_error *err);

/* Frees v and sets *v to NULL; NULL and *v == NULL are fine. */
void tcat_vec_free(tcat_vec **v);

size_t tcat_vec_dim(const tcat_vec *v);
size_t tcat_vec_count(const tcat_vec *v);

/* The row of word[0..len): true and *row set, or false when absent. */
bool tcat_vec_find(const tcat_vec *v, const char *word, size_t len, size_t *row);

/* The vector of word[0..len) (dim floats, owned by the table, valid until
 * the table is changed or freed), or NULL when absent. No n-gram
 * composition: see tcat_vec_get. */
const float *tcat_vec_lookup(const tcat_vec *v, const char *word, size_t len);

/* Word i (0 <= i < count) as a NUL-terminated string; *len (may be NULL)
 * gets its length. Rows are in file order (word2vec: most frequent first). */
const char *tcat_vec_word(const tcat_vec *v, size_t i, size_t *len);

/* The count x dim matrix of the vectors, row i being word i. Its values
 * may be changed in place (that is how word2vec trains); its shape may
 * not. The pointer is valid until the next tcat_vec_add or free. */
tcat_tensor *tcat_vec_matrix(tcat_vec *v);

/* What tcat_vec_load found (zeros for a table built in memory). */
const tcat_vec_stats *tcat_vec_get_stats(const tcat_vec *v);

/* ---- n-gram composition for unknown words ------------------------------ */

/* Computes the n-gram bucket averages from the table's current words and
 * vectors (replacing earlier ones). buckets 0 means TCAT_VEC_BUCKETS;
 * threads share the buckets and do not change the result. TCAT_ERR_NOMEM. */
tcat_status tcat_vec_build_subwords(tcat_vec *v, uint32_t buckets, int threads,
                                    tcat_error *err);

/* True once tcat_vec_build_subwords has run. */
bool tcat_vec_has_subwords(const tcat_vec *v);

/* The documented n-gram hash: XXH3-64 of s[0..n) with seed TCAT_VEC_SEED. */
uint64_t tcat_vec_ngram_hash(const char *s, size_t n);

typedef enum tcat_vec_hit {
    TCAT_VEC_MISSING = 0, /* no vector: out untouched */
    TCAT_VEC_KNOWN,       /* the word's own row was copied to out */
    TCAT_VEC_COMPOSED     /* unknown word: out is its n-gram composition */
} tcat_vec_hit;

/* The vector of word[0..len) into out (dim floats): its own row when the
 * word is in the table, else (when the subword averages exist) the mean
 * of its stored n-gram averages. Allocates nothing; thread-safe. */
tcat_vec_hit tcat_vec_get(const tcat_vec *v, const char *word, size_t len, float *out);

/* ---- writing ------------------------------------------------------------ */

/* Writes the table as .vec text: "count dim", then "word v1 ... vdim" per
 * row, values printed with "%.9g" in the C locale (so reading the file back
 * gives the same floats bit for bit). Written to a temporary file beside
 * path and renamed into place. TCAT_ERR_IO naming the file. */
tcat_status tcat_vec_save_text(const tcat_vec *v, const char *path, tcat_error *err);

#endif
