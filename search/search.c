#include "search/search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cache.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "corpora/split.h"
#include "embeddings/tensor.h"
#include "search/space.h"
#include "search/stack.h"
#include "search/thresholds.h"

/* ---- plans ----------------------------------------------------------------- */

static tcat_status plan_alloc(tcat_plan *p, size_t npairs, size_t npool)
{
    memset(p, 0, sizeof *p);
    p->fit = calloc(npairs, sizeof *p->fit);
    p->eval = calloc(npairs, sizeof *p->eval);
    p->pool_idx = malloc((npool ? npool : 1) * sizeof *p->pool_idx);
    if (!p->fit || !p->eval || !p->pool_idx) {
        tcat_plan_free(p);
        return TCAT_ERR_NOMEM;
    }
    p->npairs = npairs;
    p->npool = npool;
    return TCAT_OK;
}

tcat_status tcat_plan_holdout(tcat_plan *p, const tcat_corpus *c, const size_t *fit_idx,
                              size_t nfit, const size_t *eval_idx, size_t neval)
{
    if (plan_alloc(p, 1, neval) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    p->c = c;
    memcpy(p->pool_idx, eval_idx, neval * sizeof *eval_idx);
    p->fit[0] = (tcat_docs){c, fit_idx, nfit};
    p->eval[0] = (tcat_docs){c, p->pool_idx, neval};
    return TCAT_OK;
}

tcat_status tcat_plan_kfold(tcat_plan *p, const tcat_corpus *c, const size_t *idx, size_t n,
                            size_t k, uint64_t seed)
{
    int32_t *lab = malloc((n ? n : 1) * sizeof *lab);
    uint32_t *fold = malloc((n ? n : 1) * sizeof *fold);
    size_t *fit_all = malloc((n ? n : 1) * k * sizeof *fit_all);
    if (!lab || !fold || !fit_all || plan_alloc(p, k, n) != TCAT_OK) {
        free(lab);
        free(fold);
        free(fit_all);
        return TCAT_ERR_NOMEM;
    }
    p->c = c;
    for (size_t i = 0; i < n; i++)
        lab[i] = c->label[idx[i]];
    if (tcat_split_kfold(lab, n, k, seed, fold) != TCAT_OK) {
        free(lab);
        free(fold);
        free(fit_all);
        tcat_plan_free(p);
        return TCAT_ERR_NOMEM;
    }
    /* the pool lists fold 0's documents, then fold 1's, ...; the fit
     * lists live in one block owned through fit[0].idx */
    size_t at = 0;
    for (size_t f = 0; f < k; f++) {
        size_t start = at, nf = 0;
        size_t *fl = fit_all + f * n;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == f)
                p->pool_idx[at++] = idx[i];
            else
                fl[nf++] = idx[i];
        }
        p->eval[f] = (tcat_docs){c, p->pool_idx + start, at - start};
        p->fit[f] = (tcat_docs){c, fl, nf};
    }
    free(lab);
    free(fold);
    return TCAT_OK;
}

void tcat_plan_free(tcat_plan *p)
{
    /* a k-fold plan owns the block its fit lists live in (fit[0].idx);
     * a holdout plan borrows its fit list */
    if (p->npairs > 1 && p->fit)
        free((size_t *)p->fit[0].idx);
    free(p->fit);
    free(p->eval);
    free(p->pool_idx);
    memset(p, 0, sizeof *p);
}

/* ---- scoring ---------------------------------------------------------------- */

tcat_status tcat_search_score(const tcat_docs *docs, const float *proba, size_t K,
                              tcat_metrics *m, tcat_error *err)
{
    int32_t *truth = malloc((docs->n ? docs->n : 1) * sizeof *truth);
    int32_t *pred = malloc((docs->n ? docs->n : 1) * sizeof *pred);
    if (!truth || !pred) {
        free(truth);
        free(pred);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < docs->n; i++) {
        truth[i] = docs->c->label[tcat_docs_at(docs, i)];
        pred[i] = (int32_t)tcat_argmax(proba + i * K, K);
    }
    tcat_status st = tcat_metrics_compute(m, truth, pred, docs->n, K, err);
    free(truth);
    free(pred);
    return st;
}

tcat_status tcat_search_score_sets(const tcat_docs *docs, const float *proba, size_t K,
                                   tcat_metric metric, float *thr, tcat_metrics *m,
                                   tcat_error *err)
{
    uint8_t *truth = tcat_docs_targets(docs, K);
    if (!truth)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    tcat_status st = tcat_thresholds_score(proba, truth, docs->n, K, metric, thr, m, err);
    free(truth);
    return st;
}

/* docs scored by the search's metric: argmax, or label sets with
 * thresholds tuned on docs (thr: where to keep them, may be NULL). */
static tcat_status score_docs(const tcat_search_opts *o, const tcat_docs *docs,
                              const float *proba, size_t K, float *thr, tcat_metrics *m,
                              tcat_error *err)
{
    return o->multilabel ? tcat_search_score_sets(docs, proba, K, o->metric, thr, m, err)
                         : tcat_search_score(docs, proba, K, m, err);
}

static double pool_score(const tcat_search_opts *o, const tcat_plan *plan, const float *proba,
                         size_t K, float *thr, json_t **metrics_json, tcat_error *err,
                         tcat_status *st)
{
    tcat_docs pool = {plan->c, plan->pool_idx, plan->npool};
    tcat_metrics m = {0};
    *st = score_docs(o, &pool, proba, K, thr, &m, err);
    if (*st != TCAT_OK)
        return 0;
    double v = tcat_metrics_get(&m, o->metric);
    if (metrics_json)
        *metrics_json = tcat_metrics_to_json(&m, NULL);
    tcat_metrics_free(&m);
    return v;
}

