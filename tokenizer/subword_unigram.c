/*
 * tokenizer/subword_unigram.c — the unigram language model: training and
 * Viterbi segmentation.
 *
 * Kudo 2018, "Subword regularization: improving neural network
 * translation models with multiple subword candidates", section 3.2, as
 * sentencepiece implements it:
 *
 *   1. Seeds: every base character, plus the substrings of 2..max_chars
 *      characters that repeat (the right-maximal repeats: the nodes of the
 *      suffix tree of the distinct words, found as LCP intervals of their
 *      suffix array, and word endings of words seen at least twice), each
 *      occurrence weighted by its word's count, the seed_size best by
 *      frequency x length. Initial log probabilities from those scores.
 *   2. EM over the distinct words: the E step runs the forward-backward
 *      algorithm on each word's lattice of pieces for expected piece
 *      counts; the M step sets log p = digamma(count) - digamma(total)
 *      (sentencepiece's Bayesian EM, a sparse prior) and drops pieces
 *      expected less than 0.5 times.
 *   3. Pruning: for each piece, the loss of likelihood if its occurrences
 *      were replaced by its second-best segmentation; the pieces with the
 *      smallest loss go, keeping max(1.1 size, shrink x current).
 *   4. Repeat 2-3 until at most 1.1 size pieces are left; the vocabulary
 *      is then the base characters and the highest-scoring pieces.
 *
 * The lattices never change shape, only which pieces are alive, so every
 * word's edges (all seed pieces starting at each character) are listed
 * once, from the suffix array intervals, in one compressed array; dead
 * pieces are squeezed out after each step. The E step runs in linear
 * probability space (the lattice of a word is short), falling back to log
 * space for the rare word whose total underflows.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/subword_impl.h"
#include "tokenizer/utf8.h"

/* sentencepiece's constants */
#define UNK_PENALTY 10.0          /* a byte-fallback character: 10 below the least likely piece */
#define MIN_EXPECTED 0.5          /* the M step drops pieces expected less often */
#define DESIRED_SLACK 1.1         /* EM stops at this many times the size asked for */
#define MAX_PIECES ((1u << 24) - 2)

typedef struct cand {
    uint64_t freq;  /* weighted occurrences */
    uint32_t lb;    /* SA interval [lb, rb] */
    uint32_t rb;
    uint16_t bytes;
    uint8_t chars;
} cand;

typedef struct uni {
    const sw_words *w;
    const tcat_subword_params *p;
    size_t nchars;      /* pieces 0..nchars-1 are the base characters */
    size_t np;          /* pieces; index np stands for "unknown" (byte fallback) */
    uint32_t *pocc;     /* a unit where each piece occurs (its first character) */
    uint16_t *pbytes;
    uint8_t *pchars;
    double *score;
    uint8_t *alive;
    size_t nalive;
    size_t *eoff;       /* unit u: edges eoff[u] .. eoff[u + 1] */
    uint32_t *edge;     /* piece << 8 | characters */
    double *prob;       /* per piece (np + 1): e^score, or the unknown's */
    double unk;         /* the unknown's log probability */
    double *expected;
    double *a, *b;      /* forward / backward scratch, maxunits + 1 */
    uint32_t *from;     /* Viterbi back pointers */
    uint32_t *via;
} uni;

static double digamma(double x)
{
    double r = 0;
    while (x < 7) {
        r -= 1 / x;
        x += 1;
    }
    x -= 0.5;
    double xx = 1 / x, xx2 = xx * xx, xx4 = xx2 * xx2;
    return r + log(x) + xx2 / 24 - 7 * xx4 / 960 + 31 * xx4 * xx2 / 8064 -
           127 * xx4 * xx4 / 30720;
}

static inline double logaddexp(double x, double y)
{
    if (x == -INFINITY)
        return y;
    if (y == -INFINITY)
        return x;
    return x > y ? x + log1p(exp(y - x)) : y + log1p(exp(x - y));
}

/* ---- seeds: suffix array over the distinct words -------------------------------- */

typedef struct sa_ctx {
    const uint8_t *T;    /* words, 0 after each and over units left out */
    const uint32_t *tof; /* unit -> offset in T */
    size_t dmax;         /* bytes compared at most */
} sa_ctx;

