/*
 * corpora/corpus.h — labelled documents, tokenized once, held in memory.
 *
 * The corpus is what every pipeline trains and predicts on: for each
 * document its tokens (normalised text, see tokenizer/tokenizer.h) and its
 * label ids. Raw text is not kept: it is tokenized as it is read, so the
 * input is never held twice. Tokens of a document are stored one after
 * the other in one arena, separated by a space unless they touched in the
 * text (as words of Chinese do): tcat_corpus_glued tells which.
 *
 *     tcat_corpus c;
 *     tcat_corpus_init(&c);
 *     tcat_corpus_read(&c, "train.tsv", TCAT_FORMAT_AUTO, tok, labels, true, &err);
 *     ... c.n documents, tcat_corpus_tokens(&c, i, &n), c.label[i] ...
 *     tcat_corpus_free(&c);
 *
 * Repairs and findings are counted in c.stats: invalid UTF-8 and NUL
 * bytes (repaired by the tokenizer), empty documents (kept), exact
 * duplicates of the raw text (kept, counted; duplicates with different
 * labels counted apart), labels unknown to a fixed label set (label -1).
 */
#ifndef TCAT_CORPORA_CORPUS_H
#define TCAT_CORPORA_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/status.h"
#include "corpora/labels.h"
#include "corpora/reader.h"
#include "tokenizer/tokenizer.h"

typedef struct tcat_corpus_stats {
    uint64_t empty;          /* documents with no token */
    uint64_t duplicates;     /* documents whose raw text appeared before */
    uint64_t conflicting;    /* ... of those, with other labels than the first time */
    uint64_t invalid_utf8;   /* sequences replaced by U+FFFD */
    uint64_t nul_bytes;      /* NUL bytes read as spaces */
    uint64_t unknown_labels; /* labels not in a fixed label set */
    uint64_t multi_label;    /* documents with more than one label */
} tcat_corpus_stats;

typedef struct tcat_corpus {
    size_t n;             /* documents */
    tcat_buf text;        /* token bytes of all documents */
    tcat_span *tok;       /* all tokens, offsets into text.data */
    uint8_t *punct;       /* per token: 1 when it is punctuation only
                           * (tcat_tok_is_punct); families that ignore
                           * punctuation skip these */
    size_t ntok, tokcap;
    size_t *doc_tok;      /* document i: tok[doc_tok[i] .. doc_tok[i+1]) */
    int32_t *label;       /* first label of each document (-1: unknown) */
    int32_t *labels;      /* all labels: labels[doc_label[i] .. doc_label[i+1]) */
    size_t *doc_label;
    size_t nlabels_total, labcap;
    uint64_t *raw_hash;   /* XXH3 of each document's raw bytes */
    size_t cap;           /* documents allocated */
    tcat_corpus_stats stats;
    /* duplicate finder: open addressing over raw_hash, index+1 or 0 */
    size_t *dup_slot;
    size_t dup_nslots;
} tcat_corpus;

/* An empty corpus. */
void tcat_corpus_init(tcat_corpus *c);

/* Frees everything c holds and leaves it empty (init state). */
void tcat_corpus_free(tcat_corpus *c);

/* Forgets the documents but keeps the memory (for batches in predict). */
void tcat_corpus_clear(tcat_corpus *c);

/* Tokenizes raw[0..len) with tok and appends it with the given label ids
 * (nlabels may be 0 for unlabelled text: label -1). TCAT_ERR_NOMEM, or
 * the tokenizer's error. */
tcat_status tcat_corpus_add(tcat_corpus *c, tcat_tok *tok, const char *raw, size_t len,
                            const int32_t *labels, size_t nlabels, tcat_error *err);

/* Appends a copy of document i of src (its tokens, unlabelled: label
 * -1) to dst, e.g. to pool the training text with unlabelled text for
 * word vectors. dst must not be src. TCAT_ERR_NOMEM. */
tcat_status tcat_corpus_copy_doc(tcat_corpus *dst, const tcat_corpus *src, size_t i);

/* Reads every document of path (any layout, corpora/reader.h) into c.
 * With add_labels, new label names are added to labels; otherwise they
 * become -1 and are counted in stats.unknown_labels. */
tcat_status tcat_corpus_read(tcat_corpus *c, const char *path, tcat_format fmt, tcat_tok *tok,
                             tcat_labels *labels, bool add_labels, tcat_error *err);

/* Reads text without labels, one document per line (label -1), e.g.
 * `tcat train --unlabeled` for word vectors. Empty lines are skipped; a
 * line longer than the line reader's window comes in pieces, each a
 * document (fine for word vectors, which only look at nearby words). */
tcat_status tcat_corpus_read_lines(tcat_corpus *c, const char *path, tcat_tok *tok,
                                   tcat_error *err);

/* tcat_corpus_read that also calls on_unknown(ctx, name, len) for every
 * label not in a fixed label set (with add_labels false), e.g. to report
 * which labels a test set has that the model does not. A non-OK return
 * of the callback stops reading with that status. */
tcat_status tcat_corpus_read_ex(tcat_corpus *c, const char *path, tcat_format fmt, tcat_tok *tok,
                                tcat_labels *labels, bool add_labels,
                                tcat_status (*on_unknown)(void *ctx, const char *name,
                                                          size_t len),
                                void *ctx, tcat_error *err);

/* The tokens of document i. */
static inline const tcat_span *tcat_corpus_tokens(const tcat_corpus *c, size_t i, size_t *n)
{
    *n = c->doc_tok[i + 1] - c->doc_tok[i];
    return c->tok + c->doc_tok[i];
}

/* True when token k of the corpus starts right where token k-1 ended
 * (same document, no space between them in the text). */
static inline bool tcat_corpus_glued(const tcat_corpus *c, size_t k)
{
    return k > 0 && c->tok[k - 1].off + c->tok[k - 1].len == c->tok[k].off;
}

/* Documents per label (counts[label] for label ids 0..k-1; unknown
 * labels are not counted). counts has k entries. */
void tcat_corpus_label_counts(const tcat_corpus *c, size_t k, uint64_t *counts);

/* A view of some documents of a corpus: documents idx[0..n) of c, or
 * documents 0..n-1 when idx is NULL. Labels are c->label[...]. */
typedef struct tcat_docs {
    const tcat_corpus *c;
    const size_t *idx;
    size_t n;
} tcat_docs;

static inline size_t tcat_docs_at(const tcat_docs *d, size_t i) { return d->idx ? d->idx[i] : i; }

/* The first label of each document of d, malloc'd (NULL when out of
 * memory); the caller frees it. */
int32_t *tcat_docs_labels(const tcat_docs *d);

/* How big the documents of d are, for estimates of a fit's memory:
 * tokens, bytes of token text, and distinct tokens (by a 64-bit hash of
 * their bytes; 0 when the count's own table cannot be allocated). */
typedef struct tcat_docs_size {
    size_t tokens, bytes, distinct;
} tcat_docs_size;
tcat_docs_size tcat_docs_measure(const tcat_docs *d);

/* Every label of each document of d as 0/1 targets: row i (K bytes) has
 * a 1 at each of document i's labels in [0, K) (unknown labels, < 0, are
 * left out). malloc'd, n x K (NULL when out of memory); the caller frees
 * it. What multi-label (one-vs-all) families train on. */
uint8_t *tcat_docs_targets(const tcat_docs *d, size_t K);

#endif
