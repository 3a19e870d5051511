/*
 * corpora/reader_csv.c — CSV with a header naming "label" and "text"
 * (RFC 4180): fields split by ',', a field starting with '"' is quoted and
 * may hold ',', CR, LF and '""' for a quote; anything else is taken as it
 * is (text after a closing quote is kept literally, as Python's csv does).
 * The header is the first line that is not blank and must fit on it.
 * Blank lines between records are skipped (with two columns or more,
 * a line of spaces cannot be a record). Only the label and text fields
 * of the current record are kept.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "corpora/reader_impl.h"

/* ---- the header ------------------------------------------------------------ */

/* True when field f[0..n), without surrounding spaces, is name. */
static bool names(const char *f, size_t n, const char *name)
{
    while (n > 0 && (f[0] == ' ' || f[0] == '\t')) {
        f++;
        n--;
    }
    while (n > 0 && (f[n - 1] == ' ' || f[n - 1] == '\t'))
        n--;
    return n == strlen(name) && strncasecmp(f, name, n) == 0;
}

/* One header field from s[*i..n) into tmp; *i ends at its ',' or n. */
static tcat_status header_field(const char *s, size_t n, size_t *i, tcat_buf *tmp,
                                bool *unclosed)
{
    size_t p = *i;
    tmp->len = 0;
    tcat_status st = TCAT_OK;
    if (p < n && s[p] == '"') {
        for (p++;;) {
            const char *q = memchr(s + p, '"', n - p);
            if (!q) {
                *unclosed = true;
                *i = n;
                return TCAT_OK;
            }
            st = tcat_buf_append(tmp, s + p, (size_t)(q - s) - p);
            p = (size_t)(q - s) + 1;
            if (st != TCAT_OK || p >= n || s[p] != '"')
                break;
            st = tcat_buf_append(tmp, "\"", 1);
            p++;
        }
    }
    const char *c = p < n ? memchr(s + p, ',', n - p) : NULL;
    size_t e = c ? (size_t)(c - s) : n;
    if (st == TCAT_OK)
        st = tcat_buf_append(tmp, s + p, e - p);
    *i = e;
    return st;
}

tcat_status tcat_rd_csv_parse_header(const char *s, size_t n, tcat_buf *tmp,
                                     tcat_rd_csv_header *h)
{
    h->ncols = 0;
    h->label = h->text = SIZE_MAX;
    h->unclosed = false;
    for (size_t i = 0;;) {
        tcat_status st = header_field(s, n, &i, tmp, &h->unclosed);
        if (st != TCAT_OK)
            return st;
        if (h->label == SIZE_MAX && names(tmp->data, tmp->len, "label"))
            h->label = h->ncols;
        else if (h->text == SIZE_MAX && names(tmp->data, tmp->len, "text"))
            h->text = h->ncols;
        h->ncols++;
        if (i >= n)
            return TCAT_OK;
        i++; /* the ',' */
    }
}

