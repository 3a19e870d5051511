/* tests/check_linear.c — the linear family through the pipeline interface
 * (pipelines/pipeline.h, pipelines/linear.h): each learner on a separable
 * synthetic corpus, probabilities, temperature, hyperparameter errors,
 * determinism and the feature cache; multi-label (one-vs-all) training,
 * prediction and save/load. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cache.h"
#include "pipelines/linear.h"
#include "pipelines/pipeline.h"
#include "tests/suites.h"
#include "tests/synth.h"
#include "tests/testutil.h"

/* Train, dev and test corpora of 3 classes. */
typedef struct data3 {
    tcat_corpus train, dev, test;
} data3;

static void data_make(data3 *d, size_t K)
{
    synth_corpus(&d->train, K, 30, 101);
    synth_corpus(&d->dev, K, 8, 202);
    synth_corpus(&d->test, K, 12, 303);
}

static void data_free(data3 *d)
{
    tcat_corpus_free(&d->train);
    tcat_corpus_free(&d->dev);
    tcat_corpus_free(&d->test);
}

static tcat_docs all(const tcat_corpus *c) { return (tcat_docs){c, NULL, c->n}; }

static tcat_fit_opts fit_opts(uint64_t seed)
{
    return (tcat_fit_opts){.threads = 1, .seed = seed};
}

static tcat_pipeline *make(const char *params_json, size_t K)
{
    json_error_t je;
    json_t *params = json_loads(params_json, 0, &je);
    ck_assert_msg(params != NULL, "bad test JSON %s: %s", params_json, je.text);
    tcat_pipeline *p = NULL;
    tcat_error err = {0};
    tcat_status st = tcat_pipeline_create(&p, "linear", params, K, &err);
    json_decref(params);
    ck_assert_msg(st == TCAT_OK, "create %s: %s", params_json, err.msg);
    return p;
}

static void fit(tcat_pipeline *p, const tcat_corpus *train, const tcat_corpus *dev,
                const tcat_fit_opts *o)
{
    tcat_docs t = all(train), d = dev ? all(dev) : (tcat_docs){train, NULL, 0};
    tcat_error err = {0};
    ck_assert_msg(tcat_pipeline_fit(p, &t, &d, o, &err) == TCAT_OK, "fit: %s", err.msg);
}

static float *predict(const tcat_pipeline *p, const tcat_corpus *c, int threads)
{
    size_t K = p->nclasses;
    float *pr = malloc((c->n ? c->n : 1) * K * sizeof *pr);
    ck_assert_ptr_nonnull(pr);
    tcat_docs d = all(c);
    tcat_error err = {0};
    ck_assert_msg(tcat_pipeline_predict_proba(p, &d, pr, threads, &err) == TCAT_OK,
                  "predict: %s", err.msg);
    return pr;
}

static double param_num(const tcat_pipeline *p, const char *key)
{
    const json_t *v = json_object_get(tcat_pipeline_params(p), key);
    ck_assert_msg(v != NULL && json_is_number(v), "no numeric param %s", key);
    return json_number_value(v);
}

static void check_rows(const float *pr, size_t n, size_t K)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < K; k++) {
            ck_assert(pr[i * K + k] >= 0 && pr[i * K + k] <= 1);
            s += pr[i * K + k];
        }
        ck_assert_msg(fabs(s - 1.0) <= 1e-5, "row %zu sums to %.9g", i, s);
    }
}

static size_t correct(const float *pr, const tcat_corpus *c, size_t K)
{
    size_t r = 0;
    for (size_t i = 0; i < c->n; i++)
        r += tcat_argmax(pr + i * K, K) == (size_t)c->label[i];
    return r;
}

/* ---- learners --------------------------------------------------------------------- */

