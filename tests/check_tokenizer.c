/* tests/check_tokenizer.c — the four stages together: tcat_tok_run,
 * options, statistics and tcat_tok_safe_cut. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "tests/suites.h"
#include "tests/testutil.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

#define FFFD "\xEF\xBF\xBD"

static tcat_tok_stats stats(void)
{
    tcat_tok_stats s;
    tcat_tok_get_stats(tok_default(), &s);
    return s;
}

/* ---- languages ------------------------------------------------------------ */

START_TEST(test_thai)
{
    ck_assert_str_eq(tok("สวัสดีครับ"), "สวัสดี ครับ");
    ck_assert_str_eq(tok("ผมชอบกินข้าว"), "ผม ชอบ กิน ข้าว");
    ck_assert_str_eq(tok("คุณชื่ออะไร"), "คุณ ชื่อ อะไร");
}
END_TEST

START_TEST(test_chinese)
{
    ck_assert_str_eq(tok("我喜欢吃苹果"), "我 喜欢 吃 苹果");
    ck_assert_str_eq(tok("我们明天去北京"), "我们 明天 去 北京");
    ck_assert_str_eq(tok("北京是中国的首都"), "北京 是 中国 的 首都");
    ck_assert_str_eq(tok("我喜欢吃苹果。你呢？"), "我 喜欢 吃 苹果 你 呢");
    /* full-width punctuation and digits next to Han */
    ck_assert_str_eq(tok("东京２０２４年"), "东京 2024 年");
}
END_TEST

START_TEST(test_japanese)
{
    ck_assert_str_eq(tok("私は学生です。"), "私 は 学生 です");
    ck_assert_str_eq(tok("猫が好きです"), "猫 が 好き です");
    ck_assert_str_eq(tok("東京に行きます"), "東京 に 行き ます");
    /* half-width katakana are made full-width by NFKC */
    ck_assert_str_eq(tok("ｶﾀｶﾅ"), "カタカナ");
}
END_TEST

START_TEST(test_arabic)
{
    ck_assert_str_eq(tok("مرحبا بالعالم"), "مرحبا بالعالم");
    ck_assert_str_eq(tok("ذهبت إلى المدرسة"), "ذهبت إلى المدرسة");
    ck_assert_str_eq(tok("اللغة العربية جميلة."), "اللغة العربية جميلة");
    ck_assert_str_eq(tok("هل أنت بخير؟"), "هل أنت بخير");
    /* Arabic-Indic and Devanagari digits */
    ck_assert_str_eq(tok("العدد ٣٫١٤ و १२३"), "العدد ٣٫١٤ و १२३");
}
END_TEST

START_TEST(test_hindi)
{
    ck_assert_str_eq(tok("नमस्ते दुनिया"), "नमस्ते दुनिया");
    ck_assert_str_eq(tok("मैं हिंदी बोलता हूँ"), "मैं हिंदी बोलता हूँ");
    ck_assert_str_eq(tok("मेरा नाम राम है।"), "मेरा नाम राम है");
    ck_assert_str_eq(tok("क्या आप ठीक हैं?"), "क्या आप ठीक हैं");
}
END_TEST

START_TEST(test_russian)
{
    ck_assert_str_eq(tok("Привет, мир! Как дела?"), "привет мир как дела");
    ck_assert_str_eq(tok("Москва — столица России."), "москва столица россии");
    ck_assert_str_eq(tok("ВСЕ ЛЮДИ РОЖДАЮТСЯ СВОБОДНЫМИ"), "все люди рождаются свободными");
    ck_assert_str_eq(tok("Это стоит 1000 рублей."), "это стоит 1000 рублей");
}
END_TEST

START_TEST(test_german)
{
    ck_assert_str_eq(tok("Die Straße ist schön."), "die strasse ist schön");
    ck_assert_str_eq(tok("Ich heiße Müller und wohne in Köln."),
                     "ich heisse müller und wohne in köln");
    ck_assert_str_eq(tok("Größe, Maße und Fußgänger"), "grösse masse und fussgänger");
    ck_assert_str_eq(tok("Ich habe 3,5 Kilo Äpfel gekauft."), "ich habe 3,5 kilo äpfel gekauft");
    /* decomposed umlauts compose */
    ck_assert_str_eq(tok("Ko\xCC\x88ln"), "köln");
}
END_TEST

