/* tests/check_layers.c — the building blocks of the neural families:
 * word ids (embeddings/wordids.h), embedding tables and their sparse
 * gradients (embeddings/table.h), optimisers, clipping and max-norm
 * (embeddings/optim.h), and copying documents between corpora. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corpora/corpus.h"
#include "embeddings/optim.h"
#include "embeddings/table.h"
#include "embeddings/wordids.h"
#include "tests/suites.h"
#include "tests/synth.h"
#include "tests/testutil.h"

/* ---- word ids ------------------------------------------------------------- */

START_TEST(test_wordids_counts_and_caps)
{
    tcat_corpus c;
    tcat_corpus_init(&c);
    corpus_add_text(&c, "apple apple banana cherry", 0);
    corpus_add_text(&c, "apple banana date", 1);
    tcat_docs all = {&c, NULL, c.n};
    tcat_wordids v;
    ck_assert_int_eq(tcat_wordids_build(&v, &all, 1, 0), TCAT_OK);
    ck_assert_uint_eq(v.n, 4);
    for (size_t i = 1; i < v.n; i++)
        ck_assert(v.hash[i] > v.hash[i - 1]); /* ids in order of hash */
    int64_t a = tcat_wordids_find(&v, tcat_wordids_hash("apple", 5));
    ck_assert(a >= 0 && v.hash[a] == tcat_wordids_hash("apple", 5));
    ck_assert_int_eq(tcat_wordids_find(&v, tcat_wordids_hash("fig", 3)), -1);
    tcat_wordids_free(&v);

    /* min_count 2: apple (3) and banana (2) */
    ck_assert_int_eq(tcat_wordids_build(&v, &all, 2, 0), TCAT_OK);
    ck_assert_uint_eq(v.n, 2);
    ck_assert(tcat_wordids_find(&v, tcat_wordids_hash("banana", 6)) >= 0);
    ck_assert_int_eq(tcat_wordids_find(&v, tcat_wordids_hash("cherry", 6)), -1);
    tcat_wordids_free(&v);

    /* max_words 1: the most frequent */
    ck_assert_int_eq(tcat_wordids_build(&v, &all, 1, 1), TCAT_OK);
    ck_assert_uint_eq(v.n, 1);
    ck_assert_int_eq(tcat_wordids_find(&v, tcat_wordids_hash("apple", 5)), 0);

    /* a view over saved hashes finds the same ids; unsorted is refused */
    uint64_t saved[2] = {v.hash[0], v.hash[0] + 1};
    tcat_wordids w = {0};
    ck_assert_int_eq(tcat_wordids_view(&w, saved, 2), TCAT_OK);
    ck_assert_int_eq(tcat_wordids_find(&w, saved[1]), 1);
    uint64_t bad[2] = {5, 5};
    ck_assert_int_eq(tcat_wordids_view(&w, bad, 2), TCAT_ERR_MODEL);
    tcat_wordids_free(&w);
    tcat_wordids_free(&v);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_copy_doc)
{
    tcat_corpus a, b;
    tcat_corpus_init(&a);
    tcat_corpus_init(&b);
    corpus_add_text(&a, "Hello, world!", 0);
    corpus_add_text(&a, "", 1);
    corpus_add_text(&a, "中文分词", 0);
    for (size_t i = 0; i < a.n; i++)
        ck_assert_int_eq(tcat_corpus_copy_doc(&b, &a, i), TCAT_OK);
    ck_assert_uint_eq(b.n, 3);
    for (size_t i = 0; i < a.n; i++) {
        size_t na, nb;
        const tcat_span *ta = tcat_corpus_tokens(&a, i, &na), *tb = tcat_corpus_tokens(&b, i, &nb);
        ck_assert_uint_eq(na, nb);
        ck_assert_int_eq(b.label[i], -1);
        for (size_t k = 0; k < na; k++) {
            ck_assert_uint_eq(ta[k].len, tb[k].len);
            ck_assert(!memcmp(a.text.data + ta[k].off, b.text.data + tb[k].off, ta[k].len));
            size_t ka = a.doc_tok[i] + k, kb = b.doc_tok[i] + k;
            ck_assert_int_eq(tcat_corpus_glued(&a, ka) && k > 0, tcat_corpus_glued(&b, kb) && k > 0);
        }
    }
    ck_assert_uint_eq(b.stats.empty, 1);
    tcat_corpus_free(&a);
    tcat_corpus_free(&b);
}
END_TEST

/* ---- tables ------------------------------------------------------------------- */

static void fill(float *v, size_t n, uint64_t seed)
{
    tcat_rng r;
    tcat_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)(2 * tcat_rng_uniform(&r) - 1);
}

