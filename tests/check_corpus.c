/* tests/check_corpus.c — corpora/labels and corpora/corpus: label ids,
 * tokens and glue, labels of documents, the counted findings (empty,
 * duplicate, conflicting, repaired, unknown), clear, and reading a file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpora/corpus.h"
#include "corpora/labels.h"
#include "tests/suites.h"
#include "tests/synth.h"
#include "tests/testutil.h"

/* Token k of the corpus as a string (ring storage). */
static const char *tok_at(const tcat_corpus *c, size_t k)
{
    return ring_copy(c->text.data + c->tok[k].off, c->tok[k].len);
}

/* The tokens of document d joined with single spaces (ring storage). */
static const char *doc_tokens(const tcat_corpus *c, size_t d)
{
    size_t n;
    const tcat_span *t = tcat_corpus_tokens(c, d, &n);
    char buf[4096];
    size_t len = 0;
    for (size_t k = 0; k < n; k++) {
        if (k)
            buf[len++] = ' ';
        ck_assert_uint_lt(len + t[k].len, sizeof buf);
        memcpy(buf + len, c->text.data + t[k].off, t[k].len);
        len += t[k].len;
    }
    return ring_copy(buf, len);
}

static int32_t intern(tcat_labels *l, const char *s)
{
    int32_t id = -2;
    ck_assert_int_eq(tcat_labels_intern(l, s, strlen(s), &id), TCAT_OK);
    return id;
}

/* ---- labels -------------------------------------------------------------- */

START_TEST(test_labels_basic)
{
    tcat_labels *l;
    ck_assert_int_eq(tcat_labels_new(&l), TCAT_OK);
    ck_assert_uint_eq(tcat_labels_count(l), 0);
    ck_assert_int_eq(tcat_labels_find(l, "pos", 3), -1);
    ck_assert_int_eq(intern(l, "pos"), 0);
    ck_assert_int_eq(intern(l, "neg"), 1);
    ck_assert_int_eq(intern(l, "pos"), 0);
    ck_assert_int_eq(intern(l, "neutral"), 2);
    ck_assert_int_eq(intern(l, "neg"), 1);
    ck_assert_uint_eq(tcat_labels_count(l), 3);
    ck_assert_int_eq(tcat_labels_find(l, "neg", 3), 1);
    ck_assert_int_eq(tcat_labels_find(l, "neutral", 7), 2);
    ck_assert_int_eq(tcat_labels_find(l, "other", 5), -1);
    /* names are compared exactly: no case folding, and the length counts */
    ck_assert_int_eq(tcat_labels_find(l, "Pos", 3), -1);
    ck_assert_int_eq(tcat_labels_find(l, "po", 2), -1);
    ck_assert_int_eq(tcat_labels_find(l, "neutral", 3), -1);
    /* a name given by length, not NUL-terminated */
    int32_t id;
    ck_assert_int_eq(tcat_labels_intern(l, "negXYZ", 3, &id), TCAT_OK);
    ck_assert_int_eq(id, 1);
    ck_assert_int_eq(tcat_labels_intern(l, "posture", 4, &id), TCAT_OK);
    ck_assert_int_eq(id, 3);
    ck_assert_str_eq(tcat_labels_name(l, 3), "post");
    ck_assert_str_eq(tcat_labels_name(l, 0), "pos");
    ck_assert_str_eq(tcat_labels_name(l, 1), "neg");
    ck_assert_str_eq(tcat_labels_name(l, 2), "neutral");
    ck_assert_ptr_null(tcat_labels_name(l, 4));
    ck_assert_ptr_null(tcat_labels_name(l, -1));
    const char *const *names = tcat_labels_names(l);
    ck_assert_str_eq(names[0], "pos");
    ck_assert_str_eq(names[2], "neutral");
    ck_assert_uint_eq(tcat_labels_count(l), 4);
    tcat_labels_free(&l);
    ck_assert_ptr_null(l);
    tcat_labels_free(&l); /* NULL-safe */
    tcat_labels_free(NULL);
}
END_TEST

