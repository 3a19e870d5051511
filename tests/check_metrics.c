/* tests/check_metrics.c — classification scores (search/metrics.h). */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search/metrics.h"
#include "tests/suites.h"
#include "tests/testutil.h"

#define EPS 1e-12
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void compute_ok(tcat_metrics *m, const int32_t *t, const int32_t *p, size_t n, size_t k)
{
    tcat_error err = {0};
    ck_assert_msg(tcat_metrics_compute(m, t, p, n, k, &err) == TCAT_OK, "compute: %s", err.msg);
}

/*
 * The hand-computed example: 10 documents, 3 classes.
 *
 *   truth 0 0 0 0 1 1 1 2 2 2
 *   pred  0 0 0 1 1 1 2 0 1 2
 *
 *   confusion (row = true, column = predicted)
 *                p0 p1 p2   support
 *           t0    3  1  0   4
 *           t1    0  2  1   3
 *           t2    1  1  1   3
 *   predicted     4  4  2
 *
 *   class 0: P = 3/4  R = 3/4  F1 = 2*3/(4+4) = 3/4
 *   class 1: P = 2/4  R = 2/3  F1 = 2*2/(3+4) = 4/7
 *   class 2: P = 1/2  R = 1/3  F1 = 2*1/(3+2) = 2/5
 *   accuracy = micro-F1 = 6/10
 *   macro-F1 = (3/4 + 4/7 + 2/5) / 3 = (105 + 80 + 56) / 420 = 241/420
 *   weighted-F1 = (4*3/4 + 3*4/7 + 3*2/5) / 10 = (3 + 12/7 + 6/5) / 10 = 207/350
 * (scikit-learn agrees: f1_score(average='macro') = 0.57380952380952...,
 *  'weighted' = 0.59142857142857...)
 */
static const int32_t hand_t[] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
static const int32_t hand_p[] = {0, 0, 0, 1, 1, 1, 2, 0, 1, 2};

static void check_hand(const tcat_metrics *m)
{
    static const uint64_t conf[9] = {3, 1, 0, 0, 2, 1, 1, 1, 1};
    static const uint64_t support[3] = {4, 3, 3}, predicted[3] = {4, 4, 2};
    const double prec[3] = {3.0 / 4, 2.0 / 4, 1.0 / 2};
    const double rec[3] = {3.0 / 4, 2.0 / 3, 1.0 / 3};
    const double f1[3] = {3.0 / 4, 4.0 / 7, 2.0 / 5};
    ck_assert_uint_eq(m->k, 3);
    ck_assert_uint_eq(m->n, 10);
    for (size_t i = 0; i < 9; i++)
        ck_assert_uint_eq(m->confusion[i], conf[i]);
    for (size_t c = 0; c < 3; c++) {
        ck_assert_uint_eq(m->support[c], support[c]);
        ck_assert_uint_eq(m->predicted[c], predicted[c]);
        ck_assert_double_eq_tol(m->precision[c], prec[c], EPS);
        ck_assert_double_eq_tol(m->recall[c], rec[c], EPS);
        ck_assert_double_eq_tol(m->f1[c], f1[c], EPS);
    }
    ck_assert_double_eq_tol(m->accuracy, 0.6, EPS);
    ck_assert_double_eq_tol(m->micro_f1, 0.6, EPS);
    ck_assert_double_eq_tol(m->macro_f1, 241.0 / 420, EPS);
    ck_assert_double_eq_tol(m->weighted_f1, 207.0 / 350, EPS);
}

START_TEST(hand_example)
{
    tcat_metrics m;
    compute_ok(&m, hand_t, hand_p, NELEM(hand_t), 3);
    ck_assert_uint_eq(m.unknown, 0);
    check_hand(&m);
    ck_assert_double_eq_tol(tcat_metrics_get(&m, TCAT_METRIC_MACRO_F1), 241.0 / 420, EPS);
    ck_assert_double_eq_tol(tcat_metrics_get(&m, TCAT_METRIC_MICRO_F1), 0.6, EPS);
    ck_assert_double_eq_tol(tcat_metrics_get(&m, TCAT_METRIC_ACCURACY), 0.6, EPS);
    ck_assert_double_eq_tol(tcat_metrics_get(&m, TCAT_METRIC_WEIGHTED_F1), 207.0 / 350, EPS);
    tcat_metrics_free(&m);
    ck_assert_ptr_null(m.confusion);
    ck_assert_uint_eq(m.k, 0);
    tcat_metrics_free(&m); /* a zeroed one is fine */
}
END_TEST

