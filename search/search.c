#include "search/search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/cache.h"
#include "corpora/split.h"

/* The portfolio, tried in this order: cheap and diverse candidates first
 * (linear word n-grams, then word and char n-grams, then chars for
 * unsegmented scripts), the fastText-style family with settings known to
 * do well on short texts (Joulin et al. 2017: word bigrams, many epochs;
 * char n-grams), and logistic regression last because L-BFGS is the
 * slowest. Model files stay small: at most 300k n-grams of each kind
 * (the most frequent), fastText buckets at 500k. */
typedef struct entry {
    const char *family, *params;
} entry;

static const entry portfolio[] = {
    {"linear", "{\"max_features\":300000,\"word_ngrams\":2,\"min_df\":1,\"learner\":\"svm\",\"C\":0.3}"},
    {"linear", "{\"max_features\":300000,\"word_ngrams\":2,\"min_df\":1,\"learner\":\"svm\",\"C\":1}"},
    {"linear", "{\"max_features\":300000,\"word_ngrams\":2,\"char_min\":2,\"char_max\":5,\"min_df\":2,\"learner\":\"svm\",\"C\":0.3}"},
    {"linear", "{\"max_features\":300000,\"word_ngrams\":2,\"char_min\":2,\"char_max\":5,\"min_df\":2,\"learner\":\"svm\",\"C\":1}"},
    {"linear", "{\"max_features\":300000,\"word_ngrams\":2,\"min_df\":1,\"learner\":\"nbsvm\",\"C\":0.3}"},
    {"fasttext", "{\"epoch\":25,\"lr\":0.5,\"word_ngrams\":2,\"bucket\":500000}"},
    {"linear", "{\"max_features\":300000,\"word_ngrams\":2,\"min_df\":1,\"learner\":\"svm\",\"C\":3}"},
    {"linear", "{\"max_features\":300000,\"word_ngrams\":2,\"min_df\":1,\"learner\":\"svm\",\"C\":0.1}"},
    {"linear", "{\"max_features\":300000,\"word_ngrams\":1,\"char_min\":1,\"char_max\":3,\"min_df\":2,\"learner\":\"svm\",\"C\":0.3}"},
    {"linear", "{\"max_features\":300000,\"word_ngrams\":1,\"char_min\":1,\"char_max\":3,\"min_df\":2,\"learner\":\"svm\",\"C\":1}"},
    {"fasttext", "{\"epoch\":15,\"lr\":0.3,\"minn\":2,\"maxn\":4,\"bucket\":500000}"},
    {"linear", "{\"max_features\":300000,\"word_ngrams\":2,\"char_min\":2,\"char_max\":5,\"min_df\":2,\"learner\":\"nbsvm\",\"C\":0.3}"},
    {"linear", "{\"max_features\":300000,\"word_ngrams\":2,\"min_df\":1,\"learner\":\"logreg\",\"C\":30,\"max_iter\":100}"},
    {"linear", "{\"max_features\":300000,\"word_ngrams\":2,\"char_min\":2,\"char_max\":5,\"min_df\":2,\"learner\":\"logreg\",\"C\":30,\"max_iter\":100}"},
};

size_t tcat_search_portfolio_size(void) { return sizeof portfolio / sizeof *portfolio; }

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
        const float *r = proba + i * K;
        size_t best = 0;
        for (size_t k = 1; k < K; k++)
            if (r[k] > r[best])
                best = k;
        pred[i] = (int32_t)best;
    }
    tcat_status st = tcat_metrics_compute(m, truth, pred, docs->n, K, err);
    free(truth);
    free(pred);
    return st;
}

static double pool_score(const tcat_plan *plan, const float *proba, size_t K, tcat_metric metric,
                         json_t **metrics_json, tcat_error *err, tcat_status *st)
{
    tcat_docs pool = {plan->c, plan->pool_idx, plan->npool};
    tcat_metrics m = {0};
    *st = tcat_search_score(&pool, proba, K, &m, err);
    if (*st != TCAT_OK)
        return 0;
    double v = tcat_metrics_get(&m, metric);
    if (metrics_json)
        *metrics_json = tcat_metrics_to_json(&m, NULL);
    tcat_metrics_free(&m);
    return v;
}

