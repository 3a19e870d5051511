/* tests/check_bag.c — seed bagging (pipelines/bag.h): a bag predicts the
 * mean of its copies, each the family's own fit under its seed; a bag of
 * a deterministic family is that family; save and load, a file missing a
 * copy, bad "bag" values, a deadline that leaves copies out (the
 * search's use of it: tests/check_search.c). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "model/modelfile.h"
#include "pipelines/bag.h"
#include "pipelines/pipeline.h"
#include "tests/suites.h"
#include "tests/synth.h"
#include "tests/testutil.h"

#define CNN "{\"dim\": 8, \"maps\": 4, \"epochs\": 3"

static float *fit_predict(tcat_pipeline *p, const tcat_docs *train, const tcat_docs *test,
                          uint64_t seed, double deadline)
{
    tcat_fit_opts o = {1, seed, deadline, NULL, NULL, NULL, NULL};
    tcat_error err = {0};
    ck_assert_msg(tcat_pipeline_fit(p, train, test, &o, &err) == TCAT_OK, "%s", err.msg);
    float *pr = malloc(test->n * p->nclasses * sizeof *pr);
    ck_assert_msg(tcat_pipeline_predict_proba(p, test, pr, 1, &err) == TCAT_OK, "%s", err.msg);
    return pr;
}

static long bag_of(const tcat_pipeline *p)
{
    const json_t *b = json_object_get(tcat_pipeline_params(p), "bag");
    return b ? (long)json_integer_value(b) : 1;
}

/* A bag of three is the mean of three fits with tcat_bag_seed's seeds,
 * the first being the plain fit under the caller's seed. */
START_TEST(test_bag_is_the_mean_of_its_seeds)
{
    tcat_corpus c;
    synth_corpus(&c, 3, 30, 3);
    size_t *all_idx = synth_iota(c.n);
    tcat_docs train = {&c, all_idx, c.n * 3 / 4}, test = {&c, all_idx + c.n * 3 / 4, c.n / 4};
    tcat_pipeline *b = synth_pipeline("cnn", CNN ", \"bag\": 3}", 3);
    ck_assert_str_eq(b->ops->family, "cnn");
    float *pb = fit_predict(b, &train, &test, 42, 0);
    ck_assert_int_eq(bag_of(b), 3);
    ck_assert_int_eq((long)json_integer_value(json_object_get(tcat_pipeline_params(b), "maps")),
                     4);
    size_t cells = test.n * 3;
    double *mean = calloc(cells, sizeof *mean);
    float *first = NULL;
    for (size_t i = 0; i < 3; i++) {
        tcat_pipeline *p = synth_pipeline("cnn", CNN "}", 3);
        float *pp = fit_predict(p, &train, &test, tcat_bag_seed(42, i), 0);
        for (size_t j = 0; j < cells; j++)
            mean[j] += pp[j] / 3.0;
        if (i == 0)
            first = pp;
        else
            free(pp);
        tcat_pipeline_free(&p);
    }
    ck_assert(tcat_bag_seed(42, 0) == 42 && tcat_bag_seed(42, 1) != tcat_bag_seed(42, 2));
    bool differs = false;
    for (size_t j = 0; j < cells; j++) {
        ck_assert_msg(fabs(pb[j] - mean[j]) < 1e-5, "cell %zu: bag %g, mean of seeds %g", j,
                      pb[j], mean[j]);
        differs |= fabs(first[j] - mean[j]) > 1e-4;
    }
    ck_assert_msg(differs, "the seeds all fitted the same network");
    free(first);
    free(mean);
    free(pb);
    tcat_pipeline_free(&b);
    free(all_idx);
    tcat_corpus_free(&c);
}
END_TEST

/* The linear family does not depend on the seed: its bag predicts as it
 * does. "bag": 1 is no bag at all. */
START_TEST(test_bag_of_a_deterministic_family)
{
    tcat_corpus c;
    synth_corpus(&c, 2, 40, 8);
    tcat_docs all = {&c, NULL, c.n};
    tcat_pipeline *b = synth_pipeline("linear", "{\"C\": 1, \"bag\": 2}", 2);
    tcat_pipeline *p = synth_pipeline("linear", "{\"C\": 1, \"bag\": 1}", 2);
    ck_assert_int_eq(bag_of(b), 2);
    ck_assert(json_object_get(tcat_pipeline_params(p), "bag") == NULL);
    float *pb = fit_predict(b, &all, &all, 7, 0), *pp = fit_predict(p, &all, &all, 7, 0);
    for (size_t j = 0; j < c.n * 2; j++)
        ck_assert_msg(fabs(pb[j] - pp[j]) < 1e-6, "cell %zu: %g against %g", j, pb[j], pp[j]);
    free(pb);
    free(pp);
    tcat_pipeline_free(&b);
    tcat_pipeline_free(&p);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_bag_bad_values)
{
    static const char *const bad[] = {"0", "17", "-1", "2.5", "\"3\"", "true", "null"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char params[64];
        snprintf(params, sizeof params, "{\"bag\": %s}", bad[i]);
        json_error_t je;
        json_t *j = json_loads(params, 0, &je);
        ck_assert(j != NULL);
        tcat_pipeline *p = NULL;
        tcat_error err = {0};
        ck_assert_int_eq(tcat_pipeline_create(&p, "cnn", j, 2, &err), TCAT_ERR_USAGE);
        ck_assert_msg(strstr(err.msg, "'bag'") != NULL, "%s: %s", params, err.msg);
        ck_assert(p == NULL);
        json_decref(j);
    }
    /* the family still checks the rest */
    json_t *j = json_pack("{s:i, s:i}", "bag", 2, "no_such_key", 1);
    tcat_pipeline *p = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_pipeline_create(&p, "cnn", j, 2, &err), TCAT_ERR_USAGE);
    ck_assert_msg(strstr(err.msg, "no_such_key") != NULL, "%s", err.msg);
    json_decref(j);
}
END_TEST

