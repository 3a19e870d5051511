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
#include "embeddings/vectors.h"
#include "model/model.h"
#include "pipelines/pipeline.h"
#include "search/metrics.h"
#include "search/search.h"
#include "search/thresholds.h"

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
    "  --dev DEV            more labelled documents to choose by; under 20,000\n"
    "                       documents (and 2M tokens), TRAIN and DEV are pooled\n"
    "                       and candidates scored by 5-fold cross-validation;\n"
    "                       above, on DEV [without DEV: cross-validation, or a\n"
    "                       stratified 10% holdout of TRAIN]\n"
    "  --time DURATION      time budget: 90s, 5m, 1h, or seconds [5m]\n"
    "  --trials N           try at most N candidates (deterministic) [all]\n"
    "  --models LIST        model families to search, comma-separated: linear,\n"
    "                       fasttext, cnn, rnn [all]\n"
    "  --params JSON        fit this one candidate instead of searching: the\n"
    "                       hyperparameters of the one family named by --models\n"
    "                       (see pipelines/linear.h, fasttext.h, cnn.h, rnn.h;\n"
    "                       any family also takes \"bag\": N, N seeds averaged,\n"
    "                       pipelines/bag.h),\n"
    "                       e.g.\n"
    "                       --models fasttext --params '{\"epoch\":25,\"lr\":0.5}'\n"
    "  --metric NAME        macro-f1, micro-f1, accuracy, weighted-f1 [macro-f1]\n"
    "  --threads N          threads [all cores]\n"
    "  --seed N             seed of every random choice [1]\n"
    "  --format NAME        layout of TRAIN and DEV: auto, folder, tsv, csv,\n"
    "                       jsonl, fasttext [auto]\n"
    "  --report FILE.json   write the leaderboard and scores as JSON\n"
    "  --class-weight W     balanced (each class weighs the same in training) or\n"
    "                       none [searched: both are tried when the metric is\n"
    "                       macro-f1]\n"
    "  --min-throughput N   the model must classify at least N documents per\n"
    "                       second per thread: slower candidates are left out\n"
    "                       of the ensemble [no limit]\n"
    "  --max-memory SIZE    memory one candidate may take while fitting, e.g.\n"
    "                       512M or 2G: a candidate its family estimates above\n"
    "                       it, or whose fit runs out of memory, is dropped and\n"
    "                       the search goes on [80% of RAM / --threads]\n"
    "  --multilabel         documents have sets of labels: one-vs-all models,\n"
    "                       each label's threshold tuned for the metric, and\n"
    "                       predict prints every label over its threshold\n"
    "                       [on when some TRAIN document has several labels]\n"
    "  --keep-case          do not case-fold the text (\"US\" and \"us\" stay two\n"
    "                       words); the model keeps this for predict [fold]\n"
    "  --max-members N      most distinct models in the ensemble; each costs\n"
    "                       prediction time, 1 keeps the single best [4]\n"
    "  --promote-if-better  replace an existing MODEL only when the new model's\n"
    "                       held-out score is at least the existing model's\n"
    "                       score on DEV (or on the held-out documents); else\n"
    "                       keep it and exit 6. Fair when DEV is new to both\n"
    "  --vectors FILE.vec   pretrained word vectors (.vec text or word2vec binary)\n"
    "                       to start the fastText-style, CNN and recurrent models\n"
    "                       from; their words go through the tokenizer's\n"
    "                       normalisation\n"
    "  --unlabeled FILE     more text without labels, one document per line, for\n"
    "                       the in-domain word vectors (skip-gram) the CNN and\n"
    "                       recurrent models can start from\n"
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
    const char *families[8]; /* --models, NULL-ended; families[0] NULL: all */
    const char *params;      /* --params */
    const char *vectors;     /* --vectors */
    const char *unlabeled;   /* --unlabeled */
    int class_weight;        /* --class-weight: -1 searched, 0 none, 1 balanced */
    double min_throughput;   /* --min-throughput */
    bool multilabel;         /* --multilabel (else: when TRAIN has label sets) */
    bool keep_case;          /* --keep-case: no case folding */
    double max_memory;       /* --max-memory in bytes, 0: the default */
    double t0, budget_end;   /* for the progress line */
    size_t steps, done;      /* candidate steps and top-rung candidates so far */
    double best;             /* best top-rung score so far */
    bool tty;                /* stderr is a terminal: a live progress line */
} options;

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

