#include "pipelines/fasttext.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/parallel.h"
#include "core/rng.h"
#include "embeddings/hashing.h"
#include "embeddings/table.h"
#include "embeddings/tensor.h"
#include "embeddings/wordids.h"
#include "embeddings/vectors.h"
#include "pipelines/calibrate.h"
#include "pipelines/ngrams.h"
#include "pipelines/params.h"
#include "tokenizer/subword.h"
#include "tokenizer/utf8.h"

enum { LOSS_SOFTMAX, LOSS_OVA };

typedef struct ftx {
    tcat_pipeline base;
    long dim, epoch, word_ngrams, min_count, bucket, minn, maxn, threads, pieces;
    int pieces_type;
    double lr, temperature;
    int loss;
    bool punct;            /* punctuation tokens are inputs too */
    bool eos;              /* every document has one more input, its own
                            * row: fastText's end-of-line word, a bias */
    /* fitted */
    tcat_wordids vocab;    /* the words with their own rows, ids 0.. */
    size_t nwords;         /* vocab.n */
    tcat_subword *sub;     /* subword vocabulary when pieces > 0 */
    size_t npieces;        /* its size (byte pieces included) */
    tcat_tensor E, W;      /* (nwords + bucket + npieces) x dim, K x dim */
    /* K: what a document with no input (every word unknown) gets: the
     * training classes' (weighted) frequencies, or with label sets each
     * label's. Without it such a document scored every class 0 and went
     * to class 0, whichever that was (fastText's label order, most
     * frequent first, gives the majority): with labels numbered in order
     * of appearance, MPQA (a) scored 0.797 instead of 0.834 (4 seeds).
     * NULL in models saved before it (they keep the old answer). */
    const float *prior;
    float *own_prior;
} ftx;

/* ---- hyperparameters ------------------------------------------------------- */

static tcat_status parse(tcat_pipeline *base, const json_t *p, tcat_error *err)
{
    ftx *m = (ftx *)base;
    static const char *const known[] = {"dim", "lr", "epoch", "word_ngrams", "min_count",
                                        "bucket", "minn", "maxn", "loss", "threads",
                                        "temperature", "pieces", "pieces_type", "punct", "eos", NULL};
    static const char *const losses[] = {"softmax", "ova", NULL};
    static const char *const ptypes[] = {"unigram", "bpe", NULL};
    const char *F = "fasttext";
    tcat_status st;
    if ((st = tcat_params_check_keys(F, p, known, err)) ||
        (st = tcat_params_int(F, p, "dim", 100, 1, 2048, &m->dim, err)) ||
        (st = tcat_params_num(F, p, "lr", 0.1, 1e-6, 100, &m->lr, err)) ||
        (st = tcat_params_int(F, p, "epoch", 5, 1, 10000, &m->epoch, err)) ||
        (st = tcat_params_int(F, p, "word_ngrams", 1, 1, 5, &m->word_ngrams, err)) ||
        (st = tcat_params_int(F, p, "min_count", 1, 1, 1000000000, &m->min_count, err)) ||
        (st = tcat_params_int(F, p, "minn", 0, 0, 10, &m->minn, err)) ||
        (st = tcat_params_int(F, p, "maxn", 0, 0, 10, &m->maxn, err)) ||
        (st = tcat_params_int(F, p, "bucket",
                              m->word_ngrams > 1 || m->maxn > 0 ? 2000000 : 0, 0, 100000000,
                              &m->bucket, err)) ||
        (st = tcat_params_choice(F, p, "loss", losses, LOSS_SOFTMAX, &m->loss, err)) ||
        (st = tcat_params_int(F, p, "threads", 1, 1, 1024, &m->threads, err)) ||
        (st = tcat_params_num(F, p, "temperature", 1.0, 1e-4, 1e4, &m->temperature, err)) ||
        (st = tcat_params_int(F, p, "pieces", 0, 0, 1000000, &m->pieces, err)) ||
        (st = tcat_params_choice(F, p, "pieces_type", ptypes, 0, &m->pieces_type, err)) ||
        (st = tcat_params_bool(F, p, "punct", false, &m->punct, err)) ||
        (st = tcat_params_bool(F, p, "eos", false, &m->eos, err)))
        return st;
    if (base->multilabel) /* a label set is one-vs-all, whatever "loss" said */
        m->loss = LOSS_OVA;
    if (m->maxn > 0 && (m->minn < 1 || m->minn > m->maxn))
        return tcat_fail(err, TCAT_ERR_USAGE, "fasttext: need 1 <= minn <= maxn");
    if ((m->word_ngrams > 1 || m->maxn > 0) && m->bucket == 0)
        return tcat_fail(err, TCAT_ERR_USAGE,
                         "fasttext: word n-grams and char n-grams need bucket > 0");
    return TCAT_OK;
}