/* ---- the search ------------------------------------------------------------- */

/* A stratified split of d (tcat_split_holdout): *held gets about share
 * of its documents, *kept the rest, both views over *idx (owned). */
static tcat_status split_docs(const tcat_docs *d, double share, uint64_t seed, tcat_docs *kept,
                              tcat_docs *held, size_t **idx)
{
    int32_t *y = tcat_docs_labels(d);
    size_t *k = NULL, *h = NULL, nk = 0, nh = 0;
    *idx = malloc((d->n ? d->n : 1) * sizeof **idx);
    tcat_status st = y && *idx ? tcat_split_holdout(y, d->n, share, seed, &k, &nk, &h, &nh)
                               : TCAT_ERR_NOMEM;
    if (st == TCAT_OK) {
        for (size_t i = 0; i < nk; i++)
            (*idx)[i] = tcat_docs_at(d, k[i]);
        for (size_t i = 0; i < nh; i++)
            (*idx)[nk + i] = tcat_docs_at(d, h[i]);
        *kept = (tcat_docs){d->c, *idx, nk};
        *held = (tcat_docs){d->c, *idx + nk, nh};
    } else {
        free(*idx);
        *idx = NULL;
    }
    free(y);
    free(k);
    free(h);
    return st;
}

/* For a family that early-stops on dev: 10% of fit (stratified) held out
 * as its dev, so the documents the candidate is scored on never choose its
 * epochs. *idx owns both lists. */
static tcat_status inner_split(const tcat_docs *fit, uint64_t seed, tcat_docs *train,
                               tcat_docs *dev, size_t **idx)
{
    return split_docs(fit, 0.1, seed ^ 0x696e6e6572ull, train, dev, idx);
}

/* Documents of d per class (K of them, calloc'd; NULL when out of
 * memory); with label sets, documents having each label. */
static size_t *class_counts(const tcat_docs *d, size_t K, bool sets)
{
    size_t *n = calloc(K ? K : 1, sizeof *n);
    for (size_t i = 0; n && i < d->n; i++) {
        size_t doc = tcat_docs_at(d, i);
        size_t lo = sets ? d->c->doc_label[doc] : 0, hi = sets ? d->c->doc_label[doc + 1] : 1;
        for (size_t j = lo; j < hi; j++) {
            int32_t y = sets ? d->c->labels[j] : d->c->label[doc];
            if (y >= 0 && (size_t)y < K)
                n[y]++;
        }
    }
    return n;
}

/* Balanced class weights for docs: n / (K n_k), so every class weighs
 * the same in the loss (a class absent from docs gets 1). With label
 * sets n_k counts the documents having label k, and a one-vs-all family
 * weighs label k's positive term by it. */
static double *balanced_weights(const tcat_docs *d, size_t K, bool sets)
{
    double *w = calloc(K, sizeof *w);
    size_t *n = class_counts(d, K, sets);
    if (!w || !n) {
        free(w);
        free(n);
        return NULL;
    }
    for (size_t k = 0; k < K; k++)
        w[k] = n[k] ? (double)d->n / ((double)K * (double)n[k]) : 1.0;
    free(n);
    return w;
}

/* One fit of candidate c on fit, predicting eval into proba; its fitted
 * hyperparameters in *fitted (new reference) when asked. */