/* A size in bytes: 512M, 2G, 1.5G, 800K or plain bytes. */
static tcat_status parse_size(const char *s, double *out)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (errno || e == s || !(v > 0))
        return TCAT_ERR_USAGE;
    static const char units[] = "KMGT";
    const char *u = *e ? strchr(units, *e) : NULL;
    if (*e && (!u || (e[1] && strcmp(e + 1, "B") != 0)))
        return TCAT_ERR_USAGE;
    for (const char *q = units; u && q <= u; q++)
        v *= 1024;
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
        say(o, 1, "%s: %" PRIu64 " document(s) with several labels", name, s->multi_label);
}

static int by_score(const void *a, const void *b)
{
    const tcat_candidate *x = *(tcat_candidate *const *)a, *y = *(tcat_candidate *const *)b;
    return x->score > y->score ? -1 : x->score < y->score;
}

static long int_param(const json_t *p, const char *key)
{
    return (long)json_number_value(json_object_get(p, key));
}

/* A few words on a candidate's settings, for the leaderboard. */
static void summarize(const char *family, const json_t *p, char *buf, size_t size)
{
    int n;
    if (strcmp(family, "cnn") == 0 || strcmp(family, "rnn") == 0) {
        char enc[64];
        if (strcmp(family, "cnn") == 0) {
            const json_t *w = json_object_get(p, "widths");
            int m = snprintf(enc, sizeof enc, "%ld maps x", int_param(p, "maps"));
            for (size_t i = 0; i < json_array_size(w) && m > 0 && (size_t)m < sizeof enc; i++)
                m += snprintf(enc + m, sizeof enc - (size_t)m, "%s%lld", i ? "," : " ",
                              (long long)json_integer_value(json_array_get(w, i)));
        } else
            snprintf(enc, sizeof enc, "%s %ld x%ld",
                     json_string_value(json_object_get(p, "cell")), int_param(p, "hidden"),
                     int_param(p, "layers"));
        snprintf(buf, size, "%s, dim %ld %s %s, %ld epochs", enc, int_param(p, "dim"),
                 json_string_value(json_object_get(p, "init")),
                 json_string_value(json_object_get(p, "mode")), int_param(p, "epochs"));
        return;
    }
    if (strcmp(family, "linear") == 0)
        n = snprintf(buf, size, "%-6s C=%-5g word 1-%ld",
                     json_string_value(json_object_get(p, "learner")),
                     json_number_value(json_object_get(p, "C")), int_param(p, "word_ngrams"));
    else
        n = snprintf(buf, size, "dim %ld, %ld epochs, lr %g, word 1-%ld", int_param(p, "dim"),
                     int_param(p, "epoch"), json_number_value(json_object_get(p, "lr")),
                     int_param(p, "word_ngrams"));
    long cmin = int_param(p, strcmp(family, "linear") == 0 ? "char_min" : "minn");
    long cmax = int_param(p, strcmp(family, "linear") == 0 ? "char_max" : "maxn");
    if (cmin && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " + char %ld-%ld", cmin, cmax);
}

