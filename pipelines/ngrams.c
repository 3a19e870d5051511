#include "pipelines/ngrams.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "tokenizer/utf8.h"

#define WORD_SEED TCAT_WORD_SEED
#define CHAR_SEED TCAT_CHAR_SEED

void tcat_hashes_free(tcat_hashes *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

static tcat_status reserve(tcat_hashes *h, size_t extra)
{
    if (h->n + extra <= h->cap)
        return TCAT_OK;
    size_t cap = h->cap ? h->cap : 256;
    while (cap < h->n + extra)
        cap *= 2;
    uint64_t *v = realloc(h->v, cap * sizeof *v);
    if (!v)
        return TCAT_ERR_NOMEM;
    h->v = v;
    h->cap = cap;
    return TCAT_OK;
}


static tcat_status word_ngrams(const tcat_corpus *c, size_t d, int word_n, bool punct,
                               tcat_hashes *out)
{
    size_t nt;
    const tcat_span *t = tcat_corpus_tokens(c, d, &nt);
    const uint8_t *pu = c->punct + c->doc_tok[d];
    if (nt == 0)
        return TCAT_OK;
    /* room for the n-grams and, after them, the token hashes */
    if (reserve(out, nt * (size_t)word_n + nt) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    uint64_t *th = out->v + out->n + nt * (size_t)word_n;
    size_t kept = 0;
    for (size_t i = 0; i < nt; i++)
        if (punct || !pu[i])
            th[kept++] = XXH3_64bits_withSeed(c->text.data + t[i].off, t[i].len, WORD_SEED);
    nt = kept;
    uint64_t *o = out->v + out->n;
    for (int n = 1; n <= word_n; n++) {
        for (size_t i = 0; i + (size_t)n <= nt; i++) {
            uint64_t h = (uint64_t)n;
            for (int k = 0; k < n; k++)
                h = tcat_hash_fold(h, th[i + (size_t)k]);
            *o++ = h;
        }
    }
    out->n = (size_t)(o - out->v);
    return TCAT_OK;
}

/* Char n-grams of one word (its bytes w[0..len)), padded with spaces. */
static tcat_status char_ngrams_word(const char *w, size_t len, int nmin, int nmax,
                                    tcat_hashes *out, char *pad, size_t *bounds)
{
    pad[0] = ' ';
    memcpy(pad + 1, w, len);
    pad[len + 1] = ' ';
    size_t plen = len + 2;
    /* grapheme boundaries of the padded word */
    size_t nb = 0;
    bounds[nb++] = 0;
    int32_t state = 0, prev = -1;
    for (size_t i = 0; i < plen;) {
        int32_t cp;
        size_t k = tcat_utf8_decode((const uint8_t *)pad + i, plen - i, &cp);
        if (cp < 0)
            cp = TCAT_REPLACEMENT_CHAR;
        if (prev >= 0 && (prev < 0x80 && cp < 0x80 ? true : utf8proc_grapheme_break_stateful(prev, cp, &state)))
            bounds[nb++] = i;
        if (prev >= 0 && prev < 0x80 && cp < 0x80)
            state = 0;
        prev = cp;
        i += k;
    }
    bounds[nb++] = plen;
    size_t ng = nb - 1; /* graphemes */
    if (reserve(out, ng * (size_t)(nmax - nmin + 1)) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    for (int n = nmin; n <= nmax; n++) {
        if ((size_t)n > ng)
            break;
        for (size_t g = 0; g + (size_t)n <= ng; g++) {
            size_t a = bounds[g], b = bounds[g + (size_t)n];
            /* skip the lone padding space */
            if (b - a == 1 && pad[a] == ' ')
                continue;
            out->v[out->n++] = XXH3_64bits_withSeed(pad + a, b - a, CHAR_SEED);
        }
    }
    return TCAT_OK;
}

static tcat_status char_ngrams(const tcat_corpus *c, size_t d, int nmin, int nmax, bool punct,
                               tcat_hashes *out)
{
    size_t nt;
    const tcat_span *t = tcat_corpus_tokens(c, d, &nt);
    size_t first = c->doc_tok[d];
    const uint8_t *pu = c->punct + first;
    size_t i = 0;
    char *pad = NULL;
    size_t *bounds = NULL, cap = 0;
    tcat_status st = TCAT_OK;
    while (i < nt) {
        if (!punct && pu[i]) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < nt && tcat_corpus_glued(c, first + j) && (punct || !pu[j]))
            j++;
        size_t a = t[i].off, len = t[j - 1].off + t[j - 1].len - a;
        if (len + 3 > cap) {
            cap = 2 * (len + 3);
            char *p2 = realloc(pad, cap);
            size_t *b2 = realloc(bounds, cap * sizeof *b2);
            if (p2)
                pad = p2;
            if (b2)
                bounds = b2;
            if (!p2 || !b2) {
                st = TCAT_ERR_NOMEM;
                break;
            }
        }
        if ((st = char_ngrams_word(c->text.data + a, len, nmin, nmax, out, pad, bounds)))
            break;
        i = j;
    }
    free(pad);
    free(bounds);
    return st;
}

tcat_status tcat_ngrams_doc(const tcat_corpus *c, size_t d, const tcat_ngram_opts *o,
                            tcat_hashes *words, tcat_hashes *chars)
{
    tcat_status st = TCAT_OK;
    if (words && o->word_n > 0)
        st = word_ngrams(c, d, o->word_n, o->punct, words);
    if (st == TCAT_OK && chars && o->char_min > 0)
        st = char_ngrams(c, d, o->char_min, o->char_max, o->punct, chars);
    return st;
}