static tcat_status fit_one(const tcat_search_opts *o, const tcat_candidate *c, size_t K,
                           const tcat_docs *fit_docs, const tcat_docs *eval, float *proba,
                           int threads, double deadline, tcat_cache *cache, json_t **fitted,
                           double *predict_seconds, tcat_error *err)
{
    const tcat_pipeline_ops *ops = tcat_pipeline_family(c->family);
    tcat_docs fit = *fit_docs, dev = *eval;
    size_t *inner = NULL;
    double *cw = NULL;
    tcat_status st = TCAT_OK;
    if (ops && ops->dev_selects && (st = inner_split(fit_docs, o->seed, &fit, &dev, &inner)))
        return tcat_fail(err, st, "out of memory");
    if (c->balanced && !(cw = balanced_weights(&fit, K, o->multilabel))) {
        free(inner);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    tcat_fit_opts fo = {threads, o->seed, deadline, cw, cache, o->vectors, o->unlabeled};
    tcat_pipeline *p = NULL;
    st = tcat_pipeline_create(&p, c->family, c->params, K, err);
    size_t need = st == TCAT_OK && o->max_memory ? tcat_pipeline_memory(p, &fit) : 0;
    if (need > o->max_memory)
        st = tcat_fail(err, TCAT_ERR_NOMEM,
                       "%s needs about %.1f MB to fit %zu documents, over --max-memory (%.1f MB)",
                       c->family, (double)need / 1048576, fit.n,
                       (double)o->max_memory / 1048576);
    if (st == TCAT_OK)
        st = tcat_pipeline_fit(p, &fit, &dev, &fo, err);
    double t = tcat_now();
    if (st == TCAT_OK)
        st = tcat_pipeline_predict_proba(p, eval, proba, threads, err);
    if (predict_seconds)
        *predict_seconds += tcat_now() - t;
    if (st == TCAT_OK && fitted && !(*fitted = json_deep_copy(tcat_pipeline_params(p))))
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    tcat_pipeline_free(&p);
    free(inner);
    free(cw);
    return st;
}

/* Rung r < RUNGS - 1 fits on a stratified share of fold 0's fit documents
 * and scores on fold 0's eval documents; the top rung is the whole plan. */
#define RUNGS 3
#define ETA 3
static const double rung_share[RUNGS - 1] = {1.0 / 9, 1.0 / 3};
#define MIN_RUNG_DOCS 300 /* fewer documents than this choose on noise */
/* Random settings drawn after the portfolio when --trials does not say:
 * enough for successive halving to find something, and a search of small
 * data ends long before its budget. */
#define MAX_RANDOM 60

/* Candidate c fitted on a stratified share of fold 0's fit documents
 * (the sample drawn with `salt`) and scored on fold 0's eval documents
 * into *score; with thr (K of them, multilabel) the thresholds tuned
 * there. */
static tcat_status evaluate_share(const tcat_search_opts *o, const tcat_plan *plan, size_t K,
                                  double share, uint64_t salt, tcat_candidate *c, int threads,
                                  double deadline, double *score, float *thr, tcat_error *err)
{
    const tcat_docs *f0 = &plan->fit[0], *e0 = &plan->eval[0];
    tcat_docs rest, sample;
    size_t *idx = NULL;
    float *proba = malloc((e0->n ? e0->n : 1) * K * sizeof *proba);
    tcat_status st = proba ? split_docs(f0, share, o->seed ^ salt, &rest, &sample, &idx)
                           : TCAT_ERR_NOMEM;
    if (st != TCAT_OK)
        st = tcat_fail(err, st, "out of memory");
    else
        st = fit_one(o, c, K, &sample, e0, proba, threads, deadline, NULL, NULL, NULL, err);
    if (st == TCAT_OK) {
        tcat_metrics m = {0};
        if ((st = score_docs(o, e0, proba, K, thr, &m, err)) == TCAT_OK)
            *score = tcat_metrics_get(&m, o->metric);
        tcat_metrics_free(&m);
    }
    free(idx);
    free(proba);
    return st;
}

/* Seeds a network is bagged over at the top rung of a k-fold plan, and
 * so in the model (pipelines/bag.h): the portfolio's CNN scored MPQA's
 * test at 0.798 to 0.838 macro-F1 over seeds 1-3, and out of fold 0.797
 * with one seed per fold against 0.816 as a bag of three. */
#define NET_BAG 3

/* The copies candidate c's top rung and refit fit: NET_BAG for a family
 * that early-stops (the networks, whose fits vary with the seed) on a
 * k-fold plan (small data, where they vary most and cost least), else 1;
 * a "bag" the candidate's settings give is kept. */
static size_t top_bag(const tcat_search_opts *o, const tcat_plan *plan, const tcat_candidate *c)
{
    const json_t *given = json_object_get(c->params, "bag");
    if (json_is_integer(given))
        return (size_t)json_integer_value(given);
    const tcat_pipeline_ops *ops = tcat_pipeline_family(c->family);
    bool net = ops && ops->dev_selects;
    return net && plan->npairs > 1 && !o->multilabel && o->min_throughput <= 0 ? NET_BAG : 1;
}

/* Candidate c at rung r: its score, and at the top rung its pool
 * probabilities and fitted hyperparameters. */
static tcat_status evaluate(const tcat_search_opts *o, const tcat_plan *plan, size_t K, int r,
                            tcat_candidate *c, int threads, double deadline, tcat_cache *cache,
                            bool *cut, tcat_error *err)
{
    tcat_status st = TCAT_OK;
    if (r < RUNGS - 1)
        return evaluate_share(o, plan, K, rung_share[r], (uint64_t)(r + 1), c, threads, deadline,
                              &c->rung_score[r], NULL, err);
    c->proba = malloc((plan->npool ? plan->npool : 1) * K * sizeof *c->proba);
    if (!c->proba)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    c->bag = top_bag(o, plan, c);
    if (c->bag > 1 && json_object_set_new(c->params, "bag", json_integer((json_int_t)c->bag)))
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    double log_t = 0, epochs = 0, pred_s = 0;
    size_t row = 0;
    json_t *last = NULL;
    double start = tcat_now();
    for (size_t f = 0; f < plan->npairs && st == TCAT_OK; f++) {
        /* a fold that would end past the deadline, at the pace of those
         * before it, is not started: the candidate goes unscored */
        if (tcat_pace_overruns(start, f, deadline)) {
            *cut = true;
            break;
        }
        json_decref(last);
        last = NULL;
        st = fit_one(o, c, K, &plan->fit[f], &plan->eval[f], c->proba + row * K, threads,
                     deadline, cache, &last, &pred_s, err);
        if (st != TCAT_OK)
            break;
        const json_t *tj = json_object_get(last, "temperature"), *ej = json_object_get(last, "epochs");
        log_t += log(tj ? json_number_value(tj) : 1.0);
        epochs += ej ? json_number_value(ej) : 0;
        row += plan->eval[f].n;
    }
    if (st == TCAT_OK && !*cut) {
        /* the refit uses the folds' mean temperature (geometric) and, for
         * early-stopped families, their mean best epoch */
        json_decref(c->params);
        c->params = last;
        last = NULL;
        json_object_set_new(c->params, "temperature", json_real(exp(log_t / (double)plan->npairs)));
        if (json_object_get(c->params, "epochs"))
            json_object_set_new(c->params, "epochs",
                                json_integer((json_int_t)fmax(
                                    1, floor(epochs / (double)plan->npairs + 0.5))));
        c->score = pool_score(o, plan, c->proba, K, NULL, NULL, err, &st);
        /* per thread: what one stream of predictions keeps up with */
        c->predict_rate = (double)plan->npool / fmax(pred_s * threads, 1e-6);
    }
    json_decref(last);
    return st;
}

/* The ensemble: search/stack.h chooses, out of fold, between the best
 * single candidate, a Caruana average and a stacker over the candidates
 * that reached the top rung (those fast enough, with min_throughput).
 * Sets picks, members, final_score (out-of-fold), the combiner and the
 * pool metrics of the chosen model. */
static tcat_status combine(const tcat_search_opts *o, const tcat_plan *plan, size_t K,
                           tcat_search *s, tcat_error *err)
{
    size_t n = plan->npool, M = 0;
    size_t *idx = malloc(s->ncand * sizeof *idx);
    const float **pp = malloc(s->ncand * sizeof *pp);
    int32_t *y = malloc((n ? n : 1) * sizeof *y);
    float *out = malloc((n ? n : 1) * K * sizeof *out);
    tcat_docs pool = {plan->c, plan->pool_idx, n};
    uint8_t *truth = o->multilabel ? tcat_docs_targets(&pool, K) : NULL;
    tcat_status st = idx && pp && y && out && (truth || !o->multilabel)
                         ? TCAT_OK
                         : tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == TCAT_OK && i < s->ncand; i++) {
        const tcat_candidate *c = &s->cands[i];
        bool fast = o->min_throughput <= 0 || (s->throughput_met ? c->predict_rate >= o->min_throughput
                                                                 : (long)i == s->best);
        if (c->done && fast) {
            idx[M] = i;
            pp[M++] = c->proba;
        }
    }
    for (size_t i = 0; st == TCAT_OK && i < n; i++)
        y[i] = plan->c->label[plan->pool_idx[i]];
    if (st == TCAT_OK)
        st = o->multilabel ? tcat_combine_choose_sets(&s->comb, pp, M, n, K, truth, o->metric,
                                                      o->max_members, o->seed, err)
                           : tcat_combine_choose(&s->comb, pp, M, n, K, y, o->metric,
                                                 o->max_members, o->seed, err);
    if (st == TCAT_OK) {
        s->has_comb = true;
        double inv_rate = 0, cost = 0;
        for (size_t j = 0; j < M; j++) {
            tcat_candidate *c = &s->cands[idx[j]];
            c->picks = (unsigned)lround(s->comb.weight[j]);
            if (c->picks) {
                s->members++;
                inv_rate += 1 / fmax(c->predict_rate, 1e-9);
                cost += c->top_seconds / (double)plan->npairs * 1.3;
            }
        }
        s->final_score = s->comb.cv_score[s->comb.kind];
        /* the chosen combination's pool probabilities (in-sample for an
         * ensemble): for the cost rule below and the pool metrics */
        tcat_combine_apply(&s->comb, pp, n, out);
        /* several members must keep up with min_throughput and their refit
         * fit in what is left of the budget; else the best alone */
        bool slow = o->min_throughput > 0 && 1 / inv_rate < o->min_throughput;
        /* an ensemble predicting over twice as slowly as the best single
         * candidate must beat it by more than the noise of the comparison
         * (tcat_combine_noise): on Subj an RNN joined three linear
         * members for +0.11 points out of fold, within that noise, and
         * cut predict throughput 20-fold */
        double factor = s->cands[s->best].predict_rate * inv_rate;
        if (!o->multilabel && s->members > 1 && factor > 2) {
            double noise = tcat_combine_noise(out, s->cands[s->best].proba, n, K);
            double gain = s->final_score - s->comb.cv_score[TCAT_COMBINE_SINGLE];
            if (gain <= noise) {
                s->costly = (tcat_costly){s->members, gain, noise, factor};
                slow = true;
            }
        }
        if (s->members > 1 && (slow || tcat_now() - o->t0 + cost > o->budget)) {
            for (size_t i = 0; i < s->ncand; i++)
                s->cands[i].picks = (long)i == s->best;
            s->final_score = s->cands[s->best].score;
            s->members = 1;
            tcat_combine_free(&s->comb);
            s->has_comb = false;
        }
        /* the pool metrics of the chosen model */
        if (!s->has_comb)
            memcpy(out, s->cands[s->best].proba, n * K * sizeof *out);
        if (o->multilabel && !(s->thresholds = malloc(K * sizeof *s->thresholds)))
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        if (st == TCAT_OK)
            pool_score(o, plan, out, K, s->thresholds, &s->best_metrics, err, &st);
    }
    free(truth);
    free(idx);
    free(pp);
    free(y);
    free(out);
    return st;
}

