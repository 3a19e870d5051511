/* model/modelfile.c — the model container (see modelfile.h and
 * docs/model-format.md for the byte layout). */
#include "model/modelfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* ---- the layout ---------------------------------------------------------
 *
 * Header, 64 bytes at offset 0:
 *    0  magic "TCATMODL"                (these three fields and the
 *    8  u32 format version              checksum at 56 never move between
 *   12  u32 byte-order marker           versions, so any file can be
 *   16  u8  sizeof(float)               recognised and refused clearly)
 *   17  u8  sizeof(uint64_t)
 *   18  u16 reserved, 0
 *   20  u32 section count
 *   24  u64 table offset
 *   32  u64 file size
 *   40  u64 XXH3-64 of the table
 *   48  "\r\n\x1a\n" + 4 zero bytes: breaks if line endings are rewritten
 *   56  u64 XXH3-64 of bytes 0..55
 *
 * Then each section's data, 64-aligned, zero bytes between; then the table
 * (64-aligned), one 64-byte entry per section in file order:
 *    0  name, NUL-padded           32
 *   32  u64 offset  40 u64 size  48 u64 XXH3-64 of the data  56 u64 reserved
 */
#define MAGIC "TCATMODL"
#define BYTE_ORDER_MARK 0x01020304u
#define HEADER_SIZE 64u
#define ENTRY_SIZE 64u
#define NAME_FIELD 32u

enum {
    H_MAGIC = 0, H_VERSION = 8, H_BOM = 12, H_FLOAT = 16, H_U64 = 17, H_RESERVED = 18,
    H_COUNT = 20, H_TABLE_OFF = 24, H_FILE_SIZE = 32, H_TABLE_SUM = 40, H_EOL = 48,
    H_SUM = 56
};
enum { E_NAME = 0, E_OFFSET = 32, E_SIZE = 40, E_SUM = 48, E_RESERVED = 56 };

/* PNG's trick: a CR LF pair and a lone LF, so a text-mode copy that turns
 * either into the other changes these bytes; 0x1A stops a DOS `type`. */
static const unsigned char eol_check[8] = {'\r', '\n', 0x1a, '\n', 0, 0, 0, 0};

static const unsigned char zeros[TCAT_MODEL_ALIGN];

static uint64_t align_up(uint64_t x)
{
    return (x + (TCAT_MODEL_ALIGN - 1)) & ~(uint64_t)(TCAT_MODEL_ALIGN - 1);
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, sizeof v); }
static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, sizeof v); }

static bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

/* Length of a valid name in s[0..max), or 0 when it is not one. */
static size_t name_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n] != '\0') {
        if (!name_char((unsigned char)s[n]))
            return 0;
        n++;
    }
    return n <= TCAT_MODEL_NAME_MAX ? n : 0;
}

/* ---- writing ----------------------------------------------------------- */

typedef struct entry {
    char name[NAME_FIELD];
    uint64_t offset, size, sum;
} entry;

struct tcat_mwriter {
    int fd;
    char *path, *tmp;
    uint64_t end;      /* bytes written so far */
    entry *ents;
    size_t n, cap;
    int broken;        /* errno of a failed write, 0 while all is well */
};

