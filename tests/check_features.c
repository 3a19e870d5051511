/* tests/check_features.c — pipelines/ngrams and pipelines/tfidf: the
 * documented hash functions, n-gram counts, glue across segmenter cuts,
 * the vocabulary (min_df, max_features, idf) and TF-IDF rows. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "corpora/corpus.h"
#include "pipelines/ngrams.h"
#include "pipelines/tfidf.h"
#include "tests/suites.h"
#include "tests/synth.h"
#include "tests/testutil.h"

#define WORD_SEED 0x74636174u
#define CHAR_SEED 0x63686172u

/* ---- helpers ---------------------------------------------------------------- */

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The documented word n-gram hash of the n tokens w[0..n). */
static uint64_t word_hash(const char *const *w, int n)
{
    uint64_t h = (uint64_t)n;
    for (int k = 0; k < n; k++)
        h = mix(h * 0x9E3779B97F4A7C15ull + XXH3_64bits_withSeed(w[k], strlen(w[k]), WORD_SEED));
    return h;
}

static uint64_t char_hash(const char *s) { return XXH3_64bits_withSeed(s, strlen(s), CHAR_SEED); }

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void sort_hashes(tcat_hashes *h) { qsort(h->v, h->n, sizeof *h->v, cmp_u64); }

static bool has_hash(const tcat_hashes *h, uint64_t x)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i] == x)
            return true;
    return false;
}

static void ngrams(const tcat_corpus *c, size_t d, int word_n, int cmin, int cmax,
                   tcat_hashes *w, tcat_hashes *ch)
{
    tcat_ngram_opts o = {word_n, cmin, cmax, false};
    ck_assert_int_eq(tcat_ngrams_doc(c, d, &o, w, ch), TCAT_OK);
}

/* A corpus of one document holding the given tokens as they are (no
 * tokenizer): glue[k] says token k touches token k-1. */
static void manual_corpus(tcat_corpus *c, const char *const *toks, const bool *glue, size_t n)
{
    tcat_corpus_init(c);
    size_t bytes = 1;
    for (size_t k = 0; k < n; k++)
        bytes += strlen(toks[k]) + 1;
    ck_assert_int_eq(tcat_buf_reserve(&c->text, bytes), TCAT_OK);
    c->tok = malloc((n ? n : 1) * sizeof *c->tok);
    c->punct = calloc(n ? n : 1, 1);
    c->doc_tok = malloc(2 * sizeof *c->doc_tok);
    c->label = malloc(sizeof *c->label);
    ck_assert(c->tok && c->doc_tok && c->label);
    for (size_t k = 0; k < n; k++) {
        if (!(k > 0 && glue[k]))
            c->text.data[c->text.len++] = ' ';
        size_t len = strlen(toks[k]);
        c->tok[k] = (tcat_span){c->text.len, len};
        c->punct[k] = tcat_tok_is_punct(toks[k], len);
        memcpy(c->text.data + c->text.len, toks[k], len);
        c->text.len += len;
    }
    c->ntok = c->tokcap = n;
    c->doc_tok[0] = 0;
    c->doc_tok[1] = n;
    c->label[0] = 0;
    c->n = 1;
    c->cap = 1;
}

/* ---- word n-grams --------------------------------------------------------------- */

