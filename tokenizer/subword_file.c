/*
 * tokenizer/subword_file.c — the vocabulary file: writing it (escaped
 * pieces, atomic save) and reading it back with a message naming the file
 * and line of anything malformed. The format is described at the top of
 * tokenizer/subword.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokenizer/subword_impl.h"
#include "tokenizer/utf8.h"

static bool one_char(const char *s, size_t len)
{
    if (len == 0)
        return false;
    int32_t cp;
    size_t k = tcat_utf8_decode((const uint8_t *)s, len, &cp);
    return cp >= 0 && k == len;
}

/* ---- the vocabulary file ----------------------------------------------------- */

#define MAGIC "tcat-vocab"
#define FORMAT_VERSION 1

static tcat_status put_escaped(tcat_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (tcat_buf_reserve(b, n * 4) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            int32_t cp;
            size_t k = tcat_utf8_decode((const uint8_t *)s + i, n - i, &cp);
            if (cp >= 0) {
                memcpy(b->data + b->len, s + i, k);
                b->len += k;
            } else {
                for (size_t j = 0; j < k; j++) {
                    unsigned char x = (unsigned char)s[i + j];
                    char *o = b->data + b->len;
                    o[0] = '\\';
                    o[1] = 'x';
                    o[2] = hex[x >> 4];
                    o[3] = hex[x & 15];
                    b->len += 4;
                }
            }
            i += k;
            continue;
        }
        char *o = b->data + b->len;
        if (c <= 0x20 || c == 0x7F) {
            o[0] = '\\';
            o[1] = 'x';
            o[2] = hex[c >> 4];
            o[3] = hex[c & 15];
            b->len += 4;
        } else if (c == '\\') {
            o[0] = o[1] = '\\';
            b->len += 2;
        } else {
            o[0] = (char)c;
            b->len++;
        }
        i++;
    }
    return TCAT_OK;
}

static tcat_status put_piece(tcat_buf *b, const tcat_subword *v, int32_t id)
{
    size_t len;
    const char *s = sw_intern_str(&v->pieces, (uint32_t)(id - TCAT_SUBWORD_NBYTES), &len);
    return put_escaped(b, s, len);
}

tcat_status tcat_subword_format(const tcat_subword *v, tcat_buf *out)
{
    char line[128];
    size_t nentries = v->type == TCAT_SUBWORD_BPE ? v->nlines : v->pieces.n;
    int k = snprintf(line, sizeof line, "%s %d %s %zu\n", MAGIC, FORMAT_VERSION,
                     tcat_subword_type_name(v->type), nentries);
    if (tcat_buf_append(out, line, (size_t)k) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    tcat_status st = TCAT_OK;
    for (size_t i = 0; i < nentries && st == TCAT_OK; i++) {
        if (v->type == TCAT_SUBWORD_UNIGRAM) {
            st = put_piece(out, v, (int32_t)(i + TCAT_SUBWORD_NBYTES));
            k = snprintf(line, sizeof line, "\t%.9g\n", (double)v->score[i]);
        } else if (v->lines[i].left < 0) {
            st = put_piece(out, v, v->lines[i].result);
            k = snprintf(line, sizeof line, "\n");
        } else {
            st = put_piece(out, v, v->lines[i].left);
            if (st == TCAT_OK)
                st = tcat_buf_append(out, "\t", 1);
            if (st == TCAT_OK)
                st = put_piece(out, v, v->lines[i].right);
            k = snprintf(line, sizeof line, "\n");
        }
        if (st == TCAT_OK)
            st = tcat_buf_append(out, line, (size_t)k);
    }
    return st == TCAT_OK ? TCAT_OK : TCAT_ERR_NOMEM;
}

/* Decodes the escaped field s[0..n) into b (emptied first). Returns NULL
 * or a message for what is wrong. */
static const char *unescape(tcat_buf *b, const char *s, size_t n)
{
    b->len = 0;
    if (tcat_buf_reserve(b, n + 1) != TCAT_OK)
        return "out of memory";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\') {
            if (i + 1 < n && s[i + 1] == '\\') {
                b->data[b->len++] = '\\';
                i++;
                continue;
            }
            if (i + 3 < n && s[i + 1] == 'x' && isxdigit((unsigned char)s[i + 2]) &&
                isxdigit((unsigned char)s[i + 3])) {
                char h[3] = {s[i + 2], s[i + 3], 0};
                b->data[b->len++] = (char)strtol(h, NULL, 16);
                i += 3;
                continue;
            }
            return "bad escape (only \\\\ and \\xHH are defined)";
        }
        if (c < 0x20 || c == 0x7F)
            return "raw control byte in a piece (write it as \\xHH)";
        b->data[b->len++] = (char)c;
    }
    if (b->len == 0)
        return "empty piece";
    return NULL;
}

