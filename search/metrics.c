/* search/metrics.c — classification scores (see metrics.h). */
#include "search/metrics.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/json.h"
#include "tokenizer/utf8.h"

/* ---- metric names ------------------------------------------------------ */

static const struct {
    tcat_metric m;
    const char *name;
} metric_names[] = {
    {TCAT_METRIC_MACRO_F1, "macro-f1"},
    {TCAT_METRIC_MICRO_F1, "micro-f1"},
    {TCAT_METRIC_ACCURACY, "accuracy"},
    {TCAT_METRIC_WEIGHTED_F1, "weighted-f1"},
};
#define N_METRICS (sizeof metric_names / sizeof metric_names[0])

tcat_status tcat_metric_parse(const char *name, tcat_metric *out, tcat_error *err)
{
    if (name) {
        for (size_t i = 0; i < N_METRICS; i++) {
            if (strcmp(name, metric_names[i].name) == 0) {
                *out = metric_names[i].m;
                return TCAT_OK;
            }
        }
    }
    return tcat_fail(err, TCAT_ERR_USAGE,
                     "unknown metric '%s' (valid: macro-f1, micro-f1, accuracy, weighted-f1)",
                     name ? name : "(null)");
}

const char *tcat_metric_name(tcat_metric m)
{
    for (size_t i = 0; i < N_METRICS; i++)
        if (metric_names[i].m == m)
            return metric_names[i].name;
    return "?";
}

/* ---- scoring ----------------------------------------------------------- */

void tcat_metrics_free(tcat_metrics *m)
{
    if (!m)
        return;
    free(m->precision);
    free(m->recall);
    free(m->f1);
    free(m->support);
    free(m->predicted);
    free(m->confusion);
    memset(m, 0, sizeof *m);
}

static double ratio(uint64_t num, uint64_t den)
{
    return den ? (double)num / (double)den : 0.0;
}

tcat_status tcat_metrics_compute(tcat_metrics *m, const int32_t *truth, const int32_t *pred,
                                 size_t n, size_t k, tcat_error *err)
{
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < n; i++) {
        if (pred[i] < 0 || (uint64_t)pred[i] >= k)
            return tcat_fail(err, TCAT_ERR_USAGE,
                             "prediction %zu is class %" PRId32 ", outside [0, %zu)", i, pred[i],
                             k);
        if (truth[i] >= 0 && (uint64_t)truth[i] >= k)
            return tcat_fail(err, TCAT_ERR_USAGE,
                             "true label %zu is class %" PRId32 ", outside [0, %zu)", i, truth[i],
                             k);
    }
    m->k = k;
    if (k) {
        if (k > SIZE_MAX / k)
            return tcat_fail(err, TCAT_ERR_NOMEM, "confusion matrix of %zu classes", k);
        m->precision = calloc(k, sizeof *m->precision);
        m->recall = calloc(k, sizeof *m->recall);
        m->f1 = calloc(k, sizeof *m->f1);
        m->support = calloc(k, sizeof *m->support);
        m->predicted = calloc(k, sizeof *m->predicted);
        m->confusion = calloc(k * k, sizeof *m->confusion);
        if (!m->precision || !m->recall || !m->f1 || !m->support || !m->predicted ||
            !m->confusion) {
            tcat_metrics_free(m);
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory scoring %zu classes", k);
        }
    }

    uint64_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        if (truth[i] < 0) {
            m->unknown++;
            continue;
        }
        size_t t = (size_t)truth[i], p = (size_t)pred[i];
        m->n++;
        m->support[t]++;
        m->predicted[p]++;
        m->confusion[t * k + p]++;
        correct += t == p;
    }

    double f1_sum = 0.0, f1_weighted = 0.0;
    for (size_t c = 0; c < k; c++) {
        uint64_t tp = m->confusion[c * k + c];
        m->precision[c] = ratio(tp, m->predicted[c]);
        m->recall[c] = ratio(tp, m->support[c]);
        /* 2PR/(P+R) = 2tp/(support+predicted), exact and 0 when tp is 0. */
        m->f1[c] = ratio(2 * tp, m->support[c] + m->predicted[c]);
        f1_sum += m->f1[c];
        f1_weighted += m->f1[c] * (double)m->support[c];
    }
    m->accuracy = ratio(correct, m->n);
    m->micro_f1 = m->accuracy;
    m->macro_f1 = k ? f1_sum / (double)k : 0.0;
    m->weighted_f1 = m->n ? f1_weighted / (double)m->n : 0.0;
    return TCAT_OK;
}

