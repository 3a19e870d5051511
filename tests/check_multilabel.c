/* tests/check_multilabel.c — label sets: metrics, thresholds, the combiner,
 * the model file and the search. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/model.h"
#include "search/metrics.h"
#include "search/search.h"
#include "search/stack.h"
#include "search/thresholds.h"
#include "tests/suites.h"
#include "tests/synth.h"
#include "tests/testutil.h"

START_TEST(test_metrics_sets)
{
    /* 4 documents, 3 labels; the last has no true label (unknown) */
    const uint8_t truth[] = {1, 1, 0, /**/ 0, 1, 0, /**/ 0, 0, 1, /**/ 0, 0, 0};
    const uint8_t pred[] = {1, 0, 0, /**/ 0, 1, 1, /**/ 0, 0, 1, /**/ 1, 1, 1};
    tcat_metrics m;
    tcat_error err = {0};
    ck_assert(tcat_metrics_compute_sets(&m, truth, pred, 4, 3, &err) == TCAT_OK);
    ck_assert(m.sets && !m.confusion);
    ck_assert_uint_eq(m.n, 3);
    ck_assert_uint_eq(m.unknown, 1);
    /* label 0: tp 1; label 1: tp 1, fn 1; label 2: tp 1, fp 1 */
    ck_assert_double_eq_tol(m.f1[0], 1.0, 1e-12);
    ck_assert_double_eq_tol(m.f1[1], 2.0 / 3, 1e-12);
    ck_assert_double_eq_tol(m.f1[2], 2.0 / 3, 1e-12);
    ck_assert_double_eq_tol(m.macro_f1, (1 + 4.0 / 3) / 3, 1e-12);
    ck_assert_double_eq_tol(m.micro_f1, 6.0 / 8, 1e-12); /* tp 3, fp 1, fn 1 */
    ck_assert_double_eq_tol(m.weighted_f1, (1 + 2 * 2.0 / 3 + 2.0 / 3) / 4, 1e-12);
    ck_assert_double_eq_tol(m.accuracy, 1.0 / 3, 1e-12);
    json_t *j = tcat_metrics_to_json(&m, NULL);
    ck_assert(json_is_true(json_object_get(j, "multilabel")));
    ck_assert_ptr_null(json_object_get(j, "confusion"));
    json_decref(j);
    FILE *f = tmpfile();
    ck_assert(tcat_metrics_print(&m, NULL, f) == TCAT_OK);
    rewind(f);
    char line[128];
    ck_assert(fgets(line, sizeof line, f) && strncmp(line, "exact match", 11) == 0);
    fclose(f);
    tcat_metrics_free(&m);
}
END_TEST

START_TEST(test_thresholds_known_answer)
{
    /* label 0 separable at 0.6 (positives 0.7, 0.9; negatives 0.2, 0.5),
     * label 1 never true, label 2 always true */
    const float p[] = {0.7f, 0.1f, 0.3f, /**/ 0.9f, 0.4f, 0.2f,
                       0.2f, 0.3f, 0.8f, /**/ 0.5f, 0.2f, 0.9f};
    const uint8_t t[] = {1, 0, 1, /**/ 1, 0, 1, /**/ 0, 0, 1, /**/ 0, 0, 1};
    float thr[3];
    tcat_error err = {0};
    static const tcat_metric metrics[] = {TCAT_METRIC_MACRO_F1, TCAT_METRIC_MICRO_F1,
                                          TCAT_METRIC_ACCURACY, TCAT_METRIC_WEIGHTED_F1};
    for (size_t q = 0; q < 4; q++) {
        ck_assert(tcat_thresholds_fit(p, t, 4, 3, metrics[q], thr, &err) == TCAT_OK);
        ck_assert_msg(thr[0] > 0.5f && thr[0] <= 0.7f, "metric %zu: thr %g", q, thr[0]);
        ck_assert(thr[1] > 0.4f);   /* never predicted */
        ck_assert(thr[2] <= 0.2f);  /* always */
        uint8_t sets[12];
        tcat_thresholds_apply(p, 4, 3, thr, sets);
        ck_assert_mem_eq(sets, t, 12);
        tcat_metrics m;
        ck_assert(tcat_thresholds_score(p, t, 4, 3, metrics[q], NULL, &m, &err) == TCAT_OK);
        ck_assert_double_eq_tol(m.micro_f1, 1.0, 1e-12);
        ck_assert_double_eq_tol(m.accuracy, 1.0, 1e-12);
        tcat_metrics_free(&m);
    }
    /* a row under every threshold gets its most probable label */
    const float low[] = {0.1f, 0.3f, 0.2f};
    const float high[] = {0.5f, 0.5f, 0.5f};
    uint8_t one[3];
    tcat_thresholds_apply(low, 1, 3, high, one);
    ck_assert(one[0] == 0 && one[1] == 1 && one[2] == 0);
}
END_TEST

