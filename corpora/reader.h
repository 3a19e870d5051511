/*
 * corpora/reader.h — labelled documents from every input layout.
 *
 * A reader streams raw documents (bytes as read, labels as strings) from
 * one of the layouts of the design, detected automatically:
 *
 *   folder     one subfolder per label, each holding text files, one
 *              document per file (hidden files and subfolders skipped;
 *              files in sorted order, so runs are reproducible)
 *   TSV        label<TAB>text, one document per line (text may hold
 *              further tabs); a first line that reads "label<TAB>text"
 *              (any case) is a header and skipped
 *   CSV        a header naming "label" and "text" columns (any order,
 *              case-insensitive, other columns ignored); RFC 4180
 *              quoting, "" inside quotes, newlines inside quoted fields
 *   JSONL      {"label": ..., "text": ...} per line ("label" may also be
 *              an array of labels; numbers are taken as their text)
 *   fastText   __label__X [__label__Y ...] text, one document per line
 *
 * "-" is stdin. Detection: a directory is a folder; otherwise the file
 * extension (.tsv, .csv, .jsonl/.ndjson/.json, .ft/.fasttext), and failing
 * that the first non-blank line (__label__ prefix, '{', a tab, a CSV
 * header). A --format that contradicts the path (a file named as a
 * folder) is TCAT_ERR_USAGE.
 *
 * Labels are trimmed of surrounding white space, repeated labels of one
 * document are kept once, and a label may not hold a control character
 * (it would break predict's label<TAB>prob output). A CSV header must fit
 * on one line; folders nested inside a label folder are skipped.
 *
 * Documents stream: only the current document is held, so a corpus larger
 * than memory can be read; a single document may be any size.
 *
 * Malformed input is TCAT_ERR_INPUT with "FILE:LINE: what is wrong": a TSV
 * line with no tab, a CSV row with the wrong column count or an unclosed
 * quote, malformed JSON (with the parser's message and column), a missing
 * "label" or "text" key, an empty label, a fastText line with no label, a
 * folder with no subfolders. A path that cannot be read is TCAT_ERR_IO.
 * CR LF line ends are accepted everywhere. Text bytes are passed through
 * as they are (repairing invalid UTF-8 is the tokenizer's job), except in
 * JSONL, where the JSON parser needs valid UTF-8: there invalid sequences
 * are replaced by U+FFFD before parsing, with the tokenizer's rule.
 */
#ifndef TCAT_CORPORA_READER_H
#define TCAT_CORPORA_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef enum tcat_format {
    TCAT_FORMAT_AUTO = 0,
    TCAT_FORMAT_FOLDER,
    TCAT_FORMAT_TSV,
    TCAT_FORMAT_CSV,
    TCAT_FORMAT_JSONL,
    TCAT_FORMAT_FASTTEXT
} tcat_format;

/* "auto", "folder", "tsv", "csv", "jsonl", "fasttext". */
const char *tcat_format_name(tcat_format f);
/* The reverse; TCAT_ERR_USAGE listing the valid names otherwise. */
tcat_status tcat_format_parse(const char *name, tcat_format *out, tcat_error *err);

/* One raw document. Every pointer stays valid until the next
 * tcat_reader_next or tcat_reader_close. */
typedef struct tcat_rawdoc {
    const char *text;          /* the document's bytes (not NUL-terminated) */
    size_t len;
    size_t nlabels;            /* >= 1 */
    const char *const *labels; /* each NUL-terminated, non-empty */
    const size_t *label_lens;
    const char *source;        /* the file it came from */
    uint64_t line;             /* its first line there (0: a whole file) */
} tcat_rawdoc;

typedef struct tcat_reader tcat_reader;

/* Opens path ("-": stdin) in format fmt (TCAT_FORMAT_AUTO: detect). */
tcat_status tcat_reader_open(tcat_reader **out, const char *path, tcat_format fmt,
                             tcat_error *err);

/* The next document: TCAT_OK with *done false and doc filled, or *done
 * true at the end. Errors as described above; after an error the reader
 * can only be closed. */
tcat_status tcat_reader_next(tcat_reader *r, tcat_rawdoc *doc, bool *done, tcat_error *err);

/* The layout being read (after detection). */
tcat_format tcat_reader_format(const tcat_reader *r);

/* Closes files (not stdin), frees r and sets *r to NULL; NULL-safe. */
void tcat_reader_close(tcat_reader **r);

#endif
