/* cli/info.c — `tcat info`: what a model file holds. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/buf.h"
#include "model/model.h"
#include "search/stack.h"
#include "model/modelfile.h"
#include "pipelines/pipeline.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

const char cmd_info_help[] =
    "usage: tcat info [OPTIONS] MODEL\n"
    "\n"
    "Describes a model file written by 'tcat train', after checking all of it:\n"
    "  the file (path, size, format version);\n"
    "  its metadata: creation time, tcat version, training data hash and size,\n"
    "  metric and search summary;\n"
    "  the tokenizer settings (NFKC, case folding, punctuation, protecting\n"
    "  patterns and their names);\n"
    "  the labels (the first 30 when there are more);\n"
    "  each member of the ensemble: family, weight, hyperparameters, sizes\n"
    "  (vocabulary, features) and scores.\n"
    "\n"
    "Options (defaults in brackets):\n"
    "  --json               one JSON object with all of the above, every label\n"
    "                       included [aligned text]\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit codes: 0 done, 2 usage error, 4 MODEL cannot be read, 5 bad model file.\n";

#define CMD "info"

/* Labels listed in the text output. */
#define INFO_MAX_LABELS 30

/* ---- small helpers ------------------------------------------------------ */

/* The names of the patterns in a pattern table (NAME<TAB>... lines; '#'
 * comments and blank lines skipped), as a JSON array. */
static json_t *pattern_names(const char *table)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    for (const char *p = table; *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *tab = memchr(p, '\t', len);
        if (len && p[0] != '#' && tab && tab > p) {
            char *name = strndup(p, (size_t)(tab - p));
            json_t *j = name ? tcat_json_text(name) : NULL;
            free(name);
            if (!j || json_array_append_new(a, j)) {
                json_decref(a);
                return NULL;
            }
        }
        p += len + (eol ? 1 : 0);
    }
    return a;
}

/* Keys of o in the order info shows them: first those listed in `first`
 * (NULL-terminated), then the others sorted. Returns a malloc'd array of
 * borrowed keys, *n of them. */
static const char **ordered_keys(const json_t *o, const char *const *first, size_t *n)
{
    size_t total = json_object_size(o), k = 0;
    const char **keys = malloc((total ? total : 1) * sizeof *keys);
    if (!keys)
        return NULL;
    for (size_t i = 0; first && first[i]; i++)
        if (json_object_get(o, first[i]))
            keys[k++] = first[i];
    size_t sorted_from = k;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        bool listed = false;
        for (size_t i = 0; first && first[i]; i++)
            if (strcmp(first[i], key) == 0)
                listed = true;
        if (!listed)
            keys[k++] = key;
    }
    for (size_t i = sorted_from + 1; i < k; i++) /* insertion sort: few keys */
        for (size_t j = i; j > sorted_from && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    *n = k;
    return keys;
}

/* A scalar JSON value as text for the aligned output; arrays and objects
 * as compact JSON. reals: printf format of real numbers. malloc'd. */
static char *value_text(const json_t *v, const char *reals)
{
    char *s = NULL;
    switch (json_typeof(v)) {
    case JSON_STRING: return strdup(json_string_value(v));
    case JSON_INTEGER:
        if (asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0)
            return NULL;
        return s;
    case JSON_REAL:
        if (asprintf(&s, reals, json_real_value(v)) < 0)
            return NULL;
        return s;
    case JSON_TRUE: return strdup("true");
    case JSON_FALSE: return strdup("false");
    case JSON_NULL: return strdup("null");
    default:
        return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6) |
                                 JSON_ENCODE_ANY);
    }
}

