/*
 * embeddings/word2vec.c — skip-gram and CBOW with negative sampling
 * (Mikolov et al. 2013). See word2vec.h for what is done exactly.
 */
#include "embeddings/word2vec.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/parallel.h"
#include "core/rng.h"
#include "embeddings/tensor.h"

#define NONE UINT32_MAX
#define PIECE 1000        /* tokens per piece of a document (word2vec.c's sentence) */
#define FLUSH 10000       /* tokens between updates of the shared progress */
#define TABLE_MAX 10000000
#define TABLE_MIN 100000

void tcat_w2v_options_default(tcat_w2v_options *o)
{
    memset(o, 0, sizeof *o);
    o->arch = TCAT_W2V_SKIPGRAM;
    o->dim = 100;
    o->window = 5;
    o->negative = 5;
    o->epochs = 5;
    o->lr = 0;
    o->min_count = 5;
    o->sample = 1e-4;
    o->threads = 1;
    o->seed = 1;
}

/* ---- one example ------------------------------------------------------------ */

double tcat_w2v_ns_loss(size_t dim, const double *h, const double *const *u, size_t n,
                        double *g_h, double *g_u)
{
    if (g_h)
        memset(g_h, 0, dim * sizeof *g_h);
    double loss = 0;
    for (size_t k = 0; k < n; k++) {
        double s = 0;
        for (size_t j = 0; j < dim; j++)
            s += u[k][j] * h[j];
        /* -log s(s) for the true word, -log s(-s) for a negative: with
         * z = -s or s, log(1 + e^z) = max(z, 0) + log1p(e^-|z|) */
        double z = k == 0 ? -s : s, e = exp(-fabs(s));
        loss += (z > 0 ? z : 0) + log1p(e);
        double sig = s >= 0 ? 1 / (1 + e) : e / (1 + e);
        double c = sig - (k == 0 ? 1.0 : 0.0); /* dL/ds */
        for (size_t j = 0; j < dim; j++) {
            if (g_h)
                g_h[j] += c * u[k][j];
            if (g_u)
                g_u[k * dim + j] = c * h[j];
        }
    }
    return loss;
}

float tcat_w2v_ns_step(size_t dim, const float *h, float *const *u, size_t n, float lr,
                       float *acc)
{
    float loss = 0;
    for (size_t k = 0; k < n; k++) {
        float s = tcat_dot(dim, u[k], h);
        float z = k == 0 ? -s : s, e = expf(-fabsf(s));
        loss += (z > 0 ? z : 0) + log1pf(e);
        float sig = s >= 0 ? 1 / (1 + e) : e / (1 + e);
        float g = -lr * (sig - (k == 0 ? 1.0f : 0.0f)); /* -lr dL/ds */
        tcat_axpy(dim, g, u[k], acc); /* -lr dL/dh, with u[k] before its step */
        tcat_axpy(dim, g, h, u[k]);   /* u[k] -= lr dL/du[k] */
    }
    return loss;
}

/* ---- the vocabulary ------------------------------------------------------------- */

typedef struct entry {
    const char *w;
    size_t len;
    uint64_t h, cnt;
} entry;

typedef struct vocab {
    entry *e;
    size_t n, cap;
    uint32_t *slot; /* entry + 1, or 0 */
    size_t nslots;
} vocab;

static void vocab_free(vocab *v)
{
    free(v->e);
    free(v->slot);
    memset(v, 0, sizeof *v);
}

static tcat_status vocab_grow(vocab *v)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 1024;
        entry *e = realloc(v->e, cap * sizeof *e);
        if (!e)
            return TCAT_ERR_NOMEM;
        v->e = e;
        v->cap = cap;
    }
    if (2 * (v->n + 1) > v->nslots) {
        size_t ns = v->nslots ? 2 * v->nslots : 2048;
        uint32_t *slot = calloc(ns, sizeof *slot);
        if (!slot)
            return TCAT_ERR_NOMEM;
        for (size_t i = 0; i < v->n; i++) {
            size_t s = (size_t)v->e[i].h & (ns - 1);
            while (slot[s])
                s = (s + 1) & (ns - 1);
            slot[s] = (uint32_t)(i + 1);
        }
        free(v->slot);
        v->slot = slot;
        v->nslots = ns;
    }
    return TCAT_OK;
}