START_TEST(test_turkish)
{
    ck_assert_str_eq(tok("Türkçe çok güzel bir dil."), "türkçe çok güzel bir dil");
    ck_assert_str_eq(tok("Iğdır'a gidiyorum."), "iğdır'a gidiyorum");
    /* full (not Turkic) case folding: İ -> i + U+0307, ı stays */
    ck_assert_str_eq(tok("İstanbul'da yaşıyorum."), "i\xCC\x87stanbul'da yaşıyorum");
}
END_TEST

START_TEST(test_english)
{
    ck_assert_str_eq(tok("The quick brown fox can't jump over the lazy dog."),
                     "the quick brown fox can't jump over the lazy dog");
    ck_assert_str_eq(tok("Hello, World! It's 3.14 o'clock."), "hello world it's 3.14 o'clock");
    ck_assert_str_eq(tok("I'm here; you're there. Don't stop!"),
                     "i'm here you're there don't stop");
    ck_assert_str_eq(tok("snake_case and __init__"), "snake_case and __init__");
}
END_TEST

START_TEST(test_mixed_scripts)
{
    ck_assert_str_eq(tok("Hello 世界 мир 😀!"), "hello 世界 мир 😀");
    ck_assert_str_eq(tok("iPhone用のケース"), "iphone 用 の ケース");
}
END_TEST

/* ---- emoji -------------------------------------------------------------------- */

START_TEST(test_emoji_sequences)
{
    ck_assert_str_eq(tok("👨‍👩‍👧 family"), "👨‍👩‍👧 family");
    ck_assert_str_eq(tok("👍🏽 ok"), "👍🏽 ok");
    ck_assert_str_eq(tok("🇩🇪🇫🇷"), "🇩🇪 🇫🇷");
    ck_assert_str_eq(tok("1️⃣ keycap"), "1️⃣ keycap");
    ck_assert_str_eq(tok("🏴󠁧󠁢󠁳󠁣󠁴󠁿 scotland"), "🏴󠁧󠁢󠁳󠁣󠁴󠁿 scotland");
    ck_assert_str_eq(tok("I ❤️ NY 😂😂 🤷‍♀️"), "i ❤️ ny 😂 😂 🤷‍♀️");
    ck_assert_str_eq(tok("ok👍🏽!"), "ok 👍🏽");
    ck_assert_str_eq(tok("👩🏽‍💻 codes"), "👩🏽‍💻 codes");
}
END_TEST

START_TEST(test_emoji_keycap_hash_star)
{
    /* the keycap sequences #️⃣ and *️⃣ are emoji like 1️⃣, not punctuation */
    ck_assert_str_eq(tok("#️⃣ *️⃣ 1️⃣"), "#️⃣ *️⃣ 1️⃣");
}
END_TEST

START_TEST(test_emoji_punctuation_pictographs)
{
    /* ‼️ ⁉️ 〰️ 〽️: emoji (Extended_Pictographic, with VS16) whose
     * general category is punctuation */
    ck_assert_str_eq(tok("‼️ ⁉️ 〰️ 〽️"), "‼️ ⁉️ 〰️ 〽️");
}
END_TEST

/* ---- protected spans ------------------------------------------------------------ */

START_TEST(test_urls)
{
    ck_assert_str_eq(tok("visit https://example.com/a?b=c, now"),
                     "visit https://example.com/a?b=c now");
    ck_assert_str_eq(tok("see www.example.org."), "see www.example.org");
    ck_assert_str_eq(tok("https://www.example.com/path/to?x=1&y=2#frag."),
                     "https://www.example.com/path/to?x=1&y=2#frag");
    ck_assert_str_eq(tok("(see http://例子.测试/路径)"), "see http://例子.测试/路径");
    ck_assert_str_eq(tok("ftp://files.example.org/pub"), "ftp://files.example.org/pub");
    ck_assert_str_eq(tok("WWW.EXAMPLE.COM"), "www.example.com");
}
END_TEST

START_TEST(test_url_balanced_parens)
{
    /* a closing parenthesis that balances one inside the URL belongs to it */
    ck_assert_str_eq(tok("https://en.wikipedia.org/wiki/Foo_(bar)"),
                     "https://en.wikipedia.org/wiki/foo_(bar)");
}
END_TEST

START_TEST(test_email)
{
    ck_assert_str_eq(tok("mail john.doe+x@example.co.uk please"),
                     "mail john.doe+x@example.co.uk please");
    ck_assert_str_eq(tok("email: Foo.Bar@Example.COM!"), "email foo.bar@example.com");
}
END_TEST

