/* tests/synth.c — see tests/synth.h. */
#include "tests/synth.h"

#include "model/model.h"
#include "search/thresholds.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/testutil.h"

const char *const synth_class_words[3][5] = {
    {"apple", "apricot", "avocado", "almond", "anise"},
    {"banana", "basil", "beet", "broccoli", "barley"},
    {"cherry", "carrot", "celery", "cumin", "chive"},
};

const char *const synth_noise_words[10] = {"the",  "and",  "with", "for",  "from",
                                           "very", "good", "fresh", "some", "more"};

void corpus_add_bytes(tcat_corpus *c, const char *raw, size_t len, const int32_t *labels,
                      size_t nlabels)
{
    tcat_error err = {0};
    tcat_status st = tcat_corpus_add(c, tok_default(), raw, len, labels, nlabels, &err);
    ck_assert_msg(st == TCAT_OK, "tcat_corpus_add: %s", err.msg);
}

void corpus_add_text(tcat_corpus *c, const char *text, int32_t label)
{
    corpus_add_bytes(c, text, strlen(text), &label, label < 0 ? 0 : 1);
}

const char *synth_doc_text(size_t K, size_t i, uint64_t *state)
{
    const char *w[8];
    size_t k = i % K;
    for (int j = 0; j < 3; j++)
        w[j] = synth_class_words[k][rng_below(state, 5)];
    for (int j = 3; j < 8; j++)
        w[j] = synth_noise_words[rng_below(state, 10)];
    for (size_t j = 8; j > 1; j--) {
        size_t r = rng_below(state, j);
        const char *t = w[j - 1];
        w[j - 1] = w[r];
        w[r] = t;
    }
    char buf[256];
    size_t n = 0;
    for (int j = 0; j < 8; j++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", j ? " " : "", w[j]);
    return ring_copy(buf, n);
}

void synth_corpus(tcat_corpus *c, size_t K, size_t per_class, uint64_t seed)
{
    ck_assert(K >= 2 && K <= 3);
    tcat_corpus_init(c);
    uint64_t state = seed;
    for (size_t i = 0; i < K * per_class; i++)
        corpus_add_text(c, synth_doc_text(K, i, &state), (int32_t)(i % K));
}

void synth_ml_corpus(tcat_corpus *c, size_t K, size_t n, uint64_t seed)
{
    ck_assert(K >= 2 && K <= 3);
    tcat_corpus_init(c);
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++) {
        int32_t lab[2] = {(int32_t)(i % K), (int32_t)((i + 1) % K)};
        size_t nl = i % 3 == 0 ? 2 : 1;
        const char *w[10];
        size_t nw = 0;
        for (size_t l = 0; l < nl; l++)
            for (int j = 0; j < 3; j++)
                w[nw++] = synth_class_words[lab[l]][rng_below(&state, 5)];
        while (nw < 10)
            w[nw++] = synth_noise_words[rng_below(&state, 10)];
        for (size_t j = nw; j > 1; j--) {
            size_t r = rng_below(&state, j);
            const char *t = w[j - 1];
            w[j - 1] = w[r];
            w[r] = t;
        }
        char buf[256];
        size_t len = 0;
        for (size_t j = 0; j < nw; j++)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", j ? " " : "", w[j]);
        corpus_add_bytes(c, buf, len, lab, nl);
    }
}

double synth_ml_micro_f1(const tcat_corpus *c, const float *proba, size_t n, size_t K)
{
    size_t tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < K; k++) {
            bool truth = false;
            for (size_t j = c->doc_label[i]; j < c->doc_label[i + 1]; j++)
                truth |= c->labels[j] == (int32_t)k;
            bool pred = proba[i * K + k] >= 0.5f;
            tp += truth && pred;
            fp += !truth && pred;
            fn += truth && !pred;
        }
    return tp ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : 0.0;
}

double *csr_dense_row(const tcat_csr *X, size_t i)
{
    double *r = calloc(X->cols ? X->cols : 1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++)
        r[X->col[p]] += X->val[p];
    return r;
}