/* Writes all n bytes (retrying short writes); 0 or an errno value. */
static int write_all(int fd, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        size_t chunk = n < ((size_t)1 << 30) ? n : ((size_t)1 << 30);
        ssize_t k = write(fd, s, chunk);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (k == 0)
            return ENOSPC;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

static int pwrite_all(int fd, const void *p, size_t n, off_t at)
{
    const char *s = p;
    while (n > 0) {
        ssize_t k = pwrite(fd, s, n, at);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (k == 0)
            return ENOSPC;
        s += k;
        n -= (size_t)k;
        at += k;
    }
    return 0;
}

/* Pads the file with zeros up to the next multiple of the alignment. */
static int pad(tcat_mwriter *w)
{
    uint64_t to = align_up(w->end);
    int e = write_all(w->fd, zeros, (size_t)(to - w->end));
    if (e == 0)
        w->end = to;
    return e;
}

static void free_writer(tcat_mwriter *w)
{
    free(w->path);
    free(w->tmp);
    free(w->ents);
    free(w);
}

tcat_status tcat_mwriter_open(tcat_mwriter **out, const char *path, tcat_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return tcat_fail(err, TCAT_ERR_USAGE, "no path given for the model file");
    tcat_mwriter *w = calloc(1, sizeof *w);
    size_t len = strlen(path);
    if (w) {
        w->fd = -1;
        w->path = strdup(path);
        w->tmp = malloc(len + sizeof ".tmp.XXXXXX");
    }
    if (!w || !w->path || !w->tmp) {
        if (w)
            free_writer(w);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    memcpy(w->tmp, path, len);
    memcpy(w->tmp + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    w->fd = mkostemp(w->tmp, O_CLOEXEC);
    if (w->fd < 0) {
        int e = errno;
        free_writer(w);
        return tcat_fail(err, TCAT_ERR_IO, "cannot create a temporary file for '%s': %s", path,
                         strerror(e));
    }
    /* The header is written last; zeros until then, so a temporary file
     * left by a crash is refused as "bad magic". */
    int e = write_all(w->fd, zeros, HEADER_SIZE);
    if (e) {
        tcat_mwriter_abort(&w);
        return tcat_fail(err, TCAT_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    }
    w->end = HEADER_SIZE;
    *out = w;
    return TCAT_OK;
}

tcat_status tcat_mwriter_add(tcat_mwriter *w, const char *name, const void *data, size_t size,
                             tcat_error *err)
{
    if (w->broken)
        return tcat_fail(err, TCAT_ERR_IO, "cannot write '%s': %s", w->path,
                         strerror(w->broken));
    size_t nl = name ? name_len(name, TCAT_MODEL_NAME_MAX + 1) : 0;
    if (nl == 0 || name[nl] != '\0') {
        char shown[41] = "(null)"; /* the name, made printable for a one-line message */
        if (name) {
            size_t i = 0;
            for (; name[i] && i < 40; i++) {
                unsigned char c = (unsigned char)name[i];
                shown[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
            }
            shown[i] = '\0';
        }
        return tcat_fail(err, TCAT_ERR_USAGE,
                         "bad section name '%s' for '%s': need 1 to %d characters of "
                         "A-Z a-z 0-9 . _ -",
                         shown, w->path, TCAT_MODEL_NAME_MAX);
    }
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->ents[i].name, name) == 0)
            return tcat_fail(err, TCAT_ERR_USAGE, "section '%s' added twice to '%s'", name,
                             w->path);
    if (w->n >= TCAT_MODEL_MAX_SECTIONS)
        return tcat_fail(err, TCAT_ERR_USAGE, "too many sections for '%s' (at most %u)",
                         w->path, TCAT_MODEL_MAX_SECTIONS);
    if (size > 0 && !data)
        return tcat_fail(err, TCAT_ERR_USAGE, "section '%s' of '%s': no data for %zu bytes",
                         name, w->path, size);
    if ((uint64_t)size > UINT64_MAX - TCAT_MODEL_ALIGN - w->end)
        return tcat_fail(err, TCAT_ERR_USAGE, "section '%s' of '%s' is too large", name,
                         w->path);
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        entry *p = realloc(w->ents, cap * sizeof *p);
        if (!p)
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        w->ents = p;
        w->cap = cap;
    }
    int e = pad(w);
    if (e == 0)
        e = write_all(w->fd, data, size);
    if (e) {
        w->broken = e;
        return tcat_fail(err, TCAT_ERR_IO, "cannot write section '%s' of '%s': %s", name,
                         w->path, strerror(e));
    }
    entry *en = &w->ents[w->n++];
    memset(en->name, 0, sizeof en->name);
    memcpy(en->name, name, nl);
    en->offset = w->end;
    en->size = size;
    en->sum = size ? XXH3_64bits(data, size) : XXH3_64bits(zeros, 0);
    w->end += size;
    return TCAT_OK;
}

/* The mode a new model gets: the old model's permission bits, else 0666
 * less the umask. The umask is read from /proc rather than with umask(2),
 * which would change it for every thread for a moment. */
static mode_t new_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        return st.st_mode & 07777;
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "re");
    if (f) {
        char line[256];
        unsigned m;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &m) == 1) {
                mask = (mode_t)m & 0777;
                break;
            }
        fclose(f);
    }
    return 0666 & ~mask;
}

