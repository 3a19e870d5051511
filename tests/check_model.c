/* tests/check_model.c — model/model: a model of fitted linear members
 * saved and loaded (predictions bit for bit), reproducible files, the
 * weighted mean of members, a stacking or averaging combiner, and refusal
 * of files whose sections do not make a model. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "model/modelfile.h"
#include "pipelines/pipeline.h"
#include "tests/suites.h"
#include "tests/synth.h"
#include "tests/testutil.h"

static const char *const g_label_names[3] = {"alpha", "βeta", "gamma"};

typedef struct data3 {
    tcat_corpus train, dev, test;
} data3;

static void data_make(data3 *d)
{
    synth_corpus(&d->train, 3, 25, 11);
    synth_corpus(&d->dev, 3, 8, 22);
    synth_corpus(&d->test, 3, 10, 33);
}

static void data_free(data3 *d)
{
    tcat_corpus_free(&d->train);
    tcat_corpus_free(&d->dev);
    tcat_corpus_free(&d->test);
}

/* A fitted linear pipeline with the given JSON params. */
static bool g_use_dev = true; /* fit with the dev documents (temperature) */

static tcat_pipeline *fitted(const data3 *d, const char *params_json, uint64_t seed)
{
    json_t *params = json_loads(params_json, 0, NULL);
    ck_assert_ptr_nonnull(params);
    tcat_pipeline *p = NULL;
    tcat_error err = {0};
    tcat_status st = tcat_pipeline_create(&p, "linear", params, 3, &err);
    json_decref(params);
    ck_assert_msg(st == TCAT_OK, "create: %s", err.msg);
    tcat_docs tr = {&d->train, NULL, d->train.n},
              dv = {&d->dev, NULL, g_use_dev ? d->dev.n : 0};
    tcat_fit_opts o = {.threads = 1, .seed = seed};
    ck_assert_msg(tcat_pipeline_fit(p, &tr, &dv, &o, &err) == TCAT_OK, "fit: %s", err.msg);
    return p;
}

/* A model of members fitted with params[i] and weights[i]. */
static tcat_model *build_model(const data3 *d, const char *const *params, const double *weights,
                               size_t nm, uint64_t seed)
{
    tcat_tok_config cfg;
    tcat_tok_config_default(&cfg);
    tcat_model *m = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_model_new(&m, &cfg, &err), TCAT_OK);
    for (size_t k = 0; k < 3; k++) {
        int32_t id;
        ck_assert_int_eq(tcat_labels_intern(m->labels, g_label_names[k],
                                            strlen(g_label_names[k]), &id),
                         TCAT_OK);
        ck_assert_int_eq(id, (int32_t)k);
    }
    char created[32];
    tcat_model_timestamp(created, sizeof created);
    json_object_set_new(m->meta, "created", json_string(created));
    json_object_set_new(m->meta, "metric", json_string("accuracy"));
    json_object_set_new(m->meta, "documents", json_integer((json_int_t)d->train.n));
    for (size_t i = 0; i < nm; i++) {
        tcat_pipeline *p = fitted(d, params[i], seed);
        json_t *scores = json_pack("{s:f, s:f}", "accuracy", 1.0, "log_loss", 0.125 * (double)i);
        ck_assert_int_eq(tcat_model_add_member(m, p, weights[i], scores, &err), TCAT_OK);
    }
    ck_assert_uint_eq(m->nmembers, nm);
    ck_assert_uint_eq(tcat_model_classes(m), 3);
    return m;
}

static float *model_predict(const tcat_model *m, const tcat_corpus *c, int threads)
{
    size_t K = tcat_model_classes(m);
    float *pr = malloc((c->n ? c->n : 1) * K * sizeof *pr);
    ck_assert_ptr_nonnull(pr);
    tcat_docs d = {c, NULL, c->n};
    tcat_error err = {0};
    ck_assert_msg(tcat_model_predict_proba(m, &d, pr, threads, &err) == TCAT_OK, "predict: %s",
                  err.msg);
    return pr;
}

static void save(const tcat_model *m, const char *path)
{
    tcat_error err = {0};
    ck_assert_msg(tcat_model_save(m, path, &err) == TCAT_OK, "save: %s", err.msg);
}