static json_t *effective(const tcat_pipeline *base)
{
    const ftx *m = (const ftx *)base;
    static const char *const losses[] = {"softmax", "ova"};
    static const char *const ptypes[] = {"unigram", "bpe"};
    return json_pack("{s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:f, s:I, s:s, s:b, s:b}",
                     "dim",
                     (json_int_t)m->dim, "lr", m->lr, "epoch", (json_int_t)m->epoch,
                     "word_ngrams", (json_int_t)m->word_ngrams, "min_count",
                     (json_int_t)m->min_count, "bucket", (json_int_t)m->bucket, "minn",
                     (json_int_t)m->minn, "maxn", (json_int_t)m->maxn, "loss",
                     losses[m->loss], "threads", (json_int_t)m->threads, "temperature",
                     m->temperature, "pieces", (json_int_t)m->pieces, "pieces_type",
                     ptypes[m->pieces_type], "punct", m->punct, "eos", m->eos);
}

static tcat_status create(tcat_pipeline **out, const json_t *params, size_t nclasses,
                          tcat_error *err)
{
    return tcat_pipeline_new(out, sizeof(ftx), &tcat_fasttext_ops, params, nclasses, parse,
                             effective, err);
}

static void forget(ftx *m)
{
    tcat_wordids_free(&m->vocab);
    m->nwords = 0;
    tcat_tensor_free(&m->E);
    tcat_tensor_free(&m->W);
    tcat_subword_free(&m->sub);
    m->npieces = 0;
    free(m->own_prior);
    m->prior = m->own_prior = NULL;
}

static void destroy(tcat_pipeline *p)
{
    forget((ftx *)p);
    free(p);
}

/* ---- ids of a document -------------------------------------------------------- */

/* Rows after the buckets: the pieces, then the end-of-document row. */
static size_t tail_rows(const ftx *m) { return m->npieces + (m->eos ? 1 : 0); }

typedef struct idvec {
    uint32_t *v;
    size_t n, cap;
    uint64_t *th; /* token hashes scratch */
    size_t thcap;
    tcat_span *tk; /* the tokens read (punctuation skipped unless punct) */
    size_t tcap;
    char *pad;    /* "<word>" scratch */
    size_t padcap;
    size_t *cpb;  /* code point boundaries of pad */
    tcat_subword_cache *sc; /* word -> pieces, when the model has pieces */
} idvec;

static void idvec_free(idvec *v)
{
    free(v->v);
    free(v->th);
    free(v->tk);
    free(v->pad);
    free(v->cpb);
    tcat_subword_cache_free(&v->sc);
    memset(v, 0, sizeof *v);
}

static tcat_status push(idvec *v, uint32_t id)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 256;
        uint32_t *nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            return TCAT_ERR_NOMEM;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = id;
    return TCAT_OK;
}

/* The input ids of document d of c: known words, word n-gram buckets and
 * char n-gram buckets, in that order (see the header for the hashes). */