static inline int key_at(const sa_ctx *c, uint32_t u, size_t d)
{
    return c->T[c->tof[u] + d];
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int suffix_cmp(const sa_ctx *c, uint32_t x, uint32_t y, size_t d)
{
    for (; d < c->dmax; d++) {
        int a = key_at(c, x, d), b = key_at(c, y, d);
        if (a != b)
            return a - b;
        if (a == 0)
            break;
    }
    return (x > y) - (x < y);
}

/* Multikey quicksort (Bentley and Sedgewick 1997) of the suffixes at the
 * units a[0..n) from depth d; suffixes equal up to their end or to dmax
 * bytes are ordered by position. */
static void mkqs(const sa_ctx *c, uint32_t *a, size_t n, size_t d)
{
    while (n > 1) {
        if (d >= c->dmax) {
            qsort(a, n, sizeof *a, cmp_u32);
            return;
        }
        if (n < 16) {
            for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && suffix_cmp(c, a[j - 1], a[j], d) > 0; j--) {
                    uint32_t t = a[j];
                    a[j] = a[j - 1];
                    a[j - 1] = t;
                }
            return;
        }
        int x = key_at(c, a[0], d), y = key_at(c, a[n / 2], d), z = key_at(c, a[n - 1], d);
        int pv = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t lt = 0, i = 0, gt = n;
        while (i < gt) {
            int k = key_at(c, a[i], d);
            if (k < pv) {
                uint32_t t = a[lt];
                a[lt++] = a[i];
                a[i++] = t;
            } else if (k > pv) {
                uint32_t t = a[--gt];
                a[gt] = a[i];
                a[i] = t;
            } else {
                i++;
            }
        }
        mkqs(c, a, lt, d);
        mkqs(c, a + gt, n - gt, d);
        if (pv == 0) {
            qsort(a + lt, gt - lt, sizeof *a, cmp_u32);
            return;
        }
        a += lt;
        n = gt - lt;
        d++;
    }
}

/* Order of seeds: score (frequency x characters) first, then the suffix
 * array position (the string's lexicographic rank), then length. */
static int cmp_cand(const void *pa, const void *pb)
{
    const cand *x = pa, *y = pb;
    uint64_t sx = x->freq * x->chars, sy = y->freq * y->chars;
    if (sx != sy)
        return sx > sy ? -1 : 1;
    if (x->lb != y->lb)
        return x->lb < y->lb ? -1 : 1;
    return (x->bytes > y->bytes) - (x->bytes < y->bytes);
}

typedef struct cands {
    cand *v;
    size_t n, cap, keep;
} cands;

static tcat_status cand_push(cands *cs, cand c)
{
    if (cs->n == cs->cap) {
        if (cs->n >= 2 * cs->keep) { /* keep the best half: a bounded queue */
            qsort(cs->v, cs->n, sizeof *cs->v, cmp_cand);
            cs->n = cs->keep;
        } else {
            size_t cap = cs->cap ? cs->cap * 2 : 4096;
            if (cap > 2 * cs->keep)
                cap = 2 * cs->keep;
            if (cap <= cs->n)
                cap = cs->n + 1;
            cand *v = realloc(cs->v, cap * sizeof *v);
            if (!v)
                return TCAT_ERR_NOMEM;
            cs->v = v;
            cs->cap = cap;
        }
    }
    cs->v[cs->n++] = c;
    return TCAT_OK;
}

/* Bytes and characters of the longest prefix of the suffix at unit u of
 * at most d bytes and max characters, ending between characters. */
static void truncate_at(const sw_words *w, uint32_t u, size_t d, size_t max, size_t *bytes,
                        size_t *chars)
{
    size_t b = 0, c = 0;
    while (c < max && u + c < w->nunits) {
        size_t ul = w->uoff[u + c + 1] - w->uoff[u + c];
        if (b + ul > d)
            break;
        b += ul;
        c++;
    }
    *bytes = b;
    *chars = c;
}

/* Finds the seed substrings: fills *sa (m suffixes), the candidates, and
 * the word of every unit. */
