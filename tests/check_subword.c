/* tests/check_subword.c — subword vocabularies: BPE merges by hand, unigram
 * Viterbi against brute force, byte fallback, the file format, determinism. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "tests/suites.h"
#include "tests/testutil.h"
#include "tokenizer/subword.h"

#define MARK TCAT_SUBWORD_MARK

/* ---- helpers ------------------------------------------------------------------ */

static tcat_subword *train_words(const char *const *words, const uint64_t *counts, size_t n,
                                 tcat_subword_type type, size_t size)
{
    tcat_wordcount *list = calloc(n ? n : 1, sizeof *list);
    ck_assert_ptr_nonnull(list);
    for (size_t i = 0; i < n; i++)
        list[i] = (tcat_wordcount){words[i], strlen(words[i]), counts ? counts[i] : 1};
    tcat_subword_params p;
    tcat_subword_params_default(&p);
    p.type = type;
    p.size = size;
    tcat_subword *v = NULL;
    tcat_error err = {0};
    tcat_status st = tcat_subword_train(&v, list, n, &p, &err);
    free(list);
    ck_assert_msg(st == TCAT_OK, "train: %s", err.msg);
    return v;
}

static tcat_subword *parse_ok(const char *text)
{
    tcat_subword *v = NULL;
    tcat_error err = {0};
    tcat_status st = tcat_subword_parse(&v, text, strlen(text), "test.vocab", &err);
    ck_assert_msg(st == TCAT_OK, "parse: %s", err.msg);
    return v;
}

/* The pieces of word joined by single spaces (ring storage). */
static const char *pieces_n(const tcat_subword *v, const char *word, size_t len)
{
    tcat_buf b = {0};
    ck_assert_int_eq(tcat_subword_append_pieces(v, word, len, &b), TCAT_OK);
    const char *s = ring_copy(b.data ? b.data : "", b.len);
    tcat_buf_free(&b);
    return s;
}

static const char *pieces(const tcat_subword *v, const char *word)
{
    return pieces_n(v, word, strlen(word));
}

/* encode then decode must give the word back; returns the piece count */
static size_t round_trip(const tcat_subword *v, const char *word, size_t len)
{
    size_t max = TCAT_SUBWORD_MAX_PIECES(len);
    int32_t *ids = malloc(max * sizeof *ids);
    ck_assert_ptr_nonnull(ids);
    size_t n;
    ck_assert_int_eq(tcat_subword_encode(v, word, len, ids, max, &n), TCAT_OK);
    ck_assert_uint_le(n, max);
    for (size_t i = 0; i < n; i++)
        ck_assert(ids[i] >= 0 && (size_t)ids[i] < tcat_subword_size(v));
    tcat_buf b = {0};
    ck_assert_int_eq(tcat_subword_decode(v, ids, n, &b), TCAT_OK);
    ck_assert_uint_eq(b.len, len);
    ck_assert(len == 0 || memcmp(b.data, word, len) == 0);
    tcat_buf_free(&b);
    free(ids);
    return n;
}

static const char *format(const tcat_subword *v)
{
    tcat_buf b = {0};
    ck_assert_int_eq(tcat_subword_format(v, &b), TCAT_OK);
    const char *s = ring_copy(b.data, b.len);
    tcat_buf_free(&b);
    return s;
}

/* A synthetic vocabulary: prefixes x stems x suffixes, Zipf-like counts,
 * and a few words in other scripts. */
typedef struct corpus {
    char **words;
    uint64_t *counts;
    size_t n;
} corpus;

static corpus make_corpus(void)
{
    static const char *pre[] = {"", "un", "re", "dis", "over", "pre"};
    static const char *stem[] = {"play", "work", "form", "act", "view", "think", "build",
                                 "read", "move", "count", "light", "turn", "cover", "load"};
    static const char *suf[] = {"", "s", "ed", "ing", "er", "ers", "able", "ment"};
    static const char *other[] = {"酒店", "房间", "服务", "不错", "酒店的", "café", "naïve",
                                  "straße", "москва", "привет", "مرحبا", "สวัสดี", "2024",
                                  "3.14", "x\\y", "a b"};
    size_t np = sizeof pre / sizeof *pre, ns = sizeof stem / sizeof *stem,
           nx = sizeof suf / sizeof *suf, no = sizeof other / sizeof *other;
    corpus c = {0};
    c.n = np * ns * nx + no;
    c.words = calloc(c.n, sizeof *c.words);
    c.counts = calloc(c.n, sizeof *c.counts);
    size_t k = 0;
    for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < ns; j++)
            for (size_t x = 0; x < nx; x++) {
                size_t len = strlen(pre[i]) + strlen(stem[j]) + strlen(suf[x]) + 1;
                c.words[k] = malloc(len);
                snprintf(c.words[k], len, "%s%s%s", pre[i], stem[j], suf[x]);
                c.counts[k] = 1 + 1000 / (1 + i * 3 + x * 2 + j);
                k++;
            }
    for (size_t i = 0; i < no; i++, k++) {
        c.words[k] = strdup(other[i]);
        c.counts[k] = 500 + i;
    }
    return c;
}

static void free_corpus(corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->words[i]);
    free(c->words);
    free(c->counts);
}

static tcat_subword *train_corpus(const corpus *c, tcat_subword_type type, size_t size)
{
    return train_words((const char *const *)c->words, c->counts, c->n, type, size);
}

/* ---- word counts ----------------------------------------------------------------- */