/* "key=value key=value" of an object, keys sorted. malloc'd. */
static char *pairs_text(const json_t *o, const char *reals)
{
    tcat_buf b = {0};
    size_t n;
    const char **keys = ordered_keys(o, NULL, &n);
    if (!keys)
        return NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        char *v = value_text(json_object_get(o, keys[i]), reals);
        ok = v && (!i || tcat_buf_append(&b, " ", 1) == TCAT_OK) &&
             tcat_buf_append(&b, keys[i], strlen(keys[i])) == TCAT_OK &&
             tcat_buf_append(&b, "=", 1) == TCAT_OK &&
             tcat_buf_append(&b, v, strlen(v)) == TCAT_OK;
        free(v);
    }
    free(keys);
    if (!ok || tcat_buf_append(&b, "", 1) != TCAT_OK) {
        tcat_buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* ---- aligned "key: value" lines ----------------------------------------- */

typedef struct kv {
    char *key, *value;
} kv;

typedef struct kvlist {
    kv *v;
    size_t n, cap;
    bool oom;
} kvlist;

/* Adds a line; takes ownership of value (which may be NULL: out of
 * memory). */
static void kv_add(kvlist *l, const char *key, char *value)
{
    char *k = strdup(key);
    if (!k || !value || (l->n == l->cap && !(l->v = realloc(l->v, (l->cap = l->cap ? 2 * l->cap
                                                                                    : 16) *
                                                                        sizeof *l->v)))) {
        free(k);
        free(value);
        l->oom = true;
        return;
    }
    l->v[l->n++] = (kv){k, value};
}

static void kv_addf(kvlist *l, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void kv_addf(kvlist *l, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    kv_add(l, key, s);
}

/* Adds v under key; an object's members become "key.member" lines. */
static void kv_add_json(kvlist *l, const char *key, const json_t *v)
{
    if (!json_is_object(v) || json_object_size(v) == 0) {
        kv_add(l, key, value_text(v, "%.6g"));
        return;
    }
    size_t n;
    const char **keys = ordered_keys(v, NULL, &n);
    if (!keys) {
        l->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char *sub = NULL;
        if (asprintf(&sub, "%s.%s", key, keys[i]) < 0) {
            l->oom = true;
            break;
        }
        kv_add_json(l, sub, json_object_get(v, keys[i]));
        free(sub);
    }
    free(keys);
}

/* The width of the widest key of l, at least w. */
static size_t kv_width(const kvlist *l, size_t w)
{
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i].key) > w)
            w = strlen(l->v[i].key);
    return w;
}

static void kv_print(const kvlist *l, size_t w, FILE *f)
{
    for (size_t i = 0; i < l->n; i++)
        fprintf(f, "%s:%*s %s\n", l->v[i].key, (int)(w - strlen(l->v[i].key)), "",
                l->v[i].value);
}

static void kv_free(kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].value);
    }
    free(l->v);
}

/* ---- the description ------------------------------------------------------ */

static const char *const meta_first[] = {"created", "tcat_version", "data", NULL};