static tcat_status find_seeds(uni *U, uint32_t **sa_out, size_t *m_out, cands *cs,
                              uint32_t *uword)
{
    const sw_words *w = U->w;
    size_t maxc = U->p->max_piece_chars;
    sa_ctx c = {.dmax = 4 * maxc};
    tcat_status st = TCAT_ERR_NOMEM;
    uint8_t *T = malloc(w->text_len + w->n + 1);
    uint32_t *tof = malloc((w->nunits ? w->nunits : 1) * sizeof *tof);
    uint32_t *sa = malloc((w->nunits ? w->nunits : 1) * sizeof *sa);
    uint16_t *lcp = NULL, *dist = NULL;
    uint64_t *cw = NULL;
    uint32_t *stack_d = NULL, *stack_lb = NULL;
    if (!T || !tof || !sa)
        goto done;
    size_t t = 0, m = 0;
    for (size_t wi = 0; wi < w->n; wi++) {
        for (uint32_t u = w->wunit[wi]; u < w->wunit[wi + 1]; u++) {
            size_t ul = w->uoff[u + 1] - w->uoff[u];
            tof[u] = (uint32_t)t;
            uword[u] = (uint32_t)wi;
            if (w->uchar[u] < 0)
                memset(T + t, 0, ul);
            else
                memcpy(T + t, w->text + w->uoff[u], ul);
            if (T[t] != 0)
                sa[m++] = u;
            t += ul;
        }
        T[t++] = 0;
    }
    T[t] = 0;
    c.T = T;
    c.tof = tof;
    mkqs(&c, sa, m, 0);

    /* lcp[k]: common prefix of sa[k-1] and sa[k], capped; dist: bytes to the end */
    lcp = malloc((m + 1) * sizeof *lcp);
    dist = malloc((w->nunits ? w->nunits : 1) * sizeof *dist);
    cw = malloc((m + 1) * sizeof *cw);
    stack_d = malloc((c.dmax + 2) * sizeof *stack_d);
    stack_lb = malloc((c.dmax + 2) * sizeof *stack_lb);
    if (!lcp || !dist || !cw || !stack_d || !stack_lb)
        goto done;
    lcp[0] = 0;
    lcp[m] = 0;
    for (size_t k = 1; k < m; k++) {
        size_t d = 0;
        const uint8_t *x = T + tof[sa[k - 1]], *y = T + tof[sa[k]];
        while (d < c.dmax && x[d] == y[d] && x[d] != 0)
            d++;
        lcp[k] = (uint16_t)d;
    }
    for (size_t wi = 0; wi < w->n; wi++) {
        size_t next = 0;
        for (uint32_t u = w->wunit[wi + 1]; u-- > w->wunit[wi];) {
            size_t d = T[tof[u]] == 0 ? 0 : (w->uoff[u + 1] - w->uoff[u]) + next;
            if (d > c.dmax)
                d = c.dmax;
            dist[u] = (uint16_t)d;
            next = d;
        }
    }
    cw[0] = 0;
    for (size_t k = 0; k < m; k++)
        cw[k + 1] = cw[k] + w->count[uword[sa[k]]];

    /* internal nodes: the LCP intervals (Abouelhoda, Kurtz and Ohlebusch
     * 2004), each with the depth of its parent */
    size_t top = 0;
    stack_d[top] = 0;
    stack_lb[top++] = 0;
    for (size_t k = 1; k <= m; k++) {
        size_t h = k < m ? lcp[k] : 0;
        uint32_t lb = (uint32_t)k - 1;
        while (h < stack_d[top - 1]) {
            size_t d = stack_d[top - 1];
            lb = stack_lb[--top];
            size_t parent = h > stack_d[top - 1] ? h : stack_d[top - 1];
            size_t bytes, chars;
            truncate_at(w, sa[lb], d, maxc, &bytes, &chars);
            if (chars >= 2 && bytes > parent &&
                (st = cand_push(cs, (cand){cw[k] - cw[lb], lb, (uint32_t)k - 1,
                                           (uint16_t)bytes, (uint8_t)chars})) != TCAT_OK)
                goto done;
        }
        if (h > stack_d[top - 1]) {
            stack_d[top] = (uint32_t)h;
            stack_lb[top++] = lb;
        }
    }
    /* leaves: a word's ending, when the word was seen at least twice */
    for (size_t k = 0; k < m; k++) {
        uint32_t u = sa[k];
        uint64_t cnt = w->count[uword[u]];
        if (cnt < 2)
            continue;
        size_t parent = lcp[k] > lcp[k + 1] ? lcp[k] : lcp[k + 1];
        size_t bytes, chars;
        truncate_at(w, u, dist[u], maxc, &bytes, &chars);
        if (chars >= 2 && bytes > parent &&
            (st = cand_push(cs, (cand){cnt, (uint32_t)k, (uint32_t)k, (uint16_t)bytes,
                                       (uint8_t)chars})) != TCAT_OK)
            goto done;
    }
    if (cs->n)
        qsort(cs->v, cs->n, sizeof *cs->v, cmp_cand);
    if (cs->n > cs->keep)
        cs->n = cs->keep;
    *sa_out = sa;
    *m_out = m;
    sa = NULL;
    st = TCAT_OK;
done:
    free(T);
    free(tof);
    free(sa);
    free(lcp);
    free(dist);
    free(cw);
    free(stack_d);
    free(stack_lb);
    return st;
}

