/* tests/check_segment.c — stage 4: word segmentation (ICU and the ASCII path). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "tests/suites.h"
#include "tests/testutil.h"
#include "tokenizer/segment.h"

/* ---- helpers ------------------------------------------------------------- */

static tcat_seg *g_seg;

static void seg_setup(void)
{
    tcat_error err = {0};
    ck_assert_msg(tcat_seg_init(&g_seg, &err) == TCAT_OK, "tcat_seg_init: %s", err.msg);
}

static void seg_teardown(void) { tcat_seg_free(&g_seg); }

/* The spans of s[0..n) (offsets relative to base) joined as "[tok][tok]". */
static const char *show(const char *s, size_t base, const tcat_spans *sp)
{
    tcat_buf b = {0};
    for (size_t i = 0; i < sp->n; i++) {
        ck_assert_uint_ge(sp->v[i].off, base);
        tcat_buf_append(&b, "[", 1);
        tcat_buf_append(&b, s + sp->v[i].off - base, sp->v[i].len);
        tcat_buf_append(&b, "]", 1);
    }
    const char *r = ring_copy(b.data ? b.data : "", b.len);
    tcat_buf_free(&b);
    return r;
}

static const char *icu(const char *s, bool keep_punct)
{
    tcat_spans sp = {0};
    ck_assert_int_eq(tcat_seg_icu(g_seg, s, strlen(s), 0, keep_punct, &sp), TCAT_OK);
    const char *r = show(s, 0, &sp);
    tcat_spans_free(&sp);
    return r;
}

static const char *ascii(const char *s, bool keep_punct)
{
    tcat_spans sp = {0};
    ck_assert_int_eq(tcat_seg_ascii(g_seg, s, strlen(s), 0, keep_punct, &sp), TCAT_OK);
    const char *r = show(s, 0, &sp);
    tcat_spans_free(&sp);
    return r;
}

/* Both paths, for pure ASCII input: they must agree. */
static const char *both(const char *s, bool keep_punct)
{
    const char *a = icu(s, keep_punct), *b = ascii(s, keep_punct);
    ck_assert_msg(strcmp(a, b) == 0, "'%s' (keep_punct=%d): ICU %s, ASCII path %s", s,
                  keep_punct, a, b);
    return a;
}

/* ---- ICU ------------------------------------------------------------------ */

START_TEST(test_icu_dictionaries)
{
    ck_assert_str_eq(icu("สวัสดีครับ", false), "[สวัสดี][ครับ]");
    ck_assert_str_eq(icu("ผมชอบกินข้าว", false), "[ผม][ชอบ][กิน][ข้าว]");
    ck_assert_str_eq(icu("我喜欢吃苹果", false), "[我][喜欢][吃][苹果]");
    ck_assert_str_eq(icu("北京是中国的首都", false), "[北京][是][中国][的][首都]");
    ck_assert_str_eq(icu("東京に行きます", false), "[東京][に][行き][ます]");
    ck_assert_str_eq(icu("ខ្ញុំស្រឡាញ់អ្នក", false), "[ខ្ញុំ][ស្រឡាញ់][អ្នក]");
}
END_TEST

START_TEST(test_icu_spaced_scripts)
{
    ck_assert_str_eq(icu("مرحبا بالعالم", false), "[مرحبا][بالعالم]");
    ck_assert_str_eq(icu("नमस्ते दुनिया", false), "[नमस्ते][दुनिया]");
    ck_assert_str_eq(icu("привет, мир!", false), "[привет][мир]");
    ck_assert_str_eq(icu("привет, мир!", true), "[привет][,][мир][!]");
    ck_assert_str_eq(icu("schöne grüße", false), "[schöne][grüße]");
    ck_assert_str_eq(icu("i̇stanbul'da", false), "[i̇stanbul'da]");
    ck_assert_str_eq(icu("3.14 ٣٫١٤", false), "[3.14][٣٫١٤]");
}
END_TEST