/* The leaderboard, best first, on stderr; returned as JSON too. */
static json_t *leaderboard(const options *o, tcat_candidate *c, size_t n)
{
    tcat_candidate **order = malloc((n ? n : 1) * sizeof *order);
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
    say(o, 1, "leaderboard (held-out %s; fit time all folds; predict docs/s per thread):",
        tcat_metric_name(o->metric));
    for (size_t r = 0; r < m; r++) {
        const json_t *p = order[r]->params;
        char what[128];
        summarize(order[r]->family, p, what, sizeof what);
        /* a network scored and refitted as a bag of seeds (search/search.h) */
        size_t seeds = order[r]->bag > 1 ? order[r]->bag : 1;
        if (o->verbosity >= 1)
            fprintf(stderr, "  %2zu  %.4f  %6.1fs  %8.0f/s  weight %u  %-8s %s%s%s%s\n", r + 1,
                    order[r]->score, order[r]->seconds, order[r]->predict_rate, order[r]->picks,
                    order[r]->family, what, order[r]->balanced ? ", balanced" : "",
                    order[r]->portfolio ? "" : " (random)",
                    seeds > 1 ? ", a bag of seeds" : "");
        json_array_append_new(
            board, json_pack("{s:i, s:s, s:O, s:s, s:b, s:f, s:f, s:f, s:i, s:i}", "rank",
                             (int)(r + 1), "family", order[r]->family, "params", p,
                             "class_weight", order[r]->balanced ? "balanced" : "none",
                             "portfolio", order[r]->portfolio, "heldout_score", order[r]->score,
                             "fit_seconds", order[r]->seconds, "predict_docs_per_s",
                             round(order[r]->predict_rate), "ensemble_weight",
                             (int)order[r]->picks, "seeds", (int)seeds));
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
                                  const size_t *dev_idx, size_t ndev, double *out,
                                  tcat_error *err)
{
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
    if (old->thresholds) { /* its own label sets, with its own thresholds */
        uint8_t *truth = tcat_docs_targets(&docs, K), *sets = malloc(docs.n * K + 1);
        if (truth && sets) {
            tcat_thresholds_apply(proba, docs.n, K, old->thresholds, sets);
            st = tcat_metrics_compute_sets(&m, truth, sets, docs.n, K, err);
        } else {
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        }
        free(truth);
        free(sets);
    } else {
        st = tcat_search_score(&docs, proba, K, &m, err);
    }
    if (st != TCAT_OK)
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

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Renumbers the labels of c in byte order of their names, so reports and
 * models list classes the same way whatever order the data came in. */
static tcat_status sort_labels(tcat_corpus *c, tcat_labels **labels)
{
    size_t K = tcat_labels_count(*labels);
    const char **names = malloc(K * sizeof *names);
    int32_t *map = malloc(K * sizeof *map);
    tcat_labels *sorted = NULL;
    tcat_status st = TCAT_ERR_NOMEM;
    if (!names || !map || tcat_labels_new(&sorted) != TCAT_OK)
        goto done;
    for (size_t k = 0; k < K; k++)
        names[k] = tcat_labels_name(*labels, (int32_t)k);
    qsort(names, K, sizeof *names, by_name);
    for (size_t k = 0; k < K; k++) {
        int32_t id;
        if (tcat_labels_intern(sorted, names[k], strlen(names[k]), &id) != TCAT_OK)
            goto done;
        map[tcat_labels_find(*labels, names[k], strlen(names[k]))] = id;
    }
    for (size_t i = 0; i < c->n; i++)
        if (c->label[i] >= 0)
            c->label[i] = map[c->label[i]];
    for (size_t j = 0; j < c->nlabels_total; j++)
        if (c->labels[j] >= 0)
            c->labels[j] = map[c->labels[j]];
    tcat_labels_free(labels);
    *labels = sorted;
    sorted = NULL;
    st = TCAT_OK;
done:
    tcat_labels_free(&sorted);
    free(names);
    free(map);
    return st;
}

/* After each step of a candidate: with -v a line per step; on a terminal
 * a progress line rewritten in place (elapsed / budget, steps, best). */
static void progress(void *ctx, size_t i, const tcat_candidate *c)
{
    options *o = ctx;
    o->steps++;
    if (c->done) {
        o->done++;
        if (c->score > o->best)
            o->best = c->score;
    }
    if (o->verbosity >= 2) {
        char *ps = json_dumps(c->params, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(4));
        if (c->done)
            say(o, 2, "candidate %zu: %s %.4f (all folds) in %.1fs%s: %s %s", i + 1,
                tcat_metric_name(o->metric), c->score, c->seconds,
                c->balanced ? ", balanced" : "", c->family, ps ? ps : "");
        else
            say(o, 2, "candidate %zu: %s %.4f on a %s of fold 1 in %.1fs%s: %s %s", i + 1,
                tcat_metric_name(o->metric), c->rung_score[c->rung], c->rung ? "third" : "ninth",
                c->seconds, c->balanced ? ", balanced" : "", c->family, ps ? ps : "");
        free(ps);
    } else if (o->tty && o->verbosity == 1) {
        fprintf(stderr, "\rtcat train: %5.0fs / %.0fs, %zu steps, %zu candidates scored, best %s %.4f ",
                tcat_now() - o->t0, o->budget, o->steps, o->done, tcat_metric_name(o->metric),
                o->best);
        fflush(stderr);
    }
}

/* Ends the progress line before other output. */
static void progress_end(const options *o)
{
    if (o->tty && o->verbosity == 1 && o->steps)
        fputc('\n', stderr);
}

/* Small corpora are scored by cross-validation: below this many
 * documents and tokens, five folds cost little and choose far better
 * than one holdout. */
#define CV_MAX_DOCS 20000
#define CV_MAX_TOKENS 2000000
#define CV_FOLDS 5

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
    /* punctuation is kept in the corpus: each family decides whether to
     * read it (its "punct" hyperparameter), so it is tokenized once */
    tcfg.keep_punct = true;
    tcfg.casefold = !o->keep_case;
    tcat_tok *tok = NULL;
    tcat_labels *labels = NULL;
    tcat_corpus all; /* TRAIN's documents, then DEV's */
    tcat_corpus_init(&all);
    size_t *keep = NULL, *held = NULL, *labelled = NULL;
    tcat_plan plan = {0};
    tcat_search search = {0};
    tcat_vec *vectors = NULL;
    tcat_corpus unlabeled;
    tcat_corpus_init(&unlabeled);
    tcat_model *model = NULL;
    json_t *board = NULL;
    int code = 0;

    if ((st = tcat_tok_init(&tok, &tcfg, &err)) != TCAT_OK ||
        (st = tcat_labels_new(&labels)) != TCAT_OK) {
        if (st == TCAT_ERR_NOMEM)
            tcat_fail(&err, st, "out of memory");
        goto fail;
    }
    if ((st = tcat_corpus_read(&all, o->train, fmt, tok, labels, true, &err)) != TCAT_OK)
        goto fail;
    report_corpus(o, o->train, &all);
    if ((st = sort_labels(&all, &labels)) != TCAT_OK) {
        tcat_fail(&err, st, "out of memory");
        goto fail;
    }
    size_t ntrain = all.n, K = tcat_labels_count(labels);
    if (ntrain == 0) {
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
        tcat_corpus_label_counts(&all, K, counts);
        for (size_t k = 0; k < K; k++)
            if (counts[k] < 2)
                say(o, 1, "warning: class '%s' has %" PRIu64 " training document(s)",
                    tcat_labels_name(labels, (int32_t)k), counts[k]);
        free(counts);
    }
    bool multilabel = o->multilabel || all.stats.multi_label > 0;
    say(o, 1, multilabel ? "%zu labels, multi-label: one-vs-all models with per-label thresholds"
                         : "%zu classes", K);
    if (o->dev) {
        tcat_corpus_stats before = all.stats;
        if ((st = tcat_corpus_read(&all, o->dev, fmt, tok, labels, false, &err)) != TCAT_OK)
            goto fail;
        say(o, 1, "%s: %zu documents", o->dev, all.n - ntrain);
        if (all.stats.unknown_labels > before.unknown_labels)
            say(o, 1, "%s: %" PRIu64 " label(s) not in TRAIN: those documents are left out",
                o->dev, all.stats.unknown_labels - before.unknown_labels);
    }
    labelled = malloc(all.n * sizeof *labelled);
    if (!labelled) {
        st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
        goto fail;
    }
    size_t nlab = 0, ndev_lab = 0;
    for (size_t i = 0; i < all.n; i++)
        if (all.label[i] >= 0) {
            labelled[nlab++] = i;
            ndev_lab += i >= ntrain;
        }
    if (o->dev && ndev_lab == 0) {
        st = tcat_fail(&err, TCAT_ERR_INPUT, "%s: no document with a label known from TRAIN",
                       o->dev);
        goto fail;
    }

    /* how candidates are scored */
    if (nlab < CV_MAX_DOCS && all.ntok < CV_MAX_TOKENS && nlab >= 2 * CV_FOLDS) {
        st = tcat_plan_kfold(&plan, &all, labelled, nlab, CV_FOLDS, o->seed);
        say(o, 1, "scoring candidates by %d-fold cross-validation over %zu documents%s",
            CV_FOLDS, nlab, o->dev ? " (TRAIN and DEV)" : "");
    } else if (o->dev) {
        st = tcat_plan_holdout(&plan, &all, labelled, nlab - ndev_lab, labelled + nlab - ndev_lab,
                               ndev_lab);
        say(o, 1, "scoring candidates on the %zu documents of %s", ndev_lab, o->dev);
    } else {
        size_t nkeep, nheld;
        st = tcat_split_holdout(all.label, all.n, 0.1, o->seed, &keep, &nkeep, &held, &nheld);
        if (st == TCAT_OK)
            st = tcat_plan_holdout(&plan, &all, keep, nkeep, held, nheld);
        say(o, 1, "scoring candidates on a stratified holdout of %zu documents (10%%)", nheld);
    }
    if (st != TCAT_OK) {
        tcat_fail(&err, st, "out of memory");
        goto fail;
    }

    if (o->vectors) {
        tcat_vec_options vo;
        tcat_vec_options_default(&vo);
        vo.subwords = true;
        if ((st = tcat_vec_load(&vectors, o->vectors, &tcfg, &vo, &err)) != TCAT_OK)
            goto fail;
        say(o, 1, "%s: %zu vectors of dimension %zu", o->vectors, tcat_vec_count(vectors),
            tcat_vec_dim(vectors));
    }
    if (o->unlabeled) {
        if ((st = tcat_corpus_read_lines(&unlabeled, o->unlabeled, tok, &err)) != TCAT_OK)
            goto fail;
        say(o, 1, "%s: %zu documents, %zu tokens (unlabelled)", o->unlabeled, unlabeled.n,
            unlabeled.ntok);
    }
    double max_memory = o->max_memory;
    if (max_memory <= 0) { /* the machine's, shared by the trials running at once */
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        max_memory = pages > 0 && page > 0 ? 0.8 * (double)pages * (double)page / o->threads : 0;
    }
    tcat_search_opts so = {.t0 = t0,
                           .budget = o->budget,
                           .trials = o->trials > 0 ? (size_t)o->trials : 0,
                           .metric = o->metric,
                           .threads = o->threads,
                           .seed = o->seed,
                           .max_members = o->max_members,
                           .families = o->families[0] ? o->families : NULL,
                           .fixed_family = o->params ? o->families[0] : NULL,
                           .fixed_params = o->params,
                           .vectors = vectors,
                           .unlabeled = o->unlabeled ? &unlabeled : NULL,
                           .class_weight = o->class_weight,
                           .min_throughput = o->min_throughput,
                           .multilabel = multilabel,
                           .max_memory = (size_t)max_memory,
                           .progress = progress,
                           .ctx = o};
    o->t0 = t0;
    o->tty = isatty(2);
    st = tcat_search_run(&search, &so, &plan, K, &err);
    progress_end(o);
    if (st != TCAT_OK)
        goto fail;
    size_t tried = 0;
    for (size_t i = 0; i < search.ncand; i++)
        tried += search.cands[i].done;
    say(o, 1, "%zu of %zu candidates fitted in %.1fs", tried, search.ncand, tcat_now() - t0);
    board = leaderboard(o, search.cands, search.ncand);
    if (search.out_of_memory)
        say(o, 1, "%zu candidate(s) left out for memory, e.g.: %s", search.out_of_memory,
            search.memory_note);
    if (search.sample_share > 0)
        say(o, 0, "warning: no candidate could be scored on all the data within %gs: the model "
                  "is %s fitted on a sample of %.1f%% of the documents; give more --time for "
                  "a better one", o->budget, search.cands[search.best].family,
            100 * search.sample_share);
    if (search.costly.members > 1)
        say(o, 1, "an ensemble of %zu candidates would gain %+.4f held-out %s out of fold, within "
                  "the noise of the comparison (%.4f), and predict %.1fx slower: the best "
                  "single candidate instead",
            search.costly.members, search.costly.gain, tcat_metric_name(o->metric),
            search.costly.noise, search.costly.factor);
    if (search.members > 1)
        say(o, 1, "ensemble of %zu candidates (weights above), %s: held-out %s %.4f out of fold "
                  "over the pool (best single %.4f, average %.4f, stack %.4f)",
            search.members, tcat_combine_kind_name(search.comb.kind),
            tcat_metric_name(o->metric), search.final_score, search.comb.cv_score[0],
            search.comb.cv_score[1], search.comb.cv_score[2]);

    /* refit on every labelled document */
    if ((st = tcat_model_new(&model, &tcfg, &err)) != TCAT_OK)
        goto fail;
    for (size_t k = 0; k < K; k++) {
        int32_t id;
        const char *name = tcat_labels_name(labels, (int32_t)k);
        if (tcat_labels_intern(model->labels, name, strlen(name), &id) != TCAT_OK) {
            st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    double tr = tcat_now();
    tcat_docs final_docs = {&all, labelled, nlab};
    if ((st = tcat_search_refit(&search, &so, &final_docs, K, model, &err)) != TCAT_OK)
        goto fail;
    double refit_seconds = tcat_now() - tr;
    say(o, 1, "refitted %zu member(s) on %zu documents in %.1fs", model->nmembers, nlab,
        refit_seconds);

    char created[32], hash[17];
    tcat_model_timestamp(created, sizeof created);
    data_hash(&all, hash);
    json_object_set_new(model->meta, "tcat_version", json_string(TCAT_VERSION));
    json_object_set_new(model->meta, "created", json_string(created));
    json_object_set_new(model->meta, "data", json_pack("{s:s, s:I, s:I}", "hash", hash,
                                                       "documents", (json_int_t)nlab,
                                                       "heldout_documents",
                                                       (json_int_t)plan.npool));
    json_object_set_new(model->meta, "metric", json_string(tcat_metric_name(o->metric)));
    json_object_set_new(model->meta, "heldout_score", json_real(search.final_score));
    json_object_set_new(model->meta, "scoring", json_string(plan.npairs > 1 ? "5-fold" : "holdout"));
    json_object_set_new(model->meta, "seed", json_integer((json_int_t)o->seed));
    if (multilabel)
        json_object_set_new(model->meta, "multilabel", json_true());
    if (search.sample_share > 0)
        json_object_set_new(model->meta, "sample_share", json_real(search.sample_share));
    json_object_set_new(model->meta, "threads", json_integer(o->threads));
    json_object_set_new(model->meta, "candidates_fitted", json_integer((json_int_t)tried));

    if (o->promote && access(o->output, F_OK) == 0) {
        double old_score = 0;
        tcat_error oerr = {0};
        const char *src = o->dev ? o->dev : o->train;
        st = o->dev ? score_existing(o, src, fmt, NULL, 0, &old_score, &oerr)
                    : score_existing(o, src, fmt, plan.pool_idx, plan.npool, &old_score, &oerr);
        if (st == TCAT_OK && old_score > search.final_score) {
            say(o, 0, "not promoted: the existing %s scores %.4f on the held-out documents, the "
                      "new model %.4f; %s is unchanged", o->output, old_score,
                search.final_score, o->output);
            code = TCAT_EXIT_NOT_PROMOTED;
            goto out;
        }
        if (st == TCAT_OK)
            say(o, 1, "promoted: new %.4f >= existing %.4f", search.final_score, old_score);
        else
            say(o, 1, "the existing %s cannot be scored (%s): replacing it", o->output, oerr.msg);
    }
    if ((st = tcat_model_save(model, o->output, &err)) != TCAT_OK)
        goto fail;
    say(o, 1, "wrote %s (held-out %s %.4f) in %.1fs", o->output, tcat_metric_name(o->metric),
        search.final_score, tcat_now() - t0);

    if (o->report) {
        json_t *names = json_array();
        for (size_t k = 0; k < K; k++)
            json_array_append_new(names, json_string(tcat_labels_name(labels, (int32_t)k)));
        json_t *rep = json_pack("{s:s, s:s, s:s, s:f, s:O, s:O, s:o, s:f, s:I, s:I, s:I}",
                                "model", o->output, "metric", tcat_metric_name(o->metric),
                                "scoring", plan.npairs > 1 ? "5-fold" : "holdout",
                                "heldout_score", search.final_score, "leaderboard", board,
                                "heldout_metrics",
                                search.best_metrics ? search.best_metrics : json_null(),
                                "labels", names, "seconds", tcat_now() - t0,
                                "candidates_fitted", (json_int_t)tried, "candidates",
                                (json_int_t)search.ncand, "members",
                                (json_int_t)model->nmembers);
        if (rep) {
            json_object_set_new(rep, "refit_seconds", json_real(refit_seconds));
            json_object_set_new(rep, "refit_documents", json_integer((json_int_t)nlab));
            json_object_set_new(rep, "refit_tokens", json_integer((json_int_t)all.ntok));
            json_object_set_new(rep, "candidates_out_of_memory",
                                json_integer((json_int_t)search.out_of_memory));
            json_object_set_new(rep, "multilabel", json_boolean(multilabel));
            if (search.sample_share > 0)
                json_object_set_new(rep, "sample_share", json_real(search.sample_share));
            if (search.costly.members > 1)
                json_object_set_new(rep, "ensemble_left_out",
                                    json_pack("{s:I, s:f, s:f, s:f}", "members",
                                              (json_int_t)search.costly.members, "gain",
                                              search.costly.gain, "noise", search.costly.noise,
                                              "slower", search.costly.factor));
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
    tcat_search_free(&search);
    tcat_plan_free(&plan);
    tcat_vec_free(&vectors);
    tcat_corpus_free(&unlabeled);
    json_decref(board);
    tcat_model_free(&model);
    free(keep);
    free(held);
    free(labelled);
    tcat_corpus_free(&all);
    tcat_labels_free(&labels);
    tcat_tok_free(&tok);
    tcat_tok_config_clear(&tcfg);
    return code;
}

int cmd_train(int argc, char **argv)
{
    enum { O_DEV = 256, O_TIME, O_TRIALS, O_MODELS, O_METRIC, O_THREADS, O_SEED, O_FORMAT,
           O_REPORT, O_PROMOTE, O_VECTORS, O_UNLABELED, O_MAX_MEMBERS, O_PARAMS, O_CLASS_WEIGHT,
           O_MIN_THROUGHPUT, O_MULTILABEL, O_MAX_MEMORY, O_KEEP_CASE };
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
        {"params", required_argument, NULL, O_PARAMS},
        {"class-weight", required_argument, NULL, O_CLASS_WEIGHT},
        {"min-throughput", required_argument, NULL, O_MIN_THROUGHPUT},
        {"multilabel", no_argument, NULL, O_MULTILABEL},
        {"keep-case", no_argument, NULL, O_KEEP_CASE},
        {"max-memory", required_argument, NULL, O_MAX_MEMORY},
        {"vectors", required_argument, NULL, O_VECTORS},
        {"unlabeled", required_argument, NULL, O_UNLABELED}, {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'}, {NULL, 0, NULL, 0},
    };
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    options o = {.output = "model.tcat", .budget = 300, .metric = TCAT_METRIC_MACRO_F1,
                 .threads = ncpu > 0 ? (int)ncpu : 1, .seed = 1, .verbosity = 1,
                 .max_members = 4, .class_weight = -1};
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
            size_t nf = 0;
            for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                const tcat_pipeline_ops *fam = tcat_pipeline_family(t);
                if (fam) {
                    if (nf < 7)
                        o.families[nf++] = fam->family;
                    continue;
                }
                int r = cli_usage_error("train", "--models: unknown family '%s' "
                                                 "(linear, fasttext, cnn, rnn)", t);
                free(list);
                return r;
            }
            free(list);
            if (nf == 0)
                return cli_usage_error("train", "--models: no family named");
            o.families[nf] = NULL;
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
        case O_PARAMS: o.params = optarg; break;
        case O_MAX_MEMBERS: {
            long v = strtol(optarg, &e, 10);
            if (*e || v < 1 || v > 64)
                return cli_usage_error("train", "--max-members wants a number from 1 to 64, not "
                                                "'%s'", optarg);
            o.max_members = (size_t)v;
            break;
        }
        case O_CLASS_WEIGHT:
            if (!strcmp(optarg, "balanced"))
                o.class_weight = 1;
            else if (!strcmp(optarg, "none"))
                o.class_weight = 0;
            else
                return cli_usage_error("train", "--class-weight wants balanced or none, not '%s'",
                                       optarg);
            break;
        case O_MIN_THROUGHPUT:
            o.min_throughput = strtod(optarg, &e);
            if (*e || !(o.min_throughput > 0))
                return cli_usage_error("train", "--min-throughput wants documents per second, "
                                                "not '%s'", optarg);
            break;
        case O_MULTILABEL: o.multilabel = true; break;
        case O_KEEP_CASE: o.keep_case = true; break;
        case O_MAX_MEMORY:
            if (parse_size(optarg, &o.max_memory) != TCAT_OK)
                return cli_usage_error("train", "--max-memory wants a size like 512M or 2G, not "
                                                "'%s'", optarg);
            break;
        case O_VECTORS: o.vectors = optarg; break;
        case O_UNLABELED: o.unlabeled = optarg; break;
        case 'q': o.verbosity = 0; break;
        case 'v': o.verbosity = 2; break;
        case ':': return cli_usage_error("train", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("train", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (o.params) {
        json_error_t je;
        json_t *j = json_loads(o.params, 0, &je);
        bool object = json_is_object(j);
        json_decref(j);
        if (!object)
            return cli_usage_error("train", "--params wants a JSON object, not '%s'", o.params);
        if (!o.families[0] || o.families[1])
            return cli_usage_error("train", "--params needs exactly one family in --models");
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