double csr_row_norm(const tcat_csr *X, size_t i)
{
    double s = 0;
    for (size_t p = X->ptr[i]; p < X->ptr[i + 1]; p++)
        s += (double)X->val[p] * X->val[p];
    return sqrt(s);
}


/* ---- scratch folder -------------------------------------------------- */

static char g_scratch[4096];

static void scratch_at_exit(void) { scratch_teardown(); }

void scratch_setup(void)
{
    /* a failed assertion ends a forked test with exit(), skipping the
     * teardown: remove the folder then too */
    static bool registered;
    if (!registered)
        registered = atexit(scratch_at_exit) == 0;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_scratch, sizeof g_scratch, "%s/tcat-synth-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_msg(mkdtemp(g_scratch) != NULL, "mkdtemp: %s", strerror(errno));
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

void scratch_teardown(void)
{
    if (g_scratch[0])
        nftw(g_scratch, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    g_scratch[0] = 0;
}

const char *scratch_path(const char *name)
{
    char p[8192];
    int n = snprintf(p, sizeof p, "%s/%s", g_scratch, name);
    return ring_copy(p, (size_t)n);
}

const char *scratch_write(const char *name, const char *s)
{
    const char *path = scratch_path(name);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
    size_t len = strlen(s);
    ck_assert_uint_eq(fwrite(s, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    for (;;) {
        if (!b)
            break;
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        char *nb = realloc(b, cap *= 2);
        if (!nb) {
            free(b);
            b = NULL;
        } else {
            b = nb;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

size_t *synth_iota(size_t n)
{
    size_t *v = malloc((n ? n : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++)
        v[i] = i;
    return v;
}

tcat_pipeline *synth_pipeline(const char *family, const char *params, size_t K)
{
    json_error_t je;
    json_t *j = json_loads(params, 0, &je);
    ck_assert_msg(j != NULL, "bad JSON in test: %s", params);
    tcat_pipeline *p = NULL;
    tcat_error err = {0};
    ck_assert_msg(tcat_pipeline_create(&p, family, j, K, &err) == TCAT_OK, "%s", err.msg);
    json_decref(j);
    return p;
}

tcat_model *synth_model(size_t K)
{
    tcat_tok_config cfg;
    tcat_tok_config_default(&cfg);
    tcat_model *m;
    tcat_error err = {0};
    ck_assert(tcat_model_new(&m, &cfg, &err) == TCAT_OK);
    tcat_tok_config_clear(&cfg);
    for (size_t k = 0; k < K; k++) {
        char name[2] = {(char)('a' + k), 0};
        int32_t id;
        ck_assert(tcat_labels_intern(m->labels, name, 1, &id) == TCAT_OK);
    }
    return m;
}

float *saved_model_predict(tcat_pipeline *p, size_t K, const tcat_docs *docs, int threads)
{
    tcat_model *m = synth_model(K);
    tcat_error err = {0};
    bool multi = p->multilabel;
    ck_assert(tcat_model_add_member(m, p, 1.0, NULL, &err) == TCAT_OK);
    if (multi) { /* a multi-label model keeps its thresholds */
        float *thr = malloc(K * sizeof *thr);
        for (size_t k = 0; k < K; k++)
            thr[k] = TCAT_THRESHOLD_DEFAULT;
        ck_assert(tcat_model_set_thresholds(m, thr, K, &err) == TCAT_OK);
        free(thr);
    }
    const char *path = scratch_path("member.tcat");
    ck_assert_msg(tcat_model_save(m, path, &err) == TCAT_OK, "%s", err.msg);
    tcat_model_free(&m);
    ck_assert_msg(tcat_model_load(&m, path, &err) == TCAT_OK, "%s", err.msg);
    float *pl = malloc(docs->n * K * sizeof *pl);
    ck_assert(pl != NULL);
    ck_assert_msg(tcat_model_predict_proba(m, docs, pl, threads, &err) == TCAT_OK, "%s", err.msg);
    tcat_model_free(&m);
    return pl;
}
