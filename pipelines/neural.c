#include "pipelines/neural.h"

#include <math.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/parallel.h"
#include "core/rng.h"
#include "embeddings/hashing.h"
#include "embeddings/optim.h"
#include "embeddings/table.h"
#include "embeddings/tensor.h"
#include "embeddings/vectors.h"
#include "embeddings/word2vec.h"
#include "embeddings/wordids.h"
#include "pipelines/calibrate.h"
#include "pipelines/params.h"

enum { INIT_RANDOM, INIT_PRETRAINED, INIT_SKIPGRAM };
enum { MODE_STATIC, MODE_NONSTATIC, MODE_MULTI };

#define PREDICT_BATCH 64

typedef struct neural {
    tcat_pipeline base;
    const tcat_neural_family *fam;
    long dim, min_count, max_words, max_len, batch, epochs, patience, threads;
    double dropout, lr, clip, max_norm, temperature;
    int init, mode, optimizer;
    bool punct;
    /* fitted */
    tcat_wordids vocab;    /* word ids 0..n-1; row n of the tables: unknown */
    tcat_tensor E, S;      /* the table the encoder reads (tuned unless static),
                            * and the frozen copy of multichannel */
    tcat_encoder *enc;
    size_t ntheta, F;      /* encoder parameters, features */
    float *theta, *own_theta;
    float *out, *own_out;  /* K x (F + 1): weights then bias per class */
    size_t pad;            /* zero rows read before and after each document
                            * (the family's pad hook; a model file says) */
    alignas(max_align_t) unsigned char self[]; /* the family's own part */
} neural;

void *tcat_neural_self(const tcat_pipeline *p) { return ((neural *)p)->self; }

static size_t channels(const neural *m) { return m->mode == MODE_MULTI ? 2 : 1; }

/* ---- hyperparameters --------------------------------------------------------- */

static const char *const shared_keys[] = {
    "dim",     "min_count", "max_words", "max_len", "init",     "mode",
    "dropout", "optimizer", "lr",        "batch",   "epochs",   "patience",
    "clip",    "max_norm",  "threads",   "temperature", "punct", NULL};
static const char *const inits[] = {"random", "pretrained", "skipgram", NULL};
static const char *const modes[] = {"static", "nonstatic", "multichannel", NULL};
static const char *const optimizers[] = {"sgd", "adam", "adadelta", NULL};

/* The index of name in choices (a family's default; 0 when absent). */
static int choice_of(const char *name, const char *const *choices)
{
    for (int i = 0; name && choices[i]; i++)
        if (!strcmp(name, choices[i]))
            return i;
    return 0;
}

static tcat_status parse(neural *m, const json_t *p, tcat_error *err)
{
    const tcat_neural_family *fam = m->fam;
    const char *F = fam->ops->family;
    const tcat_neural_defaults *d = &fam->defaults;
    const char *known[64];
    size_t nk = 0;
    for (size_t i = 0; shared_keys[i]; i++)
        known[nk++] = shared_keys[i];
    for (size_t i = 0; fam->extra_keys[i] && nk < 63; i++)
        known[nk++] = fam->extra_keys[i];
    known[nk] = NULL;
    tcat_status st;
    if ((st = tcat_params_check_keys(F, p, known, err)) ||
        (st = tcat_params_int(F, p, "dim", d->dim, 1, 2048, &m->dim, err)) ||
        (st = tcat_params_int(F, p, "min_count", d->min_count, 1, 1000000000,
                              &m->min_count, err)) ||
        (st = tcat_params_int(F, p, "max_words", d->max_words, 0, 100000000,
                              &m->max_words, err)) ||
        (st = tcat_params_int(F, p, "max_len", d->max_len, 1, 100000,
                              &m->max_len, err)) ||
        (st = tcat_params_choice(F, p, "init", inits, choice_of(d->init, inits), &m->init,
                                 err)) ||
        (st = tcat_params_choice(F, p, "mode", modes, choice_of(d->mode, modes), &m->mode,
                                 err)) ||
        (st = tcat_params_num(F, p, "dropout", d->dropout, 0, 0.95, &m->dropout, err)) ||
        (st = tcat_params_choice(F, p, "optimizer", optimizers,
                                 choice_of(d->optimizer, optimizers), &m->optimizer, err)) ||
        (st = tcat_params_num(F, p, "lr", d->lr, 1e-6, 100, &m->lr, err)) ||
        (st = tcat_params_int(F, p, "batch", d->batch, 1, 4096, &m->batch, err)) ||
        (st = tcat_params_int(F, p, "epochs", d->epochs, 1, 10000, &m->epochs,
                              err)) ||
        (st = tcat_params_int(F, p, "patience", d->patience, 1, 10000,
                              &m->patience, err)) ||
        (st = tcat_params_num(F, p, "clip", d->clip, 0, 1e6, &m->clip, err)) ||
        (st = tcat_params_num(F, p, "max_norm", d->max_norm, 0, 1e6, &m->max_norm,
                              err)) ||
        (st = tcat_params_int(F, p, "threads", 1, 1, 1024, &m->threads, err)) ||
        (st = tcat_params_num(F, p, "temperature", 1.0, 1e-4, 1e4, &m->temperature, err)) ||
        (st = tcat_params_bool(F, p, "punct", d->punct, &m->punct, err)))
        return st;
    return fam->parse(m->self, p, err);
}

static json_t *effective(const neural *m)
{
    json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:s, s:s, s:f, s:s, s:f, s:I, s:I, s:I, s:f, "
                          "s:f, s:I, s:f, s:b}",
                          "dim", (json_int_t)m->dim, "min_count", (json_int_t)m->min_count,
                          "max_words", (json_int_t)m->max_words, "max_len",
                          (json_int_t)m->max_len, "init", inits[m->init], "mode",
                          modes[m->mode], "dropout", m->dropout, "optimizer",
                          optimizers[m->optimizer], "lr", m->lr, "batch", (json_int_t)m->batch,
                          "epochs", (json_int_t)m->epochs, "patience", (json_int_t)m->patience,
                          "clip", m->clip, "max_norm", m->max_norm, "threads",
                          (json_int_t)m->threads, "temperature", m->temperature, "punct",
                          m->punct);
    json_t *own = m->fam->effective(m->self);
    if (!j || !own || json_object_update(j, own) != 0) {
        json_decref(j);
        json_decref(own);
        return NULL;
    }
    json_decref(own);
    return j;
}

