/* tests/check_embeddings.c — embeddings/: tensor ops against naive loops,
 * loading .vec text and word2vec binary files (normalisation, duplicates,
 * every malformed case with its line or record), n-gram composition,
 * writing .vec, and word2vec: the negative-sampling gradient against
 * finite differences, and a known answer on a corpus of two word groups. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "corpora/corpus.h"
#include "embeddings/tensor.h"
#include "embeddings/vectors.h"
#include "embeddings/word2vec.h"
#include "tests/suites.h"
#include "tests/synth.h"
#include "tests/testutil.h"

/* ---- tensor ops ------------------------------------------------------------- */

static void fill(tcat_tensor *t, tcat_rng *r)
{
    for (size_t i = 0; i < t->rows * t->cols; i++)
        t->data[i] = (float)(2 * tcat_rng_uniform(r) - 1);
}

START_TEST(test_gemm_all_transposes)
{
    tcat_rng r;
    tcat_rng_seed(&r, 11);
    const size_t m = 5, n = 7, k = 3;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            tcat_tensor A, B, C;
            /* op(A): m x k, op(B): k x n, C: m x n */
            ck_assert_int_eq(tcat_tensor_init(&A, ta ? k : m, ta ? m : k), TCAT_OK);
            ck_assert_int_eq(tcat_tensor_init(&B, tb ? n : k, tb ? k : n), TCAT_OK);
            ck_assert_int_eq(tcat_tensor_init(&C, m, n), TCAT_OK);
            fill(&A, &r);
            fill(&B, &r);
            fill(&C, &r);
            double want[5 * 7];
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++) {
                    double s = 0;
                    for (size_t q = 0; q < k; q++) {
                        double a = ta ? A.data[q * A.cols + i] : A.data[i * A.cols + q];
                        double b = tb ? B.data[j * B.cols + q] : B.data[q * B.cols + j];
                        s += a * b;
                    }
                    want[i * n + j] = 0.7 * s + 0.3 * C.data[i * n + j];
                }
            tcat_gemm(ta, tb, 0.7f, &A, &B, 0.3f, &C);
            for (size_t i = 0; i < m * n; i++)
                ck_assert_msg(fabs(C.data[i] - want[i]) < 1e-5, "ta=%d tb=%d i=%zu: %g vs %g",
                              ta, tb, i, C.data[i], want[i]);
            tcat_tensor_free(&A);
            tcat_tensor_free(&B);
            tcat_tensor_free(&C);
        }
}
END_TEST

START_TEST(test_gemv_both_ways)
{
    tcat_rng r;
    tcat_rng_seed(&r, 12);
    tcat_tensor A;
    ck_assert_int_eq(tcat_tensor_init(&A, 4, 6), TCAT_OK);
    fill(&A, &r);
    float x6[6], x4[4], y4[4], y6[6];
    for (int i = 0; i < 6; i++)
        x6[i] = (float)(i - 2) * 0.5f, y6[i] = (float)i;
    for (int i = 0; i < 4; i++)
        x4[i] = (float)(3 - i) * 0.25f, y4[i] = (float)-i;
    double w4[4], w6[6];
    for (int i = 0; i < 4; i++) {
        double s = 0;
        for (int j = 0; j < 6; j++)
            s += (double)A.data[i * 6 + j] * x6[j];
        w4[i] = 2.0 * s + 0.5 * y4[i];
    }
    for (int j = 0; j < 6; j++) {
        double s = 0;
        for (int i = 0; i < 4; i++)
            s += (double)A.data[i * 6 + j] * x4[i];
        w6[j] = -1.0 * s + 1.0 * y6[j];
    }
    tcat_gemv(false, 2.0f, &A, x6, 0.5f, y4);
    tcat_gemv(true, -1.0f, &A, x4, 1.0f, y6);
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq_tol(y4[i], w4[i], 1e-5);
    for (int j = 0; j < 6; j++)
        ck_assert_double_eq_tol(y6[j], w6[j], 1e-5);
    tcat_tensor_free(&A);
}
END_TEST

START_TEST(test_axpy_dot)
{
    float x[9], y[9];
    double want_dot = 0;
    for (int i = 0; i < 9; i++) {
        x[i] = (float)i * 0.5f - 2;
        y[i] = (float)(9 - i) * 0.25f;
        want_dot += (double)x[i] * y[i];
    }
    ck_assert_double_eq_tol(tcat_dot(9, x, y), want_dot, 1e-5);
    float z[9];
    memcpy(z, y, sizeof z);
    tcat_axpy(9, -1.5f, x, z);
    for (int i = 0; i < 9; i++)
        ck_assert_double_eq_tol(z[i], y[i] - 1.5 * x[i], 1e-6);
}
END_TEST

