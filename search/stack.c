#include "search/stack.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/lbfgs.h"
#include "corpora/split.h"
#include "embeddings/tensor.h"

#define FOLDS 5
#define MAX_STEPS 16     /* greedy selection: the best member, then up to 15 more picks */
#define APPLY_BLOCK 64   /* classes whose logits apply() accumulates at once */

/* The stacker's L2 strength is STACK_L2 / (rows it is fitted on), on
 * standardised inputs: scikit-learn's LogisticRegression(C = 1/3). */
#define STACK_L2 3.0

/* The stacker's minimiser */
static const tcat_lbfgs_opts stacker_lbfgs = {.memory = 8,
                                              .max_iter = 200,
                                              .gtol = 1e-3,
                                              .ftol = 1e-12,
                                              .max_steps = 40,
                                              .rules = TCAT_LBFGS_RULES_STACK};

/* ---- small helpers ---------------------------------------------------------- */

static size_t argmax_d(const double *r, size_t K)
{
    size_t best = 0;
    for (size_t k = 1; k < K; k++)
        if (r[k] > r[best])
            best = k;
    return best;
}

static inline double input_of(float p) { return log(fmax((double)p, TCAT_STACK_EPS)); }

/* ---- scoring: counts per class, then the metric (search/metrics.h's
 * conventions, without its allocations: it runs thousands of times) ------- */

typedef struct counts {
    size_t K;
    uint64_t n;
    uint64_t *sup, *pred, *tp; /* K each, one block */
} counts;

static void counts_clear(counts *c)
{
    c->n = 0;
    memset(c->sup, 0, 3 * c->K * sizeof *c->sup);
}

static inline void counts_add(counts *c, int32_t truth, size_t pred)
{
    c->n++;
    c->sup[truth]++;
    c->pred[pred]++;
    c->tp[truth] += (size_t)truth == pred;
}

static double counts_score(const counts *c, tcat_metric metric)
{
    if (c->n == 0)
        return 0;
    double tp = 0, macro = 0, weighted = 0;
    for (size_t k = 0; k < c->K; k++) {
        uint64_t d = c->sup[k] + c->pred[k];
        double f1 = d ? 2.0 * (double)c->tp[k] / (double)d : 0;
        tp += (double)c->tp[k];
        macro += f1;
        weighted += f1 * (double)c->sup[k];
    }
    switch (metric) {
    case TCAT_METRIC_MACRO_F1: return macro / (double)c->K;
    case TCAT_METRIC_WEIGHTED_F1: return weighted / (double)c->n;
    case TCAT_METRIC_MICRO_F1:
    case TCAT_METRIC_ACCURACY: return tp / (double)c->n;
    }
    return 0;
}

/* A member's score on rows[0..nr) of the pool, from its predicted class
 * per pool row. */
static double member_score(counts *c, const int32_t *am, const int32_t *y, const size_t *rows,
                           size_t nr, tcat_metric metric)
{
    counts_clear(c);
    for (size_t r = 0; r < nr; r++)
        counts_add(c, y[rows[r]], (size_t)am[rows[r]]);
    return counts_score(c, metric);
}

/* The first of the members with the highest score. */
static size_t best_of(const double *score, size_t M)
{
    size_t best = 0;
    for (size_t m = 1; m < M; m++)
        if (score[m] > score[best])
            best = m;
    return best;
}

/* The S members with the highest scores (ties: the lower index), in
 * ascending index order. */
static void top_members(const double *score, size_t M, size_t S, size_t *mem)
{
    size_t ns = 0;
    for (size_t m = 0; m < M; m++) {
        /* m is in when fewer than S members beat it */
        size_t above = 0;
        for (size_t o = 0; o < M; o++)
            above += score[o] > score[m] || (score[o] == score[m] && o < m);
        if (above < S)
            mem[ns++] = m;
    }
}

/* ---- greedy ensemble selection with replacement ---------------------------- */

/* Caruana et al. 2004 on rows[0..nr) of the pool, started from member
 * `best` (scoring best_score); sum is n x K scratch, unsafe nr and base
 * 3 K. best_picks gets the pick counts of the best-scoring prefix.
 *
 * A row whose current sum leads by more than 1 (a member's probability
 * can add at most 1 to a class) predicts the same class whatever member
 * is added: its counts are taken once per step (base), and only the other
 * rows are scanned for each member. */