static void learner_case(const char *params, size_t K)
{
    data3 d;
    data_make(&d, K);
    tcat_pipeline *p = make(params, K);
    ck_assert_uint_eq(p->nclasses, K);
    ck_assert(param_num(p, "temperature") == 1.0);
    tcat_fit_opts o = fit_opts(1);
    fit(p, &d.train, &d.dev, &o);
    float *pr = predict(p, &d.test, 1);
    check_rows(pr, d.test.n, K);
    ck_assert_msg(correct(pr, &d.test, K) == d.test.n, "%s: %zu of %zu right", params,
                  correct(pr, &d.test, K), d.test.n);
    /* the temperature was fitted on the dev documents */
    double T = param_num(p, "temperature");
    ck_assert_msg(T != 1.0 && T > 0, "%s: temperature %g", params, T);
    /* the params are the effective ones: defaults filled in */
    ck_assert_ptr_nonnull(json_object_get(tcat_pipeline_params(p), "C"));
    ck_assert_ptr_nonnull(json_object_get(tcat_pipeline_params(p), "min_df"));
    json_t *desc = tcat_pipeline_describe(p);
    ck_assert_ptr_nonnull(desc);
    ck_assert_str_eq(json_string_value(json_object_get(desc, "family")), "linear");
    ck_assert_int_gt(json_integer_value(json_object_get(desc, "word_features")) +
                         json_integer_value(json_object_get(desc, "char_features")),
                     0);
    json_decref(desc);
    free(pr);
    tcat_pipeline_free(&p);
    ck_assert_ptr_null(p);
    data_free(&d);
}

START_TEST(test_learner_svm) { learner_case("{\"learner\": \"svm\"}", 3); }
END_TEST

START_TEST(test_learner_nbsvm) { learner_case("{\"learner\": \"nbsvm\"}", 3); }
END_TEST

START_TEST(test_learner_logreg) { learner_case("{\"learner\": \"logreg\"}", 3); }
END_TEST

START_TEST(test_learners_two_classes)
{
    learner_case("{\"learner\": \"svm\"}", 2);
    learner_case("{\"learner\": \"nbsvm\", \"beta\": 0.5}", 2);
    learner_case("{\"learner\": \"logreg\", \"C\": 10}", 2);
}
END_TEST

START_TEST(test_learners_char_features)
{
    learner_case("{\"learner\": \"svm\", \"word_ngrams\": 0, \"char_min\": 2, \"char_max\": 4}",
                 3);
    learner_case("{\"learner\": \"logreg\", \"word_ngrams\": 1, \"char_min\": 1, \"char_max\": 3,"
                 " \"sublinear_tf\": false, \"min_df\": 1, \"max_features\": 50}",
                 3);
}
END_TEST

START_TEST(test_no_dev_keeps_temperature)
{
    data3 d;
    data_make(&d, 3);
    tcat_pipeline *p = make("{\"temperature\": 2.5}", 3);
    tcat_fit_opts o = fit_opts(1);
    fit(p, &d.train, NULL, &o);
    ck_assert(param_num(p, "temperature") == 2.5);
    float *pr = predict(p, &d.test, 2);
    check_rows(pr, d.test.n, 3);
    ck_assert_uint_eq(correct(pr, &d.test, 3), d.test.n);
    /* a higher temperature gives softer probabilities than 1 would */
    tcat_pipeline *q = make("{}", 3);
    fit(q, &d.train, NULL, &o);
    float *pq = predict(q, &d.test, 1);
    for (size_t i = 0; i < d.test.n; i++) {
        size_t k = (size_t)d.test.label[i];
        ck_assert(pr[i * 3 + k] < pq[i * 3 + k]);
    }
    free(pq);
    free(pr);
    tcat_pipeline_free(&q);
    tcat_pipeline_free(&p);
    data_free(&d);
}
END_TEST

/* ---- hyperparameters ------------------------------------------------------------ */

static void expect_usage(const char *params_json, const char *key)
{
    json_t *params = json_loads(params_json, 0, NULL);
    ck_assert_ptr_nonnull(params);
    tcat_pipeline *p = NULL;
    tcat_error err = {0};
    tcat_status st = tcat_pipeline_create(&p, "linear", params, 3, &err);
    json_decref(params);
    if (st == TCAT_OK)
        tcat_pipeline_free(&p);
    ck_assert_msg(st == TCAT_ERR_USAGE, "%s: status %d, want TCAT_ERR_USAGE", params_json, st);
    ck_assert_msg(strstr(err.msg, key) != NULL, "%s: message '%s' does not name '%s'",
                  params_json, err.msg, key);
}

