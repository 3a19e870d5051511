#include "corpora/linereader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokenizer/tokenizer.h"

struct tcat_lines {
    int fd;
    bool own_fd, eof, started;
    char *name;
    char *buf;
    size_t cap, window, start, end;
    uint64_t line;    /* number of the line being handed out */
    bool mid_line;    /* the last piece did not end its line */
};

tcat_status tcat_lines_open(tcat_lines **out, const char *path, size_t window, tcat_error *err)
{
    if (window == 0)
        window = TCAT_LINES_WINDOW;
    if (window < 64)
        window = 64;
    tcat_lines *l = calloc(1, sizeof *l);
    if (!l)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    bool is_stdin = strcmp(path, "-") == 0;
    l->name = strdup(is_stdin ? "stdin" : path);
    l->window = window;
    l->cap = 2 * window;
    l->buf = malloc(l->cap);
    if (!l->name || !l->buf) {
        tcat_lines_close(&l);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    if (is_stdin) {
        l->fd = 0;
    } else {
        l->fd = open(path, O_RDONLY);
        if (l->fd < 0) {
            int e = errno;
            tcat_lines_close(&l);
            return tcat_fail(err, TCAT_ERR_IO, "cannot open '%s': %s", path, strerror(e));
        }
        l->own_fd = true;
    }
    *out = l;
    return TCAT_OK;
}

void tcat_lines_close(tcat_lines **lp)
{
    if (!lp || !*lp)
        return;
    tcat_lines *l = *lp;
    if (l->own_fd)
        close(l->fd);
    free(l->name);
    free(l->buf);
    free(l);
    *lp = NULL;
}

const char *tcat_lines_name(const tcat_lines *l) { return l->name; }

/* Moves the unread bytes to the front and reads more; sets eof at the end. */
static tcat_status fill(tcat_lines *l, tcat_error *err)
{
    if (l->start > 0) {
        memmove(l->buf, l->buf + l->start, l->end - l->start);
        l->end -= l->start;
        l->start = 0;
    }
    while (l->end < l->cap) {
        ssize_t r = read(l->fd, l->buf + l->end, l->cap - l->end);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return tcat_fail(err, TCAT_ERR_IO, "reading '%s': %s", l->name, strerror(errno));
        }
        if (r == 0) {
            l->eof = true;
            break;
        }
        l->end += (size_t)r;
        if (!l->started) {
            /* a BOM may arrive a byte at a time on a slow pipe */
            static const char bom[3] = {'\xEF', '\xBB', '\xBF'};
            size_t have = l->end < 3 ? l->end : 3;
            if (memcmp(l->buf, bom, have) == 0 && have < 3)
                continue;
            l->started = true;
            if (have == 3 && memcmp(l->buf, bom, 3) == 0)
                l->start = 3;
        }
        /* Return as soon as a line is complete, so an interactive stream
         * gets its answer before more input arrives. */
        if (memchr(l->buf + l->end - (size_t)r, '\n', (size_t)r))
            break;
    }
    return TCAT_OK;
}

tcat_status tcat_lines_next(tcat_lines *l, tcat_piece *p, bool *done, tcat_error *err)
{
    for (;;) {
        size_t avail = l->end - l->start;
        char *s = l->buf + l->start;
        size_t look = avail < l->window + 1 ? avail : l->window + 1;
        char *nl = memchr(s, '\n', look);
        if (nl || avail >= l->window || (l->eof && (avail > 0 || l->mid_line))) {
            if (!l->mid_line)
                l->line++;
            p->line = l->line;
            p->data = s;
            if (nl) {
                size_t n = (size_t)(nl - s);
                l->start += n + 1;
                if (n > 0 && s[n - 1] == '\r')
                    n--;
                p->len = n;
                p->eol = true;
            } else if (avail >= l->window) {
                size_t cut = tcat_tok_safe_cut(s, l->window);
                l->start += cut;
                p->len = cut;
                p->eol = false;
            } else {
                l->start += avail;
                p->len = avail;
                p->eol = true;
            }
            l->mid_line = !p->eol;
            *done = false;
            return TCAT_OK;
        }
        if (l->eof) {
            *done = true;
            return TCAT_OK;
        }
        tcat_status st = fill(l, err);
        if (st != TCAT_OK)
            return st;
    }
}