static void select_greedy(const float *const *proba, size_t M, size_t K, const int32_t *y,
                          const size_t *rows, size_t nr, tcat_metric metric, size_t max_members,
                          size_t best, double best_score, unsigned *picks, unsigned *best_picks,
                          float *sum, size_t *unsafe, uint64_t *base, counts *c)
{
    memset(picks, 0, M * sizeof *picks);
    memset(best_picks, 0, M * sizeof *best_picks);
    for (size_t r = 0; r < nr; r++)
        memcpy(sum + rows[r] * K, proba[best] + rows[r] * K, K * sizeof *sum);
    picks[best] = best_picks[best] = 1;
    for (unsigned step = 2; step <= MAX_STEPS; step++) {
        size_t distinct = 0;
        for (size_t m = 0; m < M; m++)
            distinct += picks[m] > 0;
        /* the safe rows' counts, the unsafe rows' list */
        size_t nu = 0;
        counts_clear(c);
        for (size_t r = 0; r < nr; r++) {
            const float *s = sum + rows[r] * K;
            size_t top = tcat_argmax(s, K);
            float second = -INFINITY;
            for (size_t k = 0; k < K; k++)
                if (k != top && s[k] > second)
                    second = s[k];
            if (s[top] - second > 1.001f)
                counts_add(c, y[rows[r]], top);
            else
                unsafe[nu++] = rows[r];
        }
        uint64_t nbase = c->n;
        memcpy(base, c->sup, 3 * K * sizeof *base);
        long pick = -1;
        double pick_score = -1;
        for (size_t m = 0; m < M; m++) {
            if (!picks[m] && distinct >= max_members)
                continue;
            memcpy(c->sup, base, 3 * K * sizeof *base);
            c->n = nbase;
            for (size_t u = 0; u < nu; u++) {
                const float *s = sum + unsafe[u] * K, *p = proba[m] + unsafe[u] * K;
                size_t bk = 0;
                float bv = s[0] + p[0];
                for (size_t k = 1; k < K; k++) {
                    float v = s[k] + p[k];
                    if (v > bv) {
                        bv = v;
                        bk = k;
                    }
                }
                counts_add(c, y[unsafe[u]], bk);
            }
            double sc = counts_score(c, metric);
            if (sc > pick_score) {
                pick_score = sc;
                pick = (long)m;
            }
        }
        if (pick < 0)
            break;
        for (size_t r = 0; r < nr; r++) {
            float *s = sum + rows[r] * K;
            const float *p = proba[pick] + rows[r] * K;
            for (size_t k = 0; k < K; k++)
                s[k] += p[k];
        }
        picks[pick]++;
        if (pick_score > best_score + 1e-12) {
            best_score = pick_score;
            memcpy(best_picks, picks, M * sizeof *picks);
        }
    }
}

/* The weighted mean of the members' probabilities of pool row i, into
 * out (K); members of weight 0 are not read. */
static void weighted_mean_row(const float *const *proba, const double *weight, size_t M,
                              size_t K, size_t i, float *out)
{
    double total = 0;
    for (size_t m = 0; m < M; m++)
        total += weight[m] > 0 ? weight[m] : 0;
    memset(out, 0, K * sizeof *out);
    for (size_t m = 0; m < M; m++) {
        if (!(weight[m] > 0))
            continue;
        float w = (float)(weight[m] / total);
        const float *p = proba[m] + i * K;
        for (size_t k = 0; k < K; k++)
            out[k] += w * p[k];
    }
}

/* ---- the stacker: multinomial logistic regression ------------------------------ */

/* The inputs of members mem[0..S) for the pool rows order[0..n) (order
 * NULL: 0..n-1), one row of F = S*K + 1 per pool row, the last a 1. */
static void build_inputs(double *X, const float *const *proba, const size_t *mem, size_t S,
                         size_t K, const size_t *order, size_t n)
{
    size_t F = S * K + 1;
    for (size_t r = 0; r < n; r++) {
        size_t row = order ? order[r] : r;
        double *x = X + r * F;
        for (size_t s = 0; s < S; s++) {
            const float *p = proba[mem[s]] + row * K;
            for (size_t j = 0; j < K; j++)
                x[s * K + j] = input_of(p[j]);
        }
        x[F - 1] = 1;
    }
}

/* Standardises the columns of X (n x F, all but the last) in place:
 * mu and sd (F - 1 each) get the means and standard deviations (1 for a
 * constant column). */