START_TEST(test_bad_hyperparameters)
{
    expect_usage("{\"colour\": 1}", "colour");
    expect_usage("{\"C\": 1, \"lerner\": \"svm\"}", "lerner");
    expect_usage("{\"learner\": \"tree\"}", "learner");
    expect_usage("{\"learner\": 3}", "learner");
    expect_usage("{\"C\": -1}", "C");
    expect_usage("{\"C\": 0}", "C");
    expect_usage("{\"C\": \"big\"}", "C");
    expect_usage("{\"word_ngrams\": 4}", "word_ngrams");
    expect_usage("{\"word_ngrams\": -1}", "word_ngrams");
    expect_usage("{\"char_min\": 7, \"char_max\": 7}", "char_min");
    expect_usage("{\"char_min\": 3, \"char_max\": 2}", "char_max");
    expect_usage("{\"char_max\": 9}", "char_max");
    expect_usage("{\"min_df\": 0}", "min_df");
    expect_usage("{\"max_features\": -5}", "max_features");
    expect_usage("{\"sublinear_tf\": 1}", "sublinear_tf");
    expect_usage("{\"nb_alpha\": 0}", "nb_alpha");
    expect_usage("{\"beta\": 1.5}", "beta");
    expect_usage("{\"max_iter\": 0}", "max_iter");
    expect_usage("{\"temperature\": 0}", "temperature");
    expect_usage("{\"temperature\": null}", "temperature");
    expect_usage("{\"word_ngrams\": 0, \"char_min\": 0}", "features");

    /* an unknown family */
    tcat_pipeline *p = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_pipeline_create(&p, "forest", NULL, 3, &err), TCAT_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "forest"));
    ck_assert_ptr_nonnull(tcat_pipeline_family("linear"));
    ck_assert_ptr_null(tcat_pipeline_family("forest"));
    ck_assert_str_eq(tcat_pipeline_families()[0], "linear");

    /* good values at the edges of their ranges */
    p = make("{\"C\": 1e-6, \"word_ngrams\": 3, \"char_min\": 6, \"char_max\": 6, \"beta\": 0,"
             " \"min_df\": 1, \"temperature\": 1e4}", 3);
    ck_assert(param_num(p, "C") == 1e-6);
    ck_assert(param_num(p, "char_min") == 6);
    tcat_pipeline_free(&p);
    /* NULL params: the defaults */
    ck_assert_int_eq(tcat_pipeline_create(&p, "linear", NULL, 3, &err), TCAT_OK);
    ck_assert_str_eq(json_string_value(json_object_get(tcat_pipeline_params(p), "learner")),
                     "svm");
    ck_assert(param_num(p, "word_ngrams") == 2);
    ck_assert(param_num(p, "min_df") == 2);
    ck_assert(param_num(p, "max_iter") == 1000);
    ck_assert(json_is_true(json_object_get(tcat_pipeline_params(p), "sublinear_tf")));
    tcat_pipeline_free(&p);
    p = make("{\"learner\": \"logreg\"}", 3);
    ck_assert(param_num(p, "max_iter") == 200);
    tcat_pipeline_free(&p);
}
END_TEST

START_TEST(test_fractional_integer_hyperparameters)
{
    /* word_ngrams is 0..3, min_df a count: 1.5 is not a value they can
     * take, and silently truncating it hides a typo in a search space */
    expect_usage("{\"word_ngrams\": 1.5}", "word_ngrams");
    expect_usage("{\"min_df\": 2.7}", "min_df");
}
END_TEST

START_TEST(test_fit_errors)
{
    data3 d;
    data_make(&d, 3);
    tcat_pipeline *p = make("{}", 3);
    tcat_error err = {0};
    /* predict before fit */
    float pr[9];
    tcat_docs t3 = {&d.test, NULL, 3};
    ck_assert_int_eq(tcat_pipeline_predict_proba(p, &t3, pr, 1, &err), TCAT_ERR_USAGE);
    /* a training label outside [0, nclasses) */
    tcat_pipeline *q = make("{}", 2);
    tcat_docs tr = all(&d.train), none = {&d.train, NULL, 0};
    tcat_fit_opts o = fit_opts(1);
    ck_assert_int_eq(tcat_pipeline_fit(q, &tr, &none, &o, &err), TCAT_ERR_INPUT);
    tcat_pipeline_free(&q);
    /* an unlabelled training document */
    corpus_add_text(&d.train, "no label here", -1);
    tr = all(&d.train);
    ck_assert_int_eq(tcat_pipeline_fit(p, &tr, &none, &o, &err), TCAT_ERR_INPUT);
    /* fewer than two classes */
    ck_assert_int_ne(tcat_pipeline_create(&q, "linear", NULL, 1, &err), TCAT_OK);
    tcat_pipeline_free(&p);
    data_free(&d);
}
END_TEST

/* ---- determinism and the cache ------------------------------------------------- */