START_TEST(test_softmax)
{
    float v[4] = {1, 2, 3, 4};
    tcat_softmax(v, 4);
    double s = 0, z = exp(1) + exp(2) + exp(3) + exp(4);
    for (int i = 0; i < 4; i++) {
        s += v[i];
        ck_assert_double_eq_tol(v[i], exp(i + 1) / z, 1e-6);
    }
    ck_assert_double_eq_tol(s, 1.0, 1e-6);
    /* large inputs: no overflow, same as the shifted ones */
    float big[3] = {1000, 1001, 1002}, small[3] = {0, 1, 2};
    tcat_softmax(big, 3);
    tcat_softmax(small, 3);
    s = 0;
    for (int i = 0; i < 3; i++) {
        ck_assert(isfinite(big[i]));
        ck_assert_double_eq_tol(big[i], small[i], 1e-6);
        s += big[i];
    }
    ck_assert_double_eq_tol(s, 1.0, 1e-6);
    float neg[2] = {-1e4f, -1e4f + 1};
    tcat_softmax(neg, 2);
    ck_assert(isfinite(neg[0]) && isfinite(neg[1]));
    ck_assert_double_eq_tol(neg[0] + neg[1], 1.0, 1e-6);
}
END_TEST

/* ---- files ------------------------------------------------------------------ */

static char g_file[4096];

