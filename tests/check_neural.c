/* tests/check_neural.c — the CNN and recurrent families through the
 * pipeline interface: known answers (class words for the CNN; word order,
 * which a bag of words cannot see, for the RNN), every embedding mode and
 * init, determinism for a seed and thread count, save and load, bad
 * hyperparameters, a cnn file from before padding; multi-label (one-vs-all) known answers, determinism,
 * save and load. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/model.h"
#include "model/modelfile.h"
#include "pipelines/pipeline.h"
#include "tests/suites.h"
#include "tests/synth.h"
#include "tests/testutil.h"

static float *fit_predict(tcat_pipeline *p, const tcat_docs *train, const tcat_docs *dev,
                          const tcat_docs *test, int threads, const tcat_corpus *unlabeled)
{
    tcat_fit_opts o = {threads, 42, 0, NULL, NULL, NULL, unlabeled};
    tcat_error err = {0};
    ck_assert_msg(tcat_pipeline_fit(p, train, dev, &o, &err) == TCAT_OK, "%s", err.msg);
    float *pr = malloc(test->n * p->nclasses * sizeof *pr);
    ck_assert_msg(tcat_pipeline_predict_proba(p, test, pr, threads, &err) == TCAT_OK, "%s",
                  err.msg);
    for (size_t i = 0; i < test->n; i++) {
        double sum = 0;
        for (size_t k = 0; k < p->nclasses; k++)
            sum += pr[i * p->nclasses + k];
        ck_assert_msg(fabs(sum - 1) < 1e-4, "row %zu sums to %g", i, sum);
    }
    return pr;
}

static double accuracy(const float *pr, const tcat_docs *d, size_t K)
{
    size_t right = 0;
    for (size_t i = 0; i < d->n; i++)
        right += tcat_argmax(pr + i * K, K) == (size_t)d->c->label[tcat_docs_at(d, i)];
    return (double)right / (double)d->n;
}

/* synth_corpus split 3:1 into train and test. */
static void split(const tcat_corpus *c, size_t *tr, size_t *ntr, size_t *te, size_t *nte)
{
    *ntr = *nte = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (i % 4 == 3)
            te[(*nte)++] = i;
        else
            tr[(*ntr)++] = i;
    }
}

static void class_words(const char *family, const char *params)
{
    tcat_corpus c;
    synth_corpus(&c, 3, 60, 5);
    size_t tr[256], te[256], ntr, nte;
    split(&c, tr, &ntr, te, &nte);
    tcat_docs train = {&c, tr, ntr}, test = {&c, te, nte};
    tcat_pipeline *p = synth_pipeline(family, params, 3);
    float *pr = fit_predict(p, &train, &test, &test, 1, NULL);
    double acc = accuracy(pr, &test, 3);
    ck_assert_msg(acc >= 0.95, "%s %s: accuracy %.3f", family, params, acc);
    free(pr);
    tcat_pipeline_free(&p);
    tcat_corpus_free(&c);
}

START_TEST(test_cnn_class_words)
{
    class_words("cnn", "{\"dim\": 16, \"maps\": 8, \"epochs\": 10}");
}
END_TEST

START_TEST(test_cnn_modes_and_inits)
{
    /* every mode learns the easy task (static: on frozen random vectors) */
    class_words("cnn", "{\"dim\": 32, \"maps\": 16, \"epochs\": 25, \"mode\": \"static\"}");
    class_words("cnn", "{\"dim\": 16, \"maps\": 8, \"epochs\": 10, \"mode\": \"multichannel\", "
                       "\"widths\": [2, 3], \"optimizer\": \"adam\", \"lr\": 0.01}");
    class_words("cnn", "{\"dim\": 16, \"maps\": 8, \"epochs\": 10, \"init\": \"skipgram\"}");
}
END_TEST

START_TEST(test_rnn_class_words)
{
    class_words("rnn", "{\"dim\": 16, \"hidden\": 8, \"epochs\": 10, \"min_count\": 1}");
    class_words("rnn", "{\"dim\": 16, \"hidden\": 8, \"epochs\": 10, \"min_count\": 1, "
                       "\"cell\": \"lstm\", \"layers\": 2}");
}
END_TEST

