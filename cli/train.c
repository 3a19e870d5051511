/* cli/train.c — `tcat train`: labelled text in, one model file out. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "cli/cli.h"
#include "core/cache.h"
#include "core/version.h"
#include "corpora/corpus.h"
#include "corpora/split.h"
#include "model/model.h"
#include "pipelines/pipeline.h"
#include "search/metrics.h"

const char cmd_train_help[] =
    "usage: tcat train TRAIN [-o MODEL] [--dev DEV] [OPTIONS]\n"
    "\n"
    "Trains a classifier on the labelled documents of TRAIN (a folder of label\n"
    "subfolders, .tsv, .csv, .jsonl, fastText format, or - for stdin), choosing\n"
    "among candidate models by their score on DEV (or on a stratified holdout of\n"
    "TRAIN), then refits the winner on all labelled data and writes MODEL.\n"
    "\n"
    "Options (defaults in brackets):\n"
    "  -o, --output MODEL   the model file to write [model.tcat]\n"
    "  --dev DEV            documents to choose by [a stratified 10% of TRAIN;\n"
    "                       20% under 10,000 documents]\n"
    "  --time DURATION      time budget: 90s, 5m, 1h, or seconds [5m]\n"
    "  --trials N           try at most N candidates (deterministic) [all]\n"
    "  --models LIST        model families to search, comma-separated; this\n"
    "                       version has: linear [linear]\n"
    "  --metric NAME        macro-f1, micro-f1, accuracy, weighted-f1 [macro-f1]\n"
    "  --threads N          threads [all cores]\n"
    "  --seed N             seed of every random choice [1]\n"
    "  --format NAME        layout of TRAIN and DEV: auto, folder, tsv, csv,\n"
    "                       jsonl, fasttext [auto]\n"
    "  --report FILE.json   write the leaderboard and scores as JSON\n"
    "  --max-members N      most distinct models in the ensemble; each costs\n"
    "                       prediction time, 1 keeps the single best [4]\n"
    "  --promote-if-better  replace an existing MODEL only when the new model\n"
    "                       scores at least as well on the dev documents; else\n"
    "                       keep it and exit 6\n"
    "  --vectors FILE.vec   pretrained word vectors (not built yet)\n"
    "  -q, --quiet          print errors only\n"
    "  -v, --verbose        print each candidate as it finishes\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit codes: 0 done, 2 usage error, 3 bad input data, 4 I/O error,\n"
    "5 bad existing model, 6 new model not promoted.\n";

typedef struct options {
    const char *train, *dev, *output, *report, *format_name;
    double budget;
    long trials;
    tcat_metric metric;
    int threads;
    uint64_t seed;
    int verbosity; /* 0 quiet, 1 normal, 2 verbose */
    int promote;
    size_t max_members;
} options;

/* The candidates tried, in order: cheap and strong ones first. Each is a
 * set of linear hyperparameters; the feature sets are shared between
 * candidates through the fit cache. */
static const char *const linear_grid[] = {
    "{\"word_ngrams\":2,\"min_df\":1,\"learner\":\"svm\",\"C\":0.3}",
    "{\"word_ngrams\":2,\"min_df\":1,\"learner\":\"svm\",\"C\":1}",
    "{\"word_ngrams\":2,\"char_min\":2,\"char_max\":5,\"min_df\":2,\"learner\":\"svm\",\"C\":0.3}",
    "{\"word_ngrams\":2,\"char_min\":2,\"char_max\":5,\"min_df\":2,\"learner\":\"svm\",\"C\":1}",
    "{\"word_ngrams\":2,\"min_df\":1,\"learner\":\"nbsvm\",\"C\":0.3}",
    "{\"word_ngrams\":2,\"min_df\":1,\"learner\":\"svm\",\"C\":3}",
    "{\"word_ngrams\":2,\"min_df\":1,\"learner\":\"svm\",\"C\":0.1}",
    "{\"word_ngrams\":1,\"char_min\":1,\"char_max\":3,\"min_df\":2,\"learner\":\"svm\",\"C\":0.3}",
    "{\"word_ngrams\":1,\"char_min\":1,\"char_max\":3,\"min_df\":2,\"learner\":\"svm\",\"C\":1}",
    "{\"word_ngrams\":2,\"char_min\":2,\"char_max\":5,\"min_df\":2,\"learner\":\"nbsvm\",\"C\":0.3}",
    "{\"word_ngrams\":2,\"min_df\":1,\"learner\":\"logreg\",\"C\":30}",
    "{\"word_ngrams\":2,\"char_min\":2,\"char_max\":5,\"min_df\":2,\"learner\":\"logreg\",\"C\":30}",
};

