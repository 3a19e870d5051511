/* cli/eval.c — `tcat eval`: how well a model classifies labelled data. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/json.h"
#include "corpora/corpus.h"
#include "corpora/labels.h"
#include "corpora/reader.h"
#include "embeddings/tensor.h"
#include "model/model.h"
#include "pipelines/pipeline.h"
#include "search/metrics.h"
#include "search/thresholds.h"
#include "tokenizer/tokenizer.h"

const char cmd_eval_help[] =
    "usage: tcat eval [OPTIONS] MODEL TEST\n"
    "\n"
    "Scores MODEL on the labelled documents of TEST: accuracy, macro-, weighted-\n"
    "and micro-F1, per-class precision, recall and F1, and the confusion matrix.\n"
    "Each document is predicted as its most probable class and scored against\n"
    "its (first) label. A multi-label model predicts each document's set of\n"
    "labels (those over their thresholds, see tcat predict --help) and is scored\n"
    "against all its labels: exact match instead of accuracy, per-label\n"
    "precision, recall and F1, their micro-, macro- and weighted means, no\n"
    "confusion matrix.\n"
    "\n"
    "TEST may be in any input layout ('-' is stdin), detected automatically:\n"
    "  a folder with one subfolder per label, each holding text files;\n"
    "  .tsv: label<TAB>text;  .csv with \"label\" and \"text\" columns;\n"
    "  .jsonl: {\"label\": ..., \"text\": ...};  fastText: __label__X text.\n"
    "TEST is tokenized with the model's tokenizer settings. A label the model\n"
    "does not know cannot be scored: such documents are counted and reported\n"
    "on stderr, not an error.\n"
    "\n"
    "Options (defaults in brackets):\n"
    "  --json               a JSON report (with \"model\", \"test\", \"documents\")\n"
    "                       instead of the tables [tables]\n"
    "  --format F           read TEST as F: folder, tsv, csv, jsonl or fasttext\n"
    "                       [detected from the path and first line]\n"
    "  --threads N          threads for prediction [all cores]\n"
    "  -q, --quiet          no summary of repaired input on stderr\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit codes: 0 done, 2 usage error, 3 malformed TEST (FILE:LINE in the\n"
    "message) or no documents, 4 I/O error, 5 bad model file.\n";

#define CMD "eval"

/* Documents predicted per call (bounds the probability buffer). */
#define EVAL_BATCH 4096

