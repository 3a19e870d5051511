/* tests/check_modelfile.c — the model container: round trips, atomic
 * replacement, and refusal of every truncated, corrupted or foreign file. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "model/modelfile.h"
#include "tests/suites.h"
#include "tests/testutil.h"

/* Offsets of the layout (docs/model-format.md), for the tests that patch
 * a file by hand. */
enum { H_VERSION = 8, H_BOM = 12, H_COUNT = 20, H_TABLE_OFF = 24, H_TABLE_SUM = 40,
       H_SUM = 56, E_OFFSET = 32, E_SIZE = 40 };

/* ---- scratch directory ------------------------------------------------- */

static char g_dir[64];

static void scratch_setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/tcat-modelfile-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
}

static void scratch_teardown(void)
{
    DIR *d = opendir(g_dir);
    if (!d)
        return;
    struct dirent *e;
    char p[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
        if (remove(p) != 0)
            rmdir(p);
    }
    closedir(d);
    rmdir(g_dir);
}

/* g_dir/name in p (PATH_MAX bytes). */
static char *at(char *p, const char *name)
{
    snprintf(p, PATH_MAX, "%s/%s", g_dir, name);
    return p;
}

/* Files in the scratch directory whose names hold ".tmp.". */
static int temp_files(void)
{
    DIR *d = opendir(g_dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* Overwrites one byte of a file in place. */
static void poke(const char *path, size_t off, unsigned char v)
{
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, &v, 1, (off_t)off), 1);
    close(fd);
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void wr64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }

/* Recomputes the table and header checksums of a model image, so a test
 * can plant a fault that only the structural checks can find. */
static void rechecksum(unsigned char *b, size_t n)
{
    uint64_t toff = rd64(b + H_TABLE_OFF);
    if (toff <= n)
        wr64(b + H_TABLE_SUM, XXH3_64bits(b + toff, n - toff));
    wr64(b + H_SUM, XXH3_64bits(b, H_SUM));
}

/* ---- a model to play with ---------------------------------------------- */

typedef struct sec {
    const char *name;
    unsigned char *data;
    size_t size;
} sec;

enum { NSEC = 7 };

/* Sections of every kind: text, empty, odd sizes, floats (nfloats of
 * them), one byte, and another empty one last. */
static void make_sections(sec *s, size_t nfloats)
{
    static const char *names[NSEC] = {"meta", "empty", "vocab", "linear.0.weights", "x",
                                      "labels", "z-last_empty"};
    static const size_t sizes[NSEC] = {12, 0, 1000, 0, 1, 3, 0};
    uint64_t rng = 42;
    for (int i = 0; i < NSEC; i++) {
        s[i].name = names[i];
        s[i].size = i == 3 ? nfloats * sizeof(float) : sizes[i];
        s[i].data = malloc(s[i].size ? s[i].size : 1);
        ck_assert_ptr_nonnull(s[i].data);
        for (size_t k = 0; k < s[i].size; k++)
            s[i].data[k] = (unsigned char)rng_next(&rng);
    }
    memcpy(s[0].data, "format=test\n", 12);
    float *w = (float *)s[3].data;
    for (size_t k = 0; k < nfloats; k++)
        w[k] = (float)k * 0.25f - 3.0f;
}

static void free_sections(sec *s)
{
    for (int i = 0; i < NSEC; i++)
        free(s[i].data);
}