START_TEST(test_icu_emoji)
{
    /* ZWJ family, skin tone, two flags, keycap, subdivision flag: each one
     * segment, whatever keep_punct says */
    for (int kp = 0; kp < 2; kp++) {
        ck_assert_str_eq(icu("👨‍👩‍👧", kp), "[👨‍👩‍👧]");
        ck_assert_str_eq(icu("👍🏽", kp), "[👍🏽]");
        ck_assert_str_eq(icu("🇩🇪🇫🇷", kp), "[🇩🇪][🇫🇷]");
        ck_assert_str_eq(icu("1️⃣", kp), "[1️⃣]");
        ck_assert_str_eq(icu("🏴󠁧󠁢󠁳󠁣󠁴󠁿", kp), "[🏴󠁧󠁢󠁳󠁣󠁴󠁿]");
        ck_assert_str_eq(icu("ok👍🏽!", kp), kp ? "[ok][👍🏽][!]" : "[ok][👍🏽]");
        ck_assert_str_eq(icu("❤️‍🔥 👩🏽‍💻", kp), "[❤️‍🔥][👩🏽‍💻]");
    }
}
END_TEST

START_TEST(test_icu_punct_and_symbols)
{
    /* punctuation goes unless keep_punct; symbols always stay */
    ck_assert_str_eq(icu("¿Qué? «sí» — no…", false), "[Qué][sí][no]");
    ck_assert_str_eq(icu("¿Qué? «sí» — no…", true), "[¿][Qué][?][«][sí][»][—][no][…]");
    ck_assert_str_eq(icu("© ® ™ ° € ¥ √ ∞ ♥ ★", false), "[©][®][™][°][€][¥][√][∞][♥][★]");
    ck_assert_str_eq(icu("$5 + 3 < 4 😀!", false), "[$][5][+][3][<][4][😀]");
    ck_assert_str_eq(icu("「日本」。", false), "[日本]");
    ck_assert_str_eq(icu("「日本」。", true), "[「][日本][」][。]");
    ck_assert_str_eq(icu("\xEF\xBF\xBD", false), "[\xEF\xBF\xBD]"); /* U+FFFD is a symbol */
}
END_TEST

START_TEST(test_icu_never_kept)
{
    /* whitespace and lone combining marks are never tokens */
    ck_assert_str_eq(icu("", true), "");
    ck_assert_str_eq(icu("   ", true), "");
    ck_assert_str_eq(icu("\xCC\x81", true), "");
    ck_assert_str_eq(icu(" \xCC\x81 ", true), "");
    ck_assert_str_eq(icu("\xCC\x81" "b", true), "[b]");
}
END_TEST

START_TEST(test_icu_base_offsets)
{
    /* offsets are shifted by base and are UTF-8 byte offsets */
    const char *s = "我喜欢 ok 😀";
    tcat_spans sp = {0};
    ck_assert_int_eq(tcat_seg_icu(g_seg, s, strlen(s), 1000, false, &sp), TCAT_OK);
    ck_assert_uint_eq(sp.n, 4);
    ck_assert_uint_eq(sp.v[0].off, 1000); ck_assert_uint_eq(sp.v[0].len, 3);
    ck_assert_uint_eq(sp.v[1].off, 1003); ck_assert_uint_eq(sp.v[1].len, 6);
    ck_assert_uint_eq(sp.v[2].off, 1010); ck_assert_uint_eq(sp.v[2].len, 2);
    ck_assert_uint_eq(sp.v[3].off, 1013); ck_assert_uint_eq(sp.v[3].len, 4);
    /* appending: a second call adds to the list */
    ck_assert_int_eq(tcat_seg_ascii(g_seg, "x y", 3, 50, false, &sp), TCAT_OK);
    ck_assert_uint_eq(sp.n, 6);
    ck_assert_uint_eq(sp.v[4].off, 50);
    ck_assert_uint_eq(sp.v[5].off, 52);
    tcat_spans_free(&sp);
    ck_assert_ptr_null(sp.v);
    ck_assert_uint_eq(sp.n, 0);
}
END_TEST