/* Writes data[0..len) to the scratch file name; the path is in g_file. */
static const char *write_bytes(const char *name, const void *data, size_t len)
{
    snprintf(g_file, sizeof g_file, "%s", scratch_path(name));
    FILE *f = fopen(g_file, "wb");
    ck_assert_msg(f != NULL, "fopen %s: %s", g_file, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return g_file;
}

static const char *write_text(const char *name, const char *s)
{
    return write_bytes(name, s, strlen(s));
}

/* A word2vec binary file being built. */
typedef struct binfile {
    char b[4096];
    size_t n;
} binfile;

static void bin_str(binfile *f, const char *s)
{
    size_t l = strlen(s);
    ck_assert_uint_lt(f->n + l, sizeof f->b);
    memcpy(f->b + f->n, s, l);
    f->n += l;
}

/* One record: word, space, dim little-endian floats, then nl. */
static void bin_rec(binfile *f, const char *word, const float *x, size_t dim, const char *nl)
{
    bin_str(f, word);
    bin_str(f, " ");
    for (size_t d = 0; d < dim; d++) {
        uint32_t u;
        memcpy(&u, &x[d], 4);
        for (int k = 0; k < 4; k++)
            f->b[f->n++] = (char)(u >> (8 * k) & 0xFF);
    }
    bin_str(f, nl);
}

static tcat_vec *load_ok(const char *path, const tcat_vec_options *o)
{
    tcat_vec *v = NULL;
    tcat_error err = {0};
    tcat_status st = tcat_vec_load(&v, path, NULL, o, &err);
    ck_assert_msg(st == TCAT_OK, "tcat_vec_load: %s", err.msg);
    ck_assert_ptr_nonnull(v);
    return v;
}

/* Loading path fails with TCAT_ERR_INPUT and a message naming the file
 * and holding `where` (":3:" or "record 2"). */
static void load_fails(const char *path, const char *where, const char *what)
{
    tcat_vec *v = (tcat_vec *)1;
    tcat_error err = {0};
    tcat_status st = tcat_vec_load(&v, path, NULL, NULL, &err);
    ck_assert_msg(st == TCAT_ERR_INPUT, "status %d (%s) for %s", st, err.msg, where);
    ck_assert_ptr_null(v);
    ck_assert_msg(strstr(err.msg, path) != NULL, "no file name in \"%s\"", err.msg);
    ck_assert_msg(strstr(err.msg, where) != NULL, "no \"%s\" in \"%s\"", where, err.msg);
    ck_assert_msg(strstr(err.msg, what) != NULL, "no \"%s\" in \"%s\"", what, err.msg);
}

static void assert_vec(const tcat_vec *v, const char *w, float a, float b, float c)
{
    const float *x = tcat_vec_lookup(v, w, strlen(w));
    ck_assert_msg(x != NULL, "no vector for \"%s\"", w);
    ck_assert_float_eq(x[0], a);
    ck_assert_float_eq(x[1], b);
    ck_assert_float_eq(x[2], c);
}

START_TEST(test_text_load)
{
    const char *path = write_text("a.vec", "7 3\n"
                                           "hello 1 2 3\n"
                                           "\xEF\xBC\xA8\xEF\xBD\x85\xEF\xBD\x8C\xEF\xBD\x8C"
                                           "\xEF\xBD\x8F 4 5 6\n" /* Ｈｅｌｌｏ */
                                           "World 0.5 -0.25 1e-3 \n"
                                           "foo-bar 1 1 1\n"
                                           "!!! 2 2 2\r\n"
                                           "\n"
                                           "caf\xC3\xA9\t-1.5\t+2.\t.125\n"
                                           "x 0.1 3.4028234e38 -1e-45\n");
    tcat_vec *v = load_ok(path, NULL);
    const tcat_vec_stats *s = tcat_vec_get_stats(v);
    ck_assert_int_eq(s->format, TCAT_VEC_TEXT);
    ck_assert_uint_eq(s->header_count, 7);
    ck_assert_uint_eq(s->records, 7);
    ck_assert_uint_eq(s->duplicates, 1);    /* Ｈｅｌｌｏ -> hello, after hello */
    ck_assert_uint_eq(s->skipped_multi, 1); /* foo-bar */
    ck_assert_uint_eq(s->skipped_empty, 1); /* !!! */
    ck_assert_uint_eq(tcat_vec_count(v), 4);
    ck_assert_uint_eq(tcat_vec_dim(v), 3);
    assert_vec(v, "hello", 1, 2, 3);
    assert_vec(v, "world", 0.5f, -0.25f, 1e-3f);
    assert_vec(v, "caf\xC3\xA9", -1.5f, 2, 0.125f);
    const float *x = tcat_vec_lookup(v, "x", 1);
    ck_assert_ptr_nonnull(x);
    ck_assert(x[0] == strtof("0.1", NULL) && x[1] == strtof("3.4028234e38", NULL) &&
              x[2] == strtof("-1e-45", NULL));
    ck_assert_ptr_null(tcat_vec_lookup(v, "Hello", 5)); /* lookups take normalised tokens */
    ck_assert_ptr_null(tcat_vec_lookup(v, "foo", 3));
    size_t len, row;
    ck_assert_str_eq(tcat_vec_word(v, 0, &len), "hello");
    ck_assert_uint_eq(len, 5);
    ck_assert_str_eq(tcat_vec_word(v, 1, NULL), "world");
    ck_assert(tcat_vec_find(v, "world", 5, &row));
    ck_assert_uint_eq(row, 1);
    ck_assert_uint_eq(tcat_vec_matrix(v)->rows, 4);
    ck_assert_uint_eq(tcat_vec_matrix(v)->cols, 3);
    tcat_vec_free(&v);
    ck_assert_ptr_null(v);
    tcat_vec_free(&v);
}
END_TEST

/* Every float the fast path takes must equal strtof's. */
START_TEST(test_text_numbers_exact)
{
    char text[65536];
    size_t n = (size_t)snprintf(text, sizeof text, "200 3\n");
    uint64_t st = 5;
    static const char *const fmts[] = {"%.6f", "%.4g", "%.7e", "%.9g", "%g"};
    char nums[200][3][40];
    for (int i = 0; i < 200; i++) {
        n += (size_t)snprintf(text + n, sizeof text - n, "w%d", i);
        for (int d = 0; d < 3; d++) {
            double x = ((double)rng_next(&st) / 18446744073709551616.0 - 0.5) *
                       pow(10, (double)(rng_below(&st, 12)) - 6);
            snprintf(nums[i][d], sizeof nums[i][d], fmts[(i + d) % 5], x);
            n += (size_t)snprintf(text + n, sizeof text - n, " %s", nums[i][d]);
        }
        text[n++] = '\n';
    }
    text[n] = 0;
    tcat_vec *v = load_ok(write_text("n.vec", text), NULL);
    ck_assert_uint_eq(tcat_vec_count(v), 200);
    for (int i = 0; i < 200; i++) {
        char w[16];
        snprintf(w, sizeof w, "w%d", i);
        const float *x = tcat_vec_lookup(v, w, strlen(w));
        ck_assert_ptr_nonnull(x);
        for (int d = 0; d < 3; d++)
            ck_assert_msg(x[d] == strtof(nums[i][d], NULL), "%s: %a vs %a", nums[i][d], x[d],
                          strtof(nums[i][d], NULL));
    }
    tcat_vec_free(&v);
}
END_TEST

START_TEST(test_binary_load)
{
    static const float a[3] = {1.0f, 0.5f, -2.0f}, b[3] = {0.1f, 0.2f, 0.3f},
                       c[3] = {-0.75f, 8.0f, 0.0f}, d[3] = {3, 3, 3};
    for (int sep = 0; sep < 2; sep++) {
        binfile f = {.n = 0};
        const char *nl = sep ? "\n" : "";
        bin_str(&f, "5 3\n");
        bin_rec(&f, "\xEF\xBC\xA8\xEF\xBD\x85\xEF\xBD\x8C\xEF\xBD\x8C\xEF\xBD\x8F", a, 3, nl);
        bin_rec(&f, "hello", b, 3, nl); /* collapses onto Ｈｅｌｌｏ, read first */
        bin_rec(&f, "Caf\xC3\xA9", c, 3, nl);
        bin_rec(&f, "</s>", d, 3, nl);
        bin_rec(&f, "world", b, 3, nl);
        tcat_vec *v = load_ok(write_bytes("b.bin", f.b, f.n), NULL);
        const tcat_vec_stats *s = tcat_vec_get_stats(v);
        ck_assert_int_eq(s->format, TCAT_VEC_BINARY);
        ck_assert_uint_eq(s->records, 5);
        ck_assert_uint_eq(s->duplicates, 1);
        ck_assert_uint_eq(s->skipped_multi, 1); /* "</s>": < s > */
        ck_assert_uint_eq(tcat_vec_count(v), 3);
        assert_vec(v, "hello", 1.0f, 0.5f, -2.0f);
        assert_vec(v, "caf\xC3\xA9", -0.75f, 8.0f, 0.0f);
        assert_vec(v, "world", 0.1f, 0.2f, 0.3f);
        tcat_vec_free(&v);
    }
    /* a first record whose values are all "printable" bytes is still binary */
    binfile f = {.n = 0};
    bin_str(&f, "2 3\n");
    bin_rec(&f, "alpha", b, 3, "\n");
    bin_rec(&f, "beta", b, 3, "\n");
    tcat_vec *v = load_ok(write_bytes("p.bin", f.b, f.n), NULL);
    ck_assert_int_eq(tcat_vec_get_stats(v)->format, TCAT_VEC_BINARY);
    assert_vec(v, "beta", 0.1f, 0.2f, 0.3f);
    tcat_vec_free(&v);
}
END_TEST

START_TEST(test_text_malformed)
{
    load_fails(write_text("e1.vec", "2 3\nhello 1 2 3\nworld 1 2\n"), ":3:", "2 values");
    load_fails(write_text("e2.vec", "2 3\nhello 1 2 3\nworld 1 x 3\n"), ":3:", "value 2");
    load_fails(write_text("e3.vec", "2 3\nhello 1 2 3\nworld 1 2 nan\n"), ":3:", "value 3");
    load_fails(write_text("e4.vec", "2 3\nhello 1 2 3\nworld inf 2 3\n"), ":3:", "value 1");
    load_fails(write_text("e5.vec", "2 3\nhello 1 2 3\nworld 1 1e40 3\n"), ":3:", "value 2");
    load_fails(write_text("e6.vec", "2 3\nhello 1 2 3\nworld 1 2 3 4\n"), ":3:", "4 values");
    load_fails(write_text("e7.vec", "2 3\nhello 1 2\nworld 1 2 3\n"), ":2:", "2 values");
    load_fails(write_text("e8.vec", "2 3\n\nhello 1 2 3\n\nworld 1 2 3 4\n"), ":5:", "4 values");
    load_fails(write_text("e9.vec", "2 3\nhello 1 2 3\nworld 1 2 3x\n"), ":3:", "value 3");
    load_fails(write_text("e10.vec", "2 3\nhello 1 2 3\nworld 1 -- 3\n"), ":3:", "value 2");
    load_fails(write_text("h1.vec", "hello 1 2 3\n"), ":1:", "header");
    load_fails(write_text("h2.vec", "2\nhello 1 2 3\n"), ":1:", "header");
    load_fails(write_text("h3.vec", "2 0\n"), ":1:", "dim 0");
    load_fails(write_text("h4.vec", ""), ":1:", "empty");
    load_fails(write_text("c1.vec", "3 3\nhello 1 2 3\nworld 1 2 3\n"), ":4:", "2 of the 3");
    load_fails(write_text("c2.vec", "1 3\nhello 1 2 3\nworld 1 2 3\n"), ":3:", "more vectors");
    /* a file that cannot be opened */
    tcat_vec *v = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_vec_load(&v, scratch_path("missing.vec"), NULL, NULL, &err),
                     TCAT_ERR_IO);
    ck_assert_ptr_null(v);
}
END_TEST