static void write_model(const char *path, const sec *s, size_t n)
{
    tcat_error err = {0};
    tcat_mwriter *w = NULL;
    ck_assert_msg(tcat_mwriter_open(&w, path, &err) == TCAT_OK, "%s", err.msg);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(tcat_mwriter_add(w, s[i].name, s[i].data, s[i].size, &err) == TCAT_OK,
                      "%s", err.msg);
    ck_assert_msg(tcat_mwriter_commit(&w, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_ptr_null(w);
}

/* Opens path and checks it holds exactly the sections s[0..n). */
static void check_model(const char *path, const sec *s, size_t n)
{
    tcat_error err = {0};
    tcat_mreader *r = NULL;
    ck_assert_msg(tcat_mreader_open(&r, path, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_uint_eq(tcat_mreader_count(r), n);
    ck_assert_uint_eq(tcat_mreader_version(r), TCAT_MODEL_FORMAT_VERSION);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(tcat_mreader_file_size(r), (uint64_t)st.st_size);
    for (size_t i = 0; i < n; i++) {
        const void *d = NULL;
        size_t sz = 99;
        ck_assert_msg(tcat_mreader_find(r, s[i].name, &d, &sz), "no section %s", s[i].name);
        ck_assert_uint_eq(sz, s[i].size);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq((uintptr_t)d % TCAT_MODEL_ALIGN, 0);
        ck_assert_int_eq(memcmp(d, s[i].data, sz), 0);
        const void *d2;
        size_t sz2;
        const char *name = tcat_mreader_section(r, i, &d2, &sz2);
        ck_assert_ptr_nonnull(name);
        ck_assert_str_eq(name, s[i].name);
        ck_assert_ptr_eq(d2, d);
        ck_assert_uint_eq(sz2, sz);
    }
    const void *d = (const void *)1;
    size_t sz = 7;
    ck_assert(!tcat_mreader_find(r, "no-such-section", &d, &sz));
    ck_assert(!tcat_mreader_find(r, "", &d, &sz));
    ck_assert_ptr_eq(d, (const void *)1);
    ck_assert_uint_eq(sz, 7);
    ck_assert_ptr_null(tcat_mreader_section(r, n, &d, &sz));
    ck_assert_ptr_null(d);
    ck_assert_uint_eq(sz, 0);
    tcat_mreader_close(&r);
    ck_assert_ptr_null(r);
}

/* Expects opening path to fail with status want and a message starting
 * with the path and holding one of the given phrases (NULL-terminated). */
static void expect_refused_(const char *path, tcat_status want, const char *const *phrases)
{
    tcat_error err = {0};
    tcat_mreader *r = NULL;
    tcat_status st = tcat_mreader_open(&r, path, &err);
    ck_assert_msg(st == want, "%s: status %d (want %d): %s", path, (int)st, (int)want,
                  err.msg);
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(err.msg, path) != NULL, "message does not name the file: %s",
                  err.msg);
    ck_assert_ptr_null(strchr(err.msg, '\n'));
    bool found = phrases[0] == NULL;
    for (size_t i = 0; phrases[i]; i++)
        found = found || strstr(err.msg, phrases[i]) != NULL;
    ck_assert_msg(found, "unexpected message: %s", err.msg);
}

#define expect_refused(path, want, ...) \
    expect_refused_(path, want, (const char *const[]){__VA_ARGS__, NULL})

/* ---- round trips ------------------------------------------------------- */

START_TEST(test_round_trip)
{
    sec s[NSEC];
    make_sections(s, 262144); /* 1 MB of floats */
    char p[PATH_MAX];
    write_model(at(p, "model.tcat"), s, NSEC);
    check_model(p, s, NSEC);
    const void *d;
    size_t sz;
    tcat_mreader *r = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_mreader_open(&r, p, &err), TCAT_OK);
    ck_assert(tcat_mreader_find(r, "linear.0.weights", &d, &sz));
    ck_assert_uint_eq(sz, 262144 * sizeof(float));
    ck_assert(((const float *)d)[1000] == 1000 * 0.25f - 3.0f);
    ck_assert(tcat_mreader_find(r, "x", NULL, NULL));
    ck_assert(!tcat_mreader_find(r, "X", NULL, NULL));
    tcat_mreader_close(&r);
    tcat_mreader_close(&r); /* NULL-safe */
    tcat_mreader_close(NULL);
    ck_assert_int_eq(temp_files(), 0);
    free_sections(s);
}
END_TEST

START_TEST(test_no_sections)
{
    char p[PATH_MAX];
    write_model(at(p, "empty.tcat"), NULL, 0);
    check_model(p, NULL, 0);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(st.st_size, 64);
}
END_TEST

START_TEST(test_many_sections)
{
    /* Many small sections in shuffled name order: find must still work. */
    tcat_error err = {0};
    tcat_mwriter *w = NULL;
    char p[PATH_MAX];
    ck_assert_int_eq(tcat_mwriter_open(&w, at(p, "many.tcat"), &err), TCAT_OK);
    enum { N = 500 };
    for (unsigned i = 0; i < N; i++) {
        char name[32];
        unsigned k = (i * 7919u) % N;
        snprintf(name, sizeof name, "s%u", k);
        ck_assert_int_eq(tcat_mwriter_add(w, name, &k, k % 3 ? sizeof k : 0, &err), TCAT_OK);
    }
    ck_assert_int_eq(tcat_mwriter_commit(&w, &err), TCAT_OK);
    tcat_mreader *r = NULL;
    ck_assert_msg(tcat_mreader_open(&r, p, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_uint_eq(tcat_mreader_count(r), N);
    for (unsigned k = 0; k < N; k++) {
        char name[32];
        snprintf(name, sizeof name, "s%u", k);
        const void *d;
        size_t sz;
        ck_assert(tcat_mreader_find(r, name, &d, &sz));
        ck_assert_uint_eq(sz, k % 3 ? sizeof k : 0);
        ck_assert_uint_eq((uintptr_t)d % 64, 0);
        if (sz)
            ck_assert_uint_eq(*(const unsigned *)d, k);
    }
    tcat_mreader_close(&r);
}
END_TEST

START_TEST(test_deterministic)
{
    sec s[NSEC];
    make_sections(s, 100);
    char a[PATH_MAX], b[PATH_MAX];
    write_model(at(a, "a.tcat"), s, NSEC);
    write_model(at(b, "b.tcat"), s, NSEC);
    size_t na, nb;
    unsigned char *ba = slurp(a, &na), *bb = slurp(b, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_int_eq(memcmp(ba, bb, na), 0);
    ck_assert_uint_eq(na % 64, 0);
    free(ba);
    free(bb);
    free_sections(s);
}
END_TEST

START_TEST(test_bad_names)
{
    tcat_error err = {0};
    tcat_mwriter *w = NULL;
    char p[PATH_MAX];
    ck_assert_int_eq(tcat_mwriter_open(&w, at(p, "names.tcat"), &err), TCAT_OK);
    static const char *bad[] = {"", "a b", "a/b", "caf\xc3\xa9", "tab\t", "new\nline",
                                "0123456789012345678901234567890x" /* 32 */};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.msg[0] = '\0';
        ck_assert_msg(tcat_mwriter_add(w, bad[i], "x", 1, &err) == TCAT_ERR_USAGE,
                      "accepted '%s'", bad[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "name"));
        ck_assert_ptr_null(strchr(err.msg, '\n'));
    }
    ck_assert_ptr_nonnull(strstr(err.msg, "'0123456789012345678901234567890x'"));
    ck_assert_int_eq(tcat_mwriter_add(w, NULL, "x", 1, &err), TCAT_ERR_USAGE);
    const char *long_ok = "012345678901234567890123456789X"; /* 31 */
    ck_assert_int_eq(tcat_mwriter_add(w, long_ok, "x", 1, &err), TCAT_OK);
    ck_assert_int_eq(tcat_mwriter_add(w, "A-z_0.9", "yy", 2, &err), TCAT_OK);
    ck_assert_int_eq(tcat_mwriter_add(w, "A-z_0.9", "zz", 2, &err), TCAT_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "twice"));
    ck_assert_int_eq(tcat_mwriter_add(w, long_ok, NULL, 0, &err), TCAT_ERR_USAGE);
    ck_assert_int_eq(tcat_mwriter_add(w, "nodata", NULL, 5, &err), TCAT_ERR_USAGE);
    /* Refusals leave the writer usable. */
    ck_assert_int_eq(tcat_mwriter_add(w, "last", NULL, 0, &err), TCAT_OK);
    ck_assert_msg(tcat_mwriter_commit(&w, &err) == TCAT_OK, "%s", err.msg);
    sec s[3] = {{long_ok, (unsigned char *)"x", 1},
                {"A-z_0.9", (unsigned char *)"yy", 2},
                {"last", (unsigned char *)"", 0}};
    check_model(p, s, 3);
}
END_TEST

/* ---- atomic replacement ------------------------------------------------ */

START_TEST(test_replaced_only_at_commit)
{
    sec s[NSEC];
    make_sections(s, 1000);
    char p[PATH_MAX];
    write_model(at(p, "model.tcat"), s, NSEC);

    tcat_error err = {0};
    tcat_mwriter *w = NULL;
    ck_assert_int_eq(tcat_mwriter_open(&w, p, &err), TCAT_OK);
    ck_assert_int_eq(temp_files(), 1);
    ck_assert_int_eq(tcat_mwriter_add(w, "other", "abc", 3, &err), TCAT_OK);
    check_model(p, s, NSEC); /* still the first model */
    tcat_mwriter_abort(&w);
    ck_assert_ptr_null(w);
    tcat_mwriter_abort(&w);
    ck_assert_int_eq(tcat_mwriter_commit(&w, &err), TCAT_ERR_USAGE);
    tcat_mwriter_abort(NULL);
    check_model(p, s, NSEC);
    ck_assert_int_eq(temp_files(), 0);

    /* A writer that commits does replace it. */
    ck_assert_int_eq(tcat_mwriter_open(&w, p, &err), TCAT_OK);
    ck_assert_int_eq(tcat_mwriter_add(w, "other", "abc", 3, &err), TCAT_OK);
    check_model(p, s, NSEC);
    ck_assert_int_eq(tcat_mwriter_commit(&w, &err), TCAT_OK);
    sec t[1] = {{"other", (unsigned char *)"abc", 3}};
    check_model(p, t, 1);
    ck_assert_int_eq(temp_files(), 0);
    free_sections(s);
}
END_TEST

START_TEST(test_commit_failure_cleans_up)
{
    /* The target is a directory: rename fails, the temp file goes. */
    char p[PATH_MAX];
    ck_assert_int_eq(mkdir(at(p, "adir"), 0755), 0);
    tcat_error err = {0};
    tcat_mwriter *w = NULL;
    ck_assert_int_eq(tcat_mwriter_open(&w, p, &err), TCAT_OK);
    ck_assert_int_eq(tcat_mwriter_add(w, "a", "abc", 3, &err), TCAT_OK);
    ck_assert_int_eq(tcat_mwriter_commit(&w, &err), TCAT_ERR_IO);
    ck_assert_ptr_null(w);
    ck_assert_ptr_nonnull(strstr(err.msg, p));
    ck_assert_int_eq(temp_files(), 0);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    /* Reading a directory is an I/O error, not a crash. */
    expect_refused(p, TCAT_ERR_IO, "directory");
}
END_TEST

START_TEST(test_open_failures)
{
    char p[PATH_MAX];
    tcat_error err = {0};
    tcat_mwriter *w = (tcat_mwriter *)1;
    ck_assert_int_eq(tcat_mwriter_open(&w, at(p, "no/such/dir/model.tcat"), &err),
                     TCAT_ERR_IO);
    ck_assert_ptr_null(w);
    ck_assert_ptr_nonnull(strstr(err.msg, p));
    ck_assert_int_eq(tcat_mwriter_open(&w, "", &err), TCAT_ERR_USAGE);
    expect_refused(at(p, "missing.tcat"), TCAT_ERR_IO, "No such file");
}
END_TEST

START_TEST(test_disk_full)
{
    /* A file size limit makes write fail with EFBIG, as a full disk makes
     * it fail with ENOSPC: the old model must survive, no temp file stay. */
    sec s[NSEC];
    make_sections(s, 100);
    char p[PATH_MAX];
    write_model(at(p, "model.tcat"), s, NSEC);
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);

    tcat_error err = {0};
    tcat_mwriter *w = NULL;
    ck_assert_int_eq(tcat_mwriter_open(&w, p, &err), TCAT_OK);
    ck_assert_int_eq(tcat_mwriter_add(w, "small", "abc", 3, &err), TCAT_OK);
    size_t big = 1 << 20;
    unsigned char *data = calloc(1, big);
    tcat_status st = tcat_mwriter_add(w, "big", data, big, &err);
    tcat_status st2 = tcat_mwriter_add(w, "more", "abc", 3, &err);
    tcat_status st3 = tcat_mwriter_commit(&w, &err);

    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, oldsig);
    free(data);
    ck_assert_int_eq(st, TCAT_ERR_IO);
    ck_assert_int_eq(st2, TCAT_ERR_IO);
    ck_assert_int_eq(st3, TCAT_ERR_IO);
    ck_assert_ptr_null(w);
    ck_assert_msg(strstr(err.msg, strerror(EFBIG)) != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, p) != NULL, "%s", err.msg);
    check_model(p, s, NSEC);
    ck_assert_int_eq(temp_files(), 0);
    free_sections(s);
}
END_TEST