/* The entry of w (counted once more), added when new. */
static tcat_status vocab_count(vocab *v, const char *w, size_t len, uint32_t *id)
{
    if (v->n >= NONE - 1)
        return TCAT_ERR_NOMEM;
    tcat_status st = vocab_grow(v);
    if (st != TCAT_OK)
        return st;
    uint64_t h = XXH3_64bits(w, len);
    size_t mask = v->nslots - 1, s = (size_t)h & mask;
    for (;; s = (s + 1) & mask) {
        uint32_t r = v->slot[s];
        if (!r)
            break;
        entry *e = &v->e[r - 1];
        if (e->h == h && e->len == len && memcmp(e->w, w, len) == 0) {
            e->cnt++;
            *id = r - 1;
            return TCAT_OK;
        }
    }
    v->e[v->n] = (entry){w, len, h, 1};
    v->slot[s] = (uint32_t)(v->n + 1);
    *id = (uint32_t)v->n++;
    return TCAT_OK;
}

/* Most frequent first, ties in byte order (deterministic). */
static int by_count(const void *a, const void *b, void *ctx)
{
    const entry *e = ctx, *x = &e[*(const uint32_t *)a], *y = &e[*(const uint32_t *)b];
    if (x->cnt != y->cnt)
        return x->cnt > y->cnt ? -1 : 1;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->w, y->w, m);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* ---- training ---------------------------------------------------------------- */

typedef struct scratch {
    tcat_rng rng;
    uint32_t *sen;  /* one piece of a document, after dropping and subsampling */
    float *h, *acc; /* dim each */
    float **u;      /* negative + 1 output rows */
    double loss[2]; /* summed loss: first epoch, last epoch */
    uint64_t nex[2], examples;
} scratch;

typedef struct job {
    const tcat_w2v_options *o;
    const tcat_corpus *c;
    const uint32_t *ids;    /* vocabulary id of each corpus token, or NONE */
    const double *keep;     /* probability of keeping one occurrence */
    const uint32_t *table;  /* unigram^0.75 table, tsize entries */
    size_t tsize, V, dim;
    tcat_tensor *in, *out;  /* V x dim each: input rows (the result), output rows */
    float lr;
    uint64_t total;         /* epochs x N */
    _Atomic uint64_t done;  /* tokens processed over all threads */
    size_t *first_doc;      /* thread t: documents first_doc[t] .. first_doc[t+1] */
    scratch *s;
} job;

static float rate(const job *j, uint64_t done)
{
    double a = (double)j->lr * (1.0 - (double)done / (double)(j->total + 1));
    double lo = (double)j->lr * 1e-4;
    return (float)(a < lo ? lo : a);
}

/* The true word's row then `negative` rows drawn from the table. */
static size_t pick_rows(const job *j, scratch *s, uint32_t target)
{
    s->u[0] = tcat_tensor_row(j->out, target);
    if (j->V < 2)
        return 1; /* nothing else to draw */
    for (int k = 1; k <= j->o->negative; k++) {
        uint32_t w;
        do
            w = j->table[tcat_rng_below(&s->rng, j->tsize)];
        while (w == target);
        s->u[k] = tcat_tensor_row(j->out, w);
    }
    return (size_t)j->o->negative + 1;
}

/* Trains on one piece s->sen[0..n) with learning rate lr; ep0 / ep1 say
 * whether this is the first / the last epoch (for the loss figures). */
