/*
 * search/metrics.h — how good a classifier's predictions are.
 *
 * Scores single-label predictions against the true labels: accuracy,
 * per-class precision, recall and F1, their macro, micro and
 * support-weighted means, and the confusion matrix. The conventions are
 * scikit-learn's with zero_division=0, so numbers can be checked against
 * sklearn.metrics.{accuracy_score, precision_recall_fscore_support,
 * f1_score, confusion_matrix}:
 *
 *   precision[c] = tp / predicted[c]     0 when the class was never predicted
 *   recall[c]    = tp / support[c]       0 when the class has no support
 *   f1[c]        = 2 P R / (P + R)       0 when P + R = 0 (computed as the
 *                                        equal 2 tp / (support + predicted))
 *   macro_f1     = mean of f1 over all k classes, supported or not
 *   weighted_f1  = sum of f1[c] * support[c] / n
 *   micro_f1     = accuracy (single-label: micro P = micro R = accuracy)
 *
 * Documents whose true label is unknown to the model (truth < 0: a label
 * that never occurred in training) cannot be scored: they are counted in
 * `unknown` and otherwise skipped — their predictions are not counted in
 * `predicted` or the confusion matrix either. With nothing scored (n = 0)
 * every score is 0.
 *
 * Every metric lies in [0, 1] and higher is better, so a search may
 * maximise any of them.
 *
 * Label sets (multi-label data): tcat_metrics_compute_sets scores each
 * document's predicted set of labels against its true set, as
 * scikit-learn does for multilabel indicator arrays: per label, tp, fp and
 * fn over the documents; micro_f1 pools them over labels; macro_f1 and
 * weighted_f1 average the labels' F1 (weights: support); accuracy is the
 * exact-match ratio (the predicted set is the true set). A document with
 * no known true label is counted in `unknown` and skipped. There is no
 * confusion matrix (confusion is NULL).
 *
 *     tcat_metrics m;
 *     if (tcat_metrics_compute(&m, truth, pred, n, k, &err) != TCAT_OK) ...
 *     double score = tcat_metrics_get(&m, TCAT_METRIC_MACRO_F1);
 *     tcat_metrics_print(&m, label_names, stdout);
 *     tcat_metrics_free(&m);
 */
#ifndef TCAT_SEARCH_METRICS_H
#define TCAT_SEARCH_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"

/* ---- metric names ------------------------------------------------------ */

typedef enum tcat_metric {
    TCAT_METRIC_MACRO_F1,
    TCAT_METRIC_MICRO_F1,
    TCAT_METRIC_ACCURACY,
    TCAT_METRIC_WEIGHTED_F1
} tcat_metric;

/* "macro-f1", "micro-f1", "accuracy" or "weighted-f1" (exactly, lower case)
 * to the enum. Anything else, NULL included, is TCAT_ERR_USAGE with a
 * message listing the valid names. */
tcat_status tcat_metric_parse(const char *name, tcat_metric *out, tcat_error *err);

/* The name tcat_metric_parse accepts for m ("?" for a value outside the
 * enum). Never NULL. */
const char *tcat_metric_name(tcat_metric m);

/* ---- scoring ----------------------------------------------------------- */

typedef struct tcat_metrics {
    size_t k;                 /* classes */
    uint64_t n;               /* documents scored (unknown truth labels excluded) */
    uint64_t unknown;         /* documents whose true label was < 0: counted, not scored */
    double accuracy, macro_f1, micro_f1, weighted_f1;
    double *precision, *recall, *f1; /* k each */
    uint64_t *support;        /* k: true count per class */
    uint64_t *predicted;      /* k: predicted count per class (scored documents) */
    uint64_t *confusion;      /* k*k, row = true class, column = predicted:
                               * confusion[t*k + p]; NULL for label sets */
    bool sets;                /* scored label sets (tcat_metrics_compute_sets) */
} tcat_metrics;

/* Scores n predictions over k classes into *m, which is overwritten
 * (call tcat_metrics_free first to reuse a filled one). truth[i] is a
 * class in [0, k) or < 0 for a label the model does not know; pred[i] is a
 * class in [0, k). truth and pred may be NULL when n is 0; k may be 0 only
 * then (all arrays stay NULL).
 * A pred[i] outside [0, k) or a truth[i] >= k is TCAT_ERR_USAGE naming the
 * index; TCAT_ERR_NOMEM on allocation failure. On failure *m is left
 * zeroed (nothing to free). */
tcat_status tcat_metrics_compute(tcat_metrics *m, const int32_t *truth, const int32_t *pred,
                                 size_t n, size_t k, tcat_error *err);

/* Scores n predicted label sets against the true ones over k labels:
 * truth and pred are n x k arrays of 0/1 (row i, column c: document i
 * has label c). See the top of this file. TCAT_ERR_NOMEM. */
tcat_status tcat_metrics_compute_sets(tcat_metrics *m, const uint8_t *truth, const uint8_t *pred,
                                      size_t n, size_t k, tcat_error *err);

/* The score `which` names (0 for a value outside the enum). */
double tcat_metrics_get(const tcat_metrics *m, tcat_metric which);

/* Frees the arrays and zeroes m. A zeroed m is fine. */
void tcat_metrics_free(tcat_metrics *m);

/* ---- reports ----------------------------------------------------------- */

/* Writes the report of `tcat eval` to f:
 *
 *     accuracy          0.9125
 *     macro-F1          0.8830
 *     weighted-F1       0.9101
 *     micro-F1          0.9125
 *     documents scored  1200
 *     unknown labels    3  (true label not known to the model; not scored)
 *
 *     label   precision     recall         F1  support
 *     sports     0.9500     0.9310     0.9404      290
 *     ...
 *
 *     confusion matrix (rows: true label, columns: predicted)
 *     ...
 *
 * Scores have four decimals. label_names holds k names (UTF-8; columns are
 * aligned by display width, so CJK and emoji names line up; invalid bytes
 * and control characters show as U+FFFD). label_names, or any entry of it,
 * may be NULL: the class index stands in. The confusion matrix uses the
 * names as headers when there are at most 20 classes and every name is at
 * most 12 columns wide; otherwise its headers are class indices and a
 * legend (index = name) follows. Above 100 classes the matrix is left out
 * with a note (tcat_metrics_to_json still has it). For label sets the
 * first line reads "exact match" and there is no matrix.
 * TCAT_ERR_IO when writing fails, TCAT_ERR_NOMEM. */
tcat_status tcat_metrics_print(const tcat_metrics *m, const char *const *label_names, FILE *f);

/* The same as a JSON object:
 *
 *     {"n": .., "unknown_labels": .., "accuracy": .., "macro_f1": ..,
 *      "micro_f1": .., "weighted_f1": ..,
 *      "per_class": [{"label": .., "precision": .., "recall": .., "f1": ..,
 *                     "support": ..}, ...],
 *      "confusion": {"labels": [...], "matrix": [[...], ...]}}
 *
 * per_class and the matrix rows come in class order; matrix[t][p] counts
 * true class t predicted as p. For label sets "multilabel": true and
 * "exact_match" are added and "confusion" is left out. Labels are label_names[c] (invalid UTF-8
 * repaired to U+FFFD), or the index as a string when label_names or the
 * entry is NULL. Returns a new reference; NULL on OOM. */
json_t *tcat_metrics_to_json(const tcat_metrics *m, const char *const *label_names);

#endif