START_TEST(test_labels_many)
{
    tcat_labels *l;
    ck_assert_int_eq(tcat_labels_new(&l), TCAT_OK);
    enum { N = 5000 };
    char name[32];
    size_t bad = 0;
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "label-%d", i);
        int32_t id = -2;
        bad += tcat_labels_intern(l, name, strlen(name), &id) != TCAT_OK || id != i;
        /* everything interned so far is still found while the table grows */
        if ((i & (i - 1)) == 0)
            for (int j = 0; j <= i; j++) {
                snprintf(name, sizeof name, "label-%d", j);
                bad += tcat_labels_find(l, name, strlen(name)) != j;
            }
    }
    ck_assert_uint_eq(bad, 0);
    ck_assert_uint_eq(tcat_labels_count(l), N);
    for (int i = N - 1; i >= 0; i--) {
        snprintf(name, sizeof name, "label-%d", i);
        int32_t id = -2;
        bad += tcat_labels_intern(l, name, strlen(name), &id) != TCAT_OK || id != i;
        bad += strcmp(tcat_labels_name(l, i), name) != 0;
        bad += strcmp(tcat_labels_names(l)[i], name) != 0;
    }
    ck_assert_uint_eq(bad, 0);
    ck_assert_uint_eq(tcat_labels_count(l), N);
    ck_assert_int_eq(tcat_labels_find(l, "label-5000", 10), -1);
    tcat_labels_free(&l);
}
END_TEST

START_TEST(test_labels_utf8)
{
    tcat_labels *l;
    ck_assert_int_eq(tcat_labels_new(&l), TCAT_OK);
    ck_assert_int_eq(intern(l, "日本語"), 0);
    ck_assert_int_eq(intern(l, "Ελληνικά"), 1);
    ck_assert_int_eq(intern(l, "😀"), 2);
    ck_assert_int_eq(intern(l, "\xC3\xA9"), 3);  /* é composed */
    ck_assert_int_eq(intern(l, "e\xCC\x81"), 4); /* é decomposed: other bytes, other label */
    ck_assert_int_eq(intern(l, "日本"), 5);
    ck_assert_int_eq(intern(l, "😀"), 2);
    ck_assert_int_eq(tcat_labels_find(l, "日本語", strlen("日本語")), 0);
    ck_assert_int_eq(tcat_labels_find(l, "Ελληνικά", strlen("Ελληνικά")), 1);
    ck_assert_str_eq(tcat_labels_name(l, 0), "日本語");
    ck_assert_str_eq(tcat_labels_name(l, 4), "e\xCC\x81");
    ck_assert_uint_eq(tcat_labels_count(l), 6);
    tcat_labels_free(&l);
}
END_TEST

/* ---- corpus: tokens and glue ------------------------------------------------ */