START_TEST(perfect)
{
    const int32_t t[] = {0, 1, 2, 3, 3, 2, 1, 0, 0};
    tcat_metrics m;
    compute_ok(&m, t, t, NELEM(t), 4);
    ck_assert_double_eq(m.accuracy, 1.0);
    ck_assert_double_eq(m.macro_f1, 1.0);
    ck_assert_double_eq(m.micro_f1, 1.0);
    ck_assert_double_eq(m.weighted_f1, 1.0);
    for (size_t c = 0; c < 4; c++) {
        ck_assert_double_eq(m.precision[c], 1.0);
        ck_assert_double_eq(m.recall[c], 1.0);
        ck_assert_double_eq(m.f1[c], 1.0);
        for (size_t p = 0; p < 4; p++)
            ck_assert_uint_eq(m.confusion[c * 4 + p], c == p ? m.support[c] : 0);
    }
    tcat_metrics_free(&m);
}
END_TEST

/*
 * Zero division, 5 classes, 6 documents:
 *
 *   truth 0 0 1 1 2 2
 *   pred  0 3 1 1 0 1
 *
 *   confusion     p0 p1 p2 p3 p4   support
 *           t0     1  0  0  1  0   2
 *           t1     0  2  0  0  0   2
 *           t2     1  1  0  0  0   2
 *           t3     0  0  0  0  0   0
 *           t4     0  0  0  0  0   0
 *   predicted      2  3  0  1  0
 *
 *   class 0: P = 1/2  R = 1/2  F1 = 1/2
 *   class 1: P = 2/3  R = 1    F1 = 4/5
 *   class 2: never predicted: P = 0, R = 0/2 = 0, F1 = 0
 *   class 3: no support, predicted once: P = 0/1 = 0, R = 0, F1 = 0
 *   class 4: neither: P = R = F1 = 0, still in the macro mean
 *   accuracy = 3/6; macro-F1 = (1/2 + 4/5) / 5 = 0.26;
 *   weighted-F1 = (2*1/2 + 2*4/5) / 6 = 13/30
 * (scikit-learn with labels=range(5), zero_division=0: 0.26, 0.4333...)
 */
START_TEST(zero_division)
{
    const int32_t t[] = {0, 0, 1, 1, 2, 2};
    const int32_t p[] = {0, 3, 1, 1, 0, 1};
    const double prec[5] = {0.5, 2.0 / 3, 0, 0, 0};
    const double rec[5] = {0.5, 1, 0, 0, 0};
    const double f1[5] = {0.5, 0.8, 0, 0, 0};
    tcat_metrics m;
    compute_ok(&m, t, p, NELEM(t), 5);
    for (size_t c = 0; c < 5; c++) {
        ck_assert(isfinite(m.precision[c]) && isfinite(m.recall[c]) && isfinite(m.f1[c]));
        ck_assert_double_eq_tol(m.precision[c], prec[c], EPS);
        ck_assert_double_eq_tol(m.recall[c], rec[c], EPS);
        ck_assert_double_eq_tol(m.f1[c], f1[c], EPS);
    }
    ck_assert_uint_eq(m.predicted[2], 0);
    ck_assert_uint_eq(m.support[3], 0);
    ck_assert_uint_eq(m.predicted[3], 1);
    ck_assert_double_eq_tol(m.accuracy, 0.5, EPS);
    ck_assert_double_eq_tol(m.macro_f1, 0.26, EPS);
    ck_assert_double_eq_tol(m.weighted_f1, 13.0 / 30, EPS);
    tcat_metrics_free(&m);

    /* Nothing scored at all: every score 0, no NaN. */
    const int32_t unk[] = {-1, -1};
    const int32_t up[] = {0, 1};
    compute_ok(&m, unk, up, 2, 2);
    ck_assert_uint_eq(m.n, 0);
    ck_assert_uint_eq(m.unknown, 2);
    ck_assert_double_eq(m.accuracy, 0);
    ck_assert_double_eq(m.macro_f1, 0);
    ck_assert_double_eq(m.weighted_f1, 0);
    ck_assert_double_eq(m.micro_f1, 0);
    tcat_metrics_free(&m);

    /* No documents and no classes. */
    compute_ok(&m, NULL, NULL, 0, 0);
    ck_assert_ptr_null(m.f1);
    ck_assert_double_eq(m.macro_f1, 0);
    tcat_metrics_free(&m);
}
END_TEST