static tcat_model *load(const char *path)
{
    tcat_model *m = NULL;
    tcat_error err = {0};
    ck_assert_msg(tcat_model_load(&m, path, &err) == TCAT_OK, "load: %s", err.msg);
    return m;
}

static bool same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    ck_assert(x && y);
    bool same = na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static const char *const g_two[] = {"{\"learner\": \"svm\"}", "{\"learner\": \"logreg\"}"};
static const double g_w13[] = {1.0, 3.0};

/* ---- round trip -------------------------------------------------------------------- */

START_TEST(test_model_round_trip)
{
    data3 d;
    data_make(&d);
    static const char *const params[] = {"{\"learner\": \"svm\", \"char_min\": 2, \"char_max\": 4}"};
    static const double w[] = {1.0};
    tcat_model *m = build_model(&d, params, w, 1, 1);
    float *before = model_predict(m, &d.test, 1);
    for (size_t i = 0; i < d.test.n; i++)
        ck_assert_uint_eq(tcat_argmax(before + 3 * i, 3), (size_t)d.test.label[i]);
    const char *path = scratch_path("model.tcat");
    save(m, path);
    tcat_model *l = load(path);

    /* labels, tokenizer, metadata and members as they were */
    ck_assert_uint_eq(tcat_model_classes(l), 3);
    for (int32_t k = 0; k < 3; k++)
        ck_assert_str_eq(tcat_labels_name(l->labels, k), g_label_names[k]);
    char *t1, *t2;
    size_t n1, n2;
    ck_assert_int_eq(tcat_tok_config_save(&m->tok, &t1, &n1), TCAT_OK);
    ck_assert_int_eq(tcat_tok_config_save(&l->tok, &t2, &n2), TCAT_OK);
    ck_assert(n1 == n2 && memcmp(t1, t2, n1) == 0);
    free(t1);
    free(t2);
    ck_assert(json_equal(m->meta, l->meta));
    ck_assert_uint_eq(l->nmembers, 1);
    ck_assert(l->members[0].weight == 1.0);
    ck_assert_ptr_nonnull(l->members[0].scores);
    ck_assert(json_equal(m->members[0].scores, l->members[0].scores));
    ck_assert_str_eq(l->members[0].p->ops->family, "linear");
    ck_assert_ptr_nonnull(l->file);

    float *after = model_predict(l, &d.test, 1);
    size_t ndiff = 0, first = 0;
    for (size_t i = d.test.n * 3; i-- > 0;)
        if (memcmp(&before[i], &after[i], sizeof *before) != 0) {
            ndiff++;
            first = i;
        }
    ck_assert_msg(ndiff == 0,
                  "%zu of %zu probabilities differ after save and load (e.g. %a vs %a)",
                  ndiff, d.test.n * 3, before[first], after[first]);
    /* with threads, the same as without */
    float *after4 = model_predict(l, &d.test, 4);
    ck_assert(memcmp(after, after4, d.test.n * 3 * sizeof *after) == 0);
    free(after4);
    free(after);
    free(before);
    tcat_model_free(&l);
    ck_assert_ptr_null(l);
    tcat_model_free(&m);
    tcat_model_free(&m); /* NULL-safe */
    data_free(&d);
}
END_TEST

START_TEST(test_model_params_round_trip)
{
    /* the effective hyperparameters, fitted temperature included, come
     * back exactly: predict uses the temperature */
    data3 d;
    data_make(&d);
    static const char *const params[] = {"{\"learner\": \"nbsvm\", \"C\": 0.3}"};
    static const double w[] = {1.0};
    tcat_model *m = build_model(&d, params, w, 1, 1);
    const char *path = scratch_path("params.tcat");
    save(m, path);
    tcat_model *l = load(path);
    const json_t *pm = tcat_pipeline_params(m->members[0].p);
    const json_t *pl = tcat_pipeline_params(l->members[0].p);
    double tm = json_number_value(json_object_get(pm, "temperature"));
    double tl = json_number_value(json_object_get(pl, "temperature"));
    ck_assert(tm != 1.0);
    ck_assert_msg(tm == tl, "temperature %.17g saved, %.17g loaded", tm, tl);
    ck_assert(json_number_value(json_object_get(pl, "C")) == 0.3);
    ck_assert_str_eq(json_string_value(json_object_get(pl, "learner")), "nbsvm");
    tcat_model_free(&l);
    tcat_model_free(&m);
    data_free(&d);
}
END_TEST

