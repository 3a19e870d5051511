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

double tcat_fit_temperature(const float *s, const int32_t *y, size_t n, size_t K)
{
    double a = log(0.005), b = log(50.0);
    const double g = 0.6180339887498949;
    double c = b - g * (b - a), d = a + g * (b - a);
    double fc = nll(s, y, n, K, exp(c)), fd = nll(s, y, n, K, exp(d));
    for (int it = 0; it < 60; it++) {
        if (fc < fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = nll(s, y, n, K, exp(c));
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = nll(s, y, n, K, exp(d));
        }
    }
    return exp((a + b) / 2);
}