/* Documents over the words a, b and fillers: the label says whether the
 * first "a" comes before the first "b". Both always occur once, so a bag
 * of words sees the same counts for both classes. */
static void order_corpus(tcat_corpus *c, size_t n, uint64_t seed)
{
    static const char *const filler[] = {"x", "y", "z", "w"};
    tcat_rng r;
    tcat_rng_seed(&r, seed);
    tcat_corpus_init(c);
    for (size_t i = 0; i < n; i++) {
        size_t len = 4 + (size_t)tcat_rng_below(&r, 6);
        size_t pa = (size_t)tcat_rng_below(&r, len), pb;
        do
            pb = (size_t)tcat_rng_below(&r, len);
        while (pb == pa);
        char text[128] = "";
        for (size_t k = 0; k < len; k++) {
            strcat(text, k == pa ? "a" : k == pb ? "b" : filler[tcat_rng_below(&r, 4)]);
            strcat(text, " ");
        }
        corpus_add_text(c, text, pa < pb ? 1 : 0);
    }
}

START_TEST(test_rnn_learns_word_order)
{
    tcat_corpus c;
    order_corpus(&c, 1200, 3);
    size_t tr[1200], te[1200], ntr = 0, nte = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (i % 4 == 3)
            te[nte++] = i;
        else
            tr[ntr++] = i;
    }
    tcat_docs train = {&c, tr, ntr}, test = {&c, te, nte};
    tcat_pipeline *p = synth_pipeline("rnn", "{\"dim\": 8, \"hidden\": 16, \"epochs\": 12, \"min_count\": 1, "
                                   "\"dropout\": 0, \"lr\": 0.01}", 2);
    float *pr = fit_predict(p, &train, &test, &test, 1, NULL);
    double acc = accuracy(pr, &test, 2);
    ck_assert_msg(acc >= 0.95, "rnn on word order: accuracy %.3f", acc);
    free(pr);
    tcat_pipeline_free(&p);

    /* the bag of words cannot: about chance */
    p = synth_pipeline("fasttext", "{\"epoch\": 20, \"lr\": 0.5}", 2);
    pr = fit_predict(p, &train, &test, &test, 1, NULL);
    acc = accuracy(pr, &test, 2);
    ck_assert_msg(acc < 0.7, "fasttext on word order: accuracy %.3f, expected near chance", acc);
    free(pr);
    tcat_pipeline_free(&p);
    tcat_corpus_free(&c);
}
END_TEST

/* Same seed and thread count: the same bits; saved and loaded: the same
 * predictions. */
static void deterministic(const char *family, const char *params, int threads)
{
    tcat_corpus c;
    synth_corpus(&c, 3, 30, 9);
    corpus_add_text(&c, "", 1); /* an empty document */
    size_t tr[128], te[128], ntr, nte;
    split(&c, tr, &ntr, te, &nte);
    tcat_docs train = {&c, tr, ntr}, dev = {&c, te, nte}, all = {&c, NULL, c.n};
    tcat_pipeline *a = synth_pipeline(family, params, 3), *b = synth_pipeline(family, params, 3);
    float *pa = fit_predict(a, &train, &dev, &all, threads, NULL);
    float *pb = fit_predict(b, &train, &dev, &all, threads, NULL);
    ck_assert_msg(memcmp(pa, pb, c.n * 3 * sizeof *pa) == 0, "%s: two fits with one seed differ",
                  family);

    scratch_setup();
    float *pl = saved_model_predict(a, 3, &all, threads);
    for (size_t i = 0; i < c.n * 3; i++)
        ck_assert_msg(fabsf(pa[i] - pl[i]) < 1e-6, "%s: loaded model predicts %g, not %g",
                      family, pl[i], pa[i]);
    scratch_teardown();
    free(pa);
    free(pb);
    free(pl);
    tcat_pipeline_free(&b);
    tcat_corpus_free(&c);
}