/* ---- the scheduler ---------------------------------------------------------

 * Candidates come from the space (search/space.h): the portfolio first,
 * then random settings cycling through the families. Each climbs rungs of
 * successive halving (ETA = 3): a stratified ninth of fold 0's fit
 * documents, a third, then the whole plan (every fold, all documents).
 * Rungs too small to choose by (< MIN_RUNG_DOCS documents) are skipped. A
 * portfolio setting is promoted while its next rung fits in the budget; a
 * random one only when its score is in the top third of all scores at its
 * rung so far (asynchronous successive halving's rule, Li et al. 2020,
 * applied in a fixed order so the result does not depend on timing).
 * Jobs (a candidate at a rung) run `par` at a time, each on threads/par
 * threads; results are applied in job order. */

typedef struct job {
    size_t cand;
    int rung;
    bool cut;        /* stopped between folds by the deadline: no score */
    tcat_status st;
    tcat_error err;
    double seconds;
} job;

typedef struct sched {
    const tcat_search_opts *o;
    const tcat_plan *plan;
    size_t K;
    tcat_search *s;
    job *jobs;
    size_t njobs;
    int threads_each;
    double deadline;
    tcat_cache **caches; /* one per parallel slot */
} sched;

static void run_job(void *ctx, int t)
{
    sched *S = ctx;
    if ((size_t)t >= S->njobs)
        return;
    job *j = &S->jobs[t];
    tcat_candidate *c = &S->s->cands[j->cand];
    double start = tcat_now();
    j->st = evaluate(S->o, S->plan, S->K, j->rung, c, S->threads_each, S->deadline,
                     c->portfolio ? S->caches[t] : NULL, &j->cut, &j->err);
    j->seconds = tcat_now() - start;
}