START_TEST(test_mentions_hashtags)
{
    ck_assert_str_eq(tok("hi @alice and #NLP2024 #123"), "hi @alice and #nlp2024 123");
    ck_assert_str_eq(tok("@Bob_99: thanks! #MachineLearning #机器学习"),
                     "@bob_99 thanks #machinelearning #机器学习");
}
END_TEST

START_TEST(test_numbers)
{
    ck_assert_str_eq(tok("1,234,567.89 and 50% and 12:30 and 2024-01-15"),
                     "1,234,567.89 and 50% and 12:30 and 2024-01-15");
    ck_assert_str_eq(tok("version 2.0.1 at 10:45:30 on 12/31/2024"),
                     "version 2.0.1 at 10:45:30 on 12/31/2024");
    ck_assert_str_eq(tok("It costs $9.99 (or €8,50)."), "it costs $ 9.99 or € 8,50");
    ck_assert_str_eq(tok("3.14.15 1.000,50 v1.2 10km"), "3.14.15 1.000,50 v1.2 10km");
}
END_TEST

START_TEST(test_emoticons)
{
    ck_assert_str_eq(tok(":) ;-) <3 :D ^_^ :-("), ":) ;-) <3 :d ^_^ :-(");
    ck_assert_str_eq(tok(">:( :P =) :-/ </3"), ">:( :p =) :-/ </3");
    ck_assert_str_eq(tok("great:)"), "great");
}
END_TEST

START_TEST(test_fullwidth_and_ligatures)
{
    ck_assert_str_eq(tok("ＡＢＣ１２３ full width"), "abc123 full width");
    ck_assert_str_eq(tok("Ｈｅｌｌｏ　Ｗｏｒｌｄ！ １２３"), "hello world 123");
    ck_assert_str_eq(tok("ﬁnance ﬂow"), "finance flow");
    ck_assert_str_eq(tok("ﬃ ﬄ ﬆ Æsop"), "ffi ffl st æsop");
}
END_TEST

/* ---- repairs ---------------------------------------------------------------------- */

START_TEST(test_invalid_utf8)
{
    tcat_tok_reset_stats(tok_default());
    ck_assert_str_eq(tokn("a\xE4\xB8" "b", 4), "a " FFFD " b");         /* truncated */
    ck_assert_uint_eq(stats().invalid_utf8, 1);
    ck_assert_str_eq(tokn("x\xC0\xAFy", 4), "x " FFFD " " FFFD " y");   /* overlong */
    ck_assert_uint_eq(stats().invalid_utf8, 3);
    ck_assert_str_eq(tokn("\xED\xA0\x80", 3), FFFD " " FFFD " " FFFD); /* surrogate */
    ck_assert_uint_eq(stats().invalid_utf8, 6);
    ck_assert_str_eq(tokn("ok\x80\x80", 4), "ok " FFFD " " FFFD);       /* continuation */
    ck_assert_uint_eq(stats().invalid_utf8, 8);
    /* a valid character after a truncated one is kept: 中文 */
    ck_assert_str_eq(tokn("\xE4\xB8\xE4\xB8\xAD\xE6\x96\x87", 8), FFFD " 中文");
    ck_assert_uint_eq(stats().invalid_utf8, 9);
    ck_assert_uint_eq(stats().nul_bytes, 0);
    ck_assert_uint_eq(stats().bytes_in, 4 + 4 + 3 + 4 + 8);
}
END_TEST

START_TEST(test_nul)
{
    tcat_tok_reset_stats(tok_default());
    ck_assert_str_eq(tokn("a\0b", 3), "a b");
    ck_assert_str_eq(tokn("\0\0hello\0", 8), "hello");
    ck_assert_str_eq(tokn("日本\0語", 10), "日本 語");
    tcat_tok_stats s = stats();
    ck_assert_uint_eq(s.nul_bytes, 5);
    ck_assert_uint_eq(s.invalid_utf8, 0);
    ck_assert_uint_eq(s.bytes_in, 21);
    tcat_tok_reset_stats(tok_default());
    s = stats();
    ck_assert_uint_eq(s.nul_bytes + s.invalid_utf8 + s.bytes_in, 0);
}
END_TEST