START_TEST(test_permissions)
{
    mode_t oldmask = umask(027);
    sec s[NSEC];
    make_sections(s, 10);
    char p[PATH_MAX];
    write_model(at(p, "model.tcat"), s, NSEC);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0640);
    ck_assert_int_eq(chmod(p, 0604), 0);
    write_model(p, s, NSEC);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0604); /* a replacement keeps the mode */
    umask(oldmask);
    free_sections(s);
}
END_TEST

/* ---- refusing bad files ------------------------------------------------ */

/* Every offset where a section's data, its padding, the table or one of
 * its entries begins or ends. */
static size_t boundaries(const unsigned char *b, size_t n, size_t *out, size_t max)
{
    size_t k = 0;
    uint64_t toff = rd64(b + H_TABLE_OFF);
    uint32_t count;
    memcpy(&count, b + H_COUNT, 4);
    ck_assert_uint_eq(toff + 64ull * count, n);
    for (uint32_t i = 0; i < count; i++) {
        const unsigned char *e = b + toff + 64ull * i;
        uint64_t off = rd64(e + E_OFFSET), sz = rd64(e + E_SIZE);
        ck_assert_uint_eq(off % 64, 0);
        ck_assert_uint_lt(k + 3, max);
        out[k++] = off;
        out[k++] = off + sz;
        out[k++] = toff + 64ull * i;
    }
    ck_assert_uint_lt(k + 1, max);
    out[k++] = toff;
    return k;
}

