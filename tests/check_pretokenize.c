/* tests/check_pretokenize.c — stage 3: the pattern table and protected spans. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "tests/suites.h"
#include "tests/testutil.h"
#include "tokenizer/pretokenize.h"

/* Builds a table from a C string; fails the test when it is refused. */
static tcat_pretok *table(const char *t)
{
    tcat_pretok *p = NULL;
    tcat_error err = {0};
    ck_assert_msg(tcat_pretok_init(&p, t, strlen(t), &err) == TCAT_OK, "table refused: %s",
                  err.msg);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Expects the table to be refused with TCAT_ERR_INPUT and a message that
 * holds each of the given fragments. */
static void refused(const char *t, size_t len, const char *frag1, const char *frag2)
{
    tcat_pretok *p = NULL;
    tcat_error err = {0};
    tcat_status st = tcat_pretok_init(&p, t, len, &err);
    ck_assert_msg(st == TCAT_ERR_INPUT, "status %d for table '%s'", st, t);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(err.status, TCAT_ERR_INPUT);
    ck_assert_msg(strstr(err.msg, frag1), "'%s' not in message '%s'", frag1, err.msg);
    if (frag2)
        ck_assert_msg(strstr(err.msg, frag2), "'%s' not in message '%s'", frag2, err.msg);
    ck_assert_ptr_null(strchr(err.msg, '\n'));
}

/* The protected spans of s (all patterns tried) as "[..][..]". */
static const char *find_all(tcat_pretok *p, const char *s)
{
    const tcat_span *sp;
    size_t n;
    uint32_t mask = (uint32_t)((1ull << tcat_pretok_count(p)) - 1);
    ck_assert_int_eq(tcat_pretok_find(p, s, strlen(s), mask, &sp, &n), TCAT_OK);
    tcat_buf b = {0};
    size_t prev_end = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_ge(sp[i].off, prev_end); /* sorted, no overlap */
        ck_assert_uint_gt(sp[i].len, 0);
        prev_end = sp[i].off + sp[i].len;
        ck_assert_uint_le(prev_end, strlen(s));
        tcat_buf_append(&b, "[", 1);
        tcat_buf_append(&b, s + sp[i].off, sp[i].len);
        tcat_buf_append(&b, "]", 1);
    }
    const char *r = ring_copy(b.data ? b.data : "", b.len);
    tcat_buf_free(&b);
    return r;
}

/* ---- the table ------------------------------------------------------------ */