tcat_status tcat_neural_create(tcat_pipeline **out, const tcat_neural_family *fam,
                               const json_t *params, size_t nclasses, tcat_error *err)
{
    neural *m = calloc(1, sizeof *m + fam->self_size);
    if (!m)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    m->base.ops = fam->ops;
    m->base.nclasses = nclasses;
    m->fam = fam;
    json_t *rest = NULL;
    tcat_status st = tcat_pipeline_task_parse(&m->base, params, &rest, err);
    if (st == TCAT_OK)
        st = parse(m, rest, err);
    json_decref(rest);
    if (st == TCAT_OK && !(m->base.params = effective(m)))
        st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    if (st == TCAT_OK)
        st = tcat_pipeline_task_record(&m->base, err);
    m->pad = st == TCAT_OK && fam->pad ? fam->pad(m->self) : 0;
    if (st != TCAT_OK) {
        json_decref(m->base.params);
        free(m);
        return st;
    }
    *out = &m->base;
    return TCAT_OK;
}

static void forget(neural *m)
{
    tcat_wordids_free(&m->vocab);
    tcat_tensor_free(&m->E);
    tcat_tensor_free(&m->S);
    tcat_encoder_free(&m->enc);
    free(m->own_theta);
    free(m->own_out);
    m->theta = m->own_theta = m->out = m->own_out = NULL;
    m->ntheta = m->F = 0;
}

size_t tcat_neural_memory(const tcat_pipeline *p, const tcat_docs *train)
{
    const neural *m = (const neural *)p;
    tcat_docs_size z = tcat_docs_measure(train);
    size_t words = z.distinct + 1, dim = (size_t)m->dim, K = p->nclasses;
    if (m->max_words > 0 && (size_t)m->max_words < words)
        words = (size_t)m->max_words + 1;
    size_t in_dim = dim * channels(m), ntheta = 0, F = 0;
    tcat_encoder *e = NULL;
    if (m->fam->encoder(m->self, in_dim, &e, &(tcat_error){0}) == TCAT_OK) {
        ntheta = e->ops->nparams(e);
        F = e->ops->out_dim(e);
    }
    tcat_encoder_free(&e);
    size_t T = (size_t)(m->threads > 0 ? m->threads : 1);
    /* the table(s), their optimiser state (two per entry but for SGD), the
     * best epoch's copy; the same for theta and the output layer, plus a
     * gradient per thread; skip-gram trains two tables of its own */
    size_t states = m->optimizer == 0 ? 0 : 2;
    size_t table = words * dim * sizeof(float) * (channels(m) + states + 1 +
                                                  (m->init == INIT_SKIPGRAM ? 2 : 0));
    size_t params = (ntheta + K * (F + 1)) * sizeof(float) * (states + 2 + T);
    /* activations kept for backward: a few per feature per token of a
     * batch, the batch's embedded inputs and their gradient */
    size_t len = (size_t)(m->max_len > 0 ? m->max_len : 400) + 2 * m->pad;
    size_t act = (size_t)m->batch * len * (4 * F + 2 * in_dim) * sizeof(float);
    return table + params + act + z.tokens * sizeof(uint32_t) + train->n * 2 * sizeof(size_t);
}

void tcat_neural_destroy(tcat_pipeline *p)
{
    neural *m = (neural *)p;
    forget(m);
    free(m);
}

/* Records a changed hyperparameter in the effective set. */
static void set_param(neural *m, const char *key, json_t *v)
{
    json_object_set_new(m->base.params, key, v);
}

/* ---- documents as sequences of row ids ---------------------------------------- */

typedef struct seqs {
    uint32_t *id;   /* all documents' rows, one after the other */
    size_t *off;    /* document i: id[off[i] .. off[i+1]) */
    size_t n;
} seqs;

static void seqs_free(seqs *s)
{
    free(s->id);
    free(s->off);
    memset(s, 0, sizeof *s);
}

static size_t seq_len(const seqs *s, size_t i) { return s->off[i + 1] - s->off[i]; }

/* The rows of each document of d: its first max_len tokens, unknown words
 * as the unknown row; an empty document is one unknown token. */
static tcat_status make_seqs(const neural *m, const tcat_docs *d, seqs *s)
{
    memset(s, 0, sizeof *s);
    size_t total = 0, unk = m->vocab.n, cap = (size_t)m->max_len;
    for (size_t i = 0; i < d->n; i++) {
        size_t nt;
        tcat_corpus_tokens(d->c, tcat_docs_at(d, i), &nt);
        total += nt == 0 ? 1 : nt < cap ? nt : cap;
    }
    const uint8_t *pu = d->c->punct;
    s->id = malloc((total ? total : 1) * sizeof *s->id);
    s->off = malloc((d->n + 1) * sizeof *s->off);
    if (!s->id || !s->off) {
        seqs_free(s);
        return TCAT_ERR_NOMEM;
    }
    size_t k = 0;
    s->off[0] = 0;
    for (size_t i = 0; i < d->n; i++) {
        size_t nt, first = d->c->doc_tok[tcat_docs_at(d, i)], start = k;
        const tcat_span *t = tcat_corpus_tokens(d->c, tcat_docs_at(d, i), &nt);
        for (size_t j = 0; j < nt && k - start < cap; j++) {
            if (!m->punct && pu[first + j])
                continue;
            int64_t id = tcat_wordids_find(
                &m->vocab, tcat_wordids_hash(d->c->text.data + t[j].off, t[j].len));
            s->id[k++] = id < 0 ? (uint32_t)unk : (uint32_t)id;
        }
        if (k == start)
            s->id[k++] = (uint32_t)unk;
        s->off[i + 1] = k;
    }
    s->n = d->n;
    return TCAT_OK;
}