START_TEST(test_fit_deterministic)
{
    static const char *const params[] = {"{\"learner\": \"svm\"}", "{\"learner\": \"nbsvm\"}",
                                         "{\"learner\": \"logreg\"}"};
    data3 d;
    data_make(&d, 3);
    for (size_t l = 0; l < 3; l++) {
        tcat_fit_opts o = fit_opts(7);
        tcat_pipeline *a = make(params[l], 3), *b = make(params[l], 3);
        fit(a, &d.train, &d.dev, &o);
        fit(b, &d.train, &d.dev, &o);
        float *pa = predict(a, &d.test, 1), *pb = predict(b, &d.test, 3);
        ck_assert_msg(memcmp(pa, pb, d.test.n * 3 * sizeof *pa) == 0, "%s: two fits differ",
                      params[l]);
        ck_assert(param_num(a, "temperature") == param_num(b, "temperature"));
        /* fitting the same pipeline again gives the same again */
        fit(a, &d.train, &d.dev, &o);
        float *pc = predict(a, &d.test, 1);
        ck_assert(memcmp(pa, pc, d.test.n * 3 * sizeof *pa) == 0);
        free(pa);
        free(pb);
        free(pc);
        tcat_pipeline_free(&a);
        tcat_pipeline_free(&b);
    }
    data_free(&d);
}
END_TEST

START_TEST(test_fit_with_cache)
{
    /* the features shared through the cache change nothing */
    data3 d;
    data_make(&d, 3);
    tcat_cache *cache;
    ck_assert_int_eq(tcat_cache_new(&cache), TCAT_OK);
    tcat_fit_opts oc = fit_opts(3), on = fit_opts(3);
    oc.cache = cache;
    static const char *const params[] = {"{\"C\": 0.5}", "{\"C\": 2}",
                                         "{\"learner\": \"logreg\", \"C\": 4}"};
    for (size_t i = 0; i < 3; i++) {
        tcat_pipeline *a = make(params[i], 3), *b = make(params[i], 3);
        fit(a, &d.train, &d.dev, &oc);
        fit(b, &d.train, &d.dev, &on);
        float *pa = predict(a, &d.test, 1), *pb = predict(b, &d.test, 1);
        ck_assert_msg(memcmp(pa, pb, d.test.n * 3 * sizeof *pa) == 0, "%s: cache changed it",
                      params[i]);
        free(pa);
        free(pb);
        tcat_pipeline_free(&a);
        tcat_pipeline_free(&b);
    }
    /* the pipelines outlive nothing of the cache */
    tcat_pipeline *a = make("{}", 3);
    fit(a, &d.train, &d.dev, &oc);
    tcat_cache_free(&cache);
    float *pa = predict(a, &d.test, 1);
    check_rows(pa, d.test.n, 3);
    free(pa);
    tcat_pipeline_free(&a);
    data_free(&d);
}
END_TEST

