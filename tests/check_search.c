/* tests/check_search.c — the search space (every known-good setting and
 * every random draw makes a valid pipeline; malformed spaces are refused)
 * and the successive-halving scheduler (deterministic for a seed, random
 * settings climb rungs only when good, class weights, the throughput cap,
 * networks bagged over seeds on k-fold plans). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pipelines/pipeline.h"
#include "search/search.h"
#include "search/space.h"
#include "tests/suites.h"
#include "tests/synth.h"
#include "tests/testutil.h"

START_TEST(test_space_settings_are_valid)
{
    tcat_space *sp;
    tcat_error err = {0};
    ck_assert_msg(tcat_space_default(&sp, &err) == TCAT_OK, "%s", err.msg);
    ck_assert(tcat_space_portfolio_size(sp) >= 10);
    for (size_t i = 0; i < tcat_space_portfolio_size(sp); i++) {
        const char *f;
        const json_t *p;
        tcat_space_portfolio(sp, i, &f, &p);
        tcat_pipeline *pl = NULL;
        ck_assert_msg(tcat_pipeline_create(&pl, f, p, 3, &err) == TCAT_OK, "portfolio %zu: %s", i,
                      err.msg);
        tcat_pipeline_free(&pl);
    }
    tcat_rng r;
    tcat_rng_seed(&r, 7);
    const char *const *fams = tcat_space_families(sp);
    size_t nf = 0;
    for (; fams[nf]; nf++)
        for (int k = 0; k < 200; k++) {
            json_t *p = tcat_space_sample(sp, fams[nf], &r);
            ck_assert_ptr_nonnull(p);
            tcat_pipeline *pl = NULL;
            char *txt = json_dumps(p, JSON_COMPACT);
            ck_assert_msg(tcat_pipeline_create(&pl, fams[nf], p, 3, &err) == TCAT_OK,
                          "%s %s: %s", fams[nf], txt, err.msg);
            free(txt);
            tcat_pipeline_free(&pl);
            json_decref(p);
        }
    ck_assert_uint_eq(nf, 4);
    ck_assert_ptr_null(tcat_space_sample(sp, "nosuch", &r));
    ck_assert(tcat_space_cost(sp, "cnn") > tcat_space_cost(sp, "linear"));

    /* the same seed draws the same settings */
    tcat_rng a, b;
    tcat_rng_seed(&a, 3);
    tcat_rng_seed(&b, 3);
    json_t *x = tcat_space_sample(sp, "linear", &a), *y = tcat_space_sample(sp, "linear", &b);
    ck_assert(json_equal(x, y));
    json_decref(x);
    json_decref(y);
    tcat_space_free(&sp);
}
END_TEST

