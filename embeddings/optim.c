#include "embeddings/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ADAM_B1 0.9f
#define ADAM_B2 0.999f
#define ADAM_EPS 1e-8f
#define ADADELTA_RHO 0.95f
#define ADADELTA_EPS 1e-6f

tcat_status tcat_optim_init(tcat_optim *o, tcat_opt_kind kind, float lr, size_t n)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->lr = lr;
    o->n = n;
    if (kind == TCAT_OPT_SGD)
        return TCAT_OK;
    o->s1 = calloc(n ? n : 1, sizeof *o->s1);
    o->s2 = calloc(n ? n : 1, sizeof *o->s2);
    if (!o->s1 || !o->s2) {
        tcat_optim_free(o);
        return TCAT_ERR_NOMEM;
    }
    return TCAT_OK;
}

void tcat_optim_free(tcat_optim *o)
{
    free(o->s1);
    free(o->s2);
    memset(o, 0, sizeof *o);
}

int tcat_opt_parse(const char *name)
{
    if (!strcmp(name, "sgd"))
        return TCAT_OPT_SGD;
    if (!strcmp(name, "adam"))
        return TCAT_OPT_ADAM;
    if (!strcmp(name, "adadelta"))
        return TCAT_OPT_ADADELTA;
    return -1;
}

/* The update of n contiguous parameters whose state starts at s1, s2. */
static void update(const tcat_optim *o, float *theta, const float *g, size_t n, float *s1,
                   float *s2, float c1, float c2)
{
    switch (o->kind) {
    case TCAT_OPT_SGD:
        for (size_t i = 0; i < n; i++)
            theta[i] -= o->lr * g[i];
        break;
    case TCAT_OPT_ADAM:
        for (size_t i = 0; i < n; i++) {
            s1[i] = ADAM_B1 * s1[i] + (1 - ADAM_B1) * g[i];
            s2[i] = ADAM_B2 * s2[i] + (1 - ADAM_B2) * g[i] * g[i];
            theta[i] -= o->lr * (s1[i] * c1) / (sqrtf(s2[i] * c2) + ADAM_EPS);
        }
        break;
    case TCAT_OPT_ADADELTA:
        for (size_t i = 0; i < n; i++) {
            s1[i] = ADADELTA_RHO * s1[i] + (1 - ADADELTA_RHO) * g[i] * g[i];
            float d = sqrtf(s2[i] + ADADELTA_EPS) / sqrtf(s1[i] + ADADELTA_EPS) * g[i];
            s2[i] = ADADELTA_RHO * s2[i] + (1 - ADADELTA_RHO) * d * d;
            theta[i] -= o->lr * d;
        }
        break;
    }
}

/* Adam's bias corrections 1/(1-b1^t), 1/(1-b2^t) for the next step. */
static void corrections(tcat_optim *o, float *c1, float *c2)
{
    o->t++;
    *c1 = (float)(1.0 / (1.0 - pow(ADAM_B1, (double)o->t)));
    *c2 = (float)(1.0 / (1.0 - pow(ADAM_B2, (double)o->t)));
}

void tcat_optim_step(tcat_optim *o, float *theta, const float *g)
{
    float c1, c2;
    corrections(o, &c1, &c2);
    update(o, theta, g, o->n, o->s1, o->s2, c1, c2);
}

void tcat_optim_step_rows(tcat_optim *o, float *theta, size_t dim, const uint32_t *rows,
                          size_t nr, const float *g)
{
    float c1, c2;
    corrections(o, &c1, &c2);
    for (size_t i = 0; i < nr; i++) {
        size_t off = (size_t)rows[i] * dim;
        update(o, theta + off, g + i * dim, dim, o->s1 ? o->s1 + off : NULL,
               o->s2 ? o->s2 + off : NULL, c1, c2);
    }
}

double tcat_clip_norm(float *const *parts, const size_t *len, size_t nparts, double max)
{
    double ss = 0;
    for (size_t p = 0; p < nparts; p++)
        for (size_t i = 0; i < len[p]; i++)
            ss += (double)parts[p][i] * parts[p][i];
    double norm = sqrt(ss);
    if (max > 0 && norm > max) {
        float s = (float)(max / norm);
        for (size_t p = 0; p < nparts; p++)
            for (size_t i = 0; i < len[p]; i++)
                parts[p][i] *= s;
    }
    return norm;
}

void tcat_max_norm_rows(float *W, size_t rows, size_t cols, float s)
{
    for (size_t r = 0; r < rows; r++) {
        float *w = W + r * cols;
        double ss = 0;
        for (size_t j = 0; j < cols; j++)
            ss += (double)w[j] * w[j];
        if (ss > (double)s * s) {
            float k = (float)(s / sqrt(ss));
            for (size_t j = 0; j < cols; j++)
                w[j] *= k;
        }
    }
}