/* ---- the pieces and their edges --------------------------------------------- */

static tcat_status build_pieces(uni *U, const uint32_t *sa, const cands *cs)
{
    const sw_words *w = U->w;
    size_t np = U->nchars + cs->n;
    U->np = np;
    U->pocc = malloc(np * sizeof *U->pocc);
    U->pbytes = malloc(np * sizeof *U->pbytes);
    U->pchars = malloc(np * sizeof *U->pchars);
    U->score = malloc((np + 1) * sizeof *U->score);
    U->alive = malloc(np * sizeof *U->alive);
    U->prob = malloc((np + 1) * sizeof *U->prob);
    U->expected = malloc((np + 1) * sizeof *U->expected);
    U->eoff = calloc(w->nunits + 1, sizeof *U->eoff);
    if (!U->pocc || !U->pbytes || !U->pchars || !U->score || !U->alive || !U->prob ||
        !U->expected || !U->eoff)
        return TCAT_ERR_NOMEM;

    /* initial scores: log of character counts and of seed scores, normalised */
    double sum = 0;
    for (size_t i = 0; i < U->nchars; i++) {
        size_t len;
        sw_intern_str(&w->chars, (uint32_t)i, &len);
        U->pbytes[i] = (uint16_t)len;
        U->pchars[i] = 1;
        U->pocc[i] = SW_NONE;
        U->score[i] = (double)w->char_count[i];
        sum += U->score[i];
    }
    for (size_t k = 0; k < cs->n; k++) {
        size_t i = U->nchars + k;
        U->pocc[i] = sa[cs->v[k].lb];
        U->pbytes[i] = cs->v[k].bytes;
        U->pchars[i] = cs->v[k].chars;
        U->score[i] = (double)cs->v[k].freq * cs->v[k].chars;
        sum += U->score[i];
    }
    double logsum = log(sum);
    for (size_t i = 0; i < np; i++) {
        U->score[i] = log(U->score[i]) - logsum;
        U->alive[i] = 1;
    }
    U->nalive = np;

    /* edges: the character at every unit, then the seeds starting there */
    for (size_t u = 0; u < w->nunits; u++)
        U->eoff[u + 1] = 1;
    for (size_t k = 0; k < cs->n; k++)
        for (uint32_t j = cs->v[k].lb; j <= cs->v[k].rb; j++)
            U->eoff[sa[j] + 1]++;
    for (size_t u = 0; u < w->nunits; u++)
        U->eoff[u + 1] += U->eoff[u];
    size_t ne = U->eoff[w->nunits];
    U->edge = malloc((ne ? ne : 1) * sizeof *U->edge);
    size_t *fill = malloc((w->nunits ? w->nunits : 1) * sizeof *fill);
    if (!U->edge || !fill) {
        free(fill);
        return TCAT_ERR_NOMEM;
    }
    for (size_t u = 0; u < w->nunits; u++) {
        int32_t ch = w->uchar[u];
        uint32_t piece = ch >= 0 ? (uint32_t)ch : (uint32_t)np;
        U->edge[U->eoff[u]] = piece << 8 | 1;
        fill[u] = U->eoff[u] + 1;
    }
    for (size_t k = 0; k < cs->n; k++) {
        uint32_t e = (uint32_t)(U->nchars + k) << 8 | cs->v[k].chars;
        for (uint32_t j = cs->v[k].lb; j <= cs->v[k].rb; j++)
            U->edge[fill[sa[j]]++] = e;
    }
    free(fill);
    return TCAT_OK;
}

/* Drops the edges of dead pieces (characters stay: a dead character is
 * read as unknown). */
static void compact(uni *U)
{
    size_t nu = U->w->nunits, o = 0, start = 0;
    for (size_t u = 0; u < nu; u++) {
        size_t end = U->eoff[u + 1];
        U->eoff[u] = o;
        for (size_t e = start; e < end; e++) {
            uint32_t i = U->edge[e] >> 8;
            if (i < U->nchars || i >= U->np || U->alive[i])
                U->edge[o++] = U->edge[e];
        }
        start = end;
    }
    U->eoff[nu] = o;
}