/* ---- one batch: forward, backward --------------------------------------------- */

typedef struct worker {
    tcat_encoder_ws *ws;
    float *X, *dX, *ch;        /* B*T x in_dim; ch: one channel's gradient rows */
    uint32_t *pos;             /* B*T row ids, TCAT_EMB_PAD past a document's end */
    size_t *len, T;            /* lengths of the last batch, its padded length */
    float *H, *mask, *logit, *dH;
    size_t cap_bt, cap_b;      /* what the buffers hold: B*T rows, B documents */
    float *gtheta, *gout;      /* this thread's gradients */
    tcat_emb_grad ge;          /* ... of the tuned table's rows */
    double loss;
    tcat_status st;
} worker;

static void worker_free(worker *w)
{
    free(w->X);
    free(w->dX);
    free(w->ch);
    free(w->pos);
    free(w->len);
    free(w->H);
    free(w->mask);
    free(w->logit);
    free(w->dH);
    free(w->gtheta);
    free(w->gout);
    tcat_emb_grad_free(&w->ge);
}

static void workers_free(const neural *m, worker *w, size_t T)
{
    for (size_t t = 0; w && t < T; t++) {
        if (w[t].ws)
            m->enc->ops->ws_free(w[t].ws);
        w[t].ws = NULL;
        worker_free(&w[t]);
    }
    free(w);
}

static tcat_status grow(float **p, size_t n)
{
    float *q = realloc(*p, (n ? n : 1) * sizeof *q);
    if (!q)
        return TCAT_ERR_NOMEM;
    *p = q;
    return TCAT_OK;
}

/* Buffers for B documents of T positions. */
static tcat_status worker_fit(const neural *m, worker *w, size_t B, size_t T, bool train)
{
    size_t in = (size_t)m->dim * channels(m), F = m->F, K = m->base.nclasses;
    if (B * T > w->cap_bt) {
        size_t n = B * T;
        uint32_t *pos = realloc(w->pos, n * sizeof *pos);
        if (!pos)
            return TCAT_ERR_NOMEM;
        w->pos = pos;
        if (grow(&w->X, n * in) || (train && grow(&w->dX, n * in)) ||
            (train && channels(m) > 1 && grow(&w->ch, n * (size_t)m->dim)))
            return TCAT_ERR_NOMEM;
        w->cap_bt = n;
    }
    if (B > w->cap_b) {
        size_t *len = realloc(w->len, B * sizeof *len);
        if (!len)
            return TCAT_ERR_NOMEM;
        w->len = len;
        if (grow(&w->H, B * F) || grow(&w->mask, B * F) || grow(&w->logit, B * K) ||
            grow(&w->dH, B * F))
            return TCAT_ERR_NOMEM;
        w->cap_b = B;
    }
    return TCAT_OK;
}

/* Embeds and encodes documents list[0..B) of s into logits (B x K, in
 * w->logit); with train, dropout (drawn from r) and what backward needs. */
static tcat_status forward(const neural *m, worker *w, const seqs *s, const size_t *list,
                           size_t B, bool train, tcat_rng *r)
{
    size_t T = m->enc->ops->min_len(m->enc), dim = (size_t)m->dim, K = m->base.nclasses;
    size_t F = m->F, in = dim * channels(m), P = m->pad;
    for (size_t b = 0; b < B; b++)
        if (seq_len(s, list[b]) + 2 * P > T)
            T = seq_len(s, list[b]) + 2 * P;
    tcat_status st = worker_fit(m, w, B, T, train);
    if (st != TCAT_OK)
        return st;
    w->T = T;
    for (size_t b = 0; b < B; b++) { /* P zero rows, the tokens, P zero rows */
        size_t n = seq_len(s, list[b]);
        const uint32_t *id = s->id + s->off[list[b]];
        w->len[b] = n + 2 * P;
        for (size_t t = 0; t < T; t++)
            w->pos[b * T + t] = t >= P && t < P + n ? id[t - P] : TCAT_EMB_PAD;
    }
    if (channels(m) == 1)
        tcat_emb_gather(&m->E, w->pos, B * T, w->X);
    else
        for (size_t i = 0; i < B * T; i++) { /* [frozen | tuned] side by side */
            float *x = w->X + i * in;
            if (w->pos[i] == TCAT_EMB_PAD) {
                memset(x, 0, in * sizeof *x);
                continue;
            }
            memcpy(x, tcat_tensor_row(&m->S, w->pos[i]), dim * sizeof *x);
            memcpy(x + dim, tcat_tensor_row(&m->E, w->pos[i]), dim * sizeof *x);
        }
    if ((st = m->enc->ops->forward(m->enc, m->theta, w->ws, w->X, B, T, w->len, train, w->H)))
        return st;
    if (train && m->dropout > 0) {
        float keep = (float)(1 - m->dropout), inv = 1.0f / keep;
        for (size_t i = 0; i < B * F; i++) {
            w->mask[i] = tcat_rng_uniform(r) < keep ? inv : 0.0f;
            w->H[i] *= w->mask[i];
        }
    }
    /* logits = H W^T + bias; W rows have stride F + 1 */
    tcat_sgemm(false, true, B, K, F, 1.0f, w->H, F, m->out, F + 1, 0.0f, w->logit, K);
    for (size_t b = 0; b < B; b++)
        for (size_t k = 0; k < K; k++)
            w->logit[b * K + k] += m->out[k * (F + 1) + F];
    return TCAT_OK;
}

/* log(1 + e^x) without overflow. */
static double softplus(double x) { return (x > 0 ? x : 0) + log1p(exp(-fabs(x))); }

/* After forward(train) of documents list[0..B): softmax cross-entropy of
 * their labels y[list[b]] (weights cw or 1), or multi-label (t not NULL)
 * the binary log-loss of each label's sigmoid against its target
 * t[list[b] * K + k] summed over labels (cw[k] weighting label k's
 * positive term), divided by Btot (the whole batch over all threads),
 * back through the output layer, dropout, encoder and (unless static) the
 * tuned table; the gradients go to the worker's accumulators. */
