#include "pipelines/logreg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/lbfgs.h"
#include "core/parallel.h"
#include "pipelines/pipeline.h"

/* One example's loss with label y, c (logsumexp(z) - z_y), added to
 * *sum; z_k becomes its derivative c (softmax(z)_k - [k = y]). */
static void softmax_loss(double *z, int32_t y, size_t K, const tcat_logreg_opts *o, double *sum)
{
    double m = z[0];
    for (size_t k = 1; k < K; k++)
        if (z[k] > m)
            m = z[k];
    double se = 0;
    for (size_t k = 0; k < K; k++)
        se += exp(z[k] - m);
    double lse = m + log(se);
    double c = o->C * (o->class_weight ? o->class_weight[y] : 1.0);
    *sum += c * (lse - z[y]);
    for (size_t k = 0; k < K; k++)
        z[k] = c * (exp(z[k] - lse) - (k == (size_t)y ? 1.0 : 0.0));
}

/* One example's loss under independent labels t (K bytes, 0/1),
 * sum_k c_k (log(1 + e^z_k) - t_k z_k), added to *sum; z_k becomes its
 * derivative c_k (sigmoid(z_k) - t_k). */
static void ova_loss(double *z, const uint8_t *t, size_t K, const tcat_logreg_opts *o,
                     double *sum)
{
    for (size_t k = 0; k < K; k++) {
        double c = o->C * (o->class_weight && t[k] ? o->class_weight[k] : 1.0);
        double zk = z[k], e = exp(-fabs(zk)); /* stable either side of 0 */
        *sum += c * (fmax(zk, 0.0) + log1p(e) - (t[k] ? zk : 0.0));
        double sig = zk >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        z[k] = c * (sig - (t[k] ? 1.0 : 0.0));
    }
}

/* Loss and gradient over rows [a, b): adds into *loss and g (when g). */
static void partial(const tcat_csr *X, const int32_t *y, size_t K, const tcat_logreg_opts *o,
                    const double *theta, size_t a, size_t bnd, double *loss, double *g,
                    double *z)
{
    size_t d = X->cols;
    const double *W = theta, *bias = theta + d * K;
    double *gb = g ? g + d * K : NULL;
    double sum = 0;
    for (size_t i = a; i < bnd; i++) {
        for (size_t k = 0; k < K; k++)
            z[k] = bias[k];
        for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++) {
            const double *wr = W + (size_t)X->col[p] * K;
            double v = X->val[p];
            for (size_t k = 0; k < K; k++)
                z[k] += wr[k] * v;
        }
        if (o->targets)
            ova_loss(z, o->targets + i * K, K, o, &sum);
        else
            softmax_loss(z, y[i], K, o, &sum);
        if (!g)
            continue;
        for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++) {
            double *gr = g + (size_t)X->col[p] * K;
            double v = X->val[p];
            for (size_t k = 0; k < K; k++)
                gr[k] += z[k] * v;
        }
        for (size_t k = 0; k < K; k++)
            gb[k] += z[k];
    }
    *loss += sum;
}

struct objective_job {
    const tcat_csr *X;
    const int32_t *y;
    size_t K;
    const tcat_logreg_opts *o;
    const double *theta;
    int T;
    double *loss;
    double **gs;
    double *z;
};

static void objective_part(void *ctx, int t)
{
    struct objective_job *j = ctx;
    size_t n = j->X->rows;
    size_t a = n * (size_t)t / (size_t)j->T, b = n * (size_t)(t + 1) / (size_t)j->T;
    partial(j->X, j->y, j->K, j->o, j->theta, a, b, &j->loss[t], j->gs ? j->gs[t] : NULL,
            j->z + (size_t)t * j->K);
}

double tcat_logreg_objective(const tcat_csr *X, const int32_t *y, size_t K,
                             const tcat_logreg_opts *o, const double *theta, double *grad)
{
    size_t d = X->cols, np = d * K + K;
    int T = o->threads < 1 ? 1 : o->threads;
    if ((size_t)T > X->rows / 256 + 1)
        T = (int)(X->rows / 256 + 1);
    double *loss = calloc((size_t)T, sizeof *loss);
    double **gs = calloc((size_t)T, sizeof *gs);
    double *z = malloc((size_t)T * K * sizeof *z);
    if (!loss || !gs || !z) {
        free(loss);
        free(gs);
        free(z);
        return NAN;
    }
    bool ok = true;
    if (grad) {
        memset(grad, 0, np * sizeof *grad);
        gs[0] = grad;
        for (int t = 1; t < T; t++)
            if (!(gs[t] = calloc(np, sizeof **gs)))
                ok = false;
    }
    if (ok) {
        struct objective_job job = {X, y, K, o, theta, T, loss, grad ? gs : NULL, z};
        tcat_parallel(T, objective_part, &job);
    }
    double f = 0;
    for (int t = 0; t < T; t++)
        f += loss[t];
    if (grad) {
        /* fixed order: thread 0's share, then 1's, ... */
        for (int t = 1; t < T; t++) {
            if (gs[t])
                for (size_t j = 0; j < np; j++)
                    grad[j] += gs[t][j];
            free(gs[t]);
        }
    }
    double reg = 0;
    for (size_t j = 0; j < d * K; j++) {
        reg += theta[j] * theta[j];
        if (grad)
            grad[j] += theta[j];
    }
    free(loss);
    free(gs);
    free(z);
    return ok ? f + 0.5 * reg : NAN;
}

/* tcat_logreg_objective for core/lbfgs.h */
typedef struct fit_ctx {
    const tcat_csr *X;
    const int32_t *y;
    size_t K;
    const tcat_logreg_opts *o;
} fit_ctx;

static double fit_objective(void *ctx, const double *theta, double *grad)
{
    const fit_ctx *c = ctx;
    return tcat_logreg_objective(c->X, c->y, c->K, c->o, theta, grad);
}

static bool past_deadline(void *ctx)
{
    const fit_ctx *c = ctx;
    return c->o->deadline > 0 && tcat_now() > c->o->deadline;
}

tcat_status tcat_logreg_train(const tcat_csr *X, const int32_t *y, size_t K,
                              const tcat_logreg_opts *o, float *W, float *b)
{
    size_t d = X->cols, np = d * K + K;
    double *theta = calloc(np, sizeof *theta);
    if (!theta)
        return TCAT_ERR_NOMEM;
    fit_ctx c = {X, y, K, o};
    tcat_lbfgs_opts lo = {.memory = o->memory > 0 ? o->memory : 7,
                          .max_iter = o->max_iter,
                          .gtol = o->tol,
                          .ftol = 1e-9,
                          .max_steps = 30,
                          .rules = TCAT_LBFGS_RULES_LOGREG,
                          .stop = past_deadline};
    tcat_status st = tcat_lbfgs(fit_objective, &c, theta, np, &lo, NULL);
    if (st == TCAT_OK) {
        for (size_t j = 0; j < d * K; j++)
            W[j] = (float)theta[j];
        for (size_t k = 0; k < K; k++)
            b[k] = (float)theta[d * K + k];
    }
    free(theta);
    return st;
}