static void check_truncations(size_t nfloats)
{
    sec s[NSEC];
    make_sections(s, nfloats);
    char p[PATH_MAX], q[PATH_MAX];
    write_model(at(p, "model.tcat"), s, NSEC);
    size_t n;
    unsigned char *b = slurp(p, &n);
    size_t cuts[64];
    size_t k = boundaries(b, n, cuts, 64 - 6);
    size_t extra[] = {0, 1, 7, 8, 63, 64, n - 1};
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
        cuts[k++] = extra[i];
    for (size_t i = 0; i < k; i++) {
        if (cuts[i] >= n)
            continue;
        spit(at(q, "cut.tcat"), b, cuts[i]);
        expect_refused(q, TCAT_ERR_MODEL, "truncated", "empty");
    }
    /* A longer file is refused too. */
    unsigned char *longer = malloc(n + 64);
    memcpy(longer, b, n);
    memset(longer + n, 0, 64);
    spit(q, longer, n + 1);
    expect_refused(q, TCAT_ERR_MODEL, "trailing bytes");
    spit(q, longer, n + 64);
    expect_refused(q, TCAT_ERR_MODEL, "trailing bytes");
    free(longer);
    free(b);
    free_sections(s);
}

START_TEST(test_truncated_small) { check_truncations(50); }
END_TEST