/* fsyncs the directory holding path, so a rename in it is durable. A
 * file system that cannot sync directories (EINVAL) is not an error. */
static int sync_dir(const char *path)
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

/* Writes the section table and, last, the header; 0 or an errno value. */
static int write_table_and_header(tcat_mwriter *w)
{
    size_t tsize = w->n * ENTRY_SIZE;
    unsigned char *table = calloc(1, tsize ? tsize : 1);
    if (!table)
        return ENOMEM;
    for (size_t i = 0; i < w->n; i++) {
        unsigned char *p = table + i * ENTRY_SIZE;
        memcpy(p + E_NAME, w->ents[i].name, NAME_FIELD);
        put64(p + E_OFFSET, w->ents[i].offset);
        put64(p + E_SIZE, w->ents[i].size);
        put64(p + E_SUM, w->ents[i].sum);
    }
    uint64_t table_sum = XXH3_64bits(table, tsize);
    int e = pad(w);
    uint64_t table_off = w->end;
    if (e == 0)
        e = write_all(w->fd, table, tsize);
    free(table);
    if (e)
        return e;

    unsigned char h[HEADER_SIZE] = {0};
    memcpy(h + H_MAGIC, MAGIC, 8);
    put32(h + H_VERSION, TCAT_MODEL_FORMAT_VERSION);
    put32(h + H_BOM, BYTE_ORDER_MARK);
    h[H_FLOAT] = (unsigned char)sizeof(float);
    h[H_U64] = (unsigned char)sizeof(uint64_t);
    put32(h + H_COUNT, (uint32_t)w->n);
    put64(h + H_TABLE_OFF, table_off);
    put64(h + H_FILE_SIZE, table_off + tsize);
    put64(h + H_TABLE_SUM, table_sum);
    memcpy(h + H_EOL, eol_check, sizeof eol_check);
    put64(h + H_SUM, XXH3_64bits(h, H_SUM));
    return pwrite_all(w->fd, h, sizeof h, 0);
}

tcat_status tcat_mwriter_commit(tcat_mwriter **wp, tcat_error *err)
{
    if (!wp || !*wp)
        return tcat_fail(err, TCAT_ERR_USAGE, "no model writer to commit");
    tcat_mwriter *w = *wp;
    *wp = NULL;
    const char *what = "write";
    int e = w->broken;
    if (!e)
        e = write_table_and_header(w);
    if (!e) {
        what = "sync";
        if (fchmod(w->fd, new_mode(w->path)) != 0 || fsync(w->fd) != 0)
            e = errno;
    }
    if (!e) {
        what = "close";
        int fd = w->fd;
        w->fd = -1; /* closed even when close reports an error */
        if (close(fd) != 0)
            e = errno;
    }
    if (!e) {
        what = "rename the new model to";
        if (rename(w->tmp, w->path) != 0)
            e = errno;
    }
    if (e) {
        tcat_status st = tcat_fail(err, e == ENOMEM ? TCAT_ERR_NOMEM : TCAT_ERR_IO,
                                   "cannot %s '%s': %s", what, w->path, strerror(e));
        tcat_mwriter_abort(&w); /* removes the temporary file */
        return st;
    }
    tcat_status st = TCAT_OK;
    if ((e = sync_dir(w->path)) != 0)
        st = tcat_fail(err, TCAT_ERR_IO,
                       "'%s' was replaced, but its directory could not be synced: %s", w->path,
                       strerror(e));
    free_writer(w);
    return st;
}