START_TEST(test_cnn_deterministic_and_round_trip)
{
    deterministic("cnn", "{\"dim\": 8, \"maps\": 4, \"epochs\": 3}", 1);
    deterministic("cnn", "{\"dim\": 8, \"maps\": 4, \"epochs\": 3, \"mode\": \"multichannel\", "
                         "\"batch\": 10}", 2);
}
END_TEST

/* Copies the model file at from to to, leaving out the sections whose
 * names end in ".pad"; with narrow, the members' params say "wide": false
 * and each such section holds 0 instead. */
static void copy_model(const char *from, const char *to, bool narrow)
{
    tcat_error err = {0};
    tcat_mreader *r = NULL;
    tcat_mwriter *w = NULL;
    ck_assert_msg(tcat_mreader_open(&r, from, &err) == TCAT_OK, "%s", err.msg);
    ck_assert_msg(tcat_mwriter_open(&w, to, &err) == TCAT_OK, "%s", err.msg);
    for (size_t i = 0; i < tcat_mreader_count(r); i++) {
        const void *data;
        size_t size;
        const char *name = tcat_mreader_section(r, i, &data, &size);
        size_t len = strlen(name);
        uint64_t zero = 0;
        char *edited = NULL;
        if (len > 4 && strcmp(name + len - 4, ".pad") == 0) {
            if (!narrow)
                continue;
            data = &zero;
        } else if (narrow && strcmp(name, "members") == 0) {
            json_error_t je;
            json_t *j = json_loadb(data, size, 0, &je);
            ck_assert(j != NULL);
            json_object_set_new(json_object_get(json_array_get(j, 0), "params"), "wide",
                                json_false());
            edited = json_dumps(j, JSON_COMPACT);
            json_decref(j);
            data = edited;
            size = strlen(edited);
        }
        ck_assert_msg(tcat_mwriter_add(w, name, data, size, &err) == TCAT_OK, "%s", err.msg);
        free(edited);
    }
    ck_assert_msg(tcat_mwriter_commit(&w, &err) == TCAT_OK, "%s", err.msg);
    tcat_mreader_close(&r);
}

static float *load_predict(const char *path, const tcat_docs *docs, size_t K)
{
    tcat_model *m = NULL;
    tcat_error err = {0};
    ck_assert_msg(tcat_model_load(&m, path, &err) == TCAT_OK, "%s", err.msg);
    float *p = malloc(docs->n * K * sizeof *p);
    ck_assert(p != NULL);
    ck_assert_msg(tcat_model_predict_proba(m, docs, p, 1, &err) == TCAT_OK, "%s", err.msg);
    tcat_model_free(&m);
    return p;
}

START_TEST(test_cnn_file_without_padding)
{
    /* A cnn model file saved before the wide convolution existed has no
     * 'pad' section: it reads no padding, exactly as a narrow model with
     * the same weights does. */
    tcat_corpus c;
    synth_corpus(&c, 3, 30, 9);
    size_t tr[128], te[128], ntr, nte;
    split(&c, tr, &ntr, te, &nte);
    tcat_docs train = {&c, tr, ntr}, dev = {&c, te, nte}, all = {&c, NULL, c.n};
    tcat_pipeline *p = synth_pipeline("cnn", "{\"dim\": 8, \"maps\": 4, \"epochs\": 3}", 3);
    free(fit_predict(p, &train, &dev, &all, 1, NULL));
    scratch_setup();
    tcat_model *m = synth_model(3);
    tcat_error err = {0};
    ck_assert(tcat_model_add_member(m, p, 1.0, NULL, &err) == TCAT_OK);
    const char *wide = scratch_path("wide.tcat");
    ck_assert_msg(tcat_model_save(m, wide, &err) == TCAT_OK, "%s", err.msg);
    tcat_model_free(&m);
    char old[4096], narrow[4096];
    snprintf(old, sizeof old, "%s", scratch_path("old.tcat"));
    snprintf(narrow, sizeof narrow, "%s", scratch_path("narrow.tcat"));
    copy_model(wide, old, false);
    copy_model(wide, narrow, true);
    float *pw = load_predict(wide, &all, 3), *po = load_predict(old, &all, 3),
          *pn = load_predict(narrow, &all, 3);
    ck_assert_msg(memcmp(po, pn, c.n * 3 * sizeof *po) == 0,
                  "a file without 'pad' predicts unlike the narrow model");
    ck_assert_msg(memcmp(po, pw, c.n * 3 * sizeof *po) != 0, "the padding made no difference");
    /* and its effective parameters say so */
    ck_assert_msg(tcat_model_load(&m, old, &err) == TCAT_OK, "%s", err.msg);
    ck_assert(json_is_false(json_object_get(m->members[0].p->params, "wide")));
    tcat_model_free(&m);
    scratch_teardown();
    free(pw);
    free(po);
    free(pn);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_rnn_deterministic_and_round_trip)
{
    deterministic("rnn", "{\"dim\": 8, \"hidden\": 4, \"epochs\": 3}", 1);
    deterministic("rnn", "{\"dim\": 8, \"hidden\": 4, \"epochs\": 3, \"cell\": \"lstm\", "
                         "\"batch\": 10}", 2);
}
END_TEST