START_TEST(test_truncated_large) { check_truncations(262144); }
END_TEST

/* Flips byte i of the model at q (a copy of b) with each mask and expects
 * a refusal every time. */
static void flip_and_check(const char *q, const unsigned char *b, size_t i)
{
    static const unsigned char masks[] = {0x01, 0x80, 0xff};
    for (size_t m = 0; m < sizeof masks; m++) {
        poke(q, i, b[i] ^ masks[m]);
        tcat_error err = {0};
        tcat_mreader *r = NULL;
        tcat_status st = tcat_mreader_open(&r, q, &err);
        ck_assert_msg(st == TCAT_ERR_MODEL, "byte %zu ^ 0x%02x accepted (status %d: %s)", i,
                      masks[m], (int)st, err.msg);
        ck_assert_ptr_nonnull(strstr(err.msg, q));
        poke(q, i, b[i]);
    }
}

START_TEST(test_every_byte_flip_small)
{
    sec s[NSEC];
    make_sections(s, 50);
    char p[PATH_MAX], q[PATH_MAX];
    write_model(at(p, "model.tcat"), s, NSEC);
    size_t n;
    unsigned char *b = slurp(p, &n);
    spit(at(q, "flip.tcat"), b, n);
    for (size_t i = 0; i < n; i++)
        flip_and_check(q, b, i);
    check_model(q, s, NSEC); /* every flip was undone */
    free(b);
    free_sections(s);
}
END_TEST

