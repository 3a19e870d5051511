/* tests/check_config.c — tcat_tok_config: defaults, copy, save and load. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/suites.h"
#include "tests/testutil.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

/* Saves c and loads the text back into a fresh config. */
static void round_trip(const tcat_tok_config *c, tcat_tok_config *back)
{
    char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(tcat_tok_config_save(c, &text, &len), TCAT_OK);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(strlen(text), len); /* NUL-terminated, no NUL inside */
    tcat_error err = {0};
    tcat_tok_config_default(back);
    tcat_status st = tcat_tok_config_load(back, text, len, &err);
    free(text);
    ck_assert_msg(st == TCAT_OK, "load: %s", err.msg);
}

/* Expects load to refuse text with TCAT_ERR_INPUT and a message holding
 * frag (NULL: any message). */
static void load_refused(const char *text, size_t len, const char *frag)
{
    tcat_tok_config c;
    tcat_tok_config_default(&c);
    tcat_error err = {0};
    tcat_status st = tcat_tok_config_load(&c, text, len, &err);
    tcat_tok_config_clear(&c);
    ck_assert_msg(st == TCAT_ERR_INPUT, "status %d for '%.*s'", st, (int)len, text);
    ck_assert_int_eq(err.status, TCAT_ERR_INPUT);
    ck_assert_uint_gt(strlen(err.msg), 0);
    if (frag)
        ck_assert_msg(strstr(err.msg, frag), "'%s' not in '%s'", frag, err.msg);
}

START_TEST(test_defaults)
{
    tcat_tok_config c;
    memset(&c, 0xFF, sizeof c);
    tcat_tok_config_default(&c);
    ck_assert(c.nfkc);
    ck_assert(c.casefold);
    ck_assert(!c.keep_punct);
    ck_assert(c.patterns_on);
    ck_assert_ptr_null(c.patterns);
}
END_TEST

START_TEST(test_copy_and_clear)
{
    tcat_tok_config a, b;
    tcat_tok_config_default(&a);
    a.keep_punct = true;
    a.patterns = strdup("x\t*\tx\n");
    ck_assert_int_eq(tcat_tok_config_copy(&b, &a), TCAT_OK);
    ck_assert_ptr_ne(a.patterns, b.patterns);
    ck_assert_str_eq(b.patterns, "x\t*\tx\n");
    ck_assert(b.keep_punct);
    tcat_tok_config_clear(&a);
    ck_assert_ptr_null(a.patterns);
    ck_assert(!a.keep_punct);
    ck_assert_str_eq(b.patterns, "x\t*\tx\n");
    tcat_tok_config_clear(&b);
    /* copying the built-in table (NULL) */
    tcat_tok_config_default(&a);
    ck_assert_int_eq(tcat_tok_config_copy(&b, &a), TCAT_OK);
    ck_assert_ptr_null(b.patterns);
}
END_TEST

START_TEST(test_save_format)
{
    tcat_tok_config c;
    tcat_tok_config_default(&c);
    c.keep_punct = true;
    c.patterns = strdup("n\t0-9\t[0-9]+\n");
    char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(tcat_tok_config_save(&c, &text, &len), TCAT_OK);
    ck_assert_str_eq(text, "tcat-tokenizer 1\nnfkc=1\ncasefold=1\nkeep_punct=1\npatterns_on=1\n"
                           "patterns=13\nn\t0-9\t[0-9]+\n");
    free(text);
    tcat_tok_config_clear(&c);
}
END_TEST

START_TEST(test_round_trip_default)
{
    tcat_tok_config c, back;
    tcat_tok_config_default(&c);
    round_trip(&c, &back);
    ck_assert(back.nfkc && back.casefold && !back.keep_punct && back.patterns_on);
    /* the built-in table is written out, so a model keeps its patterns */
    ck_assert_ptr_nonnull(back.patterns);
    ck_assert_str_eq(back.patterns, tcat_default_patterns);
    tcat_tok_config_clear(&back);
}
END_TEST