START_TEST(test_wordcounts)
{
    tcat_wordcounts *wc;
    ck_assert_int_eq(tcat_wordcounts_init(&wc), TCAT_OK);
    ck_assert_int_eq(tcat_wordcounts_add(wc, "the", 3, 1), TCAT_OK);
    ck_assert_int_eq(tcat_wordcounts_add(wc, "cat", 3, 2), TCAT_OK);
    ck_assert_int_eq(tcat_wordcounts_add(wc, "the", 3, 4), TCAT_OK);
    ck_assert_int_eq(tcat_wordcounts_add(wc, "", 0, 1), TCAT_OK);
    /* many distinct words: the table grows */
    char w[16];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(w, sizeof w, "w%d", i);
        ck_assert_int_eq(tcat_wordcounts_add(wc, w, (size_t)n, 1), TCAT_OK);
    }
    ck_assert_uint_eq(tcat_wordcounts_size(wc), 5003);
    ck_assert_uint_eq(tcat_wordcounts_total(wc), 5008);
    const tcat_wordcount *list;
    size_t n;
    ck_assert_int_eq(tcat_wordcounts_list(wc, &list, &n), TCAT_OK);
    ck_assert_uint_eq(n, 5003);
    ck_assert_uint_eq(list[0].len, 3);
    ck_assert(memcmp(list[0].word, "the", 3) == 0);
    ck_assert_uint_eq(list[0].count, 5);
    ck_assert_uint_eq(list[1].count, 2);
    ck_assert_uint_eq(list[2].len, 0);
    ck_assert(memcmp(list[4999 + 3].word, "w4999", 5) == 0);
    tcat_wordcounts_free(&wc);
    ck_assert_ptr_null(wc);
    tcat_wordcounts_free(&wc);
}
END_TEST

/* ---- BPE ---------------------------------------------------------------------------- */

/* Sennrich et al.'s example. Words are "▁low" x5, "▁lower" x2, "▁newest"
 * x6, "▁widest" x3. Base symbols by count, ties by bytes: e 17, w 16,
 * ▁ 16, s 9, t 9, l 7, o 7, n 6, d 3, i 3, r 2 (ids 256..266). Pairs:
 * es 9 and st 9 tie, e has the lower id: e+s; then es+t 9; then ▁l, lo,
 * ow tie at 7: ▁ has the lowest id: ▁+l, then o+w (o below ▁l), ▁l+ow;
 * then at 6: e+w (e lowest), ▁+n, ew+est, ▁n+ewest; then at 3: w+i. */
static const char *const sennrich[] = {"low", "lower", "newest", "widest"};
static const uint64_t sennrich_counts[] = {5, 2, 6, 3};

START_TEST(test_bpe_known_merges)
{
    tcat_subword *v = train_words(sennrich, sennrich_counts, 4, TCAT_SUBWORD_BPE, 21);
    static const char *const want[][2] = {
        {"e", "s"}, {"es", "t"}, {MARK, "l"}, {"o", "w"}, {MARK "l", "ow"},
        {"e", "w"}, {MARK, "n"}, {"ew", "est"}, {MARK "n", "ewest"}, {"w", "i"},
    };
    size_t nm = sizeof want / sizeof *want;
    ck_assert_uint_eq(tcat_subword_size(v), 256 + 21);
    ck_assert_uint_eq(tcat_subword_nmerges(v), nm);
    for (size_t k = 0; k < nm; k++) {
        int32_t l, r, z;
        tcat_subword_merge(v, k, &l, &r, &z);
        size_t ll, rl, zl;
        const char *ls = tcat_subword_piece(v, l, &ll), *rs = tcat_subword_piece(v, r, &rl),
                   *zs = tcat_subword_piece(v, z, &zl);
        ck_assert_msg(ll == strlen(want[k][0]) && memcmp(ls, want[k][0], ll) == 0 &&
                          rl == strlen(want[k][1]) && memcmp(rs, want[k][1], rl) == 0,
                      "merge %zu is '%.*s' + '%.*s', expected '%s' + '%s'", k, (int)ll, ls,
                      (int)rl, rs, want[k][0], want[k][1]);
        ck_assert_uint_eq(zl, ll + rl);
        ck_assert(memcmp(zs, ls, ll) == 0 && memcmp(zs + ll, rs, rl) == 0);
        ck_assert_float_eq(tcat_subword_score(v, z), -(float)(k + 1));
    }
    /* the base symbols, by count then bytes */
    static const char *const base[] = {"e", "w", MARK, "s", "t", "l", "o", "n", "d", "i", "r"};
    for (size_t k = 0; k < 11; k++)
        ck_assert_int_eq(tcat_subword_find(v, base[k], strlen(base[k])), 256 + (int)k);
    /* encoding applies the merges by rank */
    ck_assert_str_eq(pieces(v, "lowest"), MARK "low est");
    ck_assert_str_eq(pieces(v, "newer"), MARK "n ew e r");
    ck_assert_str_eq(pieces(v, "newest"), MARK "newest");
    ck_assert_str_eq(pieces(v, "widest"), MARK " wi d est");
    ck_assert_str_eq(pieces(v, "slow"), MARK " s l ow");
    ck_assert_str_eq(pieces(v, "eees"), MARK " e e es");
    tcat_subword_free(&v);
    ck_assert_ptr_null(v);
}
END_TEST

