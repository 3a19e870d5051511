/* tests/check_fasttext.c — the fastText-style family: its gradient against
 * finite differences, a known answer, determinism, save and load; the same
 * for multi-label (one-vs-all over label sets). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/model.h"
#include "pipelines/fasttext.h"
#include "tests/suites.h"
#include "tests/synth.h"

/* ---- gradient check ---------------------------------------------------------------- */

/* Single-label (t NULL: label 2) or the label set t. */
static void gradient_case(int ova, const uint8_t *t)
{
    const size_t rows = 7, dim = 5, K = 4;
    const uint32_t ids[] = {0, 3, 3, 6}; /* a repeated id counts twice */
    const size_t n = 4;
    tcat_rng r;
    tcat_rng_seed(&r, 11 + (uint64_t)ova + (t ? 2 : 0));
    double E[7 * 5], W[4 * 5], gE[7 * 5] = {0}, gW[4 * 5] = {0};
    for (size_t i = 0; i < rows * dim; i++)
        E[i] = tcat_rng_uniform(&r) - 0.5;
    for (size_t i = 0; i < K * dim; i++)
        W[i] = tcat_rng_uniform(&r) - 0.5;
    int32_t y = 2;
    double f = tcat_fasttext_loss(E, dim, W, K, ids, n, y, t, ova, gE, gW);
    ck_assert(isfinite(f) && f > 0);
    const double h = 1e-6;
    for (size_t i = 0; i < rows * dim; i++) {
        double keep = E[i];
        E[i] = keep + h;
        double fp = tcat_fasttext_loss(E, dim, W, K, ids, n, y, t, ova, NULL, NULL);
        E[i] = keep - h;
        double fm = tcat_fasttext_loss(E, dim, W, K, ids, n, y, t, ova, NULL, NULL);
        E[i] = keep;
        double num = (fp - fm) / (2 * h);
        ck_assert_msg(fabs(num - gE[i]) <= 1e-6 * fmax(1.0, fabs(num)),
                      "ova %d: dE[%zu] analytic %.9g numeric %.9g", ova, i, gE[i], num);
    }
    for (size_t i = 0; i < K * dim; i++) {
        double keep = W[i];
        W[i] = keep + h;
        double fp = tcat_fasttext_loss(E, dim, W, K, ids, n, y, t, ova, NULL, NULL);
        W[i] = keep - h;
        double fm = tcat_fasttext_loss(E, dim, W, K, ids, n, y, t, ova, NULL, NULL);
        W[i] = keep;
        double num = (fp - fm) / (2 * h);
        ck_assert_msg(fabs(num - gW[i]) <= 1e-6 * fmax(1.0, fabs(num)),
                      "ova %d: dW[%zu] analytic %.9g numeric %.9g", ova, i, gW[i], num);
    }
    /* rows not among the inputs get no gradient */
    for (size_t j = 0; j < dim; j++) {
        ck_assert(gE[1 * dim + j] == 0);
        ck_assert(gE[5 * dim + j] == 0);
    }
}

START_TEST(test_gradient_softmax) { gradient_case(0, NULL); }
END_TEST

START_TEST(test_gradient_ova) { gradient_case(1, NULL); }
END_TEST

START_TEST(test_gradient_multilabel)
{
    static const uint8_t two[4] = {1, 0, 1, 0}, none[4] = {0}, last[4] = {0, 0, 0, 1};
    gradient_case(1, two);
    gradient_case(1, none);
    gradient_case(1, last);
    /* the set {2} is the single label 2; a set has no softmax loss */
    static const uint8_t just2[4] = {0, 0, 1, 0};
    double E[3 * 2] = {0.1, -0.2, 0.3, 0.05, -0.4, 0.2}, W[4 * 2] = {0.3, -0.1, 0.2, 0.4,
                                                                     -0.5, 0.1, 0.0, 0.2};
    const uint32_t ids[] = {0, 2};
    ck_assert(tcat_fasttext_loss(E, 2, W, 4, ids, 2, 2, just2, 1, NULL, NULL) ==
              tcat_fasttext_loss(E, 2, W, 4, ids, 2, 2, NULL, 1, NULL, NULL));
    ck_assert(isnan(tcat_fasttext_loss(E, 2, W, 4, ids, 2, 2, two, 0, NULL, NULL)));
}
END_TEST

/* ---- through the pipeline interface ------------------------------------------------- */