/* The rung a candidate starts at: the first with enough documents. */
static int first_rung(const tcat_plan *plan)
{
    for (int r = 0; r < RUNGS - 1; r++)
        if ((double)plan->fit[0].n * rung_share[r] >= MIN_RUNG_DOCS)
            return r;
    return RUNGS - 1;
}

/* Seconds the next rung of c should take, from what its last took. */
static double next_cost(const tcat_search_opts *o, const tcat_plan *plan, const tcat_candidate *c,
                        double last, int next)
{
    double share_now = c->rung < RUNGS - 1 ? rung_share[c->rung] : 1.0;
    double share_next = next < RUNGS - 1 ? rung_share[next] : 1.0;
    double fits = next == RUNGS - 1 ? (double)(plan->npairs * top_bag(o, plan, c)) : 1.0;
    return last * share_next / share_now * fits * 1.2;
}

/* What must fit in the budget for c to be promoted to rung next: the whole
 * rung, except for a known-good network's top rung, its first fold only.
 * A network's fit grows slower than its data (it stops after fewer epochs
 * on more): the portfolio CNN's bag took 130 s for ChnSentiCorp's five
 * folds, where the third of a fold (4.5 s) said 243 s, which never fitted
 * the 5 minute budget. The folds after the first run while their pace says
 * they end in time (evaluate), else the candidate goes unscored. */
static double first_fold_cost(const tcat_search_opts *o, const tcat_plan *plan,
                              const tcat_candidate *c, double last, int next)
{
    double cost = next_cost(o, plan, c, last, next);
    const tcat_pipeline_ops *ops = tcat_pipeline_family(c->family);
    if (next == RUNGS - 1 && c->portfolio && ops && ops->dev_selects)
        cost /= (double)plan->npairs;
    return cost;
}

/* True when c's score at rung r is in the top 1/ETA of all at that rung. */
static bool in_top(const tcat_search *s, size_t c, int r)
{
    size_t n = 0, better = 0;
    double mine = s->cands[c].rung_score[r];
    for (size_t i = 0; i < s->ncand; i++)
        if (s->cands[i].rung_seen[r]) {
            n++;
            better += s->cands[i].rung_score[r] > mine;
        }
    size_t keep = (n + ETA - 1) / ETA;
    return better < (keep ? keep : 1);
}

/* Family f's entry of a per-family array (TCAT_SPACE_MAX_FAMILIES + 1
 * entries, in the space's order; the last for a family it does not list). */
static double *family_slot(double *slots, const tcat_space *sp, const char *f)
{
    const char *const *fams = tcat_space_families(sp);
    size_t i = 0;
    while (fams[i] && strcmp(fams[i], f))
        i++;
    return &slots[fams[i] ? i : TCAT_SPACE_MAX_FAMILIES];
}

/* The registered name of family f when the search may try it, or NULL. */
static const char *allowed(const tcat_search_opts *o, const char *f)
{
    bool ok = !o->families;
    for (size_t i = 0; o->families && o->families[i]; i++)
        ok |= strcmp(o->families[i], f) == 0;
    const tcat_pipeline_ops *ops = tcat_pipeline_family(f);
    return ok && ops ? ops->family : NULL;
}

/* Appends a candidate of family with params (taken, even on failure):
 * the task key added, class weights drawn. False with *st on failure. */
static bool add_candidate(tcat_search *s, const tcat_search_opts *o, const char *family,
                          json_t *params, bool portfolio, tcat_rng *rng, size_t *cap,
                          tcat_status *st, tcat_error *err)
{
    if (!params) {
        *st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        return false;
    }
    if (s->ncand == *cap) {
        size_t ncap = *cap ? 2 * *cap : 32;
        tcat_candidate *nc = realloc(s->cands, ncap * sizeof *nc);
        if (!nc) {
            json_decref(params);
            *st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
            return false;
        }
        s->cands = nc;
        *cap = ncap;
    }
    if (o->multilabel && json_object_set_new(params, "multilabel", json_true()) != 0) {
        json_decref(params);
        *st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        return false;
    }
    tcat_candidate *c = &s->cands[s->ncand++];
    memset(c, 0, sizeof *c);
    c->family = family;
    c->params = params;
    c->portfolio = portfolio;
    c->rung = -1;
    c->balanced = o->class_weight == 1 ||
                  (o->class_weight < 0 && !portfolio && o->metric == TCAT_METRIC_MACRO_F1 &&
                   tcat_rng_below(rng, 2));
    return true;
}

/* Adds the next new candidate (portfolio, then random); false when there
 * is none (--trials reached, or nothing allowed). */
static bool new_candidate(tcat_search *s, const tcat_search_opts *o, const tcat_space *sp,
                          bool twins, size_t *port_next, size_t *rand_next, tcat_rng *rng,
                          size_t *cap, tcat_status *st, tcat_error *err)
{
    if (o->trials > 0 && s->ncand >= o->trials)
        return false;
    if (o->trials == 0 && *rand_next >= MAX_RANDOM)
        return false;
    const char *family = NULL;
    json_t *params = NULL;
    bool portfolio = false;
    if (o->fixed_family) {
        if (s->ncand > 0)
            return false;
        json_error_t je;
        if (!(params = json_loads(o->fixed_params ? o->fixed_params : "{}", 0, &je))) {
            *st = tcat_fail(err, TCAT_ERR_USAGE, "--params: not JSON: %s", je.text);
            return false;
        }
        const tcat_pipeline_ops *ops = tcat_pipeline_family(o->fixed_family);
        family = ops ? ops->family : NULL;
        portfolio = true;
    }
    /* the portfolio as given, then (twins) its cheap settings again with
     * balanced class weights */
    size_t P = tcat_space_portfolio_size(sp);
    bool twin = false;
    while (!family && *port_next < (twins ? 2 * P : P)) {
        const char *f;
        const json_t *p;
        size_t i = (*port_next)++;
        tcat_space_portfolio(sp, i % P, &f, &p);
        twin = i >= P;
        if ((!twin || tcat_space_cost(sp, f) <= 3) && (family = allowed(o, f))) {
            params = json_deep_copy(p);
            portfolio = true;
        }
    }
    const char *const *fams = tcat_space_families(sp);
    size_t nf = 0;
    while (fams[nf])
        nf++;
    for (size_t tries = 0; !family && nf && tries < nf; tries++) {
        const char *f = fams[(*rand_next)++ % nf];
        if ((family = allowed(o, f)))
            params = tcat_space_sample(sp, f, rng);
    }
    if (!family) {
        json_decref(params);
        return false;
    }
    if (!add_candidate(s, o, family, params, portfolio, rng, cap, st, err))
        return false;
    if (twin)
        s->cands[s->ncand - 1].balanced = true;
    return true;
}