START_TEST(test_bag_and_gather)
{
    tcat_tensor E;
    ck_assert_int_eq(tcat_tensor_init(&E, 5, 3), TCAT_OK);
    fill(E.data, 15, 1);
    uint32_t ids[3] = {4, 1, 4};
    float out[3], want[3];
    tcat_emb_bag(&E, ids, 3, false, out);
    for (int j = 0; j < 3; j++) {
        want[j] = E.data[12 + j] + E.data[3 + j] + E.data[12 + j];
        ck_assert_float_eq_tol(out[j], want[j], 1e-6);
    }
    tcat_emb_bag(&E, ids, 3, true, out);
    for (int j = 0; j < 3; j++)
        ck_assert_float_eq_tol(out[j], want[j] / 3, 1e-6);
    tcat_emb_bag(&E, ids, 0, true, out);
    for (int j = 0; j < 3; j++)
        ck_assert(out[j] == 0);

    /* bag_add: a row listed twice moves twice */
    float before = E.data[12], g[3] = {1, 2, 3};
    tcat_emb_bag_add(&E, ids, 3, 0.5f, g);
    ck_assert_float_eq_tol(E.data[12], before + 1.0f, 1e-6);

    uint32_t pos[3] = {2, TCAT_EMB_PAD, 0};
    float X[9];
    tcat_emb_gather(&E, pos, 3, X);
    ck_assert(!memcmp(X, E.data + 6, 3 * sizeof(float)));
    ck_assert(X[3] == 0 && X[4] == 0 && X[5] == 0);
    ck_assert(!memcmp(X + 6, E.data, 3 * sizeof(float)));
    tcat_tensor_free(&E);
}
END_TEST

START_TEST(test_sparse_grad_matches_dense)
{
    enum { ROWS = 7, DIM = 4, N = 9 };
    uint32_t ids1[N] = {3, 0, 3, TCAT_EMB_PAD, 6, 6, 1, 3, 0};
    uint32_t ids2[N] = {5, 5, 0, 2, TCAT_EMB_PAD, TCAT_EMB_PAD, 3, 1, 1};
    float d1[N * DIM], d2[N * DIM];
    fill(d1, N * DIM, 2);
    fill(d2, N * DIM, 3);
    double dense[ROWS][DIM] = {{0}};
    for (int i = 0; i < N; i++)
        for (int j = 0; j < DIM; j++) {
            if (ids1[i] != TCAT_EMB_PAD)
                dense[ids1[i]][j] += d1[i * DIM + j];
            if (ids2[i] != TCAT_EMB_PAD)
                dense[ids2[i]][j] += d2[i * DIM + j];
        }
    tcat_emb_grad g1, g2;
    ck_assert_int_eq(tcat_emb_grad_init(&g1, ROWS, DIM), TCAT_OK);
    ck_assert_int_eq(tcat_emb_grad_init(&g2, ROWS, DIM), TCAT_OK);
    for (int rep = 0; rep < 2; rep++) { /* clear really forgets */
        tcat_emb_grad_clear(&g1);
        tcat_emb_grad_clear(&g2);
        ck_assert_int_eq(tcat_emb_grad_scatter(&g1, ids1, N, d1), TCAT_OK);
        ck_assert_int_eq(tcat_emb_grad_scatter(&g2, ids2, N, d2), TCAT_OK);
        ck_assert_int_eq(tcat_emb_grad_merge(&g1, &g2), TCAT_OK);
        ck_assert_uint_eq(g1.n, 6); /* rows 0, 1, 2, 3, 5, 6 */
        ck_assert_uint_eq(g1.rows[0], 3); /* first-touch order */
        for (size_t r = 0; r < g1.n; r++)
            for (int j = 0; j < DIM; j++)
                ck_assert_float_eq_tol(g1.g[r * DIM + j], dense[g1.rows[r]][j], 1e-5);
    }
    tcat_emb_grad_free(&g1);
    tcat_emb_grad_free(&g2);
}
END_TEST

/* ---- optimisers ------------------------------------------------------------ */

/* f(x) = sum_i c_i (x_i - t_i)^2: every optimiser must approach t. */
static double quad(const float *x, float *g, size_t n)
{
    double f = 0;
    for (size_t i = 0; i < n; i++) {
        double c = 1 + (double)i, d = x[i] - (0.5 * (double)i - 1);
        f += c * d * d;
        if (g)
            g[i] = (float)(2 * c * d);
    }
    return f;
}

