/* search/thresholds.c — per-label decision thresholds (see thresholds.h). */
#include "search/thresholds.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "embeddings/tensor.h"

void tcat_thresholds_apply(const float *proba, size_t n, size_t K, const float *thr,
                           uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        const float *r = proba + i * K;
        uint8_t *o = out + i * K;
        bool any = false;
        for (size_t k = 0; k < K; k++) {
            o[k] = r[k] >= thr[k];
            any |= o[k];
        }
        if (!any && K)
            o[tcat_argmax(r, K)] = 1;
    }
}

typedef struct scored {
    float p;
    uint8_t t;
} scored;

static int by_p_desc(const void *a, const void *b)
{
    float x = ((const scored *)a)->p, y = ((const scored *)b)->p;
    return (x < y) - (x > y);
}

/* One label's rows sorted by probability, with what its chosen cut gives. */
typedef struct label_sweep {
    scored *rows;  /* n, by probability, highest first */
    size_t pos;    /* positive rows */
    size_t cut;    /* rows predicted positive: the first `cut` */
    size_t tp;     /* ... of which positive */
} label_sweep;

typedef enum objective { OWN_F1, OWN_ACCURACY, POOLED_F1 } objective;

/* The cut of label L maximising the objective; for POOLED_F1 the other
 * labels contribute tp_o true positives, cut_o predictions, pos_o
 * positives. The first (smallest) best cut wins ties. */
static void best_cut(label_sweep *L, size_t n, objective obj, double tp_o, double cut_o,
                     double pos_o)
{
    double best = -INFINITY;
    size_t tp = 0;
    for (size_t j = 0; j <= n; j++) {
        if (j > 0)
            tp += L->rows[j - 1].t;
        if (j > 0 && j < n && L->rows[j - 1].p == L->rows[j].p)
            continue; /* no threshold separates equal probabilities */
        double v;
        switch (obj) {
        case OWN_F1: v = j + L->pos ? 2.0 * (double)tp / (double)(j + L->pos) : 0.0; break;
        case OWN_ACCURACY: v = 2.0 * (double)tp - (double)j; break;
        default: {
            double den = cut_o + (double)j + pos_o + (double)L->pos;
            v = den > 0 ? 2.0 * (tp_o + (double)tp) / den : 0.0;
        }
        }
        if (v > best) {
            best = v;
            L->cut = j;
            L->tp = tp;
        }
    }
}

/* The threshold that predicts exactly the first `cut` rows. */
static float threshold_of(const label_sweep *L, size_t n)
{
    if (n == 0)
        return TCAT_THRESHOLD_DEFAULT;
    if (L->cut == 0)
        return nextafterf(L->rows[0].p, INFINITY);
    if (L->cut == n)
        return L->rows[n - 1].p;
    float hi = L->rows[L->cut - 1].p, lo = L->rows[L->cut].p;
    float mid = (float)(((double)hi + (double)lo) / 2);
    return mid > lo ? mid : hi;
}

tcat_status tcat_thresholds_fit(const float *proba, const uint8_t *truth, size_t n, size_t K,
                                tcat_metric metric, float *thr, tcat_error *err)
{
    label_sweep *L = calloc(K ? K : 1, sizeof *L);
    size_t nk = n * K;
    scored *all = malloc((nk ? nk : 1) * sizeof *all);
    if (!L || !all) {
        free(L);
        free(all);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory tuning %zu thresholds", K);
    }
    objective own = metric == TCAT_METRIC_ACCURACY ? OWN_ACCURACY : OWN_F1;
    for (size_t k = 0; k < K; k++) {
        L[k].rows = all + k * n;
        for (size_t i = 0; i < n; i++) {
            L[k].rows[i] = (scored){proba[i * K + k], truth[i * K + k] != 0};
            L[k].pos += L[k].rows[i].t;
        }
        qsort(L[k].rows, n, sizeof *L[k].rows, by_p_desc);
        best_cut(&L[k], n, own, 0, 0, 0);
    }
    if (metric == TCAT_METRIC_MICRO_F1) {
        double tp = 0, cut = 0, pos = 0;
        for (size_t k = 0; k < K; k++) {
            tp += (double)L[k].tp;
            cut += (double)L[k].cut;
            pos += (double)L[k].pos;
        }
        for (int round = 0; round < 2; round++)
            for (size_t k = 0; k < K; k++) {
                tp -= (double)L[k].tp;
                cut -= (double)L[k].cut;
                best_cut(&L[k], n, POOLED_F1, tp, cut, pos - (double)L[k].pos);
                tp += (double)L[k].tp;
                cut += (double)L[k].cut;
            }
    }
    for (size_t k = 0; k < K; k++)
        thr[k] = threshold_of(&L[k], n);
    free(L);
    free(all);
    return TCAT_OK;
}

tcat_status tcat_thresholds_score(const float *proba, const uint8_t *truth, size_t n, size_t K,
                                  tcat_metric metric, float *thr, tcat_metrics *m,
                                  tcat_error *err)
{
    float *own = thr ? NULL : malloc((K ? K : 1) * sizeof *own);
    size_t nk = n * K;
    uint8_t *sets = malloc(nk ? nk : 1);
    tcat_status st = (thr || own) && sets ? TCAT_OK : tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    float *t = thr ? thr : own;
    if (st == TCAT_OK)
        st = tcat_thresholds_fit(proba, truth, n, K, metric, t, err);
    if (st == TCAT_OK) {
        tcat_thresholds_apply(proba, n, K, t, sets);
        st = tcat_metrics_compute_sets(m, truth, sets, n, K, err);
    }
    free(own);
    free(sets);
    return st;
}