/* ---- reproducible files --------------------------------------------------------------- */

START_TEST(test_model_timestamp)
{
    char buf[32];
    setenv("SOURCE_DATE_EPOCH", "1", 1);
    tcat_model_timestamp(buf, sizeof buf);
    ck_assert_str_eq(buf, "1970-01-01T00:00:01Z");
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    tcat_model_timestamp(buf, sizeof buf);
    ck_assert_str_eq(buf, "2023-11-14T22:13:20Z");
    /* not a number: the clock */
    setenv("SOURCE_DATE_EPOCH", "soon", 1);
    tcat_model_timestamp(buf, sizeof buf);
    ck_assert_uint_eq(strlen(buf), 20);
    ck_assert(strncmp(buf, "1970", 4) != 0);
    unsetenv("SOURCE_DATE_EPOCH");
    tcat_model_timestamp(buf, sizeof buf);
    ck_assert(strncmp(buf, "1970", 4) != 0);
}
END_TEST

START_TEST(test_model_save_twice_identical)
{
    setenv("SOURCE_DATE_EPOCH", "1", 1);
    data3 d;
    data_make(&d);
    tcat_model *m = build_model(&d, g_two, g_w13, 2, 1);
    ck_assert_str_eq(json_string_value(json_object_get(m->meta, "created")),
                     "1970-01-01T00:00:01Z");
    const char *a = scratch_path("a.tcat"), *b = scratch_path("b.tcat");
    save(m, a);
    save(m, b);
    ck_assert(same_file(a, b));
    /* saving over an existing model: the same bytes again */
    save(m, a);
    ck_assert(same_file(a, b));
    /* a loaded model saved again: the same file */
    tcat_model *l = load(a);
    const char *c = scratch_path("c.tcat");
    save(l, c);
    ck_assert_msg(same_file(a, c), "a loaded model saves to other bytes");
    tcat_model_free(&l);
    tcat_model_free(&m);
    data_free(&d);
    unsetenv("SOURCE_DATE_EPOCH");
}
END_TEST

START_TEST(test_model_train_deterministic)
{
    /* the whole path twice from the text: same seed, same file */
    setenv("SOURCE_DATE_EPOCH", "1", 1);
    static const char *const params[] = {"{\"learner\": \"svm\"}", "{\"learner\": \"nbsvm\"}",
                                         "{\"learner\": \"logreg\", \"char_min\": 1, "
                                         "\"char_max\": 3}"};
    static const double w[] = {1.0, 0.5, 2.0};
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s", scratch_path("a.tcat"));
    snprintf(b, sizeof b, "%s", scratch_path("b.tcat"));
    for (int run = 0; run < 2; run++) {
        data3 d;
        data_make(&d);
        tcat_model *m = build_model(&d, params, w, 3, 9);
        save(m, run ? b : a);
        tcat_model_free(&m);
        data_free(&d);
        testutil_teardown(); /* a fresh tokenizer too */
    }
    ck_assert(same_file(a, b));
    unsetenv("SOURCE_DATE_EPOCH");
}
END_TEST

/* ---- ensembles ------------------------------------------------------------------------ */

