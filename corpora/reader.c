/*
 * corpora/reader.c — opening a corpus, detecting its layout, the byte
 * stream the line layouts share, and the labels of a document. The
 * layouts themselves are in reader_lines.c, reader_csv.c and
 * reader_folder.c (see reader_impl.h).
 */
#include "corpora/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corpora/reader_impl.h"
#include "tokenizer/utf8.h"

/* ---- format names ------------------------------------------------------- */

static const char *const format_names[] = {"auto", "folder", "tsv", "csv", "jsonl", "fasttext"};
#define NFORMATS (sizeof format_names / sizeof *format_names)

const char *tcat_format_name(tcat_format f)
{
    return (unsigned)f < NFORMATS ? format_names[f] : "unknown";
}

tcat_status tcat_format_parse(const char *name, tcat_format *out, tcat_error *err)
{
    for (size_t i = 0; name && i < NFORMATS; i++) {
        if (strcmp(name, format_names[i]) == 0) {
            *out = (tcat_format)i;
            return TCAT_OK;
        }
    }
    char shown[64];
    return tcat_fail(err, TCAT_ERR_USAGE,
                     "unknown format '%s': use auto, folder, tsv, csv, jsonl or fasttext",
                     name ? tcat_rd_escape(name, strlen(name), shown, sizeof shown) : "");
}

/* ---- messages ------------------------------------------------------------- */