static void standardise(double *X, size_t n, size_t F, double *mu, double *sd)
{
    for (size_t j = 0; j + 1 < F; j++)
        mu[j] = sd[j] = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j + 1 < F; j++)
            mu[j] += X[i * F + j];
    for (size_t j = 0; j + 1 < F; j++)
        mu[j] /= n ? (double)n : 1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j + 1 < F; j++) {
            double d = X[i * F + j] - mu[j];
            sd[j] += d * d;
        }
    for (size_t j = 0; j + 1 < F; j++) {
        sd[j] = sqrt(sd[j] / (n ? (double)n : 1));
        if (!(sd[j] > 1e-12))
            sd[j] = 1;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j + 1 < F; j++)
            X[i * F + j] = (X[i * F + j] - mu[j]) / sd[j];
}

/* W (K x F) over standardised inputs to the same function of the raw
 * inputs, into R. */
static void unstandardise(const double *W, size_t K, size_t F, const double *mu,
                          const double *sd, double *R)
{
    for (size_t k = 0; k < K; k++) {
        double b = W[k * F + F - 1];
        for (size_t j = 0; j + 1 < F; j++) {
            R[k * F + j] = W[k * F + j] / sd[j];
            b -= W[k * F + j] * mu[j] / sd[j];
        }
        R[k * F + F - 1] = b;
    }
}

/* A fitting problem: rows [lo[r], hi[r]) of X (n x F) for r < nranges. */
typedef struct lr_problem {
    const double *X;
    const int32_t *y; /* per row of X */
    size_t F, K;
    size_t lo[2], hi[2];
    int nranges;
    size_t ntrain;
    double l2;
    double *Z; /* n x K scratch */
} lr_problem;

/* Mean cross-entropy + (l2/2)|W without bias|^2 at W (K x F) for the
 * lr_problem ctx; the gradient into G when not NULL. */
static double lr_eval(void *ctx, const double *W, double *G)
{
    const lr_problem *p = ctx;
    size_t F = p->F, K = p->K;
    double loss = 0;
    for (int r = 0; r < p->nranges; r++) {
        size_t lo = p->lo[r], m = p->hi[r] - lo;
        if (m == 0)
            continue;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)K, (int)F, 1.0,
                    p->X + lo * F, (int)F, W, (int)F, 0.0, p->Z + lo * K, (int)K);
        for (size_t i = lo; i < lo + m; i++) {
            double *z = p->Z + i * K;
            double mx = z[argmax_d(z, K)], s = 0, zy = z[p->y[i]];
            for (size_t k = 0; k < K; k++)
                s += (z[k] = exp(z[k] - mx));
            loss += mx + log(s) - zy;
            if (G) {
                for (size_t k = 0; k < K; k++)
                    z[k] /= s;
                z[p->y[i]] -= 1;
            }
        }
    }
    double n = p->ntrain ? (double)p->ntrain : 1, reg = 0;
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j + 1 < F; j++)
            reg += W[k * F + j] * W[k * F + j];
    double f = loss / n + 0.5 * p->l2 * reg;
    if (G) {
        bool first = true;
        for (int r = 0; r < p->nranges; r++) {
            size_t lo = p->lo[r], m = p->hi[r] - lo;
            if (m == 0)
                continue;
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)F, (int)m, 1.0 / n,
                        p->Z + lo * K, (int)K, p->X + lo * F, (int)F, first ? 0.0 : 1.0, G,
                        (int)F);
            first = false;
        }
        if (first)
            memset(G, 0, K * F * sizeof *G);
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j + 1 < F; j++)
                G[k * F + j] += p->l2 * W[k * F + j];
    }
    return f;
}

/* ---- choosing ----------------------------------------------------------------- */

typedef struct scratch {
    uint32_t *fold;
    size_t *order, *rows, *mem, *xmem;
    int32_t *yo, *pred[3], *amax;
    size_t *unsafe;
    uint64_t *base;
    float *sum, *tmp;
    unsigned *picks, *best_picks;
    double *mscore, *X, *Z, *W, *lb, *mu, *sd, *R;
    uint64_t *cnt;
} scratch;

static void scratch_free(scratch *s)
{
    free(s->fold);
    free(s->order);
    free(s->rows);
    free(s->mem);
    free(s->xmem);
    free(s->yo);
    free(s->amax);
    free(s->unsafe);
    free(s->base);
    for (int k = 0; k < 3; k++)
        free(s->pred[k]);
    free(s->sum);
    free(s->tmp);
    free(s->picks);
    free(s->best_picks);
    free(s->mscore);
    free(s->X);
    free(s->Z);
    free(s->W);
    free(s->lb);
    free(s->mu);
    free(s->sd);
    free(s->R);
    free(s->cnt);
}