START_TEST(test_space_malformed)
{
    static const char *const bad[][2] = {
        {"{", "line"},
        {"{\"order\": [\"linear\"], \"portfolio\": []}", "needs"},
        {"{\"order\": [\"linear\"], \"portfolio\": [], \"families\": {}}", "no space"},
        {"{\"order\": [\"linear\"], \"portfolio\": [], \"families\": {\"linear\": {\"cost\": 1, "
         "\"space\": {\"C\": {\"log\": [0, 1]}}}}}",
         "linear.C"},
        {"{\"order\": [\"linear\"], \"portfolio\": [], \"families\": {\"linear\": {\"cost\": 1, "
         "\"space\": {\"C\": {\"choice\": []}}}}}",
         "linear.C"},
        {"{\"order\": [], \"portfolio\": [[\"linear\"]], \"families\": {}}", "portfolio entry 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tcat_space *sp = NULL;
        tcat_error err = {0};
        ck_assert_msg(tcat_space_parse(&sp, bad[i][0], &err) == TCAT_ERR_USAGE, "case %zu", i);
        ck_assert_msg(strstr(err.msg, bad[i][1]) != NULL, "case %zu: '%s'", i, err.msg);
        ck_assert_ptr_null(sp);
    }
}
END_TEST

/* A search over 1200 synthetic documents, 5-fold: fold 1 fits on 960,
 * so the first rung (a ninth: 107 documents) is skipped and random
 * settings start on a third (320). */
static void search(tcat_search *s, const tcat_plan *plan, size_t trials, int class_weight,
                   double min_tp)
{
    static const char *const linear_only[] = {"linear", NULL};
    tcat_search_opts o = {.t0 = tcat_now(),
                          .budget = 1e6,
                          .trials = trials,
                          .metric = TCAT_METRIC_MACRO_F1,
                          .threads = 1,
                          .seed = 5,
                          .max_members = 3,
                          .families = linear_only,
                          .class_weight = class_weight,
                          .min_throughput = min_tp};
    tcat_error err = {0};
    ck_assert_msg(tcat_search_run(s, &o, plan, 3, &err) == TCAT_OK, "%s", err.msg);
}

START_TEST(test_scheduler)
{
    tcat_corpus c;
    synth_corpus(&c, 3, 400, 11);
    /* a third of the labels made random: settings now score differently */
    tcat_rng r;
    tcat_rng_seed(&r, 2);
    for (size_t i = 0; i < c.n; i++)
        if (tcat_rng_below(&r, 3) == 0)
            c.label[i] = c.labels[c.doc_label[i]] = (int32_t)tcat_rng_below(&r, 3);
    size_t *idx = synth_iota(c.n);
    tcat_plan plan;
    ck_assert(tcat_plan_kfold(&plan, &c, idx, c.n, 5, 1) == TCAT_OK);
    tcat_search a, b;
    search(&a, &plan, 30, -1, 0);
    search(&b, &plan, 30, -1, 0);
    ck_assert_uint_eq(a.ncand, 30);
    ck_assert_uint_eq(a.ncand, b.ncand);
    size_t random = 0, random_done = 0, balanced = 0;
    for (size_t i = 0; i < a.ncand; i++) {
        const tcat_candidate *x = &a.cands[i], *y = &b.cands[i];
        ck_assert(x->done == y->done && x->rung == y->rung && x->picks == y->picks);
        ck_assert(x->balanced == y->balanced);
        if (x->done)
            ck_assert(x->score == y->score);
        if (x->portfolio)
            ck_assert_msg(x->done, "portfolio setting %zu not scored", i);
        else {
            random++;
            random_done += x->done;
            ck_assert_msg(x->rung == 1 || x->rung == 2, "random setting %zu at rung %d", i,
                          x->rung);
        }
        balanced += x->balanced;
        ck_assert(!x->portfolio || !x->balanced); /* known-good settings as given */
    }
    /* successive halving: some random settings stop at the lower rung */
    ck_assert(random > 0 && random_done < random);
    ck_assert(balanced > 0);
    ck_assert(a.best >= 0 && a.cands[a.best].done);
    ck_assert(a.final_score >= a.cands[a.best].score);
    tcat_search_free(&a);
    tcat_search_free(&b);

    /* --class-weight balanced: every candidate */
    search(&a, &plan, 8, 1, 0);
    for (size_t i = 0; i < a.ncand; i++)
        ck_assert(a.cands[i].balanced);
    tcat_search_free(&a);

    /* a throughput no candidate reaches: the fastest alone */
    search(&a, &plan, 8, 0, 1e12);
    ck_assert(!a.throughput_met);
    ck_assert_uint_eq(a.members, 1);
    for (size_t i = 0; i < a.ncand; i++)
        if (a.cands[i].done)
            ck_assert(a.cands[i].predict_rate <= a.cands[a.best].predict_rate);
    tcat_search_free(&a);
    tcat_plan_free(&plan);
    free(idx);
    tcat_corpus_free(&c);
}
END_TEST

/* Uneven classes and macro-F1: after the portfolio, its cheap settings
 * come again with balanced class weights. */
START_TEST(test_balanced_twins)
{
    tcat_corpus c;
    synth_corpus(&c, 3, 300, 6);
    size_t *idx = malloc(c.n * sizeof *idx), n = 0;
    for (size_t i = 0; i < c.n; i++)
        if (c.label[i] == 0 || i % 3 == 0) /* class 0 kept, the others a third */
            idx[n++] = i;
    tcat_plan plan;
    ck_assert(tcat_plan_kfold(&plan, &c, idx, n, 5, 1) == TCAT_OK);
    tcat_space *sp = NULL;
    tcat_error err = {0};
    ck_assert(tcat_space_default(&sp, &err) == TCAT_OK);
    size_t P = tcat_space_portfolio_size(sp), twins = 0;
    static const char *const linear_only[] = {"linear", NULL};
    tcat_search_opts o = {.t0 = tcat_now(), .budget = 1e6, .trials = 2 * P,
                          .metric = TCAT_METRIC_MACRO_F1, .threads = 1, .seed = 5,
                          .max_members = 3, .families = linear_only, .class_weight = -1};
    tcat_search s;
    ck_assert_msg(tcat_search_run(&s, &o, &plan, 3, &err) == TCAT_OK, "%s", err.msg);
    for (size_t i = 0; i < s.ncand; i++)
        if (s.cands[i].portfolio && s.cands[i].balanced) {
            twins++;
            ck_assert(tcat_space_cost(sp, s.cands[i].family) <= 3);
        }
    ck_assert_msg(twins > 0, "no balanced portfolio setting");
    tcat_search_free(&s);
    /* accuracy as the metric: settings as given */
    o.metric = TCAT_METRIC_ACCURACY;
    ck_assert(tcat_search_run(&s, &o, &plan, 3, &err) == TCAT_OK);
    for (size_t i = 0; i < s.ncand; i++)
        ck_assert(!s.cands[i].balanced);
    tcat_search_free(&s);
    tcat_space_free(&sp);
    tcat_plan_free(&plan);
    free(idx);
    tcat_corpus_free(&c);
}
END_TEST

/* A budget already spent when the search starts: no candidate can be
 * scored on all the data, so the model is the cheapest known-good setting
 * fitted on a sample, and the refit uses a sample of the same share. */
START_TEST(test_budget_spent_samples)
{
    tcat_corpus c;
    synth_corpus(&c, 3, 1000, 4);
    size_t *idx = synth_iota(c.n);
    tcat_plan plan;
    ck_assert(tcat_plan_kfold(&plan, &c, idx, c.n, 5, 1) == TCAT_OK);
    tcat_search_opts o = {.t0 = tcat_now() - 10, .budget = 1, .metric = TCAT_METRIC_MACRO_F1,
                          .threads = 1, .seed = 5, .max_members = 3, .class_weight = 0};
    tcat_search s;
    tcat_error err = {0};
    ck_assert_msg(tcat_search_run(&s, &o, &plan, 3, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_uint_eq(s.ncand, 1);
    ck_assert_str_eq(s.cands[0].family, "linear"); /* the cheapest family */
    ck_assert_double_eq_tol(s.sample_share, 1000.0 / 2400, 1e-9);
    ck_assert(s.best == 0 && s.members == 1 && s.cands[0].picks == 1);
    ck_assert_msg(s.final_score > 0.9, "sample model scores %g", s.final_score);

    tcat_model *m = synth_model(3);
    tcat_docs all = {&c, NULL, c.n};
    ck_assert_msg(tcat_search_refit(&s, &o, &all, 3, m, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_uint_eq(m->nmembers, 1);
    tcat_model_free(&m);
    tcat_search_free(&s);
    tcat_plan_free(&plan);
    free(idx);
    tcat_corpus_free(&c);
}
END_TEST

/* Every family estimates its memory, more for more data; a cap under
 * every estimate leaves nothing to fit: a usage error saying so. */
START_TEST(test_memory_cap)
{
    tcat_corpus c;
    synth_corpus(&c, 3, 400, 4);
    tcat_docs some = {&c, NULL, 300}, all = {&c, NULL, c.n};
    const char *const *fams = tcat_pipeline_families();
    for (size_t i = 0; fams[i]; i++) {
        tcat_pipeline *p = NULL;
        tcat_error err = {0};
        ck_assert(tcat_pipeline_create(&p, fams[i], NULL, 3, &err) == TCAT_OK);
        size_t a = tcat_pipeline_memory(p, &some), b = tcat_pipeline_memory(p, &all);
        ck_assert_msg(a > 0 && b > a, "%s: %zu then %zu bytes", fams[i], a, b);
        tcat_pipeline_free(&p);
    }
    size_t *idx = synth_iota(c.n);
    tcat_plan plan;
    ck_assert(tcat_plan_kfold(&plan, &c, idx, c.n, 5, 1) == TCAT_OK);
    tcat_search_opts o = {.t0 = tcat_now(), .budget = 1e6, .trials = 4,
                          .metric = TCAT_METRIC_MACRO_F1, .threads = 1, .seed = 5,
                          .max_members = 3, .max_memory = 1000};
    tcat_search s;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_search_run(&s, &o, &plan, 3, &err), TCAT_ERR_USAGE);
    ck_assert_msg(strstr(err.msg, "memory") != NULL, "%s", err.msg);
    tcat_plan_free(&plan);
    free(idx);
    tcat_corpus_free(&c);
}
END_TEST

/* The search on a k-fold plan: a network is scored and refitted as a bag
 * of three seeds, a linear setting as itself; on a holdout plan the
 * network is not bagged. */
START_TEST(test_search_bags_networks_on_folds)
{
    tcat_corpus c;
    synth_corpus(&c, 2, 60, 12);
    size_t *idx = synth_iota(c.n);
    tcat_docs all = {&c, NULL, c.n};
    for (int kfold = 1; kfold >= 0; kfold--) {
        tcat_plan plan;
        if (kfold)
            ck_assert(tcat_plan_kfold(&plan, &c, idx, c.n, 3, 1) == TCAT_OK);
        else
            ck_assert(tcat_plan_holdout(&plan, &c, idx, c.n - 30, idx + c.n - 30, 30) ==
                      TCAT_OK);
        tcat_search_opts o = {.t0 = tcat_now(), .budget = 1e6, .trials = 1,
                              .metric = TCAT_METRIC_MACRO_F1, .threads = 1, .seed = 3,
                              .max_members = 1, .fixed_family = "cnn",
                              .fixed_params = "{\"dim\": 8, \"maps\": 4, \"epochs\": 3}",
                              .class_weight = 0};
        tcat_search s;
        tcat_error err = {0};
        ck_assert_msg(tcat_search_run(&s, &o, &plan, 2, &err) == TCAT_OK, "%s", err.msg);
        ck_assert(s.ncand == 1 && s.cands[0].done);
        ck_assert_uint_eq(s.cands[0].bag, kfold ? 3 : 1);
        tcat_model *m = synth_model(2);
        ck_assert_msg(tcat_search_refit(&s, &o, &all, 2, m, &err) == TCAT_OK, "%s", err.msg);
        const json_t *bag = json_object_get(tcat_pipeline_params(m->members[0].p), "bag");
        ck_assert_int_eq(bag ? json_integer_value(bag) : 1, kfold ? 3 : 1);
        tcat_model_free(&m);
        tcat_search_free(&s);
        tcat_plan_free(&plan);
    }
    free(idx);
    tcat_corpus_free(&c);
}
END_TEST

Suite *search_suite(void)
{
    Suite *s = suite_create("search");
    TCase *tc = tcase_new(s, "space");
    tcase_add_test(tc, test_space_settings_are_valid);
    tcase_add_test(tc, test_space_malformed);
    tc = tcase_new(s, "scheduler");
    tcase_add_test(tc, test_scheduler);
    tcase_add_test(tc, test_budget_spent_samples);
    tcase_add_test(tc, test_balanced_twins);
    tcase_add_test(tc, test_memory_cap);
    tcase_add_test(tc, test_search_bags_networks_on_folds);
    return s;
}
