#include "pipelines/svm.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "core/rng.h"
#include "pipelines/pipeline.h"

/* Whether example i is a positive of class k's problem. */
static bool positive(const tcat_svm_opts *o, const int32_t *y, size_t K, size_t i, size_t k)
{
    return o->targets ? o->targets[i * K + k] != 0 : y[i] == (int32_t)k;
}

/* Example i's weight in class k's problem: its class's weight, or with
 * label sets label k's weight for a positive and 1 for a negative. */
static double example_weight(const tcat_svm_opts *o, const int32_t *y, size_t K, size_t i,
                             size_t k)
{
    if (!o->class_weight)
        return 1.0;
    if (o->targets)
        return o->targets[i * K + k] ? o->class_weight[k] : 1.0;
    return o->class_weight[y[i]];
}

/* One binary problem: class k against the rest. Writes the weights (with
 * the scaling folded in) to W[:, k] and b[k]. */
static tcat_status train_one(const tcat_csr *X, const int32_t *y, size_t K, size_t k,
                             const tcat_svm_opts *o, float *W, float *b)
{
    size_t n = X->rows, d = X->cols;
    const float *s = o->scale ? o->scale + k * d : NULL;
    double *w = calloc(d + 1, sizeof *w); /* w[d] is the bias weight */
    double *alpha = calloc(n ? n : 1, sizeof *alpha);
    double *qd = malloc((n ? n : 1) * sizeof *qd);
    double *dii = malloc((n ? n : 1) * sizeof *dii);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!w || !alpha || !qd || !dii || !order) {
        free(w);
        free(alpha);
        free(qd);
        free(dii);
        free(order);
        return TCAT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        double ci = o->C * example_weight(o, y, K, i, k);
        dii[i] = 0.5 / ci; /* squared hinge: diagonal term 1/(2C) */
        double q = 1.0 + dii[i];
        for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++) {
            double v = X->val[p] * (s ? s[X->col[p]] : 1.0f);
            q += v * v;
        }
        qd[i] = q;
        order[i] = i;
    }
    tcat_rng rng;
    tcat_rng_seed(&rng, o->seed ^ (0x5356u + k * 0x9E3779B97F4A7C15ull));
    for (int it = 0; it < o->max_iter; it++) {
        tcat_rng_shuffle(&rng, order, n);
        double pgmax = -INFINITY, pgmin = INFINITY;
        for (size_t r = 0; r < n; r++) {
            size_t i = order[r];
            double yi = positive(o, y, K, i, k) ? 1.0 : -1.0;
            double dot = w[d];
            for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++)
                dot += w[X->col[p]] * X->val[p] * (s ? s[X->col[p]] : 1.0f);
            double g = yi * dot - 1.0 + dii[i] * alpha[i];
            double pg = alpha[i] == 0.0 ? fmin(g, 0.0) : g;
            if (pg > pgmax)
                pgmax = pg;
            if (pg < pgmin)
                pgmin = pg;
            if (fabs(pg) > 1e-12) {
                double old = alpha[i];
                alpha[i] = fmax(old - g / qd[i], 0.0);
                double delta = (alpha[i] - old) * yi;
                for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++)
                    w[X->col[p]] += delta * X->val[p] * (s ? s[X->col[p]] : 1.0f);
                w[d] += delta;
            }
        }
        if (pgmax - pgmin <= o->eps)
            break;
        if (o->deadline > 0 && tcat_now() > o->deadline)
            break;
    }
    /* NBSVM interpolation: w' = (1 - beta) mean|w| + beta w, b' = beta b.
     * On the ratio-scaled features the first term is (1 - beta) mean|w|
     * times naive Bayes' log-odds (with no prior), the second beta times
     * the SVM's decision function, bias included. Leaving b unscaled
     * gave the bias four times its weight at beta 0.25, which pushed
     * most documents into one class (NBSVM word 1-2 C=0.3 test macro-F1:
     * MPQA 0.725 -> 0.813, CR 0.663 -> 0.839, ChnSentiCorp 0.844 ->
     * 0.906, SST-1 0.295 -> 0.382). */
    double mean_abs = 0;
    if (o->beta < 1.0) {
        for (size_t j = 0; j < d; j++)
            mean_abs += fabs(w[j]);
        mean_abs /= d ? (double)d : 1.0;
    }
    for (size_t j = 0; j < d; j++) {
        double wj = o->beta < 1.0 ? (1.0 - o->beta) * mean_abs + o->beta * w[j] : w[j];
        W[j * K + k] = (float)(wj * (s ? s[j] : 1.0f));
    }
    b[k] = (float)(o->beta < 1.0 ? o->beta * w[d] : w[d]);
    free(w);
    free(alpha);
    free(qd);
    free(dii);
    free(order);
    return TCAT_OK;
}

struct svm_job {
    const tcat_csr *X;
    const int32_t *y;
    size_t K, nprob;
    const tcat_svm_opts *o;
    float *W, *b;
    int T;
    tcat_status *sts;
};

static void svm_part(void *ctx, int t)
{
    struct svm_job *j = ctx;
    for (size_t k = (size_t)t; k < j->nprob; k += (size_t)j->T) {
        tcat_status s = train_one(j->X, j->y, j->K, k, j->o, j->W, j->b);
        if (s != TCAT_OK)
            j->sts[t] = s;
    }
}

tcat_status tcat_svm_train(const tcat_csr *X, const int32_t *y, size_t K,
                           const tcat_svm_opts *o, float *W, float *b)
{
    /* Two classes: the second problem is the first with every sign
     * flipped (NB log-count ratios flip too, and the interpolation is
     * symmetric), so solve one. Not so for two labels of label sets: a
     * document may have both or neither. */
    size_t nprob = K == 2 && !o->targets ? 1 : K;
    tcat_status st = TCAT_OK;
    int T = o->threads < 1 ? 1 : o->threads;
    if ((size_t)T > nprob)
        T = (int)nprob;
    /* thread t takes problems t, t+T, t+2T, ...: each writes its own
     * columns, so the result does not depend on timing */
    tcat_status *sts = calloc((size_t)T, sizeof *sts);
    if (!sts)
        return TCAT_ERR_NOMEM;
    struct svm_job job = {X, y, K, nprob, o, W, b, T, sts};
    tcat_parallel(T, svm_part, &job);
    for (int t = 0; t < T; t++)
        if (sts[t] != TCAT_OK)
            st = sts[t];
    free(sts);
    if (st == TCAT_OK && nprob == 1) {
        for (size_t j = 0; j < X->cols; j++)
            W[j * 2 + 1] = -W[j * 2];
        b[1] = -b[0];
    }
    return st;
}