/* The hand example with four documents of unknown truth mixed in: they are
 * counted and change nothing else (their predictions are not counted). */
START_TEST(unknown_labels)
{
    const int32_t t[] = {-1, 0, 0, 0, 0, -1, 1, 1, 1, 2, 2, 2, -7, -1};
    const int32_t p[] = {2, 0, 0, 0, 1, 0, 1, 1, 2, 0, 1, 2, 1, 1};
    tcat_metrics m;
    compute_ok(&m, t, p, NELEM(t), 3);
    ck_assert_uint_eq(m.unknown, 4);
    check_hand(&m);
    tcat_metrics_free(&m);
}
END_TEST

START_TEST(out_of_range)
{
    tcat_metrics m;
    tcat_error err = {0};
    const int32_t t[] = {0, 1, 2};
    const int32_t bad_hi[] = {0, 3, 1};
    const int32_t bad_lo[] = {0, 1, -1};
    ck_assert_int_eq(tcat_metrics_compute(&m, t, bad_hi, 3, 3, &err), TCAT_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "prediction 1"));
    ck_assert_ptr_null(m.confusion);
    ck_assert_int_eq(tcat_metrics_compute(&m, t, bad_lo, 3, 3, &err), TCAT_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "prediction 2"));
    /* A true label >= k is a caller bug too (unknown labels are < 0). */
    const int32_t tbad[] = {0, 5, 1};
    ck_assert_int_eq(tcat_metrics_compute(&m, tbad, t, 3, 3, &err), TCAT_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "true label 1"));
    ck_assert_int_eq(tcat_metrics_compute(&m, t, t, 3, 0, NULL), TCAT_ERR_USAGE);
}
END_TEST

START_TEST(metric_names)
{
    const tcat_metric all[] = {TCAT_METRIC_MACRO_F1, TCAT_METRIC_MICRO_F1, TCAT_METRIC_ACCURACY,
                               TCAT_METRIC_WEIGHTED_F1};
    const char *names[] = {"macro-f1", "micro-f1", "accuracy", "weighted-f1"};
    for (size_t i = 0; i < NELEM(all); i++) {
        ck_assert_str_eq(tcat_metric_name(all[i]), names[i]);
        tcat_metric got = (tcat_metric)-1;
        tcat_error err = {0};
        ck_assert_int_eq(tcat_metric_parse(tcat_metric_name(all[i]), &got, &err), TCAT_OK);
        ck_assert_int_eq(got, all[i]);
    }
    const char *bad[] = {"", "f1", "Macro-F1", "macro_f1", "accuracy ", "macro-f1x"};
    for (size_t i = 0; i < NELEM(bad); i++) {
        tcat_metric got = TCAT_METRIC_ACCURACY;
        tcat_error err = {0};
        ck_assert_int_eq(tcat_metric_parse(bad[i], &got, &err), TCAT_ERR_USAGE);
        ck_assert_int_eq(err.status, TCAT_ERR_USAGE);
        ck_assert_int_eq(got, TCAT_METRIC_ACCURACY);
        for (size_t j = 0; j < NELEM(names); j++)
            ck_assert_msg(strstr(err.msg, names[j]), "message lists %s: %s", names[j], err.msg);
    }
    tcat_metric got;
    ck_assert_int_eq(tcat_metric_parse(NULL, &got, NULL), TCAT_ERR_USAGE);
    ck_assert_str_eq(tcat_metric_name((tcat_metric)42), "?");
}
END_TEST