/* True when the pool's classes are uneven enough (the largest over 1.5
 * times the smallest) that balanced class weights change a model: then
 * the cheap portfolio settings are tried with them too, when the metric
 * is macro-F1 and the class weights are searched. Measured on SST-1 (5
 * classes, 2.1:1): the best linear setting's 5-fold macro-F1 0.3768 ->
 * 0.3835 balanced, test 0.3983 -> 0.4085. */
static bool want_twins(const tcat_search_opts *o, const tcat_plan *plan, size_t K)
{
    if (o->class_weight >= 0 || o->metric != TCAT_METRIC_MACRO_F1 || o->multilabel ||
        o->fixed_family)
        return false;
    tcat_docs pool = {plan->c, plan->pool_idx, plan->npool};
    size_t *n = class_counts(&pool, K, false);
    if (!n)
        return false;
    size_t lo = SIZE_MAX, hi = 0;
    for (size_t k = 0; k < K; k++) {
        lo = n[k] < lo ? n[k] : lo;
        hi = n[k] > hi ? n[k] : hi;
    }
    free(n);
    return (double)hi > 1.5 * (double)lo;
}

/* When no candidate reached the top rung within the budget (a budget
 * too short for the data): the model is the candidate that did best on
 * a sample (the highest lower rung reached), or, when nothing was scored
 * at all, the cheapest allowed known-good setting fitted now on a sample
 * of FALLBACK_DOCS documents of fold 0, without a deadline: past the
 * budget, a small model is better than none. The refit then uses a
 * sample of the same share (s->sample_share) and may take twice what the
 * sample took, so the model comes soon after the budget at worst. */
#define FALLBACK_DOCS 1000
static tcat_status sample_fallback(tcat_search *s, const tcat_search_opts *o,
                                   const tcat_plan *plan, size_t K, const tcat_space *sp,
                                   tcat_rng *rng, size_t *cap, tcat_error *err)
{
    long best = -1;
    int br = -1;
    for (size_t i = 0; i < s->ncand; i++) {
        const tcat_candidate *c = &s->cands[i];
        for (int r = RUNGS - 2; r >= 0; r--)
            if (c->rung_seen[r] && (r > br || (r == br && c->rung_score[r] >
                                                            s->cands[best].rung_score[r]))) {
                best = (long)i;
                br = r;
                break;
            }
    }
    tcat_status st = TCAT_OK;
    double share;
    if (best >= 0) {
        share = rung_share[br];
        s->cands[best].score = s->cands[best].rung_score[br];
        if (o->multilabel) /* its thresholds: tuned where it was scored */
            st = evaluate_share(o, plan, K, share, (uint64_t)(br + 1), &s->cands[best], o->threads,
                                o->t0 + o->budget * 0.97, &s->cands[best].score,
                                s->thresholds, err);
    } else {
        const char *family = NULL;
        const json_t *params = NULL;
        double cost = INFINITY;
        for (size_t i = 0; i < tcat_space_portfolio_size(sp); i++) {
            const char *f;
            const json_t *p;
            tcat_space_portfolio(sp, i, &f, &p);
            if (allowed(o, f) && tcat_space_cost(sp, f) < cost) {
                family = allowed(o, f);
                params = p;
                cost = tcat_space_cost(sp, f);
            }
        }
        json_t *fixed = NULL;
        if (o->fixed_family) { /* the one candidate asked for */
            family = tcat_pipeline_family(o->fixed_family)->family;
            params = fixed = json_loads(o->fixed_params ? o->fixed_params : "{}", 0, NULL);
        }
        if (!family || !params) {
            json_decref(fixed);
            return tcat_fail(err, TCAT_ERR_USAGE, "no model family to fit");
        }
        if (!add_candidate(s, o, family, json_deep_copy(params), true, rng, cap, &st, err)) {
            json_decref(fixed);
            return st;
        }
        json_decref(fixed);
        best = (long)s->ncand - 1;
        share = fmin(1.0, (double)FALLBACK_DOCS / (double)(plan->fit[0].n ? plan->fit[0].n : 1));
        /* no deadline: a model must come out, and the cheapest family on
         * 1000 documents takes a moment */
        double t = tcat_now();
        st = evaluate_share(o, plan, K, share, 0x66616c6cull /* "fall" */, &s->cands[best],
                            o->threads, 0, &s->cands[best].score, s->thresholds, err);
        s->cands[best].seconds = tcat_now() - t;
    }
    if (st == TCAT_ERR_NOMEM) { /* even the smallest model is over the cap */
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return tcat_fail(err, TCAT_ERR_USAGE, "nothing fits in the memory allowed: %s", why);
    }
    if (st != TCAT_OK)
        return st;
    s->best = best;
    s->sample_share = share;
    s->cands[best].picks = 1;
    s->members = 1;
    s->final_score = s->cands[best].score;
    return TCAT_OK;
}

