/* cli/predict.c — `tcat predict`: the label of each line of stdin, or of
 * each whole file. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/parallel.h"
#include "core/buf.h"
#include "corpora/corpus.h"
#include "embeddings/tensor.h"
#include "model/model.h"
#include "pipelines/pipeline.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

const char cmd_predict_help[] =
    "usage: tcat predict [OPTIONS] MODEL [FILE...]\n"
    "\n"
    "Classifies text with MODEL (a file written by 'tcat train').\n"
    "\n"
    "No FILE, or '-': one document per line on stdin, one output line per input\n"
    "line, in order, even for an empty line (CR LF line ends are fine, lines may\n"
    "be of any length):\n"
    "    label<TAB>prob\n"
    "FILEs: each file is one whole document:\n"
    "    FILE<TAB>label<TAB>prob\n"
    "A FILE that cannot be read is reported and skipped; the others are still\n"
    "classified (exit status 4 at the end). prob has four decimals.\n"
    "\n"
    "Lines are classified in batches; a batch is answered when it is full or as\n"
    "soon as the input pauses (so 'tail -f LOG | tcat predict MODEL' answers\n"
    "each line as it comes). Memory does not grow with the length of the stream.\n"
    "\n"
    "Options (defaults in brackets):\n"
    "  --top-k K            the K most probable labels, best first:\n"
    "                       label1<TAB>p1<TAB>label2<TAB>p2... [1]\n"
    "  --proba              every class in the model's label order, same layout\n"
    "                       [off]\n"
    "  --format tsv|json    output layout [tsv]; json: one object per line,\n"
    "                       {\"label\":..,\"prob\":..}, plus \"file\" for FILEs and\n"
    "                       \"top\":[{\"label\":..,\"prob\":..},...] with --top-k or\n"
    "                       --proba\n"
    "  --threads N          threads per batch, tokenizing and predicting [all\n"
    "                       cores]\n"
    "  --batch N            documents per batch [256]\n"
    "  --unbuffered         answer and flush each line as soon as it is read\n"
    "                       [on when stdin is a terminal]\n"
    "  -q, --quiet          no summary of repaired input (invalid UTF-8, NUL\n"
    "                       bytes) on stderr\n"
    "  -h, --help           this text\n"
    "\n"
    "A multi-label model (trained on documents with several labels) prints every\n"
    "label whose probability reaches its tuned threshold, most probable first,\n"
    "as label1<TAB>p1<TAB>label2<TAB>p2..., and the most probable label alone\n"
    "when none does; json adds \"labels\":[{\"label\":..,\"prob\":..},...].\n"
    "Its probabilities are each label's own (they need not sum to 1); --top-k\n"
    "and --proba show them without the thresholds.\n"
    "\n"
    "Exit codes: 0 done, 2 usage error, 4 I/O error (a FILE or MODEL that\n"
    "cannot be read), 5 bad model file.\n";

#define CMD "predict"

typedef struct options {
    size_t top_k; /* 0: only the best label */
    bool proba;
    bool json;
    int threads;
    size_t batch;
    bool unbuffered;
    bool quiet;
} options;

/* What one run needs besides the model. */
typedef struct ctx {
    const options *o;
    const tcat_model *m;
    size_t K;
    const char *const *names; /* K label names */
    char **jnames;            /* K labels as quoted JSON strings (--format json) */
    /* a batch: the raw documents, tokenized and predicted in parts, one
     * per worker thread (each with its own tokenizer: ICU's break
     * iterators are not thread-safe), answered in input order */
    tcat_buf raw;              /* the batch's documents, one after the other */
    size_t *raw_off;           /* document i: raw[raw_off[i] .. raw_off[i+1]) */
    size_t nraw;
    int workers;
    tcat_tok **toks;           /* per worker */
    tcat_corpus *cs;           /* per worker */
    tcat_status *sts;          /* per worker */
    tcat_error *errs;          /* per worker */
    float *proba;              /* batch x K */
    size_t *order;             /* K: class ids, for --top-k */
    const char **files;        /* batch: the file of each document (file mode) */
    tcat_buf out;
} ctx;

/* ---- output ------------------------------------------------------------- */