static bool parse_count(const char *s, unsigned long long lo, unsigned long long hi,
                        unsigned long long *out)
{
    char *e;
    errno = 0;
    if (!s[0] || s[0] == '-' || s[0] == '+')
        return false;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || *e || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Labels of TEST the model does not know, and how many documents carry
 * each. */
typedef struct unknowns {
    tcat_labels *names;
    uint64_t *docs;
    size_t cap;
} unknowns;

static tcat_status note_unknown(void *ctx, const char *name, size_t len)
{
    unknowns *u = ctx;
    int32_t id;
    if (tcat_labels_intern(u->names, name, len, &id) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    if ((size_t)id >= u->cap) {
        size_t cap = u->cap ? 2 * u->cap : 16;
        uint64_t *v = realloc(u->docs, cap * sizeof *v);
        if (!v)
            return TCAT_ERR_NOMEM;
        memset(v + u->cap, 0, (cap - u->cap) * sizeof *v);
        u->docs = v;
        u->cap = cap;
    }
    u->docs[id]++;
    return TCAT_OK;
}

/* The prediction of every document of c: its most probable class into
 * pred, or with a multi-label model its label set into sets (n x K). */
static tcat_status predict_all(const tcat_model *m, const tcat_corpus *c, int threads,
                               int32_t *pred, uint8_t *sets, tcat_error *err)
{
    size_t K = tcat_model_classes(m);
    size_t rows = c->n < EVAL_BATCH ? c->n : EVAL_BATCH;
    float *proba = malloc((rows ? rows : 1) * K * sizeof *proba);
    size_t *idx = malloc((rows ? rows : 1) * sizeof *idx);
    tcat_status st = TCAT_OK;
    if (!proba || !idx)
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    for (size_t start = 0; st == TCAT_OK && start < c->n; start += rows) {
        size_t n = c->n - start < rows ? c->n - start : rows;
        for (size_t i = 0; i < n; i++)
            idx[i] = start + i;
        tcat_docs docs = {c, idx, n};
        if ((st = tcat_model_predict_proba(m, &docs, proba, threads, err)) != TCAT_OK)
            break;
        if (m->thresholds) {
            tcat_thresholds_apply(proba, n, K, m->thresholds, sets + start * K);
            continue;
        }
        for (size_t i = 0; i < n; i++)
            pred[start + i] = (int32_t)tcat_argmax(proba + i * K, K);
    }
    free(proba);
    free(idx);
    return st;
}

static void report_unknowns(const char *test, const tcat_metrics *mt, const unknowns *u)
{
    size_t n = u->names ? tcat_labels_count(u->names) : 0;
    if (!mt->unknown)
        return;
    fprintf(stderr, "tcat eval: %s: %" PRIu64 " document(s) with a label the model does not know"
                    " (not scored):", test, mt->unknown);
    for (size_t i = 0; i < n && i < 10; i++)
        fprintf(stderr, "%s '%s' (%" PRIu64 ")", i ? "," : "",
                tcat_labels_name(u->names, (int32_t)i), u->docs[i]);
    if (n > 10)
        fprintf(stderr, ", ... (%zu labels)", n);
    fputc('\n', stderr);
}

int cmd_eval(int argc, char **argv)
{
    enum { O_JSON = 256, O_FORMAT, O_THREADS };
    static const struct option longopts[] = {
        {"json", no_argument, NULL, O_JSON},
        {"format", required_argument, NULL, O_FORMAT},
        {"threads", required_argument, NULL, O_THREADS},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    bool json = false, quiet = false;
    tcat_format fmt = TCAT_FORMAT_AUTO;
    int threads = 0;
    tcat_error err = {0};
    opterr = 0;
    optind = 1;
    int c;
    unsigned long long v;
    while ((c = getopt_long(argc, argv, ":q", longopts, NULL)) != -1) {
        switch (c) {
        case O_JSON: json = true; break;
        case 'q': quiet = true; break;
        case O_FORMAT:
            if (tcat_format_parse(optarg, &fmt, &err) != TCAT_OK)
                return cli_usage_error(CMD, "--format: %s", err.msg);
            break;
        case O_THREADS:
            if (!parse_count(optarg, 1, 4096, &v))
                return cli_usage_error(CMD, "--threads wants a number from 1 to 4096, not '%s'",
                                       optarg);
            threads = (int)v;
            break;
        case ':':
            return cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error(CMD, "missing MODEL and TEST");
    if (optind + 1 >= argc)
        return cli_usage_error(CMD, "missing TEST");
    if (optind + 2 < argc)
        return cli_usage_error(CMD, "one TEST only, not '%s' too", argv[optind + 2]);
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n < 1 ? 1 : n > 4096 ? 4096 : (int)n;
    }
    const char *model_path = argv[optind], *test = argv[optind + 1];

    tcat_model *m = NULL;
    tcat_tok *tok = NULL;
    tcat_corpus corpus;
    tcat_corpus_init(&corpus);
    unknowns u = {0};
    int32_t *pred = NULL;
    uint8_t *sets = NULL, *truth = NULL;
    tcat_metrics mt = {0};
    json_t *report = NULL;
    tcat_status st = tcat_model_load(&m, model_path, &err);
    if (st != TCAT_OK)
        goto done;
    if ((st = tcat_tok_init(&tok, &m->tok, &err)) != TCAT_OK) {
        st = tcat_fail(&err, st == TCAT_ERR_INPUT ? TCAT_ERR_MODEL : st, "%s: tokenizer: %s",
                       model_path, err.msg);
        goto done;
    }
    if (tcat_labels_new(&u.names) != TCAT_OK) {
        st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = tcat_corpus_read_ex(&corpus, test, fmt, tok, m->labels, false, note_unknown, &u,
                                  &err)) != TCAT_OK)
        goto done;
    if (corpus.n == 0) {
        st = tcat_fail(&err, TCAT_ERR_INPUT, "%s: no documents to score", test);
        goto done;
    }
    size_t K = tcat_model_classes(m);
    tcat_docs all = {&corpus, NULL, corpus.n};
    pred = malloc(corpus.n * sizeof *pred);
    if (m->thresholds) {
        sets = malloc(corpus.n * K);
        truth = tcat_docs_targets(&all, K);
    }
    if (!pred || (m->thresholds && (!sets || !truth))) {
        st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = predict_all(m, &corpus, threads, pred, sets, &err)) != TCAT_OK)
        goto done;
    if ((st = m->thresholds ? tcat_metrics_compute_sets(&mt, truth, sets, corpus.n, K, &err)
                            : tcat_metrics_compute(&mt, corpus.label, pred, corpus.n, K, &err)) !=
        TCAT_OK)
        goto done;

    report_unknowns(test, &mt, &u);
    if (!quiet && (corpus.stats.invalid_utf8 || corpus.stats.nul_bytes))
        fprintf(stderr,
                "tcat eval: %s: repaired %" PRIu64
                " invalid UTF-8 sequence(s) (replaced by U+FFFD) and %" PRIu64
                " NUL byte(s) (read as spaces)\n",
                test, corpus.stats.invalid_utf8, corpus.stats.nul_bytes);
    const char *const *names = tcat_labels_names(m->labels);
    if (json) {
        json_t *metrics = tcat_metrics_to_json(&mt, names);
        report = json_object();
        char *s = NULL;
        if (!metrics || !report ||
            json_object_set_new(report, "model", tcat_json_text(model_path)) ||
            json_object_set_new(report, "test", tcat_json_text(test)) ||
            json_object_set_new(report, "documents", json_integer((json_int_t)corpus.n)) ||
            json_object_update(report, metrics) ||
            !(s = json_dumps(report, JSON_INDENT(2) | JSON_REAL_PRECISION(6)))) {
            json_decref(metrics);
            st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
            goto done;
        }
        json_decref(metrics);
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    } else {
        printf("model %s, test %s: %zu documents\n\n", model_path, test, corpus.n);
        if ((st = tcat_metrics_print(&mt, names, stdout)) != TCAT_OK) {
            st = tcat_fail(&err, st, "writing stdout: %s", strerror(errno));
            goto done;
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        st = tcat_fail(&err, TCAT_ERR_IO, "writing stdout: %s", strerror(errno));
done:
    if (st != TCAT_OK)
        cli_error(CMD, "%s", err.msg);
    json_decref(report);
    tcat_metrics_free(&mt);
    free(pred);
    free(sets);
    free(truth);
    free(u.docs);
    tcat_labels_free(&u.names);
    tcat_corpus_free(&corpus);
    tcat_tok_free(&tok);
    tcat_model_free(&m);
    return tcat_status_exit_code(st);
}
