/*
 * tokenizer/subword.h — subword vocabularies: byte-pair encoding and the
 * unigram language model, trained on word counts, encoding any word.
 *
 * A subword vocabulary cuts a word (one token of tokenizer/tokenizer.h:
 * normalised, pre-tokenised, segmented) into pieces from a fixed set, so
 * a model sees rare and unseen words as sequences of known parts:
 *
 *     tcat_wordcounts *wc;                      count the training words
 *     tcat_wordcounts_init(&wc);
 *     ... tcat_wordcounts_add(wc, tok, len, 1) for every token ...
 *     const tcat_wordcount *list; size_t n;
 *     tcat_wordcounts_list(wc, &list, &n);
 *
 *     tcat_subword_params p;                    train
 *     tcat_subword_params_default(&p);          (unigram, 8000 pieces)
 *     tcat_subword *v;
 *     tcat_subword_train(&v, list, n, &p, &err);
 *     tcat_subword_save(v, "news.vocab", &err);
 *
 *     int32_t ids[64]; size_t k;                encode a word
 *     tcat_subword_encode(v, "unhappily", 9, ids, 64, &k);
 *     ... tcat_subword_piece(v, ids[i], &len): "▁un", "happ", "ily", say
 *     tcat_subword_free(&v);
 *
 * Two models (tcat_subword_type):
 *
 *   BPE       byte-pair encoding (Sennrich, Haddow and Birch 2016, "Neural
 *             machine translation of rare words with subword units"):
 *             start from characters, repeatedly merge the most frequent
 *             adjacent pair of symbols into a new symbol. Encoding applies
 *             the learned merges to a word in the order they were learned
 *             (lowest rank first; equal ranks left to right).
 *   unigram   the unigram language model (Kudo 2018, "Subword
 *             regularization"): a word's probability is the sum over its
 *             segmentations of the product of piece probabilities. Trained
 *             by EM from a large seed vocabulary (all characters plus the
 *             frequent substrings found with a suffix array), pruning the
 *             pieces whose removal loses the least likelihood until the
 *             size is reached, as sentencepiece does. Encoding is the
 *             Viterbi (most probable) segmentation.
 *
 * Words are marked at their start: the encoder sees "▁" (U+2581, the
 * sentencepiece convention) followed by the word, so "▁un" (a word start)
 * and "un" (inside a word) are different pieces.
 *
 * Byte fallback: ids 0..255 are the byte pieces, shown "<0x00>".."<0xFF>".
 * A character no learned piece covers (a rare character left out by the
 * character coverage, or a byte of invalid UTF-8) is encoded as the byte
 * pieces of its UTF-8 bytes, so no input is ever unknown and every
 * encoding decodes back to its word exactly. Learned pieces have ids
 * 256 and up, in the order of the vocabulary file.
 *
 * Determinism: training is single-threaded and its ties are broken by
 * fixed rules (below), so the same word counts and parameters give the
 * same vocabulary, byte for byte, whatever the order of the word list.
 *
 * The vocabulary file (text, UTF-8, LF line ends; CR LF is read too):
 *
 *     tcat-vocab 1 unigram 8000          magic, format version, type, N
 *     ▁the<TAB>-3.71828175               N entry lines follow
 *     ...
 *
 *   unigram   one line per piece: PIECE<TAB>SCORE, SCORE its log
 *             probability (a finite decimal number). Piece k (from 0) has
 *             id 256 + k. Training writes them by score, highest first.
 *   bpe       a line with one field, PIECE, is a base symbol (one
 *             character); a line LEFT<TAB>RIGHT is a merge, LEFT and RIGHT
 *             being pieces defined on earlier lines; the merge's rank is
 *             its position among the merge lines and it defines the piece
 *             LEFT+RIGHT unless an earlier line did (two merges may make
 *             the same string). Each newly defined string gets the next
 *             id from 256 on. Training writes the base symbols (most
 *             frequent first), then the merges in the order learned.
 *
 *   Pieces are escaped so that any byte round-trips: a backslash is
 *   written "\\", and control bytes (0x00-0x1F, 0x7F), the space and
 *   bytes that are not part of valid UTF-8 are written "\xHH"; every
 *   other byte stands for itself. Files are written to a temporary file
 *   and renamed into place (tcat_subword_save), so a crash never leaves
 *   half a vocabulary where a good one was. A malformed file is refused
 *   with TCAT_ERR_MODEL and "FILE:LINE: what is wrong".
 *
 * A vocabulary is immutable once built: encoding takes a const pointer and
 * is safe from any number of threads at once.
 */