START_TEST(test_corpus_tokens_and_glue)
{
    tcat_corpus c;
    tcat_corpus_init(&c);
    ck_assert_uint_eq(c.n, 0);
    corpus_add_text(&c, "Hello, World!", 0);
    corpus_add_text(&c, "我喜欢", 1);
    corpus_add_text(&c, "我喜欢 你", 1);
    corpus_add_text(&c, "ok 我喜欢", 0);
    ck_assert_uint_eq(c.n, 4);

    size_t n;
    const tcat_span *t = tcat_corpus_tokens(&c, 0, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_eq(t, c.tok);
    ck_assert_str_eq(doc_tokens(&c, 0), "hello world");
    ck_assert(!tcat_corpus_glued(&c, 0));
    ck_assert(!tcat_corpus_glued(&c, 1)); /* a space between hello and world */

    /* 我喜欢: the segmenter cuts it (我 | 喜欢), the pieces touch */
    ck_assert_str_eq(doc_tokens(&c, 1), tok("我喜欢"));
    t = tcat_corpus_tokens(&c, 1, &n);
    ck_assert_uint_ge(n, 2);
    size_t first = c.doc_tok[1];
    ck_assert(!tcat_corpus_glued(&c, first)); /* not glued to the last document */
    size_t bytes = 0;
    for (size_t k = 0; k < n; k++) {
        bytes += t[k].len;
        if (k > 0)
            ck_assert_msg(tcat_corpus_glued(&c, first + k), "token %zu of 我喜欢 not glued", k);
    }
    ck_assert_uint_eq(bytes, strlen("我喜欢"));
    /* the glued tokens are the characters of the text, back to back */
    ck_assert(memcmp(c.text.data + t[0].off, "我喜欢", bytes) == 0);

    /* 我喜欢 你: glued inside, not across the space */
    ck_assert_str_eq(doc_tokens(&c, 2), tok("我喜欢 你"));
    t = tcat_corpus_tokens(&c, 2, &n);
    first = c.doc_tok[2];
    ck_assert_str_eq(tok_at(&c, first + n - 1), "你");
    ck_assert(!tcat_corpus_glued(&c, first + n - 1));
    ck_assert(tcat_corpus_glued(&c, first + n - 2));
    ck_assert(!tcat_corpus_glued(&c, first));

    /* ok 我喜欢: not glued at the space, glued after */
    t = tcat_corpus_tokens(&c, 3, &n);
    first = c.doc_tok[3];
    ck_assert_str_eq(tok_at(&c, first), "ok");
    ck_assert(!tcat_corpus_glued(&c, first));
    ck_assert(!tcat_corpus_glued(&c, first + 1));
    ck_assert(tcat_corpus_glued(&c, first + 2));

    /* the documents' token ranges tile the token array */
    ck_assert_uint_eq(c.doc_tok[0], 0);
    ck_assert_uint_eq(c.doc_tok[c.n], c.ntok);
    for (size_t i = 0; i < c.n; i++)
        ck_assert_uint_le(c.doc_tok[i], c.doc_tok[i + 1]);
    tcat_corpus_free(&c);
    ck_assert_uint_eq(c.n, 0);
    ck_assert_ptr_null(c.tok);
}
END_TEST

START_TEST(test_corpus_scripts)
{
    /* tokens as tcat_tok_run makes them, for several scripts */
    static const char *const texts[] = {
        "The quick brown fox.", "ผมชอบกินข้าว", "私は学生です。", "Привет, мир!",
        "مرحبا بالعالم", "I ❤️ NY 😂", "visit https://example.com/a?b=c now",
    };
    tcat_corpus c;
    tcat_corpus_init(&c);
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        corpus_add_text(&c, texts[i], (int32_t)i);
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        ck_assert_str_eq(doc_tokens(&c, i), tok(texts[i]));
        ck_assert_int_eq(c.label[i], (int32_t)i);
    }
    tcat_corpus_free(&c);
}
END_TEST

/* ---- corpus: labels ----------------------------------------------------------- */