/*
 * A random 5-class example (40 documents), checked against scikit-learn
 * 1.2.1 (Debian python3-sklearn), run once when this test was written:
 *
 *   L = range(5)
 *   precision_recall_fscore_support(t, p, labels=L, zero_division=0)
 *   f1_score(t, p, labels=L, average=..., zero_division=0)
 *   accuracy_score(t, p); confusion_matrix(t, p, labels=L)
 */
START_TEST(sklearn_cross_check)
{
    const int32_t t[] = {4, 2, 2, 1, 2, 2, 2, 0, 1, 2, 4, 0, 0, 3, 2, 2, 4, 0, 1, 0,
                         0, 1, 2, 0, 1, 2, 2, 3, 3, 1, 3, 4, 2, 3, 1, 0, 4, 2, 2, 2};
    const int32_t p[] = {4, 1, 0, 3, 2, 3, 2, 3, 1, 0, 1, 0, 2, 2, 0, 2, 1, 0, 1, 3,
                         1, 0, 2, 0, 2, 1, 2, 2, 3, 1, 3, 4, 2, 3, 1, 0, 4, 0, 2, 0};
    const double prec[5] = {0.40000000000000002, 0.44444444444444442, 0.63636363636363635,
                            0.42857142857142855, 1};
    const double rec[5] = {0.5, 0.5714285714285714, 0.46666666666666667, 0.59999999999999998,
                           0.59999999999999998};
    const double f1[5] = {0.44444444444444448, 0.5, 0.53846153846153855, 0.5,
                          0.74999999999999989};
    const uint64_t support[5] = {8, 7, 15, 5, 5};
    const uint64_t conf[25] = {4, 1, 1, 2, 0, 1, 4, 1, 1, 0, 5, 2, 7, 1, 0,
                               0, 0, 2, 3, 0, 0, 2, 0, 0, 3};
    tcat_metrics m;
    compute_ok(&m, t, p, NELEM(t), 5);
    ck_assert_uint_eq(m.n, 40);
    for (size_t c = 0; c < 5; c++) {
        ck_assert_double_eq_tol(m.precision[c], prec[c], EPS);
        ck_assert_double_eq_tol(m.recall[c], rec[c], EPS);
        ck_assert_double_eq_tol(m.f1[c], f1[c], EPS);
        ck_assert_uint_eq(m.support[c], support[c]);
    }
    for (size_t i = 0; i < 25; i++)
        ck_assert_uint_eq(m.confusion[i], conf[i]);
    ck_assert_double_eq_tol(m.accuracy, 0.52500000000000002, EPS);
    ck_assert_double_eq_tol(m.macro_f1, 0.54658119658119664, EPS);
    ck_assert_double_eq_tol(m.micro_f1, 0.52500000000000002, EPS);
    ck_assert_double_eq_tol(m.weighted_f1, 0.5345619658119658, EPS);
    tcat_metrics_free(&m);
}
END_TEST

static double jnum(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_number(v), "%s is a number", key);
    return json_number_value(v);
}

