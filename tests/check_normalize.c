/* tests/check_normalize.c — stages 1 and 2: UTF-8 repair and normalisation. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/buf.h"
#include "tests/suites.h"
#include "tests/testutil.h"
#include "tokenizer/normalize.h"

/* ---- helpers ------------------------------------------------------------- */

typedef struct norm_result {
    const char *text; /* ring storage, NUL-terminated */
    size_t len;
    tcat_norm_counts counts;
} norm_result;

/* Normalises in[0..len) with both tcat_norm_run and tcat_norm_run_slow,
 * checks they agree byte for byte and count for count, and returns the
 * result. */
static norm_result norm_both(bool nfkc, bool casefold, const char *in, size_t len)
{
    tcat_norm *n = NULL;
    ck_assert_int_eq(tcat_norm_init(&n, nfkc, casefold), TCAT_OK);
    tcat_buf fast = {0}, slow = {0};
    tcat_norm_counts cf = {0, 0}, cs = {0, 0};
    ck_assert_int_eq(tcat_norm_run(n, in, len, &fast, &cf), TCAT_OK);
    ck_assert_int_eq(tcat_norm_run_slow(n, in, len, &slow, &cs), TCAT_OK);
    tcat_norm_free(&n);
    norm_result r;
    r.text = ring_copy(fast.data ? fast.data : "", fast.len);
    r.len = fast.len;
    r.counts = cf;
    const char *s = ring_copy(slow.data ? slow.data : "", slow.len);
    bool same = fast.len == slow.len && memcmp(r.text, s, fast.len) == 0;
    tcat_buf_free(&fast);
    tcat_buf_free(&slow);
    ck_assert_msg(same, "fast '%s' != slow '%s' (nfkc=%d casefold=%d)", r.text, s, nfkc,
                  casefold);
    ck_assert_msg(cf.invalid_utf8 == cs.invalid_utf8 && cf.nul_bytes == cs.nul_bytes,
                  "counts differ: fast %llu/%llu slow %llu/%llu",
                  (unsigned long long)cf.invalid_utf8, (unsigned long long)cf.nul_bytes,
                  (unsigned long long)cs.invalid_utf8, (unsigned long long)cs.nul_bytes);
    return r;
}

/* The default settings (NFKC + case folding) on a C string. */
static const char *norm(const char *s) { return norm_both(true, true, s, strlen(s)).text; }

/* All four settings: expected outputs for (nfkc,casefold) = 11, 10, 01, 00. */
static void norm4(const char *in, const char *e11, const char *e10, const char *e01,
                  const char *e00)
{
    ck_assert_str_eq(norm_both(true, true, in, strlen(in)).text, e11);
    ck_assert_str_eq(norm_both(true, false, in, strlen(in)).text, e10);
    ck_assert_str_eq(norm_both(false, true, in, strlen(in)).text, e01);
    ck_assert_str_eq(norm_both(false, false, in, strlen(in)).text, e00);
}

/* Checks in[0..len) gives `expected` with `invalid` repairs under every
 * setting (for inputs made of ASCII and bad bytes only). */
static void repair(const char *in, size_t len, const char *expected, uint64_t invalid)
{
    for (int m = 0; m < 4; m++) {
        norm_result r = norm_both(m & 1, m & 2, in, len);
        ck_assert_str_eq(r.text, expected);
        ck_assert_uint_eq(r.counts.invalid_utf8, invalid);
        ck_assert_uint_eq(r.counts.nul_bytes, 0);
    }
}

#define FFFD "\xEF\xBF\xBD"

