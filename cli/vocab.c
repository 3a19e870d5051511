/* cli/vocab.c — `tcat vocab`: the words of a corpus in, a subword vocabulary out. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "corpora/linereader.h"
#include "corpora/reader.h"
#include "tokenizer/subword.h"
#include "tokenizer/tokenizer.h"

const char cmd_vocab_help[] =
    "usage: tcat vocab TRAIN -o VOCAB [OPTIONS]\n"
    "\n"
    "Builds a subword vocabulary from the words of TRAIN: byte-pair encoding\n"
    "(Sennrich et al. 2016) or the unigram language model (Kudo 2018, as in\n"
    "sentencepiece). The words are the tokens of the default tokenizer (what\n"
    "`tcat tokenize` prints: NFKC, case folding, protected URLs and numbers,\n"
    "ICU word segmentation); each is seen with the word-start mark '\xE2\x96\x81' (U+2581)\n"
    "in front. Pieces are then printed by `tcat tokenize --vocab VOCAB`.\n"
    "\n"
    "TRAIN is any labelled layout tcat reads (a folder of label subfolders,\n"
    ".tsv, .csv, .jsonl, fastText format; labels are ignored), or with --text\n"
    "plain text, one document per line; '-' is stdin.\n"
    "\n"
    "Every byte can be encoded: the 256 byte pieces <0x00>..<0xFF> (ids 0-255)\n"
    "stand in for characters no piece covers. The same TRAIN and options give\n"
    "the same VOCAB, byte for byte. VOCAB is a text file (format: the top of\n"
    "tokenizer/subword.h), written to a temporary file and renamed into place.\n"
    "\n"
    "Options (defaults in brackets):\n"
    "  -o, --output VOCAB   the vocabulary file to write (required)\n"
    "  --size N             learned pieces, the 256 byte pieces not counted\n"
    "                       [8000]\n"
    "  --type TYPE          bpe or unigram [unigram]\n"
    "  --text               TRAIN is plain text, one document per line\n"
    "  --format NAME        layout of TRAIN: auto, folder, tsv, csv, jsonl,\n"
    "                       fasttext [auto]\n"
    "  --coverage F         base characters: the most frequent ones covering\n"
    "                       this share of all character occurrences; rarer ones\n"
    "                       fall back to bytes [0.9995]\n"
    "  --max-piece N        longest piece, in characters, 1 to 255 [16]\n"
    "  -q, --quiet          no summary on stderr\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit codes: 0 done, 2 usage error, 3 bad input data, 4 I/O error.\n";

typedef struct options {
    const char *train, *output, *format_name;
    tcat_subword_params params;
    int text;
    int quiet;
} options;

typedef struct counts {
    tcat_wordcounts *wc;
    uint64_t docs;
} counts;

static tcat_status add_tokens(counts *c, tcat_tok *tok, const char *s, size_t len,
                              tcat_error *err)
{
    tcat_tokens t;
    tcat_status st = tcat_tok_run(tok, s, len, &t, err);
    for (size_t k = 0; st == TCAT_OK && k < t.n; k++)
        if ((st = tcat_wordcounts_add(c->wc, t.text + t.spans[k].off, t.spans[k].len, 1)) !=
            TCAT_OK)
            return tcat_fail(err, st,
                             st == TCAT_ERR_NOMEM ? "out of memory counting words"
                                                  : "too many distinct words");
    return st;
}

static tcat_status count_text(counts *c, tcat_tok *tok, const char *path, tcat_error *err)
{
    tcat_lines *lines;
    tcat_status st = tcat_lines_open(&lines, path, 0, err);
    if (st != TCAT_OK)
        return st;
    bool in_line = false;
    for (;;) {
        tcat_piece p;
        bool done;
        if ((st = tcat_lines_next(lines, &p, &done, err)) != TCAT_OK || done)
            break;
        if (!in_line)
            c->docs++;
        in_line = !p.eol;
        if ((st = add_tokens(c, tok, p.data, p.len, err)) != TCAT_OK)
            break;
    }
    tcat_lines_close(&lines);
    return st;
}

static tcat_status count_corpus(counts *c, tcat_tok *tok, const char *path, tcat_format fmt,
                                tcat_error *err)
{
    tcat_reader *r;
    tcat_status st = tcat_reader_open(&r, path, fmt, err);
    if (st != TCAT_OK)
        return st;
    for (;;) {
        tcat_rawdoc d;
        bool done;
        if ((st = tcat_reader_next(r, &d, &done, err)) != TCAT_OK || done)
            break;
        c->docs++;
        if ((st = add_tokens(c, tok, d.text, d.len, err)) != TCAT_OK)
            break;
    }
    tcat_reader_close(&r);
    return st;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int run(const options *o)
{
    tcat_error err = {0};
    tcat_format fmt = TCAT_FORMAT_AUTO;
    if (o->format_name && tcat_format_parse(o->format_name, &fmt, &err) != TCAT_OK)
        return cli_usage_error("vocab", "--format: %s", err.msg);
    double t0 = now();
    tcat_tok_config cfg;
    tcat_tok_config_default(&cfg);
    tcat_tok *tok = NULL;
    counts c = {0};
    tcat_subword *v = NULL;
    tcat_status st = tcat_tok_init(&tok, &cfg, &err);
    if (st == TCAT_OK && tcat_wordcounts_init(&c.wc) != TCAT_OK)
        st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
    if (st == TCAT_OK)
        st = o->text ? count_text(&c, tok, o->train, &err)
                     : count_corpus(&c, tok, o->train, fmt, &err);
    if (st == TCAT_OK && !o->quiet) {
        tcat_tok_stats s;
        tcat_tok_get_stats(tok, &s);
        if (s.invalid_utf8 || s.nul_bytes)
            fprintf(stderr,
                    "tcat vocab: %s: repaired %" PRIu64
                    " invalid UTF-8 sequence(s) (replaced by U+FFFD) and %" PRIu64
                    " NUL byte(s) (read as spaces)\n",
                    o->train, s.invalid_utf8, s.nul_bytes);
    }
    double t1 = now();
    if (st == TCAT_OK) {
        const tcat_wordcount *list;
        size_t n;
        if (tcat_wordcounts_list(c.wc, &list, &n) != TCAT_OK)
            st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
        else if (n == 0)
            st = tcat_fail(&err, TCAT_ERR_INPUT, "%s: no words to learn a vocabulary from",
                           o->train);
        else
            st = tcat_subword_train(&v, list, n, &o->params, &err);
    }
    double t2 = now();
    if (st == TCAT_OK)
        st = tcat_subword_save(v, o->output, &err);
    if (st == TCAT_OK && !o->quiet) {
        size_t pieces = tcat_subword_size(v) - TCAT_SUBWORD_NBYTES;
        fprintf(stderr,
                "tcat vocab: %s: %" PRIu64 " documents, %" PRIu64
                " words (%zu distinct), read in %.2f s\n"
                "tcat vocab: %s: %zu pieces (%s) + 256 byte pieces, trained in %.2f s%s\n",
                o->train, c.docs, tcat_wordcounts_total(c.wc), tcat_wordcounts_size(c.wc),
                t1 - t0, o->output, pieces, tcat_subword_type_name(o->params.type), t2 - t1,
                pieces < o->params.size ? " (fewer than asked: the words hold no more)" : "");
    }
    int code = 0;
    if (st != TCAT_OK) {
        cli_error("vocab", "%s", err.msg);
        code = tcat_status_exit_code(st);
    }
    tcat_subword_free(&v);
    tcat_wordcounts_free(&c.wc);
    tcat_tok_free(&tok);
    tcat_tok_config_clear(&cfg);
    return code;
}

int cmd_vocab(int argc, char **argv)
{
    enum { O_SIZE = 256, O_TYPE, O_TEXT, O_FORMAT, O_COVERAGE, O_MAX_PIECE };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},   {"size", required_argument, NULL, O_SIZE},
        {"type", required_argument, NULL, O_TYPE},  {"text", no_argument, NULL, O_TEXT},
        {"format", required_argument, NULL, O_FORMAT},
        {"coverage", required_argument, NULL, O_COVERAGE},
        {"max-piece", required_argument, NULL, O_MAX_PIECE},
        {"quiet", no_argument, NULL, 'q'},          {NULL, 0, NULL, 0},
    };
    options o = {0};
    tcat_subword_params_default(&o.params);
    tcat_error err = {0};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:q", longopts, NULL)) != -1) {
        char *e;
        switch (c) {
        case 'o': o.output = optarg; break;
        case O_SIZE: {
            errno = 0;
            unsigned long long v = strtoull(optarg, &e, 10);
            if (errno || *e || optarg[0] == '-' || v < 1 || v > (1u << 24))
                return cli_usage_error("vocab", "--size wants a number from 1 to 16777216, not "
                                                "'%s'", optarg);
            o.params.size = (size_t)v;
            break;
        }
        case O_TYPE:
            if (tcat_subword_type_parse(optarg, &o.params.type, &err) != TCAT_OK)
                return cli_usage_error("vocab", "--type: %s", err.msg);
            break;
        case O_TEXT: o.text = 1; break;
        case O_FORMAT: o.format_name = optarg; break;
        case O_COVERAGE: {
            errno = 0;
            double v = strtod(optarg, &e);
            if (errno || *e || e == optarg || !(v > 0 && v <= 1))
                return cli_usage_error("vocab", "--coverage wants a number in (0, 1], not '%s'",
                                       optarg);
            o.params.char_coverage = v;
            break;
        }
        case O_MAX_PIECE: {
            long v = strtol(optarg, &e, 10);
            if (*e || e == optarg || v < 1 || v > 255)
                return cli_usage_error("vocab", "--max-piece wants a number from 1 to 255, not "
                                                "'%s'", optarg);
            o.params.max_piece_chars = (size_t)v;
            break;
        }
        case 'q': o.quiet = 1; break;
        case ':': return cli_usage_error("vocab", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("vocab", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("vocab", "missing TRAIN (a file, a folder, or - for stdin)");
    if (optind + 1 < argc)
        return cli_usage_error("vocab", "one TRAIN only; extra argument '%s'", argv[optind + 1]);
    if (!o.output)
        return cli_usage_error("vocab", "missing -o VOCAB (the vocabulary file to write)");
    if (o.text && o.format_name)
        return cli_usage_error("vocab", "--text and --format exclude each other");
    o.train = argv[optind];
    return run(&o);
}