#ifndef TCAT_TOKENIZER_SUBWORD_H
#define TCAT_TOKENIZER_SUBWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/status.h"

/* The word-start mark, U+2581 LOWER ONE EIGHTH BLOCK, in UTF-8. */
#define TCAT_SUBWORD_MARK "\xE2\x96\x81"
#define TCAT_SUBWORD_MARK_LEN 3

/* Ids below this are byte pieces (id b is the byte b). */
#define TCAT_SUBWORD_NBYTES 256

/* The most pieces a word of len bytes can encode to (the mark and every
 * byte as a piece of its own): an ids array this long always suffices. */
#define TCAT_SUBWORD_MAX_PIECES(len) ((len) + TCAT_SUBWORD_MARK_LEN)

typedef enum tcat_subword_type {
    TCAT_SUBWORD_UNIGRAM = 0,
    TCAT_SUBWORD_BPE
} tcat_subword_type;

/* "unigram" or "bpe". */
const char *tcat_subword_type_name(tcat_subword_type t);
/* The reverse; TCAT_ERR_USAGE naming the valid types otherwise. */
tcat_status tcat_subword_type_parse(const char *name, tcat_subword_type *out, tcat_error *err);

/* ---- word counts: the training input ----------------------------------- */

/* One distinct word and how often it was seen. */
typedef struct tcat_wordcount {
    const char *word; /* any bytes (the tokenizer gives valid UTF-8) */
    size_t len;
    uint64_t count;
} tcat_wordcount;

/* A counter of words: a hash table of their bytes. */
typedef struct tcat_wordcounts tcat_wordcounts;

tcat_status tcat_wordcounts_init(tcat_wordcounts **out);

/* Adds count occurrences of word[0..len). TCAT_ERR_NOMEM, or
 * TCAT_ERR_UNSUPPORTED past 2^32 distinct words or 4 GB of their bytes. */
tcat_status tcat_wordcounts_add(tcat_wordcounts *wc, const char *word, size_t len,
                                uint64_t count);

/* Distinct words and total occurrences so far. */
size_t tcat_wordcounts_size(const tcat_wordcounts *wc);
uint64_t tcat_wordcounts_total(const tcat_wordcounts *wc);

/* The counted words in the order first seen, as an array owned by wc and
 * valid until the next tcat_wordcounts_add or _free. TCAT_ERR_NOMEM. */
tcat_status tcat_wordcounts_list(tcat_wordcounts *wc, const tcat_wordcount **list, size_t *n);

/* Frees wc and sets *wc to NULL; NULL-safe. */
void tcat_wordcounts_free(tcat_wordcounts **wc);

/* ---- training ------------------------------------------------------------ */

typedef struct tcat_subword_params {
    tcat_subword_type type;  /* TCAT_SUBWORD_UNIGRAM */
    /* Learned pieces wanted, the 256 byte pieces not counted [8000]. The
     * result has fewer when the words do not hold that many (BPE: no pair
     * left to merge; unigram: too few seed pieces). */
    size_t size;
    /* Base characters: the most frequent characters whose occurrences
     * together reach this share of all (the rest are left to byte
     * fallback), at most size of them [0.9995, as sentencepiece]. */
    double char_coverage;
    size_t max_piece_chars;  /* longest piece, in characters [16] */
    /* unigram only */
    size_t seed_size;        /* most seed substrings [1000000] */
    double shrink;           /* pieces kept by each pruning round [0.75] */
    int em_iters;            /* EM iterations between prunings [2] */
} tcat_subword_params;