/* What the parser holds while it reads a vocabulary. */
typedef struct parser {
    const char *name;
    size_t line;
    tcat_error *err;
    tcat_subword_type type;
    unsigned long long count; /* entries the header announces */
    size_t entries;           /* entries read */
    sw_intern pieces;
    float *scores;            /* unigram */
    sw_line *lines;           /* bpe */
    sw_u64map seen;           /* bpe: merge -> its line */
    tcat_buf f1, f2;          /* unescaped fields */
} parser;

static tcat_status bad(parser *P, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "NAME:LINE: what is wrong" */
static tcat_status bad(parser *P, const char *fmt, ...)
{
    char m[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return tcat_fail(P->err, TCAT_ERR_MODEL, "%s:%zu: %s", P->name, P->line, m);
}

static tcat_status nomem(parser *P)
{
    return tcat_fail(P->err, TCAT_ERR_NOMEM, "%s: out of memory reading the vocabulary",
                     P->name);
}

/* The header line h[0..hl): magic, version, type, count. rest is the
 * number of bytes after it (to bound the count). */
static tcat_status parse_header(parser *P, const char *h, size_t hl, size_t rest)
{
    char head[128];
    if (hl >= sizeof head || hl < strlen(MAGIC) || memcmp(h, MAGIC, strlen(MAGIC)) != 0)
        return bad(P, "not a tcat vocabulary (no \"%s\" header)", MAGIC);
    memcpy(head, h, hl);
    head[hl] = 0;
    unsigned version;
    char type_s[16], count_s[32], extra;
    int got = sscanf(head, MAGIC " %u %15s %31s %c", &version, type_s, count_s, &extra);
    if (got < 1)
        return bad(P, "bad header: want \"%s VERSION TYPE COUNT\"", MAGIC);
    if (version != FORMAT_VERSION)
        return bad(P, "vocabulary format version %u, this tcat reads version %d: rebuild the "
                      "vocabulary with this tcat (tcat vocab)",
                   version, FORMAT_VERSION);
    if (got != 3)
        return bad(P, "bad header: want \"%s %d TYPE COUNT\"", MAGIC, FORMAT_VERSION);
    if (strcmp(type_s, "unigram") == 0)
        P->type = TCAT_SUBWORD_UNIGRAM;
    else if (strcmp(type_s, "bpe") == 0)
        P->type = TCAT_SUBWORD_BPE;
    else
        return bad(P, "unknown vocabulary type '%s' (bpe or unigram)", type_s);
    char *e;
    errno = 0;
    P->count = strtoull(count_s, &e, 10);
    if (errno || *e || count_s[0] == '-' || P->count > (1u << 28))
        return bad(P, "bad entry count '%s'", count_s);
    if (P->count > rest / 2 + 1) /* an entry takes at least two bytes */
        return bad(P, "truncated: the header says %llu entries, the file holds %zu more bytes",
                   P->count, rest);
    size_t n = P->count ? (size_t)P->count : 1;
    if (P->type == TCAT_SUBWORD_UNIGRAM)
        P->scores = malloc(n * sizeof *P->scores);
    else
        P->lines = malloc(n * sizeof *P->lines);
    if (!P->scores && !P->lines)
        return nomem(P);
    return TCAT_OK;
}

static tcat_status add_piece(parser *P, const tcat_buf *f, uint32_t *idx, bool *added)
{
    tcat_status st = sw_intern_add(&P->pieces, f->data, f->len, idx, added);
    if (st == TCAT_ERR_UNSUPPORTED)
        return tcat_fail(P->err, st, "%s: too many pieces", P->name);
    return st == TCAT_OK ? TCAT_OK : nomem(P);
}

/* PIECE<TAB>SCORE */
static tcat_status parse_unigram(parser *P, const char *ls, size_t ll)
{
    const char *tab = memchr(ls, '\t', ll);
    if (!tab)
        return bad(P, "want PIECE<TAB>SCORE");
    const char *msg = unescape(&P->f1, ls, (size_t)(tab - ls));
    if (msg)
        return bad(P, "%s", msg);
    size_t sl = ll - (size_t)(tab - ls) - 1;
    char num[64];
    if (sl == 0 || sl >= sizeof num)
        return bad(P, "bad score");
    memcpy(num, tab + 1, sl);
    num[sl] = 0;
    char *e;
    errno = 0;
    double d = strtod(num, &e);
    if (*e || errno == ERANGE || !isfinite(d) || !isfinite((float)d))
        return bad(P, "bad score '%s' (want a finite number)", num);
    uint32_t idx;
    bool added;
    tcat_status st = add_piece(P, &P->f1, &idx, &added);
    if (st != TCAT_OK)
        return st;
    if (!added)
        return bad(P, "piece repeated (first on line %u)", idx + 2);
    P->scores[idx] = (float)d;
    return TCAT_OK;
}

/* PIECE (a base symbol) or LEFT<TAB>RIGHT (a merge) */
static tcat_status parse_bpe(parser *P, const char *ls, size_t ll)
{
    const char *tab = memchr(ls, '\t', ll);
    const char *msg;
    uint32_t idx;
    bool added;
    tcat_status st;
    if (!tab) {
        if ((msg = unescape(&P->f1, ls, ll)) != NULL)
            return bad(P, "%s", msg);
        if (!one_char(P->f1.data, P->f1.len))
            return bad(P, "a base symbol must be one UTF-8 character");
        if ((st = add_piece(P, &P->f1, &idx, &added)) != TCAT_OK)
            return st;
        if (!added)
            return bad(P, "base symbol repeated");
        P->lines[P->entries] = (sw_line){-1, -1, (int32_t)idx + TCAT_SUBWORD_NBYTES};
        return TCAT_OK;
    }
    size_t rl = ll - (size_t)(tab - ls) - 1;
    if (memchr(tab + 1, '\t', rl))
        return bad(P, "want LEFT<TAB>RIGHT (a merge) or PIECE (a base symbol)");
    if ((msg = unescape(&P->f1, ls, (size_t)(tab - ls))) != NULL)
        return bad(P, "left piece: %s", msg);
    if ((msg = unescape(&P->f2, tab + 1, rl)) != NULL)
        return bad(P, "right piece: %s", msg);
    uint32_t a = sw_intern_find(&P->pieces, P->f1.data, P->f1.len);
    uint32_t b = sw_intern_find(&P->pieces, P->f2.data, P->f2.len);
    if (a == SW_NONE || b == SW_NONE)
        return bad(P, "merge of a piece not defined on an earlier line");
    uint32_t first = sw_u64map_get(&P->seen, sw_pair(a, b));
    if (first != SW_NONE)
        return bad(P, "merge repeated (first on line %u)", first);
    if (sw_u64map_put(&P->seen, sw_pair(a, b), (uint32_t)P->line) != TCAT_OK ||
        tcat_buf_append(&P->f1, P->f2.data, P->f2.len) != TCAT_OK)
        return nomem(P);
    if ((st = add_piece(P, &P->f1, &idx, NULL)) != TCAT_OK)
        return st;
    P->lines[P->entries] = (sw_line){(int32_t)a + TCAT_SUBWORD_NBYTES,
                                     (int32_t)b + TCAT_SUBWORD_NBYTES,
                                     (int32_t)idx + TCAT_SUBWORD_NBYTES};
    return TCAT_OK;
}

static tcat_status parse_entries(parser *P, const char *text, size_t pos, size_t len)
{
    while (pos < len) {
        P->line++;
        const char *ls = text + pos;
        const char *le = memchr(ls, '\n', len - pos);
        size_t ll = le ? (size_t)(le - ls) : len - pos;
        pos += ll + (le != NULL);
        if (ll && ls[ll - 1] == '\r')
            ll--;
        if (P->entries == P->count)
            return bad(P, "more entries than the header's %llu", P->count);
        tcat_status st = P->type == TCAT_SUBWORD_UNIGRAM ? parse_unigram(P, ls, ll)
                                                         : parse_bpe(P, ls, ll);
        if (st != TCAT_OK)
            return st;
        P->entries++;
    }
    if (P->entries < P->count) {
        P->line++;
        return bad(P, "truncated: the header says %llu entries, the file has %zu", P->count,
                   P->entries);
    }
    return TCAT_OK;
}

tcat_status tcat_subword_parse(tcat_subword **out, const char *text, size_t len,
                               const char *name, tcat_error *err)
{
    *out = NULL;
    parser P = {.name = name, .line = 1, .err = err};
    tcat_status st;
    if (len == 0) {
        st = bad(&P, "empty file, not a tcat vocabulary");
    } else {
        const char *nl = memchr(text, '\n', len);
        size_t hl = nl ? (size_t)(nl - text) : len;
        size_t pos = nl ? hl + 1 : len;
        if (hl && text[hl - 1] == '\r')
            hl--;
        st = parse_header(&P, text, hl, len - pos);
        if (st == TCAT_OK)
            st = parse_entries(&P, text, pos, len);
    }
    if (st == TCAT_OK && sw_vocab_build(out, P.type, &P.pieces, P.scores, P.lines,
                                        P.entries) != TCAT_OK)
        st = nomem(&P);
    sw_intern_free(&P.pieces);
    free(P.scores);
    free(P.lines);
    sw_u64map_free(&P.seen);
    tcat_buf_free(&P.f1);
    tcat_buf_free(&P.f2);
    return st;
}

/* ---- save and load ----------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return ENOMEM;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return errno;
    int e = fsync(fd) == 0 || errno == EINVAL || errno == ENOTSUP ? 0 : errno;
    close(fd);
    return e;
}

tcat_status tcat_subword_save(const tcat_subword *v, const char *path, tcat_error *err)
{
    tcat_buf text = {0};
    if (tcat_subword_format(v, &text) != TCAT_OK) {
        tcat_buf_free(&text);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 64);
    if (!tmp) {
        tcat_buf_free(&text);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    /* O_EXCL with mode 0666 lets the umask decide the permissions, as for
     * any new file; the name is unique to this process and attempt */
    int fd = -1;
    for (unsigned attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, pl + 64, "%s.tmp.%ld.%u", path, (long)getpid(), attempt);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    const char *what = "create a temporary file beside";
    int e = fd < 0 ? errno : 0;
    if (!e) {
        what = "write";
        e = write_all(fd, text.data, text.len);
    }
    if (!e && fsync(fd) != 0) {
        what = "sync";
        e = errno;
    }
    if (fd >= 0 && close(fd) != 0 && !e) {
        what = "close";
        e = errno;
    }
    if (!e && rename(tmp, path) != 0) {
        what = "rename the new vocabulary to";
        e = errno;
    }
    if (e && fd >= 0)
        unlink(tmp);
    free(tmp);
    tcat_buf_free(&text);
    if (e)
        return tcat_fail(err, TCAT_ERR_IO, "cannot %s '%s': %s", what, path, strerror(e));
    if ((e = sync_dir_of(path)) != 0)
        return tcat_fail(err, TCAT_ERR_IO,
                         "'%s' was written, but its directory could not be synced: %s", path,
                         strerror(e));
    return TCAT_OK;
}

tcat_status tcat_subword_load(tcat_subword **out, const char *path, tcat_error *err)
{
    *out = NULL;
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return tcat_fail(err, TCAT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    tcat_buf b = {0};
    char chunk[65536];
    size_t r;
    tcat_status st = TCAT_OK;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (tcat_buf_append(&b, chunk, r) != TCAT_OK) {
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory reading '%s'", path);
            break;
        }
    if (st == TCAT_OK && ferror(f))
        st = tcat_fail(err, TCAT_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    if (!is_stdin)
        fclose(f);
    if (st == TCAT_OK)
        st = tcat_subword_parse(out, b.data ? b.data : "", b.len, is_stdin ? "stdin" : path, err);
    tcat_buf_free(&b);
    return st;
}