START_TEST(test_optimisers_minimise_a_quadratic)
{
    struct {
        tcat_opt_kind kind;
        float lr;
        int steps;
    } cases[] = {{TCAT_OPT_SGD, 0.05f, 500}, {TCAT_OPT_ADAM, 0.05f, 2000},
                 {TCAT_OPT_ADADELTA, 1.0f, 3000}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        enum { N = 5 };
        float x[N] = {3, -2, 1, 0, 4}, g[N];
        tcat_optim o;
        ck_assert_int_eq(tcat_optim_init(&o, cases[c].kind, cases[c].lr, N), TCAT_OK);
        double f0 = quad(x, NULL, N);
        for (int s = 0; s < cases[c].steps; s++) {
            quad(x, g, N);
            tcat_optim_step(&o, x, g);
        }
        double f1 = quad(x, NULL, N);
        ck_assert_msg(f1 < 1e-3 * f0, "kind %d: f %g -> %g", cases[c].kind, f0, f1);
        tcat_optim_free(&o);
    }
    ck_assert_int_eq(tcat_opt_parse("adam"), TCAT_OPT_ADAM);
    ck_assert_int_eq(tcat_opt_parse("adadelta"), TCAT_OPT_ADADELTA);
    ck_assert_int_eq(tcat_opt_parse("rmsprop"), -1);
}
END_TEST

START_TEST(test_row_steps_equal_dense_steps)
{
    /* rows updated through step_rows move exactly as the same entries of a
     * dense step; untouched rows and their state do not move */
    enum { ROWS = 4, DIM = 3 };
    for (int kind = TCAT_OPT_SGD; kind <= TCAT_OPT_ADADELTA; kind++) {
        float a[ROWS * DIM], b[ROWS * DIM], g[ROWS * DIM];
        fill(a, ROWS * DIM, 5);
        memcpy(b, a, sizeof a);
        tcat_optim oa, ob;
        ck_assert_int_eq(tcat_optim_init(&oa, (tcat_opt_kind)kind, 0.1f, ROWS * DIM), TCAT_OK);
        ck_assert_int_eq(tcat_optim_init(&ob, (tcat_opt_kind)kind, 0.1f, ROWS * DIM), TCAT_OK);
        uint32_t rows[2] = {2, 0};
        for (int s = 0; s < 3; s++) {
            fill(g, ROWS * DIM, 10 + (uint64_t)s);
            memset(g + DIM, 0, DIM * sizeof *g);     /* rows 1 and 3: no gradient */
            memset(g + 3 * DIM, 0, DIM * sizeof *g);
            float gr[2 * DIM];
            memcpy(gr, g + 2 * DIM, DIM * sizeof *g);
            memcpy(gr + DIM, g, DIM * sizeof *g);
            tcat_optim_step(&oa, a, g);
            tcat_optim_step_rows(&ob, b, DIM, rows, 2, gr);
        }
        for (int i = 0; i < ROWS * DIM; i++) {
            int row = i / DIM;
            if (row == 0 || row == 2)
                ck_assert_float_eq_tol(a[i], b[i], 1e-6);
        }
        float orig[ROWS * DIM];
        fill(orig, ROWS * DIM, 5);
        for (int j = 0; j < DIM; j++)
            ck_assert(b[DIM + j] == orig[DIM + j] && b[3 * DIM + j] == orig[3 * DIM + j]);
        tcat_optim_free(&oa);
        tcat_optim_free(&ob);
    }
}
END_TEST

START_TEST(test_clip_and_max_norm)
{
    float a[2] = {3, 0}, b[1] = {4};
    float *parts[2] = {a, b};
    size_t len[2] = {2, 1};
    ck_assert_double_eq_tol(tcat_clip_norm(parts, len, 2, 10), 5, 1e-9); /* under: unchanged */
    ck_assert(a[0] == 3 && b[0] == 4);
    ck_assert_double_eq_tol(tcat_clip_norm(parts, len, 2, 1), 5, 1e-9);
    ck_assert_float_eq_tol(a[0], 0.6f, 1e-6);
    ck_assert_float_eq_tol(b[0], 0.8f, 1e-6);

    float W[4] = {3, 4, 0.3f, 0.4f};
    tcat_max_norm_rows(W, 2, 2, 1.0f);
    ck_assert_float_eq_tol(W[0], 0.6f, 1e-6);
    ck_assert_float_eq_tol(W[1], 0.8f, 1e-6);
    ck_assert(W[2] == 0.3f && W[3] == 0.4f); /* within the bound: untouched */
}
END_TEST

Suite *layers_suite(void)
{
    Suite *s = suite_create("layers");
    TCase *tc = tcase_new(s, "vocabulary");
    tcase_add_test(tc, test_wordids_counts_and_caps);
    tcase_add_test(tc, test_copy_doc);
    tc = tcase_new(s, "tables");
    tcase_add_test(tc, test_bag_and_gather);
    tcase_add_test(tc, test_sparse_grad_matches_dense);
    tc = tcase_new(s, "optimisers");
    tcase_add_test(tc, test_optimisers_minimise_a_quadratic);
    tcase_add_test(tc, test_row_steps_equal_dense_steps);
    tcase_add_test(tc, test_clip_and_max_norm);
    return s;
}