static tcat_pipeline *make(const char *params, size_t K)
{
    json_error_t je;
    json_t *j = json_loads(params, 0, &je);
    ck_assert_ptr_nonnull(j);
    tcat_pipeline *p = NULL;
    tcat_error err = {0};
    ck_assert_msg(tcat_pipeline_create(&p, "fasttext", j, K, &err) == TCAT_OK, "%s", err.msg);
    json_decref(j);
    return p;
}

static float *fit_predict(tcat_pipeline *p, const tcat_corpus *c, const size_t *tr, size_t ntr,
                          const size_t *te, size_t nte)
{
    tcat_docs train = {c, tr, ntr}, test = {c, te, nte};
    tcat_fit_opts o = {.threads = 1, .seed = 42};
    tcat_error err = {0};
    ck_assert_msg(tcat_pipeline_fit(p, &train, &test, &o, &err) == TCAT_OK, "%s", err.msg);
    float *pr = malloc(nte * p->nclasses * sizeof *pr);
    ck_assert_msg(tcat_pipeline_predict_proba(p, &test, pr, 1, &err) == TCAT_OK, "%s", err.msg);
    return pr;
}

static void known_answer(const char *params, size_t K)
{
    tcat_corpus c;
    synth_corpus(&c, K, 60, 5);
    size_t tr[256], te[256], ntr = 0, nte = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (i % 4 == 3)
            te[nte++] = i;
        else
            tr[ntr++] = i;
    }
    tcat_pipeline *p = make(params, K);
    float *pr = fit_predict(p, &c, tr, ntr, te, nte);
    size_t right = 0;
    for (size_t i = 0; i < nte; i++) {
        double sum = 0;
        for (size_t k = 0; k < K; k++)
            sum += pr[i * K + k];
        ck_assert_msg(fabs(sum - 1) < 1e-5, "row %zu sums to %g", i, sum);
        right += tcat_argmax(pr + i * K, K) == (size_t)c.label[te[i]];
    }
    ck_assert_msg(right == nte, "%s: %zu of %zu right", params, right, nte);
    free(pr);
    tcat_pipeline_free(&p);
    tcat_corpus_free(&c);
}

START_TEST(test_known_answer_words)
{
    known_answer("{\"epoch\": 20, \"lr\": 0.5}", 3);
    known_answer("{\"epoch\": 20, \"lr\": 0.5, \"eos\": true, \"punct\": true}", 3);
}
END_TEST

START_TEST(test_known_answer_ngrams_chars)
{
    known_answer("{\"epoch\": 20, \"lr\": 0.5, \"word_ngrams\": 2, \"minn\": 2, \"maxn\": 4, "
                 "\"bucket\": 5000, \"dim\": 16}",
                 3);
}
END_TEST

START_TEST(test_known_answer_pieces)
{
    known_answer("{\"epoch\": 20, \"lr\": 0.5, \"pieces\": 40}", 3);
    known_answer("{\"epoch\": 20, \"lr\": 0.5, \"pieces\": 40, \"pieces_type\": \"bpe\"}", 3);
}
END_TEST

START_TEST(test_known_answer_ova) { known_answer("{\"epoch\": 20, \"lr\": 0.5, \"loss\": \"ova\"}", 2); }
END_TEST

START_TEST(test_deterministic_and_round_trip)
{
    tcat_corpus c;
    synth_corpus(&c, 3, 30, 9);
    size_t all[128];
    for (size_t i = 0; i < c.n; i++)
        all[i] = i;
    const char *params =
        "{\"epoch\": 5, \"word_ngrams\": 2, \"bucket\": 1000, \"dim\": 8, \"pieces\": 30, "
        "\"eos\": true}";
    tcat_pipeline *a = make(params, 3), *b = make(params, 3);
    float *pa = fit_predict(a, &c, all, c.n, all, c.n);
    float *pb = fit_predict(b, &c, all, c.n, all, c.n);
    ck_assert_msg(memcmp(pa, pb, c.n * 3 * sizeof *pa) == 0, "two fits with one seed differ");

    /* save in a model, load, predict the same bits */
    scratch_setup();
    tcat_docs docs = {&c, NULL, c.n};
    float *pl = saved_model_predict(a, 3, &docs, 1);
    ck_assert_msg(memcmp(pa, pl, c.n * 3 * sizeof *pa) == 0, "loaded model predicts otherwise");
    scratch_teardown();
    free(pa);
    free(pb);
    free(pl);
    tcat_pipeline_free(&b);
    tcat_corpus_free(&c);
}
END_TEST