START_TEST(test_word_ngram_counts)
{
    tcat_corpus c;
    tcat_corpus_init(&c);
    corpus_add_text(&c, "one two three four five", 0);
    corpus_add_text(&c, "solo", 0);
    corpus_add_text(&c, "", 0);
    corpus_add_text(&c, "a b", 0);
    tcat_hashes w = {0};
    static const struct { size_t d; int n; size_t want; } cases[] = {
        {0, 1, 5}, {0, 2, 9}, {0, 3, 12}, {1, 1, 1}, {1, 3, 1},
        {2, 1, 0}, {2, 3, 0}, {3, 2, 3},  {3, 3, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        w.n = 0;
        ngrams(&c, cases[i].d, cases[i].n, 0, 0, &w, NULL);
        ck_assert_msg(w.n == cases[i].want, "doc %zu word_n %d: %zu n-grams, want %zu",
                      cases[i].d, cases[i].n, w.n, cases[i].want);
    }
    /* appended, not replaced */
    w.n = 0;
    ngrams(&c, 0, 2, 0, 0, &w, NULL);
    ngrams(&c, 3, 2, 0, 0, &w, NULL);
    ck_assert_uint_eq(w.n, 12);
    /* word_n 0 or a NULL list: nothing */
    w.n = 0;
    ngrams(&c, 0, 0, 0, 0, &w, NULL);
    ck_assert_uint_eq(w.n, 0);
    ngrams(&c, 0, 2, 0, 0, NULL, NULL);
    tcat_hashes_free(&w);
    ck_assert_ptr_null(w.v);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_word_ngram_documented_hash)
{
    tcat_corpus c;
    tcat_corpus_init(&c);
    corpus_add_text(&c, "Hello big world", 0);
    tcat_hashes w = {0};
    ngrams(&c, 0, 3, 0, 0, &w, NULL);
    ck_assert_uint_eq(w.n, 6);
    const char *t[] = {"hello", "big", "world"};
    /* unigrams, then bigrams, then the trigram, in text order */
    ck_assert_uint_eq(w.v[0], word_hash(t, 1));
    ck_assert_uint_eq(w.v[1], word_hash(t + 1, 1));
    ck_assert_uint_eq(w.v[2], word_hash(t + 2, 1));
    ck_assert_uint_eq(w.v[3], word_hash(t, 2));
    ck_assert_uint_eq(w.v[4], word_hash(t + 1, 2));
    ck_assert_uint_eq(w.v[5], word_hash(t, 3));
    /* order matters */
    const char *r[] = {"big", "hello"};
    ck_assert_uint_ne(word_hash(r, 2), w.v[3]);
    tcat_hashes_free(&w);
    tcat_corpus_free(&c);
}
END_TEST

/* ---- char n-grams ----------------------------------------------------------------- */

START_TEST(test_char_ngrams_ab)
{
    tcat_corpus c;
    tcat_corpus_init(&c);
    corpus_add_text(&c, "ab", 0);
    tcat_hashes ch = {0};
    ngrams(&c, 0, 0, 1, 2, NULL, &ch);
    /* " ab ": a, b, " a", ab, "b " (the lone padding spaces are not grams) */
    ck_assert_uint_eq(ch.n, 5);
    static const char *const want[] = {"a", "b", " a", "ab", "b "};
    for (size_t i = 0; i < 5; i++)
        ck_assert_msg(has_hash(&ch, char_hash(want[i])), "no char n-gram '%s'", want[i]);
    ck_assert(!has_hash(&ch, char_hash(" ")));
    ck_assert(!has_hash(&ch, char_hash(" ab ")));
    /* up to 6: + " ab", "ab ", " ab " */
    ch.n = 0;
    ngrams(&c, 0, 0, 1, 6, NULL, &ch);
    ck_assert_uint_eq(ch.n, 8);
    ck_assert(has_hash(&ch, char_hash(" ab ")));
    ck_assert(has_hash(&ch, char_hash(" ab")));
    /* only 3..4 */
    ch.n = 0;
    ngrams(&c, 0, 0, 3, 4, NULL, &ch);
    ck_assert_uint_eq(ch.n, 3);
    tcat_hashes_free(&ch);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_char_ngrams_words_apart)
{
    /* two words: each padded on its own; nothing spans the space */
    tcat_corpus c;
    tcat_corpus_init(&c);
    corpus_add_text(&c, "ab cd", 0);
    tcat_hashes ch = {0};
    ngrams(&c, 0, 0, 2, 3, NULL, &ch);
    /* per word: 3 bigrams + 2 trigrams */
    ck_assert_uint_eq(ch.n, 10);
    ck_assert(has_hash(&ch, char_hash("b ")));
    ck_assert(has_hash(&ch, char_hash(" c")));
    ck_assert(!has_hash(&ch, char_hash("bc")));
    ck_assert(!has_hash(&ch, char_hash("b c")));
    ck_assert(!has_hash(&ch, char_hash("b  ")));
    tcat_hashes_free(&ch);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_char_ngrams_graphemes)
{
    /* a grapheme cluster is one character: e + combining acute, and an
     * emoji with a skin tone (built by hand: the tokenizer would compose
     * or split them) */
    const char *toks[] = {"e\xCC\x81x", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"};
    bool glue[] = {false, false};
    tcat_corpus c;
    manual_corpus(&c, toks, glue, 2);
    tcat_hashes ch = {0};
    ngrams(&c, 0, 0, 1, 1, NULL, &ch);
    ck_assert_uint_eq(ch.n, 3);
    ck_assert(has_hash(&ch, char_hash("e\xCC\x81")));
    ck_assert(has_hash(&ch, char_hash("x")));
    ck_assert(has_hash(&ch, char_hash("\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD")));
    ck_assert(!has_hash(&ch, char_hash("e")));
    ch.n = 0;
    ngrams(&c, 0, 0, 2, 2, NULL, &ch);
    ck_assert_uint_eq(ch.n, 3 + 2);
    ck_assert(has_hash(&ch, char_hash(" e\xCC\x81")));
    ck_assert(has_hash(&ch, char_hash("e\xCC\x81x")));
    tcat_hashes_free(&ch);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_ngrams_deterministic)
{
    const char *text = "The café serves 我喜欢吃苹果 and ผมชอบกินข้าว, 2024!";
    tcat_corpus a, b;
    tcat_corpus_init(&a);
    tcat_corpus_init(&b);
    corpus_add_text(&a, text, 0);
    corpus_add_text(&b, "something else first", 1);
    corpus_add_text(&b, text, 0);
    tcat_hashes wa = {0}, ca = {0}, wb = {0}, cb = {0};
    ngrams(&a, 0, 3, 1, 5, &wa, &ca);
    ngrams(&b, 1, 3, 1, 5, &wb, &cb);
    ck_assert_uint_gt(wa.n, 0);
    ck_assert_uint_gt(ca.n, 0);
    ck_assert_uint_eq(wa.n, wb.n);
    ck_assert_uint_eq(ca.n, cb.n);
    ck_assert(memcmp(wa.v, wb.v, wa.n * sizeof *wa.v) == 0);
    ck_assert(memcmp(ca.v, cb.v, ca.n * sizeof *ca.v) == 0);
    /* and again on the same corpus */
    wb.n = cb.n = 0;
    ngrams(&a, 0, 3, 1, 5, &wb, &cb);
    ck_assert(memcmp(wa.v, wb.v, wa.n * sizeof *wa.v) == 0);
    ck_assert(memcmp(ca.v, cb.v, ca.n * sizeof *ca.v) == 0);
    tcat_hashes_free(&wa);
    tcat_hashes_free(&ca);
    tcat_hashes_free(&wb);
    tcat_hashes_free(&cb);
    tcat_corpus_free(&a);
    tcat_corpus_free(&b);
}
END_TEST

START_TEST(test_char_ngrams_across_glue)
{
    /* 我喜欢 as the tokenizer cuts it (touching tokens) gives the char
     * n-grams of the same characters as one token */
    tcat_corpus cut;
    tcat_corpus_init(&cut);
    corpus_add_text(&cut, "我喜欢", 0);
    size_t nt;
    tcat_corpus_tokens(&cut, 0, &nt);
    ck_assert_uint_ge(nt, 2); /* the segmenter did cut it */
    const char *whole[] = {"我喜欢"};
    bool glue1[] = {false};
    tcat_corpus one;
    manual_corpus(&one, whole, glue1, 1);

    tcat_hashes a = {0}, b = {0};
    ngrams(&cut, 0, 0, 1, 4, NULL, &a);
    ngrams(&one, 0, 0, 1, 4, NULL, &b);
    /* " 我喜欢 ": 3 + 4 + 3 + 2 grams (the lone spaces skipped) */
    ck_assert_uint_eq(b.n, 12);
    ck_assert_uint_eq(a.n, b.n);
    sort_hashes(&a);
    sort_hashes(&b);
    ck_assert(memcmp(a.v, b.v, a.n * sizeof *a.v) == 0);
    ck_assert(has_hash(&a, char_hash("我喜")));
    ck_assert(has_hash(&a, char_hash(" 我喜欢")));
    ck_assert(has_hash(&a, char_hash("喜欢 ")));

    /* the word n-grams, though, follow the tokens */
    tcat_hashes wa = {0}, wb = {0};
    ngrams(&cut, 0, 1, 0, 0, &wa, NULL);
    ngrams(&one, 0, 1, 0, 0, &wb, NULL);
    ck_assert_uint_eq(wa.n, nt);
    ck_assert_uint_eq(wb.n, 1);

    /* a space still separates words: 我喜欢 你 = the grams of 我喜欢 and of 你 */
    tcat_corpus two;
    tcat_corpus_init(&two);
    corpus_add_text(&two, "我喜欢 你", 0);
    corpus_add_text(&two, "你", 0);
    tcat_hashes c2 = {0};
    ngrams(&two, 0, 0, 1, 4, NULL, &c2);
    b.n = 0;
    ngrams(&one, 0, 0, 1, 4, NULL, &b);
    ngrams(&two, 1, 0, 1, 4, NULL, &b);
    sort_hashes(&c2);
    sort_hashes(&b);
    ck_assert_uint_eq(c2.n, b.n);
    ck_assert(memcmp(c2.v, b.v, b.n * sizeof *b.v) == 0);
    ck_assert(!has_hash(&c2, char_hash("欢 你")));
    ck_assert(!has_hash(&c2, char_hash("欢你")));

    tcat_hashes_free(&a);
    tcat_hashes_free(&b);
    tcat_hashes_free(&c2);
    tcat_hashes_free(&wa);
    tcat_hashes_free(&wb);
    tcat_corpus_free(&cut);
    tcat_corpus_free(&one);
    tcat_corpus_free(&two);
}
END_TEST

START_TEST(test_char_ngrams_thai_glue)
{
    /* Thai: the dictionary cuts ผมชอบกินข้าว into words that touch */
    const char *text = "ผมชอบกินข้าว";
    tcat_corpus cut;
    tcat_corpus_init(&cut);
    corpus_add_text(&cut, text, 0);
    size_t nt;
    tcat_corpus_tokens(&cut, 0, &nt);
    ck_assert_uint_ge(nt, 2);
    const char *whole[] = {text};
    bool g[] = {false};
    tcat_corpus one;
    manual_corpus(&one, whole, g, 1);
    tcat_hashes a = {0}, b = {0};
    ngrams(&cut, 0, 0, 1, 3, NULL, &a);
    ngrams(&one, 0, 0, 1, 3, NULL, &b);
    sort_hashes(&a);
    sort_hashes(&b);
    ck_assert_uint_eq(a.n, b.n);
    ck_assert(memcmp(a.v, b.v, a.n * sizeof *a.v) == 0);
    tcat_hashes_free(&a);
    tcat_hashes_free(&b);
    tcat_corpus_free(&cut);
    tcat_corpus_free(&one);
}
END_TEST

/* ---- vocabulary ------------------------------------------------------------------- */

/* The tiny corpus of the vocabulary tests:
 *   apple: 3 documents, banana 2, cherry 2, durian 1 (N = 4) */
static void tiny_corpus(tcat_corpus *c)
{
    tcat_corpus_init(c);
    corpus_add_text(c, "apple banana", 0);
    corpus_add_text(c, "apple cherry", 1);
    corpus_add_text(c, "apple banana cherry banana", 0);
    corpus_add_text(c, "durian", 1);
}

/* The unigram hash of word, computed through tcat_ngrams_doc on a
 * one-word document. */
static uint64_t unigram_of(const char *word)
{
    tcat_corpus c;
    tcat_corpus_init(&c);
    corpus_add_text(&c, word, 0);
    tcat_hashes w = {0};
    ngrams(&c, 0, 1, 0, 0, &w, NULL);
    ck_assert_uint_eq(w.n, 1);
    uint64_t h = w.v[0];
    tcat_hashes_free(&w);
    tcat_corpus_free(&c);
    return h;
}

static void build(tcat_vocab *v, const tcat_corpus *c, int word_n, int cmin, int cmax,
                  bool sublinear, size_t min_df, size_t max_features)
{
    tcat_docs d = {c, NULL, c->n};
    tcat_ngram_opts o = {word_n, cmin, cmax, false};
    tcat_error err = {0};
    ck_assert_msg(tcat_vocab_build(v, &d, &o, sublinear, min_df, max_features, &err) == TCAT_OK,
                  "vocab: %s", err.msg);
}

static void transform(const tcat_vocab *v, const tcat_corpus *c, int threads, tcat_csr *X)
{
    tcat_docs d = {c, NULL, c->n};
    tcat_error err = {0};
    ck_assert_msg(tcat_tfidf_transform(v, &d, threads, X, &err) == TCAT_OK, "tfidf: %s",
                  err.msg);
}

START_TEST(test_vocab_min_df_and_idf)
{
    tcat_corpus c;
    tiny_corpus(&c);
    tcat_vocab v;
    build(&v, &c, 1, 0, 0, false, 1, 0);
    ck_assert_uint_eq(v.nword, 4);
    ck_assert_uint_eq(v.nchar, 0);
    tcat_vocab_free(&v);

    build(&v, &c, 1, 0, 0, false, 2, 0);
    ck_assert_uint_eq(v.nword, 3);
    static const struct { const char *w; int df; } want[] = {
        {"apple", 3}, {"banana", 2}, {"cherry", 2},
    };
    for (size_t i = 0; i < 3; i++) {
        int64_t id = tcat_vocab_find(&v, unigram_of(want[i].w), false);
        ck_assert_msg(id >= 0 && (size_t)id < v.nword, "%s not in the vocabulary", want[i].w);
        double idf = log((1.0 + 4) / (1.0 + want[i].df)) + 1.0;
        ck_assert_msg(fabs(v.idf[id] - idf) < 1e-6, "idf of %s: %g, want %g", want[i].w,
                      v.idf[id], idf);
        ck_assert_uint_eq(v.hash[id], unigram_of(want[i].w));
        /* the word hash is not a char feature */
        ck_assert_int_eq(tcat_vocab_find(&v, unigram_of(want[i].w), true), -1);
    }
    ck_assert_int_eq(tcat_vocab_find(&v, unigram_of("durian"), false), -1);
    ck_assert_int_eq(tcat_vocab_find(&v, unigram_of("elderberry"), false), -1);
    /* the hashes are sorted */
    for (size_t i = 1; i < v.nword; i++)
        ck_assert_uint_lt(v.hash[i - 1], v.hash[i]);
    tcat_vocab_free(&v);

    /* min_df above every df: empty */
    build(&v, &c, 2, 1, 3, false, 5, 0);
    ck_assert_uint_eq(v.nword + v.nchar, 0);
    ck_assert_int_eq(tcat_vocab_find(&v, unigram_of("apple"), false), -1);
    tcat_csr X;
    transform(&v, &c, 1, &X);
    ck_assert_uint_eq(X.rows, 4);
    ck_assert_uint_eq(X.ptr[4], 0);
    tcat_csr_free(&X);
    tcat_vocab_free(&v);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_vocab_max_features)
{
    tcat_corpus c;
    tiny_corpus(&c);
    tcat_vocab v;
    build(&v, &c, 1, 0, 0, false, 1, 2);
    ck_assert_uint_eq(v.nword, 2);
    /* the most frequent (apple), then banana or cherry by the smaller hash */
    uint64_t hb = unigram_of("banana"), hc = unigram_of("cherry");
    ck_assert_int_ge(tcat_vocab_find(&v, unigram_of("apple"), false), 0);
    ck_assert_int_ge(tcat_vocab_find(&v, hb < hc ? hb : hc, false), 0);
    ck_assert_int_eq(tcat_vocab_find(&v, hb < hc ? hc : hb, false), -1);
    ck_assert_int_eq(tcat_vocab_find(&v, unigram_of("durian"), false), -1);
    tcat_vocab_free(&v);

    /* per kind: word and char parts are each limited */
    build(&v, &c, 2, 1, 3, false, 1, 5);
    ck_assert_uint_eq(v.nword, 5);
    ck_assert_uint_eq(v.nchar, 5);
    tcat_vocab_free(&v);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_vocab_word_and_char_parts)
{
    tcat_corpus c;
    tiny_corpus(&c);
    tcat_vocab v;
    build(&v, &c, 2, 1, 3, true, 1, 0);
    ck_assert_uint_gt(v.nword, 0);
    ck_assert_uint_gt(v.nchar, 0);
    /* word ids first, then char ids; each part sorted */
    int64_t wid = tcat_vocab_find(&v, unigram_of("banana"), false);
    ck_assert(wid >= 0 && (size_t)wid < v.nword);
    int64_t cid = tcat_vocab_find(&v, char_hash("ban"), true);
    ck_assert((size_t)cid >= v.nword && (size_t)cid < v.nword + v.nchar);
    ck_assert_int_eq(tcat_vocab_find(&v, char_hash("ban"), false), -1);
    for (size_t i = 1; i < v.nword; i++)
        ck_assert_uint_lt(v.hash[i - 1], v.hash[i]);
    for (size_t i = v.nword + 1; i < v.nword + v.nchar; i++)
        ck_assert_uint_lt(v.hash[i - 1], v.hash[i]);
    /* idf of the char gram "a" (in all 3 apple/banana documents and durian: 4) */
    int64_t ida = tcat_vocab_find(&v, char_hash("a"), true);
    ck_assert_int_ge(ida, 0);
    ck_assert(fabs(v.idf[ida] - (log(5.0 / 5.0) + 1.0)) < 1e-6);

    /* a copy finds the same ids */
    tcat_vocab w;
    ck_assert_int_eq(tcat_vocab_copy(&w, &v), TCAT_OK);
    ck_assert_uint_eq(w.nword, v.nword);
    ck_assert_uint_eq(w.nchar, v.nchar);
    ck_assert_int_eq(tcat_vocab_find(&w, unigram_of("banana"), false), wid);
    ck_assert_int_eq(tcat_vocab_find(&w, char_hash("ban"), true), cid);
    tcat_vocab_free(&w);

    /* adopting the arrays gives the same lookups; unsorted arrays are refused */
    size_t n = v.nword + v.nchar;
    uint64_t *h = malloc(n * sizeof *h);
    float *f = malloc(n * sizeof *f);
    memcpy(h, v.hash, n * sizeof *h);
    memcpy(f, v.idf, n * sizeof *f);
    tcat_error err = {0};
    ck_assert_int_eq(tcat_vocab_adopt(&w, &v.ngrams, true, v.nword, v.nchar, h, f, &err), TCAT_OK);
    ck_assert_int_eq(tcat_vocab_find(&w, unigram_of("banana"), false), wid);
    ck_assert_int_eq(tcat_vocab_find(&w, char_hash("ban"), true), cid);
    tcat_csr X1, X2;
    transform(&v, &c, 1, &X1);
    transform(&w, &c, 1, &X2);
    ck_assert_uint_eq(X1.ptr[X1.rows], X2.ptr[X2.rows]);
    ck_assert(memcmp(X1.val, X2.val, X1.ptr[X1.rows] * sizeof *X1.val) == 0);
    tcat_csr_free(&X1);
    tcat_csr_free(&X2);
    tcat_vocab_free(&w);
    uint64_t t = h[0];
    h[0] = h[1];
    h[1] = t;
    ck_assert_int_eq(tcat_vocab_adopt(&w, &v.ngrams, true, v.nword, v.nchar, h, f, &err),
                     TCAT_ERR_MODEL);
    tcat_vocab_free(&w);
    free(h);
    free(f);
    tcat_vocab_free(&v);
    tcat_corpus_free(&c);
}
END_TEST

/* ---- TF-IDF rows ------------------------------------------------------------------- */

START_TEST(test_tfidf_rows_unit_norm)
{
    tcat_corpus c;
    tiny_corpus(&c);
    corpus_add_text(&c, "zucchini", 0);  /* no known feature */
    corpus_add_text(&c, "", 1);          /* no token at all */
    tcat_corpus train;
    tiny_corpus(&train);
    static const struct { int w, cmin, cmax; bool sub; } kinds[] = {
        {1, 0, 0, false}, {2, 0, 0, true}, {0, 1, 4, false}, {2, 1, 4, true}, {3, 2, 5, false},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        tcat_vocab v;
        build(&v, &train, kinds[k].w, kinds[k].cmin, kinds[k].cmax, kinds[k].sub, 1, 0);
        tcat_csr X;
        transform(&v, &c, 1, &X);
        ck_assert_uint_eq(X.rows, 6);
        ck_assert_uint_eq(X.cols, v.nword + v.nchar);
        for (size_t i = 0; i < 4; i++) {
            double nrm = csr_row_norm(&X, i);
            ck_assert_msg(fabs(nrm - 1.0) < 1e-5, "kind %zu row %zu: norm %.9g", k, i, nrm);
            for (size_t p = X.ptr[i]; p < X.ptr[i + 1]; p++) {
                ck_assert_uint_lt(X.col[p], X.cols);
                ck_assert(X.val[p] > 0);
                /* each feature once per row */
                for (size_t q = X.ptr[i]; q < p; q++)
                    ck_assert_uint_ne(X.col[q], X.col[p]);
            }
        }
        /* zucchini: no known word; its chars may be known (z is not) */
        if (kinds[k].cmin == 0)
            ck_assert_uint_eq(X.ptr[5] - X.ptr[4], 0);
        ck_assert_uint_eq(X.ptr[6] - X.ptr[5], 0);
        ck_assert(csr_row_norm(&X, 5) == 0);
        tcat_csr_free(&X);
        tcat_vocab_free(&v);
    }
    tcat_corpus_free(&train);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_tfidf_values)
{
    tcat_corpus c;
    tiny_corpus(&c);
    tcat_vocab v;
    /* raw tf: document 2 is apple banana cherry banana */
    build(&v, &c, 1, 0, 0, false, 1, 0);
    tcat_csr X;
    transform(&v, &c, 1, &X);
    int64_t ia = tcat_vocab_find(&v, unigram_of("apple"), false);
    int64_t ib = tcat_vocab_find(&v, unigram_of("banana"), false);
    int64_t ic = tcat_vocab_find(&v, unigram_of("cherry"), false);
    double *r = csr_dense_row(&X, 2);
    double wa = 1 * (log(5.0 / 4) + 1), wb = 2 * (log(5.0 / 3) + 1), wc = 1 * (log(5.0 / 3) + 1);
    double nrm = sqrt(wa * wa + wb * wb + wc * wc);
    ck_assert(fabs(r[ia] - wa / nrm) < 1e-6);
    ck_assert(fabs(r[ib] - wb / nrm) < 1e-6);
    ck_assert(fabs(r[ic] - wc / nrm) < 1e-6);
    free(r);
    tcat_csr_free(&X);
    tcat_vocab_free(&v);

    /* sublinear: tf 2 -> 1 + ln 2 */
    build(&v, &c, 1, 0, 0, true, 1, 0);
    transform(&v, &c, 1, &X);
    r = csr_dense_row(&X, 2);
    wb = (1 + log(2.0)) * (log(5.0 / 3) + 1);
    nrm = sqrt(wa * wa + wb * wb + wc * wc);
    ck_assert(fabs(r[ia] - wa / nrm) < 1e-6);
    ck_assert(fabs(r[ib] - wb / nrm) < 1e-6);
    free(r);
    tcat_csr_free(&X);
    tcat_vocab_free(&v);

    /* word + char: each part has norm 1/sqrt(2) */
    build(&v, &c, 1, 1, 3, true, 1, 0);
    transform(&v, &c, 1, &X);
    for (size_t i = 0; i < X.rows; i++) {
        double sw = 0, sc = 0;
        for (size_t p = X.ptr[i]; p < X.ptr[i + 1]; p++) {
            double x = X.val[p];
            if (X.col[p] < v.nword)
                sw += x * x;
            else
                sc += x * x;
        }
        ck_assert(fabs(sw - 0.5) < 1e-5);
        ck_assert(fabs(sc - 0.5) < 1e-5);
    }
    tcat_csr_free(&X);
    tcat_vocab_free(&v);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_tfidf_norm_one_kind_missing)
{
    /* header: "the whole vector has norm 1". A document whose words are
     * all unseen but whose characters are known (word+char vocabulary) */
    tcat_corpus train, c;
    tiny_corpus(&train);
    tcat_corpus_init(&c);
    corpus_add_text(&c, "nab", 0);     /* n, a, b: all seen, the word is not */
    corpus_add_text(&c, "banana", 0);  /* both kinds known */
    tcat_vocab v;
    build(&v, &train, 1, 1, 2, false, 1, 0);
    tcat_csr X;
    transform(&v, &c, 1, &X);
    ck_assert_uint_gt(X.ptr[1] - X.ptr[0], 0);
    ck_assert(fabs(csr_row_norm(&X, 1) - 1.0) < 1e-5);
    double nrm = csr_row_norm(&X, 0);
    ck_assert_msg(fabs(nrm - 1.0) < 1e-5,
                  "row of a document with known chars but no known word: norm %.6f, want 1",
                  nrm);
    tcat_csr_free(&X);
    tcat_vocab_free(&v);
    tcat_corpus_free(&train);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_tfidf_threads_identical)
{
    tcat_corpus c;
    synth_corpus(&c, 3, 150, 5);
    tcat_vocab v;
    build(&v, &c, 2, 1, 4, true, 2, 0);
    tcat_csr A, B;
    transform(&v, &c, 1, &A);
    for (int T = 2; T <= 8; T += 3) {
        transform(&v, &c, T, &B);
        ck_assert_uint_eq(A.rows, B.rows);
        ck_assert(memcmp(A.ptr, B.ptr, (A.rows + 1) * sizeof *A.ptr) == 0);
        size_t nnz = A.ptr[A.rows];
        ck_assert(memcmp(A.col, B.col, nnz * sizeof *A.col) == 0);
        ck_assert(memcmp(A.val, B.val, nnz * sizeof *A.val) == 0);
        tcat_csr_free(&B);
    }
    /* a view of some documents: the rows of those documents, in order */
    size_t idx[] = {7, 3, 300, 3};
    tcat_docs d = {&c, idx, 4};
    tcat_error err = {0};
    ck_assert_int_eq(tcat_tfidf_transform(&v, &d, 2, &B, &err), TCAT_OK);
    for (size_t i = 0; i < 4; i++) {
        size_t a0 = A.ptr[idx[i]], n = A.ptr[idx[i] + 1] - a0;
        ck_assert_uint_eq(B.ptr[i + 1] - B.ptr[i], n);
        ck_assert(memcmp(B.col + B.ptr[i], A.col + a0, n * sizeof *A.col) == 0);
        ck_assert(memcmp(B.val + B.ptr[i], A.val + a0, n * sizeof *A.val) == 0);
    }
    tcat_csr_free(&B);
    tcat_csr_free(&A);
    tcat_vocab_free(&v);
    tcat_corpus_free(&c);
}
END_TEST

/* Punctuation tokens: skipped (and ending a run of touching tokens)
 * without punct, which gives exactly the features of the same text with
 * the punctuation never tokenized; words like any other with punct. */
START_TEST(test_ngrams_punct)
{
    static const char *const with[] = {"good", ",", "bad", "!"};
    static const bool glue_with[] = {false, true, false, true};
    static const char *const without[] = {"good", "bad"};
    static const bool glue_without[] = {false, false};
    tcat_corpus a, b;
    manual_corpus(&a, with, glue_with, 4);
    manual_corpus(&b, without, glue_without, 2);
    ck_assert(a.punct[1] && a.punct[3] && !a.punct[0] && !a.punct[2]);
    for (int punct = 0; punct < 2; punct++) {
        tcat_hashes wa = {0}, ca = {0}, wb = {0}, cb = {0};
        tcat_ngram_opts o = {2, 1, 3, punct};
        ck_assert_int_eq(tcat_ngrams_doc(&a, 0, &o, &wa, &ca), TCAT_OK);
        ck_assert_int_eq(tcat_ngrams_doc(&b, 0, &o, &wb, &cb), TCAT_OK);
        sort_hashes(&wa);
        sort_hashes(&wb);
        sort_hashes(&ca);
        sort_hashes(&cb);
        bool same = wa.n == wb.n && ca.n == cb.n &&
                    !memcmp(wa.v, wb.v, wa.n * sizeof *wa.v) &&
                    !memcmp(ca.v, cb.v, ca.n * sizeof *ca.v);
        ck_assert_msg(same == !punct, "punct %d: features %s", punct,
                      same ? "equal" : "differ");
        if (punct)
            ck_assert_uint_eq(wa.n, 4 + 3); /* 4 words, 3 bigrams */
        tcat_hashes_free(&wa);
        tcat_hashes_free(&wb);
        tcat_hashes_free(&ca);
        tcat_hashes_free(&cb);
    }
    tcat_corpus_free(&a);
    tcat_corpus_free(&b);
}
END_TEST

START_TEST(test_is_punct)
{
    ck_assert(tcat_tok_is_punct(",", 1));
    ck_assert(tcat_tok_is_punct("...", 3));
    ck_assert(tcat_tok_is_punct("\xe3\x80\x82", 3));       /* 。 */
    ck_assert(tcat_tok_is_punct("\xc2\xbf", 2));           /* ¿ */
    ck_assert(!tcat_tok_is_punct("", 0));
    ck_assert(!tcat_tok_is_punct("a,", 2));
    ck_assert(!tcat_tok_is_punct("$", 1));                 /* a symbol */
    ck_assert(!tcat_tok_is_punct("\xf0\x9f\x98\x80", 4)); /* an emoji */
    ck_assert(!tcat_tok_is_punct("\xff", 1));              /* invalid */
}
END_TEST

Suite *features_suite(void)
{
    Suite *s = suite_create("features");
    TCase *tc = tcase_new(s, "ngrams");
    tcase_add_test(tc, test_word_ngram_counts);
    tcase_add_test(tc, test_word_ngram_documented_hash);
    tcase_add_test(tc, test_char_ngrams_ab);
    tcase_add_test(tc, test_char_ngrams_words_apart);
    tcase_add_test(tc, test_char_ngrams_graphemes);
    tcase_add_test(tc, test_ngrams_deterministic);
    tcase_add_test(tc, test_char_ngrams_across_glue);
    tcase_add_test(tc, test_char_ngrams_thai_glue);
    tcase_add_test(tc, test_ngrams_punct);
    tcase_add_test(tc, test_is_punct);
    tc = tcase_new(s, "tfidf");
    tcase_add_test(tc, test_vocab_min_df_and_idf);
    tcase_add_test(tc, test_vocab_max_features);
    tcase_add_test(tc, test_vocab_word_and_char_parts);
    tcase_add_test(tc, test_tfidf_rows_unit_norm);
    tcase_add_test(tc, test_tfidf_values);
    tcase_add_test(tc, test_tfidf_norm_one_kind_missing);
    tcase_add_test(tc, test_tfidf_threads_identical);
    return s;
}