START_TEST(test_round_trip_all_flags)
{
    for (int m = 0; m < 16; m++) {
        tcat_tok_config c, back;
        tcat_tok_config_default(&c);
        c.nfkc = m & 1;
        c.casefold = (m & 2) != 0;
        c.keep_punct = (m & 4) != 0;
        c.patterns_on = (m & 8) != 0;
        round_trip(&c, &back);
        ck_assert_int_eq(back.nfkc, c.nfkc);
        ck_assert_int_eq(back.casefold, c.casefold);
        ck_assert_int_eq(back.keep_punct, c.keep_punct);
        ck_assert_int_eq(back.patterns_on, c.patterns_on);
        tcat_tok_config_clear(&back);
    }
}
END_TEST

START_TEST(test_round_trip_custom_table)
{
    /* tabs, backslashes, quotes, '=' signs, non-ASCII, CR LF, a blank
     * line, a comment, a line that looks like a key, no final newline:
     * the block is kept byte for byte (the text need not even be a valid
     * table, that is the tokenizer's business) */
    const char *table = "# my table\r\n"
                        "\n"
                        "path\t\\\t(?:[A-Z]:)?\\\\[\\w\\\\]+\\.txt\r\n"
                        "quote\t\"\t\"[^\"]*\"\n"
                        "nfkc=0\n"
                        "tabbed\t*\ta\tb\\t\n"
                        "euro\t*\t€[0-9]+(?:,[0-9]{2})?";
    tcat_tok_config c, back;
    tcat_tok_config_default(&c);
    c.casefold = false;
    c.patterns = strdup(table);
    round_trip(&c, &back);
    ck_assert_str_eq(back.patterns, table);
    ck_assert(back.nfkc);
    ck_assert(!back.casefold);
    tcat_tok_config_clear(&back);
    tcat_tok_config_clear(&c);
}
END_TEST

START_TEST(test_round_trip_tokenizes_the_same)
{
    tcat_tok_config c, back;
    tcat_tok_config_default(&c);
    c.keep_punct = true;
    c.patterns = strdup("path\t\\\t\\\\\\w+(?:\\\\\\w+)*\ntab\t*\tx\ty\n");
    round_trip(&c, &back);
    const char *in = "see C:\\Users\\bob, x\ty!";
    ck_assert_str_eq(tok_cfg(&back, in), tok_cfg(&c, in));
    ck_assert_str_eq(tok_cfg(&back, in), "see c : \\users\\bob , x y !");
    tcat_tok_config_clear(&back);
    tcat_tok_config_clear(&c);
}
END_TEST

START_TEST(test_load_clears_first)
{
    tcat_tok_config c;
    tcat_tok_config_default(&c);
    c.patterns = strdup("old\t*\told\n");
    const char *text = "tcat-tokenizer 1\nkeep_punct=1\npatterns=0\n";
    tcat_error err = {0};
    ck_assert_int_eq(tcat_tok_config_load(&c, text, strlen(text), &err), TCAT_OK);
    ck_assert(c.keep_punct);
    ck_assert(c.nfkc); /* absent keys keep their defaults */
    ck_assert_str_eq(c.patterns, "");
    tcat_tok_config_clear(&c);
}
END_TEST

