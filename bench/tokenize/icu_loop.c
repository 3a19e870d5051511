/*
 * bench/tokenize/icu_loop.c — the bare ICU word-break loop tcat's tokenizer
 * is measured against: for each line of FILE (getline), UTF-8 -> UTF-16
 * (u_strFromUTF8), ubrk_setText on one UBRK_WORD iterator opened once with
 * the root locale, ubrk_next to the end, counting the segments whose rule
 * status is >= UBRK_WORD_NONE_LIMIT (words: letters, numbers, kana,
 * ideographs). No normalisation, no token output: prints the word count.
 *
 *   cc -O2 icu_loop.c $(pkg-config --cflags --libs icu-uc icu-i18n)
 *   ./icu_loop FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <unicode/ubrk.h>
#include <unicode/ustring.h>
#include <unicode/utypes.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: icu_loop FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    UErrorCode ec = U_ZERO_ERROR;
    UBreakIterator *bi = ubrk_open(UBRK_WORD, "", NULL, 0, &ec);
    if (U_FAILURE(ec)) {
        fprintf(stderr, "ubrk_open: %s\n", u_errorName(ec));
        return 1;
    }
    char *line = NULL;
    size_t linecap = 0;
    UChar *u16 = NULL;
    size_t u16cap = 0;
    unsigned long long words = 0, bad_lines = 0;
    ssize_t n;
    while ((n = getline(&line, &linecap, f)) != -1) {
        if (n > 0 && line[n - 1] == '\n')
            n--;
        if (n > INT32_MAX / 2) {
            fprintf(stderr, "line too long\n");
            return 1;
        }
        /* UTF-16 never needs more code units than UTF-8 has bytes */
        if ((size_t)n + 1 > u16cap) {
            u16cap = (size_t)n + 1 > 2 * u16cap ? (size_t)n + 1 : 2 * u16cap;
            u16 = realloc(u16, u16cap * sizeof *u16);
            if (!u16) {
                fprintf(stderr, "out of memory\n");
                return 1;
            }
        }
        int32_t len = 0;
        ec = U_ZERO_ERROR;
        u_strFromUTF8(u16, (int32_t)u16cap, &len, line, (int32_t)n, &ec);
        if (U_FAILURE(ec)) { /* invalid UTF-8: substitute, as tcat repairs */
            bad_lines++;
            ec = U_ZERO_ERROR;
            u_strFromUTF8WithSub(u16, (int32_t)u16cap, &len, line, (int32_t)n, 0xFFFD, NULL,
                                 &ec);
            if (U_FAILURE(ec)) {
                fprintf(stderr, "u_strFromUTF8: %s\n", u_errorName(ec));
                return 1;
            }
        }
        ubrk_setText(bi, u16, len, &ec);
        if (U_FAILURE(ec)) {
            fprintf(stderr, "ubrk_setText: %s\n", u_errorName(ec));
            return 1;
        }
        for (int32_t b = ubrk_next(bi); b != UBRK_DONE; b = ubrk_next(bi))
            if (ubrk_getRuleStatus(bi) >= UBRK_WORD_NONE_LIMIT)
                words++;
    }
    if (ferror(f)) {
        perror(argv[1]);
        return 1;
    }
    printf("%llu\n", words);
    if (bad_lines)
        fprintf(stderr, "icu_loop: %llu line(s) with invalid UTF-8\n", bad_lines);
    ubrk_close(bi);
    free(u16);
    free(line);
    fclose(f);
    return 0;
}