static tcat_status backward(const neural *m, worker *w, const int32_t *y, const uint8_t *t,
                            const size_t *list, size_t B, size_t Btot, const double *cw)
{
    size_t K = m->base.nclasses, F = m->F, dim = (size_t)m->dim, T = w->T;
    for (size_t b = 0; b < B && t; b++) {
        float *l = w->logit + b * K;
        const uint8_t *tb = t + list[b] * K;
        for (size_t k = 0; k < K; k++) {
            float p = 1.0f / (1.0f + expf(-l[k]));
            if (tb[k]) {
                float wk = (float)((cw ? cw[k] : 1.0) / (double)Btot);
                w->loss += wk * softplus(-l[k]);
                l[k] = wk * (p - 1.0f);
            } else {
                w->loss += softplus(l[k]) / (double)Btot;
                l[k] = p / (float)Btot;
            }
        }
    }
    for (size_t b = 0; b < B && !t; b++) {
        float *l = w->logit + b * K;
        int32_t yb = y[list[b]];
        tcat_softmax(l, K);
        float wy = (float)((cw ? cw[yb] : 1.0) / (double)Btot);
        w->loss -= wy * log(l[yb] > 1e-30f ? l[yb] : 1e-30f);
        for (size_t k = 0; k < K; k++)
            l[k] = wy * (l[k] - (k == (size_t)yb ? 1.0f : 0.0f));
    }
    /* dW += dlogit^T H, dbias += column sums, dH = dlogit W */
    tcat_sgemm(true, false, K, F, B, 1.0f, w->logit, K, w->H, F, 1.0f, w->gout, F + 1);
    for (size_t b = 0; b < B; b++)
        for (size_t k = 0; k < K; k++)
            w->gout[k * (F + 1) + F] += w->logit[b * K + k];
    tcat_sgemm(false, false, B, F, K, 1.0f, w->logit, K, m->out, F + 1, 0.0f, w->dH, F);
    if (m->dropout > 0)
        for (size_t i = 0; i < B * F; i++)
            w->dH[i] *= w->mask[i];
    bool tune = m->mode != MODE_STATIC;
    tcat_status st = m->enc->ops->backward(m->enc, m->theta, w->ws, w->dH, tune ? w->dX : NULL,
                                           w->gtheta);
    if (st != TCAT_OK || !tune)
        return st;
    if (channels(m) == 1)
        return tcat_emb_grad_scatter(&w->ge, w->pos, B * T, w->dX);
    for (size_t i = 0; i < B * T; i++) /* the tuned channel is the second half */
        memcpy(w->ch + i * dim, w->dX + i * 2 * dim + dim, dim * sizeof *w->ch);
    return tcat_emb_grad_scatter(&w->ge, w->pos, B * T, w->ch);
}

/* ---- scoring many documents ------------------------------------------------------ */

typedef struct score_job {
    const neural *m;
    const seqs *s;
    const size_t *order;  /* documents sorted by length (less padding) */
    float *logits;        /* n x K, in document order */
    worker *w;
    size_t T;
} score_job;

static void score_part(void *ctx, int t)
{
    score_job *j = ctx;
    size_t n = j->s->n, a = n * (size_t)t / j->T, b = n * (size_t)(t + 1) / j->T;
    size_t K = j->m->base.nclasses;
    worker *w = &j->w[t];
    for (size_t i = a; i < b && w->st == TCAT_OK; i += PREDICT_BATCH) {
        size_t B = b - i < PREDICT_BATCH ? b - i : PREDICT_BATCH;
        if ((w->st = forward(j->m, w, j->s, j->order + i, B, false, NULL)) != TCAT_OK)
            break;
        for (size_t q = 0; q < B; q++)
            memcpy(j->logits + j->order[i + q] * K, w->logit + q * K, K * sizeof(float));
    }
}

static int by_len_ctx_cmp(const void *a, const void *b, void *ctx)
{
    const seqs *s = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    size_t lx = seq_len(s, x), ly = seq_len(s, y);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x < y ? -1 : x > y;
}

static tcat_status new_workers(const neural *m, size_t T, bool train, worker **out)
{
    worker *w = calloc(T, sizeof *w);
    if (!w)
        return TCAT_ERR_NOMEM;
    size_t K = m->base.nclasses;
    for (size_t t = 0; t < T; t++) {
        if (m->enc->ops->ws_new(m->enc, &w[t].ws) != TCAT_OK)
            goto fail;
        if (train && (!(w[t].gtheta = calloc(m->ntheta ? m->ntheta : 1, sizeof(float))) ||
                      !(w[t].gout = calloc(K * (m->F + 1), sizeof(float))) ||
                      tcat_emb_grad_init(&w[t].ge, m->E.rows, (size_t)m->dim) != TCAT_OK))
            goto fail;
    }
    *out = w;
    return TCAT_OK;
fail:
    workers_free(m, w, T);
    return TCAT_ERR_NOMEM;
}

/* Logits (s->n x K) of every document of s, on T threads. */
static tcat_status score_all(const neural *m, const seqs *s, float *logits, size_t T)
{
    if (s->n == 0)
        return TCAT_OK;
    if (T > s->n)
        T = s->n;
    size_t *order = malloc(s->n * sizeof *order);
    worker *w = NULL;
    tcat_status st = order ? new_workers(m, T, false, &w) : TCAT_ERR_NOMEM;
    if (st == TCAT_OK) {
        for (size_t i = 0; i < s->n; i++)
            order[i] = i;
        qsort_r(order, s->n, sizeof *order, by_len_ctx_cmp, (void *)s);
        score_job j = {m, s, order, logits, w, T};
        tcat_parallel((int)T, score_part, &j);
        for (size_t t = 0; t < T; t++)
            if (w[t].st != TCAT_OK)
                st = w[t].st;
    }
    workers_free(m, w, T);
    free(order);
    return st;
}