/* Everything info shows, as one JSON object. NULL on OOM. */
static json_t *describe(const tcat_model *m, const char *path)
{
    json_t *o = json_object(), *tok = json_object(), *labels = json_array(),
           *members = json_array(), *meta = json_object();
    const char *table = m->tok.patterns ? m->tok.patterns : tcat_default_patterns;
    json_t *pats = pattern_names(table);
    bool ok = o && tok && labels && members && meta && pats;
    /* the metadata, known keys first */
    size_t nk = 0;
    const char **keys = ok ? ordered_keys(m->meta, meta_first, &nk) : NULL;
    ok = ok && keys;
    for (size_t i = 0; ok && i < nk; i++)
        ok = !json_object_set(meta, keys[i], json_object_get(m->meta, keys[i]));
    free(keys);
    if (ok) {
        ok = !json_object_set_new(tok, "nfkc", json_boolean(m->tok.nfkc)) &&
             !json_object_set_new(tok, "casefold", json_boolean(m->tok.casefold)) &&
             !json_object_set_new(tok, "keep_punct", json_boolean(m->tok.keep_punct)) &&
             !json_object_set_new(tok, "patterns_on", json_boolean(m->tok.patterns_on)) &&
             !json_object_set_new(tok, "patterns_builtin",
                                  json_boolean(strcmp(table, tcat_default_patterns) == 0)) &&
             !json_object_set(tok, "patterns", pats);
    }
    size_t K = tcat_model_classes(m);
    for (size_t k = 0; ok && k < K; k++)
        ok = !json_array_append_new(labels, tcat_json_text(tcat_labels_name(m->labels, (int32_t)k)));
    for (size_t i = 0; ok && i < m->nmembers; i++) {
        const tcat_member *mb = &m->members[i];
        json_t *sizes = tcat_pipeline_describe(mb->p);
        ok = sizes != NULL;
        if (ok) {
            json_object_del(sizes, "family");
            json_object_del(sizes, "params");
            json_t *empty = json_object();
            json_t *e = json_pack("{s:I, s:s, s:f, s:O, s:O, s:O}", "index", (json_int_t)i,
                                  "family", mb->p->ops->family, "weight", mb->weight, "params",
                                  (json_t *)tcat_pipeline_params(mb->p), "sizes", sizes,
                                  "scores", mb->scores ? mb->scores : empty);
            json_decref(empty);
            ok = e && !json_array_append_new(members, e);
        }
        json_decref(sizes);
    }
    if (ok)
        ok = !json_object_set_new(o, "file", tcat_json_text(path)) &&
             !json_object_set_new(o, "size",
                                  json_integer((json_int_t)tcat_mreader_file_size(m->file))) &&
             !json_object_set_new(o, "format_version",
                                  json_integer((json_int_t)tcat_mreader_version(m->file))) &&
             !json_object_set(o, "meta", meta) && !json_object_set(o, "tokenizer", tok) &&
             !json_object_set_new(o, "label_count", json_integer((json_int_t)K)) &&
             !json_object_set(o, "labels", labels) && !json_object_set(o, "members", members);
    if (ok && m->combiner)
        ok = !json_object_set_new(o, "combiner", tcat_combine_to_json(m->combiner));
    if (ok && m->thresholds) { /* label k's threshold, in label order */
        json_t *thr = json_array();
        ok = thr && !json_object_set_new(o, "thresholds", thr);
        for (size_t k = 0; ok && k < K; k++)
            ok = !json_array_append_new(thr, json_real(m->thresholds[k]));
    }
    json_decref(tok);
    json_decref(labels);
    json_decref(members);
    json_decref(meta);
    json_decref(pats);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static char *names_text(const json_t *a)
{
    if (json_array_size(a) == 0)
        return strdup("none");
    tcat_buf b = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        ok = (!i || tcat_buf_append(&b, ", ", 2) == TCAT_OK) &&
             tcat_buf_append(&b, s, strlen(s)) == TCAT_OK;
    }
    if (!ok || tcat_buf_append(&b, "", 1) != TCAT_OK) {
        tcat_buf_free(&b);
        return NULL;
    }
    return b.data;
}