START_TEST(test_crlf_bom_empty)
{
    ck_assert_str_eq(tok("hello\r\nworld\r\n"), "hello world");
    ck_assert_str_eq(tok("\xEF\xBB\xBFhello"), "hello");
    ck_assert_str_eq(tok("\xEF\xBB\xBF"), "");
    ck_assert_str_eq(tok(""), "");
    ck_assert_str_eq(tok("   \t  \n "), "");
    ck_assert_str_eq(tok("!?.,"), "");
    tcat_tokens out;
    ck_assert_int_eq(tcat_tok_run(tok_default(), "", 0, &out, NULL), TCAT_OK);
    ck_assert_uint_eq(out.n, 0);
}
END_TEST

START_TEST(test_very_long_line)
{
    /* 2 MB in one call: words, Han, emoji, numbers and a URL */
    const char *unit = "word 語 😀 1,234 https://x.org/a ";
    size_t ul = strlen(unit), reps = (2u << 20) / ul;
    tcat_buf b = {0};
    for (size_t i = 0; i < reps; i++)
        ck_assert_int_eq(tcat_buf_append(&b, unit, ul), TCAT_OK);
    tcat_tokens out;
    ck_assert_int_eq(tcat_tok_run(tok_default(), b.data, b.len, &out, NULL), TCAT_OK);
    ck_assert_uint_eq(out.n, 5 * reps);
    size_t last = out.n - 1;
    ck_assert_int_eq(memcmp(out.text + out.spans[last].off, "https://x.org/a", 15), 0);
    ck_assert_uint_eq(out.spans[last].len, 15);
    ck_assert_uint_eq(out.spans[last].off, b.len - 16);
    /* one 1 MB word without a space */
    b.len = 0;
    for (size_t i = 0; i < (1u << 20); i++)
        ck_assert_int_eq(tcat_buf_append(&b, "x", 1), TCAT_OK);
    ck_assert_int_eq(tcat_tok_run(tok_default(), b.data, b.len, &out, NULL), TCAT_OK);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_uint_eq(out.spans[0].len, 1u << 20);
    tcat_buf_free(&b);
}
END_TEST

START_TEST(test_spans_well_formed)
{
    /* tokens come in order, never overlap, lie inside the text, and the
     * text is valid UTF-8 even for garbage input */
    uint64_t rs = 5;
    char in[256];
    for (int it = 0; it < 2000; it++) {
        size_t n = rng_below(&rs, sizeof in);
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rng_next(&rs);
            in[i] = (char)(r % 4 == 0 ? ' ' : r % 4 == 1 ? 'a' + (r >> 8) % 26 : (r >> 8) & 0xFF);
        }
        tcat_tokens out;
        ck_assert_int_eq(tcat_tok_run(tok_default(), in, n, &out, NULL), TCAT_OK);
        size_t end = 0;
        for (size_t k = 0; k < out.n; k++) {
            ck_assert_uint_ge(out.spans[k].off, end);
            ck_assert_uint_gt(out.spans[k].len, 0);
            end = out.spans[k].off + out.spans[k].len;
            /* each token is whole, valid UTF-8 */
            const uint8_t *t = (const uint8_t *)out.text + out.spans[k].off;
            for (size_t i = 0; i < out.spans[k].len;) {
                int32_t cp;
                i += tcat_utf8_decode(t + i, out.spans[k].len - i, &cp);
                ck_assert_int_ge(cp, 0);
            }
        }
    }
}
END_TEST

/* ---- options ------------------------------------------------------------------------ */

START_TEST(test_option_keep_case)
{
    tcat_tok_config c;
    tcat_tok_config_default(&c);
    c.casefold = false;
    ck_assert_str_eq(tok_cfg(&c, "Hello WORLD Straße ＡＢＣ"), "Hello WORLD Straße ABC");
}
END_TEST

START_TEST(test_option_no_nfkc)
{
    tcat_tok_config c;
    tcat_tok_config_default(&c);
    c.nfkc = false;
    /* case folding still expands ﬁ and maps Ａ to ａ; ① and ½ stay */
    ck_assert_str_eq(tok_cfg(&c, "ﬁ Ａ ① ½ e\xCC\x81"), "fi ａ ① ½ e\xCC\x81");
    c.casefold = false;
    ck_assert_str_eq(tok_cfg(&c, "ﬁ Ａ"), "ﬁ Ａ");
}
END_TEST