static double macro_f1(const float *logits, const int32_t *y, size_t n, size_t K)
{
    double f = 0;
    size_t *tp = calloc(3 * K, sizeof *tp);
    if (!tp)
        return 0;
    size_t *fp = tp + K, *fn = tp + 2 * K;
    for (size_t i = 0; i < n; i++) {
        size_t best = tcat_argmax(logits + i * K, K);
        if (best == (size_t)y[i])
            tp[best]++;
        else {
            fp[best]++;
            fn[y[i]]++;
        }
    }
    for (size_t k = 0; k < K; k++)
        if (tp[k])
            f += 2.0 * (double)tp[k] / (double)(2 * tp[k] + fp[k] + fn[k]);
    free(tp);
    return f / (double)K;
}

/* Multi-label early stopping: minus the mean binary log-loss, over every
 * (document, label) pair, of the probabilities predict would give
 * (sigmoid(s / T), T fitted on these scores). Like the single-label
 * macro-F1 it needs no threshold, but it does not saturate: the F1 of
 * each label at its best threshold reaches 1 once dev is ranked right and
 * would then keep that epoch, whose sigmoids may still sit on the wrong
 * side of 1/2 (seen on tests/synth.h's corpus); fitting T first means
 * growing margins that calibration undoes are not punished. Cheap beside
 * encoding dev: some 60 passes over its n x K scores. */
static double ml_dev_score(const float *logits, const uint8_t *t, size_t n, size_t K)
{
    double T = tcat_fit_temperature_ova(logits, t, n, K), loss = 0;
    size_t nk = n * K;
    for (size_t i = 0; i < nk; i++)
        loss += softplus(t[i] ? -logits[i] / T : logits[i] / T);
    return nk ? -loss / (double)nk : 0;
}

/* ---- training ------------------------------------------------------------------- */

typedef struct train_job {
    neural *m;
    const seqs *s;
    const int32_t *y;          /* labels of s's documents */
    const uint8_t *t;          /* multi-label: their targets (n x K), else NULL */
    const size_t *batch;       /* this batch's documents */
    size_t B, T;
    const double *cw;
    worker *w;
    uint64_t seed;             /* this batch's dropout seed */
} train_job;

static void train_part(void *ctx, int t)
{
    train_job *j = ctx;
    size_t a = j->B * (size_t)t / j->T, b = j->B * (size_t)(t + 1) / j->T;
    worker *w = &j->w[t];
    if (a == b)
        return;
    tcat_rng r;
    tcat_rng_seed(&r, tcat_hash_fold(j->seed, (uint64_t)t));
    if ((w->st = forward(j->m, w, j->s, j->batch + a, b - a, true, &r)) == TCAT_OK)
        w->st = backward(j->m, w, j->y, j->t, j->batch + a, b - a, j->B, j->cw);
}

/* Sums the threads' gradients into worker 0's, in thread order. */
static tcat_status reduce(neural *m, worker *w, size_t T)
{
    size_t K = m->base.nclasses, nout = K * (m->F + 1);
    for (size_t t = 1; t < T; t++) {
        for (size_t i = 0; i < m->ntheta; i++)
            w[0].gtheta[i] += w[t].gtheta[i];
        for (size_t i = 0; i < nout; i++)
            w[0].gout[i] += w[t].gout[i];
        if (tcat_emb_grad_merge(&w[0].ge, &w[t].ge) != TCAT_OK)
            return TCAT_ERR_NOMEM;
        w[0].loss += w[t].loss;
    }
    return TCAT_OK;
}

static void zero_grads(neural *m, worker *w, size_t T)
{
    size_t nout = m->base.nclasses * (m->F + 1);
    for (size_t t = 0; t < T; t++) {
        memset(w[t].gtheta, 0, m->ntheta * sizeof(float));
        memset(w[t].gout, 0, nout * sizeof(float));
        tcat_emb_grad_clear(&w[t].ge);
        w[t].loss = 0;
    }
}

/* Skip-gram epochs for a text of ntok tokens: about SG_PASSES tokens in
 * all, SG_MIN_EPOCHS to SG_MAX_EPOCHS. */
#define SG_PASSES 6000000.0
#define SG_MIN_EPOCHS 5
#define SG_MAX_EPOCHS 30
static int sg_epochs(size_t ntok)
{
    double e = ceil(SG_PASSES / (double)(ntok ? ntok : 1));
    return e < SG_MIN_EPOCHS ? SG_MIN_EPOCHS : e > SG_MAX_EPOCHS ? SG_MAX_EPOCHS : (int)e;
}

/* In-domain vectors: skip-gram on the training text and the unlabelled
 * text, then the rows of the words it learnt. */
static tcat_status rows_from_skipgram(neural *m, const tcat_docs *train, const tcat_fit_opts *o,
                                      tcat_error *err)
{
    tcat_corpus pool;
    tcat_corpus_init(&pool);
    tcat_status st = TCAT_OK;
    for (size_t i = 0; i < train->n && st == TCAT_OK; i++)
        st = tcat_corpus_copy_doc(&pool, train->c, tcat_docs_at(train, i));
    for (size_t i = 0; o->unlabeled && i < o->unlabeled->n && st == TCAT_OK; i++)
        st = tcat_corpus_copy_doc(&pool, o->unlabeled, i);
    if (st != TCAT_OK) {
        tcat_corpus_free(&pool);
        return tcat_fail(err, st, "%s: out of memory pooling text for word vectors",
                         m->fam->ops->family);
    }
    tcat_w2v_options wo;
    tcat_w2v_options_default(&wo);
    wo.dim = (size_t)m->dim;
    wo.min_count = (uint64_t)(m->min_count > 1 ? m->min_count : 1);
    wo.seed = o->seed ^ 0x77327663u;
    /* small corpora need more passes to move the vectors at all: about 6
     * million tokens in all, 5 to 30 epochs (see neural.h) */
    wo.epochs = sg_epochs(pool.ntok);
    tcat_vec *vec = NULL;
    tcat_error werr = {0};
    st = tcat_w2v_train(&vec, &pool, &wo, NULL, &werr);
    tcat_corpus_free(&pool);
    if (st == TCAT_ERR_INPUT) /* too little text: keep the random rows */
        return TCAT_OK;
    if (st != TCAT_OK)
        return tcat_fail(err, st, "%s: word vectors: %s", m->fam->ops->family, werr.msg);
    tcat_wordids_rows_from_vectors(&m->vocab, train, vec, &m->E);
    tcat_vec_free(&vec);
    return TCAT_OK;
}

