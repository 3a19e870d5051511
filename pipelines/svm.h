/*
 * pipelines/svm.h — linear support vector machines, one class against the
 * rest, trained by dual coordinate descent.
 *
 * Each binary problem is the L2-regularised squared-hinge SVM
 *
 *     min_w  1/2 |w|^2 + C sum_i c_i max(0, 1 - y_i w.x_i)^2
 *
 * (x_i extended by a constant 1 so the bias is learnt, and regularised,
 * as liblinear and scikit-learn's LinearSVC do), solved in the dual by
 * coordinate descent: Hsieh, Chang, Lin, Keerthi and Sundararajan, "A
 * Dual Coordinate Descent Method for Large-scale Linear SVM", ICML 2008.
 * c_i is the weight of example i's class. Stops when the projected
 * gradient's spread falls below eps (liblinear's criterion), after
 * max_iter passes, or at the deadline.
 *
 * scale (optional, K rows of `cols` floats) multiplies feature j of class
 * k's problem by scale[k*cols + j] — the NB log-count ratios of NBSVM
 * (Wang and Manning 2012); the weights written out already include it,
 * so prediction needs no scaling.
 *
 * Label sets (multi-label, one-vs-all): with targets (n x K bytes, 0/1)
 * class k's positives are the examples with targets[i*K + k] = 1, y is
 * not used, and c_i in problem k is class_weight[k] for a positive and 1
 * for a negative. Two classes are then two problems, not one mirrored.
 *
 * The NBSVM interpolation (beta < 1) writes w' = (1 - beta) mean|w| +
 * beta w and b' = beta b: on the ratio-scaled features, a mix of naive
 * Bayes' log-odds and the SVM's whole decision function.
 */
#ifndef TCAT_PIPELINES_SVM_H
#define TCAT_PIPELINES_SVM_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "pipelines/tfidf.h"

typedef struct tcat_svm_opts {
    double C;
    double eps;         /* 0.1 is liblinear's default */
    int max_iter;       /* passes over the data */
    uint64_t seed;
    int threads;
    double deadline;    /* tcat_now() time to stop at, 0: none */
    const double *class_weight; /* K, or NULL */
    const float *scale;         /* K x cols, or NULL */
    double beta;        /* NBSVM interpolation (1: plain weights) */
    const uint8_t *targets;     /* rows x K label sets, or NULL: y */
} tcat_svm_opts;

/* Trains K scores: W (cols x K, row-major by feature) and b (K). Labels
 * y[i] in [0, K), or o->targets (then y may be NULL). */
tcat_status tcat_svm_train(const tcat_csr *X, const int32_t *y, size_t K,
                           const tcat_svm_opts *o, float *W, float *b);

#endif