START_TEST(test_bpe_overlapping_pairs)
{
    /* "▁aaaa": a+a counts 3 (overlapping) and merges left to right into
     * ▁ aa aa; then ▁+aa and aa+aa tie at 1, ▁ (id 257) before aa (258):
     * ▁aa; then ▁aa+aa */
    static const char *const w[] = {"aaaa"};
    tcat_subword *v = train_words(w, NULL, 1, TCAT_SUBWORD_BPE, 5);
    ck_assert_uint_eq(tcat_subword_nmerges(v), 3);
    ck_assert_str_eq(pieces(v, "aaaa"), MARK "aaaa");
    ck_assert_str_eq(pieces(v, "aaa"), MARK "aa a");
    ck_assert_str_eq(pieces(v, "aaaaa"), MARK "aaaa a");
    ck_assert_str_eq(pieces(v, "aaaaaaa"), MARK "aaaa aa a");
    tcat_subword_free(&v);
}
END_TEST

START_TEST(test_bpe_stops_without_pairs)
{
    /* two words of two characters: few pairs to merge, the vocabulary ends
     * smaller than asked */
    static const char *const w[] = {"ab", "ab"};
    tcat_subword *v = train_words(w, NULL, 2, TCAT_SUBWORD_BPE, 1000);
    ck_assert_uint_lt(tcat_subword_size(v), 256 + 10);
    ck_assert_str_eq(pieces(v, "ab"), MARK "ab");
    tcat_subword_free(&v);
}
END_TEST

START_TEST(test_bpe_max_piece)
{
    corpus c = make_corpus();
    tcat_wordcount *list = calloc(c.n, sizeof *list);
    for (size_t i = 0; i < c.n; i++)
        list[i] = (tcat_wordcount){c.words[i], strlen(c.words[i]), c.counts[i]};
    tcat_subword_params p;
    tcat_subword_params_default(&p);
    p.type = TCAT_SUBWORD_BPE;
    p.size = 500;
    p.max_piece_chars = 3;
    tcat_subword *v;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_subword_train(&v, list, c.n, &p, &err), TCAT_OK);
    for (size_t id = 256; id < tcat_subword_size(v); id++) {
        size_t len;
        const char *s = tcat_subword_piece(v, (int32_t)id, &len);
        size_t chars = 0;
        for (size_t i = 0; i < len; i++)
            chars += ((unsigned char)s[i] & 0xC0) != 0x80;
        ck_assert_uint_le(chars, 3);
    }
    tcat_subword_free(&v);
    free(list);
    free_corpus(&c);
}
END_TEST

/* ---- unigram --------------------------------------------------------------------------- */

START_TEST(test_unigram_viterbi_hand_made)
{
    /* "▁abc": ▁ab c = -3, ▁ a bc = -3.5, ▁a bc = -1.7 (best), ▁ abc none;
     * greedy longest match would take ▁ab first */
    tcat_subword *v = parse_ok("tcat-vocab 1 unigram 8\n"
                               "\\xE2\\x96\\x81\t-1\n" /* ▁, escaped */
                               "a\t-2\n"
                               "b\t-2\n"
                               "c\t-2\n"
                               "ab\t-1.5\n"
                               "bc\t-0.5\n"
                               MARK "a\t-1.2\n"
                               MARK "ab\t-1.0\n");
    ck_assert_str_eq(pieces(v, "abc"), MARK "a bc");
    ck_assert_str_eq(pieces(v, "ab"), MARK "ab");      /* -1.0 beats ▁a b (-3.2), ▁ ab (-2.5) */
    ck_assert_str_eq(pieces(v, "bcbc"), MARK " bc bc");
    ck_assert_str_eq(pieces(v, "cab"), MARK " c ab");  /* -4.5 against ▁ c a b -7 */
    /* ids follow the file */
    ck_assert_int_eq(tcat_subword_find(v, MARK, 3), 256);
    ck_assert_int_eq(tcat_subword_find(v, "bc", 2), 256 + 5);
    ck_assert_float_eq(tcat_subword_score(v, 256 + 5), -0.5f);
    /* unknown characters: byte pieces, charged 10 below the least likely */
    ck_assert_float_eq(tcat_subword_score(v, 0x41), -12.0f);
    ck_assert_str_eq(pieces(v, "aXb"), MARK "a <0x58> b");
    tcat_subword_free(&v);
}
END_TEST

/* The best score over all segmentations of m[i..n), by brute force. */
static double brute_best(const tcat_subword *v, const char *m, size_t i, size_t n)
{
    if (i == n)
        return 0;
    double best = -INFINITY;
    for (size_t j = i + 1; j <= n; j++) {
        int32_t id = tcat_subword_find(v, m + i, j - i);
        double s;
        if (id >= 0)
            s = tcat_subword_score(v, id);
        else if (j == i + 1 && tcat_subword_find(v, m + i, 1) < 0)
            s = tcat_subword_score(v, 0); /* byte fallback of an unknown character */
        else
            continue;
        double rest = brute_best(v, m, j, n);
        if (s + rest > best)
            best = s + rest;
    }
    return best;
}

