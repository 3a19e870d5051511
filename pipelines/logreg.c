#include "pipelines/logreg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

static double dotp(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double norm_inf(const double *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i]) > m)
            m = fabs(a[i]);
    return m;
}

tcat_status tcat_logreg_train(const tcat_csr *X, const int32_t *y, size_t K,
                              const tcat_logreg_opts *o, float *W, float *b)
{
    size_t d = X->cols, np = d * K + K;
    int m = o->memory > 0 ? o->memory : 7;
    double *x = calloc(np, sizeof *x), *g = malloc(np * sizeof *g);
    double *xn = malloc(np * sizeof *xn), *gn = malloc(np * sizeof *gn);
    double *dir = malloc(np * sizeof *dir);
    double *S = malloc((size_t)m * np * sizeof *S), *Y = malloc((size_t)m * np * sizeof *Y);
    double *rho = malloc((size_t)m * sizeof *rho), *al = malloc((size_t)m * sizeof *al);
    tcat_status st = TCAT_OK;
    if (!x || !g || !xn || !gn || !dir || !S || !Y || !rho || !al) {
        st = TCAT_ERR_NOMEM;
        goto done;
    }
    double f = tcat_logreg_objective(X, y, K, o, x, g);
    if (isnan(f)) {
        st = TCAT_ERR_NOMEM;
        goto done;
    }
    double g0 = fmax(1.0, norm_inf(g, np));
    int hist = 0, head = 0; /* stored pairs, next slot */
    for (int it = 0; it < o->max_iter; it++) {
        if (norm_inf(g, np) <= o->tol * g0)
            break;
        if (o->deadline > 0 && tcat_now() > o->deadline)
            break;
        /* two-loop recursion: dir = -H g */
        for (size_t j = 0; j < np; j++)
            dir[j] = -g[j];
        for (int h = 0; h < hist; h++) {
            int s = (head - 1 - h + m) % m;
            al[s] = rho[s] * dotp(S + (size_t)s * np, dir, np);
            for (size_t j = 0; j < np; j++)
                dir[j] -= al[s] * Y[(size_t)s * np + j];
        }
        if (hist > 0) {
            int s = (head - 1 + m) % m;
            double yy = dotp(Y + (size_t)s * np, Y + (size_t)s * np, np);
            double gamma = yy > 0 ? 1.0 / (rho[s] * yy) : 1.0;
            for (size_t j = 0; j < np; j++)
                dir[j] *= gamma;
        } else {
            double gn0 = sqrt(dotp(g, g, np));
            for (size_t j = 0; j < np; j++)
                dir[j] /= gn0 > 1.0 ? gn0 : 1.0;
        }
        for (int h = hist - 1; h >= 0; h--) {
            int s = (head - 1 - h + m) % m;
            double be = rho[s] * dotp(Y + (size_t)s * np, dir, np);
            for (size_t j = 0; j < np; j++)
                dir[j] += (al[s] - be) * S[(size_t)s * np + j];
        }
        double slope = dotp(g, dir, np);
        if (slope >= 0) { /* not a descent direction: restart from -g */
            for (size_t j = 0; j < np; j++)
                dir[j] = -g[j];
            slope = dotp(g, dir, np);
            hist = 0;
        }
        /* backtracking Armijo line search */
        double step = 1.0, fn = f;
        bool moved = false;
        for (int ls = 0; ls < 30; ls++) {
            for (size_t j = 0; j < np; j++)
                xn[j] = x[j] + step * dir[j];
            fn = tcat_logreg_objective(X, y, K, o, xn, gn);
            if (isnan(fn)) {
                st = TCAT_ERR_NOMEM;
                goto done;
            }
            if (fn <= f + 1e-4 * step * slope) {
                moved = true;
                break;
            }
            step *= 0.5;
        }
        if (!moved)
            break;
        double *sv = S + (size_t)head * np, *yv = Y + (size_t)head * np;
        for (size_t j = 0; j < np; j++) {
            sv[j] = xn[j] - x[j];
            yv[j] = gn[j] - g[j];
        }
        double sy = dotp(sv, yv, np);
        if (sy > 1e-12) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % m;
            if (hist < m)
                hist++;
        }
        double *t = x;
        x = xn;
        xn = t;
        t = g;
        g = gn;
        gn = t;
        double rel = (f - fn) / fmax(fabs(f), 1.0);
        f = fn;
        if (rel < 1e-9)
            break;
    }
    for (size_t j = 0; j < d * K; j++)
        W[j] = (float)x[j];
    for (size_t k = 0; k < K; k++)
        b[k] = (float)x[d * K + k];
done:
    free(x);
    free(g);
    free(xn);
    free(gn);
    free(dir);
    free(S);
    free(Y);
    free(rho);
    free(al);
    return st;
}
