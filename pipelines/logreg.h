/*
 * pipelines/logreg.h — multinomial logistic regression with L2 penalty.
 *
 *     min_{W,b}  1/2 |W|^2 + C sum_i c_i ( logsumexp(z_i) - z_i[y_i] ),
 *     z_i = W^T x_i + b
 *
 * (the bias is not penalised; c_i is the weight of example i's class),
 * minimised from W = 0, b = 0 by L-BFGS (core/lbfgs.h, its logreg rules:
 * up to 30 trial steps a line search, stopping also when an iteration
 * lowers the objective by less than 1e-9 relatively, or at the
 * deadline). The gradient is summed over a fixed split of the examples
 * in a fixed order, so results do not depend on thread timing.
 *
 * Label sets (multi-label): with targets t (n x K bytes, 0/1) the loss is
 * instead K independent binary logistic regressions, y not being used,
 *
 *     min_{W,b}  1/2 |W|^2 + C sum_i sum_k c_ik ( log(1 + e^z_ik) - t_ik z_ik ),
 *
 * c_ik being class_weight[k] when t_ik = 1 and 1 otherwise; sigmoid(z_ik)
 * estimates P(label k | x_i).
 */
#ifndef TCAT_PIPELINES_LOGREG_H
#define TCAT_PIPELINES_LOGREG_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "pipelines/tfidf.h"

typedef struct tcat_logreg_opts {
    double C;
    int max_iter;      /* L-BFGS iterations */
    double tol;        /* stop when |grad|_inf <= tol * max(1, |grad_0|_inf) */
    int memory;        /* L-BFGS pairs kept, 0: 7 */
    int threads;
    double deadline;   /* tcat_now() time after which no iteration starts, 0: none */
    const double *class_weight; /* K, or NULL */
    const uint8_t *targets;     /* rows x K label sets, or NULL: y */
} tcat_logreg_opts;

/* Fits W (cols x K, row-major by feature) and b (K). Labels y[i] in
 * [0, K), or o->targets (then y may be NULL). */
tcat_status tcat_logreg_train(const tcat_csr *X, const int32_t *y, size_t K,
                              const tcat_logreg_opts *o, float *W, float *b);

/* The objective at theta = [W (cols x K) | b (K)] and, when grad is not
 * NULL, its gradient (same layout). Exposed for the gradient check. */
double tcat_logreg_objective(const tcat_csr *X, const int32_t *y, size_t K,
                             const tcat_logreg_opts *o, const double *theta, double *grad);

#endif