tcat_status tcat_search_run(tcat_search *s, const tcat_search_opts *o, const tcat_plan *plan,
                            size_t K, tcat_error *err)
{
    memset(s, 0, sizeof *s);
    s->best = -1;
    if (o->fixed_family && !tcat_pipeline_family(o->fixed_family))
        return tcat_fail(err, TCAT_ERR_USAGE, "unknown model family '%s'", o->fixed_family);
    tcat_space *sp = NULL;
    tcat_status st = tcat_space_default(&sp, err);
    if (st != TCAT_OK)
        return st;
    int par = o->threads > 1 ? o->threads : 1;
    if (o->fixed_family)
        par = 1;
    sched S = {o, plan, K, s, calloc((size_t)par, sizeof(job)), 0,
               o->threads / par > 0 ? o->threads / par : 1, o->t0 + o->budget * 0.85,
               calloc((size_t)par, sizeof(tcat_cache *))};
    tcat_rng rng;
    tcat_rng_seed(&rng, o->seed ^ 0x7365617263ull);
    size_t cap = 0, port_next = 0, rand_next = 0;
    if (!S.jobs || !S.caches)
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    for (int t = 0; t < par && st == TCAT_OK; t++)
        if (tcat_cache_new(&S.caches[t]) != TCAT_OK)
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    int r0 = first_rung(plan);
    bool more_new = true, twins = want_twins(o, plan, K);
    /* reserve for the refit: about one fit of each likely member */
    double refit_reserve = 0;
    /* seconds the first rung took, per family (to judge whether a new
     * candidate still fits) */
    double fam_first[TCAT_SPACE_MAX_FAMILIES + 1] = {0};
    while (st == TCAT_OK) {
        double now = tcat_now(), end = S.deadline - refit_reserve;
        /* this round's jobs: promotions first (highest rung, then in
         * candidate order), then new candidates */
        S.njobs = 0;
        for (int r = RUNGS - 2; r >= -1 && S.njobs < (size_t)par; r--)
            for (size_t i = 0; i < s->ncand && S.njobs < (size_t)par; i++) {
                tcat_candidate *c = &s->cands[i];
                if (c->rung != r || !c->promote)
                    continue;
                c->promote = false;
                S.jobs[S.njobs++] = (job){.cand = i, .rung = c->next_rung};
            }
        while (more_new && S.njobs < (size_t)par && now < end) {
            if (!(more_new = new_candidate(s, o, sp, twins, &port_next, &rand_next, &rng, &cap,
                                           &st, err)))
                break;
            tcat_candidate *c = &s->cands[s->ncand - 1];
            /* cheap known-good settings go straight to the top rung */
            int r = c->portfolio && tcat_space_cost(sp, c->family) <= 3 ? RUNGS - 1 : r0;
            if (r < RUNGS - 1 && now + *family_slot(fam_first, sp, c->family) > end) {
                c->rung = -2; /* would not finish: never started */
                continue;
            }
            S.jobs[S.njobs++] = (job){.cand = s->ncand - 1, .rung = r};
        }
        if (st != TCAT_OK || S.njobs == 0)
            break;
        tcat_parallel(par, run_job, &S);
        bool late = tcat_now() > S.deadline;
        for (size_t q = 0; q < S.njobs && st == TCAT_OK; q++) {
            job *j = &S.jobs[q];
            tcat_candidate *c = &s->cands[j->cand];
            if (j->st == TCAT_ERR_NOMEM) {
                /* over --max-memory, or the machine's: this candidate is
                 * dropped, the search goes on */
                c->seconds += j->seconds;
                c->rung = -3;
                c->promote = false;
                free(c->proba);
                c->proba = NULL;
                s->out_of_memory++;
                if (!s->memory_note[0])
                    snprintf(s->memory_note, sizeof s->memory_note, "%s", j->err.msg);
                continue;
            }
            if (j->st != TCAT_OK) {
                st = j->st;
                *err = j->err;
                break;
            }
            c->seconds += j->seconds;
            if (j->cut || (late && (j->rung < RUNGS - 1 || s->best >= 0))) {
                /* cut short by the deadline: its score says nothing */
                free(c->proba);
                c->proba = NULL;
                continue;
            }
            c->rung = j->rung;
            if (j->rung < RUNGS - 1) {
                c->rung_seen[j->rung] = true;
                double *first = family_slot(fam_first, sp, c->family);
                if (j->rung == r0 && j->seconds > *first)
                    *first = j->seconds;
            } else {
                c->top_seconds = j->seconds;
                c->done = true;
                if (s->best < 0 || c->score > s->cands[s->best].score)
                    s->best = (long)j->cand;
            }
            if (o->progress)
                o->progress(o->ctx, j->cand, c);
        }
        if (st != TCAT_OK || late)
            break;
        /* promotions, in job order */
        now = tcat_now();
        refit_reserve = 0;
        if (s->best >= 0)
            refit_reserve = s->cands[s->best].top_seconds / (double)plan->npairs * 1.3;
        end = S.deadline - refit_reserve;
        for (size_t q = 0; q < S.njobs; q++) {
            job *j = &S.jobs[q];
            tcat_candidate *c = &s->cands[j->cand];
            if (j->rung >= RUNGS - 1 || c->rung != j->rung)
                continue;
            int next = j->rung + 1;
            while (next < RUNGS - 1 && (double)plan->fit[0].n * rung_share[next] < MIN_RUNG_DOCS)
                next++;
            bool fits = now + first_fold_cost(o, plan, c, j->seconds, next) < end;
            if (fits && (c->portfolio || in_top(s, j->cand, j->rung))) {
                c->promote = true;
                c->next_rung = next;
            }
        }
        /* nothing pending and nothing new: done */
        bool pending = false;
        for (size_t i = 0; i < s->ncand; i++)
            pending |= s->cands[i].promote;
        if (!pending && (!more_new || tcat_now() >= end))
            break;
    }
    for (int t = 0; S.caches && t < par; t++)
        tcat_cache_free(&S.caches[t]);
    free(S.caches);
    free(S.jobs);
    bool sampled = false;
    if (st == TCAT_OK && s->best < 0) {
        if (o->multilabel && !(s->thresholds = malloc(K * sizeof *s->thresholds)))
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        if (st == TCAT_OK)
            st = sample_fallback(s, o, plan, K, sp, &rng, &cap, err);
        sampled = st == TCAT_OK;
    }
    tcat_space_free(&sp);
    if (st == TCAT_OK && !sampled && o->min_throughput > 0) {
        /* the best of those fast enough; when none is, the fastest */
        long fast = -1, fastest = -1;
        for (size_t i = 0; i < s->ncand; i++) {
            const tcat_candidate *c = &s->cands[i];
            if (!c->done)
                continue;
            if (c->predict_rate >= o->min_throughput &&
                (fast < 0 || c->score > s->cands[fast].score))
                fast = (long)i;
            if (fastest < 0 || c->predict_rate > s->cands[fastest].predict_rate)
                fastest = (long)i;
        }
        s->best = fast >= 0 ? fast : fastest;
        s->throughput_met = fast >= 0;
    }
    if (st == TCAT_OK && !sampled)
        st = combine(o, plan, K, s, err);
    if (st != TCAT_OK)
        tcat_search_free(s);
    return st;
}