tcat_status tcat_metrics_compute_sets(tcat_metrics *m, const uint8_t *truth, const uint8_t *pred,
                                      size_t n, size_t k, tcat_error *err)
{
    memset(m, 0, sizeof *m);
    m->k = k;
    m->sets = true;
    uint64_t *tp = calloc(k ? k : 1, sizeof *tp);
    m->precision = calloc(k ? k : 1, sizeof *m->precision);
    m->recall = calloc(k ? k : 1, sizeof *m->recall);
    m->f1 = calloc(k ? k : 1, sizeof *m->f1);
    m->support = calloc(k ? k : 1, sizeof *m->support);
    m->predicted = calloc(k ? k : 1, sizeof *m->predicted);
    if (!tp || !m->precision || !m->recall || !m->f1 || !m->support || !m->predicted) {
        free(tp);
        tcat_metrics_free(m);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory scoring %zu labels", k);
    }
    uint64_t exact = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *t = truth + i * k, *p = pred + i * k;
        bool known = false, same = true;
        for (size_t c = 0; c < k; c++) {
            known |= t[c] != 0;
            same &= !t[c] == !p[c];
        }
        if (!known) {
            m->unknown++;
            continue;
        }
        m->n++;
        exact += same;
        for (size_t c = 0; c < k; c++) {
            m->support[c] += t[c] != 0;
            m->predicted[c] += p[c] != 0;
            tp[c] += t[c] && p[c];
        }
    }
    uint64_t tp_all = 0, sup_all = 0, pred_all = 0;
    double f1_sum = 0.0, f1_weighted = 0.0;
    for (size_t c = 0; c < k; c++) {
        m->precision[c] = ratio(tp[c], m->predicted[c]);
        m->recall[c] = ratio(tp[c], m->support[c]);
        m->f1[c] = ratio(2 * tp[c], m->support[c] + m->predicted[c]);
        f1_sum += m->f1[c];
        f1_weighted += m->f1[c] * (double)m->support[c];
        tp_all += tp[c];
        sup_all += m->support[c];
        pred_all += m->predicted[c];
    }
    m->accuracy = ratio(exact, m->n);
    m->micro_f1 = ratio(2 * tp_all, sup_all + pred_all);
    m->macro_f1 = k ? f1_sum / (double)k : 0.0;
    m->weighted_f1 = sup_all ? f1_weighted / (double)sup_all : 0.0;
    free(tp);
    return TCAT_OK;
}

double tcat_metrics_get(const tcat_metrics *m, tcat_metric which)
{
    switch (which) {
    case TCAT_METRIC_MACRO_F1: return m->macro_f1;
    case TCAT_METRIC_MICRO_F1: return m->micro_f1;
    case TCAT_METRIC_ACCURACY: return m->accuracy;
    case TCAT_METRIC_WEIGHTED_F1: return m->weighted_f1;
    }
    return 0.0;
}

/* ---- labels ------------------------------------------------------------ */

/* The name of class c: label_names[c], or its index written into buf. */
static const char *label_of(const char *const *names, size_t c, char buf[24])
{
    if (names && names[c])
        return names[c];
    snprintf(buf, 24, "%zu", c);
    return buf;
}

/* Decodes one character of s (NUL-terminated) at *i, advancing *i; invalid
 * bytes and control characters come back as U+FFFD. */
static int32_t next_shown_cp(const char *s, size_t *i)
{
    size_t len = strlen(s + *i);
    int32_t cp;
    *i += tcat_utf8_decode((const uint8_t *)s + *i, len, &cp);
    if (cp < 0 || utf8proc_category(cp) == UTF8PROC_CATEGORY_CC)
        cp = TCAT_REPLACEMENT_CHAR;
    return cp;
}