/* Appends s as a quoted JSON string; invalid UTF-8 becomes U+FFFD. */
static tcat_status json_quote(tcat_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (tcat_buf_reserve(b, 6 * len + 2) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < len;) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            i++;
            if (ch == '"' || ch == '\\') {
                *o++ = '\\';
                *o++ = (char)ch;
            } else if (ch == '\n') {
                *o++ = '\\';
                *o++ = 'n';
            } else if (ch == '\t') {
                *o++ = '\\';
                *o++ = 't';
            } else if (ch == '\r') {
                *o++ = '\\';
                *o++ = 'r';
            } else if (ch < 0x20 || ch == 0x7f) {
                memcpy(o, "\\u00", 4);
                o[4] = hex[ch >> 4];
                o[5] = hex[ch & 15];
                o += 6;
            } else {
                *o++ = (char)ch;
            }
            continue;
        }
        int32_t cp;
        size_t n = tcat_utf8_decode((const uint8_t *)s + i, len - i, &cp);
        if (cp < 0)
            o += tcat_utf8_encode(TCAT_REPLACEMENT_CHAR, (uint8_t *)o); /* 3 bytes <= 6 n */
        else {
            memcpy(o, s + i, n);
            o += n;
        }
        i += n;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return TCAT_OK;
}

static tcat_status put(tcat_buf *b, const char *s, size_t n) { return tcat_buf_append(b, s, n); }
static tcat_status puts_(tcat_buf *b, const char *s) { return tcat_buf_append(b, s, strlen(s)); }

static tcat_status put_prob(tcat_buf *b, float p)
{
    char num[32];
    if (!isfinite(p))
        p = 0;
    int n = snprintf(num, sizeof num, "%.4f", (double)p);
    return put(b, num, (size_t)n);
}

/* Writes everything in out to stdout and empties it; flushes stdout when
 * asked. */
static tcat_status flush_out(tcat_buf *out, bool flush, tcat_error *err)
{
    if (out->len && fwrite(out->data, 1, out->len, stdout) != out->len)
        return tcat_fail(err, TCAT_ERR_IO, "writing stdout: %s", strerror(errno));
    out->len = 0;
    if (flush && fflush(stdout) != 0)
        return tcat_fail(err, TCAT_ERR_IO, "writing stdout: %s", strerror(errno));
    return TCAT_OK;
}

static const float *sort_row; /* the row order_cmp compares by */

static int order_cmp(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    float pi = sort_row[i], pj = sort_row[j];
    if (pi != pj) {
        if (isnan(pi))
            return 1;
        if (isnan(pj))
            return -1;
        return pi > pj ? -1 : 1;
    }
    return i < j ? -1 : i > j;
}

/* The classes to show for one row: the best only (a multi-label model:
 * the labels over their thresholds), the top k, or all in model order.
 * Returns their number; ids in x->order. */
static size_t pick(ctx *x, const float *row)
{
    size_t K = x->K;
    if (x->o->proba) {
        for (size_t c = 0; c < K; c++)
            x->order[c] = c;
        return K;
    }
    const float *thr = x->m->thresholds;
    if (thr && !x->o->top_k) {
        /* multi-label: every label reaching its threshold, best first;
         * the best alone when none does (search/thresholds.h) */
        for (size_t c = 0; c < K; c++)
            x->order[c] = c;
        sort_row = row;
        qsort(x->order, K, sizeof *x->order, order_cmp);
        size_t n = 0;
        for (size_t i = 0; i < K; i++)
            if (row[x->order[i]] >= thr[x->order[i]])
                x->order[n++] = x->order[i];
        if (n == 0)
            x->order[n++] = tcat_argmax(row, K);
        return n;
    }
    size_t k = x->o->top_k ? x->o->top_k : 1;
    if (k > K)
        k = K;
    if (k == 1) {
        x->order[0] = tcat_argmax(row, K);
        return 1;
    }
    for (size_t c = 0; c < K; c++)
        x->order[c] = c;
    sort_row = row;
    qsort(x->order, K, sizeof *x->order, order_cmp);
    return k;
}