START_TEST(test_unigram_viterbi_brute_force)
{
    /* random vocabularies over {▁... no: a, b, c} with random scores;
     * every encoding's score must equal the brute-force best */
    uint64_t rng = 7;
    for (int round = 0; round < 30; round++) {
        tcat_buf text = {0};
        static const char *const cand[] = {"a", "b", "c", "ab", "ba", "bc", "ca", "abc",
                                           "bca", "cab", "aa", "bb", "abca", MARK, MARK "a",
                                           MARK "b", MARK "ab", MARK "ca"};
        size_t nc = sizeof cand / sizeof *cand;
        char line[128];
        int n = snprintf(line, sizeof line, "tcat-vocab 1 unigram %zu\n", nc);
        tcat_buf_append(&text, line, (size_t)n);
        for (size_t k = 0; k < nc; k++) {
            double s = -0.5 - (double)rng_below(&rng, 1000) / 100.0;
            if (k >= 3 && rng_below(&rng, 4) == 0)
                s = -20; /* some pieces nearly useless */
            n = snprintf(line, sizeof line, "%s\t%.3f\n", cand[k], s);
            tcat_buf_append(&text, line, (size_t)n);
        }
        tcat_buf_append(&text, "", 1);
        tcat_subword *v = parse_ok(text.data);
        tcat_buf_free(&text);
        for (int t = 0; t < 40; t++) {
            char w[12];
            size_t len = 1 + rng_below(&rng, 9);
            for (size_t i = 0; i < len; i++)
                w[i] = "abcd"[rng_below(&rng, 4)]; /* d: unknown */
            char m[16];
            memcpy(m, MARK, 3);
            memcpy(m + 3, w, len);
            int32_t ids[32];
            size_t k;
            ck_assert_int_eq(tcat_subword_encode(v, w, len, ids, 32, &k), TCAT_OK);
            double s = 0;
            for (size_t i = 0; i < k; i++)
                s += tcat_subword_score(v, ids[i]);
            /* a byte-fallback character of one byte is charged once */
            double want = brute_best(v, m, 0, len + 3);
            ck_assert_msg(fabs(s - want) < 1e-4, "'%.*s': Viterbi %g, brute force %g",
                          (int)len, w, s, want);
            round_trip(v, w, len);
        }
        tcat_subword_free(&v);
    }
}
END_TEST

START_TEST(test_unigram_trained)
{
    corpus c = make_corpus();
    tcat_subword *v = train_corpus(&c, TCAT_SUBWORD_UNIGRAM, 300);
    ck_assert_uint_le(tcat_subword_size(v), 256 + 300);
    ck_assert_uint_gt(tcat_subword_size(v), 256 + 100);
    /* every base character is a piece */
    ck_assert_int_ge(tcat_subword_find(v, MARK, 3), 256);
    ck_assert_int_ge(tcat_subword_find(v, "酒", 3), 256);
    /* frequent words are one or two pieces; every word round-trips */
    ck_assert_uint_le(round_trip(v, "play", 4), 2);
    for (size_t i = 0; i < c.n; i++)
        round_trip(v, c.words[i], strlen(c.words[i]));
    /* scores are log probabilities, in file order from the highest */
    float prev = 0;
    for (size_t id = 256; id < tcat_subword_size(v); id++) {
        float s = tcat_subword_score(v, (int32_t)id);
        ck_assert(s < 0 && s <= prev);
        prev = s;
    }
    tcat_subword_free(&v);
    free_corpus(&c);
}
END_TEST

START_TEST(test_unigram_small_size)
{
    /* size below the number of characters: the most frequent characters */
    corpus c = make_corpus();
    tcat_subword *v = train_corpus(&c, TCAT_SUBWORD_UNIGRAM, 5);
    ck_assert_uint_eq(tcat_subword_size(v), 256 + 5);
    for (size_t i = 0; i < c.n; i++)
        round_trip(v, c.words[i], strlen(c.words[i]));
    tcat_subword_free(&v);
    free_corpus(&c);
}
END_TEST

/* ---- byte fallback ----------------------------------------------------------------------- */

START_TEST(test_byte_fallback)
{
    corpus c = make_corpus();
    for (int t = 0; t < 2; t++) {
        tcat_subword *v = train_corpus(&c, t ? TCAT_SUBWORD_BPE : TCAT_SUBWORD_UNIGRAM, 200);
        /* characters never seen: their UTF-8 bytes */
        const char *p = pieces(v, "Ω");
        ck_assert_msg(strstr(p, "<0xCE> <0xA9>") != NULL, "pieces of Ω: %s", p);
        round_trip(v, "Ωmega", 6);
        /* invalid UTF-8, NUL, controls, the mark itself inside a word */
        round_trip(v, "a\xff\xfe" "b", 4);
        round_trip(v, "\xe2\x96", 2);
        round_trip(v, "x\0y", 3);
        round_trip(v, "\t\r\n", 3);
        round_trip(v, MARK MARK "x" MARK, 10);
        round_trip(v, "", 0);
        /* random bytes, short and long (the heap path) */
        uint64_t rng = 99 + (uint64_t)t;
        char w[3000];
        for (int k = 0; k < 300; k++) {
            size_t len = k < 280 ? rng_below(&rng, 40) : 200 + rng_below(&rng, 2800);
            for (size_t i = 0; i < len; i++) {
                uint64_t r = rng_below(&rng, 10);
                w[i] = r < 6 ? "plaything"[rng_below(&rng, 9)] : (char)rng_below(&rng, 256);
            }
            round_trip(v, w, len);
        }
        /* the byte pieces' names */
        size_t len;
        ck_assert_str_eq(tcat_subword_piece(v, 0xAB, &len), "<0xAB>");
        ck_assert_uint_eq(len, 6);
        ck_assert_ptr_null(tcat_subword_piece(v, -1, &len));
        ck_assert_ptr_null(tcat_subword_piece(v, (int32_t)tcat_subword_size(v), &len));
        tcat_subword_free(&v);
    }
    free_corpus(&c);
}
END_TEST