tcat_status tcat_rd_input_error(tcat_error *err, const char *source, uint64_t line,
                                const char *fmt, ...)
{
    char what[sizeof err->msg], name[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    tcat_rd_escape(source, strlen(source), name, sizeof name);
    if (line > 0)
        return tcat_fail(err, TCAT_ERR_INPUT, "%s:%llu: %s", name, (unsigned long long)line,
                         what);
    return tcat_fail(err, TCAT_ERR_INPUT, "%s: %s", name, what);
}

const char *tcat_rd_escape(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        char one[8];
        size_t take = 1, olen = 1;
        int32_t cp = -1;
        if (c >= 0x80)
            take = tcat_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (c >= 0x20 && c < 0x7F) {
            one[0] = (char)c;
        } else if (cp > 0x9F) { /* a valid character past the C1 controls */
            memcpy(one, s + i, take);
            olen = take;
        } else {
            take = 1;
            olen = (size_t)snprintf(one, sizeof one, "\\x%02X", c);
        }
        if (o + olen + 4 > cap) {
            if (o + 4 <= cap) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        memcpy(out + o, one, olen);
        o += olen;
        i += take;
    }
    if (cap > 0)
        out[o < cap ? o : cap - 1] = '\0';
    return out;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool tcat_rd_blank(const char *s, size_t n, bool tabs)
{
    for (size_t i = 0; i < n; i++)
        if (!is_space(s[i]) || (s[i] == '\t' && !tabs))
            return false;
    return true;
}

/* ---- labels ------------------------------------------------------------------ */

void tcat_rd_labels_clear(tcat_reader *r)
{
    r->nlabels = 0;
    r->lbytes.len = 0;
}

static tcat_status labels_grow(tcat_reader *r)
{
    size_t cap = r->lcap ? 2 * r->lcap : 4;
    size_t *offs = realloc(r->loffs, cap * sizeof *offs);
    if (offs)
        r->loffs = offs;
    size_t *lens = realloc(r->llens, cap * sizeof *lens);
    if (lens)
        r->llens = lens;
    const char **ptrs = realloc(r->lptrs, cap * sizeof *ptrs);
    if (ptrs)
        r->lptrs = ptrs;
    if (!offs || !lens || !ptrs)
        return TCAT_ERR_NOMEM;
    r->lcap = cap;
    return TCAT_OK;
}

tcat_status tcat_rd_label_add(tcat_reader *r, const char *s, size_t n, const char *source,
                              uint64_t line, tcat_error *err)
{
    while (n > 0 && is_space(s[0])) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n == 0)
        return tcat_rd_input_error(err, source, line, "empty label");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F) {
            char shown[80];
            return tcat_rd_input_error(err, source, line,
                                       "label '%s' holds a control character (a tab, a line "
                                       "break, a NUL byte...), which labels may not",
                                       tcat_rd_escape(s, n, shown, sizeof shown));
        }
    }
    for (size_t i = 0; i < r->nlabels; i++)
        if (r->llens[i] == n && memcmp(r->lbytes.data + r->loffs[i], s, n) == 0)
            return TCAT_OK;
    if (r->nlabels == r->lcap && labels_grow(r) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    r->loffs[r->nlabels] = r->lbytes.len;
    r->llens[r->nlabels] = n;
    if (tcat_buf_append(&r->lbytes, s, n) != TCAT_OK ||
        tcat_buf_append(&r->lbytes, "", 1) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    r->nlabels++;
    return TCAT_OK;
}

void tcat_rd_labels_publish(tcat_reader *r, tcat_rawdoc *doc)
{
    for (size_t i = 0; i < r->nlabels; i++)
        r->lptrs[i] = r->lbytes.data + r->loffs[i];
    doc->nlabels = r->nlabels;
    doc->labels = r->lptrs;
    doc->label_lens = r->llens;
}

/* ---- the byte stream ---------------------------------------------------------- */

#define SRC_BLOCK ((size_t)1 << 16)

tcat_status tcat_rd_src_open(tcat_rd_src *s, const char *path, tcat_error *err)
{
    memset(s, 0, sizeof *s);
    if (strcmp(path, "-") == 0) {
        s->fd = 0;
        return TCAT_OK;
    }
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0)
        return tcat_fail(err, TCAT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    s->own_fd = true;
    return TCAT_OK;
}

void tcat_rd_src_close(tcat_rd_src *s)
{
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    free(s->buf);
    memset(s, 0, sizeof *s);
    s->fd = -1;
}

/* Makes room after end: moves the unread bytes to the front when that frees
 * at least half the buffer, grows it otherwise (so it ends up about twice
 * the longest line). */
static tcat_status src_room(tcat_rd_src *s)
{
    if (s->start == s->end)
        s->start = s->end = s->scanned = 0;
    if (s->end < s->cap)
        return TCAT_OK;
    if (s->start > 0 && s->start >= s->cap / 2) {
        memmove(s->buf, s->buf + s->start, s->end - s->start);
        s->end -= s->start;
        s->scanned -= s->start;
        s->start = 0;
        return TCAT_OK;
    }
    if (s->cap > SIZE_MAX / 2)
        return TCAT_ERR_NOMEM;
    size_t cap = s->cap ? 2 * s->cap : SRC_BLOCK;
    char *p = realloc(s->buf, cap);
    if (!p)
        return TCAT_ERR_NOMEM;
    s->buf = p;
    s->cap = cap;
    return TCAT_OK;
}

/* Reads once (what is there: a pipe gives its line at once); drops a BOM
 * at the start of the stream once three bytes or the end have come. */
static tcat_status src_fill(tcat_rd_src *s, const char *name, tcat_error *err)
{
    if (src_room(s) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory reading '%s'", name);
    for (;;) {
        ssize_t n = read(s->fd, s->buf + s->end, s->cap - s->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return tcat_fail(err, TCAT_ERR_IO, "reading '%s': %s", name, strerror(errno));
        if (n == 0)
            s->eof = true;
        s->end += (size_t)n;
        break;
    }
    if (!s->bom_done && (s->end - s->start >= 3 || s->eof)) {
        if (s->end - s->start >= 3 && memcmp(s->buf + s->start, "\xEF\xBB\xBF", 3) == 0)
            s->start += 3;
        if (s->scanned < s->start)
            s->scanned = s->start;
        s->bom_done = true;
    }
    return TCAT_OK;
}

/* Fills l with the line base[from..to) (to: its LF or the end). */
static void set_line(tcat_rd_line *l, const char *base, size_t from, size_t to, bool at_lf)
{
    l->s = base + from;
    l->len = to - from;
    l->crlf = at_lf && l->len > 0 && l->s[l->len - 1] == '\r';
    if (l->crlf)
        l->len--;
}

tcat_status tcat_rd_src_line(tcat_rd_src *s, const char *name, tcat_rd_line *l, bool *done,
                             tcat_error *err)
{
    for (;;) {
        if (s->bom_done) {
            char *nl = memchr(s->buf + s->scanned, '\n', s->end - s->scanned);
            if (nl || (s->eof && s->end > s->start)) {
                size_t to = nl ? (size_t)(nl - s->buf) : s->end;
                set_line(l, s->buf, s->start, to, nl != NULL);
                l->no = ++s->line;
                s->start = s->scanned = nl ? to + 1 : to;
                *done = false;
                return TCAT_OK;
            }
            s->scanned = s->end;
            if (s->eof) {
                *done = true;
                return TCAT_OK;
            }
        }
        tcat_status st = src_fill(s, name, err);
        if (st != TCAT_OK)
            return st;
    }
}

tcat_status tcat_rd_src_peek(tcat_rd_src *s, const char *name, tcat_rd_line *l, bool *found,
                             tcat_error *err)
{
    /* offsets from s->start, which filling may move but never advance */
    size_t from = 0, scan = 0;
    uint64_t no = s->line;
    for (;;) {
        if (s->bom_done) {
            const char *base = s->buf + s->start;
            size_t avail = s->end - s->start;
            const char *nl = memchr(base + scan, '\n', avail - scan);
            if (nl || (s->eof && avail > from)) {
                size_t to = nl ? (size_t)(nl - base) : avail;
                set_line(l, base, from, to, nl != NULL);
                l->no = ++no;
                if (!tcat_rd_blank(l->s, l->len, true)) {
                    *found = true;
                    return TCAT_OK;
                }
                from = scan = nl ? to + 1 : to;
                continue;
            }
            scan = avail;
            if (s->eof) {
                *found = false;
                return TCAT_OK;
            }
        }
        tcat_status st = src_fill(s, name, err);
        if (st != TCAT_OK)
            return st;
    }
}

/* ---- detection ------------------------------------------------------------------ */

static tcat_format by_extension(const char *path)
{
    static const struct {
        const char *ext;
        tcat_format fmt;
    } table[] = {{"tsv", TCAT_FORMAT_TSV},     {"csv", TCAT_FORMAT_CSV},
                 {"jsonl", TCAT_FORMAT_JSONL}, {"ndjson", TCAT_FORMAT_JSONL},
                 {"json", TCAT_FORMAT_JSONL},  {"ft", TCAT_FORMAT_FASTTEXT},
                 {"fasttext", TCAT_FORMAT_FASTTEXT}};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return TCAT_FORMAT_AUTO;
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (strcasecmp(dot + 1, table[i].ext) == 0)
            return table[i].fmt;
    return TCAT_FORMAT_AUTO;
}

/* Tells the layout from the first line that is not blank. An input with
 * none has no documents in any line layout: it is read as TSV. */
static tcat_status sniff(tcat_reader *r, tcat_error *err)
{
    tcat_rd_line l;
    bool found = false;
    tcat_status st = tcat_rd_src_peek(&r->src, r->name, &l, &found, err);
    if (st != TCAT_OK)
        return st;
    r->fmt = TCAT_FORMAT_TSV;
    if (!found)
        return TCAT_OK;
    size_t i = 0;
    while (i < l.len && (l.s[i] == ' ' || l.s[i] == '\t'))
        i++;
    if (l.len - i >= 9 && memcmp(l.s + i, "__label__", 9) == 0) {
        r->fmt = TCAT_FORMAT_FASTTEXT;
        return TCAT_OK;
    }
    if (i < l.len && l.s[i] == '{') {
        r->fmt = TCAT_FORMAT_JSONL;
        return TCAT_OK;
    }
    if (memchr(l.s, '\t', l.len))
        return TCAT_OK;
    tcat_rd_csv_header h;
    st = tcat_rd_csv_parse_header(l.s, l.len, &r->field, &h);
    if (st != TCAT_OK)
        return tcat_fail(err, st, "out of memory");
    if (!h.unclosed && h.label != SIZE_MAX && h.text != SIZE_MAX) {
        r->fmt = TCAT_FORMAT_CSV;
        return TCAT_OK;
    }
    return tcat_fail(err, TCAT_ERR_INPUT,
                     "cannot tell the layout of '%s': its first line is neither "
                     "label<TAB>text, a CSV header naming label and text, a JSON object nor "
                     "__label__X text; name it with --format tsv, csv, jsonl or fasttext",
                     r->name);
}

/* ---- open, next, close ------------------------------------------------------------- */

static tcat_status open_layout(tcat_reader *r, const char *path, bool is_stdin, tcat_format fmt,
                               tcat_error *err)
{
    bool is_dir = false;
    if (!is_stdin) {
        struct stat sb;
        if (stat(path, &sb) != 0)
            return tcat_fail(err, TCAT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
        is_dir = S_ISDIR(sb.st_mode);
    }
    if (is_dir && fmt != TCAT_FORMAT_AUTO && fmt != TCAT_FORMAT_FOLDER)
        return tcat_fail(err, TCAT_ERR_USAGE, "'%s' is a folder, not a %s file", path,
                         tcat_format_name(fmt));
    if (!is_dir && fmt == TCAT_FORMAT_FOLDER)
        return tcat_fail(err, TCAT_ERR_USAGE, "'%s' is not a folder", r->name);
    if (is_dir) {
        r->fmt = TCAT_FORMAT_FOLDER;
        return tcat_rd_folder_open(r, path, err);
    }
    tcat_status st = tcat_rd_src_open(&r->src, path, err);
    if (st != TCAT_OK)
        return st;
    if (fmt == TCAT_FORMAT_AUTO && !is_stdin)
        fmt = by_extension(path);
    r->fmt = fmt;
    return fmt == TCAT_FORMAT_AUTO ? sniff(r, err) : TCAT_OK;
}

tcat_status tcat_reader_open(tcat_reader **out, const char *path, tcat_format fmt,
                             tcat_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return tcat_fail(err, TCAT_ERR_USAGE, "no input path given");
    if ((unsigned)fmt >= NFORMATS)
        return tcat_fail(err, TCAT_ERR_USAGE, "unknown input format %d", (int)fmt);
    tcat_reader *r = calloc(1, sizeof *r);
    if (!r)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    r->src.fd = -1;
    bool is_stdin = strcmp(path, "-") == 0;
    r->name = strdup(is_stdin ? "stdin" : path);
    if (!r->name) {
        tcat_reader_close(&r);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    tcat_status st = open_layout(r, path, is_stdin, fmt, err);
    if (st != TCAT_OK) {
        tcat_reader_close(&r);
        return st;
    }
    *out = r;
    return TCAT_OK;
}

tcat_format tcat_reader_format(const tcat_reader *r) { return r->fmt; }

static tcat_status next_of_layout(tcat_reader *r, tcat_rawdoc *doc, bool *done, tcat_error *err)
{
    switch (r->fmt) {
    case TCAT_FORMAT_FOLDER: return tcat_rd_folder_next(r, doc, done, err);
    case TCAT_FORMAT_TSV: return tcat_rd_tsv_next(r, doc, done, err);
    case TCAT_FORMAT_CSV: return tcat_rd_csv_next(r, doc, done, err);
    case TCAT_FORMAT_JSONL: return tcat_rd_jsonl_next(r, doc, done, err);
    case TCAT_FORMAT_FASTTEXT: return tcat_rd_fasttext_next(r, doc, done, err);
    default: return tcat_fail(err, TCAT_ERR_USAGE, "reader has no layout");
    }
}

tcat_status tcat_reader_next(tcat_reader *r, tcat_rawdoc *doc, bool *done, tcat_error *err)
{
    memset(doc, 0, sizeof *doc);
    *done = true;
    if (r->failed)
        return tcat_fail(err, r->fail_status, "%s", r->fail_msg);
    if (r->finished)
        return TCAT_OK;
    tcat_error e = {0};
    bool end = false;
    tcat_rd_labels_clear(r);
    tcat_status st = next_of_layout(r, doc, &end, &e);
    if (st != TCAT_OK) {
        if (!e.msg[0])
            tcat_fail(&e, st, "%s: %s", r->name, tcat_strerror(st));
        r->failed = true;
        r->fail_status = st;
        memcpy(r->fail_msg, e.msg, sizeof r->fail_msg);
        memset(doc, 0, sizeof *doc);
        return tcat_fail(err, st, "%s", e.msg);
    }
    if (end) {
        r->finished = true;
        memset(doc, 0, sizeof *doc);
        return TCAT_OK;
    }
    tcat_rd_labels_publish(r, doc);
    if (!doc->text)
        doc->text = "";
    *done = false;
    return TCAT_OK;
}

void tcat_reader_close(tcat_reader **rp)
{
    if (!rp || !*rp)
        return;
    tcat_reader *r = *rp;
    tcat_rd_src_close(&r->src);
    free(r->name);
    tcat_buf_free(&r->text);
    tcat_buf_free(&r->field);
    tcat_buf_free(&r->lbytes);
    free(r->loffs);
    free(r->llens);
    free(r->lptrs);
    json_decref(r->json);
    tcat_rd_names_free(&r->dirs);
    tcat_rd_names_free(&r->files);
    tcat_buf_free(&r->path);
    free(r);
    *rp = NULL;
}