static tcat_status emit(ctx *x, const float *row, const char *file)
{
    tcat_buf *b = &x->out;
    size_t n = pick(x, row);
    tcat_status st = TCAT_OK;
    if (!x->o->json) {
        if (file && ((st = puts_(b, file)) || (st = put(b, "\t", 1))))
            return st;
        for (size_t i = 0; i < n; i++) {
            size_t c = x->order[i];
            if ((i && (st = put(b, "\t", 1))) || (st = puts_(b, x->names[c])) ||
                (st = put(b, "\t", 1)) || (st = put_prob(b, row[c])))
                return st;
        }
        return put(b, "\n", 1);
    }
    size_t best = x->o->proba ? tcat_argmax(row, x->K) : x->order[0];
    if ((st = put(b, "{", 1)))
        return st;
    if (file && ((st = puts_(b, "\"file\":")) || (st = json_quote(b, file, strlen(file))) ||
                 (st = put(b, ",", 1))))
        return st;
    if ((st = puts_(b, "\"label\":")) || (st = puts_(b, x->jnames[best])) ||
        (st = puts_(b, ",\"prob\":")) || (st = put_prob(b, row[best])))
        return st;
    bool set = x->m->thresholds && !x->o->proba && !x->o->top_k;
    if (x->o->proba || x->o->top_k || set) {
        if ((st = puts_(b, set ? ",\"labels\":[" : ",\"top\":[")))
            return st;
        for (size_t i = 0; i < n; i++) {
            size_t c = x->order[i];
            if ((i && (st = put(b, ",", 1))) || (st = puts_(b, "{\"label\":")) ||
                (st = puts_(b, x->jnames[c])) || (st = puts_(b, ",\"prob\":")) ||
                (st = put_prob(b, row[c])) || (st = put(b, "}", 1)))
                return st;
        }
        if ((st = put(b, "]", 1)))
            return st;
    }
    return put(b, "}\n", 2);
}

/* Raw bytes the batch may gather before it is answered, full or not
 * (one longer document still goes whole; its memory is not kept). */
#define BATCH_MAX_BYTES (1u << 26)

/* Worker w's part of the batch: documents [n w / W, n (w + 1) / W). */
static void batch_part(size_t n, int W, int w, size_t *lo, size_t *hi)
{
    *lo = n * (size_t)w / (size_t)W;
    *hi = n * (size_t)(w + 1) / (size_t)W;
}

typedef struct batch_job {
    ctx *x;
    int W;
} batch_job;

/* Tokenizes and predicts worker w's part of the batch. */
static void run_part(void *arg, int w)
{
    batch_job *j = arg;
    ctx *x = j->x;
    size_t lo, hi;
    batch_part(x->nraw, j->W, w, &lo, &hi);
    tcat_corpus *c = &x->cs[w];
    tcat_corpus_clear(c);
    tcat_status st = TCAT_OK;
    for (size_t i = lo; i < hi && st == TCAT_OK; i++)
        st = tcat_corpus_add(c, x->toks[w], x->raw.data + x->raw_off[i],
                             x->raw_off[i + 1] - x->raw_off[i], NULL, 0, &x->errs[w]);
    tcat_docs docs = {c, NULL, hi - lo};
    if (st == TCAT_OK && hi > lo)
        st = tcat_model_predict_proba(x->m, &docs, x->proba + lo * x->K,
                                      j->W > 1 ? 1 : x->o->threads, &x->errs[w]);
    x->sts[w] = st;
}

/* Classifies the documents gathered in x->raw, appends their lines to
 * x->out and forgets them. A batch of a few documents (a terminal, a
 * slow stream) runs on one worker with all the threads; a full one is
 * split, so tokenizing runs in parallel too. */
static tcat_status run_batch(ctx *x, tcat_error *err)
{
    size_t n = x->nraw;
    if (n == 0)
        return TCAT_OK;
    int W = x->workers;
    if ((size_t)W > n / 16)
        W = n / 16 > 0 ? (int)(n / 16) : 1;
    batch_job j = {x, W};
    tcat_parallel(W, run_part, &j);
    for (int w = 0; w < W; w++)
        if (x->sts[w] != TCAT_OK) {
            *err = x->errs[w];
            return x->sts[w];
        }
    tcat_status st;
    for (size_t i = 0; i < n; i++)
        if ((st = emit(x, x->proba + i * x->K, x->files ? x->files[i] : NULL)) != TCAT_OK)
            return tcat_fail(err, st, "out of memory");
    x->nraw = 0;
    x->raw.len = 0;
    if (x->raw.cap > BATCH_MAX_BYTES)
        tcat_buf_free(&x->raw);
    return TCAT_OK;
}