START_TEST(test_icu_long_text)
{
    /* a text longer than the initial UTF-16 buffer, with astral characters */
    tcat_buf b = {0};
    for (int i = 0; i < 2000; i++)
        tcat_buf_append(&b, "語😀 ab ", strlen("語😀 ab "));
    tcat_spans sp = {0};
    ck_assert_int_eq(tcat_seg_icu(g_seg, b.data, b.len, 0, false, &sp), TCAT_OK);
    ck_assert_uint_eq(sp.n, 6000);
    size_t per = strlen("語😀 ab ");
    ck_assert_uint_eq(sp.v[5997].off, 1999 * per);
    ck_assert_uint_eq(sp.v[5997].len, 3);
    ck_assert_uint_eq(sp.v[5998].off, 1999 * per + 3);
    ck_assert_uint_eq(sp.v[5998].len, 4);
    ck_assert_uint_eq(sp.v[5999].off, 1999 * per + 8);
    ck_assert_uint_eq(sp.v[5999].len, 2);
    tcat_spans_free(&sp);
    tcat_buf_free(&b);
}
END_TEST

/* ---- the ASCII path --------------------------------------------------------- */

START_TEST(test_ascii_words)
{
    ck_assert_str_eq(both("the quick brown fox", false), "[the][quick][brown][fox]");
    ck_assert_str_eq(both("can't o'clock", false), "[can't][o'clock]");
    ck_assert_str_eq(both("3.14 1,000,000 1;2 a.b e.g.", false),
                     "[3.14][1,000,000][1;2][a.b][e.g]");
    ck_assert_str_eq(both("snake_case __init__ a1b2 2nd", false),
                     "[snake_case][__init__][a1b2][2nd]");
    ck_assert_str_eq(both("a:b 9:30 a;b a,b 1.a a'1", false),
                     "[a][b][9][30][a][b][a][b][1][a][a][1]");
    ck_assert_str_eq(both("a..b x. y 'q' \"z\"", false), "[a][b][x][y][q][z]");
}
END_TEST

START_TEST(test_ascii_punct)
{
    ck_assert_str_eq(both("Hello, World!", true), "[Hello][,][World][!]");
    ck_assert_str_eq(both("Hello, World!", false), "[Hello][World]");
    ck_assert_str_eq(both("e.g.", true), "[e.g][.]");
    ck_assert_str_eq(both("(a) [b] {c}", true), "[(][a][)][[][b][]][{][c][}]");
    ck_assert_str_eq(both("wait...", true), "[wait][.][.][.]");
}
END_TEST

START_TEST(test_ascii_symbols_kept)
{
    /* symbols (Sc, Sm, Sk) are kept without keep_punct */
    ck_assert_str_eq(both("$5 + 3 < 4 = x > y ^ ` | ~", false),
                     "[$][5][+][3][<][4][=][x][>][y][^][`][|][~]");
    ck_assert_str_eq(both("!\"#%&'()*,-./:;?[\\]{}", false), "");
}
END_TEST

START_TEST(test_ascii_underscore_alone)
{
    /* a lone '_' (connector punctuation) is punctuation to ICU: dropped
     * without keep_punct, as '-' is */
    ck_assert_str_eq(both("a _ b", true), "[a][_][b]");
    ck_assert_str_eq(both("a _ b", false), "[a][b]");
    ck_assert_str_eq(both("_", false), "");
    /* two or more join (WB13a) and are kept by ICU */
    ck_assert_str_eq(both("a __ b", false), "[a][__][b]");
}
END_TEST

START_TEST(test_ascii_at_sign)
{
    /* ICU's root rules (CLDR 42 and later) treat '@' like a letter, so an
     * address-like run is one segment; the ASCII path promises the same */
    both("foo@bar", true);
    both("a@b.c", false);
    both("@", false);
}
END_TEST