/* Combined probabilities of the pool rows rows[0..nr) (NULL: 0..nr-1)
 * into out (nr x K). */
void tcat_combine_apply_rows(const tcat_combiner *c, const float *const *proba,
                             const size_t *rows, size_t nr, float *out)
{
    size_t K = c->K, M = c->M;
    if (c->kind != TCAT_COMBINE_STACK) {
        for (size_t r = 0; r < nr; r++)
            weighted_mean_row(proba, c->weight, M, K, rows ? rows[r] : r, out + r * K);
        return;
    }
    size_t F = M * K + 1;
    for (size_t r = 0; r < nr; r++) {
        size_t row = rows ? rows[r] : r;
        float *o = out + r * K;
        for (size_t k0 = 0; k0 < K; k0 += APPLY_BLOCK) {
            size_t kb = K - k0 < APPLY_BLOCK ? K - k0 : APPLY_BLOCK;
            double acc[APPLY_BLOCK];
            for (size_t t = 0; t < kb; t++)
                acc[t] = c->W[(k0 + t) * F + F - 1];
            for (size_t m = 0; m < M; m++) {
                if (!(c->weight[m] > 0))
                    continue;
                const float *p = proba[m] + row * K;
                const float *wc = c->W + k0 * F + m * K;
                for (size_t j = 0; j < K; j++) {
                    double x = input_of(p[j]);
                    for (size_t t = 0; t < kb; t++)
                        acc[t] += wc[t * F + j] * x;
                }
            }
            for (size_t t = 0; t < kb; t++) /* finite as a float, whatever W is */
                o[k0 + t] = (float)fmax(-1e30, fmin(1e30, acc[t]));
        }
        double mx = o[tcat_argmax(o, K)], s = 0;
        for (size_t k = 0; k < K; k++)
            s += exp((double)o[k] - mx);
        for (size_t k = 0; k < K; k++)
            o[k] = (float)(exp((double)o[k] - mx) / s);
    }
}

void tcat_combine_apply(const tcat_combiner *c, const float *const *proba, size_t n, float *out)
{
    tcat_combine_apply_rows(c, proba, NULL, n, out);
}

/* Fits the stacker on the rows of X but those of fold f (f < 0: all),
 * from the W given (a warm start). Returns the L2 strength used. */
static double fit_stacker(lr_problem *p, const size_t *start, int f, double *W, double *lb)
{
    size_t n = start[FOLDS];
    if (f < 0) {
        p->lo[0] = 0, p->hi[0] = n;
        p->lo[1] = p->hi[1] = n;
    } else {
        p->lo[0] = 0, p->hi[0] = start[f];
        p->lo[1] = start[f + 1], p->hi[1] = n;
    }
    p->nranges = 2;
    p->ntrain = (p->hi[0] - p->lo[0]) + (p->hi[1] - p->lo[1]);
    p->l2 = STACK_L2 / (double)(p->ntrain ? p->ntrain : 1);
    /* lr_eval allocates nothing and the scratch is given: no failure */
    (void)tcat_lbfgs(lr_eval, p, W, p->K * p->F, &stacker_lbfgs, lb);
    return p->l2;
}

/* Puts the stacker W (K x (S*K + 1), over members mem[0..S)) into c as a
 * K x (M*K + 1) float matrix, weights 1 for those members. */
static void put_stacker(tcat_combiner *c, const double *W, const size_t *mem, size_t S)
{
    size_t K = c->K, F = S * K + 1, FM = c->M * K + 1;
    memset(c->W, 0, K * FM * sizeof *c->W);
    for (size_t m = 0; m < c->M; m++)
        c->weight[m] = 0;
    for (size_t s = 0; s < S; s++) {
        c->weight[mem[s]] = 1;
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < K; j++)
                c->W[k * FM + mem[s] * K + j] = (float)W[k * F + s * K + j];
    }
    for (size_t k = 0; k < K; k++)
        c->W[k * FM + FM - 1] = (float)W[k * F + F - 1];
}

/* X holds the standardised inputs of members s->mem, rows in fold order
 * (rebuilt only when the members differ from the last time). */
static void inputs_for(scratch *s, const float *const *proba, size_t S, size_t K, size_t n,
                       size_t F, bool *have_x)
{
    if (*have_x && memcmp(s->mem, s->xmem, S * sizeof *s->mem) == 0)
        return;
    build_inputs(s->X, proba, s->mem, S, K, s->order, n);
    standardise(s->X, n, F, s->mu, s->sd);
    memcpy(s->xmem, s->mem, S * sizeof *s->mem);
    *have_x = true;
}