static tcat_status add_doc(ctx *x, const char *text, size_t len, tcat_error *err)
{
    if (tcat_buf_append(&x->raw, text, len) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    x->raw_off[++x->nraw] = x->raw.len;
    return TCAT_OK;
}

/* True when the batch must be answered now. */
static bool batch_full(const ctx *x)
{
    return x->nraw >= x->o->batch || x->raw.len >= BATCH_MAX_BYTES;
}

/* ---- stdin: one document per line -------------------------------------- */

/* Lines of fd 0, read in blocks; a line may be of any length. */
typedef struct input {
    char block[1 << 16];
    size_t pos, end;
    bool eof;
} input;

/* True when reading fd 0 now would not block. */
static bool input_ready(void)
{
    struct pollfd p = {.fd = 0, .events = POLLIN};
    return poll(&p, 1, 0) != 0;
}

static tcat_status predict_lines(ctx *x, tcat_error *err)
{
    static input in;
    tcat_buf line = {0};
    bool interactive = x->o->unbuffered || isatty(0);
    bool have_partial = false; /* line holds the start of a line */
    tcat_status st = TCAT_OK;
    for (;;) {
        if (in.pos == in.end) {
            if (in.eof)
                break;
            /* about to wait for input: answer what is pending first */
            if (x->nraw > 0 && !input_ready()) {
                if ((st = run_batch(x, err)) || (st = flush_out(&x->out, true, err)))
                    break;
            }
            ssize_t r = read(0, in.block, sizeof in.block);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                st = tcat_fail(err, TCAT_ERR_IO, "reading stdin: %s", strerror(errno));
                break;
            }
            in.pos = 0;
            in.end = (size_t)r;
            if (r == 0) {
                in.eof = true;
                if (!have_partial)
                    break;
            }
        }
        const char *s = in.block + in.pos;
        size_t avail = in.end - in.pos;
        const char *nl = avail ? memchr(s, '\n', avail) : NULL;
        const char *text;
        size_t len;
        if (!nl && !in.eof) {
            /* an unfinished line: keep it and read on */
            if (tcat_buf_append(&line, s, avail) != TCAT_OK) {
                st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
                break;
            }
            have_partial = true;
            in.pos = in.end;
            continue;
        }
        size_t take = nl ? (size_t)(nl - s) : avail;
        if (have_partial) {
            if (tcat_buf_append(&line, s, take) != TCAT_OK) {
                st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
                break;
            }
            text = line.data;
            len = line.len;
        } else {
            text = s;
            len = take;
        }
        in.pos += take + (nl ? 1 : 0);
        if (len && text[len - 1] == '\r')
            len--;
        st = add_doc(x, text, len, err);
        have_partial = false;
        line.len = 0;
        if (line.cap > (1u << 24)) /* do not keep the memory of one huge line */
            tcat_buf_free(&line);
        if (st != TCAT_OK)
            break;
        if (interactive || batch_full(x)) {
            if ((st = run_batch(x, err)) != TCAT_OK)
                break;
            if ((interactive || x->out.len >= (1u << 16)) &&
                (st = flush_out(&x->out, interactive, err)) != TCAT_OK)
                break;
        }
    }
    if (st == TCAT_OK)
        st = run_batch(x, err);
    tcat_buf_free(&line);
    return st;
}

/* ---- FILEs: one document each ------------------------------------------ */