/* ---- the search ------------------------------------------------------------- */

/* For a family that early-stops on dev: 10% of fit (stratified) held out
 * as its dev, so the documents the candidate is scored on never choose its
 * epochs. *idx owns both lists. */
static tcat_status inner_split(const tcat_docs *fit, uint64_t seed, tcat_docs *train,
                               tcat_docs *dev, size_t **idx)
{
    int32_t *y = tcat_docs_labels(fit);
    size_t *keep = NULL, *held = NULL, nkeep = 0, nheld = 0;
    *idx = malloc((fit->n ? fit->n : 1) * sizeof **idx);
    tcat_status st = y && *idx ? tcat_split_holdout(y, fit->n, 0.1, seed ^ 0x696e6e6572ull, &keep,
                                                    &nkeep, &held, &nheld)
                               : TCAT_ERR_NOMEM;
    if (st == TCAT_OK) {
        for (size_t i = 0; i < nkeep; i++)
            (*idx)[i] = tcat_docs_at(fit, keep[i]);
        for (size_t i = 0; i < nheld; i++)
            (*idx)[nkeep + i] = tcat_docs_at(fit, held[i]);
        *train = (tcat_docs){fit->c, *idx, nkeep};
        *dev = (tcat_docs){fit->c, *idx + nkeep, nheld};
    } else {
        free(*idx);
        *idx = NULL;
    }
    free(y);
    free(keep);
    free(held);
    return st;
}

/* Fits candidate i on every pair of the plan; its pool probabilities go
 * to c->proba. */