START_TEST(test_default_table)
{
    tcat_pretok *p = table(tcat_default_patterns);
    static const char *const names[] = {"url", "email", "mention", "hashtag", "number",
                                        "emoticon"};
    ck_assert_uint_ge(tcat_pretok_count(p), 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(tcat_pretok_name(p, i), names[i]);
    ck_assert_ptr_null(tcat_pretok_name(p, tcat_pretok_count(p)));
    /* the number pattern is triggered by digits only; url by the strings
     * "://", "www." and "WWW.", which put their first bytes in the table
     * (the strings themselves are checked when the chunk is searched) */
    const uint32_t *trig = tcat_pretok_triggers(p);
    ck_assert_uint_ne(trig['0'] & (1u << 4), 0);
    ck_assert_uint_ne(trig['9'] & (1u << 4), 0);
    ck_assert_uint_eq(trig['a'] & (1u << 4), 0);
    ck_assert_uint_ne(trig[':'] & 1u, 0);
    ck_assert_uint_ne(trig['w'] & 1u, 0);
    ck_assert_uint_eq(trig['.'] & 1u, 0);
    ck_assert_uint_eq(trig['a'], 0);
    ck_assert_uint_eq(trig[0xE4], 0);
    tcat_pretok_free(&p);
    ck_assert_ptr_null(p);
    tcat_pretok_free(&p);
}
END_TEST

START_TEST(test_comments_blank_crlf)
{
    tcat_pretok *p = table("# a comment\n\n#\tnot\ta pattern\r\nx\tx\tx+\r\n\ny\t*\ty\n");
    ck_assert_uint_eq(tcat_pretok_count(p), 2);
    ck_assert_str_eq(tcat_pretok_name(p, 0), "x");
    ck_assert_str_eq(tcat_pretok_name(p, 1), "y");
    /* the CR is not part of the pattern: "xx" matches as a whole */
    ck_assert_str_eq(find_all(p, "axxb"), "[xx]");
    tcat_pretok_free(&p);
    /* an empty table and one without a final newline */
    p = table("");
    ck_assert_uint_eq(tcat_pretok_count(p), 0);
    tcat_pretok_free(&p);
    p = table("z\tz\tz");
    ck_assert_uint_eq(tcat_pretok_count(p), 1);
    ck_assert_str_eq(find_all(p, "zaz"), "[z][z]");
    tcat_pretok_free(&p);
}
END_TEST

START_TEST(test_pattern_with_tabs)
{
    /* everything after the second tab is the pattern, tabs included */
    tcat_pretok *p = table("t\t*\ta\tb\n");
    ck_assert_str_eq(find_all(p, "xa\tby"), "[a\tb]");
    tcat_pretok_free(&p);
}
END_TEST

START_TEST(test_triggers)
{
    tcat_pretok *p = table("d\t0-9\t\\d+\nall\t*\tq\nlist\t:;=\tz\nlit\ta-\tw\n");
    const uint32_t *t = tcat_pretok_triggers(p);
    for (int c = 0; c < 256; c++) {
        ck_assert_uint_eq((t[c] >> 0) & 1, c >= '0' && c <= '9');
        ck_assert_uint_eq((t[c] >> 1) & 1, 1);
        ck_assert_uint_eq((t[c] >> 2) & 1, c == ':' || c == ';' || c == '=');
        /* "a-" is not a range: 'a' and '-' */
        ck_assert_uint_eq((t[c] >> 3) & 1, c == 'a' || c == '-');
    }
    tcat_pretok_free(&p);
}
END_TEST

START_TEST(test_bad_tables)
{
    /* a line without two tabs: line numbers count comments and blank lines */
    const char *t1 = "# comment\n\nok\t*\tx\nname only\n";
    refused(t1, strlen(t1), "line 4", NULL);
    const char *t2 = "ok\t*\tx\nname\tonly one tab\n";
    refused(t2, strlen(t2), "line 2", NULL);
    /* a bad regex: PCRE2's message */
    const char *t3 = "ok\t*\tx\n# c\nbad\t*\t(unclosed\n";
    refused(t3, strlen(t3), "line 3", "bad");
    const char *t4 = "bad\t*\ta{2,1}\n";
    refused(t4, strlen(t4), "line 1", NULL);
    /* bad trigger lists: empty, non-ASCII, reversed range */
    const char *t5 = "x\t*\tx\ny\t\ty\n";
    refused(t5, strlen(t5), "line 2", "trigger");
    const char *t6 = "y\t\xC3\xA9\ty\n";
    refused(t6, strlen(t6), "line 1", "trigger");
    const char *t7 = "\n\ny\t9-0\ty\n";
    refused(t7, strlen(t7), "line 3", "trigger");
    /* an empty name */
    const char *t8 = "\t*\tx\n";
    refused(t8, strlen(t8), "line 1", "name");
}
END_TEST

START_TEST(test_too_many_patterns)
{
    tcat_buf b = {0};
    tcat_buf_append(&b, "# header\n", 9);
    char line[64];
    for (int i = 0; i < TCAT_PRETOK_MAX_PATTERNS; i++) {
        int n = snprintf(line, sizeof line, "p%d\t*\tx%d\n", i, i);
        tcat_buf_append(&b, line, (size_t)n);
    }
    /* exactly the maximum is fine */
    tcat_pretok *p = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_pretok_init(&p, b.data, b.len, &err), TCAT_OK);
    ck_assert_uint_eq(tcat_pretok_count(p), TCAT_PRETOK_MAX_PATTERNS);
    /* all 32 bits of the trigger table are in use */
    ck_assert_uint_eq(tcat_pretok_triggers(p)['x'], 0xFFFFFFFFu);
    /* x3 and x31 both match at 0: the first listed wins */
    ck_assert_str_eq(find_all(p, "x31"), "[x3]");
    ck_assert_str_eq(find_all(p, "x9"), "[x9]");
    tcat_pretok_free(&p);
    /* one more is refused, naming its line (the header is line 1) */
    tcat_buf_append(&b, "extra\t*\ty\n", 10);
    refused(b.data, b.len, "line 34", NULL);
    tcat_buf_free(&b);
}
END_TEST

/* ---- finding spans ---------------------------------------------------------- */

START_TEST(test_overlap_leftmost)
{
    /* the match starting first wins, even when listed later and shorter */
    tcat_pretok *p = table("long\t*\tbcde\nshort\t*\tab\n");
    ck_assert_str_eq(find_all(p, "xabcdey"), "[ab]");
    ck_assert_str_eq(find_all(p, "xbcdey"), "[bcde]");
    tcat_pretok_free(&p);
    p = table("long\t*\tabcd\nshort\t*\tbc\n");
    ck_assert_str_eq(find_all(p, "xabcdy"), "[abcd]");
    tcat_pretok_free(&p);
}
END_TEST