/* The micro-F1 tuning beats (or equals) per-label F1 tuning on micro-F1,
 * on random scores with random truth. */
START_TEST(test_thresholds_micro)
{
    size_t n = 300, K = 5;
    float *p = malloc(n * K * sizeof *p);
    uint8_t *t = malloc(n * K);
    tcat_rng r;
    tcat_rng_seed(&r, 7);
    for (size_t i = 0; i < n * K; i++) {
        t[i] = tcat_rng_below(&r, 4) == 0;
        p[i] = (float)(0.6 * tcat_rng_uniform(&r) + (t[i] ? 0.3 : 0.0));
    }
    tcat_metrics a, b;
    tcat_error err = {0};
    ck_assert(tcat_thresholds_score(p, t, n, K, TCAT_METRIC_MICRO_F1, NULL, &a, &err) == TCAT_OK);
    ck_assert(tcat_thresholds_score(p, t, n, K, TCAT_METRIC_MACRO_F1, NULL, &b, &err) == TCAT_OK);
    ck_assert(a.micro_f1 >= b.micro_f1 - 1e-3);
    ck_assert(b.macro_f1 >= a.macro_f1 - 1e-3);
    ck_assert(a.micro_f1 > 0.6);
    tcat_metrics_free(&a);
    tcat_metrics_free(&b);
    free(p);
    free(t);
}
END_TEST

/* The combiner of label sets: a good member alone beats it averaged with
 * noise; two members each knowing half the labels average to both. */
START_TEST(test_combine_sets)
{
    size_t n = 400, K = 4;
    uint8_t *t = malloc(n * K);
    float *good = malloc(n * K * sizeof *good), *noise = malloc(n * K * sizeof *noise);
    float *left = malloc(n * K * sizeof *left), *right = malloc(n * K * sizeof *right);
    tcat_rng r;
    tcat_rng_seed(&r, 3);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < K; k++) {
            size_t c = i * K + k;
            t[c] = tcat_rng_below(&r, 3) == 0;
            double u = tcat_rng_uniform(&r);
            good[c] = (float)(t[c] ? 0.6 + 0.3 * u : 0.1 + 0.3 * u);
            noise[c] = (float)tcat_rng_uniform(&r);
            /* left knows labels 0-1, right labels 2-3 */
            left[c] = k < 2 ? good[c] : (float)(0.3 + 0.4 * tcat_rng_uniform(&r));
            right[c] = k >= 2 ? good[c] : (float)(0.3 + 0.4 * tcat_rng_uniform(&r));
        }
    tcat_combiner c;
    tcat_error err = {0};
    const float *pool1[] = {noise, good};
    ck_assert(tcat_combine_choose_sets(&c, pool1, 2, n, K, t, TCAT_METRIC_MACRO_F1, 4, 1, &err) ==
              TCAT_OK);
    ck_assert_int_eq(c.kind, TCAT_COMBINE_SINGLE);
    ck_assert(c.weight[1] == 1 && c.weight[0] == 0);
    ck_assert_double_eq(c.cv_score[TCAT_COMBINE_STACK], -1);
    ck_assert(c.cv_score[TCAT_COMBINE_SINGLE] > 0.95);
    tcat_combine_free(&c);

    const float *pool2[] = {left, right};
    ck_assert(tcat_combine_choose_sets(&c, pool2, 2, n, K, t, TCAT_METRIC_MACRO_F1, 4, 1, &err) ==
              TCAT_OK);
    ck_assert_int_eq(c.kind, TCAT_COMBINE_AVERAGE);
    ck_assert(c.weight[0] > 0 && c.weight[1] > 0);
    ck_assert(c.cv_score[TCAT_COMBINE_AVERAGE] > c.cv_score[TCAT_COMBINE_SINGLE]);
    /* deterministic */
    tcat_combiner d;
    ck_assert(tcat_combine_choose_sets(&d, pool2, 2, n, K, t, TCAT_METRIC_MACRO_F1, 4, 1, &err) ==
              TCAT_OK);
    ck_assert(d.kind == c.kind && d.weight[0] == c.weight[0] && d.weight[1] == c.weight[1]);
    ck_assert(d.cv_score[1] == c.cv_score[1]);
    tcat_combine_free(&c);
    tcat_combine_free(&d);
    free(t);
    free(good);
    free(noise);
    free(left);
    free(right);
}
END_TEST

static const char *const linear_only[] = {"linear", NULL};

/* The search end to end on a multi-label corpus: one-vs-all candidates,
 * thresholds, a model file that keeps them and predicts the label sets. */