/* A document with no known word gets the training classes' frequencies
 * (the majority class), not uniform scores that fall to class 0; a model
 * file keeps them. */
START_TEST(test_empty_document_gets_prior)
{
    tcat_corpus c;
    tcat_corpus_init(&c);
    for (int i = 0; i < 40; i++) /* class 1 three times as frequent */
        corpus_add_text(&c, i % 4 == 0 ? "apple apricot" : "banana basil", i % 4 == 0 ? 0 : 1);
    corpus_add_text(&c, "durian zucchini", -1); /* unknown words: no input */
    tcat_pipeline *p = make("{\"epoch\": 5, \"dim\": 8}", 2);
    size_t all[40];
    for (size_t i = 0; i < 40; i++)
        all[i] = i;
    tcat_docs train = {&c, all, 40}, none = {&c, NULL, 0}, unknown = {&c, (size_t[]){40}, 1};
    tcat_fit_opts o = {.threads = 1, .seed = 1};
    tcat_error err = {0};
    ck_assert_msg(tcat_pipeline_fit(p, &train, &none, &o, &err) == TCAT_OK, "%s", err.msg);
    float pr[2];
    ck_assert(tcat_pipeline_predict_proba(p, &unknown, pr, 1, &err) == TCAT_OK);
    ck_assert_float_eq_tol(pr[0], 0.25f, 1e-6f);
    ck_assert_float_eq_tol(pr[1], 0.75f, 1e-6f);
    scratch_setup();
    float *pl = saved_model_predict(p, 2, &unknown, 1);
    ck_assert(pl[0] == pr[0] && pl[1] == pr[1]);
    scratch_teardown();
    free(pl);
    tcat_corpus_free(&c);
}
END_TEST

/* ---- multi-label ------------------------------------------------------------------ */

/* Fits a multi-label fastText on a synth_ml_corpus and predicts another
 * (held out); dev, when not NULL, calibrates. cw: class weights or NULL. */
static float *ml_fit_predict(const char *params, const tcat_corpus *tr, const tcat_corpus *dv,
                             const tcat_corpus *te, const double *cw, tcat_pipeline **out)
{
    tcat_pipeline *p = make(params, 3);
    ck_assert(p->multilabel);
    tcat_docs train = {tr, NULL, tr->n}, dev = {dv ? dv : tr, NULL, dv ? dv->n : 0},
              test = {te, NULL, te->n};
    tcat_fit_opts o = {.threads = 1, .seed = 42, .class_weight = cw};
    tcat_error err = {0};
    ck_assert_msg(tcat_pipeline_fit(p, &train, &dev, &o, &err) == TCAT_OK, "%s", err.msg);
    float *pr = malloc(te->n * 3 * sizeof *pr);
    ck_assert_msg(tcat_pipeline_predict_proba(p, &test, pr, 1, &err) == TCAT_OK, "%s", err.msg);
    if (out)
        *out = p;
    else
        tcat_pipeline_free(&p);
    return pr;
}

START_TEST(test_multilabel_known_answer)
{
    tcat_corpus tr, dv, te;
    synth_ml_corpus(&tr, 3, 240, 1);
    synth_ml_corpus(&dv, 3, 60, 2);
    synth_ml_corpus(&te, 3, 90, 3);
    /* "softmax" asked with multilabel: one-vs-all all the same */
    tcat_pipeline *p;
    float *pr = ml_fit_predict("{\"multilabel\": true, \"loss\": \"softmax\", \"epoch\": 20, "
                               "\"lr\": 0.5, \"dim\": 16}",
                               &tr, &dv, &te, NULL, &p);
    const json_t *ep = tcat_pipeline_params(p);
    ck_assert_str_eq(json_string_value(json_object_get(ep, "loss")), "ova");
    ck_assert(json_is_true(json_object_get(ep, "multilabel")));
    double f1 = synth_ml_micro_f1(&te, pr, te.n, 3);
    ck_assert_msg(f1 >= 0.9, "micro-F1 %.3f", f1);
    /* document 0 has labels 0 and 1: both likely, the row not a softmax */
    ck_assert_msg(pr[0] > 0.5f && pr[1] > 0.5f && pr[2] < 0.5f, "doc 0: %g %g %g", pr[0], pr[1],
                  pr[2]);
    free(pr);
    tcat_pipeline_free(&p);
    tcat_corpus_free(&tr);
    tcat_corpus_free(&dv);
    tcat_corpus_free(&te);
}
END_TEST