START_TEST(test_binary_malformed)
{
    static const float a[3] = {1.0f, 0.5f, -2.0f};
    float bad[3] = {1.0f, NAN, 0.0f};
    binfile f = {.n = 0};
    /* truncated inside record 2's values */
    bin_str(&f, "3 3\n");
    bin_rec(&f, "hello", a, 3, "\n");
    bin_rec(&f, "world", a, 3, "\n");
    load_fails(write_bytes("t1.bin", f.b, f.n - 6), "record 2", "truncated");
    /* truncated inside record 3's word */
    bin_rec(&f, "again", a, 3, "\n");
    load_fails(write_bytes("t2.bin", f.b, f.n - 14), "record 3", "truncated");
    /* fewer records than the header says */
    f.n = 0;
    bin_str(&f, "3 3\n");
    bin_rec(&f, "hello", a, 3, "\n");
    bin_rec(&f, "world", a, 3, "\n");
    load_fails(write_bytes("t3.bin", f.b, f.n), "record 3", "2 of the 3");
    /* NaN and infinity */
    f.n = 0;
    bin_str(&f, "2 3\n");
    bin_rec(&f, "hello", a, 3, "\n");
    bin_rec(&f, "world", bad, 3, "\n");
    load_fails(write_bytes("t4.bin", f.b, f.n), "record 2", "value 2");
    bad[1] = 0;
    bad[2] = INFINITY;
    f.n = 0;
    bin_str(&f, "2 3\n");
    bin_rec(&f, "hello", a, 3, "\n");
    bin_rec(&f, "world", bad, 3, "\n");
    load_fails(write_bytes("t5.bin", f.b, f.n), "record 2", "value 3");
    /* more data than the header says */
    f.n = 0;
    bin_str(&f, "1 3\n");
    bin_rec(&f, "hello", a, 3, "\n");
    bin_rec(&f, "world", a, 3, "\n");
    load_fails(write_bytes("t6.bin", f.b, f.n), "record 2", "after the 1 records");
    /* the first record cut short is binary too */
    f.n = 0;
    bin_str(&f, "1 3\n");
    bin_rec(&f, "hello", a, 3, "\n");
    load_fails(write_bytes("t7.bin", f.b, f.n - 3), "record 1", "truncated");
}
END_TEST