/* Display width of s as label_put shows it. */
static size_t label_width(const char *s)
{
    size_t w = 0;
    for (size_t i = 0; s[i];) {
        int cw = utf8proc_charwidth(next_shown_cp(s, &i));
        if (cw > 0)
            w += (size_t)cw;
    }
    return w;
}

/* Writes s padded with spaces to `width` columns, left- or right-aligned. */
static void label_put(FILE *f, const char *s, size_t width, bool right)
{
    size_t w = label_width(s);
    size_t pad = w < width ? width - w : 0;
    if (right)
        fprintf(f, "%*s", (int)pad, "");
    for (size_t i = 0; s[i];) {
        uint8_t u[4];
        size_t len = tcat_utf8_encode(next_shown_cp(s, &i), u);
        fwrite(u, 1, len, f);
    }
    if (!right)
        fprintf(f, "%*s", (int)pad, "");
}

static size_t digits(uint64_t v)
{
    size_t d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

/* ---- the text report --------------------------------------------------- */

#define MATRIX_NAMED_MAX_CLASSES 20
#define MATRIX_NAMED_MAX_WIDTH 12
#define MATRIX_MAX_CLASSES 100

/* The header of class c in the confusion matrix: its name, or its index. */
static const char *header_of(const char *const *names, size_t c, bool named, char buf[24])
{
    if (named)
        return label_of(names, c, buf);
    snprintf(buf, 24, "%zu", c);
    return buf;
}

static void print_matrix(const tcat_metrics *m, const char *const *names, size_t *colw,
                         FILE *f)
{
    size_t k = m->k;
    char buf[24];
    bool named = k <= MATRIX_NAMED_MAX_CLASSES;
    for (size_t c = 0; c < k && named; c++)
        named = label_width(label_of(names, c, buf)) <= MATRIX_NAMED_MAX_WIDTH;

    fprintf(f, "confusion matrix (rows: true label, columns: predicted)\n");
    size_t roww = 0;
    for (size_t c = 0; c < k; c++) {
        size_t hw = label_width(header_of(names, c, named, buf));
        roww = max_size(roww, hw);
        colw[c] = hw;
        for (size_t t = 0; t < k; t++)
            colw[c] = max_size(colw[c], digits(m->confusion[t * k + c]));
    }

    fprintf(f, "%*s", (int)roww, "");
    for (size_t c = 0; c < k; c++) {
        fputs("  ", f);
        label_put(f, header_of(names, c, named, buf), colw[c], true);
    }
    fputc('\n', f);
    for (size_t t = 0; t < k; t++) {
        label_put(f, header_of(names, t, named, buf), roww, false);
        for (size_t p = 0; p < k; p++)
            fprintf(f, "  %*" PRIu64, (int)colw[p], m->confusion[t * k + p]);
        fputc('\n', f);
    }

    if (!named) {
        fprintf(f, "\nlegend:\n");
        size_t iw = digits(k ? k - 1 : 0);
        for (size_t c = 0; c < k; c++) {
            fprintf(f, "  %*zu  ", (int)iw, c);
            label_put(f, label_of(names, c, buf), 0, false);
            fputc('\n', f);
        }
    }
}

tcat_status tcat_metrics_print(const tcat_metrics *m, const char *const *names, FILE *f)
{
    size_t k = m->k;
    size_t *colw = NULL;
    if (k && k <= MATRIX_MAX_CLASSES) {
        colw = calloc(k, sizeof *colw);
        if (!colw)
            return TCAT_ERR_NOMEM;
    }

    fprintf(f, "%s       %.4f\n", m->sets ? "exact match" : "accuracy   ", m->accuracy);
    fprintf(f, "macro-F1          %.4f\n", m->macro_f1);
    fprintf(f, "weighted-F1       %.4f\n", m->weighted_f1);
    fprintf(f, "micro-F1          %.4f\n", m->micro_f1);
    fprintf(f, "documents scored  %" PRIu64 "\n", m->n);
    fprintf(f, "unknown labels    %" PRIu64 "%s\n", m->unknown,
            !m->unknown ? ""
            : m->sets   ? "  (no true label known to the model; not scored)"
                        : "  (true label not known to the model; not scored)");

    /* Per-class table. */
    char buf[24];
    size_t labw = strlen("label"), supw = strlen("support");
    for (size_t c = 0; c < k; c++) {
        labw = max_size(labw, label_width(label_of(names, c, buf)));
        supw = max_size(supw, digits(m->support[c]));
    }
    fputc('\n', f);
    label_put(f, "label", labw, false);
    fprintf(f, "  %9s  %9s  %9s  %*s\n", "precision", "recall", "F1", (int)supw, "support");
    for (size_t c = 0; c < k; c++) {
        label_put(f, label_of(names, c, buf), labw, false);
        fprintf(f, "  %9.4f  %9.4f  %9.4f  %*" PRIu64 "\n", m->precision[c], m->recall[c],
                m->f1[c], (int)supw, m->support[c]);
    }

    if (!m->sets) { /* label sets have no confusion matrix */
        fputc('\n', f);
        if (k > MATRIX_MAX_CLASSES)
            fprintf(f, "confusion matrix omitted: %zu classes (the JSON report has it)\n", k);
        else
            print_matrix(m, names, colw, f);
    }

    free(colw);
    return ferror(f) ? TCAT_ERR_IO : TCAT_OK;
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *json_count(uint64_t v) { return json_integer((json_int_t)v); }

json_t *tcat_metrics_to_json(const tcat_metrics *m, const char *const *names)
{
    size_t k = m->k;
    char buf[24];
    json_t *o = json_object(), *per = json_array(), *conf = json_object(),
           *labels = json_array(), *matrix = json_array();
    /* The containers are attached with json_object_set (o takes its own
     * references); ours are dropped at the end, whatever happened. */
    bool ok = o && per && conf && labels && matrix &&
              json_object_set_new(o, "n", json_count(m->n)) == 0 &&
              json_object_set_new(o, "unknown_labels", json_count(m->unknown)) == 0 &&
              json_object_set_new(o, "accuracy", json_real(m->accuracy)) == 0 &&
              json_object_set_new(o, "macro_f1", json_real(m->macro_f1)) == 0 &&
              json_object_set_new(o, "micro_f1", json_real(m->micro_f1)) == 0 &&
              json_object_set_new(o, "weighted_f1", json_real(m->weighted_f1)) == 0 &&
              json_object_set(o, "per_class", per) == 0 &&
              json_object_set(conf, "labels", labels) == 0 &&
              json_object_set(conf, "matrix", matrix) == 0 &&
              (m->sets ? json_object_set_new(o, "multilabel", json_true()) == 0 &&
                             json_object_set_new(o, "exact_match", json_real(m->accuracy)) == 0
                       : json_object_set(o, "confusion", conf) == 0);
    for (size_t c = 0; ok && c < k; c++) {
        const char *name = label_of(names, c, buf);
        json_t *e = json_object();
        /* append_new and set_new take the value even when they fail. */
        ok = e && json_array_append_new(per, e) == 0 &&
             json_object_set_new(e, "label", tcat_json_text(name)) == 0 &&
             json_object_set_new(e, "precision", json_real(m->precision[c])) == 0 &&
             json_object_set_new(e, "recall", json_real(m->recall[c])) == 0 &&
             json_object_set_new(e, "f1", json_real(m->f1[c])) == 0 &&
             json_object_set_new(e, "support", json_count(m->support[c])) == 0 &&
             json_array_append_new(labels, tcat_json_text(name)) == 0;
        if (m->sets)
            continue;
        json_t *row = ok ? json_array() : NULL;
        ok = row && json_array_append_new(matrix, row) == 0;
        for (size_t p = 0; ok && p < k; p++)
            ok = json_array_append_new(row, json_count(m->confusion[c * k + p])) == 0;
    }
    json_decref(per);
    json_decref(conf);
    json_decref(labels);
    json_decref(matrix);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}