/* Probabilities for the E step and scores for Viterbi, from U->score. */
static void set_probs(uni *U)
{
    double min = INFINITY;
    for (size_t i = 0; i < U->np; i++)
        if (U->alive[i] && U->score[i] < min)
            min = U->score[i];
    U->unk = (min == INFINITY ? 0 : min) - UNK_PENALTY;
    double pu = exp(U->unk);
    for (size_t i = 0; i < U->np; i++)
        U->prob[i] = U->alive[i] ? exp(U->score[i]) : (i < U->nchars ? pu : 0);
    U->prob[U->np] = pu;
    U->score[U->np] = U->unk;
}

static inline double score_of(const uni *U, uint32_t i)
{
    return i < U->np && U->alive[i] ? U->score[i] : U->unk;
}

/* ---- EM ------------------------------------------------------------------ */

/* Expected counts of one word in log space: for words whose total
 * probability underflows in linear space. */
static void estep_word_log(uni *U, size_t g0, size_t L, double c)
{
    double *a = U->a, *b = U->b;
    for (size_t p = 0; p <= L; p++)
        a[p] = b[p] = -INFINITY;
    a[0] = 0;
    for (size_t p = 0; p < L; p++) {
        if (a[p] == -INFINITY)
            continue;
        for (size_t e = U->eoff[g0 + p]; e < U->eoff[g0 + p + 1]; e++) {
            uint32_t i = U->edge[e] >> 8, len = U->edge[e] & 255;
            a[p + len] = logaddexp(a[p + len], a[p] + score_of(U, i));
        }
    }
    double Z = a[L];
    b[L] = 0;
    for (size_t p = L; p-- > 0;) {
        double s = -INFINITY;
        for (size_t e = U->eoff[g0 + p]; e < U->eoff[g0 + p + 1]; e++) {
            uint32_t i = U->edge[e] >> 8, len = U->edge[e] & 255;
            double t = score_of(U, i) + b[p + len];
            s = logaddexp(s, t);
            if (a[p] != -INFINITY && Z != -INFINITY)
                U->expected[i] += c * exp(a[p] + t - Z);
        }
        b[p] = s;
    }
}

static void estep(uni *U)
{
    const sw_words *w = U->w;
    double *a = U->a, *b = U->b;
    memset(U->expected, 0, (U->np + 1) * sizeof *U->expected);
    for (size_t wi = 0; wi < w->n; wi++) {
        size_t g0 = w->wunit[wi], L = w->wunit[wi + 1] - g0;
        const size_t *eo = U->eoff + g0;
        a[0] = 1;
        for (size_t p = 1; p <= L; p++)
            a[p] = 0;
        for (size_t p = 0; p < L; p++) {
            double ap = a[p];
            for (size_t e = eo[p]; e < eo[p + 1]; e++) {
                uint32_t x = U->edge[e];
                a[p + (x & 255)] += ap * U->prob[x >> 8];
            }
        }
        double Z = a[L];
        if (!(Z > 1e-290) || !isfinite(Z)) {
            estep_word_log(U, g0, L, (double)w->count[wi]);
            continue;
        }
        double scale = (double)w->count[wi] / Z;
        b[L] = 1;
        for (size_t p = L; p-- > 0;) {
            double s = 0, ap = a[p] * scale;
            for (size_t e = eo[p]; e < eo[p + 1]; e++) {
                uint32_t x = U->edge[e];
                double t = U->prob[x >> 8] * b[p + (x & 255)];
                s += t;
                U->expected[x >> 8] += ap * t;
            }
            b[p] = s;
        }
    }
}

static void mstep(uni *U)
{
    double sum = 0;
    for (size_t i = 0; i < U->np; i++) {
        if (!U->alive[i])
            continue;
        if (U->expected[i] < MIN_EXPECTED) {
            U->alive[i] = 0;
            U->nalive--;
        } else {
            sum += U->expected[i];
        }
    }
    double dsum = digamma(sum);
    for (size_t i = 0; i < U->np; i++)
        if (U->alive[i])
            U->score[i] = digamma(U->expected[i]) - dsum;
}

/* ---- pruning --------------------------------------------------------------- */

/* The best path over units [g0, g0 + L) using edges that end inside,
 * except `skip` from the first unit. Leaves the path's pieces, last
 * first, in path[0..*np) when path is given. Returns its score. */