START_TEST(test_ascii_empty)
{
    ck_assert_str_eq(both("", true), "");
    ck_assert_str_eq(both("     ", true), "");
}
END_TEST

/* ---- differential: ASCII path == ICU on random ASCII ----------------------- */

static void differential(const char *alphabet, uint64_t seed, int iterations)
{
    uint64_t rs = seed;
    size_t na = strlen(alphabet);
    char s[41];
    int failures = 0;
    tcat_spans a = {0}, b = {0};
    for (int it = 0; it < iterations; it++) {
        size_t n = rng_below(&rs, 41);
        for (size_t i = 0; i < n; i++)
            s[i] = alphabet[rng_below(&rs, na)];
        s[n] = 0;
        for (int kp = 0; kp < 2; kp++) {
            a.n = b.n = 0;
            size_t base = rng_below(&rs, 100);
            ck_assert_int_eq(tcat_seg_icu(g_seg, s, n, base, kp, &a), TCAT_OK);
            ck_assert_int_eq(tcat_seg_ascii(g_seg, s, n, base, kp, &b), TCAT_OK);
            bool same = a.n == b.n && (a.n == 0 || memcmp(a.v, b.v, a.n * sizeof *a.v) == 0);
            if (!same && failures++ < 10)
                fprintf(stderr, "segment: '%s' (keep_punct=%d): ICU %s, ASCII path %s\n", s, kp,
                        show(s, base, &a), show(s, base, &b));
        }
    }
    tcat_spans_free(&a);
    tcat_spans_free(&b);
    ck_assert_msg(failures == 0, "%d random strings segment differently (see stderr)", failures);
}

START_TEST(test_ascii_equals_icu_random)
{
    /* the alphabet of the brief */
    differential("aZq09_.,;:'\"-!?@#$%&*()[]/ ", 42, 30000);
}
END_TEST

START_TEST(test_ascii_equals_icu_random_printable)
{
    /* every printable ASCII character */
    char al[96];
    size_t n = 0;
    for (int c = ' '; c < 0x7F; c++)
        al[n++] = (char)c;
    al[n] = 0;
    differential(al, 7, 20000);
}
END_TEST

START_TEST(test_ascii_equals_icu_random_wordy)
{
    /* mostly word characters and the mid-word separators */
    differential("ab09_.,;:' ", 99, 20000);
}
END_TEST

Suite *segment_suite(void)
{
    Suite *s = suite_create("segment");
    TCase *tc = tcase_new(s, "icu");
    tcase_add_checked_fixture(tc, seg_setup, seg_teardown);
    tcase_add_test(tc, test_icu_dictionaries);
    tcase_add_test(tc, test_icu_spaced_scripts);
    tcase_add_test(tc, test_icu_emoji);
    tcase_add_test(tc, test_icu_punct_and_symbols);
    tcase_add_test(tc, test_icu_never_kept);
    tcase_add_test(tc, test_icu_base_offsets);
    tcase_add_test(tc, test_icu_long_text);
    tc = tcase_new(s, "ascii");
    tcase_add_checked_fixture(tc, seg_setup, seg_teardown);
    tcase_add_test(tc, test_ascii_words);
    tcase_add_test(tc, test_ascii_punct);
    tcase_add_test(tc, test_ascii_symbols_kept);
    tcase_add_test(tc, test_ascii_underscore_alone);
    tcase_add_test(tc, test_ascii_at_sign);
    tcase_add_test(tc, test_ascii_empty);
    tc = tcase_new(s, "ascii-vs-icu");
    tcase_add_checked_fixture(tc, seg_setup, seg_teardown);
    tcase_add_test(tc, test_ascii_equals_icu_random);
    tcase_add_test(tc, test_ascii_equals_icu_random_printable);
    tcase_add_test(tc, test_ascii_equals_icu_random_wordy);
    return s;
}