START_TEST(test_unlabeled_text_feeds_skipgram)
{
    /* with init "skipgram", unlabelled text joins the training text; a
     * fit with and without it differs (the vectors saw more text) */
    tcat_corpus c, u;
    synth_corpus(&c, 2, 30, 4);
    synth_corpus(&u, 2, 60, 8);
    size_t tr[128], te[128], ntr, nte;
    split(&c, tr, &ntr, te, &nte);
    tcat_docs train = {&c, tr, ntr}, test = {&c, te, nte};
    const char *params = "{\"dim\": 8, \"maps\": 4, \"epochs\": 2, \"init\": \"skipgram\"}";
    tcat_pipeline *a = synth_pipeline("cnn", params, 2), *b = synth_pipeline("cnn", params, 2);
    float *pa = fit_predict(a, &train, NULL, &test, 1, NULL);
    float *pb = fit_predict(b, &train, NULL, &test, 1, &u);
    ck_assert(memcmp(pa, pb, nte * 2 * sizeof *pa) != 0);
    free(pa);
    free(pb);
    tcat_pipeline_free(&a);
    tcat_pipeline_free(&b);
    tcat_corpus_free(&c);
    tcat_corpus_free(&u);
}
END_TEST

START_TEST(test_early_stopping_records_epochs)
{
    /* with dev and patience 1, training stops after the first epoch that
     * is not better; the effective epochs is the best one */
    tcat_corpus c;
    synth_corpus(&c, 3, 40, 6);
    size_t tr[256], te[256], ntr, nte;
    split(&c, tr, &ntr, te, &nte);
    tcat_docs train = {&c, tr, ntr}, test = {&c, te, nte};
    tcat_pipeline *p = synth_pipeline("cnn", "{\"dim\": 8, \"maps\": 4, \"epochs\": 200, \"patience\": 1}", 3);
    float *pr = fit_predict(p, &train, &test, &test, 1, NULL);
    long e = (long)json_integer_value(json_object_get(tcat_pipeline_params(p), "epochs"));
    ck_assert_msg(e >= 1 && e < 200, "effective epochs %ld", e);
    free(pr);
    tcat_pipeline_free(&p);
    tcat_corpus_free(&c);
}
END_TEST

/* ---- multi-label ------------------------------------------------------------------ */