START_TEST(test_overlap_table_order)
{
    /* same start: the pattern listed first wins, even when shorter */
    tcat_pretok *p = table("first\t*\tab\nsecond\t*\tabc\n");
    ck_assert_str_eq(find_all(p, "abc"), "[ab]");
    tcat_pretok_free(&p);
    p = table("first\t*\tabc\nsecond\t*\tab\n");
    ck_assert_str_eq(find_all(p, "abc"), "[abc]");
    tcat_pretok_free(&p);
}
END_TEST

START_TEST(test_overlap_chain)
{
    /* A = [0,4), B = [2,6) overlaps A and loses, C = [5,7) is free again */
    tcat_pretok *p = table("a\t*\tabcd\nb\t*\tcdef\nc\t*\tfg\n");
    ck_assert_str_eq(find_all(p, "abcdefg"), "[abcd][fg]");
    ck_assert_str_eq(find_all(p, "abcd cdef fg"), "[abcd][cdef][fg]");
    tcat_pretok_free(&p);
}
END_TEST

START_TEST(test_mask_and_empty_matches)
{
    tcat_pretok *p = table("x\t*\tx+\ny\t*\ty+\nempty\t*\tq*\n");
    const tcat_span *sp;
    size_t n = 99;
    /* only pattern 1 (y) is tried */
    ck_assert_int_eq(tcat_pretok_find(p, "xxyyxx", 6, 2u, &sp, &n), TCAT_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(sp[0].off, 2);
    ck_assert_uint_eq(sp[0].len, 2);
    /* nothing tried, nothing found */
    ck_assert_int_eq(tcat_pretok_find(p, "xxyyxx", 6, 0u, &sp, &n), TCAT_OK);
    ck_assert_uint_eq(n, 0);
    /* an empty match protects nothing and does not loop, also inside
     * multi-byte characters */
    ck_assert_int_eq(tcat_pretok_find(p, "a語😀b", strlen("a語😀b"), 4u, &sp, &n), TCAT_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq(find_all(p, "語qq😀x"), "[qq][x]");
    tcat_pretok_free(&p);
}
END_TEST

START_TEST(test_default_patterns_find)
{
    tcat_pretok *p = table(tcat_default_patterns);
    ck_assert_str_eq(find_all(p, "https://example.com/a?b=c,"), "[https://example.com/a?b=c]");
    ck_assert_str_eq(find_all(p, "(www.example.org)."), "[www.example.org]");
    ck_assert_str_eq(find_all(p, "john.doe+x@example.co.uk"), "[john.doe+x@example.co.uk]");
    ck_assert_str_eq(find_all(p, "@alice,"), "[@alice]");
    ck_assert_str_eq(find_all(p, "#nlp2024!"), "[#nlp2024]");
    ck_assert_str_eq(find_all(p, "#123"), "[123]");
    ck_assert_str_eq(find_all(p, "1,234,567.89"), "[1,234,567.89]");
    ck_assert_str_eq(find_all(p, "50%"), "[50%]");
    ck_assert_str_eq(find_all(p, "2024-01-15"), "[2024-01-15]");
    ck_assert_str_eq(find_all(p, ":-)"), "[:-)]");
    ck_assert_str_eq(find_all(p, "<3"), "[<3]");
    ck_assert_str_eq(find_all(p, "^_^"), "[^_^]");
    /* inside a word, none of these */
    ck_assert_str_eq(find_all(p, "abc123"), "");
    ck_assert_str_eq(find_all(p, "a@b"), "");
    ck_assert_str_eq(find_all(p, "x:)"), "");
    /* the e-mail address inside the URL starts later: the URL wins */
    ck_assert_str_eq(find_all(p, "http://a.b/c@d.com"), "[http://a.b/c@d.com]");
    tcat_pretok_free(&p);
}
END_TEST

Suite *pretokenize_suite(void)
{
    Suite *s = suite_create("pretokenize");
    TCase *tc = tcase_new(s, "table");
    tcase_add_test(tc, test_default_table);
    tcase_add_test(tc, test_comments_blank_crlf);
    tcase_add_test(tc, test_pattern_with_tabs);
    tcase_add_test(tc, test_triggers);
    tcase_add_test(tc, test_bad_tables);
    tcase_add_test(tc, test_too_many_patterns);
    tc = tcase_new(s, "find");
    tcase_add_test(tc, test_overlap_leftmost);
    tcase_add_test(tc, test_overlap_table_order);
    tcase_add_test(tc, test_overlap_chain);
    tcase_add_test(tc, test_mask_and_empty_matches);
    tcase_add_test(tc, test_default_patterns_find);
    return s;
}