START_TEST(test_max_words_and_empty)
{
    const char *path = write_text("m.vec", "4 2\nHello 1 2\nhello 3 4\nb 5 6\nc 7 8\n");
    tcat_vec_options o;
    tcat_vec_options_default(&o);
    o.max_words = 2;
    tcat_vec *v = load_ok(path, &o);
    ck_assert_uint_eq(tcat_vec_count(v), 2);
    ck_assert(tcat_vec_get_stats(v)->stopped);
    ck_assert_uint_eq(tcat_vec_get_stats(v)->duplicates, 1);
    ck_assert_ptr_nonnull(tcat_vec_lookup(v, "b", 1));
    ck_assert_ptr_null(tcat_vec_lookup(v, "c", 1));
    tcat_vec_free(&v);
    o.max_words = 3; /* exactly the file's words: not stopped */
    v = load_ok(path, &o);
    ck_assert_uint_eq(tcat_vec_count(v), 3);
    ck_assert(!tcat_vec_get_stats(v)->stopped);
    tcat_vec_free(&v);
    v = load_ok(write_text("z.vec", "0 5\n"), NULL);
    ck_assert_uint_eq(tcat_vec_count(v), 0);
    ck_assert_uint_eq(tcat_vec_dim(v), 5);
    ck_assert_ptr_null(tcat_vec_lookup(v, "a", 1));
    tcat_vec_free(&v);
}
END_TEST

START_TEST(test_add_and_save_roundtrip)
{
    tcat_vec *v = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_vec_init(&v, 0, &err), TCAT_ERR_USAGE);
    ck_assert_int_eq(tcat_vec_init(&v, 4, &err), TCAT_OK);
    tcat_rng r;
    tcat_rng_seed(&r, 3);
    char w[32];
    for (int i = 0; i < 300; i++) {
        float x[4];
        for (int d = 0; d < 4; d++)
            x[d] = (float)((tcat_rng_uniform(&r) - 0.5) * pow(10, i % 7 - 3));
        snprintf(w, sizeof w, "w\xC3\xA9%d", i);
        bool added;
        ck_assert_int_eq(tcat_vec_add(v, w, strlen(w), x, &added, &err), TCAT_OK);
        ck_assert(added);
    }
    bool added = true;
    ck_assert_int_eq(tcat_vec_add(v, "w\xC3\xA9" "7", 4, NULL, &added, &err), TCAT_OK);
    ck_assert(!added);
    ck_assert_int_eq(tcat_vec_add(v, "a b", 3, NULL, NULL, &err), TCAT_ERR_USAGE);
    ck_assert_int_eq(tcat_vec_add(v, "", 0, NULL, NULL, &err), TCAT_ERR_USAGE);
    ck_assert_uint_eq(tcat_vec_count(v), 300);
    char path[4096];
    snprintf(path, sizeof path, "%s", scratch_path("out.vec"));
    ck_assert_msg(tcat_vec_save_text(v, path, &err) == TCAT_OK, "%s", err.msg);
    tcat_vec *u = load_ok(path, NULL);
    ck_assert_uint_eq(tcat_vec_count(u), 300);
    ck_assert_int_eq(memcmp(tcat_vec_matrix(u)->data, tcat_vec_matrix(v)->data,
                            300 * 4 * sizeof(float)),
                     0);
    for (size_t i = 0; i < 300; i++)
        ck_assert_str_eq(tcat_vec_word(u, i, NULL), tcat_vec_word(v, i, NULL));
    tcat_vec_free(&u);
    /* a folder that does not exist */
    ck_assert_int_eq(tcat_vec_save_text(v, scratch_path("no/such/dir.vec"), &err), TCAT_ERR_IO);
    tcat_vec_free(&v);
}
END_TEST

/* ---- n-gram composition ---------------------------------------------------- */

START_TEST(test_subwords_known_answer)
{
    tcat_vec *v = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_vec_init(&v, 3, &err), TCAT_OK);
    const float a[3] = {1, 2, 3}, b[3] = {-1, 0.5f, 7};
    ck_assert_int_eq(tcat_vec_add(v, "abcx", 4, a, NULL, &err), TCAT_OK);
    ck_assert_int_eq(tcat_vec_add(v, "abcy", 4, b, NULL, &err), TCAT_OK);
    float out[3] = {9, 9, 9};
    ck_assert_int_eq(tcat_vec_get(v, "ab", 2, out), TCAT_VEC_MISSING); /* not built yet */
    ck_assert_float_eq(out[0], 9);
    ck_assert_int_eq(tcat_vec_build_subwords(v, 1u << 16, 1, &err), TCAT_OK);
    ck_assert(tcat_vec_has_subwords(v));
    /* a known word: its own row */
    ck_assert_int_eq(tcat_vec_get(v, "abcx", 4, out), TCAT_VEC_KNOWN);
    ck_assert(out[0] == 1 && out[1] == 2 && out[2] == 3);
    /* "<ab>": of its n-grams only "<ab" is stored, shared by both words */
    ck_assert_int_eq(tcat_vec_get(v, "ab", 2, out), TCAT_VEC_COMPOSED);
    for (int d = 0; d < 3; d++)
        ck_assert_float_eq_tol(out[d], (a[d] + b[d]) / 2, 1e-6);
    /* "<abcz>": "<ab", "abc", "<abc" are shared by both words (mean
     * (a+b)/2); nothing else is stored */
    ck_assert_int_eq(tcat_vec_get(v, "abcz", 4, out), TCAT_VEC_COMPOSED);
    for (int d = 0; d < 3; d++)
        ck_assert_float_eq_tol(out[d], (a[d] + b[d]) / 2, 1e-6);
    /* "<xabcx>": "bcx", "cx>", "abcx", "bcx>" and "abcx>" are stored from
     * abcx alone, "abc" from both: (5 a + (a+b)/2) / 6 */
    ck_assert_int_eq(tcat_vec_get(v, "xabcx", 5, out), TCAT_VEC_COMPOSED);
    for (int d = 0; d < 3; d++)
        ck_assert_float_eq_tol(out[d], (5 * a[d] + (a[d] + b[d]) / 2) / 6, 1e-5);
    ck_assert_int_eq(tcat_vec_get(v, "qqq", 3, out), TCAT_VEC_MISSING);
    tcat_vec_free(&v);
}
END_TEST