tcat_status tcat_search_refit(const tcat_search *s, const tcat_search_opts *o,
                              const tcat_docs *docs, size_t K, tcat_model *model,
                              tcat_error *err)
{
    tcat_cache *cache = NULL;
    if (tcat_cache_new(&cache) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    /* the refit must end within the budget too (writing the file is quick) */
    tcat_fit_opts fo = {o->threads, o->seed, o->t0 + o->budget * 0.99, NULL, cache, o->vectors,
                        o->unlabeled};
    if (s->sample_share > 0)
        fo.deadline = fmax(fo.deadline, tcat_now() + 2 * s->cands[s->best].seconds);
    /* a search that only fitted samples refits on a sample of that share */
    tcat_docs sample = *docs;
    size_t *keep = NULL, *held = NULL, nkeep = 0, nheld = 0;
    int32_t *y = NULL;
    tcat_status st = TCAT_OK;
    if (s->sample_share > 0 && s->sample_share < 1) {
        if (!(y = tcat_docs_labels(docs)) ||
            tcat_split_holdout(y, docs->n, s->sample_share, o->seed ^ 0x726566ull, &keep, &nkeep,
                               &held, &nheld) != TCAT_OK)
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        for (size_t i = 0; st == TCAT_OK && i < nheld; i++)
            held[i] = tcat_docs_at(docs, held[i]);
        sample = (tcat_docs){docs->c, held, nheld};
    }
    docs = &sample;
    double *cw = st == TCAT_OK ? balanced_weights(docs, K, o->multilabel) : NULL;
    if (st == TCAT_OK && !cw)
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    tcat_pipeline **fitted = st == TCAT_OK ? calloc(s->ncand, sizeof *fitted) : NULL;
    if (st == TCAT_OK && !fitted)
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    /* single models first, then bags: a bag leaves out the copies that
     * would overrun the deadline, a single model cannot */
    for (int pass = 0; pass < 2 && st == TCAT_OK; pass++) {
        for (size_t i = 0; i < s->ncand && st == TCAT_OK; i++) {
            const tcat_candidate *c = &s->cands[i];
            if (!c->picks || (c->bag > 1) != (pass == 1))
                continue;
            fo.class_weight = c->balanced ? cw : NULL;
            st = tcat_pipeline_create(&fitted[i], c->family, c->params, K, err);
            if (st == TCAT_OK)
                st = tcat_pipeline_fit(fitted[i], docs, NULL, &fo, err);
        }
    }
    for (size_t i = 0; i < s->ncand && st == TCAT_OK; i++) {
        const tcat_candidate *c = &s->cands[i];
        if (!c->picks)
            continue;
        tcat_pipeline *p = fitted[i];
        fitted[i] = NULL;
        json_t *scores = json_pack("{s:s, s:f}", "metric", tcat_metric_name(o->metric), "heldout",
                                   c->score);
        if (scores) {
            /* (no timings here: the file must not depend on the clock) */
            json_object_set_new(scores, "class_weight",
                                json_string(c->balanced ? "balanced" : "none"));
        }
        st = tcat_model_add_member(model, p, (double)c->picks, scores, err);
    }
    /* members were added in candidate order, as the combiner lists them */
    if (st == TCAT_OK && s->has_comb)
        st = tcat_model_set_combiner(model, &s->comb, err);
    if (st == TCAT_OK && s->thresholds)
        st = tcat_model_set_thresholds(model, s->thresholds, K, err);
    for (size_t i = 0; fitted && i < s->ncand; i++)
        tcat_pipeline_free(&fitted[i]);
    free(fitted);
    free(y);
    free(keep);
    free(held);
    free(cw);
    tcat_cache_free(&cache);
    return st;
}

void tcat_search_free(tcat_search *s)
{
    for (size_t i = 0; s->cands && i < s->ncand; i++) {
        json_decref(s->cands[i].params);
        free(s->cands[i].proba);
    }
    free(s->cands);
    if (s->has_comb)
        tcat_combine_free(&s->comb);
    json_decref(s->best_metrics);
    free(s->thresholds);
    memset(s, 0, sizeof *s);
}