START_TEST(test_option_keep_punct)
{
    tcat_tok_config c;
    tcat_tok_config_default(&c);
    c.keep_punct = true;
    ck_assert_str_eq(tok_cfg(&c, "Hello, World! ¿Qué? «sí»"),
                     "hello , world ! ¿ qué ? « sí »");
    ck_assert_str_eq(tok_cfg(&c, "visit https://x.org/a, ok :)"),
                     "visit https://x.org/a , ok :)");
    ck_assert_str_eq(tok_cfg(&c, "我喜欢吃苹果。"), "我 喜欢 吃 苹果 。");
}
END_TEST

START_TEST(test_option_no_patterns)
{
    tcat_tok_config c;
    tcat_tok_config_default(&c);
    c.patterns_on = false;
    ck_assert_str_eq(tok_cfg(&c, "see https://x.org/a 50% :-) #tag 1,234.5"),
                     "see https x.org a 50 tag 1,234.5");
    c.keep_punct = true;
    ck_assert_str_eq(tok_cfg(&c, ":-) 50%"), ": - ) 50 %");
}
END_TEST

START_TEST(test_custom_patterns)
{
    tcat_tok_config c;
    tcat_tok_config_default(&c);
    c.patterns = strdup("# issue numbers only\nissue\t#\t#[0-9]+\n");
    ck_assert_ptr_nonnull(c.patterns);
    /* #123 is protected, URLs and emoticons no longer are */
    ck_assert_str_eq(tok_cfg(&c, "fixes #123 see http://x.org :)"),
                     "fixes #123 see http x.org");
    tcat_tok_config_clear(&c);
    ck_assert_ptr_null(c.patterns);
    /* an empty table: nothing protected */
    c.patterns = strdup("");
    ck_assert_str_eq(tok_cfg(&c, "x.org/a :) 50% 1,5"), "x.org a 50 1,5");
    tcat_tok_config_clear(&c);
}
END_TEST

START_TEST(test_bad_pattern_table)
{
    tcat_tok_config c;
    tcat_tok_config_default(&c);
    c.patterns = strdup("ok\t*\tx\n\nbroken\t*\t[unclosed\n");
    tcat_tok *t = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_tok_init(&t, &c, &err), TCAT_ERR_INPUT);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 3"));
    ck_assert_int_eq(tcat_status_exit_code(err.status), TCAT_EXIT_INPUT);
    /* the table is ignored when the patterns are off */
    c.patterns_on = false;
    ck_assert_int_eq(tcat_tok_init(&t, &c, &err), TCAT_OK);
    tcat_tok_free(&t);
    tcat_tok_config_clear(&c);
}
END_TEST

START_TEST(test_config_is_copied)
{
    tcat_tok_config c;
    tcat_tok_config_default(&c);
    c.keep_punct = true;
    c.patterns = strdup("n\t0-9\t[0-9]+\n");
    tcat_tok *t = NULL;
    ck_assert_int_eq(tcat_tok_init(&t, &c, NULL), TCAT_OK);
    tcat_tok_config_clear(&c); /* the tokenizer has its own copy */
    const tcat_tok_config *g = tcat_tok_get_config(t);
    ck_assert(g->keep_punct);
    ck_assert(g->nfkc);
    ck_assert_str_eq(g->patterns, "n\t0-9\t[0-9]+\n");
    ck_assert_str_eq(tok_with(t, "a, 12", 5), "a , 12");
    tcat_tok_free(&t);
    ck_assert_ptr_null(t);
    tcat_tok_free(&t);
    tcat_tok_free(NULL);
}
END_TEST

START_TEST(test_results_valid_until_next_run)
{
    tcat_tok *t = tok_default();
    tcat_tokens a;
    ck_assert_int_eq(tcat_tok_run(t, "one two", 7, &a, NULL), TCAT_OK);
    ck_assert_uint_eq(a.n, 2);
    const char *first = join_tokens(&a);
    tcat_tokens b;
    ck_assert_int_eq(tcat_tok_run(t, "three", 5, &b, NULL), TCAT_OK);
    ck_assert_str_eq(first, "one two");
    ck_assert_str_eq(join_tokens(&b), "three");
    /* the same input twice gives the same tokens */
    ck_assert_str_eq(tok("Über 😀 #tag"), tok("Über 😀 #tag"));
}
END_TEST

/* ---- tcat_tok_safe_cut ------------------------------------------------------------ */