START_TEST(test_byte_flip_large)
{
    sec s[NSEC];
    make_sections(s, 262144);
    char p[PATH_MAX], q[PATH_MAX];
    write_model(at(p, "model.tcat"), s, NSEC);
    size_t n;
    unsigned char *b = slurp(p, &n);
    spit(at(q, "flip.tcat"), b, n);
    /* The header, the table, around every boundary, then random bytes. */
    for (size_t i = 0; i < 64; i++)
        flip_and_check(q, b, i);
    size_t cuts[64];
    size_t k = boundaries(b, n, cuts, 64);
    for (size_t c = 0; c < k; c++)
        for (size_t i = cuts[c] >= 8 ? cuts[c] - 8 : 0; i < cuts[c] + 8 && i < n; i++)
            flip_and_check(q, b, i);
    for (size_t i = rd64(b + H_TABLE_OFF); i < n; i++)
        flip_and_check(q, b, i);
    uint64_t rng = 7;
    for (int t = 0; t < 300; t++)
        flip_and_check(q, b, rng_below(&rng, n));
    free(b);
    free_sections(s);
}
END_TEST

START_TEST(test_random_damage)
{
    /* Several random bytes changed at once, or random cuts of a changed
     * file: always refused, never a crash. */
    sec s[NSEC];
    make_sections(s, 50);
    char p[PATH_MAX], q[PATH_MAX];
    write_model(at(p, "model.tcat"), s, NSEC);
    size_t n;
    unsigned char *b = slurp(p, &n);
    unsigned char *c = malloc(n);
    uint64_t rng = 1234;
    for (int t = 0; t < 1000; t++) {
        memcpy(c, b, n);
        size_t changes = 1 + rng_below(&rng, 8);
        for (size_t j = 0; j < changes; j++)
            c[rng_below(&rng, n)] ^= (unsigned char)(1 + rng_below(&rng, 255));
        size_t len = t % 3 == 0 ? rng_below(&rng, n) : n;
        spit(at(q, "damaged.tcat"), c, len);
        tcat_error err = {0};
        tcat_mreader *r = NULL;
        ck_assert_int_eq(tcat_mreader_open(&r, q, &err), TCAT_ERR_MODEL);
    }
    /* Random bytes behind a valid magic. */
    for (int t = 0; t < 300; t++) {
        size_t len = 8 + rng_below(&rng, n - 8);
        for (size_t j = 0; j < len; j++)
            c[j] = (unsigned char)rng_next(&rng);
        memcpy(c, "TCATMODL", 8);
        spit(q, c, len);
        tcat_error err = {0};
        tcat_mreader *r = NULL;
        ck_assert_int_eq(tcat_mreader_open(&r, q, &err), TCAT_ERR_MODEL);
    }
    free(c);
    free(b);
    free_sections(s);
}
END_TEST