/* Fills p with the defaults in brackets above. */
void tcat_subword_params_default(tcat_subword_params *p);

typedef struct tcat_subword tcat_subword;

/*
 * Trains a vocabulary on words[0..n) (duplicates are added together;
 * words with count 0 are ignored; the order does not matter). Each word is
 * seen as "▁" + word, cut into characters (valid UTF-8 sequences; an
 * invalid byte is a unit of its own that never enters a piece).
 *
 * Base characters: sorted by count (ties: by their bytes), kept while the
 * coverage is not reached. Both models always hold every base character.
 *
 * BPE: the pair of adjacent symbols with the highest count (over word
 * types times their counts) is merged next; ties go to the pair whose
 * left symbol has the lower id, then the right. Pairs making a piece
 * longer than max_piece_chars are never merged. Stops at size pieces or
 * when no pair is left.
 *
 * unigram: seeds are the substrings of 2..max_piece_chars characters that
 * are right-maximal repeats of the words (suffix array and LCP intervals
 * over the distinct words, occurrences weighted by the word counts),
 * ranked by frequency x length, at most seed_size of them. Then rounds of
 * em_iters EM iterations (the M step with the digamma "Bayesian EM" of
 * sentencepiece, dropping pieces with expected count below 0.5) and a
 * pruning to max(1.1 size, shrink x current) pieces by the likelihood lost
 * when a piece is replaced by its best segmentation, until at most 1.1
 * size remain; the final vocabulary is the base characters plus the
 * highest-scoring pieces. Ties: lower index (seed rank) first.
 *
 * Errors: TCAT_ERR_USAGE for bad parameters (size 0, coverage outside
 * (0, 1], max_piece_chars 0 or above 255, shrink outside (0, 1)),
 * TCAT_ERR_INPUT when no word has a count, TCAT_ERR_NOMEM. *out is freed
 * with tcat_subword_free.
 */
tcat_status tcat_subword_train(tcat_subword **out, const tcat_wordcount *words, size_t n,
                               const tcat_subword_params *p, tcat_error *err);

/* ---- encoding ------------------------------------------------------------ */

/*
 * Encodes word[0..len) (any bytes) as piece ids. *n receives the number
 * of pieces; at most max ids are written to ids, so when *n > max the
 * caller may retry with a larger array (TCAT_SUBWORD_MAX_PIECES(len) is
 * always enough). Deterministic: BPE applies merges by rank, unigram
 * takes the Viterbi segmentation (of equally probable ones, the one whose
 * last piece is the longest, and so on backwards). Fails only with
 * TCAT_ERR_NOMEM (long words need scratch memory from the heap).
 */
tcat_status tcat_subword_encode(const tcat_subword *v, const char *word, size_t len,
                                int32_t *ids, size_t max, size_t *n);

/* Appends the word's bytes that ids[0..n) encode to out (the leading
 * word-start mark removed), so decode(encode(w)) == w for every w.
 * TCAT_ERR_USAGE for an id out of range, TCAT_ERR_NOMEM. */
tcat_status tcat_subword_decode(const tcat_subword *v, const int32_t *ids, size_t n,
                                tcat_buf *out);

/* Encodes word and appends its pieces' text to out, separated by single
 * spaces (no space before the first): what `tcat tokenize --vocab`
 * prints. TCAT_ERR_NOMEM. */
tcat_status tcat_subword_append_pieces(const tcat_subword *v, const char *word, size_t len,
                                       tcat_buf *out);

/* ---- a cache of encoded words ------------------------------------------------- */

