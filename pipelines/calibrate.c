#include "pipelines/calibrate.h"

#include <math.h>

void tcat_softmax_rows(float *s, size_t n, size_t K, double T)
{
    for (size_t i = 0; i < n; i++) {
        float *r = s + i * K;
        double mx = r[0];
        for (size_t k = 1; k < K; k++)
            if (r[k] > mx)
                mx = r[k];
        double sum = 0;
        for (size_t k = 0; k < K; k++)
            sum += exp((r[k] - mx) / T);
        for (size_t k = 0; k < K; k++)
            r[k] = (float)(exp((r[k] - mx) / T) / sum);
    }
}

/* Mean negative log-likelihood of labels y under softmax(s / T). */
static double nll(const float *s, const int32_t *y, size_t n, size_t K, double T)
{
    double tot = 0;
    for (size_t i = 0; i < n; i++) {
        const float *r = s + i * K;
        double mx = r[0];
        for (size_t k = 1; k < K; k++)
            if (r[k] > mx)
                mx = r[k];
        double sum = 0;
        for (size_t k = 0; k < K; k++)
            sum += exp((r[k] - mx) / T);
        tot += log(sum) - (r[y[i]] - mx) / T;
    }
    return tot / (double)(n ? n : 1);
}

/* Mean binary log-loss of targets t under sigmoid(s / T). */
static double bce(const float *s, const uint8_t *t, size_t n, size_t K, double T)
{
    double tot = 0;
    for (size_t i = 0; i < n * K; i++) {
        double z = s[i] / T;
        /* -log sigmoid(z) = log(1 + e^-z), stable either side of 0 */
        double m = t[i] ? -z : z;
        tot += m > 0 ? m + log1p(exp(-m)) : log1p(exp(m));
    }
    size_t m = n * K;
    return tot / (double)(m ? m : 1);
}

void tcat_sigmoid_rows(float *s, size_t n, size_t K, double T)
{
    for (size_t i = 0; i < n * K; i++)
        s[i] = (float)(1.0 / (1.0 + exp(-s[i] / T)));
}

/* Golden-section search of ln T in [ln 0.005, ln 50] for the minimum of
 * f(T) (the losses above are unimodal in T). */
static double fit_T(double (*f)(const float *, const void *, size_t, size_t, double),
                    const float *s, const void *y, size_t n, size_t K);

static double nll_any(const float *s, const void *y, size_t n, size_t K, double T)
{
    return nll(s, y, n, K, T);
}

static double bce_any(const float *s, const void *t, size_t n, size_t K, double T)
{
    return bce(s, t, n, K, T);
}

double tcat_fit_temperature(const float *s, const int32_t *y, size_t n, size_t K)
{
    return fit_T(nll_any, s, y, n, K);
}

double tcat_fit_temperature_ova(const float *s, const uint8_t *t, size_t n, size_t K)
{
    return fit_T(bce_any, s, t, n, K);
}

static double fit_T(double (*f)(const float *, const void *, size_t, size_t, double),
                    const float *s, const void *y, size_t n, size_t K)
{
    double a = log(0.005), b = log(50.0);
    const double g = 0.6180339887498949;
    double c = b - g * (b - a), d = a + g * (b - a);
    double fc = f(s, y, n, K, exp(c)), fd = f(s, y, n, K, exp(d));
    for (int it = 0; it < 60; it++) {
        if (fc < fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(s, y, n, K, exp(c));
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(s, y, n, K, exp(d));
        }
    }
    return exp((a + b) / 2);
}