static tcat_status doc_ids(const ftx *m, const tcat_corpus *c, size_t d, idvec *v)
{
    v->n = 0;
    size_t nt;
    const tcat_span *all = tcat_corpus_tokens(c, d, &nt);
    const uint8_t *pu = c->punct + c->doc_tok[d];
    if (nt > v->tcap) { /* the tokens this model reads */
        tcat_span *tk = realloc(v->tk, nt * sizeof *tk);
        if (!tk)
            return TCAT_ERR_NOMEM;
        v->tk = tk;
        v->tcap = nt;
    }
    size_t kept = 0;
    for (size_t i = 0; i < nt; i++)
        if (m->punct || !pu[i])
            v->tk[kept++] = all[i];
    nt = kept;
    const tcat_span *t = v->tk;
    if (nt > v->thcap) {
        uint64_t *th = realloc(v->th, nt * sizeof *th);
        if (!th)
            return TCAT_ERR_NOMEM;
        v->th = th;
        v->thcap = nt;
    }
    for (size_t i = 0; i < nt; i++) {
        v->th[i] = tcat_wordids_hash(c->text.data + t[i].off, t[i].len);
        int64_t id = tcat_wordids_find(&m->vocab, v->th[i]);
        if (id >= 0 && push(v, (uint32_t)id) != TCAT_OK)
            return TCAT_ERR_NOMEM;
    }
    uint32_t base = (uint32_t)m->nwords;
    for (long n = 2; n <= m->word_ngrams; n++)
        for (size_t i = 0; i + (size_t)n <= nt; i++) {
            uint64_t h = (uint64_t)n;
            for (long k = 0; k < n; k++)
                h = tcat_hash_fold(h, v->th[i + (size_t)k]);
            if (push(v, base + (uint32_t)(h % (uint64_t)m->bucket)) != TCAT_OK)
                return TCAT_ERR_NOMEM;
        }
    if (m->sub) {
        /* subword pieces of every token, as more inputs */
        if (!v->sc && tcat_subword_cache_init(&v->sc, m->sub, 0) != TCAT_OK)
            return TCAT_ERR_NOMEM;
        uint32_t pbase = base + (uint32_t)m->bucket;
        for (size_t i = 0; i < nt; i++) {
            const int32_t *pid;
            size_t np;
            if (tcat_subword_cache_encode(v->sc, c->text.data + t[i].off, t[i].len, &pid, &np) !=
                TCAT_OK)
                return TCAT_ERR_NOMEM;
            for (size_t k = 0; k < np; k++)
                if (push(v, pbase + (uint32_t)pid[k]) != TCAT_OK)
                    return TCAT_ERR_NOMEM;
        }
    }
    if (m->eos && push(v, base + (uint32_t)(m->bucket + m->npieces)) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    if (m->maxn <= 0)
        return TCAT_OK;
    for (size_t i = 0; i < nt; i++) {
        size_t len = t[i].len;
        if (len + 3 > v->padcap) {
            size_t cap = 2 * (len + 3);
            char *p = realloc(v->pad, cap);
            size_t *b = realloc(v->cpb, cap * sizeof *b);
            if (p)
                v->pad = p;
            if (b)
                v->cpb = b;
            if (!p || !b)
                return TCAT_ERR_NOMEM;
            v->padcap = cap;
        }
        v->pad[0] = '<';
        memcpy(v->pad + 1, c->text.data + t[i].off, len);
        v->pad[len + 1] = '>';
        size_t plen = len + 2, ncp = 0;
        for (size_t k = 0; k < plen;) {
            v->cpb[ncp++] = k;
            int32_t cp;
            k += tcat_utf8_decode((const uint8_t *)v->pad + k, plen - k, &cp);
        }
        v->cpb[ncp] = plen;
        for (size_t a = 0; a < ncp; a++)
            for (long n = m->minn; n <= m->maxn && a + (size_t)n <= ncp; n++) {
                if (n == 1 && (a == 0 || a == ncp - 1))
                    continue; /* "<" and ">" alone say nothing */
                size_t s = v->cpb[a], e = v->cpb[a + (size_t)n];
                uint64_t h = XXH3_64bits_withSeed(v->pad + s, e - s, TCAT_CHAR_SEED);
                if (push(v, base + (uint32_t)(h % (uint64_t)m->bucket)) != TCAT_OK)
                    return TCAT_ERR_NOMEM;
            }
    }
    return TCAT_OK;
}

/* ---- the loss of one example, double precision (for the gradient check) -- */

double tcat_fasttext_loss(const double *E, size_t dim, const double *W, size_t K,
                          const uint32_t *ids, size_t n, int32_t y, const uint8_t *t, int ova,
                          double *gE, double *gW)
{
    if (t && !ova)
        return NAN; /* a label set has no softmax loss */
    double *h = calloc(dim, sizeof *h), *s = calloc(K, sizeof *s), *gh = calloc(dim, sizeof *gh);
    if (!h || !s || !gh) {
        free(h);
        free(s);
        free(gh);
        return NAN;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < dim; j++)
            h[j] += E[(size_t)ids[i] * dim + j] / (double)n;
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < dim; j++)
            s[k] += W[k * dim + j] * h[j];
    double loss = 0;
    if (!ova) {
        double mx = s[0], sum = 0;
        for (size_t k = 1; k < K; k++)
            mx = s[k] > mx ? s[k] : mx;
        for (size_t k = 0; k < K; k++)
            sum += exp(s[k] - mx);
        loss = log(sum) + mx - s[y];
        for (size_t k = 0; k < K; k++)
            s[k] = exp(s[k] - mx) / sum - (k == (size_t)y); /* dloss/dscore */
    } else {
        for (size_t k = 0; k < K; k++) {
            double p = 1 / (1 + exp(-s[k])), tk = t ? t[k] != 0 : k == (size_t)y;
            loss -= tk ? log(p) : log(1 - p);
            s[k] = p - tk;
        }
    }
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < dim; j++) {
            gh[j] += s[k] * W[k * dim + j];
            if (gW)
                gW[k * dim + j] += s[k] * h[j];
        }
    if (gE)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < dim; j++)
                gE[(size_t)ids[i] * dim + j] += gh[j] / (double)n;
    free(h);
    free(s);
    free(gh);
    return loss;
}

/* ---- training --------------------------------------------------------------- */

/* One SGD step on one example (float, as fastText): the same gradients as
 * tcat_fasttext_loss, applied with learning rate lr. Multi-label: targets
 * t (K bytes) instead of y, label k's positive term weighted by cw[k]
 * (cw NULL: 1). */