START_TEST(test_model_weighted_mean)
{
    /* no dev documents: no fitted temperature, so the members' soft
     * probabilities differ */
    g_use_dev = false;
    data3 d;
    data_make(&d);
    tcat_model *m = build_model(&d, g_two, g_w13, 2, 1);
    size_t n = d.test.n;
    float *pm = model_predict(m, &d.test, 1);
    float *p0 = malloc(n * 3 * sizeof *p0), *p1 = malloc(n * 3 * sizeof *p1);
    tcat_docs dt = {&d.test, NULL, n};
    tcat_error err = {0};
    ck_assert_int_eq(tcat_pipeline_predict_proba(m->members[0].p, &dt, p0, 1, &err), TCAT_OK);
    ck_assert_int_eq(tcat_pipeline_predict_proba(m->members[1].p, &dt, p1, 1, &err), TCAT_OK);
    bool differ = false;
    for (size_t i = 0; i < n * 3; i++) {
        double want = (1.0 * p0[i] + 3.0 * p1[i]) / 4.0;
        ck_assert_msg(fabs(pm[i] - want) < 1e-6, "entry %zu: %.9g, want %.9g", i, pm[i], want);
        differ |= fabs(p0[i] - p1[i]) > 1e-3;
    }
    ck_assert(differ); /* the members do disagree, so the weights matter */
    for (size_t i = 0; i < n; i++) {
        double s = pm[3 * i] + pm[3 * i + 1] + pm[3 * i + 2];
        ck_assert(fabs(s - 1) < 1e-5);
    }
    /* the same after a round trip */
    const char *path = scratch_path("ens.tcat");
    save(m, path);
    tcat_model *l = load(path);
    ck_assert_uint_eq(l->nmembers, 2);
    ck_assert(l->members[0].weight == 1.0 && l->members[1].weight == 3.0);
    float *pl = model_predict(l, &d.test, 2);
    for (size_t i = 0; i < n * 3; i++)
        ck_assert(fabs(pl[i] - pm[i]) < 1e-6);
    free(pl);
    tcat_model_free(&l);
    /* weights need not sum to 1: scaled weights, the same mean */
    tcat_model *m2 = build_model(&d, g_two, (const double[]){0.25, 0.75}, 2, 1);
    float *p2 = model_predict(m2, &d.test, 1);
    for (size_t i = 0; i < n * 3; i++)
        ck_assert(fabs(p2[i] - pm[i]) < 1e-6);
    free(p2);
    tcat_model_free(&m2);
    free(p0);
    free(p1);
    free(pm);
    tcat_model_free(&m);
    data_free(&d);
    g_use_dev = true;
}
END_TEST

/* ---- combiners ------------------------------------------------------------------------ */

/* A stacker over three candidates of which the model holds the first and
 * the last (the middle one has weight 0). */
static tcat_combiner hand_stacker(void)
{
    size_t M = 3, K = 3, F = M * K + 1;
    tcat_combiner c = {.kind = TCAT_COMBINE_STACK, .M = M, .K = K, .l2 = 0.25,
                       .cv_score = {0.5, 0.625, 0.75}};
    c.weight = malloc(M * sizeof *c.weight);
    c.W = calloc(K * F, sizeof *c.W);
    ck_assert(c.weight && c.W);
    c.weight[0] = c.weight[2] = 1;
    c.weight[1] = 0;
    uint64_t st = 17;
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < F; j++)
            if (j / K != 1) /* member 1's columns stay 0 */
                c.W[k * F + j] = (float)((double)(rng_next(&st) % 2001) / 1000.0 - 1.0);
    return c;
}

/* The members' own probabilities of docs, through the combiner. */
static float *combined(const tcat_model *m, const tcat_combiner *c, const tcat_corpus *cp)
{
    size_t n = cp->n, K = 3;
    tcat_docs d = {cp, NULL, n};
    tcat_error err = {0};
    float *each = malloc(m->nmembers * n * K * sizeof *each), *out = malloc(n * K * sizeof *out);
    const float **pp = malloc(m->nmembers * sizeof *pp);
    for (size_t j = 0; j < m->nmembers; j++) {
        ck_assert_int_eq(tcat_pipeline_predict_proba(m->members[j].p, &d, each + j * n * K, 1,
                                                     &err),
                         TCAT_OK);
        pp[j] = each + j * n * K;
    }
    tcat_combine_apply(c, pp, n, out);
    free(each);
    free(pp);
    return out;
}

