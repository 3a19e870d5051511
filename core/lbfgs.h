/*
 * core/lbfgs.h — the minimiser of tcat's smooth objectives: logistic
 * regression (pipelines/logreg.h) and the stacker (search/stack.h).
 *
 * L-BFGS (Nocedal 1980; Liu and Nocedal 1989). From x_0, iteration k
 * moves along d = -H g, g being the gradient at x_k and H the inverse
 * Hessian estimate of the two-loop recursion over the last m pairs
 * s = x_{k+1} - x_k, y = g_{k+1} - g_k, started from gamma I with
 * gamma = s.y / y.y of the newest pair. With no pair yet (the first
 * iteration), d = -g / max(1, |g|_2): a first step no longer than 1.
 * When d is not downhill the pairs are forgotten and d restarts from -g
 * (see the rules below).
 *
 * Line search: backtracking on Armijo's condition alone. The steps
 * t = 1, 1/2, 1/4, ... (at most max_steps of them) are tried, the first
 * with f(x + t d) <= f(x) + 1e-4 t g.d is taken; when none is, the
 * minimisation ends. Wolfe's curvature condition is not checked:
 * instead a pair is kept only when s.y > 0 by a margin (the rules), so
 * that H stays positive definite.
 *
 * It stops, x being the last point the line search took:
 *   - before an iteration, when |g|_inf <= gtol * max(1, |g_0|_inf)
 *     (g_0 the gradient at the start) or when stop(ctx) says so;
 *   - after max_iter iterations;
 *   - when no step passes the line search;
 *   - when an iteration lowers f by less than ftol, relatively (rules).
 *
 * The rules. Its two users' minimisers, merged here, differed in four
 * details; each set is kept, so that neither's results change:
 *
 *                     TCAT_LBFGS_RULES_LOGREG     TCAT_LBFGS_RULES_STACK
 *   restart when      g.d >= 0                    not g.d < 0 (NaN too)
 *   restart from      d = -g                      d = -g / max(1, |g|_2)
 *   gamma computed    1 / ((1 / s.y) y.y),        s.y / y.y
 *                     1 when y.y = 0
 *   pair kept when    s.y > 1e-12                 s.y > 1e-12 y.y
 *   stalled when      (f_k - f_{k+1})             f_k - f_{k+1}
 *                     / max(|f_k|, 1) < ftol      <= ftol max(1, |f_{k+1}|)
 *
 * Everything is sums in a fixed order: the same inputs give the same x
 * bit for bit. Nothing is global; calls may run in parallel.
 */
#ifndef TCAT_CORE_LBFGS_H
#define TCAT_CORE_LBFGS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

/* The objective at x (dim values) and its gradient, written to grad
 * (dim values); NaN when it cannot be evaluated (out of memory). */
typedef double (*tcat_lbfgs_fn)(void *ctx, const double *x, double *grad);

typedef enum tcat_lbfgs_rules {
    TCAT_LBFGS_RULES_LOGREG,
    TCAT_LBFGS_RULES_STACK
} tcat_lbfgs_rules;

typedef struct tcat_lbfgs_opts {
    int memory;             /* m: the pairs kept, >= 1 */
    int max_iter;           /* iterations (line searches) */
    double gtol;            /* converged: |g|_inf <= gtol * max(1, |g_0|_inf) */
    double ftol;            /* stalled: a relative decrease below it (rules) */
    int max_steps;          /* line search: trial steps 1, 1/2, ... */
    tcat_lbfgs_rules rules;
    bool (*stop)(void *ctx); /* asked before each iteration; NULL: never */
} tcat_lbfgs_opts;

/* Doubles of scratch tcat_lbfgs needs for dim unknowns and memory m. */
size_t tcat_lbfgs_scratch(size_t dim, int memory);

/* Minimises f from x (dim values), leaving in x the last point the line
 * search took; ctx is passed to f and o->stop. scratch holds
 * tcat_lbfgs_scratch(dim, o->memory) doubles, or is NULL: then they are
 * allocated for the call. TCAT_OK however it stopped; TCAT_ERR_NOMEM
 * when scratch cannot be allocated or f returns NaN (it stops at once). */
tcat_status tcat_lbfgs(tcat_lbfgs_fn f, void *ctx, double *x, size_t dim,
                       const tcat_lbfgs_opts *o, double *scratch);

#endif