START_TEST(test_subwords_threads_and_load)
{
    const char *path = write_text("s.vec", "4 2\nwalking 1 0\ntalking 0.5 0.5\nrunning 0 1\n"
                                           "jumping -1 -1\n");
    tcat_vec_options o;
    tcat_vec_options_default(&o);
    o.subwords = true;
    o.buckets = 4099;
    tcat_vec *one = load_ok(path, &o);
    o.threads = 3;
    tcat_vec *three = load_ok(path, &o);
    ck_assert(tcat_vec_has_subwords(one));
    static const char *const oov[] = {"walked", "stalking", "runner", "jumped", "ing"};
    for (int i = 0; i < 5; i++) {
        float x[2], y[2];
        tcat_vec_hit h1 = tcat_vec_get(one, oov[i], strlen(oov[i]), x);
        tcat_vec_hit h3 = tcat_vec_get(three, oov[i], strlen(oov[i]), y);
        ck_assert_int_eq(h1, TCAT_VEC_COMPOSED);
        ck_assert_int_eq(h3, TCAT_VEC_COMPOSED);
        ck_assert_int_eq(memcmp(x, y, sizeof x), 0);
    }
    /* "walked" shares "<wa", "wal", "alk", ... with walking only (and
     * "alk" with talking): it lands nearer walking than running */
    float x[2];
    tcat_vec_get(one, "walked", 6, x);
    ck_assert(x[0] > x[1]);
    tcat_vec_free(&one);
    tcat_vec_free(&three);
    ck_assert_uint_eq(tcat_vec_ngram_hash("<ab", 3), tcat_vec_ngram_hash("<ab", 3));
}
END_TEST

/* ---- word2vec: the gradient of one example -------------------------------- */

START_TEST(test_ns_gradient)
{
    enum { DIM = 7, N = 5 };
    tcat_rng r;
    tcat_rng_seed(&r, 21);
    for (int scale = 1; scale <= 8; scale *= 8) { /* 8: |u.h| up to ~20, saturated sigmoids */
        double h[DIM], U[N][DIM], g_h[DIM], g_u[N * DIM];
        const double *u[N];
        for (int j = 0; j < DIM; j++)
            h[j] = (2 * tcat_rng_uniform(&r) - 1) * scale;
        for (int k = 0; k < N; k++) {
            for (int j = 0; j < DIM; j++)
                U[k][j] = (2 * tcat_rng_uniform(&r) - 1) * 0.7;
            u[k] = U[k];
        }
        double L = tcat_w2v_ns_loss(DIM, h, u, N, g_h, g_u);
        ck_assert(isfinite(L) && L > 0);
        /* the loss from its definition */
        double want = 0;
        for (int k = 0; k < N; k++) {
            double s = 0;
            for (int j = 0; j < DIM; j++)
                s += U[k][j] * h[j];
            want -= log(1 / (1 + exp(k == 0 ? -s : s)));
        }
        ck_assert_double_eq_tol(L, want, 1e-9 * (1 + want));
        const double eps = 1e-6;
        for (int j = 0; j < DIM; j++) {
            double keep = h[j];
            h[j] = keep + eps;
            double lp = tcat_w2v_ns_loss(DIM, h, u, N, NULL, NULL);
            h[j] = keep - eps;
            double lm = tcat_w2v_ns_loss(DIM, h, u, N, NULL, NULL);
            h[j] = keep;
            double fd = (lp - lm) / (2 * eps);
            ck_assert_msg(fabs(fd - g_h[j]) < 1e-7 * (1 + fabs(fd)), "dL/dh[%d]: %g vs %g", j,
                          g_h[j], fd);
        }
        for (int k = 0; k < N; k++)
            for (int j = 0; j < DIM; j++) {
                double keep = U[k][j];
                U[k][j] = keep + eps;
                double lp = tcat_w2v_ns_loss(DIM, h, u, N, NULL, NULL);
                U[k][j] = keep - eps;
                double lm = tcat_w2v_ns_loss(DIM, h, u, N, NULL, NULL);
                U[k][j] = keep;
                double fd = (lp - lm) / (2 * eps);
                ck_assert_msg(fabs(fd - g_u[k * DIM + j]) < 1e-7 * (1 + fabs(fd)),
                              "dL/du[%d][%d]: %g vs %g", k, j, g_u[k * DIM + j], fd);
            }
        /* the float step training runs: the same gradients, applied */
        float hf[DIM], Uf[N][DIM], acc[DIM] = {0};
        float *uf[N];
        for (int j = 0; j < DIM; j++)
            hf[j] = (float)h[j];
        for (int k = 0; k < N; k++) {
            for (int j = 0; j < DIM; j++)
                Uf[k][j] = (float)U[k][j];
            uf[k] = Uf[k];
        }
        const float lr = 0.125f;
        float Lf = tcat_w2v_ns_step(DIM, hf, uf, N, lr, acc);
        ck_assert_double_eq_tol(Lf, L, 1e-5 * (1 + L));
        for (int j = 0; j < DIM; j++) {
            ck_assert_float_eq(hf[j], (float)h[j]); /* h itself unchanged */
            ck_assert_double_eq_tol(acc[j], -lr * g_h[j], 1e-5);
        }
        for (int k = 0; k < N; k++)
            for (int j = 0; j < DIM; j++)
                ck_assert_double_eq_tol(Uf[k][j] - (float)U[k][j], -lr * g_u[k * DIM + j], 1e-5);
    }
}
END_TEST