/* Fits a multi-label model on tr (dev dv or none) and predicts te. */
static float *ml_fit_predict(tcat_pipeline *p, const tcat_corpus *tr, const tcat_corpus *dv,
                             const tcat_corpus *te, int threads, const double *cw)
{
    ck_assert(p->multilabel);
    tcat_docs train = {tr, NULL, tr->n}, dev = {dv ? dv : tr, NULL, dv ? dv->n : 0},
              test = {te, NULL, te->n};
    tcat_fit_opts o = {.threads = threads, .seed = 42, .class_weight = cw};
    tcat_error err = {0};
    ck_assert_msg(tcat_pipeline_fit(p, &train, &dev, &o, &err) == TCAT_OK, "%s", err.msg);
    float *pr = malloc(te->n * p->nclasses * sizeof *pr);
    ck_assert_msg(tcat_pipeline_predict_proba(p, &test, pr, threads, &err) == TCAT_OK, "%s",
                  err.msg);
    for (size_t i = 0; i < te->n * p->nclasses; i++)
        ck_assert(pr[i] >= 0 && pr[i] <= 1);
    return pr;
}

/* synth_ml_corpus: every label set recovered on held-out documents. */
static void ml_known_answer(const char *family, const char *params)
{
    tcat_corpus tr, dv, te;
    synth_ml_corpus(&tr, 3, 240, 1);
    synth_ml_corpus(&dv, 3, 60, 2);
    synth_ml_corpus(&te, 3, 90, 3);
    tcat_pipeline *p = synth_pipeline(family, params, 3);
    float *pr = ml_fit_predict(p, &tr, &dv, &te, 1, NULL);
    double f1 = synth_ml_micro_f1(&te, pr, te.n, 3);
    ck_assert_msg(f1 >= 0.9, "%s %s: micro-F1 %.3f", family, params, f1);
    /* document 0 has labels 0 and 1: both likely, the row not a softmax */
    ck_assert_msg(pr[0] > 0.5f && pr[1] > 0.5f && pr[2] < 0.5f, "%s doc 0: %g %g %g", family,
                  pr[0], pr[1], pr[2]);
    free(pr);
    tcat_pipeline_free(&p);
    tcat_corpus_free(&tr);
    tcat_corpus_free(&dv);
    tcat_corpus_free(&te);
}

START_TEST(test_cnn_multilabel)
{
    ml_known_answer("cnn", "{\"multilabel\": true, \"dim\": 16, \"maps\": 8, \"epochs\": 10}");
}
END_TEST

START_TEST(test_rnn_multilabel)
{
    ml_known_answer("rnn", "{\"multilabel\": true, \"dim\": 16, \"hidden\": 8, "
                           "\"epochs\": 10, \"min_count\": 1, \"lr\": 0.01}");
}
END_TEST

/* Same seed and thread count: the same bits; saved and loaded: the same
 * probabilities. */
static void ml_deterministic(const char *family, const char *params, int threads)
{
    tcat_corpus tr, dv;
    synth_ml_corpus(&tr, 3, 60, 5);
    synth_ml_corpus(&dv, 3, 20, 6);
    tcat_pipeline *a = synth_pipeline(family, params, 3), *b = synth_pipeline(family, params, 3);
    float *pa = ml_fit_predict(a, &tr, &dv, &tr, threads, NULL);
    float *pb = ml_fit_predict(b, &tr, &dv, &tr, threads, NULL);
    ck_assert_msg(memcmp(pa, pb, tr.n * 3 * sizeof *pa) == 0, "%s: two fits with one seed differ",
                  family);
    scratch_setup();
    tcat_docs all = {&tr, NULL, tr.n};
    float *pl = saved_model_predict(a, 3, &all, threads);
    for (size_t i = 0; i < tr.n * 3; i++)
        ck_assert_msg(fabsf(pa[i] - pl[i]) < 1e-6, "%s: loaded model predicts %g, not %g",
                      family, pl[i], pa[i]);
    scratch_teardown();
    free(pa);
    free(pb);
    free(pl);
    tcat_pipeline_free(&b);
    tcat_corpus_free(&tr);
    tcat_corpus_free(&dv);
}

START_TEST(test_multilabel_deterministic_and_round_trip)
{
    ml_deterministic("cnn", "{\"multilabel\": true, \"dim\": 8, \"maps\": 4, \"epochs\": 3}", 1);
    ml_deterministic("cnn", "{\"multilabel\": true, \"dim\": 8, \"maps\": 4, \"epochs\": 3, "
                            "\"batch\": 10}", 2);
    ml_deterministic("rnn", "{\"multilabel\": true, \"dim\": 8, \"hidden\": 4, \"epochs\": 3, "
                            "\"batch\": 10}", 2);
}
END_TEST