void tcat_mwriter_abort(tcat_mwriter **wp)
{
    if (!wp || !*wp)
        return;
    tcat_mwriter *w = *wp;
    if (w->fd >= 0)
        close(w->fd);
    unlink(w->tmp);
    free_writer(w);
    *wp = NULL;
}

/* ---- reading ----------------------------------------------------------- */

typedef struct section {
    const char *name; /* NUL-terminated inside the mapped table */
    const unsigned char *data;
    size_t size;
} section;

struct tcat_mreader {
    const unsigned char *map;
    size_t size;
    uint32_t version;
    size_t n;
    section *secs;    /* file order */
    section **byname; /* sorted by name, for find */
};

static int by_name(const void *a, const void *b)
{
    return strcmp((*(section *const *)a)->name, (*(section *const *)b)->name);
}

static int find_name(const void *key, const void *elem)
{
    return strcmp(key, (*(section *const *)elem)->name);
}

#define BAD(...) (st = tcat_fail(err, TCAT_ERR_MODEL, __VA_ARGS__))

/* Checks the header; fills *count and *table_off. */
static tcat_status check_header(const unsigned char *m, size_t size, const char *path,
                                uint32_t *version, uint32_t *count, uint64_t *table_off,
                                tcat_error *err)
{
    tcat_status st = TCAT_OK;
    if (size == 0)
        return BAD("%s: empty file, not a tcat model", path);
    /* A short file that starts like a model was cut; anything else is
     * something else. */
    if (memcmp(m, MAGIC, size < 8 ? size : 8) != 0)
        return BAD("%s: not a tcat model file (bad magic)", path);
    if (size < HEADER_SIZE)
        return BAD("%s: truncated (%zu bytes, expected at least %u)", path, size, HEADER_SIZE);

    /* The magic, version, byte-order mark and this checksum keep their
     * places in every format version, so a damaged header is told from a
     * newer one. The checksum is stored in the writer's byte order. */
    uint64_t sum = XXH3_64bits(m, H_SUM), stored = get64(m + H_SUM);
    if (stored != sum && __builtin_bswap64(stored) != sum) {
        if (memcmp(m + H_EOL, eol_check, sizeof eol_check) != 0)
            return BAD("%s: not a tcat model file (bad magic: were its line endings "
                       "rewritten by a text-mode copy?)",
                       path);
        return BAD("%s: header is corrupted (checksum mismatch)", path);
    }
    uint32_t bom = get32(m + H_BOM);
    if (bom == __builtin_bswap32(BYTE_ORDER_MARK))
        return BAD("%s: written on a machine of the other byte order; this tcat reads "
                   "%s-endian models only",
                   path, __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? "little" : "big");
    if (bom != BYTE_ORDER_MARK || stored != sum)
        return BAD("%s: not a tcat model file (bad byte-order mark)", path);

    uint32_t v = get32(m + H_VERSION);
    if (v > TCAT_MODEL_FORMAT_VERSION)
        return BAD("%s: model format version %u is newer than this tcat reads (version %u): "
                   "upgrade tcat to load it",
                   path, v, TCAT_MODEL_FORMAT_VERSION);
    if (v == 0)
        return BAD("%s: header is corrupted (format version 0)", path);
    if (m[H_FLOAT] != sizeof(float) || m[H_U64] != sizeof(uint64_t))
        return BAD("%s: written for %u-byte floats and %u-byte integers; this tcat has %zu and "
                   "%zu",
                   path, m[H_FLOAT], m[H_U64], sizeof(float), sizeof(uint64_t));
    if (memcmp(m + H_EOL, eol_check, sizeof eol_check) != 0)
        return BAD("%s: header is corrupted (bad line-ending check bytes)", path);

    /* The header is what the writer wrote; now the file around it. */
    uint64_t declared = get64(m + H_FILE_SIZE);
    if ((uint64_t)size < declared)
        return BAD("%s: truncated (%zu bytes, expected %llu)", path, size,
                   (unsigned long long)declared);
    if ((uint64_t)size > declared)
        return BAD("%s: %llu trailing bytes after the model (%zu bytes, expected %llu)", path,
                   (unsigned long long)(size - declared), size, (unsigned long long)declared);
    if (m[H_RESERVED] || m[H_RESERVED + 1])
        return BAD("%s: header is corrupted (reserved field not zero)", path);

    uint32_t n = get32(m + H_COUNT);
    uint64_t toff = get64(m + H_TABLE_OFF);
    if (n > TCAT_MODEL_MAX_SECTIONS)
        return BAD("%s: header is corrupted (%u sections, at most %u)", path, n,
                   TCAT_MODEL_MAX_SECTIONS);
    uint64_t tsize = (uint64_t)n * ENTRY_SIZE;
    if (toff < HEADER_SIZE || toff % TCAT_MODEL_ALIGN != 0 || toff > size ||
        size - toff != tsize)
        return BAD("%s: header is corrupted (section table at %llu, %u entries, file of %zu "
                   "bytes)",
                   path, (unsigned long long)toff, n, size);
    if (get64(m + H_TABLE_SUM) != XXH3_64bits(m + toff, (size_t)tsize))
        return BAD("%s: section table is corrupted (checksum mismatch)", path);
    *version = v;
    *count = n;
    *table_off = toff;
    return TCAT_OK;
}