START_TEST(test_corpus_labels)
{
    tcat_corpus c;
    tcat_corpus_init(&c);
    corpus_add_bytes(&c, "one", 3, NULL, 0);
    int32_t two[] = {2, 0};
    corpus_add_bytes(&c, "two", 3, two, 2);
    int32_t one[] = {1};
    corpus_add_bytes(&c, "three", 5, one, 1);
    int32_t three[] = {0, 1, 2};
    corpus_add_bytes(&c, "four", 4, three, 3);
    ck_assert_uint_eq(c.n, 4);
    ck_assert_int_eq(c.label[0], -1);
    ck_assert_int_eq(c.label[1], 2);
    ck_assert_int_eq(c.label[2], 1);
    ck_assert_int_eq(c.label[3], 0);
    ck_assert_uint_eq(c.doc_label[1] - c.doc_label[0], 0);
    ck_assert_uint_eq(c.doc_label[2] - c.doc_label[1], 2);
    ck_assert_int_eq(c.labels[c.doc_label[1]], 2);
    ck_assert_int_eq(c.labels[c.doc_label[1] + 1], 0);
    ck_assert_uint_eq(c.doc_label[3] - c.doc_label[2], 1);
    ck_assert_uint_eq(c.doc_label[4] - c.doc_label[3], 3);
    ck_assert_int_eq(c.labels[c.doc_label[3] + 2], 2);
    ck_assert_uint_eq(c.nlabels_total, 6);
    ck_assert_uint_eq(c.stats.multi_label, 2);
    ck_assert_uint_eq(c.stats.empty, 0);
    ck_assert_uint_eq(c.stats.duplicates, 0);

    uint64_t counts[4] = {9, 9, 9, 9};
    tcat_corpus_label_counts(&c, 3, counts); /* first labels only; -1 not counted */
    ck_assert_uint_eq(counts[0], 1);
    ck_assert_uint_eq(counts[1], 1);
    ck_assert_uint_eq(counts[2], 1);
    ck_assert_uint_eq(counts[3], 9); /* only k entries written */
    tcat_corpus_label_counts(&c, 2, counts); /* labels >= k are left out */
    ck_assert_uint_eq(counts[0], 1);
    ck_assert_uint_eq(counts[1], 1);
    ck_assert_uint_eq(counts[2], 1);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_corpus_empty_docs)
{
    tcat_corpus c;
    tcat_corpus_init(&c);
    corpus_add_text(&c, "", 0);
    corpus_add_text(&c, "   \t\n ", 1);
    corpus_add_text(&c, "!!! ... ,,,", 0); /* punctuation only: no token by default */
    corpus_add_text(&c, "word", 1);
    ck_assert_uint_eq(c.n, 4);
    ck_assert_uint_eq(c.stats.empty, 3);
    size_t n;
    for (size_t i = 0; i < 3; i++) {
        tcat_corpus_tokens(&c, i, &n);
        ck_assert_uint_eq(n, 0);
    }
    tcat_corpus_tokens(&c, 3, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(doc_tokens(&c, 3), "word");
    ck_assert(!tcat_corpus_glued(&c, c.doc_tok[3]));
    uint64_t counts[2];
    tcat_corpus_label_counts(&c, 2, counts);
    ck_assert_uint_eq(counts[0], 2);
    ck_assert_uint_eq(counts[1], 2);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_corpus_duplicates)
{
    tcat_corpus c;
    tcat_corpus_init(&c);
    corpus_add_text(&c, "a good film", 0);
    corpus_add_text(&c, "a bad film", 1);
    corpus_add_text(&c, "a good film", 0);  /* duplicate, same label */
    corpus_add_text(&c, "a good film", 1);  /* duplicate, other label */
    corpus_add_text(&c, "a  good film", 0); /* other raw bytes, same tokens: not a duplicate */
    corpus_add_text(&c, "A good film", 0);  /* other raw bytes */
    corpus_add_text(&c, "a bad film", 1);   /* duplicate, same label */
    corpus_add_bytes(&c, "a good film", 11, NULL, 0); /* duplicate, no label: conflicting */
    ck_assert_uint_eq(c.n, 8);
    ck_assert_uint_eq(c.stats.duplicates, 4);
    ck_assert_uint_eq(c.stats.conflicting, 2);
    /* duplicates are kept */
    ck_assert_str_eq(doc_tokens(&c, 2), "a good film");
    ck_assert_int_eq(c.label[3], 1);

    /* multi-label duplicates: the same labels are no conflict */
    int32_t l01[] = {0, 1}, l02[] = {0, 2};
    corpus_add_bytes(&c, "xyz", 3, l01, 2);
    corpus_add_bytes(&c, "xyz", 3, l01, 2);
    ck_assert_uint_eq(c.stats.duplicates, 5);
    ck_assert_uint_eq(c.stats.conflicting, 2);
    corpus_add_bytes(&c, "xyz", 3, l02, 2);
    ck_assert_uint_eq(c.stats.duplicates, 6);
    ck_assert_uint_eq(c.stats.conflicting, 3);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_corpus_duplicates_many)
{
    /* enough documents for the arrays and the duplicate table to grow */
    enum { N = 5000, D = 300 };
    tcat_corpus c;
    tcat_corpus_init(&c);
    char buf[64];
    for (int i = 0; i < N; i++) {
        int len = snprintf(buf, sizeof buf, "document number %d", i);
        corpus_add_bytes(&c, buf, (size_t)len, (int32_t[]){i % 3}, 1);
    }
    ck_assert_uint_eq(c.stats.duplicates, 0);
    for (int i = 0; i < D; i++) {
        int j = (i * 7919) % N;
        int len = snprintf(buf, sizeof buf, "document number %d", j);
        /* every third one with another label */
        int32_t lab = i % 3 == 0 ? (j + 1) % 3 : j % 3;
        corpus_add_bytes(&c, buf, (size_t)len, &lab, 1);
    }
    ck_assert_uint_eq(c.n, N + D);
    ck_assert_uint_eq(c.stats.duplicates, D);
    ck_assert_uint_eq(c.stats.conflicting, D / 3);
    ck_assert_str_eq(doc_tokens(&c, 1234), "document number 1234");
    ck_assert_str_eq(doc_tokens(&c, N + 1), "document number 2919");
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_corpus_repairs)
{
    tcat_corpus c;
    tcat_corpus_init(&c);
    corpus_add_bytes(&c, "ab\xFF" "cd ef", 8, (int32_t[]){0}, 1);
    ck_assert_uint_eq(c.stats.invalid_utf8, 1);
    ck_assert_uint_eq(c.stats.nul_bytes, 0);
    corpus_add_bytes(&c, "ab\0cd", 5, (int32_t[]){1}, 1);
    ck_assert_uint_eq(c.stats.nul_bytes, 1);
    ck_assert_str_eq(doc_tokens(&c, 1), "ab cd"); /* NUL reads as a space */
    corpus_add_bytes(&c, "\xC3\x28 x \xE2\x82 \0\0y", 11, (int32_t[]){1}, 1);
    ck_assert_uint_eq(c.stats.invalid_utf8, 3);
    ck_assert_uint_eq(c.stats.nul_bytes, 3);
    ck_assert_uint_eq(c.n, 3);
    /* every token is valid UTF-8 without NUL */
    for (size_t k = 0; k < c.ntok; k++)
        for (size_t b = 0; b < c.tok[k].len; b++)
            ck_assert_int_ne(c.text.data[c.tok[k].off + b], 0);
    /* the counts are the corpus's own: a fresh corpus starts at zero even
     * though the shared tokenizer counted before */
    tcat_corpus d;
    tcat_corpus_init(&d);
    corpus_add_text(&d, "clean text", 0);
    ck_assert_uint_eq(d.stats.invalid_utf8, 0);
    ck_assert_uint_eq(d.stats.nul_bytes, 0);
    tcat_corpus_free(&d);
    tcat_corpus_free(&c);
}
END_TEST

START_TEST(test_corpus_clear)
{
    tcat_corpus c;
    tcat_corpus_init(&c);
    corpus_add_text(&c, "first document", 0);
    corpus_add_text(&c, "first document", 1);
    corpus_add_text(&c, "", 1);
    corpus_add_bytes(&c, "x\xFF", 2, (int32_t[]){0, 1}, 2);
    ck_assert_uint_eq(c.stats.duplicates, 1);
    tcat_span *tok_before = c.tok;
    tcat_corpus_clear(&c);
    ck_assert_uint_eq(c.n, 0);
    ck_assert_uint_eq(c.ntok, 0);
    ck_assert_uint_eq(c.nlabels_total, 0);
    ck_assert_uint_eq(c.stats.duplicates, 0);
    ck_assert_uint_eq(c.stats.conflicting, 0);
    ck_assert_uint_eq(c.stats.empty, 0);
    ck_assert_uint_eq(c.stats.invalid_utf8, 0);
    ck_assert_uint_eq(c.stats.multi_label, 0);
    ck_assert_ptr_eq(c.tok, tok_before); /* memory kept */

    /* reuse: the document seen before clear is not a duplicate now */
    corpus_add_text(&c, "first document", 2);
    corpus_add_text(&c, "second one", 0);
    ck_assert_uint_eq(c.n, 2);
    ck_assert_uint_eq(c.stats.duplicates, 0);
    ck_assert_str_eq(doc_tokens(&c, 0), "first document");
    ck_assert_str_eq(doc_tokens(&c, 1), "second one");
    ck_assert_int_eq(c.label[0], 2);
    ck_assert_uint_eq(c.doc_label[2], 2);
    corpus_add_text(&c, "second one", 0);
    ck_assert_uint_eq(c.stats.duplicates, 1);

    /* many rounds of clear and refill */
    for (int round = 0; round < 5; round++) {
        tcat_corpus_clear(&c);
        for (int i = 0; i < 1500; i++) {
            char buf[32];
            int len = snprintf(buf, sizeof buf, "r%d d%d", round, i % 1000);
            corpus_add_bytes(&c, buf, (size_t)len, (int32_t[]){i % 2}, 1);
        }
        ck_assert_uint_eq(c.n, 1500);
        ck_assert_uint_eq(c.stats.duplicates, 500);
    }
    /* clearing a fresh corpus is fine */
    tcat_corpus e;
    tcat_corpus_init(&e);
    tcat_corpus_clear(&e);
    corpus_add_text(&e, "hello", 0);
    ck_assert_uint_eq(e.n, 1);
    tcat_corpus_free(&e);
    tcat_corpus_free(&c);
}
END_TEST

/* ---- corpus: reading files ------------------------------------------------- */

START_TEST(test_corpus_read_tsv)
{
    const char *path = scratch_write("train.tsv", "pos\tA good movie!\n"
                                                  "neg\tA bad film.\n"
                                                  "pos\tGreat fun\n"
                                                  "meh\tso so\n"
                                                  "neg\tA bad film.\n"
                                                  "pos\t\n"
                                                  "neg\t我喜欢\n");
    tcat_labels *l;
    ck_assert_int_eq(tcat_labels_new(&l), TCAT_OK);
    tcat_corpus c;
    tcat_corpus_init(&c);
    tcat_error err = {0};
    ck_assert_msg(tcat_corpus_read(&c, path, TCAT_FORMAT_AUTO, tok_default(), l, true, &err) ==
                      TCAT_OK,
                  "read: %s", err.msg);
    ck_assert_uint_eq(c.n, 7);
    ck_assert_uint_eq(tcat_labels_count(l), 3);
    ck_assert_str_eq(tcat_labels_name(l, 0), "pos");
    ck_assert_str_eq(tcat_labels_name(l, 1), "neg");
    ck_assert_str_eq(tcat_labels_name(l, 2), "meh");
    static const int32_t want[] = {0, 1, 0, 2, 1, 0, 1};
    for (size_t i = 0; i < 7; i++)
        ck_assert_int_eq(c.label[i], want[i]);
    ck_assert_str_eq(doc_tokens(&c, 0), "a good movie");
    ck_assert_str_eq(doc_tokens(&c, 3), "so so");
    ck_assert_str_eq(doc_tokens(&c, 6), tok("我喜欢"));
    ck_assert_uint_eq(c.stats.duplicates, 1);
    ck_assert_uint_eq(c.stats.conflicting, 0);
    ck_assert_uint_eq(c.stats.empty, 1);
    ck_assert_uint_eq(c.stats.unknown_labels, 0);
    uint64_t counts[3];
    tcat_corpus_label_counts(&c, 3, counts);
    ck_assert_uint_eq(counts[0], 3);
    ck_assert_uint_eq(counts[1], 3);
    ck_assert_uint_eq(counts[2], 1);
    tcat_corpus_free(&c);

    /* a fixed label set: labels not in it become -1 and are counted */
    const char *path2 = scratch_write("test.tsv", "neg\tawful\n"
                                                  "new\tunseen label\n"
                                                  "pos\tnice\n"
                                                  "other\tanother one\n"
                                                  "meh\tfine\n");
    tcat_corpus_init(&c);
    ck_assert_msg(tcat_corpus_read(&c, path2, TCAT_FORMAT_TSV, tok_default(), l, false, &err) ==
                      TCAT_OK,
                  "read: %s", err.msg);
    ck_assert_uint_eq(c.n, 5);
    ck_assert_uint_eq(tcat_labels_count(l), 3); /* nothing added */
    ck_assert_int_eq(c.label[0], 1);
    ck_assert_int_eq(c.label[1], -1);
    ck_assert_int_eq(c.label[2], 0);
    ck_assert_int_eq(c.label[3], -1);
    ck_assert_int_eq(c.label[4], 2);
    ck_assert_uint_eq(c.stats.unknown_labels, 2);
    tcat_corpus_label_counts(&c, 3, counts);
    ck_assert_uint_eq(counts[0], 1);
    ck_assert_uint_eq(counts[1], 1);
    ck_assert_uint_eq(counts[2], 1);
    tcat_corpus_free(&c);
    tcat_labels_free(&l);
}
END_TEST

START_TEST(test_corpus_read_multilabel_and_errors)
{
    const char *path = scratch_write("train.ft", "__label__a __label__b both labels\n"
                                                 "__label__b just b\n"
                                                 "__label__c __label__a c and a\n");
    tcat_labels *l;
    ck_assert_int_eq(tcat_labels_new(&l), TCAT_OK);
    tcat_corpus c;
    tcat_corpus_init(&c);
    tcat_error err = {0};
    ck_assert_msg(tcat_corpus_read(&c, path, TCAT_FORMAT_AUTO, tok_default(), l, true, &err) ==
                      TCAT_OK,
                  "read: %s", err.msg);
    ck_assert_uint_eq(c.n, 3);
    ck_assert_uint_eq(c.stats.multi_label, 2);
    ck_assert_int_eq(c.label[0], 0);
    ck_assert_int_eq(c.label[1], 1);
    ck_assert_int_eq(c.label[2], 2);
    ck_assert_uint_eq(c.doc_label[1] - c.doc_label[0], 2);
    ck_assert_int_eq(c.labels[c.doc_label[2] + 1], 0);
    ck_assert_str_eq(doc_tokens(&c, 0), "both labels");
    tcat_corpus_free(&c);

    /* malformed input and a missing file are the reader's errors */
    const char *bad = scratch_write("bad.tsv", "pos\tok\nno tab here\n");
    tcat_corpus_init(&c);
    ck_assert_int_eq(tcat_corpus_read(&c, bad, TCAT_FORMAT_TSV, tok_default(), l, true, &err),
                     TCAT_ERR_INPUT);
    ck_assert_ptr_nonnull(strstr(err.msg, ":2:"));
    tcat_corpus_free(&c);
    tcat_corpus_init(&c);
    ck_assert_int_eq(tcat_corpus_read(&c, scratch_path("missing.tsv"), TCAT_FORMAT_AUTO,
                                      tok_default(), l, true, &err),
                     TCAT_ERR_IO);
    tcat_corpus_free(&c);
    tcat_labels_free(&l);
}
END_TEST

/* Unlabelled text, a document a line (`tcat train --unlabeled`). */
START_TEST(test_corpus_read_lines)
{
    const char *path = scratch_write("unlabeled.txt", "Hello world\n"
                                                      "\n"
                                                      "second\tline, with a tab\r\n"
                                                      "bad \xff byte\n"
                                                      "last line, no newline");
    tcat_corpus c;
    tcat_corpus_init(&c);
    tcat_error err = {0};
    ck_assert_msg(tcat_corpus_read_lines(&c, path, tok_default(), &err) == TCAT_OK, "read: %s",
                  err.msg);
    ck_assert_uint_eq(c.n, 4); /* the empty line is skipped */
    for (size_t i = 0; i < c.n; i++) {
        ck_assert_int_eq(c.label[i], -1);
        ck_assert_uint_eq(c.doc_label[i + 1] - c.doc_label[i], 0);
    }
    ck_assert_str_eq(doc_tokens(&c, 0), "hello world");
    ck_assert_str_eq(doc_tokens(&c, 1), "second line with a tab");
    ck_assert_uint_eq(c.stats.invalid_utf8, 1);
    ck_assert_str_eq(doc_tokens(&c, 3), "last line no newline");
    tcat_corpus_free(&c);

    tcat_corpus_init(&c);
    ck_assert_int_eq(tcat_corpus_read_lines(&c, scratch_path("missing.txt"), tok_default(), &err),
                     TCAT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "missing.txt"));
    tcat_corpus_free(&c);
}
END_TEST

Suite *corpus_suite(void)
{
    Suite *s = suite_create("corpus");
    TCase *tc = tcase_new(s, "labels");
    tcase_add_test(tc, test_labels_basic);
    tcase_add_test(tc, test_labels_many);
    tcase_add_test(tc, test_labels_utf8);

    tc = tcase_new(s, "documents");
    tcase_add_test(tc, test_corpus_tokens_and_glue);
    tcase_add_test(tc, test_corpus_scripts);
    tcase_add_test(tc, test_corpus_labels);
    tcase_add_test(tc, test_corpus_empty_docs);
    tcase_add_test(tc, test_corpus_duplicates);
    tcase_add_test(tc, test_corpus_duplicates_many);
    tcase_add_test(tc, test_corpus_repairs);
    tcase_add_test(tc, test_corpus_clear);

    tc = tcase_new(s, "reading");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_corpus_read_tsv);
    tcase_add_test(tc, test_corpus_read_multilabel_and_errors);
    tcase_add_test(tc, test_corpus_read_lines);
    return s;
}