tcat_status tcat_combine_choose(tcat_combiner *out, const float *const *proba, size_t M,
                                size_t n, size_t K, const int32_t *y, tcat_metric metric,
                                size_t max_members, uint64_t seed, tcat_error *err)
{
    memset(out, 0, sizeof *out);
    if (M == 0 || K == 0)
        return tcat_fail(err, TCAT_ERR_USAGE, "combining %zu members of %zu classes", M, K);
    for (size_t m = 0; m < M; m++)
        if (!proba[m])
            return tcat_fail(err, TCAT_ERR_USAGE, "member %zu has no probabilities", m);
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || (size_t)y[i] >= K)
            return tcat_fail(err, TCAT_ERR_USAGE, "row %zu: class %d is not in [0, %zu)", i,
                             (int)y[i], K);
    if (max_members == 0)
        max_members = 1;
    size_t S = M < max_members ? M : max_members, F = S * K + 1, dim = K * F;
    size_t n1 = n ? n : 1;
    scratch s = {0};
    counts c = {K, 0, NULL, NULL, NULL};
    out->M = M;
    out->K = K;
    out->cv_score[0] = out->cv_score[1] = out->cv_score[2] = -1;
    out->weight = calloc(M, sizeof *out->weight);
    s.cnt = calloc(3 * K, sizeof *s.cnt);
    s.rows = malloc(n1 * sizeof *s.rows);
    s.mscore = malloc(M * sizeof *s.mscore);
    s.amax = malloc(n1 * M * sizeof *s.amax);
    if (!out->weight || !s.cnt || !s.rows || !s.mscore || !s.amax)
        goto nomem;
    for (size_t m = 0; m < M; m++)
        for (size_t i = 0; i < n; i++)
            s.amax[m * n + i] = (int32_t)tcat_argmax(proba[m] + i * K, K);
    c.sup = s.cnt;
    c.pred = s.cnt + K;
    c.tp = s.cnt + 2 * K;
    for (size_t i = 0; i < n; i++)
        s.rows[i] = i;

    if (M == 1 || n < 2 * FOLDS) {
        /* nothing to cross-validate */
        for (size_t m = 0; m < M; m++)
            s.mscore[m] = member_score(&c, s.amax + m * n, y, s.rows, n, metric);
        size_t best = best_of(s.mscore, M);
        out->kind = TCAT_COMBINE_SINGLE;
        out->weight[best] = 1;
        out->cv_score[TCAT_COMBINE_SINGLE] = s.mscore[best];
        scratch_free(&s);
        return TCAT_OK;
    }

    s.fold = malloc(n * sizeof *s.fold);
    s.order = malloc(n * sizeof *s.order);
    s.mem = malloc(S * sizeof *s.mem);
    s.xmem = malloc(S * sizeof *s.xmem);
    s.yo = malloc(n * sizeof *s.yo);
    for (int k = 0; k < 3; k++)
        s.pred[k] = malloc(n * sizeof *s.pred[k]);
    s.sum = malloc(n * K * sizeof *s.sum);
    s.tmp = malloc(n * K * sizeof *s.tmp);
    s.picks = malloc(M * sizeof *s.picks);
    s.unsafe = malloc(n * sizeof *s.unsafe);
    s.base = malloc(3 * K * sizeof *s.base);
    s.best_picks = malloc(M * sizeof *s.best_picks);
    s.X = malloc(n * F * sizeof *s.X);
    s.Z = malloc(n * K * sizeof *s.Z);
    s.W = malloc(dim * sizeof *s.W);
    s.lb = malloc(tcat_lbfgs_scratch(dim, stacker_lbfgs.memory) * sizeof *s.lb);
    s.mu = malloc(F * sizeof *s.mu);
    s.sd = malloc(F * sizeof *s.sd);
    s.R = malloc(dim * sizeof *s.R);
    if (!s.fold || !s.order || !s.mem || !s.xmem || !s.yo || !s.pred[0] || !s.pred[1] ||
        !s.pred[2] || !s.sum || !s.tmp || !s.picks || !s.best_picks || !s.X || !s.Z || !s.W ||
        !s.lb || !s.mu || !s.sd || !s.R || !s.unsafe || !s.base)
        goto nomem;
    if (tcat_split_kfold(y, n, FOLDS, seed ^ 0x737461636bull /* "stack" */, s.fold) != TCAT_OK)
        goto nomem;
    /* the pool rows in fold order: fold f is order[start[f] .. start[f+1]) */
    size_t start[FOLDS + 1] = {0}, at = 0;
    for (size_t f = 0; f < FOLDS; f++) {
        start[f] = at;
        for (size_t i = 0; i < n; i++)
            if (s.fold[i] == f)
                s.order[at++] = i;
    }
    start[FOLDS] = n;
    for (size_t r = 0; r < n; r++)
        s.yo[r] = y[s.order[r]];

    lr_problem lp = {s.X, s.yo, F, K, {0, 0}, {0, 0}, 0, 0, 0, s.Z};
    bool have_x = false;
    memset(s.W, 0, dim * sizeof *s.W);
    tcat_combiner fc = {.M = M, .K = K, .weight = NULL};
    double *fw = calloc(M, sizeof *fw);
    float *fW = malloc(K * (M * K + 1) * sizeof *fW);
    if (!fw || !fW) {
        free(fw);
        free(fW);
        goto nomem;
    }
    fc.weight = fw;
    fc.W = fW;
    for (size_t f = 0; f < FOLDS; f++) {
        size_t lo = start[f], hi = start[f + 1], nr = 0;
        if (lo == hi)
            continue;
        for (size_t r = 0; r < n; r++)
            if (r < lo || r >= hi)
                s.rows[nr++] = s.order[r];
        const size_t *held = s.order + lo;
        size_t nh = hi - lo;
        /* SINGLE */
        for (size_t m = 0; m < M; m++)
            s.mscore[m] = member_score(&c, s.amax + m * n, y, s.rows, nr, metric);
        size_t best = best_of(s.mscore, M);
        for (size_t r = 0; r < nh; r++)
            s.pred[TCAT_COMBINE_SINGLE][held[r]] = s.amax[best * n + held[r]];
        /* AVERAGE */
        select_greedy(proba, M, K, y, s.rows, nr, metric, max_members, best, s.mscore[best],
                      s.picks, s.best_picks, s.sum, s.unsafe, s.base, &c);
        for (size_t m = 0; m < M; m++)
            fw[m] = s.best_picks[m];
        fc.kind = TCAT_COMBINE_AVERAGE;
        tcat_combine_apply_rows(&fc, proba, held, nh, s.tmp);
        for (size_t r = 0; r < nh; r++)
            s.pred[TCAT_COMBINE_AVERAGE][held[r]] = (int32_t)tcat_argmax(s.tmp + r * K, K);
        /* STACK */
        top_members(s.mscore, M, S, s.mem);
        inputs_for(&s, proba, S, K, n, F, &have_x);
        fit_stacker(&lp, start, (int)f, s.W, s.lb); /* from the last fold's W */
        fc.kind = TCAT_COMBINE_STACK;
        unstandardise(s.W, K, F, s.mu, s.sd, s.R);
        put_stacker(&fc, s.R, s.mem, S);
        tcat_combine_apply_rows(&fc, proba, held, nh, s.tmp);
        for (size_t r = 0; r < nh; r++)
            s.pred[TCAT_COMBINE_STACK][held[r]] = (int32_t)tcat_argmax(s.tmp + r * K, K);
    }
    free(fw);
    free(fW);
    for (int k = 0; k < 3; k++) {
        counts_clear(&c);
        for (size_t i = 0; i < n; i++)
            counts_add(&c, y[i], (size_t)s.pred[k][i]);
        out->cv_score[k] = counts_score(&c, metric);
    }
    out->kind = TCAT_COMBINE_SINGLE;
    if (out->cv_score[TCAT_COMBINE_AVERAGE] > out->cv_score[out->kind] + 1e-12)
        out->kind = TCAT_COMBINE_AVERAGE;
    if (out->cv_score[TCAT_COMBINE_STACK] > out->cv_score[out->kind] + 1e-12)
        out->kind = TCAT_COMBINE_STACK;

    /* the winner, refitted on the whole pool */
    for (size_t i = 0; i < n; i++)
        s.rows[i] = i;
    for (size_t m = 0; m < M; m++)
        s.mscore[m] = member_score(&c, s.amax + m * n, y, s.rows, n, metric);
    size_t best = best_of(s.mscore, M);
    switch (out->kind) {
    case TCAT_COMBINE_SINGLE: out->weight[best] = 1; break;
    case TCAT_COMBINE_AVERAGE:
        select_greedy(proba, M, K, y, s.rows, n, metric, max_members, best, s.mscore[best],
                      s.picks, s.best_picks, s.sum, s.unsafe, s.base, &c);
        for (size_t m = 0; m < M; m++)
            out->weight[m] = s.best_picks[m];
        break;
    case TCAT_COMBINE_STACK:
        if (!(out->W = malloc(K * (M * K + 1) * sizeof *out->W)))
            goto nomem;
        top_members(s.mscore, M, S, s.mem);
        inputs_for(&s, proba, S, K, n, F, &have_x);
        out->l2 = fit_stacker(&lp, start, -1, s.W, s.lb); /* from the last fold's W */
        unstandardise(s.W, K, F, s.mu, s.sd, s.R);
        put_stacker(out, s.R, s.mem, S);
        break;
    }
    scratch_free(&s);
    return TCAT_OK;