static tcat_status read_whole(const char *path, tcat_buf *b, tcat_error *err)
{
    b->len = 0;
    bool std = strcmp(path, "-") == 0;
    FILE *f = std ? stdin : fopen(path, "rb");
    if (!f)
        return tcat_fail(err, TCAT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    tcat_status st = TCAT_OK;
    for (;;) {
        if (tcat_buf_reserve(b, 1 << 16) != TCAT_OK) {
            st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
            break;
        }
        size_t r = fread(b->data + b->len, 1, b->cap - b->len, f);
        b->len += r;
        if (r == 0) {
            if (ferror(f))
                st = tcat_fail(err, TCAT_ERR_IO, "reading '%s': %s", path, strerror(errno));
            break;
        }
    }
    if (!std)
        fclose(f);
    else
        clearerr(stdin);
    return st;
}

static int predict_files(ctx *x, char **files, int nfiles, tcat_error *err)
{
    int code = 0;
    tcat_buf doc = {0};
    tcat_status st = TCAT_OK;
    for (int i = 0; i < nfiles; i++) {
        st = read_whole(files[i], &doc, err);
        if (st == TCAT_OK) {
            x->files[x->nraw] = files[i];
            st = add_doc(x, doc.data, doc.len, err);
        }
        if (doc.cap > (1u << 24))
            tcat_buf_free(&doc);
        if (st == TCAT_ERR_IO) {
            /* a missing file does not stop the others, as with cat(1) */
            cli_error(CMD, "%s", err->msg);
            code = tcat_status_exit_code(st);
            st = TCAT_OK;
            continue;
        }
        if (st != TCAT_OK)
            break;
        if (x->o->unbuffered || batch_full(x)) {
            if ((st = run_batch(x, err)) != TCAT_OK)
                break;
            if ((x->o->unbuffered || x->out.len >= (1u << 16)) &&
                (st = flush_out(&x->out, x->o->unbuffered, err)) != TCAT_OK)
                break;
        }
    }
    if (st == TCAT_OK)
        st = run_batch(x, err);
    tcat_buf_free(&doc);
    if (st != TCAT_OK) {
        cli_error(CMD, "%s", err->msg);
        return tcat_status_exit_code(st);
    }
    return code;
}

/* ---- the command -------------------------------------------------------- */

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

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 4096 ? 4096 : (int)n;
}