START_TEST(test_multilabel_class_weight)
{
    /* label 2's weight scales its positive term: its probabilities rise
     * (no dev: no temperature to absorb it) */
    tcat_corpus tr;
    synth_ml_corpus(&tr, 3, 120, 4);
    const char *params = "{\"multilabel\": true, \"epoch\": 5, \"dim\": 8}";
    const double one[3] = {1, 1, 1}, heavy[3] = {1, 1, 8};
    float *pa = ml_fit_predict(params, &tr, NULL, &tr, one, NULL);
    float *pb = ml_fit_predict(params, &tr, NULL, &tr, heavy, NULL);
    double ma = 0, mb = 0;
    for (size_t i = 0; i < tr.n; i++) {
        ma += pa[i * 3 + 2];
        mb += pb[i * 3 + 2];
    }
    ck_assert_msg(mb > ma, "mean p(label 2): weight 8 %g, weight 1 %g", mb / tr.n, ma / tr.n);
    free(pa);
    free(pb);
    tcat_corpus_free(&tr);
}
END_TEST

START_TEST(test_multilabel_deterministic_and_round_trip)
{
    tcat_corpus tr, dv;
    synth_ml_corpus(&tr, 3, 90, 5);
    synth_ml_corpus(&dv, 3, 30, 6);
    const char *params = "{\"multilabel\": true, \"epoch\": 5, \"word_ngrams\": 2, "
                         "\"bucket\": 1000, \"dim\": 8, \"eos\": true}";
    tcat_pipeline *a;
    float *pa = ml_fit_predict(params, &tr, &dv, &tr, NULL, &a);
    float *pb = ml_fit_predict(params, &tr, &dv, &tr, NULL, NULL);
    ck_assert_msg(memcmp(pa, pb, tr.n * 3 * sizeof *pa) == 0, "two fits with one seed differ");
    scratch_setup();
    tcat_docs docs = {&tr, NULL, tr.n};
    float *pl = saved_model_predict(a, 3, &docs, 1);
    ck_assert_msg(memcmp(pa, pl, tr.n * 3 * sizeof *pa) == 0, "loaded model predicts otherwise");
    scratch_teardown();
    free(pa);
    free(pb);
    free(pl);
    tcat_corpus_free(&tr);
    tcat_corpus_free(&dv);
}
END_TEST

START_TEST(test_bad_hyperparameters)
{
    static const char *const bad[][2] = {
        {"{\"dim\": 0}", "dim"},          {"{\"lr\": -1}", "lr"},
        {"{\"epoch\": 2.5}", "epoch"},    {"{\"loss\": \"hinge\"}", "loss"},
        {"{\"minn\": 3, \"maxn\": 2}", "minn"},
        {"{\"word_ngrams\": 2, \"bucket\": 0}", "bucket"},
        {"{\"colour\": 1}", "colour"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_error_t je;
        json_t *j = json_loads(bad[i][0], 0, &je);
        tcat_pipeline *p = NULL;
        tcat_error err = {0};
        ck_assert_msg(tcat_pipeline_create(&p, "fasttext", j, 2, &err) == TCAT_ERR_USAGE,
                      "%s accepted", bad[i][0]);
        ck_assert_msg(strstr(err.msg, bad[i][1]), "'%s' does not name %s", err.msg, bad[i][1]);
        ck_assert_ptr_null(p);
        json_decref(j);
    }
}
END_TEST

Suite *fasttext_suite(void)
{
    Suite *s = suite_create("fasttext");
    TCase *tc = tcase_create("gradient");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_gradient_softmax);
    tcase_add_test(tc, test_gradient_ova);
    tcase_add_test(tc, test_gradient_multilabel);
    suite_add_tcase(s, tc);
    tc = tcase_create("pipeline");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, test_known_answer_words);
    tcase_add_test(tc, test_known_answer_ngrams_chars);
    tcase_add_test(tc, test_known_answer_pieces);
    tcase_add_test(tc, test_known_answer_ova);
    tcase_add_test(tc, test_deterministic_and_round_trip);
    tcase_add_test(tc, test_empty_document_gets_prior);
    tcase_add_test(tc, test_multilabel_known_answer);
    tcase_add_test(tc, test_multilabel_class_weight);
    tcase_add_test(tc, test_multilabel_deterministic_and_round_trip);
    tcase_add_test(tc, test_bad_hyperparameters);
    suite_add_tcase(s, tc);
    return s;
}