static tcat_status parse_duration(const char *s, double *out)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (errno || e == s || !(v > 0))
        return TCAT_ERR_USAGE;
    if (*e == 0 || strcmp(e, "s") == 0)
        ;
    else if (strcmp(e, "m") == 0)
        v *= 60;
    else if (strcmp(e, "h") == 0)
        v *= 3600;
    else
        return TCAT_ERR_USAGE;
    *out = v;
    return TCAT_OK;
}

static void say(const options *o, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const options *o, int level, const char *fmt, ...)
{
    if (o->verbosity < level)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("tcat train: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void report_corpus(const options *o, const char *name, const tcat_corpus *c)
{
    const tcat_corpus_stats *s = &c->stats;
    say(o, 1, "%s: %zu documents", name, c->n);
    if (s->invalid_utf8 || s->nul_bytes)
        say(o, 1, "%s: repaired %" PRIu64 " invalid UTF-8 sequence(s) (U+FFFD) and %" PRIu64
                  " NUL byte(s)", name, s->invalid_utf8, s->nul_bytes);
    if (s->empty)
        say(o, 1, "%s: %" PRIu64 " empty document(s), kept", name, s->empty);
    if (s->duplicates)
        say(o, 1, "%s: %" PRIu64 " exact duplicate(s), kept (%" PRIu64 " with other labels)", name,
            s->duplicates, s->conflicting);
    if (s->multi_label)
        say(o, 1, "%s: %" PRIu64 " document(s) with several labels: this version learns the "
                  "first label only", name, s->multi_label);
}

/* Scores predictions argmax(proba) against docs' labels. */
static tcat_status score(const tcat_docs *docs, const float *proba, size_t K, tcat_metrics *m,
                         tcat_error *err)
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

typedef struct candidate {
    json_t *params;  /* effective, after fit (temperature included) */
    double score;
    double seconds;
    float *proba;    /* its dev probabilities, for ensemble selection */
    unsigned picks;  /* times chosen for the ensemble */
    bool done;
} candidate;

/* Fits every candidate that fits in the budget on fit_docs, scored on
 * dev_docs. Returns the index of the best (or -1). */
static long search(const options *o, const tcat_docs *fit_docs, const tcat_docs *dev_docs,
                   size_t K, double t0, candidate *cands, size_t ncand, json_t **best_scores,
                   tcat_error *err, tcat_status *st)
{
    tcat_cache *cache = NULL;
    if (tcat_cache_new(&cache) != TCAT_OK) {
        *st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        return -1;
    }
    float *proba = malloc((dev_docs->n ? dev_docs->n : 1) * K * sizeof *proba);
    long best = -1;
    double slowest = 0;
    *st = proba ? TCAT_OK : tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ncand && *st == TCAT_OK; i++) {
        double now = tcat_now();
        /* keep room for the refit on all data: stop when the next
         * candidate, judged by the slowest so far, would eat into it */
        if (best >= 0 && now - t0 + 2.5 * slowest > o->budget * 0.9)
            break;
        json_error_t je;
        json_t *params = json_loads(linear_grid[i], 0, &je);
        tcat_pipeline *p = NULL;
        tcat_fit_opts fo = {o->threads, o->seed, t0 + o->budget * 0.85, NULL, cache};
        *st = tcat_pipeline_create(&p, "linear", params, K, err);
        json_decref(params);
        if (*st == TCAT_OK)
            *st = tcat_pipeline_fit(p, fit_docs, dev_docs, &fo, err);
        if (*st == TCAT_OK)
            *st = tcat_pipeline_predict_proba(p, dev_docs, proba, o->threads, err);
        tcat_metrics m = {0};
        if (*st == TCAT_OK)
            *st = score(dev_docs, proba, K, &m, err);
        if (*st != TCAT_OK) {
            tcat_pipeline_free(&p);
            break;
        }
        candidate *c = &cands[i];
        c->params = json_deep_copy(tcat_pipeline_params(p));
        c->proba = malloc((dev_docs->n ? dev_docs->n : 1) * K * sizeof *c->proba);
        if (c->proba)
            memcpy(c->proba, proba, dev_docs->n * K * sizeof *proba);
        c->score = tcat_metrics_get(&m, o->metric);
        c->seconds = tcat_now() - now;
        c->done = true;
        if (c->seconds > slowest)
            slowest = c->seconds;
        char *ps = json_dumps(c->params, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(4));
        say(o, 2, "candidate %zu: %s %.4f in %.1fs: linear %s", i + 1, tcat_metric_name(o->metric),
            c->score, c->seconds, ps ? ps : "");
        free(ps);
        if (best < 0 || c->score > cands[best].score) {
            best = (long)i;
            json_decref(*best_scores);
            *best_scores = tcat_metrics_to_json(&m, NULL);
        }
        tcat_metrics_free(&m);
        tcat_pipeline_free(&p);
    }
    free(proba);
    tcat_cache_free(&cache);
    return best;
}

/* Greedy ensemble selection with replacement (Caruana, Niculescu-Mizil,
 * Crew and Ksikes, "Ensemble Selection from Libraries of Models", ICML
 * 2004): start from the best candidate, repeatedly add the candidate
 * (possibly again) whose addition gives the best dev score of the averaged
 * probabilities, and keep the best prefix. Sets each candidate's picks;
 * returns the ensemble's dev score. */
static double select_ensemble(const options *o, const tcat_docs *dev, size_t K, candidate *c,
                              size_t n, long best, tcat_error *err)
{
    size_t cells = dev->n * K;
    float *sum = calloc(cells ? cells : 1, sizeof *sum), *trial = malloc((cells ? cells : 1) * sizeof *trial);
    unsigned *picks = calloc(n, sizeof *picks), *best_picks = calloc(n, sizeof *best_picks);
    double best_score = c[best].score;
    if (!sum || !trial || !picks || !best_picks || !c[best].proba) {
        c[best].picks = 1;
        goto done;
    }
    memcpy(sum, c[best].proba, cells * sizeof *sum);
    picks[best] = 1;
    best_picks[best] = 1;
    for (unsigned step = 2; step <= 12; step++) {
        long pick = -1;
        double pick_score = -1;
        size_t distinct = 0;
        for (size_t i = 0; i < n; i++)
            distinct += picks[i] > 0;
        for (size_t i = 0; i < n; i++) {
            if (!c[i].done || !c[i].proba)
                continue;
            if (!picks[i] && distinct >= o->max_members)
                continue;
            for (size_t j = 0; j < cells; j++)
                trial[j] = sum[j] + c[i].proba[j];
            tcat_metrics m = {0};
            if (score(dev, trial, K, &m, err) != TCAT_OK)
                goto done;
            double sc = tcat_metrics_get(&m, o->metric);
            tcat_metrics_free(&m);
            if (sc > pick_score) {
                pick_score = sc;
                pick = (long)i;
            }
        }
        if (pick < 0)
            break;
        for (size_t j = 0; j < cells; j++)
            sum[j] += c[pick].proba[j];
        picks[pick]++;
        if (pick_score > best_score + 1e-12) {
            best_score = pick_score;
            memcpy(best_picks, picks, n * sizeof *picks);
        }
    }
done:
    for (size_t i = 0; i < n; i++)
        c[i].picks = best_picks ? best_picks[i] : (long)i == best;
    free(sum);
    free(trial);
    free(picks);
    free(best_picks);
    return best_score;
}

static int by_score(const void *a, const void *b)
{
    const candidate *x = *(candidate *const *)a, *y = *(candidate *const *)b;
    return x->score > y->score ? -1 : x->score < y->score;
}

/* The leaderboard, best first, on stderr; returned as JSON too. */
static json_t *leaderboard(const options *o, candidate *c, size_t n)
{
    candidate **order = malloc((n ? n : 1) * sizeof *order);
    json_t *board = json_array();
    if (!order || !board) {
        free(order);
        return board;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].done)
            order[m++] = &c[i];
    qsort(order, m, sizeof *order, by_score);
    say(o, 1, "leaderboard (dev %s):", tcat_metric_name(o->metric));
    for (size_t r = 0; r < m; r++) {
        const json_t *p = order[r]->params;
        char feats[64];
        int cmin = (int)json_integer_value(json_object_get(p, "char_min"));
        snprintf(feats, sizeof feats, "word 1-%d",
                 (int)json_integer_value(json_object_get(p, "word_ngrams")));
        if (cmin)
            snprintf(feats + strlen(feats), sizeof feats - strlen(feats), " + char %d-%d", cmin,
                     (int)json_integer_value(json_object_get(p, "char_max")));
        if (o->verbosity >= 1)
            fprintf(stderr, "  %2zu  %.4f  %6.1fs  weight %u  linear %-6s C=%-5g %s\n", r + 1,
                    order[r]->score, order[r]->seconds, order[r]->picks,
                    json_string_value(json_object_get(p, "learner")),
                    json_number_value(json_object_get(p, "C")), feats);
        json_array_append_new(board, json_pack("{s:i, s:s, s:O, s:f, s:f, s:i}", "rank",
                                               (int)(r + 1), "family", "linear", "params", p,
                                               "dev_score", order[r]->score, "fit_seconds",
                                               order[r]->seconds, "ensemble_weight",
                                               (int)order[r]->picks));
    }
    free(order);
    return board;
}