int cmd_predict(int argc, char **argv)
{
    enum { O_TOP_K = 256, O_PROBA, O_FORMAT, O_THREADS, O_BATCH, O_UNBUFFERED };
    static const struct option longopts[] = {
        {"top-k", required_argument, NULL, O_TOP_K},
        {"proba", no_argument, NULL, O_PROBA},
        {"format", required_argument, NULL, O_FORMAT},
        {"threads", required_argument, NULL, O_THREADS},
        {"batch", required_argument, NULL, O_BATCH},
        {"unbuffered", no_argument, NULL, O_UNBUFFERED},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    options o = {.threads = 0, .batch = 256};
    opterr = 0;
    optind = 1;
    int c;
    unsigned long long v;
    while ((c = getopt_long(argc, argv, ":q", longopts, NULL)) != -1) {
        switch (c) {
        case O_TOP_K:
            if (!parse_count(optarg, 1, 1000000000, &v))
                return cli_usage_error(CMD, "--top-k wants a number of labels from 1, not '%s'",
                                       optarg);
            o.top_k = (size_t)v;
            break;
        case O_PROBA: o.proba = true; break;
        case O_FORMAT:
            if (strcmp(optarg, "tsv") == 0)
                o.json = false;
            else if (strcmp(optarg, "json") == 0)
                o.json = true;
            else
                return cli_usage_error(CMD, "--format wants tsv or json, not '%s'", optarg);
            break;
        case O_THREADS:
            if (!parse_count(optarg, 1, 4096, &v))
                return cli_usage_error(CMD, "--threads wants a number from 1 to 4096, not '%s'",
                                       optarg);
            o.threads = (int)v;
            break;
        case O_BATCH:
            if (!parse_count(optarg, 1, 1000000, &v))
                return cli_usage_error(CMD, "--batch wants a number from 1 to 1000000, not '%s'",
                                       optarg);
            o.batch = (size_t)v;
            break;
        case O_UNBUFFERED: o.unbuffered = true; break;
        case 'q': o.quiet = true; break;
        case ':':
            return cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (o.proba && o.top_k)
        return cli_usage_error(CMD, "--top-k and --proba do not go together");
    if (optind >= argc)
        return cli_usage_error(CMD, "missing MODEL");
    if (!o.threads)
        o.threads = default_threads();
    const char *model_path = argv[optind++];
    bool file_mode = optind < argc && !(argc - optind == 1 && strcmp(argv[optind], "-") == 0);

    tcat_error err = {0};
    tcat_model *m = NULL;
    tcat_status st = tcat_model_load(&m, model_path, &err);
    if (st != TCAT_OK) {
        cli_error(CMD, "%s", err.msg);
        return tcat_status_exit_code(st);
    }
    ctx x = {.o = &o, .m = m, .K = tcat_model_classes(m), .names = tcat_labels_names(m->labels)};
    x.workers = o.threads < 32 ? o.threads : 32; /* each holds a tokenizer */
    int code = 0;
    size_t rows = file_mode ? (o.batch < (size_t)(argc - optind) ? o.batch : (size_t)(argc - optind))
                            : o.batch;
    x.proba = malloc(rows * x.K * sizeof *x.proba);
    x.raw_off = calloc(rows + 1, sizeof *x.raw_off);
    x.toks = calloc((size_t)x.workers, sizeof *x.toks);
    x.cs = calloc((size_t)x.workers, sizeof *x.cs);
    x.sts = calloc((size_t)x.workers, sizeof *x.sts);
    x.errs = calloc((size_t)x.workers, sizeof *x.errs);
    x.order = malloc(x.K * sizeof *x.order);
    x.jnames = calloc(x.K, sizeof *x.jnames);
    if (file_mode)
        x.files = malloc(rows * sizeof *x.files);
    if (!x.proba || !x.order || !x.jnames || (file_mode && !x.files) || !x.raw_off || !x.toks ||
        !x.cs || !x.sts || !x.errs) {
        st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; o.json && k < x.K; k++) {
        tcat_buf b = {0};
        if (json_quote(&b, x.names[k], strlen(x.names[k])) != TCAT_OK ||
            tcat_buf_append(&b, "", 1) != TCAT_OK) {
            tcat_buf_free(&b);
            st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
            goto done;
        }
        x.jnames[k] = b.data;
    }
    for (int w = 0; w < x.workers; w++) {
        tcat_corpus_init(&x.cs[w]);
        if ((st = tcat_tok_init(&x.toks[w], &m->tok, &err)) != TCAT_OK) {
            cli_error(CMD, "%s: tokenizer: %s", model_path, err.msg);
            code = tcat_status_exit_code(st == TCAT_ERR_INPUT ? TCAT_ERR_MODEL : st);
            st = TCAT_OK;
            goto done;
        }
    }
    if (file_mode) {
        code = predict_files(&x, argv + optind, argc - optind, &err);
        tcat_status fs = flush_out(&x.out, true, &err);
        if (fs != TCAT_OK) {
            cli_error(CMD, "%s", err.msg);
            code = tcat_status_exit_code(fs);
        }
    } else {
        st = predict_lines(&x, &err);
        if (st == TCAT_OK)
            st = flush_out(&x.out, true, &err);
    }
    if (!o.quiet) {
        tcat_tok_stats s = {0};
        for (int w = 0; w < x.workers; w++) {
            tcat_tok_stats one;
            tcat_tok_get_stats(x.toks[w], &one);
            s.invalid_utf8 += one.invalid_utf8;
            s.nul_bytes += one.nul_bytes;
        }
        if (s.invalid_utf8 || s.nul_bytes)
            fprintf(stderr,
                    "tcat predict: %s: repaired %" PRIu64
                    " invalid UTF-8 sequence(s) (replaced by U+FFFD) and %" PRIu64
                    " NUL byte(s) (read as spaces)\n",
                    file_mode ? "input files" : "stdin", s.invalid_utf8, s.nul_bytes);
    }
done:
    if (st != TCAT_OK) {
        cli_error(CMD, "%s", err.msg);
        code = tcat_status_exit_code(st);
    }
    for (size_t k = 0; x.jnames && k < x.K; k++)
        free(x.jnames[k]);
    free(x.jnames);
    free(x.proba);
    free(x.order);
    free(x.files);
    tcat_buf_free(&x.out);
    for (int w = 0; x.toks && x.cs && w < x.workers; w++) {
        tcat_corpus_free(&x.cs[w]);
        tcat_tok_free(&x.toks[w]);
    }
    free(x.toks);
    free(x.cs);
    free(x.sts);
    free(x.errs);
    free(x.raw_off);
    tcat_buf_free(&x.raw);
    tcat_model_free(&m);
    return code;
}