static double viterbi(uni *U, size_t g0, size_t L, uint32_t skip, uint32_t *path, size_t *npath)
{
    double *best = U->a;
    best[0] = 0;
    for (size_t p = 1; p <= L; p++)
        best[p] = -INFINITY;
    for (size_t p = 0; p < L; p++) {
        if (best[p] == -INFINITY)
            continue;
        for (size_t e = U->eoff[g0 + p]; e < U->eoff[g0 + p + 1]; e++) {
            uint32_t i = U->edge[e] >> 8, len = U->edge[e] & 255;
            if (p + len > L || (p == 0 && i == skip))
                continue;
            double s = best[p] + score_of(U, i);
            if (s > best[p + len]) {
                best[p + len] = s;
                U->from[p + len] = (uint32_t)p;
                U->via[p + len] = i;
            }
        }
    }
    if (path) {
        size_t n = 0;
        for (size_t p = L; p > 0 && best[L] > -INFINITY; p = U->from[p])
            path[n++] = U->via[p];
        *npath = n;
    }
    return best[L];
}

typedef struct loss {
    double loss;
    uint32_t piece;
} loss;

static int cmp_loss(const void *pa, const void *pb)
{
    const loss *x = pa, *y = pb;
    if (x->loss != y->loss)
        return x->loss > y->loss ? -1 : 1;
    return (x->piece > y->piece) - (x->piece < y->piece);
}

static tcat_status prune(uni *U, size_t desired)
{
    const sw_words *w = U->w;
    size_t np = U->np;
    tcat_status st = TCAT_ERR_NOMEM;
    /* alternatives: flattened, alt[aoff[i] .. aoff[i + 1]) */
    size_t *aoff = malloc((np + 1) * sizeof *aoff);
    uint8_t *removable = calloc(np, 1);
    double *freq = calloc(np + 1, sizeof *freq);
    loss *cl = malloc(np * sizeof *cl);
    uint32_t *alt = NULL, *path = NULL;
    size_t nalt = 0, altcap = 0;
    size_t maxc = U->p->max_piece_chars;
    path = malloc((w->maxunits + maxc + 1) * sizeof *path);
    if (!aoff || !removable || !freq || !cl || !path)
        goto done;

    /* 1. each piece's best segmentation without itself */
    for (size_t i = 0; i < np; i++) {
        aoff[i] = nalt;
        if (!U->alive[i] || i < U->nchars)
            continue;
        size_t n;
        double s = viterbi(U, U->pocc[i], U->pchars[i], (uint32_t)i, path, &n);
        if (s > U->score[i]) {
            removable[i] = 1; /* it is not even its own best segmentation */
            continue;
        }
        if (nalt + n > altcap) {
            size_t cap = altcap ? altcap * 2 : 4096;
            while (cap < nalt + n)
                cap *= 2;
            uint32_t *v = realloc(alt, cap * sizeof *v);
            if (!v)
                goto done;
            alt = v;
            altcap = cap;
        }
        memcpy(alt + nalt, path, n * sizeof *path);
        nalt += n;
    }
    aoff[np] = nalt;

    /* 2. how often each piece is in the words' best segmentations */
    double vsum = 0;
    for (size_t wi = 0; wi < w->n; wi++) {
        size_t g0 = w->wunit[wi], L = w->wunit[wi + 1] - g0, n;
        double c = (double)w->count[wi];
        viterbi(U, g0, L, SW_NONE, path, &n);
        vsum += c;
        for (size_t k = 0; k < n; k++)
            if (path[k] < np && U->alive[path[k]])
                freq[path[k]] += c;
    }
    double sum = 0;
    for (size_t i = 0; i < np; i++)
        sum += freq[i];
    double logsum = log(sum);

    /* 3. the loss of likelihood when a piece gives way to its alternative */
    size_t nkeep = 0, ncand = 0;
    uint8_t *keep = removable; /* reused: 1 = removable, 2 = kept */
    for (size_t i = 0; i < np; i++) {
        if (!U->alive[i])
            continue;
        if (freq[i] == 0 || keep[i] == 1) {
            keep[i] = 0;
            continue;
        }
        if (aoff[i + 1] == aoff[i]) { /* a character: no alternative */
            keep[i] = 2;
            nkeep++;
            continue;
        }
        keep[i] = 0;
        double F = freq[i] / vsum;
        double logprob_sp = log(freq[i]) - logsum;
        size_t na = aoff[i + 1] - aoff[i];
        double logsum_alt = log(sum + freq[i] * ((double)na - 1));
        double logprob_alt = 0;
        for (size_t k = aoff[i]; k < aoff[i + 1]; k++) {
            double f = alt[k] < np ? freq[alt[k]] : 0;
            logprob_alt += log(f + freq[i]) - logsum_alt;
        }
        cl[ncand++] = (loss){F * (logprob_sp - logprob_alt), (uint32_t)i};
    }
    size_t target = (size_t)(U->p->shrink * (double)U->nalive);
    if (target < desired)
        target = desired;
    qsort(cl, ncand, sizeof *cl, cmp_loss);
    for (size_t k = 0; k < ncand && nkeep < target; k++, nkeep++)
        keep[cl[k].piece] = 2;
    U->nalive = 0;
    for (size_t i = 0; i < np; i++) {
        U->alive[i] = U->alive[i] && keep[i] == 2;
        U->nalive += U->alive[i];
    }
    st = TCAT_OK;
done:
    free(aoff);
    free(removable);
    free(freq);
    free(cl);
    free(alt);
    free(path);
    return st;
}