static tcat_status print_text(const json_t *d, FILE *f)
{
    kvlist l = {0};
    const json_t *tok = json_object_get(d, "tokenizer"), *meta = json_object_get(d, "meta");
    kv_add_json(&l, "file", json_object_get(d, "file"));
    kv_addf(&l, "size", "%" JSON_INTEGER_FORMAT " bytes",
            json_integer_value(json_object_get(d, "size")));
    kv_add_json(&l, "format version", json_object_get(d, "format_version"));
    size_t nk = 0;
    const char **keys = ordered_keys(meta, meta_first, &nk);
    if (!keys)
        l.oom = true;
    for (size_t i = 0; keys && i < nk; i++)
        kv_add_json(&l, keys[i], json_object_get(meta, keys[i]));
    free(keys);
#define ONOFF(k) (json_is_true(json_object_get(tok, k)) ? "on" : "off")
    kv_addf(&l, "tokenizer", "nfkc %s, casefold %s, keep_punct %s, patterns %s", ONOFF("nfkc"),
            ONOFF("casefold"), ONOFF("keep_punct"), ONOFF("patterns_on"));
#undef ONOFF
    char *pats = names_text(json_object_get(tok, "patterns"));
    kv_addf(&l, "patterns", "%s (%s table)", pats ? pats : "?",
            json_is_true(json_object_get(tok, "patterns_builtin")) ? "built-in" : "custom");
    free(pats);
    const json_t *labels = json_object_get(d, "labels"), *members = json_object_get(d, "members");
    kv_addf(&l, "labels", "%zu", json_array_size(labels));
    if (l.oom) {
        kv_free(&l);
        return TCAT_ERR_NOMEM;
    }
    size_t w = kv_width(&l, strlen("members"));
    kv_print(&l, w, f);
    kv_free(&l);

    size_t K = json_array_size(labels);
    int idw = snprintf(NULL, 0, "%zu", K - 1);
    const json_t *thr = json_object_get(d, "thresholds");
    if (thr)
        fprintf(f, "multi-label: a label is output when its probability reaches its threshold\n");
    for (size_t k = 0; k < K && k < INFO_MAX_LABELS; k++) {
        fprintf(f, "  %*zu  %s", idw, k, json_string_value(json_array_get(labels, k)));
        if (thr)
            fprintf(f, "  (threshold %.4f)", json_number_value(json_array_get(thr, k)));
        fputc('\n', f);
    }
    if (K > INFO_MAX_LABELS)
        fprintf(f, "  ...  (%zu more; 'tcat info --json' lists all)\n", K - INFO_MAX_LABELS);

    fprintf(f, "members:%*s %zu\n", (int)(w - strlen("members")), "", json_array_size(members));
    size_t i;
    const json_t *e;
    json_array_foreach(members, i, e) {
        char *params = pairs_text(json_object_get(e, "params"), "%g");
        char *sizes = pairs_text(json_object_get(e, "sizes"), "%g");
        char *scores = pairs_text(json_object_get(e, "scores"), "%.4f");
        fprintf(f, "  #%zu  %s  weight %g\n", i, json_string_value(json_object_get(e, "family")),
                json_real_value(json_object_get(e, "weight")));
        fprintf(f, "      params:  %s\n", params ? params : "?");
        fprintf(f, "      sizes:   %s\n", sizes ? sizes : "?");
        fprintf(f, "      scores:  %s\n", scores && *scores ? scores : "none");
        bool oom = !params || !sizes || !scores;
        free(params);
        free(sizes);
        free(scores);
        if (oom)
            return TCAT_ERR_NOMEM;
    }
    const json_t *comb = json_object_get(d, "combiner");
    if (!comb)
        fprintf(f, "combiner:%*s weighted mean\n", (int)(w - strlen("combiner")), "");
    else {
        const json_t *cv = json_object_get(comb, "cv_scores");
        fprintf(f, "combiner:%*s %s", (int)(w - strlen("combiner")), "",
                json_string_value(json_object_get(comb, "kind")));
        if (json_is_object(cv)) {
            const char *k;
            json_t *v;
            const char *sep = " (held-out, out of fold:";
            json_object_foreach((json_t *)cv, k, v)
                if (json_is_number(v) && json_number_value(v) >= 0) {
                    fprintf(f, "%s %s %.4f", sep, k, json_number_value(v));
                    sep = ",";
                }
            if (!strcmp(sep, ","))
                fputc(')', f);
        }
        fputc('\n', f);
    }
    return TCAT_OK;
}

int cmd_info(int argc, char **argv)
{
    enum { O_JSON = 256 };
    static const struct option longopts[] = {
        {"json", no_argument, NULL, O_JSON},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case O_JSON: json = true; break;
        case ':':
            return cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error(CMD, "missing MODEL");
    if (optind + 1 < argc)
        return cli_usage_error(CMD, "one MODEL only, not '%s' too", argv[optind + 1]);
    const char *path = argv[optind];

    tcat_error err = {0};
    tcat_model *m = NULL;
    tcat_status st = tcat_model_load(&m, path, &err);
    if (st != TCAT_OK) {
        cli_error(CMD, "%s", err.msg);
        return tcat_status_exit_code(st);
    }
    json_t *d = describe(m, path);
    if (!d) {
        st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
    } else if (json) {
        char *s = json_dumps(d, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
        if (!s)
            st = tcat_fail(&err, TCAT_ERR_NOMEM, "out of memory");
        else {
            fputs(s, stdout);
            fputc('\n', stdout);
            free(s);
        }
    } else if ((st = print_text(d, stdout)) != TCAT_OK) {
        tcat_fail(&err, st, "out of memory");
    }
    if (st == TCAT_OK && (fflush(stdout) != 0 || ferror(stdout)))
        st = tcat_fail(&err, TCAT_ERR_IO, "writing stdout: %s", strerror(errno));
    if (st != TCAT_OK)
        cli_error(CMD, "%s", err.msg);
    json_decref(d);
    tcat_model_free(&m);
    return tcat_status_exit_code(st);
}