/* Random embedding rows are uniform in [-ROW_BOUND, ROW_BOUND), Kim's choice. */
#define ROW_BOUND 0.25

/* The RMS of the embedding rows the encoder will read: random rows have
 * their nominal ROW_BOUND/sqrt(3) (so a seed gives the same start whatever
 * the draw), vectors from skip-gram or a file are measured. */
static float rows_rms(const neural *m)
{
    if (m->init == INIT_RANDOM)
        return (float)(ROW_BOUND / sqrt(3.0));
    size_t n = m->E.rows * m->E.cols;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (double)m->E.data[i] * m->E.data[i];
    return n ? (float)sqrt(ss / (double)n) : 0.0f;
}

/* The vocabulary, the tables, the encoder and its parameters. */
static tcat_status build(neural *m, const tcat_docs *train, const tcat_fit_opts *o,
                         tcat_rng *rng, tcat_error *err)
{
    const char *F = m->fam->ops->family;
    size_t K = m->base.nclasses, dim = (size_t)m->dim;
    if (tcat_wordids_build(&m->vocab, train, (uint64_t)m->min_count, (size_t)m->max_words) ||
        tcat_tensor_alloc(&m->E, m->vocab.n + 1, dim))
        return tcat_fail(err, TCAT_ERR_NOMEM, "%s: out of memory (%zu words x %zu)", F,
                         m->vocab.n, dim);
    tcat_tensor_uniform(&m->E, (float)ROW_BOUND, rng);
    tcat_status st;
    if (m->init == INIT_PRETRAINED && o->vectors)
        tcat_wordids_rows_from_vectors(&m->vocab, train, o->vectors, &m->E);
    else if (m->init != INIT_RANDOM && (st = rows_from_skipgram(m, train, o, err)) != TCAT_OK)
        return st;
    if (m->mode == MODE_MULTI) {
        if (tcat_tensor_alloc(&m->S, m->E.rows, dim) != TCAT_OK)
            return tcat_fail(err, TCAT_ERR_NOMEM, "%s: out of memory", F);
        memcpy(m->S.data, m->E.data, m->E.rows * dim * sizeof(float));
    }
    if ((st = m->fam->encoder(m->self, dim * channels(m), &m->enc, err)) != TCAT_OK)
        return st;
    m->ntheta = m->enc->ops->nparams(m->enc);
    m->F = m->enc->ops->out_dim(m->enc);
    m->own_theta = malloc((m->ntheta ? m->ntheta : 1) * sizeof(float));
    m->own_out = calloc(K * (m->F + 1), sizeof(float));
    if (!m->own_theta || !m->own_out)
        return tcat_fail(err, TCAT_ERR_NOMEM, "%s: out of memory", F);
    m->theta = m->own_theta;
    m->out = m->own_out;
    m->enc->ops->init(m->enc, m->theta, rows_rms(m), rng);
    float a = 1.0f / sqrtf((float)m->F); /* PyTorch's Linear default (see conv.c); biases 0 */
    for (size_t k = 0; k < K; k++)
        for (size_t f = 0; f < m->F; f++)
            m->out[k * (m->F + 1) + f] = (float)((2 * tcat_rng_uniform(rng) - 1) * a);
    return TCAT_OK;
}

/* The best weights seen on dev, to return to when later epochs are worse. */
typedef struct snapshot {
    float *theta, *out, *E;
} snapshot;

static void snap(const neural *m, snapshot *s, bool save)
{
    size_t nout = m->base.nclasses * (m->F + 1), nE = m->E.rows * m->E.cols;
    if (save) {
        memcpy(s->theta, m->theta, m->ntheta * sizeof(float));
        memcpy(s->out, m->out, nout * sizeof(float));
        if (s->E)
            memcpy(s->E, m->E.data, nE * sizeof(float));
    } else {
        memcpy(m->theta, s->theta, m->ntheta * sizeof(float));
        memcpy(m->out, s->out, nout * sizeof(float));
        if (s->E)
            memcpy(m->E.data, s->E, nE * sizeof(float));
    }
}

typedef struct trainer {
    tcat_optim o_theta, o_out, o_E;
    snapshot best;
    seqs tr, dv;
    int32_t *y, *yd;
    uint8_t *t, *td;      /* multi-label targets instead of y, yd */
    size_t *order;
    float *dlogits;
    worker *w;
    size_t T;
} trainer;

static void trainer_free(neural *m, trainer *t)
{
    tcat_optim_free(&t->o_theta);
    tcat_optim_free(&t->o_out);
    tcat_optim_free(&t->o_E);
    free(t->best.theta);
    free(t->best.out);
    free(t->best.E);
    seqs_free(&t->tr);
    seqs_free(&t->dv);
    free(t->y);
    free(t->yd);
    free(t->t);
    free(t->td);
    free(t->order);
    free(t->dlogits);
    workers_free(m, t->w, t->T);
}

/* One optimiser step from the summed gradients of worker 0. */
static void apply(neural *m, trainer *t)
{
    worker *w = &t->w[0];
    size_t K = m->base.nclasses, F = m->F, nout = K * (F + 1);
    if (m->clip > 0) {
        float *parts[3] = {w->gtheta, w->gout, w->ge.g};
        size_t len[3] = {m->ntheta, nout, w->ge.n * (size_t)m->dim};
        tcat_clip_norm(parts, len, 3, m->clip);
    }
    tcat_optim_step(&t->o_theta, m->theta, w->gtheta);
    tcat_optim_step(&t->o_out, m->out, w->gout);
    if (m->mode != MODE_STATIC && w->ge.n)
        tcat_optim_step_rows(&t->o_E, m->E.data, (size_t)m->dim, w->ge.rows, w->ge.n, w->ge.g);
    if (m->max_norm > 0)
        for (size_t k = 0; k < K; k++)
            tcat_max_norm_rows(m->out + k * (F + 1), 1, F, (float)m->max_norm);
}