nomem:
    scratch_free(&s);
    tcat_combine_free(out);
    return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
}

double tcat_combine_noise(const float *a, const float *b, size_t n, size_t K)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += tcat_argmax(a + i * K, K) != tcat_argmax(b + i * K, K);
    return n ? sqrt((double)d) / (double)n : 0.0;
}

void tcat_combine_free(tcat_combiner *c)
{
    if (!c)
        return;
    free(c->weight);
    free(c->W);
    memset(c, 0, sizeof *c);
}

tcat_status tcat_combine_copy(tcat_combiner *dst, const tcat_combiner *src, tcat_error *err)
{
    *dst = *src;
    dst->weight = malloc((src->M ? src->M : 1) * sizeof *dst->weight);
    dst->W = src->W ? malloc(src->K * (src->M * src->K + 1) * sizeof *dst->W) : NULL;
    if (!dst->weight || (src->W && !dst->W)) {
        free(dst->weight);
        free(dst->W);
        memset(dst, 0, sizeof *dst);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    memcpy(dst->weight, src->weight, src->M * sizeof *dst->weight);
    if (src->W)
        memcpy(dst->W, src->W, src->K * (src->M * src->K + 1) * sizeof *dst->W);
    return TCAT_OK;
}

tcat_status tcat_combine_compact(tcat_combiner *dst, const tcat_combiner *src, tcat_error *err)
{
    size_t K = src->K, used = 0;
    for (size_t m = 0; m < src->M; m++)
        used += src->weight[m] > 0;
    *dst = *src;
    dst->M = used;
    dst->weight = malloc((used ? used : 1) * sizeof *dst->weight);
    dst->W = src->W ? malloc(K * (used * K + 1) * sizeof *dst->W) : NULL;
    if (!dst->weight || (src->W && !dst->W)) {
        free(dst->weight);
        free(dst->W);
        memset(dst, 0, sizeof *dst);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    size_t FS = src->M * K + 1, FD = used * K + 1, u = 0;
    for (size_t m = 0; m < src->M; m++) {
        if (!(src->weight[m] > 0))
            continue;
        dst->weight[u] = src->weight[m];
        for (size_t k = 0; src->W && k < K; k++)
            memcpy(dst->W + k * FD + u * K, src->W + k * FS + m * K, K * sizeof *dst->W);
        u++;
    }
    for (size_t k = 0; src->W && k < K; k++)
        dst->W[k * FD + FD - 1] = src->W[k * FS + FS - 1];
    return TCAT_OK;
}

static const char *const kind_names[] = {"single", "average", "stack"};

const char *tcat_combine_kind_name(tcat_combine_kind k)
{
    return (unsigned)k < 3 ? kind_names[k] : "?";
}

bool tcat_combine_kind_parse(const char *name, tcat_combine_kind *out)
{
    for (int k = 0; name && k < 3; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (tcat_combine_kind)k;
            return true;
        }
    return false;
}

json_t *tcat_combine_to_json(const tcat_combiner *c)
{
    json_t *scores = json_object();
    json_t *o = scores ? json_pack("{s:s, s:I, s:I, s:o}", "kind", tcat_combine_kind_name(c->kind),
                                   "members", (json_int_t)c->M, "classes", (json_int_t)c->K,
                                   "cv_scores", scores)
                       : NULL;
    if (!o)
        return NULL;
    bool ok = true;
    for (int k = 0; k < 3; k++)
        if (c->cv_score[k] >= 0)
            ok &= !json_object_set_new(scores, kind_names[k], json_real(c->cv_score[k]));
    if (c->kind == TCAT_COMBINE_STACK)
        ok &= !json_object_set_new(o, "inputs", json_string("log")) &&
              !json_object_set_new(o, "eps", json_real(TCAT_STACK_EPS)) &&
              !json_object_set_new(o, "l2", json_real(c->l2));
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

tcat_status tcat_combine_from_json(tcat_combiner *out, const json_t *j, const double *weight,
                                   size_t M, size_t K, const void *W, size_t Wsize,
                                   tcat_error *err)
{
    memset(out, 0, sizeof *out);
    tcat_combine_kind kind;
    const json_t *jm = json_object_get(j, "members"), *jk = json_object_get(j, "classes");
    if (!json_is_object(j) ||
        !tcat_combine_kind_parse(json_string_value(json_object_get(j, "kind")), &kind))
        return tcat_fail(err, TCAT_ERR_MODEL, "the combiner has no known kind");
    if (!json_is_integer(jm) || json_integer_value(jm) != (json_int_t)M || !json_is_integer(jk) ||
        json_integer_value(jk) != (json_int_t)K)
        return tcat_fail(err, TCAT_ERR_MODEL,
                         "the combiner is not for %zu members of %zu classes", M, K);
    for (size_t m = 0; m < M; m++)
        if (!(weight[m] > 0) || !isfinite(weight[m]))
            return tcat_fail(err, TCAT_ERR_MODEL, "member %zu has a bad weight", m);
    if (kind == TCAT_COMBINE_SINGLE && M != 1)
        return tcat_fail(err, TCAT_ERR_MODEL, "a single-member combiner over %zu members", M);
    size_t FM = M * K + 1;
    if (kind == TCAT_COMBINE_STACK) {
        const char *in = json_string_value(json_object_get(j, "inputs"));
        const json_t *eps = json_object_get(j, "eps"), *l2 = json_object_get(j, "l2");
        if (!in || strcmp(in, "log") != 0 || !json_is_number(eps) ||
            json_number_value(eps) != TCAT_STACK_EPS || !json_is_number(l2))
            return tcat_fail(err, TCAT_ERR_MODEL,
                             "the stacker's inputs are not the log-probabilities this tcat "
                             "uses");
        if (!W)
            return tcat_fail(err, TCAT_ERR_MODEL, "the stacker's weights (section 'stack') "
                                                  "are missing");
        if (Wsize != K * FM * sizeof(float))
            return tcat_fail(err, TCAT_ERR_MODEL,
                             "the stacker's weights (section 'stack') have %zu bytes, expected "
                             "%zu (%zu x %zu floats)", Wsize, K * FM * sizeof(float), K, FM);
        out->l2 = json_number_value(l2);
    }
    out->kind = kind;
    out->M = M;
    out->K = K;
    out->cv_score[0] = out->cv_score[1] = out->cv_score[2] = -1;
    const json_t *scores = json_object_get(j, "cv_scores");
    for (int k = 0; k < 3; k++) {
        const json_t *v = json_object_get(scores, kind_names[k]);
        if (json_is_number(v))
            out->cv_score[k] = json_number_value(v);
    }
    out->weight = malloc((M ? M : 1) * sizeof *out->weight);
    if (kind == TCAT_COMBINE_STACK)
        out->W = malloc(K * FM * sizeof *out->W);
    if (!out->weight || (kind == TCAT_COMBINE_STACK && !out->W)) {
        tcat_combine_free(out);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    memcpy(out->weight, weight, M * sizeof *weight);
    if (kind == TCAT_COMBINE_STACK) {
        memcpy(out->W, W, K * FM * sizeof *out->W);
        for (size_t i = 0; i < K * FM; i++)
            if (!isfinite(out->W[i])) {
                tcat_combine_free(out);
                return tcat_fail(err, TCAT_ERR_MODEL, "the stacker's weight %zu is not finite",
                                 i);
            }
    }
    return TCAT_OK;
}

double tcat_stack_objective(const float *const *proba, size_t S, size_t n, size_t K,
                            const int32_t *y, double l2, const double *W, double *grad)
{
    size_t F = S * K + 1;
    double *X = malloc((n ? n : 1) * F * sizeof *X), *Z = malloc((n ? n : 1) * K * sizeof *Z);
    size_t *mem = malloc((S ? S : 1) * sizeof *mem);
    double f = NAN;
    if (X && Z && mem) {
        for (size_t s = 0; s < S; s++)
            mem[s] = s;
        build_inputs(X, proba, mem, S, K, NULL, n);
        lr_problem p = {X, y, F, K, {0, 0}, {n, 0}, 1, n, l2, Z};
        f = lr_eval(&p, W, grad);
    }
    free(X);
    free(Z);
    free(mem);
    return f;
}