static void train_piece(const job *j, scratch *s, size_t n, float lr, int ep0, int ep1)
{
    size_t dim = j->dim;
    const uint32_t *sen = s->sen;
    for (size_t pos = 0; pos < n; pos++) {
        size_t b = 1 + (size_t)tcat_rng_below(&s->rng, (uint64_t)j->o->window);
        size_t lo = pos > b ? pos - b : 0, hi = pos + b + 1 < n ? pos + b + 1 : n;
        float loss = 0;
        uint64_t nex = 0;
        if (j->o->arch == TCAT_W2V_SKIPGRAM) {
            float *h = tcat_tensor_row(j->in, sen[pos]);
            for (size_t c = lo; c < hi; c++) {
                if (c == pos)
                    continue;
                size_t nu = pick_rows(j, s, sen[c]);
                memset(s->acc, 0, dim * sizeof *s->acc);
                loss += tcat_w2v_ns_step(dim, h, s->u, nu, lr, s->acc);
                tcat_axpy(dim, 1.0f, s->acc, h);
                nex++;
            }
        } else {
            size_t cw = hi - lo - 1;
            if (!cw)
                continue;
            memset(s->h, 0, dim * sizeof *s->h);
            for (size_t c = lo; c < hi; c++)
                if (c != pos)
                    tcat_axpy(dim, 1.0f, tcat_tensor_row(j->in, sen[c]), s->h);
            for (size_t d = 0; d < dim; d++)
                s->h[d] /= (float)cw;
            size_t nu = pick_rows(j, s, sen[pos]);
            memset(s->acc, 0, dim * sizeof *s->acc);
            loss += tcat_w2v_ns_step(dim, s->h, s->u, nu, lr, s->acc);
            for (size_t c = lo; c < hi; c++)
                if (c != pos)
                    tcat_axpy(dim, 1.0f, s->acc, tcat_tensor_row(j->in, sen[c]));
            nex++;
        }
        s->examples += nex;
        if (ep0) {
            s->loss[0] += loss;
            s->nex[0] += nex;
        }
        if (ep1) {
            s->loss[1] += loss;
            s->nex[1] += nex;
        }
    }
}

static void train_part(void *ctx, int t)
{
    job *j = ctx;
    scratch *s = &j->s[t];
    const tcat_corpus *c = j->c;
    const int E = j->o->epochs;
    uint64_t local = 0; /* tokens not yet added to j->done */
    float lr = rate(j, atomic_load_explicit(&j->done, memory_order_relaxed));
    for (int ep = 0; ep < E; ep++) {
        for (size_t d = j->first_doc[t]; d < j->first_doc[t + 1]; d++) {
            size_t k = c->doc_tok[d], end = c->doc_tok[d + 1];
            while (k < end) {
                size_t n = 0;
                for (; k < end && n < PIECE; k++) {
                    uint32_t id = j->ids[k];
                    if (id == NONE)
                        continue;
                    local++;
                    if (j->keep[id] < 1 && j->keep[id] < tcat_rng_uniform(&s->rng))
                        continue;
                    s->sen[n++] = id;
                }
                train_piece(j, s, n, lr, ep == 0, ep == E - 1);
                if (local >= FLUSH) {
                    uint64_t done = atomic_fetch_add_explicit(&j->done, local,
                                                              memory_order_relaxed) + local;
                    local = 0;
                    lr = rate(j, done);
                }
            }
        }
    }
    atomic_fetch_add_explicit(&j->done, local, memory_order_relaxed);
}

static tcat_status check_options(const tcat_w2v_options *o, tcat_error *err)
{
    const char *bad = NULL;
    if (o->arch != TCAT_W2V_SKIPGRAM && o->arch != TCAT_W2V_CBOW)
        bad = "arch must be skip-gram or CBOW";
    else if (o->dim < 1 || o->dim > TCAT_VEC_MAX_DIM)
        bad = "dim must be in 1..100000";
    else if (o->window < 1 || o->window > 1000)
        bad = "window must be in 1..1000";
    else if (o->negative < 1 || o->negative > 1000)
        bad = "negative must be in 1..1000";
    else if (o->epochs < 1 || o->epochs > 100000)
        bad = "epochs must be in 1..100000";
    else if (!(o->lr >= 0 && o->lr <= 10))
        bad = "lr must be in 0..10 (0: the default)";
    else if (o->min_count < 1)
        bad = "min_count must be at least 1";
    else if (!(o->sample >= 0 && o->sample <= 1))
        bad = "sample must be in 0..1";
    else if (o->threads < 1 || o->threads > 4096)
        bad = "threads must be in 1..4096";
    return bad ? tcat_fail(err, TCAT_ERR_USAGE, "word2vec: %s", bad) : TCAT_OK;
}