/* A hash of the training data (raw bytes and labels of every document, in
 * order), hex. */
static void data_hash(const tcat_corpus *c, char out[17])
{
    XXH3_state_t *s = XXH3_createState();
    XXH3_64bits_reset(s);
    XXH3_64bits_update(s, c->raw_hash, c->n * sizeof *c->raw_hash);
    XXH3_64bits_update(s, c->labels, c->nlabels_total * sizeof *c->labels);
    snprintf(out, 17, "%016llx", (unsigned long long)XXH3_64bits_digest(s));
    XXH3_freeState(s);
}

/* Scores an existing model at path on the dev documents (given as raw
 * documents read again from their source with that model's tokenizer).
 * Returns TCAT_OK with *score, or the load error. */
static tcat_status score_existing(const options *o, const char *dev_path, tcat_format fmt,
                                  const tcat_corpus *train, const size_t *dev_idx, size_t ndev,
                                  double *out, tcat_error *err)
{
    (void)train;
    (void)dev_idx;
    (void)ndev;
    tcat_model *old;
    tcat_status st = tcat_model_load(&old, o->output, err);
    if (st != TCAT_OK)
        return st;
    tcat_tok *tok = NULL;
    tcat_corpus c;
    tcat_corpus_init(&c);
    float *proba = NULL;
    tcat_metrics m = {0};
    if ((st = tcat_tok_init(&tok, &old->tok, err)) != TCAT_OK)
        goto done;
    if ((st = tcat_corpus_read(&c, dev_path, fmt, tok, old->labels, false, err)) != TCAT_OK)
        goto done;
    size_t K = tcat_model_classes(old);
    /* only the documents the holdout chose, when dev came from TRAIN */
    tcat_docs docs = {&c, dev_path == o->train ? dev_idx : NULL,
                      dev_path == o->train ? ndev : c.n};
    if (!(proba = malloc((docs.n ? docs.n : 1) * K * sizeof *proba))) {
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = tcat_model_predict_proba(old, &docs, proba, o->threads, err)) != TCAT_OK)
        goto done;
    if ((st = score(&docs, proba, K, &m, err)) != TCAT_OK)
        goto done;
    *out = tcat_metrics_get(&m, o->metric);