/* ---- word2vec: a known answer ------------------------------------------------ */

static const char *const group_a[] = {"apple", "banana", "cherry", "grape", "lemon", "mango"};
static const char *const group_b[] = {"car", "truck", "bus", "train", "plane", "boat"};

/* Documents of words from one group only, the groups alternating. */
static void two_groups(tcat_corpus *c, size_t ndocs, uint64_t seed)
{
    tcat_corpus_init(c);
    char text[1024];
    for (size_t d = 0; d < ndocs; d++) {
        const char *const *g = d % 2 ? group_b : group_a;
        size_t n = 0;
        for (int k = 0; k < 12; k++)
            n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", k ? " " : "",
                                  g[rng_below(&seed, 6)]);
        /* the odd capital letter: words are the normalised tokens */
        if (d % 7 == 0)
            text[0] = (char)(text[0] - 'a' + 'A');
        corpus_add_text(c, text, -1);
    }
}

static double cosine(const float *x, const float *y, size_t n)
{
    double xy = 0, xx = 0, yy = 0;
    for (size_t i = 0; i < n; i++) {
        xy += (double)x[i] * y[i];
        xx += (double)x[i] * x[i];
        yy += (double)y[i] * y[i];
    }
    return xy / sqrt(xx * yy + 1e-30);
}

/* Every within-group pair is more similar than every across-group pair. */
static void assert_groups(const tcat_vec *v)
{
    size_t dim = tcat_vec_dim(v);
    const float *A[6], *B[6];
    for (int i = 0; i < 6; i++) {
        A[i] = tcat_vec_lookup(v, group_a[i], strlen(group_a[i]));
        B[i] = tcat_vec_lookup(v, group_b[i], strlen(group_b[i]));
        ck_assert_ptr_nonnull(A[i]);
        ck_assert_ptr_nonnull(B[i]);
    }
    double min_in = 2, max_across = -2;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            if (i < j) {
                double a = cosine(A[i], A[j], dim), b = cosine(B[i], B[j], dim);
                min_in = fmin(min_in, fmin(a, b));
            }
            max_across = fmax(max_across, cosine(A[i], B[j], dim));
        }
    ck_assert_msg(min_in > max_across, "within %.3f, across %.3f", min_in, max_across);
}