static tcat_status evaluate(const tcat_search_opts *o, const tcat_plan *plan, size_t K,
                            const entry *e, tcat_cache *cache, tcat_candidate *c,
                            tcat_error *err)
{
    json_error_t je;
    json_t *params = json_loads(e->params, 0, &je);
    if (!params)
        return tcat_fail(err, TCAT_ERR_USAGE, "hyperparameters are not a JSON object: %s", je.text);
    c->family = e->family;
    c->proba = malloc((plan->npool ? plan->npool : 1) * K * sizeof *c->proba);
    if (!c->proba) {
        json_decref(params);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    double log_t = 0, epochs = 0;
    size_t row = 0;
    tcat_status st = TCAT_OK;
    const tcat_pipeline_ops *ops = tcat_pipeline_family(c->family);
    for (size_t f = 0; f < plan->npairs && st == TCAT_OK; f++) {
        tcat_pipeline *p = NULL;
        tcat_fit_opts fo = {o->threads, o->seed, o->t0 + o->budget * 0.85, NULL, cache,
                            o->vectors, o->unlabeled};
        tcat_docs fit = plan->fit[f], dev = plan->eval[f];
        size_t *inner = NULL;
        if (ops && ops->dev_selects && (st = inner_split(&plan->fit[f], o->seed, &fit, &dev,
                                                         &inner)) != TCAT_OK) {
            st = tcat_fail(err, st, "out of memory");
            break;
        }
        st = tcat_pipeline_create(&p, c->family, params, K, err);
        if (st == TCAT_OK)
            st = tcat_pipeline_fit(p, &fit, &dev, &fo, err);
        free(inner);
        if (st == TCAT_OK)
            st = tcat_pipeline_predict_proba(p, &plan->eval[f], c->proba + row * K, o->threads,
                                             err);
        if (st == TCAT_OK) {
            const json_t *t = json_object_get(tcat_pipeline_params(p), "temperature");
            const json_t *ep = json_object_get(tcat_pipeline_params(p), "epochs");
            log_t += log(t ? json_number_value(t) : 1.0);
            epochs += ep ? json_number_value(ep) : 0;
            if (f == plan->npairs - 1) {
                /* the refit uses the folds' mean temperature (geometric)
                 * and, for early-stopped families, their mean best epoch */
                c->params = json_deep_copy(tcat_pipeline_params(p));
                if (c->params)
                    json_object_set_new(c->params, "temperature",
                                        json_real(exp(log_t / (double)plan->npairs)));
                if (c->params && ep)
                    json_object_set_new(c->params, "epochs",
                                        json_integer((json_int_t)fmax(
                                            1, floor(epochs / (double)plan->npairs + 0.5))));
            }
        }
        row += plan->eval[f].n;
        tcat_pipeline_free(&p);
    }
    json_decref(params);
    if (st == TCAT_OK && !c->params)
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    return st;
}

/* Greedy ensemble selection with replacement over the pool predictions;
 * sets picks and returns the score of the best prefix. */
static double select_ensemble(const tcat_search_opts *o, const tcat_plan *plan, size_t K,
                              tcat_search *s, tcat_error *err, tcat_status *st)
{
    size_t cells = plan->npool * K, n = s->ncand;
    float *sum = malloc((cells ? cells : 1) * sizeof *sum);
    float *trial = malloc((cells ? cells : 1) * sizeof *trial);
    unsigned *picks = calloc(n, sizeof *picks), *best_picks = calloc(n, sizeof *best_picks);
    double best_score = s->cands[s->best].score;
    if (!sum || !trial || !picks || !best_picks) {
        *st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        goto done;
    }
    memcpy(sum, s->cands[s->best].proba, cells * sizeof *sum);
    picks[s->best] = best_picks[s->best] = 1;
    for (unsigned step = 2; step <= 16; step++) {
        size_t distinct = 0;
        for (size_t i = 0; i < n; i++)
            distinct += picks[i] > 0;
        long pick = -1;
        double pick_score = -1;
        for (size_t i = 0; i < n; i++) {
            if (!s->cands[i].done || (!picks[i] && distinct >= o->max_members))
                continue;
            for (size_t j = 0; j < cells; j++)
                trial[j] = sum[j] + s->cands[i].proba[j];
            double sc = pool_score(plan, trial, K, o->metric, NULL, err, st);
            if (*st != TCAT_OK)
                goto done;
            if (sc > pick_score) {
                pick_score = sc;
                pick = (long)i;
            }
        }
        if (pick < 0)
            break;
        for (size_t j = 0; j < cells; j++)
            sum[j] += s->cands[pick].proba[j];
        picks[pick]++;
        if (pick_score > best_score + 1e-12) {
            best_score = pick_score;
            memcpy(best_picks, picks, n * sizeof *picks);
        }
    }
    for (size_t i = 0; i < n; i++)
        s->cands[i].picks = best_picks[i];
done:
    if (*st != TCAT_OK || !best_picks)
        for (size_t i = 0; i < n; i++)
            s->cands[i].picks = (long)i == s->best;
    free(sum);
    free(trial);
    free(picks);
    free(best_picks);
    return best_score;
}

tcat_status tcat_search_run(tcat_search *s, const tcat_search_opts *o, const tcat_plan *plan,
                            size_t K, tcat_error *err)
{
    memset(s, 0, sizeof *s);
    s->best = -1;
    /* the portfolio entries of the allowed families, in order, or the
     * one fixed candidate */
    const entry *which[sizeof portfolio / sizeof *portfolio];
    entry fixed = {o->fixed_family, o->fixed_params};
    if (o->fixed_family) {
        if (!tcat_pipeline_family(o->fixed_family))
            return tcat_fail(err, TCAT_ERR_USAGE, "unknown model family '%s'", o->fixed_family);
        which[s->ncand++] = &fixed;
    }
    for (size_t i = 0; !o->fixed_family && i < tcat_search_portfolio_size(); i++) {
        bool ok = !o->families;
        for (size_t f = 0; o->families && o->families[f]; f++)
            ok |= strcmp(o->families[f], portfolio[i].family) == 0;
        if (ok)
            which[s->ncand++] = &portfolio[i];
    }
    if (s->ncand == 0)
        return tcat_fail(err, TCAT_ERR_USAGE, "no candidate of the families asked for");
    if (o->trials > 0 && o->trials < s->ncand)
        s->ncand = o->trials;
    s->cands = calloc(s->ncand, sizeof *s->cands);
    tcat_cache *cache = NULL;
    if (!s->cands || tcat_cache_new(&cache) != TCAT_OK) {
        tcat_search_free(s);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    tcat_status st = TCAT_OK;
    double slowest = 0;
    for (size_t i = 0; i < s->ncand && st == TCAT_OK; i++) {
        double start = tcat_now();
        /* the refit on all documents costs about one fit per fold: keep
         * room for it and for one more candidate as slow as the slowest */
        double refit = slowest / (double)plan->npairs * 1.5;
        if (s->best >= 0 && start - o->t0 + slowest + refit > o->budget * 0.9)
            break;
        tcat_candidate *c = &s->cands[i];
        st = evaluate(o, plan, K, which[i], cache, c, err);
        if (st != TCAT_OK)
            break;
        c->score = pool_score(plan, c->proba, K, o->metric, NULL, err, &st);
        if (st != TCAT_OK)
            break;
        c->seconds = tcat_now() - start;
        c->done = true;
        if (c->seconds > slowest)
            slowest = c->seconds;
        if (s->best < 0 || c->score > s->cands[s->best].score)
            s->best = (long)i;
        if (o->progress)
            o->progress(o->ctx, i, c);
    }
    tcat_cache_free(&cache);
    if (st == TCAT_OK && s->best < 0)
        st = tcat_fail(err, TCAT_ERR_LIBRARY, "no candidate could be fitted");
    if (st == TCAT_OK)
        s->final_score = select_ensemble(o, plan, K, s, err, &st);
    if (st == TCAT_OK) {
        /* the refit of several members must fit in what is left */
        double cost = 0;
        for (size_t i = 0; i < s->ncand; i++)
            if (s->cands[i].picks) {
                cost += s->cands[i].seconds / (double)plan->npairs * 1.5;
                s->members++;
            }
        if (s->members > 1 && tcat_now() - o->t0 + cost > o->budget) {
            for (size_t i = 0; i < s->ncand; i++)
                s->cands[i].picks = (long)i == s->best;
            s->final_score = s->cands[s->best].score;
            s->members = 1;
        }
        /* the pool metrics of the chosen model */
        size_t cells = plan->npool * K;
        float *sum = calloc(cells ? cells : 1, sizeof *sum);
        if (!sum) {
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        } else {
            for (size_t i = 0; i < s->ncand; i++)
                for (size_t j = 0; s->cands[i].picks && j < cells; j++)
                    sum[j] += (float)s->cands[i].picks * s->cands[i].proba[j];
            pool_score(plan, sum, K, o->metric, &s->best_metrics, err, &st);
            free(sum);
        }
    }
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
    tcat_fit_opts fo = {o->threads, o->seed, 0, NULL, cache, o->vectors, o->unlabeled};
    tcat_status st = TCAT_OK;
    for (size_t i = 0; i < s->ncand && st == TCAT_OK; i++) {
        const tcat_candidate *c = &s->cands[i];
        if (!c->picks)
            continue;
        tcat_pipeline *p = NULL;
        st = tcat_pipeline_create(&p, c->family, c->params, K, err);
        if (st == TCAT_OK)
            st = tcat_pipeline_fit(p, docs, NULL, &fo, err);
        if (st != TCAT_OK) {
            tcat_pipeline_free(&p);
            break;
        }
        json_t *scores = json_pack("{s:s, s:f}", "metric", tcat_metric_name(o->metric), "heldout",
                                   c->score);
        st = tcat_model_add_member(model, p, (double)c->picks, scores, err);
    }
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
    json_decref(s->best_metrics);
    memset(s, 0, sizeof *s);
}
