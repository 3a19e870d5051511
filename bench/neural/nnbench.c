/*
 * bench/neural/nnbench.c — fits one neural pipeline (pipelines/cnn.h,
 * pipelines/rnn.h) with fixed hyperparameters and times the fit alone.
 *
 *   nnbench FAMILY PARAMS_JSON TRAIN DEV TEST [--threads N] [--seed N]
 *           [--vectors FILE] [--pred OUT] [--proba OUT] [--dev-pred OUT]
 *           [--keep-case]
 *
 * TRAIN, DEV and TEST are label<TAB>text files, read with the default
 * tokenizer (as `tcat train` reads them). The pipeline is fitted on TRAIN
 * with DEV as its dev set (early stopping, temperature) — DEV "-" means
 * none: every epoch of PARAMS runs (the speed runs) — then TEST is
 * predicted ("-": skipped) and, with --pred, the predicted label names go
 * to OUT one per line (for ../shared/peers/score.py); --dev-pred writes
 * DEV's the same way, from the fitted model (for choosing settings on dev
 * without a second fit); --proba writes TEST's class probabilities, every
 * class in label order as `tcat predict --proba` does (label<TAB>p...),
 * for blending with other models' (bench/compare/blend_oof.py). Punctuation tokens
 * are kept in the corpus, as `tcat train` keeps them (cli/train.c), and
 * the family's "punct" hyperparameter decides whether it reads them.
 * --keep-case turns the tokenizer's case folding off (Kim keeps TREC's
 * case; `tcat tokenize --keep-case` does the same).
 * Prints one JSON line on stdout:
 *
 *   family, params        the effective hyperparameters after fit ("epochs"
 *                         is the best epoch when dev stopped it early)
 *   epochs_requested      "epochs" before fit
 *   epochs_run            epochs actually trained: without dev, all of
 *                         them; with dev, min(requested, best + patience),
 *                         which is the stopping rule of pipelines/neural.c
 *                         (it does not report the count; inferred)
 *   fit_seconds           tcat_now() around tcat_pipeline_fit only: the
 *                         vocabulary, the embedding init (skip-gram
 *                         included), every epoch and, with dev, its
 *                         scoring after each epoch and the calibration
 *   train_docs, dev_docs, test_docs
 *   sentences_per_second  train_docs x epochs_run / fit_seconds (with dev
 *                         it includes the dev scoring: the speed runs
 *                         measure without)
 *   predict_seconds, predict_docs_per_second   TEST, tokenized beforehand
 *   vocabulary            words of the fitted model (tcat_pipeline_describe)
 *
 * Exit codes: tcat's (2 usage, 3 bad input, 4 I/O, ...).
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "corpora/corpus.h"
#include "corpora/labels.h"
#include "embeddings/vectors.h"
#include "pipelines/pipeline.h"
#include "tokenizer/tokenizer.h"

static const char usage[] =
    "usage: nnbench FAMILY PARAMS_JSON TRAIN DEV TEST [--threads N] [--seed N]\n"
    "               [--vectors FILE] [--unlabeled FILE] [--pred OUT] [--proba OUT]\n"
    "               [--dev-pred OUT] [--keep-case]\n"
    "  --unlabeled FILE: text without labels, a document a line, for the in-domain\n"
    "  word vectors (\"init\":\"skipgram\"), as `tcat train --unlabeled`\n"
    "  DEV or TEST '-': none (no early stopping / no prediction)\n";

static int fail(const char *what, tcat_status st, const tcat_error *err)
{
    fprintf(stderr, "nnbench: %s: %s\n", what, err->msg[0] ? err->msg : tcat_strerror(st));
    return tcat_status_exit_code(st);
}

static long param_int(const json_t *p, const char *key, long dflt)
{
    const json_t *v = json_object_get(p, key);
    return json_is_number(v) ? (long)json_number_value(v) : dflt;
}

/* The labelled documents of c (label known from TRAIN), as a view. */
static size_t *labelled(const tcat_corpus *c, size_t *n)
{
    size_t *idx = malloc((c->n ? c->n : 1) * sizeof *idx);
    *n = 0;
    if (!idx)
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        if (c->label[i] >= 0)
            idx[(*n)++] = i;
    return idx;
}

/* The most probable label of each of the n rows of proba (K each), one
 * name per line to path; with all, every label and its probability
 * instead (label<TAB>p<TAB>..., label order); 0 or the I/O exit code. */