START_TEST(test_encode_max)
{
    corpus c = make_corpus();
    tcat_subword *v = train_corpus(&c, TCAT_SUBWORD_BPE, 100);
    int32_t all[64], few[2] = {-7, -7};
    size_t n, m;
    ck_assert_int_eq(tcat_subword_encode(v, "Ωxyz", 5, all, 64, &n), TCAT_OK);
    ck_assert_uint_gt(n, 2);
    /* a short array: the count still comes back, only max ids are written */
    ck_assert_int_eq(tcat_subword_encode(v, "Ωxyz", 5, few, 2, &m), TCAT_OK);
    ck_assert_uint_eq(m, n);
    ck_assert_int_eq(few[0], all[0]);
    ck_assert_int_eq(few[1], all[1]);
    ck_assert_int_eq(tcat_subword_encode(v, "Ωxyz", 5, NULL, 0, &m), TCAT_OK);
    ck_assert_uint_eq(m, n);
    int32_t bad = 99999;
    tcat_buf b = {0};
    ck_assert_int_eq(tcat_subword_decode(v, &bad, 1, &b), TCAT_ERR_USAGE);
    tcat_buf_free(&b);
    tcat_subword_free(&v);
    free_corpus(&c);
}
END_TEST

START_TEST(test_long_words)
{
    /* words far past the stack buffers: every 4-byte stem is one piece */
    tcat_subword *uni = parse_ok("tcat-vocab 1 unigram 7\n"
                                 "\xE2\x96\x81\t-2\nplay\t-3\nwork\t-3\nform\t-3\n"
                                 "p\t-9\nl\t-9\na\t-9\n");
    tcat_subword *bpe = parse_ok("tcat-vocab 1 bpe 20\n"
                                 "\xE2\x96\x81\np\nl\na\ny\nw\no\nr\nk\nf\nm\n"
                                 "p\tl\npl\ta\npla\ty\nw\to\nwo\tr\nwor\tk\n"
                                 "f\to\nfo\tr\nfor\tm\n");
    tcat_subword *vs[2] = {uni, bpe};
    size_t len = 120000;
    char *w = malloc(len);
    for (size_t i = 0; i < len; i++)
        w[i] = "playworkform"[i % 12];
    for (int t = 0; t < 2; t++) {
        ck_assert_uint_eq(round_trip(vs[t], w, len), 1 + len / 4);
        ck_assert_uint_eq(round_trip(vs[t], w, 4 * 40), 1 + 40); /* just past the stack */
        ck_assert_uint_eq(round_trip(vs[t], w, 4 * 30), 1 + 30); /* on the stack */
    }
    /* one repeated byte the vocabulary lacks: all bytes */
    memset(w, 'z', len);
    for (int t = 0; t < 2; t++)
        ck_assert_uint_eq(round_trip(vs[t], w, len), 1 + len);
    free(w);
    tcat_subword_free(&uni);
    tcat_subword_free(&bpe);
}
END_TEST

