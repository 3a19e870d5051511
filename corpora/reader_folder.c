/*
 * corpora/reader_folder.c — a folder with one subfolder per label, each
 * file in it one document. Names starting with '.' are skipped; symbolic
 * links are followed; folders and files come in byte order of their names
 * (strcmp, not the locale), so runs are reproducible. Inside a label
 * folder only regular files count (nested folders are skipped). A file is
 * read whole, whatever its size; a BOM at its start is dropped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corpora/reader_impl.h"

void tcat_rd_names_free(tcat_rd_names *n)
{
    for (size_t i = 0; i < n->n; i++)
        free(n->v[i]);
    free(n->v);
    memset(n, 0, sizeof *n);
}

static tcat_status names_add(tcat_rd_names *n, const char *name)
{
    if (n->n == n->cap) {
        size_t cap = n->cap ? 2 * n->cap : 16;
        char **v = realloc(n->v, cap * sizeof *v);
        if (!v)
            return TCAT_ERR_NOMEM;
        n->v = v;
        n->cap = cap;
    }
    if (!(n->v[n->n] = strdup(name)))
        return TCAT_ERR_NOMEM;
    n->n++;
    return TCAT_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sets r->path to dir/a or, when b is not NULL, dir/a/b (no doubled '/'
 * after dir), NUL-terminated. */
static tcat_status set_path(tcat_reader *r, const char *dir, const char *a, const char *b)
{
    size_t dl = strlen(dir);
    bool slash = dl > 0 && dir[dl - 1] != '/';
    r->path.len = 0;
    if (tcat_buf_append(&r->path, dir, dl) != TCAT_OK ||
        (slash && tcat_buf_append(&r->path, "/", 1) != TCAT_OK) ||
        tcat_buf_append(&r->path, a, strlen(a)) != TCAT_OK ||
        (b && (tcat_buf_append(&r->path, "/", 1) != TCAT_OK ||
               tcat_buf_append(&r->path, b, strlen(b)) != TCAT_OK)) ||
        tcat_buf_append(&r->path, "", 1) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    return TCAT_OK;
}

/* The visible entries of dir that are folders (want_dirs) or regular
 * files, sorted; *nfiles counts the regular files when listing folders. */
static tcat_status list_dir(const char *dir, bool want_dirs, tcat_rd_names *out,
                            size_t *nfiles, tcat_error *err)
{
    tcat_rd_names_free(out);
    DIR *d = opendir(dir);
    if (!d)
        return tcat_fail(err, TCAT_ERR_IO, "cannot open folder '%s': %s", dir, strerror(errno));
    tcat_status st = TCAT_OK;
    struct dirent *e;
    errno = 0;
    while (st == TCAT_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        struct stat sb;
        if (fstatat(dirfd(d), e->d_name, &sb, 0) != 0) {
            size_t dl = strlen(dir);
            st = tcat_fail(err, TCAT_ERR_IO, "cannot read '%s%s%s': %s", dir,
                           dl && dir[dl - 1] == '/' ? "" : "/", e->d_name, strerror(errno));
            break;
        }
        bool is_dir = S_ISDIR(sb.st_mode);
        if (nfiles && S_ISREG(sb.st_mode))
            (*nfiles)++;
        if (want_dirs ? is_dir : S_ISREG(sb.st_mode))
            if (names_add(out, e->d_name) != TCAT_OK)
                st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        errno = 0;
    }
    if (st == TCAT_OK && errno != 0)
        st = tcat_fail(err, TCAT_ERR_IO, "reading folder '%s': %s", dir, strerror(errno));
    closedir(d);
    if (st == TCAT_OK && out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, by_name);
    return st;
}

tcat_status tcat_rd_folder_open(tcat_reader *r, const char *path, tcat_error *err)
{
    size_t nfiles = 0;
    tcat_status st = list_dir(path, true, &r->dirs, &nfiles, err);
    if (st != TCAT_OK)
        return st;
    if (r->dirs.n == 0)
        return tcat_rd_input_error(
            err, r->name, 0,
            "a folder with %zu file%s and no subfolders: a folder corpus needs one subfolder "
            "per label, each holding text files (one document a file)",
            nfiles, nfiles == 1 ? "" : "s");
    return TCAT_OK;
}

/* Reads the file at r->path whole into r->text. */
static tcat_status read_file(tcat_reader *r, tcat_error *err)
{
    const char *path = r->path.data;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tcat_fail(err, TCAT_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    r->text.len = 0;
    struct stat sb;
    size_t want = fstat(fd, &sb) == 0 && sb.st_size > 0 ? (size_t)sb.st_size + 1 : 4096;
    tcat_status st = TCAT_OK;
    for (;;) {
        size_t room = r->text.len == 0 ? want : r->text.len < r->text.cap ? 0 : r->text.cap;
        if (tcat_buf_reserve(&r->text, room) != TCAT_OK) {
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory reading '%s'", path);
            break;
        }
        ssize_t n = read(fd, r->text.data + r->text.len, r->text.cap - r->text.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = tcat_fail(err, TCAT_ERR_IO, "reading '%s': %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        r->text.len += (size_t)n;
    }
    close(fd);
    return st;
}

tcat_status tcat_rd_folder_next(tcat_reader *r, tcat_rawdoc *doc, bool *done, tcat_error *err)
{
    tcat_status st;
    while (!r->in_dir || r->file_next == r->files.n) {
        if (r->dir_next == r->dirs.n) {
            *done = true;
            return TCAT_OK;
        }
        if (set_path(r, r->name, r->dirs.v[r->dir_next++], NULL) != TCAT_OK)
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        st = list_dir(r->path.data, false, &r->files, NULL, err);
        if (st != TCAT_OK)
            return st;
        r->in_dir = true;
        r->file_next = 0;
    }
    const char *label = r->dirs.v[r->dir_next - 1];
    if (set_path(r, r->name, label, r->files.v[r->file_next++]) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    st = read_file(r, err);
    if (st == TCAT_OK)
        st = tcat_rd_label_add(r, label, strlen(label), r->path.data, 0, err);
    if (st != TCAT_OK)
        return st;
    size_t skip = r->text.len >= 3 && memcmp(r->text.data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    doc->text = r->text.data ? r->text.data + skip : "";
    doc->len = r->text.len - skip;
    doc->source = r->path.data;
    doc->line = 0;
    return TCAT_OK;
}