/* Checks the table entries and the data they point to, filling r->secs.
 * The layout is canonical: sections follow each other in table order, each
 * at the first aligned offset after the one before, with zero bytes
 * between and the table right after the last; so no byte of the file is
 * unchecked. */
static tcat_status check_sections(tcat_mreader *r, uint64_t toff, const char *path,
                                  tcat_error *err)
{
    tcat_status st = TCAT_OK;
    const unsigned char *m = r->map;
    uint64_t at = HEADER_SIZE; /* where the next section must start */
    for (size_t i = 0; i < r->n; i++) {
        const unsigned char *e = m + toff + i * ENTRY_SIZE;
        const char *name = (const char *)e + E_NAME;
        size_t nl = name_len(name, NAME_FIELD);
        if (nl == 0 || memcmp(e + E_NAME + nl, zeros, NAME_FIELD - nl) != 0)
            return BAD("%s: section %zu has a bad name", path, i);
        uint64_t off = get64(e + E_OFFSET), sz = get64(e + E_SIZE);
        if (get64(e + E_RESERVED) != 0)
            return BAD("%s: section '%s' is corrupted (reserved field not zero)", path, name);
        if (off != at)
            return BAD("%s: section '%s' is misplaced (at %llu, expected %llu)", path, name,
                       (unsigned long long)off, (unsigned long long)at);
        if (sz > toff - off)
            return BAD("%s: section '%s' is out of bounds (%llu bytes at %llu, table at %llu)",
                       path, name, (unsigned long long)sz, (unsigned long long)off,
                       (unsigned long long)toff);
        if (XXH3_64bits(m + off, (size_t)sz) != get64(e + E_SUM))
            return BAD("%s: section '%s' is corrupted (checksum mismatch)", path, name);
        uint64_t end = off + sz, next = align_up(end);
        if (next > toff)
            return BAD("%s: section '%s' overlaps the section table", path, name);
        if (memcmp(m + end, zeros, (size_t)(next - end)) != 0)
            return BAD("%s: padding after section '%s' is corrupted (not zero)", path, name);
        r->secs[i] = (section){name, m + off, (size_t)sz};
        at = next;
    }
    if (at != toff)
        return BAD("%s: %llu unaccounted bytes before the section table", path,
                   (unsigned long long)(toff - at));
    if (r->n == 0)
        return st;
    for (size_t i = 0; i < r->n; i++)
        r->byname[i] = &r->secs[i];
    qsort(r->byname, r->n, sizeof *r->byname, by_name);
    for (size_t i = 1; i < r->n; i++)
        if (strcmp(r->byname[i - 1]->name, r->byname[i]->name) == 0)
            return BAD("%s: section '%s' appears twice", path, r->byname[i]->name);
    return st;
}