START_TEST(test_cache)
{
    corpus c = make_corpus();
    for (int t = 0; t < 2; t++) {
        tcat_subword *v = train_corpus(&c, t ? TCAT_SUBWORD_BPE : TCAT_SUBWORD_UNIGRAM, 200);
        tcat_subword_cache *cache;
        /* 50 words at most: the cache empties itself many times below */
        ck_assert_int_eq(tcat_subword_cache_init(&cache, v, 50), TCAT_OK);
        uint64_t rng = 11;
        char w[600];
        for (int k = 0; k < 3000; k++) {
            size_t len;
            if (k % 7 == 0) { /* random bytes, sometimes past the cached length */
                len = rng_below(&rng, k % 21 == 0 ? 600 : 30);
                for (size_t i = 0; i < len; i++)
                    w[i] = (char)rng_below(&rng, 256);
            } else { /* a corpus word, often again */
                const char *s = c.words[rng_below(&rng, k % 2 ? 20 : c.n)];
                len = strlen(s);
                memcpy(w, s, len);
            }
            int32_t ids[700];
            size_t n;
            ck_assert_int_eq(tcat_subword_encode(v, w, len, ids, 700, &n), TCAT_OK);
            const int32_t *cids;
            size_t cn;
            ck_assert_int_eq(tcat_subword_cache_encode(cache, w, len, &cids, &cn), TCAT_OK);
            ck_assert_uint_eq(cn, n);
            ck_assert(n == 0 || memcmp(cids, ids, n * sizeof *ids) == 0);
            tcat_buf a = {0}, b = {0};
            ck_assert_int_eq(tcat_subword_append_pieces(v, w, len, &a), TCAT_OK);
            ck_assert_int_eq(tcat_subword_cache_append_pieces(cache, w, len, &b), TCAT_OK);
            ck_assert_uint_eq(a.len, b.len);
            ck_assert(a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
            tcat_buf_free(&a);
            tcat_buf_free(&b);
        }
        tcat_subword_cache_free(&cache);
        ck_assert_ptr_null(cache);
        tcat_subword_cache_free(&cache);
        tcat_subword_free(&v);
    }
    free_corpus(&c);
}
END_TEST

/* ---- files ------------------------------------------------------------------------------- */

START_TEST(test_save_load_round_trip)
{
    corpus c = make_corpus();
    char dir[] = "/tmp/tcat-subword.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/v.vocab", dir);
    for (int t = 0; t < 2; t++) {
        tcat_subword *v = train_corpus(&c, t ? TCAT_SUBWORD_BPE : TCAT_SUBWORD_UNIGRAM, 300);
        tcat_error err = {0};
        ck_assert_msg(tcat_subword_save(v, path, &err) == TCAT_OK, "%s", err.msg);
        tcat_subword *w = NULL;
        ck_assert_msg(tcat_subword_load(&w, path, &err) == TCAT_OK, "%s", err.msg);
        ck_assert_str_eq(format(w), format(v));
        ck_assert_int_eq(tcat_subword_get_type(w), tcat_subword_get_type(v));
        ck_assert_uint_eq(tcat_subword_size(w), tcat_subword_size(v));
        for (size_t i = 0; i < c.n; i++)
            ck_assert_str_eq(pieces(w, c.words[i]), pieces(v, c.words[i]));
        /* the escapes: the word with a backslash and the one with a space */
        const char *text = format(v);
        ck_assert_msg(strstr(text, "\\\\") != NULL, "no escaped backslash");
        ck_assert_msg(strstr(text, "\\x20") != NULL, "no escaped space");
        tcat_subword_free(&w);
        tcat_subword_free(&v);
        /* no temporary file left behind */
        char cmd[300];
        snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
        ck_assert_int_eq(system(cmd), 0);
    }
    /* a directory that does not exist: an I/O error naming the path */
    tcat_subword *v = train_corpus(&c, TCAT_SUBWORD_BPE, 50);
    tcat_error err = {0};
    ck_assert_int_eq(tcat_subword_save(v, "/nonexistent/dir/v.vocab", &err), TCAT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/dir/v.vocab"));
    tcat_subword *w = NULL;
    ck_assert_int_eq(tcat_subword_load(&w, "/nonexistent/v.vocab", &err), TCAT_ERR_IO);
    ck_assert_ptr_null(w);
    tcat_subword_free(&v);
    unlink(path);
    rmdir(dir);
    free_corpus(&c);
}
END_TEST

START_TEST(test_escapes)
{
    /* every byte value in a piece round-trips through the file */
    tcat_buf text = {0};
    tcat_buf_append(&text, "tcat-vocab 1 unigram 256\n", 25);
    char line[64];
    for (int b = 0; b < 256; b++) {
        int n = snprintf(line, sizeof line, "p\\x%02X\t-%d\n", b, b + 1);
        tcat_buf_append(&text, line, (size_t)n);
    }
    tcat_buf_append(&text, "", 1);
    tcat_subword *v = parse_ok(text.data);
    tcat_buf_free(&text);
    const char *again = format(v);
    tcat_subword *w = parse_ok(again);
    ck_assert_str_eq(format(w), again);
    for (int b = 0; b < 256; b++) {
        char p[2] = {'p', (char)b};
        ck_assert_int_eq(tcat_subword_find(w, p, 2), 256 + b);
    }
    /* printable ASCII and valid UTF-8 stand for themselves */
    ck_assert_ptr_nonnull(strstr(again, "\npA\t"));
    ck_assert_ptr_nonnull(strstr(again, "\np\\x20\t"));
    ck_assert_ptr_nonnull(strstr(again, "\np\\\\\t"));
    ck_assert_ptr_nonnull(strstr(again, "\np\\xFF\t"));
    tcat_subword_free(&v);
    tcat_subword_free(&w);
    /* CR LF line ends are read too */
    v = parse_ok("tcat-vocab 1 bpe 3\r\na\r\nb\r\na\tb\r\n");
    ck_assert_str_eq(pieces(v, "ab"), "<0xE2> <0x96> <0x81> ab");
    tcat_subword_free(&v);
}
END_TEST

START_TEST(test_malformed)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"", "test.vocab:1: empty file"},
        {"hello\n", "test.vocab:1: not a tcat vocabulary"},
        {"tcat-vocab\n", "test.vocab:1: bad header"},
        {"tcat-vocab 2 unigram 1\na\t-1\n", "test.vocab:1: vocabulary format version 2"},
        {"tcat-vocab 1 trigram 1\n", "test.vocab:1: unknown vocabulary type 'trigram'"},
        {"tcat-vocab 1 unigram x\n", "test.vocab:1: bad entry count 'x'"},
        {"tcat-vocab 1 unigram 1 extra\n", "test.vocab:1: bad header"},
        {"tcat-vocab 1 unigram 3\na\t-1\nb\t-2\n", "test.vocab:4: truncated: the header says 3"},
        {"tcat-vocab 1 unigram 200000000\na\t-1\n", "test.vocab:1: truncated: the header says 200000000"},
        {"tcat-vocab 1 unigram 999999999999\n", "test.vocab:1: bad entry count"},
        {"tcat-vocab 1 unigram 1\na\t-1\nb\t-2\n", "test.vocab:3: more entries than"},
        {"tcat-vocab 1 unigram 2\na\t-1\na\t-2\n", "test.vocab:3: piece repeated (first on line 2)"},
        {"tcat-vocab 1 unigram 2\na\t-1\nb\tnan\n", "test.vocab:3: bad score 'nan'"},
        {"tcat-vocab 1 unigram 1\na\t1e999\n", "test.vocab:2: bad score"},
        {"tcat-vocab 1 unigram 1\na\t-1x\n", "test.vocab:2: bad score"},
        {"tcat-vocab 1 unigram 1\na\t\n", "test.vocab:2: bad score"},
        {"tcat-vocab 1 unigram 1\na\n", "test.vocab:2: want PIECE<TAB>SCORE"},
        {"tcat-vocab 1 unigram 1\n\\q\t-1\n", "test.vocab:2: bad escape"},
        {"tcat-vocab 1 unigram 1\n\\x4\t-1\n", "test.vocab:2: bad escape"},
        {"tcat-vocab 1 unigram 1\n\t-1\n", "test.vocab:2: empty piece"},
        {"tcat-vocab 1 unigram 1\na\x01\t-1\n", "test.vocab:2: raw control byte"},
        {"tcat-vocab 1 bpe 2\na\na\tb\n", "test.vocab:3: merge of a piece not defined"},
        {"tcat-vocab 1 bpe 1\nab\n", "test.vocab:2: a base symbol must be one UTF-8 character"},
        {"tcat-vocab 1 bpe 1\n\\xFF\n", "test.vocab:2: a base symbol must be one"},
        {"tcat-vocab 1 bpe 2\na\na\n", "test.vocab:3: base symbol repeated"},
        {"tcat-vocab 1 bpe 4\na\nb\na\tb\na\tb\n", "test.vocab:5: merge repeated (first on line 4)"},
        {"tcat-vocab 1 bpe 3\na\nb\na\tb\tc\n", "test.vocab:4: want LEFT<TAB>RIGHT"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tcat_subword *v = NULL;
        tcat_error err = {0};
        tcat_status st = tcat_subword_parse(&v, bad[i].text, strlen(bad[i].text), "test.vocab",
                                            &err);
        ck_assert_msg(st == TCAT_ERR_MODEL, "case %zu: status %d (%s)", i, st, err.msg);
        ck_assert_ptr_null(v);
        ck_assert_msg(strncmp(err.msg, bad[i].msg, strlen(bad[i].msg)) == 0,
                      "case %zu: '%s', expected '%s...'", i, err.msg, bad[i].msg);
    }
    /* and a good one with no entries: only bytes */
    tcat_subword *v = parse_ok("tcat-vocab 1 unigram 0\n");
    ck_assert_str_eq(pieces(v, "hi"), "<0xE2> <0x96> <0x81> <0x68> <0x69>");
    round_trip(v, "hi", 2);
    tcat_subword_free(&v);
    v = parse_ok("tcat-vocab 1 bpe 0\n");
    ck_assert_str_eq(pieces(v, "hi"), "<0xE2> <0x96> <0x81> <0x68> <0x69>");
    tcat_subword_free(&v);
}
END_TEST