START_TEST(test_model_stacked)
{
    setenv("SOURCE_DATE_EPOCH", "1", 1);
    g_use_dev = false;
    data3 d;
    data_make(&d);
    tcat_model *m = build_model(&d, g_two, g_w13, 2, 1);
    ck_assert_ptr_null(m->combiner);
    tcat_combiner c = hand_stacker();
    tcat_error err = {0};
    ck_assert_msg(tcat_model_set_combiner(m, &c, &err) == TCAT_OK, "%s", err.msg);
    /* the model's copy covers its two members */
    ck_assert_ptr_nonnull(m->combiner);
    ck_assert_int_eq(m->combiner->kind, TCAT_COMBINE_STACK);
    ck_assert_uint_eq(m->combiner->M, 2);
    ck_assert(m->members[0].weight == 1 && m->members[1].weight == 1);
    size_t n = d.test.n;
    float *pm = model_predict(m, &d.test, 1);
    float *want = combined(m, m->combiner, &d.test);
    for (size_t i = 0; i < n * 3; i++)
        ck_assert_msg(fabs(pm[i] - want[i]) < 1e-6, "entry %zu: %g, want %g", i, pm[i], want[i]);
    for (size_t i = 0; i < n; i++)
        ck_assert(fabs(pm[3 * i] + pm[3 * i + 1] + pm[3 * i + 2] - 1) < 1e-5);
    /* the stacker changes the prediction: it is not the weighted mean */
    tcat_model *plain = build_model(&d, g_two, g_w13, 2, 1);
    float *pp = model_predict(plain, &d.test, 1);
    bool differ = false;
    for (size_t i = 0; i < n * 3; i++)
        differ |= fabs(pp[i] - pm[i]) > 1e-3;
    ck_assert(differ);
    free(pp);
    tcat_model_free(&plain);

    /* saved and loaded: the same combiner, the same predictions bit for bit */
    const char *a = scratch_path("stack.tcat"), *b = scratch_path("stack2.tcat");
    save(m, a);
    tcat_model *l = load(a);
    ck_assert_ptr_nonnull(l->combiner);
    ck_assert_int_eq(l->combiner->kind, TCAT_COMBINE_STACK);
    ck_assert_uint_eq(l->combiner->M, 2);
    ck_assert_uint_eq(l->combiner->K, 3);
    ck_assert(l->combiner->l2 == 0.25);
    ck_assert(memcmp(l->combiner->cv_score, c.cv_score, sizeof c.cv_score) == 0);
    ck_assert(memcmp(l->combiner->W, m->combiner->W, 3 * 7 * sizeof(float)) == 0);
    float *pl = model_predict(l, &d.test, 1), *pl2 = model_predict(l, &d.test, 3);
    ck_assert(memcmp(pl, pm, n * 3 * sizeof *pl) == 0);
    ck_assert(memcmp(pl2, pm, n * 3 * sizeof *pl) == 0);
    free(pl);
    free(pl2);
    /* the same file again, and from the loaded model */
    save(m, b);
    ck_assert(same_file(a, b));
    save(l, b);
    ck_assert(same_file(a, b));
    tcat_model_free(&l);

    /* a combiner that does not fit the members */
    c.K = 4;
    ck_assert_int_eq(tcat_model_set_combiner(m, &c, &err), TCAT_ERR_USAGE);
    c.K = 3;
    c.weight[1] = 1;
    ck_assert_int_eq(tcat_model_set_combiner(m, &c, &err), TCAT_ERR_USAGE);
    ck_assert_msg(strstr(err.msg, "3 members") != NULL, "%s", err.msg);
    ck_assert_uint_eq(m->combiner->M, 2); /* unchanged */

    tcat_combine_free(&c);
    free(want);
    free(pm);
    tcat_model_free(&m);
    data_free(&d);
    g_use_dev = true;
    unsetenv("SOURCE_DATE_EPOCH");
}
END_TEST