START_TEST(test_foreign_files)
{
    char q[PATH_MAX];
    const char *text = "label1 this is a training file\nlabel2 not a model\n";
    spit(at(q, "text.txt"), text, strlen(text));
    expect_refused(q, TCAT_ERR_MODEL, "not a tcat model file");

    unsigned char elf[128] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
    spit(q, elf, sizeof elf);
    expect_refused(q, TCAT_ERR_MODEL, "not a tcat model file");

    unsigned char *z = calloc(1, 4096);
    spit(q, z, 4096);
    expect_refused(q, TCAT_ERR_MODEL, "not a tcat model file");
    spit(q, z, 3);
    expect_refused(q, TCAT_ERR_MODEL, "not a tcat model file");
    free(z);

    spit(q, "", 0);
    expect_refused(q, TCAT_ERR_MODEL, "empty file, not a tcat model");
    spit(q, "TCATMOD", 7);
    expect_refused(q, TCAT_ERR_MODEL, "truncated");
}
END_TEST

/* Rewrites line endings: LF -> CR LF (to_crlf) or CR LF -> LF. */
static unsigned char *rewrite_eol(const unsigned char *b, size_t n, bool to_crlf, size_t *m)
{
    unsigned char *o = malloc(2 * n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (to_crlf && b[i] == '\n' && (i == 0 || b[i - 1] != '\r'))
            o[k++] = '\r';
        if (!to_crlf && b[i] == '\r' && i + 1 < n && b[i + 1] == '\n')
            continue;
        o[k++] = b[i];
    }
    *m = k;
    return o;
}

START_TEST(test_line_endings_rewritten)
{
    sec s[NSEC];
    make_sections(s, 50);
    char p[PATH_MAX], q[PATH_MAX];
    write_model(at(p, "model.tcat"), s, NSEC);
    size_t n, m;
    unsigned char *b = slurp(p, &n);
    for (int dir = 0; dir < 2; dir++) {
        unsigned char *o = rewrite_eol(b, n, dir == 0, &m);
        ck_assert_uint_ne(m, n);
        spit(at(q, "eol.tcat"), o, m);
        expect_refused(q, TCAT_ERR_MODEL, "bad magic");
        free(o);
    }
    free(b);
    free_sections(s);
}
END_TEST

START_TEST(test_newer_version)
{
    sec s[NSEC];
    make_sections(s, 50);
    char p[PATH_MAX];
    write_model(at(p, "model.tcat"), s, NSEC);
    size_t n;
    unsigned char *b = slurp(p, &n);
    uint32_t v = 2;
    memcpy(b + H_VERSION, &v, 4);
    rechecksum(b, n);
    spit(p, b, n);
    expect_refused(p, TCAT_ERR_MODEL, "version 2");
    tcat_error err = {0};
    tcat_mreader *r = NULL;
    ck_assert_int_eq(tcat_mreader_open(&r, p, &err), TCAT_ERR_MODEL);
    ck_assert_msg(strstr(err.msg, "version 1") && strstr(err.msg, "upgrade tcat"), "%s",
                  err.msg);
    free(b);
    free_sections(s);
}
END_TEST

START_TEST(test_other_byte_order)
{
    sec s[NSEC];
    make_sections(s, 50);
    char p[PATH_MAX];
    write_model(at(p, "model.tcat"), s, NSEC);
    size_t n;
    unsigned char *b = slurp(p, &n);
    uint32_t bom = __builtin_bswap32(0x01020304u);
    memcpy(b + H_BOM, &bom, 4);
    rechecksum(b, n);
    spit(p, b, n);
    expect_refused(p, TCAT_ERR_MODEL, "byte order");
    free(b);
    free_sections(s);
}
END_TEST

