/*
 * pipelines/calibrate.h — class scores to calibrated probabilities.
 *
 * Temperature scaling (Guo, Pleiss, Sun and Weinberger, "On Calibration of
 * Modern Neural Networks", ICML 2017): p = softmax(s / T) with the single
 * T > 0 that minimises the log-loss of held-out documents. It leaves the
 * ranking of classes as it is and makes the probabilities of different
 * models comparable, which averaging them in an ensemble needs.
 *
 * One-vs-all (multi-label) scores get the same treatment with
 * independent sigmoids: p[k] = sigmoid(s[k] / T), T minimising the mean
 * binary log-loss over every (document, label) pair.
 */
#ifndef TCAT_PIPELINES_CALIBRATE_H
#define TCAT_PIPELINES_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

/* In place: each of the n rows of K scores becomes softmax(row / T). */
void tcat_softmax_rows(float *s, size_t n, size_t K, double T);

/* The T in [0.005, 50] minimising the mean log-loss of labels y[0..n)
 * under softmax(s / T) (golden-section search on ln T). */
double tcat_fit_temperature(const float *s, const int32_t *y, size_t n, size_t K);

/* In place: every score becomes sigmoid(s / T). */
void tcat_sigmoid_rows(float *s, size_t n, size_t K, double T);

/* The T in [0.005, 50] minimising the mean binary log-loss of targets t
 * (n x K, 0/1) under sigmoid(s / T). */
double tcat_fit_temperature_ova(const float *s, const uint8_t *t, size_t n, size_t K);

#endif