/* Copies the model file from to to without section `drop`. */
static void copy_without(const char *from, const char *to, const char *drop)
{
    tcat_error err = {0};
    tcat_mreader *r = NULL;
    tcat_mwriter *w = NULL;
    ck_assert_msg(tcat_mreader_open(&r, from, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_msg(tcat_mwriter_open(&w, to, &err) == TCAT_OK, "%s", err.msg);
    bool dropped = false;
    for (size_t i = 0; i < tcat_mreader_count(r); i++) {
        const void *data;
        size_t size;
        const char *name = tcat_mreader_section(r, i, &data, &size);
        if (strcmp(name, drop) == 0) {
            dropped = true;
            continue;
        }
        ck_assert_msg(tcat_mwriter_add(w, name, data, size, &err) == TCAT_OK, "%s", err.msg);
    }
    ck_assert_msg(dropped, "no section '%s' to drop", drop);
    ck_assert_msg(tcat_mwriter_commit(&w, &err) == TCAT_OK, "%s", err.msg);
    tcat_mreader_close(&r);
}

START_TEST(test_bag_round_trip)
{
    tcat_corpus c;
    synth_corpus(&c, 3, 20, 5);
    tcat_docs all = {&c, NULL, c.n};
    tcat_pipeline *b = synth_pipeline("rnn", "{\"dim\": 8, \"hidden\": 4, \"epochs\": 2, \"bag\": 2}", 3);
    float *before = fit_predict(b, &all, &all, 9, 0);
    scratch_setup();
    tcat_model *m = synth_model(3);
    tcat_error err = {0};
    ck_assert(tcat_model_add_member(m, b, 1.0, NULL, &err) == TCAT_OK);
    const char *path = scratch_path("bag.tcat");
    ck_assert_msg(tcat_model_save(m, path, &err) == TCAT_OK, "%s", err.msg);
    tcat_model_free(&m);

    ck_assert_msg(tcat_model_load(&m, path, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_str_eq(m->members[0].p->ops->family, "rnn");
    ck_assert_int_eq(bag_of(m->members[0].p), 2);
    float *after = malloc(c.n * 3 * sizeof *after);
    ck_assert_msg(tcat_model_predict_proba(m, &all, after, 1, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_msg(memcmp(before, after, c.n * 3 * sizeof *after) == 0,
                  "the loaded bag predicts otherwise");
    tcat_model_free(&m);

    /* a file missing the second copy's weights: a model error naming it */
    char cut[4096];
    snprintf(cut, sizeof cut, "%s", scratch_path("cut.tcat"));
    copy_without(path, cut, "m0.b1.theta");
    ck_assert_int_eq(tcat_model_load(&m, cut, &err), TCAT_ERR_MODEL);
    ck_assert_msg(strstr(err.msg, "m0.b1.theta") != NULL, "%s", err.msg);
    ck_assert(m == NULL);
    scratch_teardown();
    free(before);
    free(after);
    tcat_corpus_free(&c);
}
END_TEST

/* A deadline already past: the first copy fits (with what it learns by
 * then), the others are left out and the bag says so. */
START_TEST(test_bag_deadline_leaves_copies_out)
{
    tcat_corpus c;
    synth_corpus(&c, 2, 20, 6);
    tcat_docs all = {&c, NULL, c.n};
    tcat_pipeline *b = synth_pipeline("cnn", CNN ", \"bag\": 3}", 2);
    float *pr = fit_predict(b, &all, &all, 1, tcat_now() - 1);
    ck_assert_int_eq(bag_of(b), 1);
    for (size_t i = 0; i < c.n; i++)
        ck_assert(fabs(pr[2 * i] + pr[2 * i + 1] - 1) < 1e-4);
    free(pr);
    tcat_pipeline_free(&b);
    tcat_corpus_free(&c);
}
END_TEST

Suite *bag_suite(void)
{
    Suite *s = suite_create("bag");
    TCase *tc = tcase_new(s, "bag");
    tcase_add_test(tc, test_bag_is_the_mean_of_its_seeds);
    tcase_add_test(tc, test_bag_of_a_deterministic_family);
    tcase_add_test(tc, test_bag_bad_values);
    tcase_add_test(tc, test_bag_round_trip);
    tcase_add_test(tc, test_bag_deadline_leaves_copies_out);
    return s;
}