START_TEST(json_round_trip)
{
    const int32_t t[] = {-1, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
    const int32_t p[] = {0, 0, 0, 0, 1, 1, 1, 2, 0, 1, 2};
    const char *names[] = {"sports", "política", NULL};
    tcat_metrics m;
    compute_ok(&m, t, p, NELEM(t), 3);
    json_t *j = tcat_metrics_to_json(&m, names);
    ck_assert_ptr_nonnull(j);
    char *text = json_dumps(j, JSON_COMPACT);
    ck_assert_ptr_nonnull(text);
    json_decref(j);

    json_error_t jerr;
    json_t *r = json_loads(text, 0, &jerr);
    ck_assert_msg(r != NULL, "parse: %s", jerr.text);
    free(text);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "n")), 10);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "unknown_labels")), 1);
    ck_assert_double_eq_tol(jnum(r, "accuracy"), 0.6, EPS);
    ck_assert_double_eq_tol(jnum(r, "micro_f1"), 0.6, EPS);
    ck_assert_double_eq_tol(jnum(r, "macro_f1"), 241.0 / 420, EPS);
    ck_assert_double_eq_tol(jnum(r, "weighted_f1"), 207.0 / 350, EPS);

    json_t *per = json_object_get(r, "per_class");
    ck_assert_uint_eq(json_array_size(per), 3);
    const char *want[] = {"sports", "política", "2"};
    const double f1[3] = {3.0 / 4, 4.0 / 7, 2.0 / 5};
    const double rec[3] = {3.0 / 4, 2.0 / 3, 1.0 / 3};
    const int support[3] = {4, 3, 3};
    for (size_t c = 0; c < 3; c++) {
        json_t *e = json_array_get(per, c);
        ck_assert_str_eq(json_string_value(json_object_get(e, "label")), want[c]);
        ck_assert_double_eq_tol(jnum(e, "f1"), f1[c], EPS);
        ck_assert_double_eq_tol(jnum(e, "recall"), rec[c], EPS);
        ck_assert_double_eq_tol(jnum(e, "precision"), m.precision[c], EPS);
        ck_assert_int_eq(json_integer_value(json_object_get(e, "support")), support[c]);
    }
    json_t *conf = json_object_get(r, "confusion");
    json_t *labels = json_object_get(conf, "labels");
    json_t *matrix = json_object_get(conf, "matrix");
    ck_assert_uint_eq(json_array_size(labels), 3);
    ck_assert_uint_eq(json_array_size(matrix), 3);
    for (size_t a = 0; a < 3; a++) {
        ck_assert_str_eq(json_string_value(json_array_get(labels, a)), want[a]);
        json_t *row = json_array_get(matrix, a);
        ck_assert_uint_eq(json_array_size(row), 3);
        for (size_t b = 0; b < 3; b++)
            ck_assert_int_eq(json_integer_value(json_array_get(row, b)),
                             (json_int_t)m.confusion[a * 3 + b]);
    }
    json_decref(r);

    /* No names at all; a name that is not UTF-8 is repaired, not refused. */
    const char *bad[] = {"ok", "bad\xff", "x"};
    j = tcat_metrics_to_json(&m, bad);
    ck_assert_ptr_nonnull(j);
    json_t *e1 = json_array_get(json_object_get(j, "per_class"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(e1, "label")), "bad\xef\xbf\xbd");
    json_decref(j);
    j = tcat_metrics_to_json(&m, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(
        json_string_value(json_array_get(json_object_get(json_object_get(j, "confusion"), "labels"), 0)),
        "0");
    json_decref(j);
    tcat_metrics_free(&m);
}
END_TEST

/* Prints m to memory; the caller frees. */
static char *print_to_string(const tcat_metrics *m, const char *const *names)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(tcat_metrics_print(m, names, f), TCAT_OK);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

/* The line of s that starts with prefix (a copy in ring storage), or NULL. */
static const char *line_starting(const char *s, const char *prefix)
{
    for (const char *l = s; l && *l;) {
        const char *end = strchr(l, '\n');
        size_t n = end ? (size_t)(end - l) : strlen(l);
        if (strncmp(l, prefix, strlen(prefix)) == 0)
            return ring_copy(l, n);
        l = end ? end + 1 : NULL;
    }
    return NULL;
}