static int write_pred(const char *path, const float *proba, size_t n, size_t K,
                      const tcat_labels *labels, bool all)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "nnbench: cannot write '%s': %s\n", path, strerror(errno));
        return 4;
    }
    for (size_t i = 0; i < n; i++) {
        const float *r = proba + i * K;
        if (all) {
            for (size_t k = 0; k < K; k++)
                fprintf(f, "%s%s\t%.6f", k ? "\t" : "", tcat_labels_name(labels, (int32_t)k),
                        r[k]);
            fputc('\n', f);
            continue;
        }
        size_t b = 0;
        for (size_t k = 1; k < K; k++)
            if (r[k] > r[b])
                b = k;
        fprintf(f, "%s\n", tcat_labels_name(labels, (int32_t)b));
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "nnbench: writing '%s' failed\n", path);
        return 4;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *pos[5], *vectors_path = NULL, *pred_path = NULL, *unlabeled_path = NULL;
    const char *dev_pred_path = NULL, *proba_path = NULL;
    int npos = 0, threads = 1;
    bool keep_case = false;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strcmp(a, "--keep-case")) {
            keep_case = true;
            continue;
        }
        if (!strncmp(a, "--", 2)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nnbench: %s needs a value\n%s", a, usage);
                return 2;
            }
            const char *v = argv[++i];
            char *e;
            errno = 0;
            if (!strcmp(a, "--threads")) {
                long t = strtol(v, &e, 10);
                if (*e || errno || t < 1 || t > 1024) {
                    fprintf(stderr, "nnbench: --threads wants 1..1024, not '%s'\n", v);
                    return 2;
                }
                threads = (int)t;
            } else if (!strcmp(a, "--seed")) {
                seed = strtoull(v, &e, 10);
                if (*e || errno || v[0] == '-') {
                    fprintf(stderr, "nnbench: --seed wants a number, not '%s'\n", v);
                    return 2;
                }
            } else if (!strcmp(a, "--vectors"))
                vectors_path = v;
            else if (!strcmp(a, "--unlabeled"))
                unlabeled_path = v;
            else if (!strcmp(a, "--pred"))
                pred_path = v;
            else if (!strcmp(a, "--proba"))
                proba_path = v;
            else if (!strcmp(a, "--dev-pred"))
                dev_pred_path = v;
            else {
                fprintf(stderr, "nnbench: unknown option '%s'\n%s", a, usage);
                return 2;
            }
            continue;
        }
        if (npos == 5) {
            fprintf(stderr, "nnbench: too many arguments\n%s", usage);
            return 2;
        }
        pos[npos++] = a;
    }
    if (npos != 5) {
        fputs(usage, stderr);
        return 2;
    }
    const char *family = pos[0], *params_s = pos[1], *train_path = pos[2];
    const char *dev_path = strcmp(pos[3], "-") ? pos[3] : NULL;
    const char *test_path = strcmp(pos[4], "-") ? pos[4] : NULL;
    if (!tcat_pipeline_family(family)) {
        fprintf(stderr, "nnbench: unknown family '%s'\n", family);
        return 2;
    }
    json_error_t je;
    json_t *params = json_loads(params_s, 0, &je);
    if (!json_is_object(params)) {
        fprintf(stderr, "nnbench: PARAMS_JSON wants a JSON object, not '%s'\n", params_s);
        json_decref(params);
        return 2;
    }

    tcat_error err = {0};
    tcat_status st;
    int code = 0;
    tcat_tok_config cfg;
    tcat_tok_config_default(&cfg);
    cfg.keep_punct = true; /* as `tcat train`: each family decides (its "punct") */
    cfg.casefold = !keep_case;
    tcat_tok *tok = NULL;
    tcat_labels *labels = NULL;
    tcat_corpus train, dev, test, unl;
    tcat_corpus_init(&unl);
    tcat_corpus_init(&train);
    tcat_corpus_init(&dev);
    tcat_corpus_init(&test);
    tcat_vec *vec = NULL;
    tcat_pipeline *p = NULL;
    size_t *dev_idx = NULL;
    float *proba = NULL;
    json_t *out = NULL;

    if ((st = tcat_tok_init(&tok, &cfg, &err)) != TCAT_OK) {
        code = fail("tokenizer", st, &err);
        goto done;
    }
    if (tcat_labels_new(&labels) != TCAT_OK) {
        code = fail("labels", TCAT_ERR_NOMEM, &err);
        goto done;
    }
    if ((st = tcat_corpus_read(&train, train_path, TCAT_FORMAT_TSV, tok, labels, true, &err)) !=
        TCAT_OK) {
        code = fail(train_path, st, &err);
        goto done;
    }
    size_t K = tcat_labels_count(labels);
    if (train.n == 0 || K < 2) {
        fprintf(stderr, "nnbench: %s: needs documents of at least two labels\n", train_path);
        code = 3;
        goto done;
    }
    size_t ndev = 0, ntest = 0;
    if (dev_path) {
        if ((st = tcat_corpus_read(&dev, dev_path, TCAT_FORMAT_TSV, tok, labels, false, &err)) !=
            TCAT_OK) {
            code = fail(dev_path, st, &err);
            goto done;
        }
        if (!(dev_idx = labelled(&dev, &ndev))) {
            code = fail("dev", TCAT_ERR_NOMEM, &err);
            goto done;
        }
    }
    if (test_path &&
        (st = tcat_corpus_read(&test, test_path, TCAT_FORMAT_TSV, tok, labels, false, &err)) !=
            TCAT_OK) {
        code = fail(test_path, st, &err);
        goto done;
    }
    ntest = test.n;
    if (unlabeled_path &&
        (st = tcat_corpus_read_lines(&unl, unlabeled_path, tok, &err)) != TCAT_OK) {
        code = fail(unlabeled_path, st, &err);
        goto done;
    }
    if (vectors_path) {
        tcat_vec_options vo;
        tcat_vec_options_default(&vo);
        vo.subwords = true; /* as `tcat train --vectors` */
        if ((st = tcat_vec_load(&vec, vectors_path, &cfg, &vo, &err)) != TCAT_OK) {
            code = fail(vectors_path, st, &err);
            goto done;
        }
    }

    if ((st = tcat_pipeline_create(&p, family, params, K, &err)) != TCAT_OK) {
        code = fail("create", st, &err);
        goto done;
    }
    const json_t *before = tcat_pipeline_params(p);
    long epochs_req = param_int(before, "epochs", 0), patience = param_int(before, "patience", 0);

    tcat_docs tr = {&train, NULL, train.n}, dv = {&dev, dev_idx, ndev};
    tcat_fit_opts fo = {.threads = threads, .seed = (uint64_t)seed, .vectors = vec,
                        .unlabeled = unlabeled_path ? &unl : NULL};
    double t0 = tcat_now();
    if ((st = tcat_pipeline_fit(p, &tr, dev_path ? &dv : NULL, &fo, &err)) != TCAT_OK) {
        code = fail("fit", st, &err);
        goto done;
    }
    double fit_s = tcat_now() - t0;
    const json_t *after = tcat_pipeline_params(p);
    long best = param_int(after, "epochs", epochs_req);
    long run = epochs_req;
    if (dev_path && ndev > 0 && best < epochs_req)
        run = best + patience < epochs_req ? best + patience : epochs_req;

    double pred_s = 0;
    if (test_path && ntest > 0) {
        if (!(proba = malloc(ntest * K * sizeof *proba))) {
            code = fail("predict", TCAT_ERR_NOMEM, &err);
            goto done;
        }
        tcat_docs te = {&test, NULL, ntest};
        double t1 = tcat_now();
        if ((st = tcat_pipeline_predict_proba(p, &te, proba, threads, &err)) != TCAT_OK) {
            code = fail("predict", st, &err);
            goto done;
        }
        pred_s = tcat_now() - t1;
        if (pred_path && (code = write_pred(pred_path, proba, ntest, K, labels, false)) != 0)
            goto done;
        if (proba_path && (code = write_pred(proba_path, proba, ntest, K, labels, true)) != 0)
            goto done;
    }
    if (dev_pred_path && dev_path) {
        float *dp = malloc((dev.n ? dev.n : 1) * K * sizeof *dp);
        tcat_docs de = {&dev, NULL, dev.n};
        if (!dp)
            st = TCAT_ERR_NOMEM;
        else
            st = tcat_pipeline_predict_proba(p, &de, dp, threads, &err);
        if (st != TCAT_OK) {
            free(dp);
            code = fail("predict dev", st, &err);
            goto done;
        }
        code = write_pred(dev_pred_path, dp, dev.n, K, labels, false);
        free(dp);
        if (code != 0)
            goto done;
    }

    json_t *desc = tcat_pipeline_describe(p);
    const json_t *words = desc ? json_object_get(desc, "words") : NULL;
    out = json_pack("{s:s, s:O, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:f, s:i, s:I}", "family",
                    family, "params", after, "epochs_requested", (json_int_t)epochs_req,
                    "epochs_best", (json_int_t)best, "epochs_run", (json_int_t)run,
                    "fit_seconds", fit_s, "train_docs", (json_int_t)train.n, "dev_docs",
                    (json_int_t)ndev, "test_docs", (json_int_t)ntest,
                    "sentences_per_second",
                    fit_s > 0 ? (double)train.n * (double)run / fit_s : 0.0, "threads", threads,
                    "seed", (json_int_t)seed);
    if (out && test_path) {
        json_object_set_new(out, "predict_seconds", json_real(pred_s));
        json_object_set_new(out, "predict_docs_per_second",
                            json_real(pred_s > 0 ? (double)ntest / pred_s : 0.0));
    }
    if (out && words)
        json_object_set(out, "vocabulary", (json_t *)words);
    json_decref(desc);
    char *s = out ? json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    if (!s) {
        code = fail("output", TCAT_ERR_NOMEM, &err);
        goto done;
    }
    puts(s);
    free(s);
done:
    json_decref(out);
    free(proba);
    free(dev_idx);
    tcat_pipeline_free(&p);
    tcat_vec_free(&vec);
    tcat_corpus_free(&unl);
    tcat_corpus_free(&test);
    tcat_corpus_free(&dev);
    tcat_corpus_free(&train);
    tcat_labels_free(&labels);
    tcat_tok_free(&tok);
    tcat_tok_config_clear(&cfg);
    json_decref(params);
    return code;
}