/* ---- determinism and parameters ------------------------------------------------------------ */

START_TEST(test_determinism)
{
    corpus c = make_corpus();
    /* the same counts in another order */
    corpus d = make_corpus();
    uint64_t rng = 5;
    for (size_t i = d.n; i > 1; i--) {
        size_t j = rng_below(&rng, i);
        char *tw = d.words[i - 1];
        d.words[i - 1] = d.words[j];
        d.words[j] = tw;
        uint64_t tc = d.counts[i - 1];
        d.counts[i - 1] = d.counts[j];
        d.counts[j] = tc;
    }
    for (int t = 0; t < 2; t++) {
        tcat_subword_type type = t ? TCAT_SUBWORD_BPE : TCAT_SUBWORD_UNIGRAM;
        tcat_subword *a = train_corpus(&c, type, 250);
        tcat_subword *b = train_corpus(&c, type, 250);
        tcat_subword *x = train_corpus(&d, type, 250);
        ck_assert_str_eq(format(a), format(b));
        ck_assert_str_eq(format(a), format(x));
        tcat_subword_free(&a);
        tcat_subword_free(&b);
        tcat_subword_free(&x);
    }
    /* duplicates add up */
    static const char *const w1[] = {"abc", "abd", "abc"};
    static const uint64_t c1[] = {2, 1, 3};
    static const char *const w2[] = {"abd", "abc"};
    static const uint64_t c2[] = {1, 5};
    tcat_subword *a = train_words(w1, c1, 3, TCAT_SUBWORD_BPE, 10);
    tcat_subword *b = train_words(w2, c2, 2, TCAT_SUBWORD_BPE, 10);
    ck_assert_str_eq(format(a), format(b));
    tcat_subword_free(&a);
    tcat_subword_free(&b);
    free_corpus(&c);
    free_corpus(&d);
}
END_TEST

START_TEST(test_bad_params)
{
    static const char *const w[] = {"a"};
    tcat_wordcount list[] = {{w[0], 1, 1}};
    tcat_subword_params p;
    tcat_subword *v = NULL;
    tcat_error err = {0};
    tcat_subword_params_default(&p);
    ck_assert_int_eq(p.size, 8000);
    ck_assert_int_eq(p.type, TCAT_SUBWORD_UNIGRAM);
    p.size = 0;
    ck_assert_int_eq(tcat_subword_train(&v, list, 1, &p, &err), TCAT_ERR_USAGE);
    tcat_subword_params_default(&p);
    p.char_coverage = 1.5;
    ck_assert_int_eq(tcat_subword_train(&v, list, 1, &p, &err), TCAT_ERR_USAGE);
    tcat_subword_params_default(&p);
    p.max_piece_chars = 0;
    ck_assert_int_eq(tcat_subword_train(&v, list, 1, &p, &err), TCAT_ERR_USAGE);
    tcat_subword_params_default(&p);
    p.shrink = 1;
    ck_assert_int_eq(tcat_subword_train(&v, list, 1, &p, &err), TCAT_ERR_USAGE);
    tcat_subword_params_default(&p);
    ck_assert_int_eq(tcat_subword_train(&v, list, 0, &p, &err), TCAT_ERR_INPUT);
    list[0].count = 0;
    ck_assert_int_eq(tcat_subword_train(&v, list, 1, &p, &err), TCAT_ERR_INPUT);
    ck_assert_ptr_null(v);
    tcat_subword_type t;
    ck_assert_int_eq(tcat_subword_type_parse("bpe", &t, &err), TCAT_OK);
    ck_assert_int_eq(t, TCAT_SUBWORD_BPE);
    ck_assert_int_eq(tcat_subword_type_parse("wordpiece", &t, &err), TCAT_ERR_USAGE);
    ck_assert_str_eq(tcat_subword_type_name(TCAT_SUBWORD_UNIGRAM), "unigram");
}
END_TEST

