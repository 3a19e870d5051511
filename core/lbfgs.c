#include "core/lbfgs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ARMIJO 1e-4    /* sufficient decrease: f(x + t d) <= f(x) + ARMIJO t g.d */
#define CURVATURE 1e-12 /* a pair is kept when s.y exceeds it (times y.y: stack rules) */

static double dot(const double *a, const double *b, size_t n)
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

/* d /= max(1, |g|_2) */
static void shorten(double *d, const double *g, size_t n)
{
    double len = fmax(1, sqrt(dot(g, g, n)));
    for (size_t i = 0; i < n; i++)
        d[i] /= len;
}

size_t tcat_lbfgs_scratch(size_t dim, int memory)
{
    size_t m = (size_t)memory;
    return (4 + 2 * m) * dim + 2 * m;
}

tcat_status tcat_lbfgs(tcat_lbfgs_fn f, void *ctx, double *x0, size_t dim,
                       const tcat_lbfgs_opts *o, double *scratch)
{
    size_t m = (size_t)o->memory;
    double *ws = scratch ? scratch : malloc(tcat_lbfgs_scratch(dim, o->memory) * sizeof *ws);
    if (!ws)
        return TCAT_ERR_NOMEM;
    /* x and xn (x0 and a scratch vector) swap roles at each step, as g
     * and gn do */
    double *x = x0, *g = ws, *d = g + dim, *xn = d + dim, *gn = xn + dim;
    double *S = gn + dim, *Y = S + m * dim, *rho = Y + m * dim, *alpha = rho + m;
    bool stack = o->rules == TCAT_LBFGS_RULES_STACK;
    tcat_status st = TCAT_OK;
    size_t npairs = 0, head = 0; /* pairs kept; the slot of the next one */
    double fx = f(ctx, x, g);
    if (isnan(fx)) {
        st = TCAT_ERR_NOMEM;
        goto done;
    }
    double g0 = fmax(1, norm_inf(g, dim));
    for (int it = 0; it < o->max_iter; it++) {
        if (norm_inf(g, dim) <= o->gtol * g0)
            break;
        if (o->stop && o->stop(ctx))
            break;
        /* d = -H g, two-loop recursion (newest pair first) */
        for (size_t i = 0; i < dim; i++)
            d[i] = -g[i];
        for (size_t t = 0; t < npairs; t++) {
            size_t j = (head + m - 1 - t) % m;
            alpha[j] = rho[j] * dot(S + j * dim, d, dim);
            for (size_t i = 0; i < dim; i++)
                d[i] -= alpha[j] * Y[j * dim + i];
        }
        if (npairs) {
            size_t j = (head + m - 1) % m;
            double yy = dot(Y + j * dim, Y + j * dim, dim);
            double gamma = stack ? dot(S + j * dim, Y + j * dim, dim) / yy
                                 : yy > 0 ? 1 / (rho[j] * yy) : 1;
            for (size_t i = 0; i < dim; i++)
                d[i] *= gamma;
        } else {
            shorten(d, g, dim);
        }
        for (size_t t = npairs; t-- > 0;) {
            size_t j = (head + m - 1 - t) % m;
            double beta = rho[j] * dot(Y + j * dim, d, dim);
            for (size_t i = 0; i < dim; i++)
                d[i] += (alpha[j] - beta) * S[j * dim + i];
        }
        double gd = dot(g, d, dim);
        if (stack ? !(gd < 0) : gd >= 0) { /* not downhill: forget the pairs */
            npairs = 0;
            for (size_t i = 0; i < dim; i++)
                d[i] = -g[i];
            if (stack)
                shorten(d, g, dim);
            gd = dot(g, d, dim);
        }
        double t = 1, fn = fx;
        bool moved = false;
        for (int ls = 0; ls < o->max_steps; ls++, t *= 0.5) {
            for (size_t i = 0; i < dim; i++)
                xn[i] = x[i] + t * d[i];
            fn = f(ctx, xn, gn);
            if (isnan(fn)) {
                st = TCAT_ERR_NOMEM;
                goto done;
            }
            if (fn <= fx + ARMIJO * t * gd) {
                moved = true;
                break;
            }
        }
        if (!moved)
            break;
        /* The pair takes the slot at head, kept or not: a rejected pair
         * overwrites the oldest kept one when all m slots are in use,
         * leaving it with its old rho. Both users' minimisers did so. */
        double *s = S + head * dim, *y = Y + head * dim;
        for (size_t i = 0; i < dim; i++) {
            s[i] = xn[i] - x[i];
            y[i] = gn[i] - g[i];
        }
        double sy = dot(s, y, dim);
        if (sy > CURVATURE * (stack ? dot(y, y, dim) : 1)) {
            rho[head] = 1 / sy;
            head = (head + 1) % m;
            if (npairs < m)
                npairs++;
        }
        double *tmp = x;
        x = xn;
        xn = tmp;
        tmp = g;
        g = gn;
        gn = tmp;
        double fk = fx;
        fx = fn;
        if (stack ? fk - fx <= o->ftol * fmax(1, fabs(fx))
                  : (fk - fx) / fmax(fabs(fk), 1) < o->ftol)
            break;
    }
done:
    if (x != x0)
        memcpy(x0, x, dim * sizeof *x);
    if (!scratch)
        free(ws);
    return st;
}