/* a[0..an) == b[0..bn), for pointers that may be NULL when empty */
static bool same_bytes(const void *a, size_t an, const void *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* ---- specific cases ------------------------------------------------------ */

START_TEST(test_ascii)
{
    norm4("Hello, World 42!", "hello, world 42!", "Hello, World 42!", "hello, world 42!",
          "Hello, World 42!");
    ck_assert_str_eq(norm(""), "");
    norm_result r = norm_both(true, true, "", 0);
    ck_assert_uint_eq(r.len, 0);
}
END_TEST

START_TEST(test_compose)
{
    /* e + COMBINING ACUTE -> é (NFC composition), under NFKC only */
    norm4("e\xCC\x81", "\xC3\xA9", "\xC3\xA9", "e\xCC\x81", "e\xCC\x81");
    norm4("Cafe\xCC\x81 E\xCC\x81", "caf\xC3\xA9 \xC3\xA9", "Caf\xC3\xA9 \xC3\x89",
          "cafe\xCC\x81 e\xCC\x81", "Cafe\xCC\x81 E\xCC\x81");
    /* precomposed stays precomposed; NFKD+casefold+NFC of É is é */
    ck_assert_str_eq(norm("\xC3\x89"), "\xC3\xA9");
    /* marks out of canonical order: a + acute(230) + grave below(220) */
    ck_assert_str_eq(norm("a\xCC\x81\xCC\x96"), "\xC3\xA1\xCC\x96");
    ck_assert_str_eq(norm("a\xCC\x96\xCC\x81"), "\xC3\xA1\xCC\x96");
    /* Hangul jamo L V T -> one syllable 각 (U+AC01) */
    ck_assert_str_eq(norm("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");
    /* syllable 가 + T -> 각 */
    ck_assert_str_eq(norm("\xEA\xB0\x80\xE1\x86\xA8"), "\xEA\xB0\x81");
    /* Angstrom sign -> å; Ohm sign -> ω */
    ck_assert_str_eq(norm("\xE2\x84\xAB"), "\xC3\xA5");
    ck_assert_str_eq(norm("\xE2\x84\xA6"), "\xCF\x89");
    /* a mark composing with a starter across a removed control */
    ck_assert_str_eq(norm("e\x01\xCC\x81"), "\xC3\xA9");
    ck_assert_str_eq(norm("e\xE2\x80\x8B\xCC\x81"), "\xC3\xA9");
}
END_TEST

START_TEST(test_marks_without_starter)
{
    /* combining marks with no starter before them (at the start of the
     * text, after a space) are put in canonical order too: U+0356 (class
     * 220) then U+0334 (class 1) -> U+0334 U+0356, as utf8proc_map does */
    ck_assert_str_eq(norm("\xCD\x96\xCC\xB4"), "\xCC\xB4\xCD\x96");
    ck_assert_str_eq(norm("a \xCD\x96\xCC\xB4"), "a \xCC\xB4\xCD\x96");
    ck_assert_str_eq(norm("a\xC2\xA0\xCD\x96\xCC\xB4"), "a \xCC\xB4\xCD\x96");
    /* Hebrew shin + shin dot (24) + qamats (18) -> shin, qamats, shin dot */
    ck_assert_str_eq(norm("\xD7\xA9\xD7\x81\xD6\xB8"), "\xD7\xA9\xD6\xB8\xD7\x81");
}
END_TEST

START_TEST(test_compat)
{
    /* ligature fi: NFKC and case folding both expand it */
    norm4("\xEF\xAC\x81", "fi", "fi", "fi", "\xEF\xAC\x81");
    norm4("\xEF\xAC\x81nance", "finance", "finance", "finance", "\xEF\xAC\x81nance");
    /* full-width Ａ１ */
    norm4("\xEF\xBC\xA1\xEF\xBC\x91", "a1", "A1", "\xEF\xBD\x81\xEF\xBC\x91",
          "\xEF\xBC\xA1\xEF\xBC\x91");
    /* full-width sentence */
    ck_assert_str_eq(norm("\xEF\xBC\xA8\xEF\xBD\x85\xEF\xBD\x8C\xEF\xBD\x8C\xEF\xBD\x8F"
                          "\xEF\xBC\x81"),
                     "hello!");
    /* ideographic space -> ' ' under every setting (a Zs space) */
    norm4("a\xE3\x80\x80" "b", "a b", "a b", "a b", "a b");
    /* ㎏ -> kg, ½ -> 1⁄2, ² -> 2, ① -> 1 */
    ck_assert_str_eq(norm("\xE3\x8E\x8F"), "kg");
    ck_assert_str_eq(norm("\xC2\xBD"), "1\xE2\x81\x84" "2");
    ck_assert_str_eq(norm("x\xC2\xB2"), "x2");
    ck_assert_str_eq(norm("\xE2\x91\xA0"), "1");
    /* half-width katakana ｶ + ﾞ -> ガ */
    ck_assert_str_eq(norm("\xEF\xBD\xB6\xEF\xBE\x9E"), "\xE3\x82\xAC");
}
END_TEST

START_TEST(test_casefold)
{
    norm4("Stra\xC3\x9F" "e", "strasse", "Stra\xC3\x9F" "e", "strasse", "Stra\xC3\x9F" "e");
    /* capital sharp s ẞ */
    ck_assert_str_eq(norm("\xE1\xBA\x9E"), "ss");
    /* İ (U+0130) folds to i + COMBINING DOT ABOVE (full folding) */
    norm4("\xC4\xB0", "i\xCC\x87", "\xC4\xB0", "i\xCC\x87", "\xC4\xB0");
    /* Russian, Greek (no final-sigma context in case folding) */
    ck_assert_str_eq(norm("\xD0\x9F\xD0\xA0\xD0\x98\xD0\x92\xD0\x95\xD0\xA2"),
                     "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"); /* ПРИВЕТ -> привет */
    ck_assert_str_eq(norm("\xCE\xA3\xCE\x8A\xCE\xA3\xCE\xA5\xCE\xA6\xCE\x9F\xCE\xA3"),
                     "\xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x83"); /* σίσυφοσ */
    /* Ǆ -> ǆ, then NFKC: d + ž */
    ck_assert_str_eq(norm("\xC7\x84"), "d\xC5\xBE");
    /* Turkish: dotless ı stays, I folds to i (default, not Turkic, folding) */
    ck_assert_str_eq(norm("I\xC4\xB1"), "i\xC4\xB1");
}
END_TEST

START_TEST(test_spaces)
{
    /* NBSP, LINE SEPARATOR, PARAGRAPH SEPARATOR, EN SPACE, NARROW NBSP */
    norm4("a\xC2\xA0" "b", "a b", "a b", "a b", "a b");
    norm4("a\xE2\x80\xA8" "b", "a b", "a b", "a b", "a b");
    norm4("a\xE2\x80\xA9" "b", "a b", "a b", "a b", "a b");
    norm4("a\xE2\x80\x82" "b", "a b", "a b", "a b", "a b");
    norm4("a\xE2\x80\xAF" "b", "a b", "a b", "a b", "a b");
    /* whitespace controls -> ' ', NEL -> ' ' */
    norm4("a\tb\nc\rd\ve\ff\x1Cg\x1Fh", "a b c d e f g h", "a b c d e f g h",
          "a b c d e f g h", "a b c d e f g h");
    norm4("a\xC2\x85" "b", "a b", "a b", "a b", "a b");
    /* CR LF is two spaces (the line reader strips line ends) */
    ck_assert_str_eq(norm("a\r\nb"), "a  b");
}
END_TEST

START_TEST(test_controls_and_format)
{
    /* other C0 controls, DEL, C1 controls are removed */
    norm4("\x01" "a\x7F" "b\x1B", "ab", "ab", "ab", "ab");
    norm4("a\xC2\x80" "b\xC2\x9F", "ab", "ab", "ab", "ab");
    /* soft hyphen, ZWSP, ZWNJ, word joiner, LRM, BOM: format characters */
    norm4("soft\xC2\xAD" "hyphen", "softhyphen", "softhyphen", "softhyphen", "softhyphen");
    norm4("a\xE2\x80\x8B" "b\xE2\x80\x8C" "c\xE2\x81\xA0" "d\xE2\x80\x8E" "e", "abcde",
          "abcde", "abcde", "abcde");
    /* BOM at the start and inside */
    norm4("\xEF\xBB\xBF" "abc", "abc", "abc", "abc", "abc");
    ck_assert_str_eq(norm("ab\xEF\xBB\xBF" "c"), "abc");
    ck_assert_str_eq(norm("\xEF\xBB\xBF"), "");
}
END_TEST

START_TEST(test_zwj)
{
    const char *family = "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7";
    norm4(family, family, family, family, family);
    /* between letters it is dropped */
    norm4("a\xE2\x80\x8D" "b", "ab", "ab", "ab", "ab");
    /* emoji + ZWJ + letter, letter + ZWJ + emoji, trailing and leading ZWJ */
    ck_assert_str_eq(norm("\xF0\x9F\x91\xA8\xE2\x80\x8D" "a"), "\xF0\x9F\x91\xA8" "a");
    ck_assert_str_eq(norm("a\xE2\x80\x8D\xF0\x9F\x91\xA9"), "a\xF0\x9F\x91\xA9");
    ck_assert_str_eq(norm("\xF0\x9F\x91\xA8\xE2\x80\x8D"), "\xF0\x9F\x91\xA8");
    ck_assert_str_eq(norm("\xE2\x80\x8D\xF0\x9F\x91\xA9"), "\xF0\x9F\x91\xA9");
    /* ZWJ after an emoji with VS16 or a skin tone: kept (❤️‍🔥, 👩🏽‍💻) */
    const char *heart_fire = "\xE2\x9D\xA4\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x94\xA5";
    ck_assert_str_eq(norm(heart_fire), heart_fire);
    const char *coder = "\xF0\x9F\x91\xA9\xF0\x9F\x8F\xBD\xE2\x80\x8D\xF0\x9F\x92\xBB";
    ck_assert_str_eq(norm(coder), coder);
    /* a space between: not a sequence */
    ck_assert_str_eq(norm("\xF0\x9F\x91\xA8 \xE2\x80\x8D\xF0\x9F\x91\xA9"),
                     "\xF0\x9F\x91\xA8 \xF0\x9F\x91\xA9");
}
END_TEST

START_TEST(test_tags)
{
    /* 🏴 + tag g b s c t + cancel tag: England/Scotland subdivision flags */
    const char *scotland = "\xF0\x9F\x8F\xB4\xF3\xA0\x81\xA7\xF3\xA0\x81\xA2\xF3\xA0\x81\xB3"
                           "\xF3\xA0\x81\xA3\xF3\xA0\x81\xB4\xF3\xA0\x81\xBF";
    norm4(scotland, scotland, scotland, scotland, scotland);
    /* tag characters after a letter are dropped */
    ck_assert_str_eq(norm("a\xF3\xA0\x81\xA7\xF3\xA0\x81\xA2\xF3\xA0\x81\xBF" "b"), "ab");
    ck_assert_str_eq(norm("\xF3\xA0\x81\xA7"), "");
}
END_TEST

START_TEST(test_emoji_untouched)
{
    /* skin tone, keycap, flags pass through unchanged */
    const char *thumbs = "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD";
    const char *keycap = "1\xEF\xB8\x8F\xE2\x83\xA3";
    const char *flags = "\xF0\x9F\x87\xA9\xF0\x9F\x87\xAA\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7";
    norm4(thumbs, thumbs, thumbs, thumbs, thumbs);
    norm4(keycap, keycap, keycap, keycap, keycap);
    norm4(flags, flags, flags, flags, flags);
}
END_TEST

START_TEST(test_scripts_untouched)
{
    /* text already in NFKC_Casefold form comes out byte-identical */
    static const char *const s[] = {
        "สวัสดีครับ",
        "我喜欢吃苹果",
        "私は東京に住んでいます",
        "مرحبا بالعالم",
        "नमस्ते दुनिया",
        "привет мир",
        "schöne grüne äpfel",
        "türkçe çok güzel",
        "안녕하세요",
    };
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        ck_assert_str_eq(norm(s[i]), s[i]);
}
END_TEST

/* ---- invalid UTF-8 and NUL ---------------------------------------------- */

START_TEST(test_invalid_truncated)
{
    repair("a\xE4\xB8" "b", 4, "a" FFFD "b", 1);     /* 3-byte sequence cut short */
    repair("a\xF0\x9F\x98" "b", 5, "a" FFFD "b", 1); /* 4-byte sequence cut short */
    repair("a\xF0\x9F" "b", 4, "a" FFFD "b", 1);
    repair("\xC3", 1, FFFD, 1);                      /* lone lead byte at the end */
    repair("\xE4\xB8", 2, FFFD, 1);
    /* a valid character after the truncated one is never swallowed: 中 */
    ck_assert_str_eq(norm_both(true, true, "\xE4\xB8\xE4\xB8\xAD", 5).text, FFFD "\xE4\xB8\xAD");
}
END_TEST

START_TEST(test_invalid_overlong_and_surrogates)
{
    repair("\xC0\xAF", 2, FFFD FFFD, 2);             /* overlong '/' */
    repair("\xC1\xBF", 2, FFFD FFFD, 2);
    repair("\xE0\x80\xAF", 3, FFFD FFFD FFFD, 3);    /* overlong, 3 bytes */
    repair("\xF0\x80\x80\xAF", 4, FFFD FFFD FFFD FFFD, 4);
    repair("\xED\xA0\x80", 3, FFFD FFFD FFFD, 3);    /* U+D800 */
    repair("\xED\xBF\xBF", 3, FFFD FFFD FFFD, 3);    /* U+DFFF */
    repair("\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD, 4); /* above U+10FFFF */
    repair("\xF8\x88\x80\x80\x80", 5, FFFD FFFD FFFD FFFD FFFD, 5);
    repair("\xFE\xFF", 2, FFFD FFFD, 2);
}
END_TEST

START_TEST(test_invalid_continuation)
{
    repair("\x80", 1, FFFD, 1);
    repair("a\x80\xBF" "b", 4, "a" FFFD FFFD "b", 2);
    /* the Unicode Standard's example (3.9, U+FFFD substitution of maximal
     * subparts): 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 */
    repair("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", 13,
           "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d", 6);
}
END_TEST

START_TEST(test_invalid_next_to_marks)
{
    /* a bad byte then a combining mark, and a mark after U+FFFD */
    norm_result r = norm_both(true, true, "\x80\xCC\x81", 3);
    ck_assert_str_eq(r.text, FFFD "\xCC\x81");
    ck_assert_uint_eq(r.counts.invalid_utf8, 1);
    r = norm_both(true, true, "e\x80\xCC\x81", 4);
    ck_assert_str_eq(r.text, "e" FFFD "\xCC\x81");
    ck_assert_uint_eq(r.counts.invalid_utf8, 1);
}
END_TEST

START_TEST(test_nul)
{
    for (int m = 0; m < 4; m++) {
        norm_result r = norm_both(m & 1, m & 2, "a\0b\0\0c", 6);
        ck_assert_str_eq(r.text, "a b  c");
        ck_assert_uint_eq(r.counts.nul_bytes, 3);
        ck_assert_uint_eq(r.counts.invalid_utf8, 0);
    }
    /* NUL next to non-ASCII, and a mark after NUL does not compose */
    norm_result r = norm_both(true, true, "\xC3\xA9\0\xCC\x81", 5);
    ck_assert_str_eq(r.text, "\xC3\xA9 \xCC\x81");
    ck_assert_uint_eq(r.counts.nul_bytes, 1);
}
END_TEST

START_TEST(test_counts_accumulate)
{
    /* counts are added to, not overwritten */
    tcat_norm *n = NULL;
    ck_assert_int_eq(tcat_norm_init(&n, true, true), TCAT_OK);
    tcat_buf out = {0};
    tcat_norm_counts c = {5, 7};
    ck_assert_int_eq(tcat_norm_run(n, "\x80\0", 2, &out, &c), TCAT_OK);
    ck_assert_uint_eq(c.invalid_utf8, 6);
    ck_assert_uint_eq(c.nul_bytes, 8);
    /* output is appended */
    ck_assert_int_eq(tcat_norm_run(n, "X", 1, &out, &c), TCAT_OK);
    ck_assert_uint_eq(out.len, 5);
    ck_assert_int_eq(memcmp(out.data, FFFD " x", 5), 0);
    tcat_buf_free(&out);
    tcat_norm_free(&n);
    ck_assert_ptr_null(n);
    tcat_norm_free(&n); /* NULL is fine */
}
END_TEST

/* ---- differential: fast path == slow path -------------------------------- */

/* Appends one random piece of the kind listed in the brief. */
static void random_piece(uint64_t *rs, char *buf, size_t *len)
{
    static const char *const fixed[] = {
        "\0", "\t", "\n", "\r", "\x01", "\x1B", "\x7F", " ",                    /* controls */
        "\x80", "\xBF", "\xC0", "\xC3", "\xE4\xB8", "\xED\xA0\x80", "\xF0\x9F", /* invalid */
        "\xF4\x90\x80\x80", "\xFF", "\xE0\x80\xAF",
        "\xE2\x80\x8D", "\xE2\x80\x8D", "\xEF\xB8\x8F",                         /* ZWJ, VS16 */
        "\xC2\xA0", "\xE2\x80\xA8", "\xEF\xBB\xBF", "\xEF\xAC\x81", "\xC4\xB0", /* NBSP...İ */
        "\xC2\xAD", "\xC2\x85", "\xC3\x9F", "\xC3\x89", "\xE2\x84\xAB", "\xC7\x84",
        "\xF0\x9F\x91\xA8", "\xF0\x9F\x91\xA9", "\xF0\x9F\x91\xA7", "\xF0\x9F\x8F\xB4",
        "\xE2\x9D\xA4", "\xF0\x9F\x98\x80", "\xF0\x9F\x8F\xBD", "\xF0\x9F\x87\xA9",
        "\xE2\x83\xA3", "\xE3\x80\x80", "\xEF\xBD\xB6", "\xEF\xBE\x9E",
    };
    size_t kind = rng_below(rs, 14);
    uint32_t cp;
    switch (kind) {
    case 0: case 1: /* ASCII letters */
        buf[(*len)++] = (char)((rng_below(rs, 2) ? 'a' : 'A') + rng_below(rs, 26));
        return;
    case 2: case 3: { /* a fixed piece */
        const char *p = fixed[rng_below(rs, sizeof fixed / sizeof *fixed)];
        size_t n = p[0] ? strlen(p) : 1;
        memcpy(buf + *len, p, n);
        *len += n;
        return;
    }
    case 4: case 5: cp = 0x0300 + (uint32_t)rng_below(rs, 0x70); break;  /* combining */
    case 6: cp = 0x1100 + (uint32_t)rng_below(rs, 0x100); break;         /* jamo */
    case 7: cp = 0xAC00 + (uint32_t)rng_below(rs, 0xD7A4 - 0xAC00); break; /* syllables */
    case 8: cp = 0xFF01 + (uint32_t)rng_below(rs, 0xFF9F - 0xFF01); break; /* full/half width */
    case 9: cp = 0x1F300 + (uint32_t)rng_below(rs, 0x300); break;        /* emoji */
    case 10: cp = 0xE0020 + (uint32_t)rng_below(rs, 0x60); break;        /* tags */
    case 11: cp = 0x0410 + (uint32_t)rng_below(rs, 0x20); break;         /* Cyrillic upper */
    case 12: cp = 0x0391 + (uint32_t)rng_below(rs, 0x19); break;         /* Greek upper */
    default: cp = 0x00C0 + (uint32_t)rng_below(rs, 0x190); break;        /* Latin-1, Ext-A/B */
    }
    if (cp >= 0xD800 && cp < 0xE000)
        cp = 'x';
    put_cp(buf, len, cp);
}

START_TEST(test_fast_equals_slow_random)
{
    uint64_t rs = 20240601;
    tcat_norm *n[4];
    for (int m = 0; m < 4; m++)
        ck_assert_int_eq(tcat_norm_init(&n[m], m & 1, m & 2), TCAT_OK);
    tcat_buf fast = {0}, slow = {0};
    char in[40 * 8];
    int failures = 0;
    for (int it = 0; it < 20000 && failures < 5; it++) {
        size_t len = 0, pieces = rng_below(&rs, 31);
        for (size_t k = 0; k < pieces; k++)
            random_piece(&rs, in, &len);
        for (int m = 0; m < 4; m++) {
            fast.len = slow.len = 0;
            tcat_norm_counts cf = {0, 0}, cs = {0, 0};
            ck_assert_int_eq(tcat_norm_run(n[m], in, len, &fast, &cf), TCAT_OK);
            ck_assert_int_eq(tcat_norm_run_slow(n[m], in, len, &slow, &cs), TCAT_OK);
            bool same = same_bytes(fast.data, fast.len, slow.data, slow.len) &&
                        cf.invalid_utf8 == cs.invalid_utf8 && cf.nul_bytes == cs.nul_bytes;
            if (!same) {
                failures++;
                fprintf(stderr, "normalize fast != slow (nfkc=%d casefold=%d) for input:", m & 1,
                        (m & 2) != 0);
                for (size_t i = 0; i < len; i++)
                    fprintf(stderr, " %02X", (unsigned char)in[i]);
                fprintf(stderr, "\n  fast:");
                for (size_t i = 0; i < fast.len; i++)
                    fprintf(stderr, " %02X", (unsigned char)fast.data[i]);
                fprintf(stderr, " (%llu invalid, %llu NUL)\n  slow:",
                        (unsigned long long)cf.invalid_utf8, (unsigned long long)cf.nul_bytes);
                for (size_t i = 0; i < slow.len; i++)
                    fprintf(stderr, " %02X", (unsigned char)slow.data[i]);
                fprintf(stderr, " (%llu invalid, %llu NUL)\n",
                        (unsigned long long)cs.invalid_utf8, (unsigned long long)cs.nul_bytes);
            }
        }
    }
    tcat_buf_free(&fast);
    tcat_buf_free(&slow);
    for (int m = 0; m < 4; m++)
        tcat_norm_free(&n[m]);
    ck_assert_msg(failures == 0, "tcat_norm_run and tcat_norm_run_slow differ (see stderr)");
}
END_TEST

/* ---- the slow path against utf8proc's own NFKC_Casefold ------------------ */

/* A random assigned code point that is not a control, format, space or
 * surrogate character. */
static uint32_t random_plain_cp(uint64_t *rs)
{
    static const uint32_t ranges[][2] = {
        {0x0041, 0x007E}, {0x00A1, 0x024F}, {0x0300, 0x036F}, {0x0370, 0x03FF},
        {0x0400, 0x04FF}, {0x0590, 0x06FF}, {0x0900, 0x097F}, {0x0E00, 0x0E7F},
        {0x1100, 0x11FF}, {0x1E00, 0x1FFF}, {0x2000, 0x218F}, {0x2460, 0x24FF},
        {0x3040, 0x30FF}, {0x3300, 0x33FF}, {0x4E00, 0x4E80}, {0xAC00, 0xD7A3},
        {0xF900, 0xFAFF}, {0xFB00, 0xFDFF}, {0xFE30, 0xFE6F}, {0xFF01, 0xFFEE},
        {0x1D400, 0x1D7FF}, {0x1F100, 0x1F6FF}, {0x0020, 0x0020},
    };
    for (;;) {
        const uint32_t *r = ranges[rng_below(rs, sizeof ranges / sizeof *ranges)];
        uint32_t cp = r[0] + (uint32_t)rng_below(rs, r[1] - r[0] + 1);
        switch (utf8proc_category((utf8proc_int32_t)cp)) {
        case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF:
        case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL:
        case UTF8PROC_CATEGORY_ZP:
            if (cp != ' ')
                continue;
            return cp;
        default:
            return cp;
        }
    }
}

START_TEST(test_slow_equals_utf8proc)
{
    uint64_t rs = 77;
    tcat_norm *n = NULL;
    ck_assert_int_eq(tcat_norm_init(&n, true, true), TCAT_OK);
    tcat_buf out = {0};
    char in[32 * 4 + 1];
    int failures = 0;
    for (int it = 0; it < 20000 && failures < 5; it++) {
        size_t len = 0, cps = rng_below(&rs, 33);
        for (size_t k = 0; k < cps; k++)
            put_cp(in, &len, random_plain_cp(&rs));
        in[len] = 0;
        out.len = 0;
        tcat_norm_counts c = {0, 0};
        ck_assert_int_eq(tcat_norm_run_slow(n, in, len, &out, &c), TCAT_OK);
        utf8proc_uint8_t *ref = NULL;
        utf8proc_ssize_t rl = utf8proc_map((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)len,
                                           &ref, UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                                     UTF8PROC_CASEFOLD);
        ck_assert_int_ge(rl, 0);
        bool same = same_bytes(ref, (size_t)rl, out.data, out.len);
        if (!same) {
            failures++;
            fprintf(stderr, "normalize slow != utf8proc_map for '%s':\n  slow '%.*s'\n  ref  '%s'\n",
                    in, (int)out.len, out.data, (const char *)ref);
        }
        /* and the fast path agrees too */
        tcat_buf fast = {0};
        ck_assert_int_eq(tcat_norm_run(n, in, len, &fast, &c), TCAT_OK);
        if (!same_bytes(ref, (size_t)rl, fast.data, fast.len)) {
            failures++;
            fprintf(stderr, "normalize fast != utf8proc_map for '%s'\n", in);
        }
        tcat_buf_free(&fast);
        free(ref);
    }
    tcat_buf_free(&out);
    tcat_norm_free(&n);
    ck_assert_msg(failures == 0, "normalisation differs from utf8proc_map (see stderr)");
}
END_TEST

Suite *normalize_suite(void)
{
    Suite *s = suite_create("normalize");
    TCase *tc = tcase_new(s, "specific");
    tcase_add_test(tc, test_ascii);
    tcase_add_test(tc, test_compose);
    tcase_add_test(tc, test_marks_without_starter);
    tcase_add_test(tc, test_compat);
    tcase_add_test(tc, test_casefold);
    tcase_add_test(tc, test_spaces);
    tcase_add_test(tc, test_controls_and_format);
    tcase_add_test(tc, test_zwj);
    tcase_add_test(tc, test_tags);
    tcase_add_test(tc, test_emoji_untouched);
    tcase_add_test(tc, test_scripts_untouched);
    tc = tcase_new(s, "repair");
    tcase_add_test(tc, test_invalid_truncated);
    tcase_add_test(tc, test_invalid_overlong_and_surrogates);
    tcase_add_test(tc, test_invalid_continuation);
    tcase_add_test(tc, test_invalid_next_to_marks);
    tcase_add_test(tc, test_nul);
    tcase_add_test(tc, test_counts_accumulate);
    tc = tcase_new(s, "differential");
    tcase_add_test(tc, test_fast_equals_slow_random);
    tcase_add_test(tc, test_slow_equals_utf8proc);
    return s;
}