tcat_status tcat_neural_fit(tcat_pipeline *p, const tcat_docs *train, const tcat_docs *dev,
                            const tcat_fit_opts *o, tcat_error *err)
{
    neural *m = (neural *)p;
    const char *F = m->fam->ops->family;
    if (m->init == INIT_PRETRAINED && o->vectors && (size_t)m->dim != tcat_vec_dim(o->vectors)) {
        m->dim = (long)tcat_vec_dim(o->vectors); /* the vectors decide the dimension */
        set_param(m, "dim", json_integer(m->dim));
    }
    forget(m);
    tcat_rng rng;
    tcat_rng_seed(&rng, o->seed ^ 0x6e65757261ull);
    tcat_status st = build(m, train, o, &rng, err);
    if (st != TCAT_OK)
        return st;
    size_t K = p->nclasses, nout = K * (m->F + 1);
    size_t nE = m->E.rows * m->E.cols, T = (size_t)(o->threads > 1 ? o->threads : m->threads);
    bool has_dev = dev && dev->n > 0, tune = m->mode != MODE_STATIC, ml = p->multilabel;
    if (T > (size_t)m->batch)
        T = (size_t)m->batch;
    if ((long)T != m->threads) { /* the model depends on it: recorded */
        m->threads = (long)T;
        set_param(m, "threads", json_integer((json_int_t)T));
    }
    trainer t = {.T = T};
    st = TCAT_ERR_NOMEM;
    if (tcat_optim_init(&t.o_theta, (tcat_opt_kind)m->optimizer, (float)m->lr, m->ntheta) ||
        tcat_optim_init(&t.o_out, (tcat_opt_kind)m->optimizer, (float)m->lr, nout) ||
        (tune && tcat_optim_init(&t.o_E, (tcat_opt_kind)m->optimizer, (float)m->lr, nE)) ||
        make_seqs(m, train, &t.tr) || (has_dev && make_seqs(m, dev, &t.dv)) ||
        (!ml && !(t.y = tcat_docs_labels(train))) ||
        (!ml && has_dev && !(t.yd = tcat_docs_labels(dev))) ||
        (ml && !(t.t = tcat_docs_targets(train, K))) ||
        (ml && has_dev && !(t.td = tcat_docs_targets(dev, K))) ||
        !(t.order = malloc((train->n ? train->n : 1) * sizeof *t.order)) ||
        (has_dev && !(t.dlogits = malloc(dev->n * K * sizeof(float)))) ||
        (has_dev && (!(t.best.theta = malloc((m->ntheta + 1) * sizeof(float))) ||
                     !(t.best.out = malloc(nout * sizeof(float))) ||
                     (tune && !(t.best.E = malloc(nE * sizeof(float)))))) ||
        new_workers(m, T, true, &t.w))
        goto out;
    st = TCAT_OK;
    for (size_t i = 0; i < train->n; i++)
        t.order[i] = i;
    double best = -1;
    long best_epoch = 0, e;
    uint64_t step = 0;
    bool stop = false;
    for (e = 1; e <= m->epochs && !stop && st == TCAT_OK; e++) {
        tcat_rng_shuffle(&rng, t.order, train->n);
        for (size_t a = 0; a < train->n && st == TCAT_OK; a += (size_t)m->batch) {
            size_t B = train->n - a < (size_t)m->batch ? train->n - a : (size_t)m->batch;
            zero_grads(m, t.w, T);
            train_job j = {m, &t.tr, t.y, t.t, t.order + a, B, T, o->class_weight, t.w,
                           tcat_hash_fold(o->seed, ++step)};
            tcat_parallel((int)T, train_part, &j);
            for (size_t q = 0; q < T; q++)
                if (t.w[q].st != TCAT_OK)
                    st = t.w[q].st;
            if (st == TCAT_OK && (st = reduce(m, t.w, T)) == TCAT_OK)
                apply(m, &t);
            if (o->deadline > 0 && tcat_now() > o->deadline) {
                stop = true;
                break;
            }
        }
        if (st != TCAT_OK || !has_dev) {
            best_epoch = e;
            continue;
        }
        if ((st = score_all(m, &t.dv, t.dlogits, T)) != TCAT_OK)
            break;
        double score = ml ? ml_dev_score(t.dlogits, t.td, dev->n, K)
                          : macro_f1(t.dlogits, t.yd, dev->n, K);
        if (score > best || best_epoch == 0) {
            best = score;
            best_epoch = e;
            snap(m, &t.best, true);
        } else if (e - best_epoch >= m->patience)
            stop = true;
    }
    if (st != TCAT_OK) {
        st = tcat_fail(err, st, "%s: training failed: %s", F, tcat_strerror(st));
        goto out;
    }
    if (has_dev) {
        snap(m, &t.best, false);
        if (best_epoch > 0 && best_epoch < m->epochs) {
            m->epochs = best_epoch; /* a refit without dev trains as long */
            set_param(m, "epochs", json_integer(best_epoch));
        }
        if ((st = score_all(m, &t.dv, t.dlogits, T)) != TCAT_OK) {
            st = tcat_fail(err, st, "%s: out of memory", F);
            goto out;
        }
        m->temperature = ml ? tcat_fit_temperature_ova(t.dlogits, t.td, dev->n, K)
                            : tcat_fit_temperature(t.dlogits, t.yd, dev->n, K);
        set_param(m, "temperature", json_real(m->temperature));
    }
out:
    if (st == TCAT_ERR_NOMEM && !err->msg[0])
        tcat_fail(err, st, "%s: out of memory", F);
    trainer_free(m, &t);
    return st;
}

/* ---- predict ----------------------------------------------------------------------- */