START_TEST(test_fit_views_and_weights)
{
    /* a view of some documents (idx), class weights, and a deadline past */
    data3 d;
    data_make(&d, 3);
    size_t n = d.train.n / 2;
    size_t *idx = malloc(n * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = 2 * i + 1;
    tcat_docs tr = {&d.train, idx, n}, dv = all(&d.dev);
    double cw[3] = {1, 2, 0.5};
    tcat_fit_opts o = {.threads = 2, .seed = 5, .class_weight = cw};
    tcat_pipeline *p = make("{\"learner\": \"nbsvm\"}", 3);
    tcat_error err = {0};
    ck_assert_msg(tcat_pipeline_fit(p, &tr, &dv, &o, &err) == TCAT_OK, "fit: %s", err.msg);
    float *pr = predict(p, &d.test, 1);
    ck_assert_uint_eq(correct(pr, &d.test, 3), d.test.n);
    free(pr);
    tcat_pipeline_free(&p);

    p = make("{\"learner\": \"logreg\"}", 3);
    o.deadline = tcat_now() - 1;
    ck_assert_msg(tcat_pipeline_fit(p, &tr, &dv, &o, &err) == TCAT_OK, "fit: %s", err.msg);
    pr = predict(p, &d.test, 1);
    check_rows(pr, d.test.n, 3);
    free(pr);
    tcat_pipeline_free(&p);
    free(idx);
    data_free(&d);
}
END_TEST

/* ---- multi-label ------------------------------------------------------------------ */

/* Train, dev and test label sets over K labels (tests/synth.h). */
static void ml_data(data3 *d, size_t K)
{
    synth_ml_corpus(&d->train, K, 300, 111);
    synth_ml_corpus(&d->dev, K, 60, 222);
    synth_ml_corpus(&d->test, K, 90, 333);
}

/* A multi-label pipeline of params fitted on d (dev: with d->dev). */
static tcat_pipeline *ml_fitted(const char *params, size_t K, const data3 *d, bool dev,
                                const tcat_fit_opts *o)
{
    tcat_pipeline *p = make(params, K);
    ck_assert(p->multilabel);
    fit(p, &d->train, dev ? &d->dev : NULL, o);
    return p;
}

static void ml_case(const char *params, size_t K)
{
    data3 d;
    ml_data(&d, K);
    tcat_fit_opts o = fit_opts(1);
    tcat_pipeline *p = ml_fitted(params, K, &d, true, &o);
    float *pr = predict(p, &d.test, 1);
    double f1 = synth_ml_micro_f1(&d.test, pr, d.test.n, K);
    ck_assert_msg(f1 >= 0.95, "%s (K = %zu): micro-F1 %.3f", params, K, f1);
    /* each label its own probability: two-label documents get both high,
     * so rows are not made to sum to 1 */
    size_t two = 0, both = 0;
    for (size_t i = 0; i < d.test.n; i++) {
        for (size_t k = 0; k < K; k++)
            ck_assert(pr[i * K + k] >= 0 && pr[i * K + k] <= 1);
        if (d.test.doc_label[i + 1] - d.test.doc_label[i] == 2) {
            two++;
            both += pr[i * K + (size_t)d.test.labels[d.test.doc_label[i]]] > 0.5f &&
                    pr[i * K + (size_t)d.test.labels[d.test.doc_label[i] + 1]] > 0.5f;
        }
    }
    ck_assert_uint_eq(two, d.test.n / 3);
    ck_assert_msg(both >= two * 9 / 10, "%s: %zu of %zu two-label documents get both labels",
                  params, both, two);
    /* the sigmoid temperature was fitted on the dev label sets */
    double T = param_num(p, "temperature");
    ck_assert_msg(T != 1.0 && T > 0, "%s: temperature %g", params, T);
    ck_assert(json_is_true(json_object_get(tcat_pipeline_params(p), "multilabel")));
    free(pr);
    tcat_pipeline_free(&p);
    data_free(&d);
}

START_TEST(test_multilabel_svm) { ml_case("{\"learner\": \"svm\", \"multilabel\": true}", 3); }
END_TEST

START_TEST(test_multilabel_nbsvm)
{
    ml_case("{\"learner\": \"nbsvm\", \"multilabel\": true}", 3);
}
END_TEST

START_TEST(test_multilabel_logreg)
{
    ml_case("{\"learner\": \"logreg\", \"multilabel\": true}", 3);
}
END_TEST

START_TEST(test_multilabel_two_labels)
{
    /* two labels are two problems, not one mirrored: every third document
     * has both */
    ml_case("{\"learner\": \"svm\", \"multilabel\": true}", 2);
    ml_case("{\"learner\": \"nbsvm\", \"multilabel\": true}", 2);
    ml_case("{\"learner\": \"logreg\", \"multilabel\": true, \"C\": 10}", 2);
}
END_TEST

START_TEST(test_multilabel_save_load)
{
    /* a loaded model knows it is multi-label from its params and predicts
     * the same bits */
    static const char *const params[] = {"{\"learner\": \"svm\", \"multilabel\": true}",
                                         "{\"learner\": \"nbsvm\", \"multilabel\": true}",
                                         "{\"learner\": \"logreg\", \"multilabel\": true}"};
    data3 d;
    ml_data(&d, 3);
    tcat_docs te = all(&d.test);
    for (size_t l = 0; l < 3; l++) {
        tcat_fit_opts o = fit_opts(2);
        tcat_pipeline *p = ml_fitted(params[l], 3, &d, true, &o);
        float *pr = predict(p, &d.test, 1);
        float *pl = saved_model_predict(p, 3, &te, 2);
        ck_assert_msg(memcmp(pr, pl, d.test.n * 3 * sizeof *pr) == 0, "%s: loaded model differs",
                      params[l]);
        free(pr);
        free(pl);
    }
    data_free(&d);
}
END_TEST

START_TEST(test_multilabel_params)
{
    expect_usage("{\"multilabel\": \"yes\"}", "multilabel");
    expect_usage("{\"multilabel\": 1}", "multilabel");
    /* the effective params say multi-label; single-label ones are as
     * they always were */
    tcat_pipeline *p = make("{\"multilabel\": true, \"C\": 2}", 3);
    ck_assert(p->multilabel);
    ck_assert(json_is_true(json_object_get(tcat_pipeline_params(p), "multilabel")));
    ck_assert(param_num(p, "C") == 2);
    tcat_pipeline_free(&p);
    static const char *const single[] = {"{}", "{\"multilabel\": false}"};
    for (size_t i = 0; i < 2; i++) {
        p = make(single[i], 3);
        ck_assert(!p->multilabel);
        ck_assert_ptr_null(json_object_get(tcat_pipeline_params(p), "multilabel"));
        tcat_pipeline_free(&p);
    }
}
END_TEST

START_TEST(test_multilabel_class_weight_and_threads)
{
    data3 d;
    ml_data(&d, 3);
    static const char *const params[] = {"{\"learner\": \"svm\", \"multilabel\": true}",
                                         "{\"learner\": \"logreg\", \"multilabel\": true}"};
    for (size_t l = 0; l < 2; l++) {
        /* a heavier weight on label 0's positives raises label 0's
         * probabilities and leaves the others' problems as they were */
        tcat_fit_opts o = fit_opts(4);
        tcat_pipeline *a = ml_fitted(params[l], 3, &d, false, &o);
        double cw[3] = {4, 1, 1};
        o.class_weight = cw;
        tcat_pipeline *b = ml_fitted(params[l], 3, &d, false, &o);
        float *pa = predict(a, &d.test, 1), *pb = predict(b, &d.test, 1);
        double ma = 0, mb = 0;
        for (size_t i = 0; i < d.test.n; i++) {
            ma += pa[i * 3];
            mb += pb[i * 3];
        }
        ck_assert_msg(mb > ma, "%s: mean P(label 0) %g with weight 4, %g without", params[l],
                      mb / (double)d.test.n, ma / (double)d.test.n);
        if (l == 0) /* the SVM's labels are separate problems */
            for (size_t i = 0; i < d.test.n; i++)
                ck_assert(pa[i * 3 + 1] == pb[i * 3 + 1] && pa[i * 3 + 2] == pb[i * 3 + 2]);
        /* the same fit with two threads and a feature cache: the same bits */
        tcat_cache *cache;
        ck_assert_int_eq(tcat_cache_new(&cache), TCAT_OK);
        o.threads = 2;
        o.cache = cache;
        tcat_pipeline *c = ml_fitted(params[l], 3, &d, false, &o);
        float *pc = predict(c, &d.test, 2);
        ck_assert(memcmp(pb, pc, d.test.n * 3 * sizeof *pb) == 0);
        tcat_cache_free(&cache);
        free(pa);
        free(pb);
        free(pc);
        tcat_pipeline_free(&a);
        tcat_pipeline_free(&b);
        tcat_pipeline_free(&c);
    }
    data_free(&d);
}
END_TEST

Suite *linear_suite(void)
{
    Suite *s = suite_create("linear");
    TCase *tc = tcase_new(s, "learners");
    tcase_add_test(tc, test_learner_svm);
    tcase_add_test(tc, test_learner_nbsvm);
    tcase_add_test(tc, test_learner_logreg);
    tcase_add_test(tc, test_learners_two_classes);
    tcase_add_test(tc, test_learners_char_features);
    tcase_add_test(tc, test_no_dev_keeps_temperature);
    tc = tcase_new(s, "hyperparameters");
    tcase_add_test(tc, test_bad_hyperparameters);
    tcase_add_test(tc, test_fractional_integer_hyperparameters);
    tcase_add_test(tc, test_fit_errors);
    tc = tcase_new(s, "determinism");
    tcase_add_test(tc, test_fit_deterministic);
    tcase_add_test(tc, test_fit_with_cache);
    tcase_add_test(tc, test_fit_views_and_weights);
    tc = tcase_new(s, "multilabel");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_multilabel_svm);
    tcase_add_test(tc, test_multilabel_nbsvm);
    tcase_add_test(tc, test_multilabel_logreg);
    tcase_add_test(tc, test_multilabel_two_labels);
    tcase_add_test(tc, test_multilabel_save_load);
    tcase_add_test(tc, test_multilabel_params);
    tcase_add_test(tc, test_multilabel_class_weight_and_threads);
    return s;
}