START_TEST(test_model_average_combiner)
{
    /* an AVERAGE combiner sets the members' weights; predict is their
     * weighted mean, and the file records the kind and scores */
    g_use_dev = false;
    data3 d;
    data_make(&d);
    tcat_model *m = build_model(&d, g_two, (const double[]){1, 1}, 2, 1);
    tcat_model *ref = build_model(&d, g_two, g_w13, 2, 1);
    double w[4] = {0, 1, 0, 3};
    tcat_combiner c = {.kind = TCAT_COMBINE_AVERAGE, .M = 4, .K = 3, .weight = w,
                       .cv_score = {0.5, 0.625, 0.5}};
    tcat_error err = {0};
    ck_assert_msg(tcat_model_set_combiner(m, &c, &err) == TCAT_OK, "%s", err.msg);
    ck_assert(m->members[0].weight == 1 && m->members[1].weight == 3);
    float *pm = model_predict(m, &d.test, 1), *pr = model_predict(ref, &d.test, 1);
    ck_assert(memcmp(pm, pr, d.test.n * 3 * sizeof *pm) == 0);
    const char *path = scratch_path("avg.tcat");
    save(m, path);
    tcat_model *l = load(path);
    ck_assert_ptr_nonnull(l->combiner);
    ck_assert_int_eq(l->combiner->kind, TCAT_COMBINE_AVERAGE);
    ck_assert_ptr_null(l->combiner->W);
    ck_assert(l->combiner->weight[0] == 1 && l->combiner->weight[1] == 3);
    ck_assert(l->combiner->cv_score[1] == 0.625);
    tcat_mreader *r;
    ck_assert_int_eq(tcat_mreader_open(&r, path, &err), TCAT_OK);
    ck_assert(tcat_mreader_find(r, "combiner", NULL, NULL));
    ck_assert(!tcat_mreader_find(r, "stack", NULL, NULL));
    tcat_mreader_close(&r);
    float *pl = model_predict(l, &d.test, 1);
    ck_assert(memcmp(pl, pm, d.test.n * 3 * sizeof *pm) == 0);
    free(pl);
    free(pm);
    free(pr);
    tcat_model_free(&l);
    tcat_model_free(&ref);
    tcat_model_free(&m);
    data_free(&d);
    g_use_dev = true;
}
END_TEST

/* ---- broken files ----------------------------------------------------------------------- */

/* Copies the model file src to dst section by section, dropping the
 * section called `name` (data NULL and size 0) or replacing its bytes. */
static void rewrite(const char *src, const char *dst, const char *name, const void *data,
                    size_t size, bool drop)
{
    tcat_mreader *r;
    tcat_mwriter *w;
    tcat_error err = {0};
    ck_assert_msg(tcat_mreader_open(&r, src, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_msg(tcat_mwriter_open(&w, dst, &err) == TCAT_OK, "%s", err.msg);
    bool found = false;
    for (size_t i = 0; i < tcat_mreader_count(r); i++) {
        const void *p;
        size_t n;
        const char *s = tcat_mreader_section(r, i, &p, &n);
        if (strcmp(s, name) == 0) {
            found = true;
            if (drop)
                continue;
            p = data;
            n = size;
        }
        ck_assert_msg(tcat_mwriter_add(w, s, p, n, &err) == TCAT_OK, "%s", err.msg);
    }
    ck_assert_msg(found, "no section %s to rewrite", name);
    tcat_mreader_close(&r);
    ck_assert_msg(tcat_mwriter_commit(&w, &err) == TCAT_OK, "%s", err.msg);
}

/* Loading path fails with status want and a message holding `what`. */
static void expect_load_fails(const char *path, tcat_status want, const char *what)
{
    tcat_model *m = NULL;
    tcat_error err = {0};
    tcat_status st = tcat_model_load(&m, path, &err);
    if (st == TCAT_OK)
        tcat_model_free(&m);
    ck_assert_msg(st == want, "%s: status %d, want %d (%s)", what, st, want, err.msg);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err.msg, what) != NULL, "message '%s' does not name '%s'", err.msg,
                  what);
}

static void replace_json(const char *src, const char *dst, const char *name, const char *json)
{
    rewrite(src, dst, name, json, strlen(json), false);
}