/* Patches that keep every checksum valid, so only the structural checks
 * stand between them and a crash. */
START_TEST(test_crafted_tables)
{
    sec s[NSEC];
    make_sections(s, 50);
    char p[PATH_MAX], q[PATH_MAX];
    write_model(at(p, "model.tcat"), s, NSEC);
    size_t n;
    unsigned char *b = slurp(p, &n);
    unsigned char *c = malloc(n);
    uint64_t toff = rd64(b + H_TABLE_OFF);
    unsigned char *e2 = c + toff + 2 * 64; /* "vocab" */
    at(q, "crafted.tcat");

#define CRAFT(patch, ...)                                    \
    do {                                                     \
        memcpy(c, b, n);                                     \
        patch;                                               \
        rechecksum(c, n);                                    \
        spit(q, c, n);                                       \
        expect_refused(q, TCAT_ERR_MODEL, __VA_ARGS__);      \
    } while (0)

    CRAFT(wr64(e2 + E_OFFSET, UINT64_MAX - 10), "vocab");
    CRAFT(wr64(e2 + E_SIZE, UINT64_MAX - 10), "vocab");
    CRAFT(wr64(e2 + E_SIZE, n), "vocab");
    CRAFT(wr64(e2 + E_OFFSET, rd64(e2 + E_OFFSET) + 64), "vocab");
    CRAFT(wr64(e2 + E_OFFSET, rd64(e2 + E_OFFSET) + 1), "vocab");
    CRAFT(wr64(e2 + E_SIZE, rd64(e2 + E_SIZE) + 1), "vocab");
    CRAFT(e2[56] = 1, "vocab");
    CRAFT(memcpy(e2, "meta", 5), "twice");
    CRAFT(e2[0] = '/', "bad name");
    CRAFT(e2[6] = 'x', "bad name"); /* a byte after the NUL */
    CRAFT(memset(e2, 'a', 32), "bad name");
    CRAFT(memset(e2, 0, 32), "bad name");
    CRAFT((wr64(c + H_TABLE_OFF, UINT64_MAX - 63)), "corrupted");
    CRAFT((wr64(c + H_TABLE_OFF, 0)), "corrupted");
    CRAFT((wr64(c + H_TABLE_OFF, toff - 64)), "corrupted");
    uint32_t big = 100000, one = 1;
    CRAFT(memcpy(c + H_COUNT, &big, 4), "corrupted");
    CRAFT(memcpy(c + H_COUNT, &one, 4), "corrupted");
    CRAFT(c[18] = 1, "reserved");
    CRAFT(c[16] = 8, "8-byte floats");
    uint32_t zero = 0;
    CRAFT(memcpy(c + H_VERSION, &zero, 4), "version 0");
#undef CRAFT
    free(c);
    free(b);
    free_sections(s);
}
END_TEST

Suite *modelfile_suite(void)
{
    Suite *s = suite_create("modelfile");
    TCase *tc = tcase_new(s, "write and read");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_no_sections);
    tcase_add_test(tc, test_many_sections);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_bad_names);
    tcase_add_test(tc, test_permissions);

    tc = tcase_new(s, "atomic replacement");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_replaced_only_at_commit);
    tcase_add_test(tc, test_commit_failure_cleans_up);
    tcase_add_test(tc, test_open_failures);
    tcase_add_test(tc, test_disk_full);

    tc = tcase_new(s, "refusing bad files");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_truncated_small);
    tcase_add_test(tc, test_truncated_large);
    tcase_add_test(tc, test_every_byte_flip_small);
    tcase_add_test(tc, test_byte_flip_large);
    tcase_add_test(tc, test_random_damage);
    tcase_add_test(tc, test_foreign_files);
    tcase_add_test(tc, test_line_endings_rewritten);
    tcase_add_test(tc, test_newer_version);
    tcase_add_test(tc, test_other_byte_order);
    tcase_add_test(tc, test_crafted_tables);
    return s;
}