done:
    tcat_metrics_free(&m);
    free(proba);
    tcat_corpus_free(&c);
    tcat_tok_free(&tok);
    tcat_model_free(&old);
    return st;
}

static int run(options *o)
{
    tcat_error err = {0};
    tcat_status st;
    double t0 = tcat_now();
    tcat_format fmt = TCAT_FORMAT_AUTO;
    if (o->format_name && tcat_format_parse(o->format_name, &fmt, &err) != TCAT_OK)
        return cli_usage_error("train", "%s", err.msg);

    tcat_tok_config tcfg;
    tcat_tok_config_default(&tcfg);
    tcat_tok *tok = NULL;
    tcat_labels *labels = NULL;
    tcat_corpus train, dev;
    tcat_corpus_init(&train);
    tcat_corpus_init(&dev);
    size_t *keep = NULL, *held = NULL, *all = NULL, *devok = NULL;
    candidate *cands = NULL;
    tcat_model *model = NULL;
    json_t *best_scores = NULL, *board = NULL;
    int code = 0;

    if ((st = tcat_tok_init(&tok, &tcfg, &err)) != TCAT_OK ||
        (st = tcat_labels_new(&labels)) != TCAT_OK) {
        if (st == TCAT_ERR_NOMEM)
            tcat_fail(&err, st, "out of memory");
        goto fail;
    }
    if ((st = tcat_corpus_read(&train, o->train, fmt, tok, labels, true, &err)) != TCAT_OK)
        goto fail;
    report_corpus(o, o->train, &train);
    size_t K = tcat_labels_count(labels);
    if (train.n == 0) {
        st = tcat_fail(&err, TCAT_ERR_INPUT, "%s: no documents", o->train);
        goto fail;
    }
    if (K < 2) {
        st = tcat_fail(&err, TCAT_ERR_INPUT,
                       "%s: every document has the label '%s': a classifier needs at least two "
                       "classes", o->train, tcat_labels_name(labels, 0));
        goto fail;
    }
    uint64_t *counts = calloc(K, sizeof *counts);
    if (counts) {
        tcat_corpus_label_counts(&train, K, counts);
        for (size_t k = 0; k < K; k++)
            if (counts[k] < 2)
                say(o, 1, "warning: class '%s' has %" PRIu64 " training document(s)",
                    tcat_labels_name(labels, (int32_t)k), counts[k]);
        free(counts);
    }
    say(o, 1, "%zu classes", K);

    /* the documents to fit on and to choose by */
    tcat_docs fit_docs, dev_docs;
    size_t nkeep = 0, nheld = 0;
    if (o->dev) {
        if ((st = tcat_corpus_read(&dev, o->dev, fmt, tok, labels, false, &err)) != TCAT_OK)
            goto fail;
        report_corpus(o, o->dev, &dev);
        if (dev.stats.unknown_labels)
            say(o, 1, "%s: %" PRIu64 " label(s) not in TRAIN: those documents are not scored",
                o->dev, dev.stats.unknown_labels);
        devok = malloc((dev.n ? dev.n : 1) * sizeof *devok);
        if (!devok) {
            st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < dev.n; i++)
            if (dev.label[i] >= 0)
                devok[nheld++] = i;
        fit_docs = (tcat_docs){&train, NULL, train.n};
        dev_docs = (tcat_docs){&dev, devok, nheld};
    } else {
        double frac = train.n < 10000 ? 0.2 : 0.1;
        if ((st = tcat_split_holdout(train.label, train.n, frac, o->seed, &keep, &nkeep, &held,
                                     &nheld)) != TCAT_OK) {
            tcat_fail(&err, st, "out of memory");
            goto fail;
        }
        fit_docs = (tcat_docs){&train, keep, nkeep};
        dev_docs = (tcat_docs){&train, held, nheld};
        say(o, 1, "choosing on a stratified holdout of %zu documents (%.0f%%)", nheld, 100 * frac);
    }
    if (dev_docs.n == 0) {
        st = tcat_fail(&err, TCAT_ERR_INPUT, "no dev documents with a known label to choose by");
        goto fail;
    }

    size_t ncand = sizeof linear_grid / sizeof *linear_grid;
    if (o->trials > 0 && (size_t)o->trials < ncand)
        ncand = (size_t)o->trials;
    cands = calloc(ncand, sizeof *cands);
    if (!cands) {
        st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    long best = search(o, &fit_docs, &dev_docs, K, t0, cands, ncand, &best_scores, &err, &st);
    if (st != TCAT_OK)
        goto fail;
    size_t tried = 0;
    for (size_t i = 0; i < ncand; i++)
        tried += cands[i].done;
    say(o, 1, "%zu of %zu candidates fitted in %.1fs", tried, ncand, tcat_now() - t0);

    /* an ensemble of the candidates, kept when it beats the best one and
     * its refit fits in what is left of the budget */
    double final_score = select_ensemble(o, &dev_docs, K, cands, ncand, best, &err);
    double refit_cost = 0;
    size_t distinct = 0;
    for (size_t i = 0; i < ncand; i++)
        if (cands[i].picks) {
            refit_cost += 1.3 * cands[i].seconds;
            distinct++;
        }
    if (distinct > 1 && tcat_now() - t0 + refit_cost > o->budget) {
        say(o, 1, "an ensemble of %zu would score %.4f but its refit does not fit in the "
                  "budget: keeping the best candidate", distinct, final_score);
        for (size_t i = 0; i < ncand; i++)
            cands[i].picks = (long)i == best;
        final_score = cands[best].score;
        distinct = 1;
    }
    board = leaderboard(o, cands, ncand);
    if (distinct > 1)
        say(o, 1, "ensemble of %zu candidates (weights in the leaderboard): dev %s %.4f, best "
                  "single %.4f", distinct, tcat_metric_name(o->metric), final_score,
            cands[best].score);

    /* refit the winner on every labelled document (train and dev) */
    if ((st = tcat_model_new(&model, &tcfg, &err)) != TCAT_OK)
        goto fail;
    for (size_t k = 0; k < K; k++) {
        int32_t id;
        const char *name = tcat_labels_name(labels, (int32_t)k);
        tcat_labels_intern(model->labels, name, strlen(name), &id);
    }
    tcat_docs final_docs = {&train, NULL, train.n};
    if (o->dev && nheld > 0) {
        /* append the dev documents to the training corpus by view: the two
         * corpora differ, so re-add dev's tokens through the raw source is
         * not possible; instead fit on train, then, when time allows, on
         * the concatenation built below */
        all = NULL;
    }
    tcat_corpus merged;
    tcat_corpus_init(&merged);
    if (o->dev && nheld > 0) {
        /* read both again into one corpus (same tokenizer, same labels) */
        if ((st = tcat_corpus_read(&merged, o->train, fmt, tok, labels, false, &err)) != TCAT_OK ||
            (st = tcat_corpus_read(&merged, o->dev, fmt, tok, labels, false, &err)) != TCAT_OK) {
            tcat_corpus_free(&merged);
            goto fail;
        }
        all = malloc((merged.n ? merged.n : 1) * sizeof *all);
        if (!all) {
            tcat_corpus_free(&merged);
            st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
            goto fail;
        }
        size_t na = 0;
        for (size_t i = 0; i < merged.n; i++)
            if (merged.label[i] >= 0)
                all[na++] = i;
        final_docs = (tcat_docs){&merged, all, na};
    }
    /* refit every member: each distinct candidate once, weighted by how
     * often the selection picked it */
    tcat_fit_opts fo = {o->threads, o->seed, 0, NULL, NULL};
    tcat_cache *refit_cache = NULL;
    if (tcat_cache_new(&refit_cache) != TCAT_OK) {
        tcat_corpus_free(&merged);
        st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    fo.cache = refit_cache;
    double tr = tcat_now();
    size_t nmembers = 0;
    for (size_t i = 0; i < ncand && st == TCAT_OK; i++) {
        if (!cands[i].picks)
            continue;
        tcat_pipeline *p = NULL;
        st = tcat_pipeline_create(&p, "linear", cands[i].params, K, &err);
        if (st == TCAT_OK)
            st = tcat_pipeline_fit(p, &final_docs, NULL, &fo, &err);
        if (st != TCAT_OK) {
            tcat_pipeline_free(&p);
            break;
        }
        json_t *member_scores = json_pack("{s:s, s:f}", "metric", tcat_metric_name(o->metric),
                                          "dev", cands[i].score);
        st = tcat_model_add_member(model, p, (double)cands[i].picks, member_scores, &err);
        nmembers++;
    }
    tcat_cache_free(&refit_cache);
    tcat_corpus_free(&merged);
    if (st != TCAT_OK)
        goto fail;
    say(o, 1, "refitted %zu member(s) on %zu documents in %.1fs", nmembers, final_docs.n,
        tcat_now() - tr);

    char created[32], hash[17];
    tcat_model_timestamp(created, sizeof created);
    data_hash(&train, hash);
    json_object_set_new(model->meta, "tcat_version", json_string(TCAT_VERSION));
    json_object_set_new(model->meta, "created", json_string(created));
    json_object_set_new(model->meta, "data", json_pack("{s:s, s:I, s:I}", "hash", hash,
                                                       "documents", (json_int_t)train.n,
                                                       "dev_documents", (json_int_t)dev_docs.n));
    json_object_set_new(model->meta, "metric", json_string(tcat_metric_name(o->metric)));
    json_object_set_new(model->meta, "dev_score", json_real(final_score));
    json_object_set_new(model->meta, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(model->meta, "threads", json_integer(o->threads));
    json_object_set_new(model->meta, "candidates_fitted", json_integer((json_int_t)tried));

    if (o->promote && access(o->output, F_OK) == 0) {
        double old_score = 0;
        tcat_error oerr = {0};
        st = score_existing(o, o->dev ? o->dev : o->train, fmt, &train, held, nheld, &old_score,
                            &oerr);
        if (st == TCAT_OK && old_score > final_score) {
            say(o, 0, "not promoted: the existing %s scores %.4f on the dev documents, the new "
                      "model %.4f; %s is unchanged", o->output, old_score, final_score,
                o->output);
            code = TCAT_EXIT_NOT_PROMOTED;
            goto out;
        }
        if (st == TCAT_OK)
            say(o, 1, "promoted: new %.4f >= existing %.4f", final_score, old_score);
        else
            say(o, 1, "the existing %s cannot be scored (%s): replacing it", o->output, oerr.msg);
    }
    if ((st = tcat_model_save(model, o->output, &err)) != TCAT_OK)
        goto fail;
    say(o, 1, "wrote %s (dev %s %.4f) in %.1fs", o->output, tcat_metric_name(o->metric),
        final_score, tcat_now() - t0);

    if (o->report) {
        json_t *rep = json_pack("{s:s, s:s, s:f, s:O, s:O, s:f, s:I, s:I}", "model", o->output,
                                "metric", tcat_metric_name(o->metric), "dev_score", final_score,
                                "leaderboard", board,
                                "best_dev_scores", best_scores ? best_scores : json_null(),
                                "seconds", tcat_now() - t0, "candidates_fitted", (json_int_t)tried,
                                "candidates", (json_int_t)ncand);
        if (rep && best_scores) {
            json_t *names = json_array();
            for (size_t k = 0; k < K; k++)
                json_array_append_new(names, json_string(tcat_labels_name(labels, (int32_t)k)));
            json_object_set_new(rep, "labels", names);
        }
        if (!rep || json_dump_file(rep, o->report, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
            json_decref(rep);
            st = tcat_fail(&err, TCAT_ERR_IO, "cannot write the report '%s'", o->report);
            goto fail;
        }
        json_decref(rep);
    }
    goto out;
fail:
    cli_error("train", "%s", err.msg);
    code = tcat_status_exit_code(st);
out:
    for (size_t i = 0; cands && i < (o->trials > 0 ? (size_t)o->trials : sizeof linear_grid / sizeof *linear_grid) &&
                       i < sizeof linear_grid / sizeof *linear_grid; i++)
        json_decref(cands[i].params), free(cands[i].proba);
    free(cands);
    json_decref(best_scores);
    json_decref(board);
    tcat_model_free(&model);
    free(keep);
    free(held);
    free(all);
    free(devok);
    tcat_corpus_free(&train);
    tcat_corpus_free(&dev);
    tcat_labels_free(&labels);
    tcat_tok_free(&tok);
    tcat_tok_config_clear(&tcfg);
    return code;
}

int cmd_train(int argc, char **argv)
{
    enum { O_DEV = 256, O_TIME, O_TRIALS, O_MODELS, O_METRIC, O_THREADS, O_SEED, O_FORMAT,
           O_REPORT, O_PROMOTE, O_VECTORS, O_MAX_MEMBERS };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"dev", required_argument, NULL, O_DEV},
        {"time", required_argument, NULL, O_TIME}, {"trials", required_argument, NULL, O_TRIALS},
        {"models", required_argument, NULL, O_MODELS},
        {"metric", required_argument, NULL, O_METRIC},
        {"threads", required_argument, NULL, O_THREADS},
        {"seed", required_argument, NULL, O_SEED}, {"format", required_argument, NULL, O_FORMAT},
        {"report", required_argument, NULL, O_REPORT},
        {"promote-if-better", no_argument, NULL, O_PROMOTE},
        {"max-members", required_argument, NULL, O_MAX_MEMBERS},
        {"vectors", required_argument, NULL, O_VECTORS}, {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'}, {NULL, 0, NULL, 0},
    };
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    options o = {.output = "model.tcat", .budget = 300, .metric = TCAT_METRIC_MACRO_F1,
                 .threads = ncpu > 0 ? (int)ncpu : 1, .seed = 1, .verbosity = 1,
                 .max_members = 4};
    tcat_error err = {0};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:qv", longopts, NULL)) != -1) {
        char *e;
        switch (c) {
        case 'o': o.output = optarg; break;
        case O_DEV: o.dev = optarg; break;
        case O_TIME:
            if (parse_duration(optarg, &o.budget) != TCAT_OK)
                return cli_usage_error("train", "--time wants a duration like 90s, 5m or 1h, "
                                                "not '%s'", optarg);
            break;
        case O_TRIALS:
            o.trials = strtol(optarg, &e, 10);
            if (*e || o.trials < 1)
                return cli_usage_error("train", "--trials wants a positive number, not '%s'",
                                       optarg);
            break;
        case O_MODELS: {
            char *list = strdup(optarg), *save = NULL;
            for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (strcmp(t, "linear") == 0)
                    continue;
                bool later = !strcmp(t, "fasttext") || !strcmp(t, "cnn") || !strcmp(t, "rnn");
                int r = later ? (cli_error("train", "--models: the %s family is not built yet in "
                                                    "this version; use linear", t),
                                 TCAT_EXIT_FAILURE)
                              : cli_usage_error("train", "--models: unknown family '%s' "
                                                         "(linear, fasttext, cnn, rnn)", t);
                free(list);
                return r;
            }
            free(list);
            break;
        }
        case O_METRIC:
            if (tcat_metric_parse(optarg, &o.metric, &err) != TCAT_OK)
                return cli_usage_error("train", "%s", err.msg);
            break;
        case O_THREADS:
            o.threads = (int)strtol(optarg, &e, 10);
            if (*e || o.threads < 1 || o.threads > 1024)
                return cli_usage_error("train", "--threads wants a number from 1 to 1024, not "
                                                "'%s'", optarg);
            break;
        case O_SEED:
            errno = 0;
            o.seed = strtoull(optarg, &e, 10);
            if (*e || errno || optarg[0] == '-')
                return cli_usage_error("train", "--seed wants a non-negative number, not '%s'",
                                       optarg);
            break;
        case O_FORMAT: o.format_name = optarg; break;
        case O_REPORT: o.report = optarg; break;
        case O_PROMOTE: o.promote = 1; break;
        case O_MAX_MEMBERS: {
            long v = strtol(optarg, &e, 10);
            if (*e || v < 1 || v > 64)
                return cli_usage_error("train", "--max-members wants a number from 1 to 64, not "
                                                "'%s'", optarg);
            o.max_members = (size_t)v;
            break;
        }
        case O_VECTORS:
            cli_error("train", "--vectors: pretrained vectors are not built yet in this version");
            return TCAT_EXIT_FAILURE;
        case 'q': o.verbosity = 0; break;
        case 'v': o.verbosity = 2; break;
        case ':': return cli_usage_error("train", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("train", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("train", "missing TRAIN (a file, a folder, or - for stdin)");
    if (optind + 1 < argc)
        return cli_usage_error("train", "one TRAIN only; extra argument '%s'", argv[optind + 1]);
    o.train = argv[optind];
    if (o.dev && strcmp(o.dev, "-") == 0 && strcmp(o.train, "-") == 0)
        return cli_usage_error("train", "TRAIN and --dev cannot both be stdin");
    return run(&o);
}