START_TEST(test_safe_cut_basic)
{
    ck_assert_uint_eq(tcat_tok_safe_cut("", 0), 0);
    ck_assert_uint_eq(tcat_tok_safe_cut("a", 1), 1);
    ck_assert_uint_eq(tcat_tok_safe_cut("abc def", 7), 4);
    ck_assert_uint_eq(tcat_tok_safe_cut("abc def ", 8), 8);
    ck_assert_uint_eq(tcat_tok_safe_cut("a b\tc", 5), 4);
    ck_assert_uint_eq(tcat_tok_safe_cut("a\rbc", 4), 2);
    /* NUL is a space to the tokenizer but not a cut point */
    ck_assert_uint_eq(tcat_tok_safe_cut("a b\0c", 5), 2);
    /* no space: before the last code point (the text goes on) */
    ck_assert_uint_eq(tcat_tok_safe_cut("abcd", 4), 3);
    ck_assert_uint_eq(tcat_tok_safe_cut("我喜欢", 9), 6);
    /* an incomplete last code point is never cut after; "喜" may start a
     * word with what follows (喜欢), so the cut is at the ICU word
     * boundary before it */
    ck_assert_uint_eq(tcat_tok_safe_cut("我喜\xE6\xAC", 8), 3);
    /* never between a letter and its combining mark: "abe" + U+0301 */
    ck_assert_uint_eq(tcat_tok_safe_cut("abe\xCC\x81", 5), 2);
    /* nor inside a Hangul syllable written as jamo: "x" + L V T */
    ck_assert_uint_eq(tcat_tok_safe_cut("x\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8", 10), 1);
}
END_TEST

START_TEST(test_safe_cut_emoji_sequences)
{
    /* no space in the window: the cut must not split a grapheme cluster,
     * which for a ZWJ sequence and a flag is the whole emoji */
    const char *fam = "👨‍👩‍👧"; /* 18 bytes */
    char buf[256];
    size_t n = 0;
    for (int i = 0; i < 5; i++) {
        memcpy(buf + n, fam, 18);
        n += 18;
    }
    /* every window of the run cuts between two families */
    for (size_t w = 19; w <= n; w++) {
        size_t p = tcat_tok_safe_cut(buf, w);
        ck_assert_msg(p % 18 == 0, "ZWJ family run, window %zu: cut at %zu splits a family", w, p);
    }
}
END_TEST

START_TEST(test_safe_cut_flags)
{
    /* 16 regional indicators = 8 flags (64 bytes), as in a 64-byte window */
    char buf[64];
    size_t n = 0;
    for (int i = 0; i < 8; i++) {
        memcpy(buf + n, "🇩🇪", 8);
        n += 8;
    }
    for (size_t w = 9; w <= n; w++) {
        size_t p = tcat_tok_safe_cut(buf, w);
        ck_assert_msg(p % 8 == 0, "flag run, window %zu: cut at %zu splits a flag", w, p);
    }
}
END_TEST

/* Random texts for the cut property: words in several scripts, emoji,
 * protected spans, spaces, tabs, CRs, NULs, bad bytes and marks. */
static size_t random_text(uint64_t *rs, char *buf)
{
    static const char *const pieces[] = {
        " ", " ", " ", " ", "  ", "\t", "\r", "\0", "hello", "World", "can't", "3.14",
        "1,234", "50%", ":)", ";-)", "<3", "@bob", "#tag", "a@b.co", "https://x.org/a?b=1",
        "www.ex.com.", "我喜欢", "苹果", "สวัสดี", "ครับ", "東京", "に", "мир", "Straße",
        "ﬁ", "Ａ１", "e\xCC\x81", "\xCC\x81", "\xE2\x80\x8D", "👨‍👩‍👧", "👍🏽", "🇩🇪", "1️⃣",
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "\x80", "\xE4\xB8", "\xC0\xAF", "\xEF\xBB\xBF", ".", ",", "!", "(", ")",
        "$", "+", "_", "'", "\xC2\xA0", "\xE2\x80\xA8", "İ",
    };
    size_t n = 0, k = 1 + rng_below(rs, 16);
    for (size_t i = 0; i < k; i++) {
        const char *p = pieces[rng_below(rs, sizeof pieces / sizeof *pieces)];
        size_t l = p[0] ? strlen(p) : 1;
        memcpy(buf + n, p, l);
        n += l;
    }
    return n;
}