tcat_status tcat_neural_predict_proba(const tcat_pipeline *p, const tcat_docs *docs,
                                      float *proba, int threads, tcat_cache *cache,
                                      tcat_error *err)
{
    (void)cache;
    const neural *m = (const neural *)p;
    if (!m->enc)
        return tcat_fail(err, TCAT_ERR_USAGE, "%s: predict before fit", m->fam->ops->family);
    seqs s;
    tcat_status st = make_seqs(m, docs, &s);
    if (st == TCAT_OK)
        st = score_all(m, &s, proba, (size_t)(threads > 1 ? threads : 1));
    seqs_free(&s);
    if (st != TCAT_OK)
        return tcat_fail(err, st, "%s: out of memory", m->fam->ops->family);
    if (p->multilabel)
        tcat_sigmoid_rows(proba, docs->n, p->nclasses, m->temperature);
    else
        tcat_softmax_rows(proba, docs->n, p->nclasses, m->temperature);
    return TCAT_OK;
}

/* ---- save and load ----------------------------------------------------------------- */

tcat_status tcat_neural_save(const tcat_pipeline *p, tcat_mwriter *w, const char *prefix,
                             tcat_error *err)
{
    const neural *m = (const neural *)p;
    uint64_t shape[5] = {m->vocab.n, (uint64_t)m->dim, channels(m), m->ntheta, p->nclasses};
    size_t rowbytes = m->E.rows * m->E.cols * sizeof(float);
    tcat_status st;
    if ((st = tcat_pipeline_put(w, prefix, "shape", shape, sizeof shape, err)) ||
        (st = tcat_pipeline_put(w, prefix, "words", m->vocab.hash, m->vocab.n * sizeof(uint64_t),
                                err)) ||
        (st = tcat_pipeline_put(w, prefix, "E", m->E.data, rowbytes, err)) ||
        (m->mode == MODE_MULTI && (st = tcat_pipeline_put(w, prefix, "S", m->S.data, rowbytes,
                                                          err))) ||
        (st = tcat_pipeline_put(w, prefix, "theta", m->theta, m->ntheta * sizeof(float), err)) ||
        (st = tcat_pipeline_put(w, prefix, "out", m->out,
                                p->nclasses * (m->F + 1) * sizeof(float), err)))
        return st;
    uint64_t pad = m->pad;
    return tcat_pipeline_put(w, prefix, "pad", &pad, sizeof pad, err);
}

tcat_status tcat_neural_load(tcat_pipeline *p, const tcat_mreader *r, const char *prefix,
                             tcat_error *err)
{
    neural *m = (neural *)p;
    tcat_status st = TCAT_OK;
    forget(m);
    const uint64_t *shape = tcat_pipeline_get(r, prefix, "shape", 5 * sizeof(uint64_t), &st, err);
    if (!shape)
        return st;
    if (shape[1] != (uint64_t)m->dim || shape[2] != channels(m) || shape[4] != p->nclasses ||
        shape[0] >= UINT32_MAX - 1)
        return tcat_fail(err, TCAT_ERR_MODEL, "section '%s.shape' does not match the model",
                         prefix);
    size_t nw = (size_t)shape[0], dim = (size_t)m->dim, K = p->nclasses;
    if ((st = m->fam->encoder(m->self, dim * channels(m), &m->enc, err)) != TCAT_OK)
        return st == TCAT_ERR_USAGE ? TCAT_ERR_MODEL : st;
    m->ntheta = m->enc->ops->nparams(m->enc);
    m->F = m->enc->ops->out_dim(m->enc);
    if (shape[3] != m->ntheta)
        return tcat_fail(err, TCAT_ERR_MODEL, "section '%s.shape' does not match the encoder",
                         prefix);
    size_t rowbytes = (nw + 1) * dim * sizeof(float);
    const uint64_t *words = tcat_pipeline_get(r, prefix, "words", nw * sizeof *words, &st, err);
    const float *E = words ? tcat_pipeline_get(r, prefix, "E", rowbytes, &st, err) : NULL;
    const float *S = E && m->mode == MODE_MULTI
                         ? tcat_pipeline_get(r, prefix, "S", rowbytes, &st, err)
                         : E;
    const float *th = S ? tcat_pipeline_get(r, prefix, "theta", m->ntheta * sizeof(float), &st,
                                            err)
                        : NULL;
    const float *out =
        th ? tcat_pipeline_get(r, prefix, "out", K * (m->F + 1) * sizeof(float), &st, err)
           : NULL;
    if (!out)
        return st;
    /* the padding it was trained with: models saved before the family
     * padded have no 'pad' section and read no padding */
    char name[64];
    snprintf(name, sizeof name, "%s.pad", prefix);
    if (tcat_mreader_find(r, name, NULL, NULL)) {
        const uint64_t *pad = tcat_pipeline_get(r, prefix, "pad", sizeof *pad, &st, err);
        if (!pad)
            return st;
        if (*pad != m->pad)
            return tcat_fail(err, TCAT_ERR_MODEL, "section '%s' does not match the parameters",
                             name);
    } else if (m->pad) {
        m->fam->unpadded(m->self);
        m->pad = 0;
        json_t *own = m->fam->effective(m->self);
        if (!own || json_object_update(m->base.params, own) != 0) {
            json_decref(own);
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        }
        json_decref(own);
    }
    if ((st = tcat_wordids_view(&m->vocab, words, nw)) != TCAT_OK)
        return tcat_fail(err, st, st == TCAT_ERR_MODEL ? "section '%s.words' is not sorted"
                                                       : "out of memory (%s)", prefix);
    tcat_tensor_view(&m->E, (float *)E, nw + 1, dim);
    if (m->mode == MODE_MULTI)
        tcat_tensor_view(&m->S, (float *)S, nw + 1, dim);
    m->theta = (float *)th;
    m->out = (float *)out;
    return TCAT_OK;
}

json_t *tcat_neural_describe(const tcat_pipeline *p)
{
    const neural *m = (const neural *)p;
    return json_pack("{s:I, s:I, s:I, s:s}", "words", (json_int_t)m->vocab.n, "parameters",
                     (json_int_t)(m->ntheta + p->nclasses * (m->F + 1) +
                                  m->E.rows * m->E.cols * channels(m)),
                     "features", (json_int_t)m->F, "encoder",
                     m->enc ? m->enc->ops->name : "none");
}
