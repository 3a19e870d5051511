/*
 * search/thresholds.h — which labels a multi-label model outputs.
 *
 * A one-vs-all model (pipelines/pipeline.h, "multilabel") gives each label
 * its own probability. A document gets every label whose probability
 * reaches that label's threshold and, when none does, its most probable
 * label: every document has at least one label, as in the multi-label
 * corpora tcat is made for (a GoEmotions comment always has an emotion or
 * "neutral"), and an empty answer is always wrong there.
 *
 * The thresholds are tuned on held-out probabilities for the metric
 * (search/metrics.h, label sets), one label at a time: the documents are
 * sorted by the label's probability and every cut between two distinct
 * probabilities is tried, so the result is exact, not a grid. The
 * threshold is the midpoint of the cut.
 *   macro-F1, weighted-F1  each label's own F1 (their mean is then at its
 *                          maximum, the fallback aside);
 *   micro-F1               the pooled F1: starting from the above, two
 *                          rounds over the labels, each label's cut chosen
 *                          with the others' counts fixed;
 *   accuracy (exact match) each label's own accuracy (fewest errors), a
 *                          proxy: the exact-match optimum couples labels.
 * The fallback is left out of the tuning (it only adds a label to rows
 * that would have none) and in when scoring.
 *
 *     float *thr = malloc(K * sizeof *thr);
 *     tcat_thresholds_fit(proba, truth, n, K, TCAT_METRIC_MACRO_F1, thr, &err);
 *     tcat_thresholds_apply(new_proba, m, K, thr, sets);  // m x K 0/1
 */
#ifndef TCAT_SEARCH_THRESHOLDS_H
#define TCAT_SEARCH_THRESHOLDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "search/metrics.h"

/* Thresholds of a model that has not tuned any: 0.5 for every label. */
#define TCAT_THRESHOLD_DEFAULT 0.5f

/* out (n x K, 0/1): label k of row i when proba[i*K+k] >= thr[k]; a row
 * with none gets its most probable label (the first of equals). */
void tcat_thresholds_apply(const float *proba, size_t n, size_t K, const float *thr,
                           uint8_t *out);

/* Tunes K thresholds (into thr) on n rows of probabilities against the
 * true label sets truth (n x K, 0/1) for the metric; see the top. A
 * label with no positive row gets a threshold above every probability
 * (never predicted, except as a fallback). TCAT_ERR_NOMEM. */
tcat_status tcat_thresholds_fit(const float *proba, const uint8_t *truth, size_t n, size_t K,
                                tcat_metric metric, float *thr, tcat_error *err);

/* Tunes thresholds as tcat_thresholds_fit (into thr, or discarded when
 * thr is NULL) and scores the label sets they give into *m
 * (tcat_metrics_compute_sets): how the search ranks multi-label models.
 * TCAT_ERR_NOMEM. */
tcat_status tcat_thresholds_score(const float *proba, const uint8_t *truth, size_t n, size_t K,
                                  tcat_metric metric, float *thr, tcat_metrics *m,
                                  tcat_error *err);

#endif
