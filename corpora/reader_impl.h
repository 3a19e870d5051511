/*
 * corpora/reader_impl.h — the private parts of corpora/reader.h, shared by
 * reader.c (opening, detection, the byte stream, labels), reader_lines.c
 * (TSV, fastText, JSONL), reader_csv.c and reader_folder.c.
 */
#ifndef TCAT_CORPORA_READER_IMPL_H
#define TCAT_CORPORA_READER_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/status.h"
#include "corpora/reader.h"

/* ---- the byte stream: whole lines of any length ------------------------ */

/* A file or stdin read in blocks into a buffer that grows to hold the
 * longest line. A UTF-8 BOM at the very start is dropped. */
typedef struct tcat_rd_src {
    int fd;
    bool own_fd, eof, bom_done;
    char *buf;
    size_t cap, start, end; /* unread bytes: buf[start..end) */
    size_t scanned;         /* buf[start..scanned) holds no LF */
    uint64_t line;          /* lines handed out so far */
} tcat_rd_src;

/* One line without its line end: s[0..len), valid until the next call on
 * the stream. crlf: it ended with CR LF (the CR is not in len). no: its
 * 1-based number. */
typedef struct tcat_rd_line {
    const char *s;
    size_t len;
    bool crlf;
    uint64_t no;
} tcat_rd_line;

/* Opens path ("-": fd 0, not closed later); name is used in messages. */
tcat_status tcat_rd_src_open(tcat_rd_src *s, const char *path, tcat_error *err);
void tcat_rd_src_close(tcat_rd_src *s);

/* The next line, or *done at the end of the stream. */
tcat_status tcat_rd_src_line(tcat_rd_src *s, const char *name, tcat_rd_line *l, bool *done,
                             tcat_error *err);

/* The first line that is not blank, without consuming anything (what
 * detection looks at); *found false when there is none. */
tcat_status tcat_rd_src_peek(tcat_rd_src *s, const char *name, tcat_rd_line *l, bool *found,
                             tcat_error *err);

/* ---- folder listings ---------------------------------------------------- */

typedef struct tcat_rd_names {
    char **v;
    size_t n, cap;
} tcat_rd_names;

void tcat_rd_names_free(tcat_rd_names *n);

/* ---- the reader --------------------------------------------------------- */

struct tcat_reader {
    tcat_format fmt;
    char *name;      /* the path, or "stdin" */
    tcat_rd_src src; /* every layout but the folder */

    /* the current document */
    tcat_buf text;    /* its bytes when they are not in src (CSV, folder) */
    tcat_buf field;   /* CSV: the label field; JSONL: a repaired line */
    tcat_buf lbytes;  /* the labels, each NUL-terminated */
    size_t nlabels, lcap;
    size_t *loffs, *llens;
    const char **lptrs;
    json_t *json;     /* JSONL: the parsed line the text points into */

    /* TSV: a first document was handed out (a header may only come first) */
    bool tsv_started;

    /* CSV */
    bool csv_header_read;
    size_t csv_ncols, csv_label, csv_text;

    /* folder */
    tcat_rd_names dirs, files; /* the label folders; the files of the current one */
    size_t dir_next, file_next;
    bool in_dir;
    tcat_buf path; /* the current file's path, NUL-terminated */

    bool finished, failed;
    tcat_status fail_status;
    char fail_msg[sizeof ((tcat_error *)0)->msg];
};

/* TCAT_ERR_INPUT with "SOURCE:LINE: " (line 0: "SOURCE: "; the name
 * escaped as tcat_rd_escape does) before the formatted message. */
tcat_status tcat_rd_input_error(tcat_error *err, const char *source, uint64_t line,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* s[0..n) made printable for a message into out (cap bytes, NUL-terminated):
 * valid UTF-8 and printable ASCII as they are, other bytes as \xNN, cut
 * with "..." when too long. Returns out. */
const char *tcat_rd_escape(const char *s, size_t n, char *out, size_t cap);

/* True when s[0..n) holds only spaces, CR, VT, FF (and tabs when tabs). */
bool tcat_rd_blank(const char *s, size_t n, bool tabs);

/* Labels of the current document: cleared before each, added one by one
 * (trimmed of surrounding ASCII white space; duplicates dropped; an empty
 * label or one with a control character is TCAT_ERR_INPUT naming
 * source:line), then published into doc. */
void tcat_rd_labels_clear(tcat_reader *r);
tcat_status tcat_rd_label_add(tcat_reader *r, const char *s, size_t n, const char *source,
                              uint64_t line, tcat_error *err);
void tcat_rd_labels_publish(tcat_reader *r, tcat_rawdoc *doc);

/* The layouts. Each fills doc's text, source and line and adds the labels;
 * the caller publishes them. */
tcat_status tcat_rd_tsv_next(tcat_reader *r, tcat_rawdoc *doc, bool *done, tcat_error *err);
tcat_status tcat_rd_fasttext_next(tcat_reader *r, tcat_rawdoc *doc, bool *done,
                                  tcat_error *err);
tcat_status tcat_rd_jsonl_next(tcat_reader *r, tcat_rawdoc *doc, bool *done, tcat_error *err);
tcat_status tcat_rd_csv_next(tcat_reader *r, tcat_rawdoc *doc, bool *done, tcat_error *err);
tcat_status tcat_rd_folder_open(tcat_reader *r, const char *path, tcat_error *err);
tcat_status tcat_rd_folder_next(tcat_reader *r, tcat_rawdoc *doc, bool *done, tcat_error *err);

/* A one-line CSV header: its column count, where "label" and "text" are
 * (SIZE_MAX: absent), and whether a quote is left open on the line. tmp
 * is scratch; fails only with TCAT_ERR_NOMEM. */
typedef struct tcat_rd_csv_header {
    size_t ncols, label, text;
    bool unclosed;
} tcat_rd_csv_header;

tcat_status tcat_rd_csv_parse_header(const char *s, size_t n, tcat_buf *tmp,
                                     tcat_rd_csv_header *h);

#endif