START_TEST(test_w2v_two_groups)
{
    tcat_corpus c;
    two_groups(&c, 300, 5);
    for (int arch = 0; arch < 2; arch++) {
        tcat_w2v_options o;
        tcat_w2v_options_default(&o);
        o.arch = arch ? TCAT_W2V_CBOW : TCAT_W2V_SKIPGRAM;
        o.dim = 16;
        o.window = 3;
        o.epochs = 5;
        o.min_count = 1;
        o.sample = 0;
        o.seed = 42;
        tcat_vec *v = NULL;
        tcat_w2v_stats st;
        tcat_error err = {0};
        ck_assert_msg(tcat_w2v_train(&v, &c, &o, &st, &err) == TCAT_OK, "%s", err.msg);
        ck_assert_uint_eq(st.vocab, 12);
        ck_assert_uint_eq(tcat_vec_count(v), 12);
        ck_assert_uint_eq(st.train_words, 300 * 12);
        ck_assert_uint_eq(st.dropped, 0);
        ck_assert(st.last_loss < st.first_loss);
        assert_groups(v);
        /* the same seed, the same vectors; another seed, others */
        tcat_vec *w = NULL;
        ck_assert_int_eq(tcat_w2v_train(&w, &c, &o, NULL, &err), TCAT_OK);
        ck_assert_int_eq(memcmp(tcat_vec_matrix(v)->data, tcat_vec_matrix(w)->data,
                                12 * 16 * sizeof(float)),
                         0);
        tcat_vec_free(&w);
        o.seed = 43;
        ck_assert_int_eq(tcat_w2v_train(&w, &c, &o, NULL, &err), TCAT_OK);
        ck_assert_int_ne(memcmp(tcat_vec_matrix(v)->data, tcat_vec_matrix(w)->data,
                                12 * 16 * sizeof(float)),
                         0);
        tcat_vec_free(&w);
        tcat_vec_free(&v);
    }
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_w2v_hogwild_subsample_save)
{
    tcat_corpus c;
    two_groups(&c, 300, 9);
    corpus_add_text(&c, "rare", -1); /* under min_count */
    tcat_w2v_options o;
    tcat_w2v_options_default(&o);
    o.dim = 16;
    o.window = 3;
    o.min_count = 2;
    o.sample = 1e-2;
    o.epochs = 10;
    o.threads = 2; /* Hogwild: not reproducible, still learns */
    tcat_vec *v = NULL;
    tcat_w2v_stats st;
    tcat_error err = {0};
    ck_assert_msg(tcat_w2v_train(&v, &c, &o, &st, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_uint_eq(st.vocab, 12);
    ck_assert_uint_eq(st.dropped, 1);
    ck_assert_ptr_null(tcat_vec_lookup(v, "rare", 4));
    assert_groups(v);
    /* most frequent first */
    ck_assert_uint_ge(st.examples, 1);
    char path[4096];
    snprintf(path, sizeof path, "%s", scratch_path("w2v.vec"));
    ck_assert_msg(tcat_vec_save_text(v, path, &err) == TCAT_OK, "%s", err.msg);
    tcat_vec *u = load_ok(path, NULL);
    ck_assert_uint_eq(tcat_vec_count(u), 12);
    ck_assert_int_eq(memcmp(tcat_vec_matrix(u)->data, tcat_vec_matrix(v)->data,
                            12 * 16 * sizeof(float)),
                     0);
    tcat_vec_free(&u);
    tcat_vec_free(&v);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_w2v_errors)
{
    tcat_corpus c;
    two_groups(&c, 4, 1);
    tcat_w2v_options o;
    tcat_w2v_options_default(&o);
    tcat_vec *v = (tcat_vec *)1;
    tcat_error err = {0};
    o.min_count = 1000;
    ck_assert_int_eq(tcat_w2v_train(&v, &c, &o, NULL, &err), TCAT_ERR_INPUT);
    ck_assert_ptr_null(v);
    ck_assert_ptr_nonnull(strstr(err.msg, "min_count"));
    tcat_w2v_options_default(&o);
    o.dim = 0;
    ck_assert_int_eq(tcat_w2v_train(&v, &c, &o, NULL, &err), TCAT_ERR_USAGE);
    tcat_w2v_options_default(&o);
    o.window = 0;
    ck_assert_int_eq(tcat_w2v_train(&v, &c, &o, NULL, &err), TCAT_ERR_USAGE);
    tcat_w2v_options_default(&o);
    o.lr = NAN;
    ck_assert_int_eq(tcat_w2v_train(&v, &c, &o, NULL, &err), TCAT_ERR_USAGE);
    tcat_w2v_options_default(&o);
    o.sample = -1;
    ck_assert_int_eq(tcat_w2v_train(&v, &c, &o, NULL, &err), TCAT_ERR_USAGE);
    /* one word only: no negatives to draw, still trains */
    tcat_corpus_free(&c);
    tcat_corpus_init(&c);
    corpus_add_text(&c, "solo solo solo", -1);
    tcat_w2v_options_default(&o);
    o.min_count = 1;
    o.dim = 4;
    ck_assert_int_eq(tcat_w2v_train(&v, &c, &o, NULL, &err), TCAT_OK);
    ck_assert_uint_eq(tcat_vec_count(v), 1);
    tcat_vec_free(&v);
    tcat_corpus_free(&c);
}
END_TEST

Suite *embeddings_suite(void)
{
    Suite *s = suite_create("embeddings");
    TCase *tc = tcase_new(s, "tensor");
    tcase_add_test(tc, test_gemm_all_transposes);
    tcase_add_test(tc, test_gemv_both_ways);
    tcase_add_test(tc, test_axpy_dot);
    tcase_add_test(tc, test_softmax);
    tc = tcase_new(s, "vectors");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_text_load);
    tcase_add_test(tc, test_text_numbers_exact);
    tcase_add_test(tc, test_binary_load);
    tcase_add_test(tc, test_text_malformed);
    tcase_add_test(tc, test_binary_malformed);
    tcase_add_test(tc, test_max_words_and_empty);
    tcase_add_test(tc, test_add_and_save_roundtrip);
    tcase_add_test(tc, test_subwords_known_answer);
    tcase_add_test(tc, test_subwords_threads_and_load);
    tc = tcase_new(s, "word2vec");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_ns_gradient);
    tcase_add_test(tc, test_w2v_two_groups);
    tcase_add_test(tc, test_w2v_hogwild_subsample_save);
    tcase_add_test(tc, test_w2v_errors);
    return s;
}
