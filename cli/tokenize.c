/* cli/tokenize.c — `tcat tokenize`: the tokens of each input line. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "corpora/linereader.h"
#include "model/model.h"
#include "tokenizer/subword.h"
#include "tokenizer/tokenizer.h"

const char cmd_tokenize_help[] =
    "usage: tcat tokenize [OPTIONS] [FILE...]\n"
    "\n"
    "Prints the tokens of each line of the FILEs (stdin when none, or '-'),\n"
    "separated by one space: one output line per input line, always, so an\n"
    "empty line gives an empty line. Works in bounded memory on a stream of any\n"
    "length, including a single line of hundreds of megabytes.\n"
    "\n"
    "Stages: UTF-8 repair (invalid bytes -> U+FFFD, NUL -> space; counted on\n"
    "stderr), NFKC + case folding (utf8proc), protected spans (PCRE2: URLs,\n"
    "e-mail, numbers, @mentions, #hashtags, emoticons), word segmentation (ICU,\n"
    "with dictionaries for Thai, Lao, Khmer, Burmese, Chinese and Japanese).\n"
    "\n"
    "Options (defaults in brackets):\n"
    "  --keep-case          do not case-fold [fold]\n"
    "  --no-nfkc            do not apply NFKC normalisation [apply]\n"
    "  --keep-punct         keep punctuation tokens [drop]\n"
    "  --no-patterns        do not protect URLs, e-mail, numbers, ... [protect]\n"
    "  --patterns FILE      use the pattern table in FILE (NAME<TAB>TRIGGERS<TAB>PCRE2)\n"
    "                       [the built-in table, tokenizer/patterns.tsv]\n"
    "  --window BYTES       most bytes of one line tokenized at once; longer lines\n"
    "                       are cut after a space [1048576]\n"
    "  --unbuffered         write each line's tokens as soon as it is read\n"
    "                       [on when stdin is a terminal]\n"
    "  --no-fast-paths      send every character through utf8proc and every word\n"
    "                       through ICU: the same tokens, slower (for checking)\n"
    "  -q, --quiet          no summary of repairs on stderr\n"
    "  --model MODEL        tokenize with the settings stored in MODEL (the\n"
    "                       options above then cannot be given)\n"
    "  --vocab VOCAB        print each token as its subword pieces from VOCAB\n"
    "                       (made by `tcat vocab`), space separated [tokens]\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit codes: 0 done, 2 usage error, 3 bad pattern table, 4 I/O error,\n"
    "5 bad vocabulary.\n";

typedef struct options {
    tcat_tok_config cfg;
    size_t window;
    int unbuffered;
    int quiet;
    int slow;
    tcat_subword_cache *vocab; /* --vocab: pieces instead of tokens */
} options;