START_TEST(test_coverage)
{
    /* one rare character below the coverage: left to byte fallback */
    static const char *const w[] = {"aaaa", "bbbb", "z"};
    static const uint64_t cnt[] = {1000, 1000, 1};
    tcat_wordcount list[3];
    for (int i = 0; i < 3; i++)
        list[i] = (tcat_wordcount){w[i], strlen(w[i]), cnt[i]};
    for (int t = 0; t < 2; t++) {
        tcat_subword_params p;
        tcat_subword_params_default(&p);
        p.type = t ? TCAT_SUBWORD_BPE : TCAT_SUBWORD_UNIGRAM;
        p.size = 50;
        p.char_coverage = 0.999;
        tcat_subword *v;
        tcat_error err = {0};
        ck_assert_int_eq(tcat_subword_train(&v, list, 3, &p, &err), TCAT_OK);
        ck_assert_int_eq(tcat_subword_find(v, "z", 1), -1);
        ck_assert_int_ge(tcat_subword_find(v, "a", 1), 256);
        ck_assert_str_eq(pieces(v, "z"), MARK " <0x7A>");
        tcat_subword_free(&v);
    }
}
END_TEST

START_TEST(test_degenerate_words)
{
    static const char *const sets[][3] = {
        {"", "", ""},                /* only empty words: the mark alone */
        {"\xff", "\xfe\xfe", ""},   /* invalid bytes never enter a piece */
        {"a", "a", "a"},             /* one character */
        {"\x00", "a\x00b", "x"},     /* NUL inside words */
    };
    size_t lens[][3] = {{0, 0, 0}, {1, 2, 0}, {1, 1, 1}, {1, 3, 1}};
    for (size_t k = 0; k < 4; k++) {
        tcat_wordcount list[3];
        for (int i = 0; i < 3; i++)
            list[i] = (tcat_wordcount){sets[k][i], lens[k][i], (uint64_t)i + 1};
        for (int t = 0; t < 2; t++) {
            tcat_subword_params p;
            tcat_subword_params_default(&p);
            p.type = t ? TCAT_SUBWORD_BPE : TCAT_SUBWORD_UNIGRAM;
            p.size = 100;
            tcat_subword *v;
            tcat_error err = {0};
            ck_assert_msg(tcat_subword_train(&v, list, 3, &p, &err) == TCAT_OK, "set %zu: %s", k,
                          err.msg);
            ck_assert_int_ge(tcat_subword_find(v, MARK, 3), 256);
            for (size_t id = 256; id < tcat_subword_size(v); id++) {
                size_t len;
                const char *s = tcat_subword_piece(v, (int32_t)id, &len);
                ck_assert_ptr_null(memchr(s, 0xFF, len));
                ck_assert_ptr_null(memchr(s, 0xFE, len));
            }
            for (int i = 0; i < 3; i++)
                round_trip(v, sets[k][i], lens[k][i]);
            /* the text of the file loads back */
            tcat_subword *w = parse_ok(format(v));
            ck_assert_str_eq(format(w), format(v));
            tcat_subword_free(&w);
            tcat_subword_free(&v);
        }
    }
}
END_TEST

Suite *subword_suite(void)
{
    Suite *s = suite_create("subword");
    TCase *tc = tcase_new(s, "bpe");
    tcase_add_checked_fixture(tc, NULL, testutil_teardown);
    tcase_add_test(tc, test_wordcounts);
    tcase_add_test(tc, test_bpe_known_merges);
    tcase_add_test(tc, test_bpe_overlapping_pairs);
    tcase_add_test(tc, test_bpe_stops_without_pairs);
    tcase_add_test(tc, test_bpe_max_piece);
    tc = tcase_new(s, "unigram");
    tcase_add_checked_fixture(tc, NULL, testutil_teardown);
    tcase_add_test(tc, test_unigram_viterbi_hand_made);
    tcase_add_test(tc, test_unigram_viterbi_brute_force);
    tcase_add_test(tc, test_unigram_trained);
    tcase_add_test(tc, test_unigram_small_size);
    tc = tcase_new(s, "encoding");
    tcase_add_checked_fixture(tc, NULL, testutil_teardown);
    tcase_add_test(tc, test_byte_fallback);
    tcase_add_test(tc, test_encode_max);
    tcase_add_test(tc, test_long_words);
    tcase_add_test(tc, test_cache);
    tc = tcase_new(s, "files");
    tcase_add_checked_fixture(tc, NULL, testutil_teardown);
    tcase_add_test(tc, test_save_load_round_trip);
    tcase_add_test(tc, test_escapes);
    tcase_add_test(tc, test_malformed);
    tc = tcase_new(s, "training");
    tcase_add_checked_fixture(tc, NULL, testutil_teardown);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_bad_params);
    tcase_add_test(tc, test_coverage);
    tcase_add_test(tc, test_degenerate_words);
    return s;
}