START_TEST(test_load_refuses)
{
    const char *ok = "tcat-tokenizer 1\nnfkc=1\ncasefold=1\nkeep_punct=0\npatterns_on=1\n"
                     "patterns=6\nx\t*\tx\n";
    tcat_tok_config c;
    tcat_tok_config_default(&c);
    tcat_error err = {0};
    ck_assert_int_eq(tcat_tok_config_load(&c, ok, strlen(ok), &err), TCAT_OK);
    ck_assert_str_eq(c.patterns, "x\t*\tx\n");
    tcat_tok_config_clear(&c);

    /* a wrong magic line (another tool, another version) */
    const char *t1 = "tcat-tokenizer 2\nnfkc=1\npatterns=0\n";
    load_refused(t1, strlen(t1), "tcat-tokenizer 1");
    const char *t2 = "hello\n";
    load_refused(t2, strlen(t2), NULL);
    /* an unknown key, named, with its line */
    const char *t3 = "tcat-tokenizer 1\nnfkc=1\nlowercase=1\npatterns=0\n";
    load_refused(t3, strlen(t3), "lowercase");
    load_refused(t3, strlen(t3), "line 3");
    /* bad bools */
    const char *t4 = "tcat-tokenizer 1\ncasefold=true\npatterns=0\n";
    load_refused(t4, strlen(t4), "line 2");
    const char *t5 = "tcat-tokenizer 1\nnfkc=2\npatterns=0\n";
    load_refused(t5, strlen(t5), "line 2");
    const char *t6 = "tcat-tokenizer 1\nkeep_punct=\npatterns=0\n";
    load_refused(t6, strlen(t6), "line 2");
    const char *t7 = "tcat-tokenizer 1\npatterns_on=01\npatterns=0\n";
    load_refused(t7, strlen(t7), "line 2");
    /* a line without '=' */
    const char *t8 = "tcat-tokenizer 1\nnfkc\npatterns=0\n";
    load_refused(t8, strlen(t8), "line 2");
    /* a truncated pattern block */
    load_refused(ok, strlen(ok) - 1, "truncated");
    const char *t9 = "tcat-tokenizer 1\npatterns=100\nx\t*\tx\n";
    load_refused(t9, strlen(t9), "truncated");
    /* a bad length */
    const char *t10 = "tcat-tokenizer 1\npatterns=abc\n";
    load_refused(t10, strlen(t10), "line 2");
    const char *t11 = "tcat-tokenizer 1\npatterns=\n";
    load_refused(t11, strlen(t11), "line 2");
    /* bytes after the block */
    const char *t12 = "tcat-tokenizer 1\npatterns=2\nabEXTRA";
    load_refused(t12, strlen(t12), NULL);
    /* no pattern block at all, an unfinished line, empty text */
    const char *t13 = "tcat-tokenizer 1\nnfkc=1\n";
    load_refused(t13, strlen(t13), NULL);
    const char *t14 = "tcat-tokenizer 1\nnfkc=1";
    load_refused(t14, strlen(t14), NULL);
    load_refused("", 0, NULL);
    /* a NUL byte inside the pattern block */
    const char t15[] = "tcat-tokenizer 1\npatterns=3\na\0b";
    load_refused(t15, sizeof t15 - 1, NULL);
}
END_TEST

START_TEST(test_load_cut_anywhere)
{
    /* every proper prefix of a saved config is refused, never misread */
    tcat_tok_config c;
    tcat_tok_config_default(&c);
    c.patterns = strdup("a\t*\ta\n");
    char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(tcat_tok_config_save(&c, &text, &len), TCAT_OK);
    tcat_tok_config_clear(&c);
    for (size_t k = 0; k < len; k++) {
        tcat_tok_config d;
        tcat_tok_config_default(&d);
        tcat_error err = {0};
        tcat_status st = tcat_tok_config_load(&d, text, k, &err);
        tcat_tok_config_clear(&d);
        ck_assert_msg(st == TCAT_ERR_INPUT, "prefix of %zu bytes: status %d", k, st);
    }
    free(text);
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_new(s, "config");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_copy_and_clear);
    tcase_add_test(tc, test_save_format);
    tcase_add_test(tc, test_round_trip_default);
    tcase_add_test(tc, test_round_trip_all_flags);
    tcase_add_test(tc, test_round_trip_custom_table);
    tcase_add_test(tc, test_round_trip_tokenizes_the_same);
    tcase_add_test(tc, test_load_clears_first);
    tcase_add_test(tc, test_load_refuses);
    tcase_add_test(tc, test_load_cut_anywhere);
    return s;
}