START_TEST(print_report)
{
    const int32_t t[] = {-1, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
    const int32_t p[] = {0, 0, 0, 0, 1, 1, 1, 2, 0, 1, 2};
    /* "日本語" is 3 characters, 9 bytes, 6 columns wide. */
    const char *names[] = {"sports", "日本語", "x"};
    tcat_metrics m;
    compute_ok(&m, t, p, NELEM(t), 3);
    char *out = print_to_string(&m, names);

    ck_assert_ptr_nonnull(strstr(out, "accuracy          0.6000\n"));
    ck_assert_ptr_nonnull(strstr(out, "macro-F1          0.5738\n"));
    ck_assert_ptr_nonnull(strstr(out, "weighted-F1       0.5914\n"));
    ck_assert_ptr_nonnull(strstr(out, "micro-F1          0.6000\n"));
    ck_assert_ptr_nonnull(strstr(out, "documents scored  10\n"));
    ck_assert_ptr_nonnull(strstr(out, "unknown labels    1"));

    /* The per-class table: label column 6 wide ("sports", "日本語"). */
    ck_assert_str_eq(line_starting(out, "label"),
                     "label   precision     recall         F1  support");
    ck_assert_str_eq(line_starting(out, "sports"),
                     "sports     0.7500     0.7500     0.7500        4");
    ck_assert_str_eq(line_starting(out, "日本語  "),
                     "日本語     0.5000     0.6667     0.5714        3");
    ck_assert_str_eq(line_starting(out, "x  "),
                     "x          0.5000     0.3333     0.4000        3");

    /* The confusion matrix with names as headers. */
    ck_assert_ptr_nonnull(strstr(out, "confusion matrix"));
    ck_assert_ptr_nonnull(strstr(out, "        sports  日本語  x\n"
                                      "sports       3       1  0\n"
                                      "日本語       0       2  1\n"
                                      "x            1       1  1\n"));
    ck_assert_ptr_null(strstr(out, "legend"));
    free(out);

    /* A long name: index headers and a legend. */
    const char *longnames[] = {"a", "a rather long class name", "c"};
    out = print_to_string(&m, longnames);
    ck_assert_ptr_nonnull(strstr(out, "a rather long class name     0.5000"));
    ck_assert_ptr_nonnull(strstr(out, "   0  1  2\n"
                                      "0  3  1  0\n"
                                      "1  0  2  1\n"
                                      "2  1  1  1\n"));
    ck_assert_ptr_nonnull(strstr(out, "legend:\n  0  a\n  1  a rather long class name\n  2  c\n"));
    free(out);

    /* No names: indices everywhere; control characters never reach the
     * terminal. */
    out = print_to_string(&m, NULL);
    ck_assert_ptr_nonnull(line_starting(out, "0      "));
    free(out);
    const char *ctl[] = {"a\tb", "c\x1b[31m", "d"};
    out = print_to_string(&m, ctl);
    ck_assert_ptr_null(strchr(out, '\t'));
    ck_assert_ptr_null(strchr(out, '\x1b'));
    ck_assert_ptr_nonnull(strstr(out, "a\xef\xbf\xbd" "b"));
    free(out);
    tcat_metrics_free(&m);
}
END_TEST

/* More than 20 classes: index headers; more than 100: matrix left out. */
START_TEST(print_many_classes)
{
    enum { N = 150 };
    int32_t t[N], p[N];
    for (int i = 0; i < N; i++) {
        t[i] = i % 25;
        p[i] = (i * 7) % 25;
    }
    tcat_metrics m;
    compute_ok(&m, t, p, N, 25);
    char *out = print_to_string(&m, NULL);
    ck_assert_ptr_nonnull(strstr(out, "legend:"));
    ck_assert_ptr_nonnull(strstr(out, "  24  24\n"));
    free(out);
    tcat_metrics_free(&m);

    for (int i = 0; i < N; i++)
        t[i] = p[i] = i;
    compute_ok(&m, t, p, N, N);
    out = print_to_string(&m, NULL);
    ck_assert_ptr_nonnull(strstr(out, "confusion matrix omitted: 150 classes"));
    ck_assert_ptr_nonnull(line_starting(out, "149 "));
    free(out);
    json_t *j = tcat_metrics_to_json(&m, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(j, "confusion"), "matrix")),
                      N);
    json_decref(j);
    tcat_metrics_free(&m);
}
END_TEST

Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_new(s, "metrics");
    tcase_add_test(tc, hand_example);
    tcase_add_test(tc, perfect);
    tcase_add_test(tc, zero_division);
    tcase_add_test(tc, unknown_labels);
    tcase_add_test(tc, out_of_range);
    tcase_add_test(tc, metric_names);
    tcase_add_test(tc, sklearn_cross_check);
    tcase_add_test(tc, json_round_trip);
    tcase_add_test(tc, print_report);
    tcase_add_test(tc, print_many_classes);
    return s;
}