START_TEST(test_safe_cut_property)
{
    uint64_t rs = 31337;
    tcat_tok *t = tok_default();
    char text[16 * 40];
    int failures = 0;
    for (int it = 0; it < 400 && failures < 10; it++) {
        size_t n = random_text(&rs, text);
        const char *whole = tok_with(t, text, n);
        bool tested[sizeof text + 1] = {false};
        /* where code points (or maximal ill-formed subparts) start */
        bool bound[sizeof text + 1] = {false};
        for (size_t i = 0; i < n;) {
            int32_t cp;
            bound[i] = true;
            i += tcat_utf8_decode((const uint8_t *)text + i, n - i, &cp);
        }
        bound[n] = true;
        /* every window [s, e) of the text */
        for (size_t s = 0; s < n; s++) {
            size_t next = s + 1; /* the first boundary after s */
            while (!bound[next])
                next++;
            bool space = false; /* a space, tab or CR in the window */
            for (size_t e = s + 1; e <= n; e++) {
                space |= text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r';
                size_t c = tcat_tok_safe_cut(text + s, e - s);
                ck_assert_uint_gt(c, 0);
                ck_assert_uint_le(c, e - s);
                size_t p = s + c;
                /* never inside a UTF-8 sequence, for a window that starts
                 * on a code point and holds at least one whole */
                if (bound[s] && next <= e)
                    ck_assert_msg(bound[p], "cut at %zu inside a UTF-8 sequence (window %zu-%zu)",
                                  p, s, e);
                if (!space || tested[p])
                    continue;
                tested[p] = true;
                /* tokens of [0,p) then [p,n) == tokens of the whole */
                const char *a = tok_with(t, text, p);
                const char *b = tok_with(t, text + p, n - p);
                char joined[4096];
                snprintf(joined, sizeof joined, "%s%s%s", a, *a && *b ? " " : "", b);
                if (strcmp(joined, whole) != 0 && failures++ < 10) {
                    fprintf(stderr, "safe_cut: text '");
                    for (size_t i = 0; i < n; i++)
                        fprintf(stderr, text[i] >= 0x20 && text[i] < 0x7F ? "%c" : "\\x%02X",
                                (unsigned char)text[i]);
                    fprintf(stderr, "' cut at %zu: '%s' | '%s' != '%s'\n", p, a, b, whole);
                }
            }
        }
    }
    ck_assert_msg(failures == 0, "%d cuts change the tokens (see stderr)", failures);
}
END_TEST

Suite *tokenizer_suite(void)
{
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_new(s, "languages");
    tcase_add_test(tc, test_thai);
    tcase_add_test(tc, test_chinese);
    tcase_add_test(tc, test_japanese);
    tcase_add_test(tc, test_arabic);
    tcase_add_test(tc, test_hindi);
    tcase_add_test(tc, test_russian);
    tcase_add_test(tc, test_german);
    tcase_add_test(tc, test_turkish);
    tcase_add_test(tc, test_english);
    tcase_add_test(tc, test_mixed_scripts);
    tc = tcase_new(s, "emoji-and-patterns");
    tcase_add_test(tc, test_emoji_sequences);
    tcase_add_test(tc, test_emoji_keycap_hash_star);
    tcase_add_test(tc, test_emoji_punctuation_pictographs);
    tcase_add_test(tc, test_urls);
    tcase_add_test(tc, test_url_balanced_parens);
    tcase_add_test(tc, test_email);
    tcase_add_test(tc, test_mentions_hashtags);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_emoticons);
    tcase_add_test(tc, test_fullwidth_and_ligatures);
    tc = tcase_new(s, "repairs-and-edges");
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_nul);
    tcase_add_test(tc, test_crlf_bom_empty);
    tcase_add_test(tc, test_very_long_line);
    tcase_add_test(tc, test_spans_well_formed);
    tc = tcase_new(s, "options");
    tcase_add_test(tc, test_option_keep_case);
    tcase_add_test(tc, test_option_no_nfkc);
    tcase_add_test(tc, test_option_keep_punct);
    tcase_add_test(tc, test_option_no_patterns);
    tcase_add_test(tc, test_custom_patterns);
    tcase_add_test(tc, test_bad_pattern_table);
    tcase_add_test(tc, test_config_is_copied);
    tcase_add_test(tc, test_results_valid_until_next_run);
    tc = tcase_new(s, "safe-cut");
    tcase_add_test(tc, test_safe_cut_basic);
    tcase_add_test(tc, test_safe_cut_emoji_sequences);
    tcase_add_test(tc, test_safe_cut_flags);
    tcase_add_test(tc, test_safe_cut_property);
    return s;
}
