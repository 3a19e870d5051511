/*
 * corpora/linereader.h — the lines of a stream, in bounded memory.
 *
 * Reads a file or stdin ("-") block by block and hands out its lines. A
 * line longer than the window is handed out in pieces cut where
 * tcat_tok_safe_cut says the tokens do not change, so a single line of
 * hundreds of megabytes costs two windows of memory, never its length.
 *
 * Line ends: LF ends a line and CR LF counts as LF; the last line needs no
 * newline; an empty input has no lines. A UTF-8 byte order mark at the
 * very start of the stream is dropped. Bytes are otherwise passed through
 * untouched (repairing them is the tokenizer's job).
 */
#ifndef TCAT_CORPORA_LINEREADER_H
#define TCAT_CORPORA_LINEREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Default window: the most bytes of one line held at once. */
#define TCAT_LINES_WINDOW (1u << 20)

typedef struct tcat_lines tcat_lines;

/* A piece of a line: data[0..len), valid until the next call. eol is true
 * when the piece ends its line; line is the 1-based line number. */
typedef struct tcat_piece {
    const char *data;
    size_t len;
    bool eol;
    uint64_t line;
} tcat_piece;

/* Opens path ("-" is stdin, which is not closed at the end) with a window
 * of `window` bytes (at least 64; 0 means TCAT_LINES_WINDOW). A file that
 * cannot be opened is TCAT_ERR_IO naming it. */
tcat_status tcat_lines_open(tcat_lines **out, const char *path, size_t window, tcat_error *err);

/* Closes the file (not stdin), frees l and sets *l to NULL. */
void tcat_lines_close(tcat_lines **l);

/* The next piece. Returns TCAT_OK and sets *done to false with p filled,
 * or sets *done to true at the end of the stream. A read error is
 * TCAT_ERR_IO naming the file. */
tcat_status tcat_lines_next(tcat_lines *l, tcat_piece *p, bool *done, tcat_error *err);

/* The name used in messages ("stdin" for "-"). */
const char *tcat_lines_name(const tcat_lines *l);

#endif