/* ---- the final vocabulary --------------------------------------------------- */

typedef struct final_piece {
    double score;
    const char *s;
    size_t len;
} final_piece;

static int cmp_final(const void *pa, const void *pb)
{
    const final_piece *x = pa, *y = pb;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int cmp_by_score(const void *pa, const void *pb)
{
    const loss *x = pa, *y = pb; /* loss.loss holds the score here */
    if (x->loss != y->loss)
        return x->loss > y->loss ? -1 : 1;
    return (x->piece > y->piece) - (x->piece < y->piece);
}

static tcat_status finalize(uni *U, tcat_subword **out)
{
    const sw_words *w = U->w;
    size_t size = U->p->size;
    final_piece *fp = malloc((size + U->nchars + 1) * sizeof *fp);
    loss *order = malloc((U->np ? U->np : 1) * sizeof *order);
    float *scores = NULL;
    sw_intern pieces = {0};
    tcat_status st = TCAT_ERR_NOMEM;
    if (!fp || !order)
        goto done;
    double min = INFINITY;
    for (size_t i = 0; i < U->np; i++)
        if (U->alive[i] && U->score[i] < min)
            min = U->score[i];
    if (min == INFINITY)
        min = 0;
    size_t n = 0, dead = 0;
    /* every base character; the dead ones just below the least likely
     * piece, more frequent ones higher */
    for (size_t i = 0; i < U->nchars; i++) {
        fp[n].s = sw_intern_str(&w->chars, (uint32_t)i, &fp[n].len);
        fp[n].score = U->alive[i] ? U->score[i] : min - 1e-4 * (double)++dead;
        n++;
    }
    size_t no = 0;
    for (size_t i = U->nchars; i < U->np; i++)
        if (U->alive[i])
            order[no++] = (loss){U->score[i], (uint32_t)i};
    qsort(order, no, sizeof *order, cmp_by_score);
    for (size_t k = 0; k < no && n < size; k++) {
        uint32_t i = order[k].piece;
        fp[n].s = w->text + w->uoff[U->pocc[i]];
        fp[n].len = U->pbytes[i];
        fp[n].score = U->score[i];
        n++;
    }
    qsort(fp, n, sizeof *fp, cmp_final);
    scores = malloc((n ? n : 1) * sizeof *scores);
    if (!scores)
        goto done;
    for (size_t k = 0; k < n; k++) {
        uint32_t idx;
        if ((st = sw_intern_add(&pieces, fp[k].s, fp[k].len, &idx, NULL)) != TCAT_OK)
            goto done;
        scores[idx] = (float)fp[k].score;
    }
    st = sw_vocab_build(out, TCAT_SUBWORD_UNIGRAM, &pieces, scores, NULL, 0);
done:
    free(fp);
    free(order);
    free(scores);
    sw_intern_free(&pieces);
    return st;
}

static void uni_free(uni *U)
{
    free(U->pocc);
    free(U->pbytes);
    free(U->pchars);
    free(U->score);
    free(U->alive);
    free(U->eoff);
    free(U->edge);
    free(U->prob);
    free(U->expected);
    free(U->a);
    free(U->b);
    free(U->from);
    free(U->via);
}

tcat_status sw_train_unigram(tcat_subword **out, const sw_words *w,
                             const tcat_subword_params *p, tcat_error *err)
{
    uni U = {.w = w, .p = p, .nchars = w->chars.n};
    uint32_t *sa = NULL, *uword = NULL;
    size_t m = 0;
    cands cs = {.keep = p->seed_size};
    if (cs.keep > MAX_PIECES - U.nchars)
        cs.keep = MAX_PIECES - U.nchars;
    tcat_status st = TCAT_ERR_NOMEM;
    size_t L = w->maxunits + 1;
    U.a = malloc(L * sizeof *U.a);
    U.b = malloc(L * sizeof *U.b);
    U.from = malloc(L * sizeof *U.from);
    U.via = malloc(L * sizeof *U.via);
    uword = malloc((w->nunits ? w->nunits : 1) * sizeof *uword);
    if (!U.a || !U.b || !U.from || !U.via || !uword)
        goto done;
    if ((st = find_seeds(&U, &sa, &m, &cs, uword)) != TCAT_OK)
        goto done;
    free(uword);
    uword = NULL;
    if ((st = build_pieces(&U, sa, &cs)) != TCAT_OK)
        goto done;
    free(sa);
    sa = NULL;
    free(cs.v);
    cs.v = NULL;

    size_t desired = (size_t)((double)p->size * DESIRED_SLACK);
    for (;;) {
        for (int it = 0; it < p->em_iters; it++) {
            set_probs(&U);
            estep(&U);
            mstep(&U);
            compact(&U);
        }
        if (U.nalive <= desired)
            break;
        set_probs(&U);
        if ((st = prune(&U, desired)) != TCAT_OK)
            goto done;
        compact(&U);
    }
    st = finalize(&U, out);
done:
    free(sa);
    free(uword);
    free(cs.v);
    uni_free(&U);
    if (st != TCAT_OK)
        return tcat_fail(err, st == TCAT_ERR_UNSUPPORTED ? st : TCAT_ERR_NOMEM,
                         st == TCAT_ERR_UNSUPPORTED ? "too many pieces" : "out of memory");
    return TCAT_OK;
}

/* ---- segmenting --------------------------------------------------------------- */

#define SMALL_BYTES 128

tcat_status sw_unigram_segment(const tcat_subword *v, const char *m, size_t mlen, sw_seg *seg,
                               size_t *nseg)
{
    double best_s[SMALL_BYTES + 1];
    uint32_t from_s[SMALL_BYTES + 1];
    int32_t id_s[SMALL_BYTES + 1];
    double *best = best_s;
    uint32_t *from = from_s;
    int32_t *id = id_s;
    if (mlen > SMALL_BYTES) {
        best = malloc((mlen + 1) * sizeof *best);
        from = malloc((mlen + 1) * sizeof *from);
        id = malloc((mlen + 1) * sizeof *id);
        if (!best || !from || !id) {
            free(best);
            free(from);
            free(id);
            return TCAT_ERR_NOMEM;
        }
    }
    const int32_t *base = v->da_base, *check = v->da_check, *val = v->da_val;
    const uint8_t *s = (const uint8_t *)m;
    size_t size = v->da_size;
    best[0] = 0;
    for (size_t p = 1; p <= mlen; p++)
        best[p] = -INFINITY;
    for (size_t p = 0; p < mlen;) {
        size_t ulen = 1;
        if (s[p] >= 0x80) {
            int32_t cp;
            ulen = tcat_utf8_decode(s + p, mlen - p, &cp);
        }
        double bp = best[p];
        bool single = false;
        int32_t node = 0;
        for (size_t q = p; q < mlen; q++) {
            size_t t = (size_t)base[node] + s[q];
            if (t >= size || check[t] != node)
                break;
            node = (int32_t)t;
            int32_t k = val[node];
            if (k < 0)
                continue;
            double sc = bp + v->score[k - TCAT_SUBWORD_NBYTES];
            if (sc > best[q + 1]) {
                best[q + 1] = sc;
                from[q + 1] = (uint32_t)p;
                id[q + 1] = k;
            }
            if (q + 1 == p + ulen)
                single = true;
        }
        if (!single) { /* byte fallback for this character */
            double sc = bp + v->unk_score;
            if (sc > best[p + ulen]) {
                best[p + ulen] = sc;
                from[p + ulen] = (uint32_t)p;
                id[p + ulen] = -1;
            }
        }
        p += ulen;
    }
    /* back from the end; then reverse */
    size_t n = 0;
    for (size_t p = mlen; p > 0; p = from[p]) {
        seg[n++] = (sw_seg){id[p], from[p], (uint32_t)(p - from[p])};
    }
    for (size_t i = 0; i < n / 2; i++) {
        sw_seg t = seg[i];
        seg[i] = seg[n - 1 - i];
        seg[n - 1 - i] = t;
    }
    *nseg = n;
    if (best != best_s) {
        free(best);
        free(from);
        free(id);
    }
    return TCAT_OK;
}