static tcat_status read_header(tcat_reader *r, bool *done, tcat_error *err)
{
    tcat_rd_line l;
    do {
        tcat_status st = tcat_rd_src_line(&r->src, r->name, &l, done, err);
        if (st != TCAT_OK || *done)
            return st;
    } while (tcat_rd_blank(l.s, l.len, true));
    tcat_rd_csv_header h;
    if (tcat_rd_csv_parse_header(l.s, l.len, &r->field, &h) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    if (h.unclosed)
        return tcat_rd_input_error(err, r->name, l.no, "unclosed quote in the CSV header");
    if (h.label == SIZE_MAX || h.text == SIZE_MAX) {
        char shown[120];
        return tcat_rd_input_error(err, r->name, l.no,
                                   "the CSV header '%s' names no '%s' column (a header naming "
                                   "'label' and 'text' columns is required)",
                                   tcat_rd_escape(l.s, l.len, shown, sizeof shown),
                                   h.label == SIZE_MAX ? "label" : "text");
    }
    r->csv_ncols = h.ncols;
    r->csv_label = h.label;
    r->csv_text = h.text;
    r->csv_header_read = true;
    return TCAT_OK;
}

/* ---- records --------------------------------------------------------------- */

enum csv_state { AT_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED };

typedef struct csv_record {
    enum csv_state state;
    size_t field;       /* index of the field being read */
    uint64_t quote_at;  /* line where the open quote started */
    bool ok;            /* no allocation failed */
} csv_record;

static void put(csv_record *c, tcat_buf *b, const char *p, size_t n)
{
    if (b && c->ok && tcat_buf_append(b, p, n) != TCAT_OK)
        c->ok = false;
}

/* Runs the state machine over one physical line. */
static void scan_line(tcat_reader *r, csv_record *c, const tcat_rd_line *l)
{
    const char *p = l->s, *end = l->s + l->len;
    while (p < end) {
        tcat_buf *dst = c->field == r->csv_label ? &r->field
                        : c->field == r->csv_text ? &r->text
                                                  : NULL;
        const char *hit;
        switch (c->state) {
        case AT_START:
            if (*p == '"') {
                c->state = QUOTED;
                c->quote_at = l->no;
                p++;
            } else {
                c->state = UNQUOTED;
            }
            break;
        case UNQUOTED:
            hit = memchr(p, ',', (size_t)(end - p));
            put(c, dst, p, (size_t)((hit ? hit : end) - p));
            p = hit ? hit + 1 : end;
            if (hit) {
                c->field++;
                c->state = AT_START;
            }
            break;
        case QUOTED:
            hit = memchr(p, '"', (size_t)(end - p));
            put(c, dst, p, (size_t)((hit ? hit : end) - p));
            p = hit ? hit + 1 : end;
            if (hit)
                c->state = QUOTE_IN_QUOTED;
            break;
        case QUOTE_IN_QUOTED:
            if (*p == '"') {
                put(c, dst, "\"", 1);
                c->state = QUOTED;
                p++;
            } else if (*p == ',') {
                c->field++;
                c->state = AT_START;
                p++;
            } else {
                c->state = UNQUOTED;
            }
            break;
        }
    }
    if (c->state == QUOTED) /* the line end is part of the field */
        put(c, c->field == r->csv_label ? &r->field : c->field == r->csv_text ? &r->text : NULL,
            l->crlf ? "\r\n" : "\n", l->crlf ? 2 : 1);
}

tcat_status tcat_rd_csv_next(tcat_reader *r, tcat_rawdoc *doc, bool *done, tcat_error *err)
{
    tcat_status st;
    if (!r->csv_header_read) {
        st = read_header(r, done, err);
        if (st != TCAT_OK || *done)
            return st;
    }
    tcat_rd_line l;
    do {
        st = tcat_rd_src_line(&r->src, r->name, &l, done, err);
        if (st != TCAT_OK || *done)
            return st;
    } while (tcat_rd_blank(l.s, l.len, true)); /* never a record: there are 2+ columns */
    uint64_t first = l.no;
    r->text.len = r->field.len = 0;
    csv_record c = {AT_START, 0, 0, true};
    for (;;) {
        scan_line(r, &c, &l);
        if (c.state != QUOTED)
            break;
        bool end = false;
        st = tcat_rd_src_line(&r->src, r->name, &l, &end, err);
        if (st != TCAT_OK)
            return st;
        if (end)
            return tcat_rd_input_error(err, r->name, c.quote_at,
                                       "unclosed quote: the quoted field starting here never "
                                       "ends");
    }
    if (!c.ok)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory reading '%s'", r->name);
    if (c.field + 1 != r->csv_ncols)
        return tcat_rd_input_error(err, r->name, first,
                                   "this row has %zu fields, the header has %zu", c.field + 1,
                                   r->csv_ncols);
    st = tcat_rd_label_add(r, r->field.data ? r->field.data : "", r->field.len, r->name, first,
                           err);
    if (st != TCAT_OK)
        return st;
    doc->text = r->text.data;
    doc->len = r->text.len;
    doc->source = r->name;
    doc->line = first;
    return TCAT_OK;
}