/* The unigram^0.75 table (see word2vec.h). */
static tcat_status make_table(const uint64_t *cnt, size_t V, uint32_t **out, size_t *size)
{
    double z = 0;
    for (size_t i = 0; i < V; i++)
        z += pow((double)cnt[i], 0.75);
    double S = (double)V * 1000;
    S = S < TABLE_MIN ? TABLE_MIN : S > TABLE_MAX ? TABLE_MAX : S;
    size_t n = 0;
    for (size_t i = 0; i < V; i++)
        n += (size_t)ceil(pow((double)cnt[i], 0.75) / z * S);
    uint32_t *t = malloc(n * sizeof *t);
    if (!t)
        return TCAT_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < V; i++) {
        size_t m = (size_t)ceil(pow((double)cnt[i], 0.75) / z * S);
        for (size_t r = 0; r < m; r++)
            t[k++] = (uint32_t)i;
    }
    *out = t;
    *size = n;
    return TCAT_OK;
}

tcat_status tcat_w2v_train(tcat_vec **out, const tcat_corpus *c, const tcat_w2v_options *o,
                           tcat_w2v_stats *stats, tcat_error *err)
{
    *out = NULL;
    tcat_w2v_options od;
    if (!o) {
        tcat_w2v_options_default(&od);
        o = &od;
    }
    tcat_status st = check_options(o, err);
    if (st != TCAT_OK)
        return st;
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (c->ntok >= NONE)
        return tcat_fail(err, TCAT_ERR_NOMEM, "word2vec: too many tokens");

    vocab voc = {0};
    uint32_t *ids = NULL, *order = NULL, *remap = NULL, *table = NULL;
    uint64_t *cnt = NULL;
    double *keep = NULL;
    tcat_vec *v = NULL;
    tcat_tensor outm = {0};
    scratch *s = NULL;
    size_t *first_doc = NULL;
    const int T = o->threads;

    /* count the tokens; ids[k] is first the entry of token k */
    ids = malloc((c->ntok ? c->ntok : 1) * sizeof *ids);
    if (!ids)
        goto nomem;
    for (size_t k = 0; k < c->ntok; k++)
        if (vocab_count(&voc, c->text.data + c->tok[k].off, c->tok[k].len, &ids[k]) != TCAT_OK)
            goto nomem;
    order = malloc((voc.n ? voc.n : 1) * sizeof *order);
    remap = malloc((voc.n ? voc.n : 1) * sizeof *remap);
    if (!order || !remap)
        goto nomem;
    for (size_t i = 0; i < voc.n; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, voc.n, sizeof *order, by_count, voc.e);
    size_t V = 0;
    while (V < voc.n && voc.e[order[V]].cnt >= o->min_count)
        V++;
    if (V == 0) {
        st = tcat_fail(err, TCAT_ERR_INPUT,
                       "word2vec: no token occurs min_count (%llu) times in the corpus "
                       "(%zu documents, %zu tokens)",
                       (unsigned long long)o->min_count, c->n, c->ntok);
        goto out;
    }
    for (size_t i = 0; i < voc.n; i++)
        remap[order[i]] = i < V ? (uint32_t)i : NONE;
    for (size_t k = 0; k < c->ntok; k++)
        ids[k] = remap[ids[k]];

    /* the table: vocabulary words in order, input vectors initialised */
    if ((st = tcat_vec_init(&v, o->dim, err)) != TCAT_OK)
        goto out;
    cnt = malloc(V * sizeof *cnt);
    keep = malloc(V * sizeof *keep);
    if (!cnt || !keep)
        goto nomem;
    uint64_t N = 0;
    for (size_t i = 0; i < V; i++) {
        const entry *e = &voc.e[order[i]];
        if ((st = tcat_vec_add(v, e->w, e->len, NULL, NULL, err)) != TCAT_OK)
            goto out;
        cnt[i] = e->cnt;
        N += e->cnt;
    }
    for (size_t i = 0; i < V; i++) {
        double tn = o->sample * (double)N, f = (double)cnt[i];
        keep[i] = o->sample > 0 ? (sqrt(f / tn) + 1) * tn / f : 1.0;
    }
    size_t tsize;
    if (make_table(cnt, V, &table, &tsize) != TCAT_OK)
        goto nomem;
    if (tcat_tensor_init(&outm, V, o->dim) != TCAT_OK)
        goto nomem;
    tcat_rng rng;
    tcat_rng_seed(&rng, o->seed);
    tcat_tensor_uniform(tcat_vec_matrix(v), 0.5f / (float)o->dim, &rng);

    /* threads: contiguous shares of the documents with about equal tokens */
    first_doc = malloc(((size_t)T + 1) * sizeof *first_doc);
    s = calloc((size_t)T, sizeof *s);
    if (!first_doc || !s)
        goto nomem;
    first_doc[0] = 0;
    for (int t = 1; t < T; t++) {
        size_t want = c->ntok * (size_t)t / (size_t)T, d = first_doc[t - 1];
        while (d < c->n && c->doc_tok[d] < want)
            d++;
        first_doc[t] = d;
    }
    first_doc[T] = c->n;
    uint64_t seeder = o->seed ^ 0x77327665632D7468ull; /* "w2vec-th" */
    for (int t = 0; t < T; t++) {
        tcat_rng_seed(&s[t].rng, tcat_splitmix64(&seeder));
        s[t].sen = malloc(PIECE * sizeof *s[t].sen);
        s[t].h = malloc(o->dim * sizeof *s[t].h);
        s[t].acc = malloc(o->dim * sizeof *s[t].acc);
        s[t].u = malloc(((size_t)o->negative + 1) * sizeof *s[t].u);
        if (!s[t].sen || !s[t].h || !s[t].acc || !s[t].u)
            goto nomem;
    }
    job j = {.o = o,
             .c = c,
             .ids = ids,
             .keep = keep,
             .table = table,
             .tsize = tsize,
             .V = V,
             .dim = o->dim,
             .in = tcat_vec_matrix(v),
             .out = &outm,
             .lr = (float)(o->lr > 0 ? o->lr : o->arch == TCAT_W2V_CBOW ? 0.05 : 0.025),
             .total = (uint64_t)o->epochs * N,
             .first_doc = first_doc,
             .s = s};
    atomic_init(&j.done, 0);
    tcat_parallel(T, train_part, &j);

    if (stats) {
        stats->vocab = V;
        stats->dropped = voc.n - V;
        stats->train_words = N;
        double l0 = 0, l1 = 0;
        uint64_t n0 = 0, n1 = 0;
        for (int t = 0; t < T; t++) {
            stats->examples += s[t].examples;
            l0 += s[t].loss[0];
            l1 += s[t].loss[1];
            n0 += s[t].nex[0];
            n1 += s[t].nex[1];
        }
        stats->first_loss = n0 ? l0 / (double)n0 : 0;
        stats->last_loss = n1 ? l1 / (double)n1 : 0;
    }
    *out = v;
    v = NULL;
    st = TCAT_OK;
    goto out;
nomem:
    st = tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
out:
    if (s)
        for (int t = 0; t < T; t++) {
            free(s[t].sen);
            free(s[t].h);
            free(s[t].acc);
            free(s[t].u);
        }
    free(s);
    free(first_doc);
    tcat_tensor_free(&outm);
    tcat_vec_free(&v);
    free(table);
    free(keep);
    free(cnt);
    free(remap);
    free(order);
    free(ids);
    vocab_free(&voc);
    return st;
}