/*
 * Text is Zipfian: most tokens are words seen before. A cache remembers
 * the pieces of up to max_words recent words (up to 255 bytes each) and
 * is emptied when full, so its memory is bounded (about 80 bytes a word,
 * some 5 MB at the default size) and never grows with the length of a
 * stream. Results are exactly those of tcat_subword_encode. A cache is not
 * thread-safe: use one per thread (the vocabulary itself may be shared).
 */
typedef struct tcat_subword_cache tcat_subword_cache;

/* A cache over v (which must outlive it); max_words 0 means 65536.
 * TCAT_ERR_NOMEM. */
tcat_status tcat_subword_cache_init(tcat_subword_cache **out, const tcat_subword *v,
                                    size_t max_words);

/* The piece ids of word: *ids points into the cache, valid until the next
 * call with c; *n is their number. TCAT_ERR_NOMEM. */
tcat_status tcat_subword_cache_encode(tcat_subword_cache *c, const char *word, size_t len,
                                      const int32_t **ids, size_t *n);

/* tcat_subword_append_pieces through the cache. */
tcat_status tcat_subword_cache_append_pieces(tcat_subword_cache *c, const char *word,
                                             size_t len, tcat_buf *out);

/* Frees c and sets *c to NULL; NULL-safe. */
void tcat_subword_cache_free(tcat_subword_cache **c);

/* ---- the vocabulary ---------------------------------------------------- */

tcat_subword_type tcat_subword_get_type(const tcat_subword *v);

/* Number of ids: 256 byte pieces + the learned pieces. */
size_t tcat_subword_size(const tcat_subword *v);

/* The text of piece id (its bytes; "<0xHH>" for a byte piece), valid as
 * long as v, not NUL-terminated; *len its length. NULL for a bad id. */
const char *tcat_subword_piece(const tcat_subword *v, int32_t id, size_t *len);

/* The score of piece id: its log probability (unigram), or -(1 + rank)
 * of the first merge that made it (BPE, ranks from 0; 0 for a base
 * symbol). Byte pieces: the score a byte-fallback character is charged
 * (unigram), 0 (BPE). 0 for an id out of range. */
float tcat_subword_score(const tcat_subword *v, int32_t id);

/* The id of the learned piece with these bytes, or -1. */
int32_t tcat_subword_find(const tcat_subword *v, const char *piece, size_t len);

/* Number of merge rules (BPE; 0 for unigram) and merge k's pieces. */
size_t tcat_subword_nmerges(const tcat_subword *v);
void tcat_subword_merge(const tcat_subword *v, size_t k, int32_t *left, int32_t *right,
                        int32_t *result);

/* ---- files --------------------------------------------------------------- */

/* The vocabulary as the text of a vocabulary file (appended to out). */
tcat_status tcat_subword_format(const tcat_subword *v, tcat_buf *out);

/* Reads the text of a vocabulary file; name is used in messages
 * ("NAME:LINE: ..."). TCAT_ERR_MODEL for malformed text: no or a bad
 * header, an unknown version or type, a bad escape, an empty or repeated
 * piece, a score that is not a finite number, a merge of undefined
 * pieces or a repeated merge, a base symbol that is not one character,
 * fewer or more entry lines than the header says. TCAT_ERR_NOMEM. */
tcat_status tcat_subword_parse(tcat_subword **out, const char *text, size_t len,
                               const char *name, tcat_error *err);

/* Writes v to path atomically: a temporary file beside it, fsync, rename
 * over path, fsync of the directory. TCAT_ERR_IO naming the file. */
tcat_status tcat_subword_save(const tcat_subword *v, const char *path, tcat_error *err);

/* Reads a vocabulary file ("-" is stdin). TCAT_ERR_IO when it cannot be
 * read, else as tcat_subword_parse. */
tcat_status tcat_subword_load(tcat_subword **out, const char *path, tcat_error *err);

/* Frees v and sets *v to NULL; NULL-safe. */
void tcat_subword_free(tcat_subword **v);

#endif