START_TEST(test_search_sets)
{
    tcat_corpus c;
    synth_ml_corpus(&c, 3, 600, 5);
    size_t n = c.n, nfit = n * 4 / 5;
    size_t *idx = synth_iota(n);
    tcat_plan plan;
    ck_assert(tcat_plan_holdout(&plan, &c, idx, nfit, idx + nfit, n - nfit) == TCAT_OK);
    tcat_search_opts o = {.t0 = tcat_now(),
                          .budget = 600,
                          .trials = 4,
                          .metric = TCAT_METRIC_MACRO_F1,
                          .threads = 1,
                          .seed = 3,
                          .max_members = 2,
                          .families = linear_only,
                          .class_weight = 0,
                          .multilabel = true};
    tcat_search s;
    tcat_error err = {0};
    ck_assert_msg(tcat_search_run(&s, &o, &plan, 3, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(s.thresholds);
    for (size_t i = 0; i < s.ncand; i++)
        ck_assert(json_is_true(json_object_get(s.cands[i].params, "multilabel")));
    ck_assert_msg(s.final_score > 0.9, "held-out macro-F1 %g", s.final_score);

    tcat_model *m = synth_model(3);
    tcat_docs all = {&c, NULL, n};
    ck_assert_msg(tcat_search_refit(&s, &o, &all, 3, m, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_ptr_nonnull(m->thresholds);
    const char *path = scratch_path("ml.tcat");
    ck_assert(tcat_model_save(m, path, &err) == TCAT_OK);
    tcat_model *back = NULL;
    ck_assert_msg(tcat_model_load(&back, path, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_mem_eq(back->thresholds, m->thresholds, 3 * sizeof(float));
    tcat_docs test = {&c, idx + nfit, n - nfit};
    float *p = malloc(test.n * 3 * sizeof *p);
    ck_assert(tcat_model_predict_proba(back, &test, p, 1, &err) == TCAT_OK);
    uint8_t *sets = malloc(test.n * 3), *truth = tcat_docs_targets(&test, 3);
    tcat_thresholds_apply(p, test.n, 3, back->thresholds, sets);
    tcat_metrics mt;
    ck_assert(tcat_metrics_compute_sets(&mt, truth, sets, test.n, 3, &err) == TCAT_OK);
    ck_assert_msg(mt.accuracy > 0.9, "exact match %g", mt.accuracy);
    tcat_metrics_free(&mt);
    tcat_model_free(&back);

    /* thresholds of the wrong size, or missing while members are
     * one-vs-all: a bad model file */
    free(m->thresholds);
    m->thresholds = NULL;
    ck_assert(tcat_model_save(m, path, &err) == TCAT_OK);
    ck_assert_int_eq(tcat_model_load(&back, path, &err), TCAT_ERR_MODEL);
    ck_assert_ptr_nonnull(strstr(err.msg, "thresholds"));
    ck_assert_int_eq(tcat_model_set_thresholds(m, (const float[]){0.5f}, 1, &err),
                     TCAT_ERR_USAGE);

    free(p);
    free(sets);
    free(truth);
    tcat_model_free(&m);
    tcat_search_free(&s);
    tcat_plan_free(&plan);
    free(idx);
    tcat_corpus_free(&c);
}
END_TEST

/* A spent budget with label sets: the sample fallback tunes thresholds
 * too. */
START_TEST(test_search_sets_spent_budget)
{
    tcat_corpus c;
    synth_ml_corpus(&c, 3, 600, 8);
    size_t *idx = synth_iota(c.n);
    tcat_plan plan;
    ck_assert(tcat_plan_holdout(&plan, &c, idx, 480, idx + 480, 120) == TCAT_OK);
    tcat_search_opts o = {.t0 = tcat_now() - 10, .budget = 1, .metric = TCAT_METRIC_MICRO_F1,
                          .threads = 1, .seed = 3, .max_members = 2, .multilabel = true};
    tcat_search s;
    tcat_error err = {0};
    ck_assert_msg(tcat_search_run(&s, &o, &plan, 3, &err) == TCAT_OK, "%s", err.msg);
    ck_assert(s.sample_share > 0 && s.thresholds != NULL);
    ck_assert_msg(s.final_score > 0.8, "micro-F1 %g", s.final_score);
    tcat_search_free(&s);
    tcat_plan_free(&plan);
    free(idx);
    tcat_corpus_free(&c);
}
END_TEST

Suite *multilabel_suite(void)
{
    Suite *s = suite_create("multilabel");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 0);
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_metrics_sets);
    tcase_add_test(tc, test_thresholds_known_answer);
    tcase_add_test(tc, test_thresholds_micro);
    tcase_add_test(tc, test_combine_sets);
    tcase_add_test(tc, test_search_sets);
    tcase_add_test(tc, test_search_sets_spent_budget);
    suite_add_tcase(s, tc);
    return s;
}