static tcat_status read_file(const char *path, char **out, tcat_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tcat_fail(err, TCAT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    tcat_buf b = {0};
    char chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (tcat_buf_append(&b, chunk, r) != TCAT_OK) {
            fclose(f);
            tcat_buf_free(&b);
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        }
    int bad = ferror(f);
    fclose(f);
    if (bad || tcat_buf_append(&b, "", 1) != TCAT_OK) {
        tcat_buf_free(&b);
        return tcat_fail(err, TCAT_ERR_IO, "reading '%s' failed", path);
    }
    if (memchr(b.data, 0, b.len - 1)) {
        tcat_buf_free(&b);
        return tcat_fail(err, TCAT_ERR_INPUT, "'%s': NUL byte in a pattern table", path);
    }
    *out = b.data;
    return TCAT_OK;
}

/* Writes everything in out to stdout and empties it. */
static tcat_status flush_out(tcat_buf *out, tcat_error *err)
{
    if (out->len && fwrite(out->data, 1, out->len, stdout) != out->len)
        return tcat_fail(err, TCAT_ERR_IO, "writing stdout: %s", strerror(errno));
    out->len = 0;
    if (fflush(stdout) != 0)
        return tcat_fail(err, TCAT_ERR_IO, "writing stdout: %s", strerror(errno));
    return TCAT_OK;
}

static tcat_status tokenize_stream(tcat_tok *tok, const char *path, const options *o,
                                   tcat_buf *out, tcat_error *err)
{
    tcat_lines *lines;
    tcat_status st = tcat_lines_open(&lines, path, o->window, err);
    if (st != TCAT_OK)
        return st;
    bool interactive = o->unbuffered || (strcmp(path, "-") == 0 && isatty(0));
    bool line_has_tokens = false;
    tcat_tok_reset_stats(tok);
    for (;;) {
        tcat_piece p;
        bool done;
        if ((st = tcat_lines_next(lines, &p, &done, err)) != TCAT_OK || done)
            break;
        tcat_tokens toks;
        if ((st = tcat_tok_run(tok, p.data, p.len, &toks, err)) != TCAT_OK)
            break;
        for (size_t k = 0; k < toks.n; k++) {
            if ((st = tcat_buf_reserve(out, toks.spans[k].len + 2)) != TCAT_OK)
                break;
            if (line_has_tokens)
                out->data[out->len++] = ' ';
            if (o->vocab) {
                st = tcat_subword_cache_append_pieces(o->vocab, toks.text + toks.spans[k].off,
                                                      toks.spans[k].len, out);
                if (st != TCAT_OK)
                    break;
                line_has_tokens = true;
                continue;
            }
            memcpy(out->data + out->len, toks.text + toks.spans[k].off, toks.spans[k].len);
            out->len += toks.spans[k].len;
            line_has_tokens = true;
        }
        if (st != TCAT_OK) {
            tcat_fail(err, st, "out of memory");
            break;
        }
        if (p.eol) {
            if ((st = tcat_buf_append(out, "\n", 1)) != TCAT_OK) {
                tcat_fail(err, st, "out of memory");
                break;
            }
            line_has_tokens = false;
        }
        if (interactive || out->len >= (1u << 16))
            if ((st = flush_out(out, err)) != TCAT_OK)
                break;
    }
    if (!o->quiet) {
        tcat_tok_stats s;
        tcat_tok_get_stats(tok, &s);
        if (s.invalid_utf8 || s.nul_bytes)
            fprintf(stderr,
                    "tcat tokenize: %s: repaired %" PRIu64
                    " invalid UTF-8 sequence(s) (replaced by U+FFFD) and %" PRIu64
                    " NUL byte(s) (read as spaces)\n",
                    tcat_lines_name(lines), s.invalid_utf8, s.nul_bytes);
    }
    tcat_lines_close(&lines);
    return st;
}

int cmd_tokenize(int argc, char **argv)
{
    enum { O_KEEP_CASE = 256, O_NO_NFKC, O_KEEP_PUNCT, O_NO_PATTERNS, O_PATTERNS, O_WINDOW,
           O_UNBUFFERED, O_MODEL, O_NO_FAST, O_VOCAB };
    static const struct option longopts[] = {
        {"keep-case", no_argument, NULL, O_KEEP_CASE},
        {"no-nfkc", no_argument, NULL, O_NO_NFKC},
        {"keep-punct", no_argument, NULL, O_KEEP_PUNCT},
        {"no-patterns", no_argument, NULL, O_NO_PATTERNS},
        {"patterns", required_argument, NULL, O_PATTERNS},
        {"window", required_argument, NULL, O_WINDOW},
        {"unbuffered", no_argument, NULL, O_UNBUFFERED},
        {"model", required_argument, NULL, O_MODEL},
        {"no-fast-paths", no_argument, NULL, O_NO_FAST},
        {"vocab", required_argument, NULL, O_VOCAB},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    options o = {.window = 0};
    tcat_tok_config_default(&o.cfg);
    tcat_error err = {0};
    int code = 0;
    const char *patterns_path = NULL, *model_path = NULL, *vocab_path = NULL;
    int settings = 0; /* tokenizer options given */
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":q", longopts, NULL)) != -1) {
        switch (c) {
        case O_KEEP_CASE: o.cfg.casefold = false; settings++; break;
        case O_NO_NFKC: o.cfg.nfkc = false; settings++; break;
        case O_KEEP_PUNCT: o.cfg.keep_punct = true; settings++; break;
        case O_NO_PATTERNS: o.cfg.patterns_on = false; settings++; break;
        case O_PATTERNS: patterns_path = optarg; settings++; break;
        case O_UNBUFFERED: o.unbuffered = 1; break;
        case 'q': o.quiet = 1; break;
        case O_NO_FAST: o.slow = 1; break;
        case O_WINDOW: {
            char *e;
            errno = 0;
            unsigned long long w = strtoull(optarg, &e, 10);
            if (errno || *e || optarg[0] == '-' || w < 64 || w > (1ull << 30))
                return cli_usage_error("tokenize", "--window wants a byte count from 64 to 2^30, "
                                                   "not '%s'", optarg);
            o.window = (size_t)w;
            break;
        }
        case O_MODEL: model_path = optarg; break;
        case O_VOCAB: vocab_path = optarg; break;
        case ':':
            return cli_usage_error("tokenize", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("tokenize", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (model_path && settings)
        return cli_usage_error("tokenize", "--model fixes the tokenizer settings: drop the other "
                                           "tokenizer options");
    if (model_path) {
        tcat_model *m;
        tcat_status st = tcat_model_load(&m, model_path, &err);
        if (st == TCAT_OK) {
            tcat_tok_config_clear(&o.cfg);
            st = tcat_tok_config_copy(&o.cfg, &m->tok);
            tcat_model_free(&m);
        }
        if (st != TCAT_OK) {
            cli_error("tokenize", "%s", err.msg);
            return tcat_status_exit_code(st);
        }
    }
    if (patterns_path) {
        tcat_status st = read_file(patterns_path, &o.cfg.patterns, &err);
        if (st != TCAT_OK) {
            cli_error("tokenize", "%s", err.msg);
            return tcat_status_exit_code(st);
        }
    }
    tcat_tok *tok = NULL;
    tcat_status st = tcat_tok_init(&tok, &o.cfg, &err);
    if (st != TCAT_OK) {
        cli_error("tokenize", "%s%s%s", patterns_path ? patterns_path : "",
                  patterns_path ? ": " : "", err.msg);
        tcat_tok_config_clear(&o.cfg);
        return tcat_status_exit_code(st);
    }
    tcat_tok_set_fast_paths(tok, !o.slow);
    tcat_subword *vocab = NULL;
    if (vocab_path) {
        if ((st = tcat_subword_load(&vocab, vocab_path, &err)) == TCAT_OK &&
            (st = tcat_subword_cache_init(&o.vocab, vocab, 0)) != TCAT_OK)
            tcat_fail(&err, st, "out of memory");
        if (st != TCAT_OK) {
            cli_error("tokenize", "%s", err.msg);
            tcat_subword_free(&vocab);
            tcat_tok_free(&tok);
            tcat_tok_config_clear(&o.cfg);
            return tcat_status_exit_code(st);
        }
    }
    tcat_buf out = {0};
    char *stdin_only[] = {"-"};
    char **files = optind < argc ? argv + optind : stdin_only;
    int nfiles = optind < argc ? argc - optind : 1;
    for (int f = 0; f < nfiles; f++) {
        st = tokenize_stream(tok, files[f], &o, &out, &err);
        if (st == TCAT_OK)
            st = flush_out(&out, &err);
        if (st != TCAT_OK) {
            cli_error("tokenize", "%s", err.msg);
            code = tcat_status_exit_code(st);
            /* a missing file does not stop the others, as with cat(1) */
            if (st != TCAT_ERR_IO || ferror(stdout))
                break;
        }
    }
    tcat_buf_free(&out);
    tcat_subword_cache_free(&o.vocab);
    tcat_subword_free(&vocab);
    tcat_tok_free(&tok);
    tcat_tok_config_clear(&o.cfg);
    return code;
}