START_TEST(test_model_broken_files)
{
    data3 d;
    data_make(&d);
    tcat_model *m = build_model(&d, g_two, g_w13, 2, 1);
    const char *good = scratch_path("good.tcat"), *bad = scratch_path("bad.tcat");
    save(m, good);
    tcat_model *l = load(good);
    tcat_model_free(&l);

    /* sections missing */
    static const char *const drop[] = {"m0.W", "m1.b", "m0.hash", "m1.shape", "m0.idf",
                                       "members", "labels", "tokenizer", "meta"};
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++) {
        rewrite(good, bad, drop[i], NULL, 0, true);
        expect_load_fails(bad, TCAT_ERR_MODEL, drop[i]);
    }

    /* the members table broken or wrong */
    replace_json(good, bad, "members", "[{\"family\": \"linear\", \"par");
    expect_load_fails(bad, TCAT_ERR_MODEL, "members");
    replace_json(good, bad, "members", "{}");
    expect_load_fails(bad, TCAT_ERR_MODEL, "members");
    replace_json(good, bad, "members", "[]");
    expect_load_fails(bad, TCAT_ERR_MODEL, "members");
    replace_json(good, bad, "members", "[{\"family\": \"forest\", \"params\": {}, \"weight\": 1}]");
    expect_load_fails(bad, TCAT_ERR_MODEL, "forest");
    replace_json(good, bad, "members", "[{\"family\": \"linear\", \"params\": {}, \"weight\": 0}]");
    expect_load_fails(bad, TCAT_ERR_MODEL, "member 0");
    replace_json(good, bad, "members", "[{\"family\": \"linear\", \"params\": {}}]");
    expect_load_fails(bad, TCAT_ERR_MODEL, "member 0");
    replace_json(good, bad, "members",
                 "[{\"family\": \"linear\", \"params\": {\"bogus\": 1}, \"weight\": 1}]");
    expect_load_fails(bad, TCAT_ERR_MODEL, "bogus");
    /* a member whose sections are not there */
    replace_json(good, bad, "members",
                 "[{\"family\": \"linear\", \"params\": {}, \"weight\": 1},"
                 " {\"family\": \"linear\", \"params\": {}, \"weight\": 1},"
                 " {\"family\": \"linear\", \"params\": {}, \"weight\": 1}]");
    expect_load_fails(bad, TCAT_ERR_MODEL, "m2.");

    /* labels */
    replace_json(good, bad, "labels", "[\"only\"]");
    expect_load_fails(bad, TCAT_ERR_MODEL, "labels");
    replace_json(good, bad, "labels", "[\"a\", \"b\", \"a\"]");
    expect_load_fails(bad, TCAT_ERR_MODEL, "label 2");
    replace_json(good, bad, "labels", "[\"a\", 2, \"c\"]");
    expect_load_fails(bad, TCAT_ERR_MODEL, "label 1");
    /* two labels where the members have three classes */
    replace_json(good, bad, "labels", "[\"a\", \"b\"]");
    expect_load_fails(bad, TCAT_ERR_MODEL, "shape");
    replace_json(good, bad, "meta", "[1, 2]");
    expect_load_fails(bad, TCAT_ERR_MODEL, "meta");
    replace_json(good, bad, "tokenizer", "no such setting=1\n");
    expect_load_fails(bad, TCAT_ERR_MODEL, bad);

    /* tensors of the wrong size or order */
    const void *p;
    size_t n;
    tcat_mreader *r;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_mreader_open(&r, good, &err), TCAT_OK);
    ck_assert(tcat_mreader_find(r, "m0.W", &p, &n));
    rewrite(good, bad, "m0.W", p, n - 4, false);
    expect_load_fails(bad, TCAT_ERR_MODEL, "m0.W");
    ck_assert(tcat_mreader_find(r, "m0.hash", &p, &n));
    ck_assert_uint_ge(n, 3 * sizeof(uint64_t));
    uint64_t *h = malloc(n);
    memcpy(h, p, n);
    uint64_t t = h[0];
    h[0] = h[1];
    h[1] = t;
    rewrite(good, bad, "m0.hash", h, n, false);
    expect_load_fails(bad, TCAT_ERR_MODEL, "sorted");
    free(h);
    ck_assert(tcat_mreader_find(r, "m1.shape", &p, &n));
    uint64_t shape[3];
    memcpy(shape, p, sizeof shape);
    shape[0] += 1;
    rewrite(good, bad, "m1.shape", shape, sizeof shape, false);
    expect_load_fails(bad, TCAT_ERR_MODEL, "m1.");
    tcat_mreader_close(&r);

    /* not a model file at all, and no file */
    const char *junk = scratch_write("junk.tcat", "this is not a model\n");
    expect_load_fails(junk, TCAT_ERR_MODEL, junk);
    expect_load_fails(scratch_path("missing.tcat"), TCAT_ERR_IO, "missing.tcat");

    /* the good one still loads */
    l = load(good);
    tcat_model_free(&l);
    tcat_model_free(&m);
    data_free(&d);
}
END_TEST