tcat_status tcat_mreader_open(tcat_mreader **out, const char *path, tcat_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return tcat_fail(err, TCAT_ERR_IO, "cannot open '%s': %s", path, strerror(e));
    }
    struct stat st_;
    if (fstat(fd, &st_) != 0) {
        int e = errno;
        close(fd);
        return tcat_fail(err, TCAT_ERR_IO, "cannot read '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st_.st_mode)) {
        close(fd);
        return tcat_fail(err, TCAT_ERR_IO, "cannot read '%s': %s", path,
                         S_ISDIR(st_.st_mode) ? strerror(EISDIR) : "not a regular file");
    }
    if (st_.st_size == 0) {
        close(fd);
        return tcat_fail(err, TCAT_ERR_MODEL, "%s: empty file, not a tcat model", path);
    }
    if ((uint64_t)st_.st_size > SIZE_MAX) {
        close(fd);
        return tcat_fail(err, TCAT_ERR_MODEL, "%s: too large for this machine", path);
    }
    size_t size = (size_t)st_.st_size;
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return tcat_fail(err, TCAT_ERR_IO, "cannot map '%s': %s", path, strerror(e));

    tcat_mreader *r = calloc(1, sizeof *r);
    if (!r) {
        munmap(map, size);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    r->map = map;
    r->size = size;
    uint32_t count = 0;
    uint64_t toff = 0;
    tcat_status st = check_header(r->map, size, path, &r->version, &count, &toff, err);
    if (st != TCAT_OK)
        goto fail;
    r->n = count;
    if (count > 0) {
        r->secs = calloc(count, sizeof *r->secs);
        r->byname = calloc(count, sizeof *r->byname);
        if (!r->secs || !r->byname) {
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    if ((st = check_sections(r, toff, path, err)) != TCAT_OK)
        goto fail;
    *out = r;
    return TCAT_OK;
fail:
    tcat_mreader_close(&r);
    return st;
}

bool tcat_mreader_find(const tcat_mreader *r, const char *name, const void **data,
                       size_t *size)
{
    if (!name || r->n == 0)
        return false;
    section *const *p = bsearch(name, r->byname, r->n, sizeof *r->byname, find_name);
    if (!p)
        return false;
    if (data)
        *data = (*p)->data;
    if (size)
        *size = (*p)->size;
    return true;
}

size_t tcat_mreader_count(const tcat_mreader *r) { return r->n; }

const char *tcat_mreader_section(const tcat_mreader *r, size_t i, const void **data,
                                 size_t *size)
{
    const section *s = i < r->n ? &r->secs[i] : NULL;
    if (data)
        *data = s ? s->data : NULL;
    if (size)
        *size = s ? s->size : 0;
    return s ? s->name : NULL;
}

uint32_t tcat_mreader_version(const tcat_mreader *r) { return r->version; }

uint64_t tcat_mreader_file_size(const tcat_mreader *r) { return r->size; }

void tcat_mreader_close(tcat_mreader **rp)
{
    if (!rp || !*rp)
        return;
    tcat_mreader *r = *rp;
    if (r->map)
        munmap((void *)r->map, r->size);
    free(r->secs);
    free(r->byname);
    free(r);
    *rp = NULL;
}