static void step(ftx *m, const uint32_t *ids, size_t n, int32_t y, const uint8_t *t,
                 const double *cw, float lr, float *h, float *alpha, float *grad)
{
    size_t dim = (size_t)m->dim, K = m->base.nclasses;
    tcat_emb_bag(&m->E, ids, n, true, h);
    /* scores = W h, shape (K) = (K x dim)(dim) */
    tcat_gemv(false, 1.0f, &m->W, h, 0.0f, alpha);
    if (t) {
        for (size_t k = 0; k < K; k++) {
            float p = 1.0f / (1.0f + expf(-alpha[k]));
            alpha[k] = t[k] ? lr * (float)(cw ? cw[k] : 1.0) * (1.0f - p) : -lr * p;
        }
    } else if (m->loss == LOSS_SOFTMAX) {
        tcat_softmax(alpha, K);
        for (size_t k = 0; k < K; k++)
            alpha[k] = lr * ((k == (size_t)y ? 1.0f : 0.0f) - alpha[k]);
    } else {
        for (size_t k = 0; k < K; k++)
            alpha[k] = lr * ((k == (size_t)y ? 1.0f : 0.0f) - 1.0f / (1.0f + expf(-alpha[k])));
    }
    /* grad = W^T alpha (dim), before W moves; then W += alpha h^T */
    tcat_gemv(true, 1.0f, &m->W, alpha, 0.0f, grad);
    cblas_sger(CblasRowMajor, (int)K, (int)dim, 1.0f, alpha, 1, h, 1, m->W.data, (int)dim);
    tcat_emb_bag_add(&m->E, ids, n, 1.0f / (float)n, grad);
}

typedef struct train_job {
    ftx *m;
    const tcat_docs *train;
    const int32_t *y;
    const uint8_t *t;   /* multi-label: n x K targets (y unused), else NULL */
    size_t *order;      /* this epoch's order */
    size_t T;
    uint64_t total;     /* tokens over all epochs */
    uint64_t done_base; /* tokens before this epoch */
    const double *cw;   /* class weights, or NULL */
    double deadline;
    tcat_status *sts;
} train_job;

static void train_part(void *ctx, int t)
{
    train_job *j = ctx;
    ftx *m = j->m;
    size_t n = j->train->n, a = n * (size_t)t / j->T, b = n * (size_t)(t + 1) / j->T;
    size_t dim = (size_t)m->dim, K = m->base.nclasses;
    float *h = malloc(dim * sizeof *h), *grad = malloc(dim * sizeof *grad);
    float *alpha = malloc(K * sizeof *alpha);
    idvec v = {0};
    uint64_t done = j->done_base;
    if (!h || !grad || !alpha) {
        j->sts[t] = TCAT_ERR_NOMEM;
        goto out;
    }
    for (size_t r = a; r < b; r++) {
        size_t i = j->order[r];
        size_t d = tcat_docs_at(j->train, i);
        if (doc_ids(m, j->train->c, d, &v) != TCAT_OK) {
            j->sts[t] = TCAT_ERR_NOMEM;
            break;
        }
        size_t ntok = j->train->c->doc_tok[d + 1] - j->train->c->doc_tok[d];
        /* with T threads each sees its share: progress counts all */
        done += ntok * j->T;
        if (v.n == 0)
            continue;
        double progress = (double)done / (double)(j->total ? j->total : 1);
        float lr = (float)(m->lr * (1.0 - (progress < 1 ? progress : 1)));
        if (j->t) { /* each label's weight scales its own positive term */
            step(m, v.v, v.n, -1, j->t + i * K, j->cw, lr, h, alpha, grad);
        } else {
            if (j->cw) /* a weighted loss: its gradient scales with the weight */
                lr *= (float)j->cw[j->y[i]];
            step(m, v.v, v.n, j->y[i], NULL, NULL, lr, h, alpha, grad);
        }
        if (j->deadline > 0 && (r & 255) == 0 && tcat_now() > j->deadline)
            break;
    }
out:
    free(h);
    free(grad);
    free(alpha);
    idvec_free(&v);
}


/* A subword vocabulary of m->pieces pieces learnt from the training
 * words (tokenizer/subword.h), whose pieces become inputs too. */