START_TEST(test_multilabel_class_weight)
{
    /* label 2's weight scales its positive term: its probabilities rise
     * (no dev: no temperature to absorb it) */
    tcat_corpus tr;
    synth_ml_corpus(&tr, 3, 60, 4);
    const char *params = "{\"multilabel\": true, \"dim\": 8, \"maps\": 4, \"epochs\": 3}";
    const double one[3] = {1, 1, 1}, heavy[3] = {1, 1, 8};
    tcat_pipeline *a = synth_pipeline("cnn", params, 3), *b = synth_pipeline("cnn", params, 3);
    float *pa = ml_fit_predict(a, &tr, NULL, &tr, 1, one);
    float *pb = ml_fit_predict(b, &tr, NULL, &tr, 1, heavy);
    double ma = 0, mb = 0;
    for (size_t i = 0; i < tr.n; i++) {
        ma += pa[i * 3 + 2];
        mb += pb[i * 3 + 2];
    }
    ck_assert_msg(mb > ma, "mean p(label 2): weight 8 %g, weight 1 %g", mb / tr.n, ma / tr.n);
    free(pa);
    free(pb);
    tcat_pipeline_free(&a);
    tcat_pipeline_free(&b);
    tcat_corpus_free(&tr);
}
END_TEST

START_TEST(test_bad_hyperparameters)
{
    static const char *const bad[][3] = {
        {"cnn", "{\"widths\": []}", "widths"},     {"cnn", "{\"widths\": [0]}", "widths"},
        {"cnn", "{\"maps\": 0}", "maps"},           {"cnn", "{\"hidden\": 8}", "hidden"},
        {"cnn", "{\"mode\": \"frozen\"}", "mode"},  {"cnn", "{\"dropout\": 1}", "dropout"},
        {"rnn", "{\"cell\": \"elman\"}", "cell"},   {"rnn", "{\"layers\": 3}", "layers"},
        {"rnn", "{\"optimizer\": \"lbfgs\"}", "optimizer"}, {"rnn", "{\"maps\": 3}", "maps"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_error_t je;
        json_t *j = json_loads(bad[i][1], 0, &je);
        tcat_pipeline *p = NULL;
        tcat_error err = {0};
        ck_assert_msg(tcat_pipeline_create(&p, bad[i][0], j, 2, &err) == TCAT_ERR_USAGE,
                      "%s %s accepted", bad[i][0], bad[i][1]);
        ck_assert_msg(strstr(err.msg, bad[i][2]) != NULL, "message '%s' does not name %s",
                      err.msg, bad[i][2]);
        json_decref(j);
    }
}
END_TEST

Suite *neural_suite(void)
{
    Suite *s = suite_create("neural");
    TCase *tc = tcase_new(s, "cnn");
    tcase_add_test(tc, test_cnn_class_words);
    tcase_add_test(tc, test_cnn_modes_and_inits);
    tcase_add_test(tc, test_cnn_deterministic_and_round_trip);
    tcase_add_test(tc, test_cnn_file_without_padding);
    tcase_add_test(tc, test_unlabeled_text_feeds_skipgram);
    tcase_add_test(tc, test_early_stopping_records_epochs);
    tc = tcase_new(s, "rnn");
    tcase_add_test(tc, test_rnn_class_words);
    tcase_add_test(tc, test_rnn_learns_word_order);
    tcase_add_test(tc, test_rnn_deterministic_and_round_trip);
    tc = tcase_new(s, "multilabel");
    tcase_add_test(tc, test_cnn_multilabel);
    tcase_add_test(tc, test_rnn_multilabel);
    tcase_add_test(tc, test_multilabel_deterministic_and_round_trip);
    tcase_add_test(tc, test_multilabel_class_weight);
    tc = tcase_new(s, "params");
    tcase_add_test(tc, test_bad_hyperparameters);
    return s;
}