START_TEST(test_model_broken_combiner)
{
    data3 d;
    data_make(&d);
    tcat_model *m = build_model(&d, g_two, g_w13, 2, 1);
    tcat_combiner c = hand_stacker();
    tcat_error err = {0};
    ck_assert_int_eq(tcat_model_set_combiner(m, &c, &err), TCAT_OK);
    tcat_combine_free(&c);
    const char *good = scratch_path("good.tcat"), *bad = scratch_path("bad.tcat");
    save(m, good);
    tcat_model *l = load(good);
    tcat_model_free(&l);

    /* no stacker weights, or no combiner for them */
    rewrite(good, bad, "stack", NULL, 0, true);
    expect_load_fails(bad, TCAT_ERR_MODEL, "'stack'");
    rewrite(good, bad, "combiner", NULL, 0, true);
    expect_load_fails(bad, TCAT_ERR_MODEL, "'combiner'");
    /* stacker weights cut short, too long, not finite */
    tcat_mreader *r;
    const void *p;
    size_t n;
    ck_assert_int_eq(tcat_mreader_open(&r, good, &err), TCAT_OK);
    ck_assert(tcat_mreader_find(r, "stack", &p, &n));
    ck_assert_uint_eq(n, 3 * 7 * sizeof(float));
    float *W = malloc(n + sizeof(float));
    memcpy(W, p, n);
    tcat_mreader_close(&r);
    rewrite(good, bad, "stack", W, n - sizeof(float), false);
    expect_load_fails(bad, TCAT_ERR_MODEL, "'stack'");
    rewrite(good, bad, "stack", W, 0, false);
    expect_load_fails(bad, TCAT_ERR_MODEL, "'stack'");
    W[n / sizeof(float)] = 0;
    rewrite(good, bad, "stack", W, n + sizeof(float), false);
    expect_load_fails(bad, TCAT_ERR_MODEL, "'stack'");
    W[4] = INFINITY;
    rewrite(good, bad, "stack", W, n, false);
    expect_load_fails(bad, TCAT_ERR_MODEL, "finite");
    free(W);
    /* the combiner's description broken or not matching */
    replace_json(good, bad, "combiner", "{\"kind\": \"stack\", \"memb");
    expect_load_fails(bad, TCAT_ERR_MODEL, "combiner");
    replace_json(good, bad, "combiner",
                 "{\"kind\": \"stack\", \"members\": 3, \"classes\": 3, \"inputs\": "
                 "\"log\", \"eps\": 1e-6, \"l2\": 0.25}");
    expect_load_fails(bad, TCAT_ERR_MODEL, "combiner");
    replace_json(good, bad, "combiner",
                 "{\"kind\": \"stack\", \"members\": 2, \"classes\": 3, \"inputs\": "
                 "\"probabilities\", \"eps\": 1e-6, \"l2\": 0.25}");
    expect_load_fails(bad, TCAT_ERR_MODEL, "inputs");
    replace_json(good, bad, "combiner",
                 "{\"kind\": \"boosting\", \"members\": 2, \"classes\": 3}");
    expect_load_fails(bad, TCAT_ERR_MODEL, "kind");
    /* a stack section beside a combiner of another kind */
    replace_json(good, bad, "combiner", "{\"kind\": \"average\", \"members\": 2, "
                                        "\"classes\": 3}");
    expect_load_fails(bad, TCAT_ERR_MODEL, "'stack'");
    /* ... which is fine without it */
    rewrite(bad, scratch_path("avg.tcat"), "stack", NULL, 0, true);
    l = load(scratch_path("avg.tcat"));
    ck_assert_int_eq(l->combiner->kind, TCAT_COMBINE_AVERAGE);
    tcat_model_free(&l);

    l = load(good);
    tcat_model_free(&l);
    tcat_model_free(&m);
    data_free(&d);
}
END_TEST

Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_new(s, "save and load");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_model_round_trip);
    tcase_add_test(tc, test_model_params_round_trip);
    tcase_add_test(tc, test_model_timestamp);
    tcase_add_test(tc, test_model_save_twice_identical);
    tcase_add_test(tc, test_model_train_deterministic);
    tcase_add_test(tc, test_model_weighted_mean);
    tcase_add_test(tc, test_model_stacked);
    tcase_add_test(tc, test_model_average_combiner);
    tc = tcase_new(s, "broken files");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_model_broken_files);
    tcase_add_test(tc, test_model_broken_combiner);
    return s;
}