static tcat_status train_pieces(ftx *m, const tcat_docs *train, tcat_error *err)
{
    tcat_wordcounts *wc;
    if (tcat_wordcounts_init(&wc) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    tcat_status st = TCAT_OK;
    for (size_t i = 0; i < train->n && st == TCAT_OK; i++) {
        size_t nt, d = tcat_docs_at(train, i);
        const tcat_span *t = tcat_corpus_tokens(train->c, d, &nt);
        for (size_t k = 0; k < nt && st == TCAT_OK; k++)
            st = tcat_wordcounts_add(wc, train->c->text.data + t[k].off, t[k].len, 1);
    }
    const tcat_wordcount *list;
    size_t n = 0;
    if (st == TCAT_OK)
        st = tcat_wordcounts_list(wc, &list, &n);
    if (st != TCAT_OK) {
        tcat_wordcounts_free(&wc);
        return tcat_fail(err, st, "fasttext: counting words: %s", tcat_strerror(st));
    }
    tcat_subword_params sp;
    tcat_subword_params_default(&sp);
    sp.size = (size_t)m->pieces;
    sp.type = m->pieces_type == 1 ? TCAT_SUBWORD_BPE : TCAT_SUBWORD_UNIGRAM;
    st = n ? tcat_subword_train(&m->sub, list, n, &sp, err) : TCAT_OK;
    tcat_wordcounts_free(&wc);
    if (st != TCAT_OK)
        return st;
    m->npieces = m->sub ? tcat_subword_size(m->sub) : 0;
    return TCAT_OK;
}

/* Scores (n x K) of docs: W times the mean input embedding; empty[i]
 * (when not NULL) says document i had no input. */
static tcat_status logits(const ftx *m, const tcat_docs *docs, float *out, uint8_t *empty)
{
    size_t dim = (size_t)m->dim, K = m->base.nclasses;
    float *h = malloc(dim * sizeof *h);
    idvec v = {0};
    tcat_status st = h ? TCAT_OK : TCAT_ERR_NOMEM;
    for (size_t i = 0; i < docs->n && st == TCAT_OK; i++) {
        if ((st = doc_ids(m, docs->c, tcat_docs_at(docs, i), &v)) != TCAT_OK)
            break;
        if (empty)
            empty[i] = v.n == 0;
        tcat_emb_bag(&m->E, v.v, v.n, true, h);
        tcat_gemv(false, 1.0f, &m->W, h, 0.0f, out + i * K);
    }
    free(h);
    idvec_free(&v);
    return st;
}

/* One-vs-all scores become probabilities through their sigmoids,
 * normalised to sum to one; softmax scores through the calibrated softmax;
 * multi-label scores through the calibrated sigmoids, each on its own. */
static void to_proba(const ftx *m, float *s, size_t n)
{
    size_t K = m->base.nclasses;
    if (m->base.multilabel) {
        tcat_sigmoid_rows(s, n, K, m->temperature);
        return;
    }
    if (m->loss == LOSS_SOFTMAX) {
        tcat_softmax_rows(s, n, K, m->temperature);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float *r = s + i * K;
        double sum = 0;
        for (size_t k = 0; k < K; k++)
            sum += (r[k] = 1.0f / (1.0f + expf(-r[k])));
        for (size_t k = 0; k < K; k++)
            r[k] = (float)(r[k] / (sum > 0 ? sum : 1));
    }
}

/* The prior (see the struct): each class's share of the n training
 * documents' weight (class weight cw, 1 when NULL); with label sets
 * (targets tg) each label's share of documents having it. */
static tcat_status fit_prior(ftx *m, const int32_t *y, const uint8_t *tg, size_t n,
                             const double *cw)
{
    size_t K = m->base.nclasses;
    double *sum = calloc(K, sizeof *sum), total = 0;
    if (!sum || !(m->own_prior = malloc(K * sizeof *m->own_prior))) {
        free(sum);
        return TCAT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < K; k++) {
            double w = cw ? cw[k] : 1.0;
            if (tg ? tg[i * K + k] != 0 : (size_t)y[i] == k)
                sum[k] += w;
        }
    for (size_t k = 0; k < K; k++)
        total += sum[k];
    for (size_t k = 0; k < K; k++)
        m->own_prior[k] = (float)(tg ? sum[k] / (double)(n ? n : 1)
                                     : total > 0 ? sum[k] / total : 1.0 / (double)K);
    m->prior = m->own_prior;
    free(sum);
    return TCAT_OK;
}

static tcat_status fit(tcat_pipeline *p, const tcat_docs *train, const tcat_docs *dev,
                       const tcat_fit_opts *o, tcat_error *err)
{
    ftx *m = (ftx *)p;
    if (o->vectors && (size_t)m->dim != tcat_vec_dim(o->vectors)) {
        /* pretrained vectors decide the dimension */
        m->dim = (long)tcat_vec_dim(o->vectors);
        json_object_set_new(p->params, "dim", json_integer((json_int_t)m->dim));
    }
    size_t K = p->nclasses, dim = (size_t)m->dim;
    forget(m);
    tcat_status st = tcat_wordids_build(&m->vocab, train, (uint64_t)m->min_count, 0);
    m->nwords = m->vocab.n;
    if (st == TCAT_OK && m->pieces > 0 && (st = train_pieces(m, train, err)) != TCAT_OK)
        return st;
    if (st == TCAT_OK)
        st = tcat_tensor_init(&m->E, m->nwords + (size_t)m->bucket + tail_rows(m), dim);
    if (st == TCAT_OK)
        st = tcat_tensor_init(&m->W, K, dim);
    if (st != TCAT_OK)
        return tcat_fail(err, st, "fasttext: out of memory (%zu words + %ld buckets x %zu)",
                         m->nwords, m->bucket, dim);
    tcat_rng rng;
    tcat_rng_seed(&rng, o->seed ^ 0x66747874u);
    /* words and pieces start small and random; hashed buckets start at 0
     * (their pages untouched until a gradient reaches them), so a bucket
     * no training n-gram fell into adds nothing at predict time */
    tcat_tensor part;
    tcat_tensor_view(&part, m->E.data, m->nwords, dim);
    tcat_tensor_uniform(&part, 1.0f / (float)dim, &rng);
    tcat_tensor_view(&part, tcat_tensor_row(&m->E, m->nwords + (size_t)m->bucket), tail_rows(m),
                     dim);
    tcat_tensor_uniform(&part, 1.0f / (float)dim, &rng);
    if (o->vectors)
        tcat_wordids_rows_from_vectors(&m->vocab, train, o->vectors, &m->E);
    bool ml = p->multilabel;
    int32_t *y = ml ? NULL : tcat_docs_labels(train);
    uint8_t *tg = ml ? tcat_docs_targets(train, K) : NULL;
    size_t *order = malloc((train->n ? train->n : 1) * sizeof *order);
    size_t T = (size_t)m->threads;
    tcat_status *sts = calloc(T, sizeof *sts);
    if ((ml ? !tg : !y) || !order || !sts) {
        free(y);
        free(tg);
        free(order);
        free(sts);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    uint64_t tokens = 0;
    for (size_t i = 0; i < train->n; i++) {
        size_t d = tcat_docs_at(train, i);
        tokens += train->c->doc_tok[d + 1] - train->c->doc_tok[d];
        order[i] = i;
    }
    train_job job = {m, train, y, tg, order, T, tokens * (uint64_t)m->epoch, 0, o->class_weight,
                     o->deadline, sts};
    for (long e = 0; e < m->epoch && st == TCAT_OK; e++) {
        tcat_rng_shuffle(&rng, order, train->n);
        job.done_base = tokens * (uint64_t)e;
        /* Hogwild when threads > 1: threads share E and W without locks */
        tcat_parallel((int)T, train_part, &job);
        for (size_t t = 0; t < T; t++)
            if (sts[t] != TCAT_OK)
                st = sts[t];
        if (o->deadline > 0 && tcat_now() > o->deadline)
            break;
    }
    if (st == TCAT_OK)
        st = fit_prior(m, y, tg, train->n, o->class_weight);
    free(order);
    free(sts);
    free(y);
    free(tg);
    if (st != TCAT_OK)
        return tcat_fail(err, st, "fasttext: training failed: %s", tcat_strerror(st));
    if (ml && dev && dev->n > 0) {
        float *s = malloc(dev->n * K * sizeof *s);
        uint8_t *td = tcat_docs_targets(dev, K);
        if (!s || !td || logits(m, dev, s, NULL) != TCAT_OK) {
            free(s);
            free(td);
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        }
        m->temperature = tcat_fit_temperature_ova(s, td, dev->n, K);
        json_object_set_new(p->params, "temperature", json_real(m->temperature));
        free(s);
        free(td);
    } else if (m->loss == LOSS_SOFTMAX && dev && dev->n > 0) {
        float *s = malloc(dev->n * K * sizeof *s);
        int32_t *yd = tcat_docs_labels(dev);
        if (!s || !yd || logits(m, dev, s, NULL) != TCAT_OK) {
            free(s);
            free(yd);
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        }
        m->temperature = tcat_fit_temperature(s, yd, dev->n, K);
        json_object_set_new(p->params, "temperature", json_real(m->temperature));
        free(s);
        free(yd);
    }
    return TCAT_OK;
}

static tcat_status predict_proba(const tcat_pipeline *p, const tcat_docs *docs, float *proba,
                                 int threads, tcat_cache *cache, tcat_error *err)
{
    (void)threads;
    (void)cache;
    const ftx *m = (const ftx *)p;
    if (!m->W.data)
        return tcat_fail(err, TCAT_ERR_USAGE, "fasttext: predict before fit");
    uint8_t *empty = m->prior ? malloc(docs->n ? docs->n : 1) : NULL;
    tcat_status st = m->prior && !empty ? TCAT_ERR_NOMEM : logits(m, docs, proba, empty);
    if (st != TCAT_OK) {
        free(empty);
        return tcat_fail(err, st, "out of memory");
    }
    to_proba(m, proba, docs->n);
    size_t K = p->nclasses;
    for (size_t i = 0; empty && i < docs->n; i++)
        if (empty[i])
            memcpy(proba + i * K, m->prior, K * sizeof *proba);
    free(empty);
    return TCAT_OK;
}

/* ---- save and load ------------------------------------------------------------ */

static tcat_status save(const tcat_pipeline *p, tcat_mwriter *w, const char *prefix,
                        tcat_error *err)
{
    const ftx *m = (const ftx *)p;
    uint64_t shape[4] = {m->nwords, (uint64_t)m->bucket, (uint64_t)m->dim, p->nclasses};
    tcat_status st;
    if (m->sub) {
        tcat_buf text = {0};
        if (tcat_subword_format(m->sub, &text) != TCAT_OK) {
            tcat_buf_free(&text);
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        }
        st = tcat_pipeline_put(w, prefix, "pieces", text.data, text.len, err);
        tcat_buf_free(&text);
        if (st != TCAT_OK)
            return st;
    }
    size_t dim = (size_t)m->dim, nb = (size_t)m->bucket, nw = m->nwords;
    /* rows of words then pieces, dense; buckets, only those not zero */
    size_t nt = tail_rows(m);
    float *Ew = malloc(((nw + nt) ? nw + nt : 1) * dim * sizeof *Ew);
    uint32_t *ids = malloc((nb ? nb : 1) * sizeof *ids);
    size_t nz = 0;
    if (!Ew || !ids) {
        free(Ew);
        free(ids);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    memcpy(Ew, m->E.data, nw * dim * sizeof *Ew);
    memcpy(Ew + nw * dim, tcat_tensor_row(&m->E, nw + nb), nt * dim * sizeof *Ew);
    for (size_t b = 0; b < nb; b++) {
        const float *r = tcat_tensor_row(&m->E, nw + b);
        size_t j = 0;
        while (j < dim && r[j] == 0.0f)
            j++;
        if (j < dim)
            ids[nz++] = (uint32_t)b;
    }
    float *Eb = malloc((nz ? nz : 1) * dim * sizeof *Eb);
    if (!Eb) {
        free(Ew);
        free(ids);
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < nz; i++)
        memcpy(Eb + i * dim, tcat_tensor_row(&m->E, nw + ids[i]), dim * sizeof *Eb);
    (void)((st = tcat_pipeline_put(w, prefix, "shape", shape, sizeof shape, err)) ||
           (st = tcat_pipeline_put(w, prefix, "words", m->vocab.hash, nw * sizeof(uint64_t),
                                   err)) ||
           (st = tcat_pipeline_put(w, prefix, "Ew", Ew, (nw + nt) * dim * sizeof *Ew,
                                   err)) ||
           (st = tcat_pipeline_put(w, prefix, "Eb_ids", ids, nz * sizeof *ids, err)) ||
           (st = tcat_pipeline_put(w, prefix, "Eb", Eb, nz * dim * sizeof *Eb, err)) ||
           (st = tcat_pipeline_put(w, prefix, "W", m->W.data,
                                   m->W.rows * m->W.cols * sizeof(float), err)) ||
           (m->prior &&
            (st = tcat_pipeline_put(w, prefix, "prior", m->prior, p->nclasses * sizeof(float),
                                    err))));
    free(Ew);
    free(ids);
    free(Eb);
    return st;
}

static tcat_status load(tcat_pipeline *p, const tcat_mreader *r, const char *prefix,
                        tcat_error *err)
{
    ftx *m = (ftx *)p;
    tcat_status st = TCAT_OK;
    const uint64_t *shape = tcat_pipeline_get(r, prefix, "shape", 4 * sizeof(uint64_t), &st, err);
    if (!shape)
        return st;
    if (shape[1] != (uint64_t)m->bucket || shape[2] != (uint64_t)m->dim ||
        shape[3] != p->nclasses || shape[0] > UINT32_MAX || shape[1] > UINT32_MAX)
        return tcat_fail(err, TCAT_ERR_MODEL, "section '%s.shape' does not match the model",
                         prefix);
    size_t nw = (size_t)shape[0], dim = (size_t)m->dim, K = p->nclasses;
    if (m->pieces > 0) {
        char name[64];
        const void *text;
        size_t len;
        snprintf(name, sizeof name, "%s.pieces", prefix);
        if (!tcat_mreader_find(r, name, &text, &len))
            return tcat_fail(err, TCAT_ERR_MODEL, "model file has no section '%s'", name);
        tcat_error perr = {0};
        if (tcat_subword_parse(&m->sub, text, len, name, &perr) != TCAT_OK)
            return tcat_fail(err, TCAT_ERR_MODEL, "%s", perr.msg);
        m->npieces = tcat_subword_size(m->sub);
    }
    const uint64_t *words = tcat_pipeline_get(r, prefix, "words", nw * sizeof *words, &st, err);
    size_t nb = (size_t)m->bucket, np = tail_rows(m);
    const float *Ew =
        words ? tcat_pipeline_get(r, prefix, "Ew", (nw + np) * dim * sizeof(float), &st, err) : NULL;
    const float *W = Ew ? tcat_pipeline_get(r, prefix, "W", K * dim * sizeof *W, &st, err) : NULL;
    if (!W)
        return st;
    char name[64];
    const void *idsv = NULL, *Ebv = NULL;
    size_t idlen = 0, eblen = 0;
    snprintf(name, sizeof name, "%s.Eb_ids", prefix);
    bool has_ids = tcat_mreader_find(r, name, &idsv, &idlen);
    snprintf(name, sizeof name, "%s.Eb", prefix);
    bool has_eb = tcat_mreader_find(r, name, &Ebv, &eblen);
    size_t nz = idlen / sizeof(uint32_t);
    const uint32_t *ids = idsv;
    if (!has_ids || !has_eb || idlen % sizeof(uint32_t) || eblen != nz * dim * sizeof(float))
        return tcat_fail(err, TCAT_ERR_MODEL, "sections '%s.Eb_ids' and '%s.Eb' do not match",
                         prefix, prefix);
    for (size_t i = 0; i < nz; i++)
        if (ids[i] >= nb || (i && ids[i] <= ids[i - 1]))
            return tcat_fail(err, TCAT_ERR_MODEL, "section '%s.Eb_ids' is out of order or range",
                             prefix);
    if ((st = tcat_wordids_view(&m->vocab, words, nw)) != TCAT_OK)
        return tcat_fail(err, st, st == TCAT_ERR_MODEL ? "section '%s.words' is not sorted"
                                                       : "out of memory (%s)", prefix);
    m->nwords = nw;
    if (tcat_tensor_init(&m->E, nw + nb + np, dim) != TCAT_OK)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory (%zu x %zu table)", nw + nb + np, dim);
    memcpy(m->E.data, Ew, nw * dim * sizeof(float));
    memcpy(tcat_tensor_row(&m->E, nw + nb), Ew + nw * dim, np * dim * sizeof(float));
    const float *Eb = Ebv;
    for (size_t i = 0; i < nz; i++)
        memcpy(tcat_tensor_row(&m->E, nw + ids[i]), Eb + i * dim, dim * sizeof(float));
    tcat_tensor_view(&m->W, (float *)W, K, dim);
    snprintf(name, sizeof name, "%s.prior", prefix);
    if (tcat_mreader_find(r, name, NULL, NULL)) { /* absent in older models */
        if (!(m->prior = tcat_pipeline_get(r, prefix, "prior", K * sizeof(float), &st, err)))
            return st;
        for (size_t k = 0; k < K; k++)
            if (!(m->prior[k] >= 0 && m->prior[k] <= 1))
                return tcat_fail(err, TCAT_ERR_MODEL, "section '%s' is not probabilities", name);
    }
    return TCAT_OK;
}

/* Peak bytes of fit: the word and piece rows (written whole), the bucket
 * pages the n-grams reach (at most one bucket per word n-gram and
 * character n-gram of the text), the output layer and per-thread rows. */
static size_t memory(const tcat_pipeline *p, const tcat_docs *train)
{
    const ftx *m = (const ftx *)p;
    tcat_docs_size z = tcat_docs_measure(train);
    size_t dim = (size_t)m->dim, words = z.distinct + (m->eos ? 1 : 0);
    double grams = (double)z.tokens * (double)(m->word_ngrams > 1 ? m->word_ngrams - 1 : 0);
    if (m->minn > 0)
        grams += (double)z.bytes * (double)(m->maxn - m->minn + 1);
    size_t touched = (size_t)fmin(grams, (double)m->bucket);
    size_t pieces = m->pieces > 0 ? (size_t)m->pieces + 256 : 0;
    return (words + pieces) * dim * sizeof(float) +
           tcat_tensor_resident((size_t)m->bucket, dim, touched) +
           (p->nclasses + 4 * (size_t)m->threads) * dim * sizeof(float) +
           train->n * (sizeof(size_t) + p->nclasses) + 2 * z.distinct * sizeof(uint64_t);
}

static json_t *describe(const tcat_pipeline *p)
{
    const ftx *m = (const ftx *)p;
    return json_pack("{s:I, s:I}", "words", (json_int_t)m->nwords, "embedding_rows",
                     (json_int_t)m->E.rows);
}

const tcat_pipeline_ops tcat_fasttext_ops = {
    .family = "fasttext",
    .create = create,
    .fit = fit,
    .predict_proba = predict_proba,
    .save = save,
    .load = load,
    .describe = describe,
    .memory = memory,
    .destroy = destroy,
};
