/* tests/check_split.c — corpora/split: the stratified holdout and k folds,
 * their guarantees per class, and reproducibility by seed. */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "corpora/split.h"
#include "tests/suites.h"
#include "tests/testutil.h"

#define MAXC 16

/* Labels of n documents: class sizes sizes[0..nc) (class -1 for the
 * entry whose size index is `unknown_at`, if >= 0), shuffled by seed. */
static int32_t *make_labels(const size_t *sizes, size_t nc, int unknown_at, uint64_t seed,
                            size_t *n_out)
{
    size_t n = 0;
    for (size_t c = 0; c < nc; c++)
        n += sizes[c];
    int32_t *l = malloc((n ? n : 1) * sizeof *l);
    ck_assert_ptr_nonnull(l);
    size_t i = 0;
    int32_t next = 0;
    for (size_t c = 0; c < nc; c++) {
        int32_t id = (int)c == unknown_at ? -1 : next++;
        for (size_t j = 0; j < sizes[c]; j++)
            l[i++] = id;
    }
    uint64_t st = seed;
    for (size_t j = n; j > 1; j--) {
        size_t r = rng_below(&st, j);
        int32_t t = l[j - 1];
        l[j - 1] = l[r];
        l[r] = t;
    }
    *n_out = n;
    return l;
}

/* Class index for counting: label + 1 (0 is the unknown class). */
static size_t cls(int32_t l) { return (size_t)(l + 1); }

static void check_partition(const size_t *keep, size_t nkeep, const size_t *held, size_t nheld,
                            size_t n)
{
    ck_assert_uint_eq(nkeep + nheld, n);
    bool *seen = calloc(n ? n : 1, sizeof *seen);
    ck_assert_ptr_nonnull(seen);
    size_t out = 0, unsorted = 0, twice = 0, missing = 0;
    for (size_t i = 0; i < nkeep; i++) {
        if (keep[i] >= n) {
            out++;
            continue;
        }
        unsorted += i > 0 && keep[i - 1] >= keep[i]; /* sorted, no repeats */
        twice += seen[keep[i]];
        seen[keep[i]] = true;
    }
    for (size_t i = 0; i < nheld; i++) {
        if (held[i] >= n) {
            out++;
            continue;
        }
        unsorted += i > 0 && held[i - 1] >= held[i];
        twice += seen[held[i]]; /* both kept and held out */
        seen[held[i]] = true;
    }
    for (size_t i = 0; i < n; i++)
        missing += !seen[i];
    free(seen);
    ck_assert_msg(out == 0 && unsorted == 0 && twice == 0 && missing == 0,
                  "not a sorted partition: %zu out of range, %zu out of order, %zu twice, "
                  "%zu missing",
                  out, unsorted, twice, missing);
}

/* Checks the holdout guarantees of one split. */
static void check_holdout(const int32_t *l, size_t n, double frac, uint64_t seed)
{
    size_t *keep, *held, nkeep, nheld;
    ck_assert_int_eq(tcat_split_holdout(l, n, frac, seed, &keep, &nkeep, &held, &nheld), TCAT_OK);
    check_partition(keep, nkeep, held, nheld, n);
    size_t tot[MAXC] = {0}, h[MAXC] = {0};
    for (size_t i = 0; i < n; i++)
        tot[cls(l[i])]++;
    for (size_t i = 0; i < nheld; i++)
        h[cls(l[held[i]])]++;
    for (size_t c = 0; c < MAXC; c++) {
        size_t m = tot[c];
        if (m == 0)
            continue;
        if (m == 1) {
            ck_assert_msg(h[c] == 0, "frac %g: a singleton class was held out", frac);
            continue;
        }
        ck_assert_msg(h[c] >= 1, "frac %g: class of %zu documents: none held out", frac, m);
        ck_assert_msg(h[c] <= m - 1, "frac %g: class of %zu documents: all held out", frac, m);
        double want = frac * (double)m;
        if (want >= 1 && want <= (double)m - 1)
            ck_assert_msg(fabs((double)h[c] - want) <= 1.0,
                          "frac %g: class of %zu documents: %zu held out, want about %g", frac,
                          m, h[c], want);
    }
    free(keep);
    free(held);
}

START_TEST(test_holdout_stratified)
{
    /* classes of 50, 20, 7, 3, 2 and 1 documents, and 6 unknown */
    static const size_t sizes[] = {50, 20, 7, 3, 2, 1, 6};
    size_t n;
    int32_t *l = make_labels(sizes, 7, 6, 11, &n);
    static const double fracs[] = {0.01, 0.1, 0.2, 1.0 / 3, 0.5, 0.8, 0.99, 1.0};
    for (size_t f = 0; f < sizeof fracs / sizeof *fracs; f++)
        for (uint64_t seed = 0; seed < 5; seed++)
            check_holdout(l, n, fracs[f], seed);

    /* frac 0.2 exactly: round(0.2 m) per class */
    size_t *keep, *held, nkeep, nheld;
    ck_assert_int_eq(tcat_split_holdout(l, n, 0.2, 3, &keep, &nkeep, &held, &nheld), TCAT_OK);
    size_t h[MAXC] = {0};
    for (size_t i = 0; i < nheld; i++)
        h[cls(l[held[i]])]++;
    ck_assert_uint_eq(h[cls(0)], 10);
    ck_assert_uint_eq(h[cls(1)], 4);
    ck_assert_uint_eq(h[cls(5)], 0); /* the singleton */
    ck_assert_uint_eq(h[cls(-1)], 1);
    free(keep);
    free(held);
    free(l);
}
END_TEST

START_TEST(test_holdout_small_classes)
{
    /* only tiny classes: every class of two gives one, singletons none */
    static const size_t sizes[] = {2, 2, 1, 1, 2};
    size_t n;
    int32_t *l = make_labels(sizes, 5, -1, 5, &n);
    for (uint64_t seed = 0; seed < 20; seed++) {
        check_holdout(l, n, 0.1, seed);
        check_holdout(l, n, 0.9, seed);
    }
    size_t *keep, *held, nkeep, nheld;
    ck_assert_int_eq(tcat_split_holdout(l, n, 0.5, 1, &keep, &nkeep, &held, &nheld), TCAT_OK);
    ck_assert_uint_eq(nheld, 3);
    ck_assert_uint_eq(nkeep, 5);
    free(keep);
    free(held);
    free(l);

    /* no documents at all */
    ck_assert_int_eq(tcat_split_holdout(NULL, 0, 0.2, 1, &keep, &nkeep, &held, &nheld), TCAT_OK);
    ck_assert_uint_eq(nkeep, 0);
    ck_assert_uint_eq(nheld, 0);
    free(keep);
    free(held);

    /* one document */
    int32_t one = 0;
    ck_assert_int_eq(tcat_split_holdout(&one, 1, 0.5, 1, &keep, &nkeep, &held, &nheld), TCAT_OK);
    ck_assert_uint_eq(nkeep, 1);
    ck_assert_uint_eq(nheld, 0);
    ck_assert_uint_eq(keep[0], 0);
    free(keep);
    free(held);
}
END_TEST

START_TEST(test_holdout_deterministic)
{
    static const size_t sizes[] = {120, 60, 20};
    size_t n;
    int32_t *l = make_labels(sizes, 3, -1, 2, &n);
    size_t *k1, *h1, nk1, nh1, *k2, *h2, nk2, nh2;
    ck_assert_int_eq(tcat_split_holdout(l, n, 0.25, 42, &k1, &nk1, &h1, &nh1), TCAT_OK);
    ck_assert_int_eq(tcat_split_holdout(l, n, 0.25, 42, &k2, &nk2, &h2, &nh2), TCAT_OK);
    ck_assert_uint_eq(nh1, nh2);
    ck_assert_uint_eq(nh1, 50);
    ck_assert(memcmp(h1, h2, nh1 * sizeof *h1) == 0);
    ck_assert(memcmp(k1, k2, nk1 * sizeof *k1) == 0);
    free(k2);
    free(h2);
    /* another seed, another choice (same sizes) */
    ck_assert_int_eq(tcat_split_holdout(l, n, 0.25, 43, &k2, &nk2, &h2, &nh2), TCAT_OK);
    ck_assert_uint_eq(nh2, nh1);
    ck_assert(memcmp(h1, h2, nh1 * sizeof *h1) != 0);
    free(k2);
    free(h2);
    free(k1);
    free(h1);
    free(l);
}
END_TEST

/* ---- k folds ------------------------------------------------------------------- */

static void check_kfold(const int32_t *l, size_t n, size_t k, uint64_t seed)
{
    uint32_t *fold = malloc((n ? n : 1) * sizeof *fold);
    ck_assert_ptr_nonnull(fold);
    ck_assert_int_eq(tcat_split_kfold(l, n, k, seed, fold), TCAT_OK);
    size_t tot[MAXC] = {0}, per[MAXC][8] = {{0}}, size[8] = {0};
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(fold[i] < k, "document %zu in fold %u of %zu", i, fold[i], k);
        tot[cls(l[i])]++;
        per[cls(l[i])][fold[i]]++;
        size[fold[i]]++;
    }
    for (size_t c = 0; c < MAXC; c++) {
        size_t lo = tot[c] / k, hi = (tot[c] + k - 1) / k;
        for (size_t f = 0; f < k; f++)
            ck_assert_msg(per[c][f] >= lo && per[c][f] <= hi,
                          "k %zu: class of %zu documents has %zu in fold %zu", k, tot[c],
                          per[c][f], f);
    }
    /* the folds themselves differ by at most one document */
    size_t mn = n, mx = 0;
    for (size_t f = 0; f < k; f++) {
        if (size[f] < mn)
            mn = size[f];
        if (size[f] > mx)
            mx = size[f];
    }
    ck_assert_uint_le(mx - mn, 1);
    free(fold);
}

START_TEST(test_kfold_balanced)
{
    static const size_t sizes[] = {50, 20, 7, 3, 1, 1, 1, 4};
    size_t n;
    int32_t *l = make_labels(sizes, 8, 7, 9, &n);
    for (size_t k = 2; k <= 8; k++)
        for (uint64_t seed = 0; seed < 4; seed++)
            check_kfold(l, n, k, seed);
    free(l);
}
END_TEST

START_TEST(test_kfold_deterministic)
{
    static const size_t sizes[] = {40, 30, 10};
    size_t n;
    int32_t *l = make_labels(sizes, 3, -1, 4, &n);
    uint32_t a[80], b[80];
    ck_assert_uint_eq(n, 80);
    ck_assert_int_eq(tcat_split_kfold(l, n, 5, 77, a), TCAT_OK);
    ck_assert_int_eq(tcat_split_kfold(l, n, 5, 77, b), TCAT_OK);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    ck_assert_int_eq(tcat_split_kfold(l, n, 5, 78, b), TCAT_OK);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    /* one fold: everything in fold 0 */
    ck_assert_int_eq(tcat_split_kfold(l, n, 1, 3, b), TCAT_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(b[i], 0);
    free(l);
}
END_TEST

Suite *split_suite(void)
{
    Suite *s = suite_create("split");
    TCase *tc = tcase_new(s, "holdout");
    tcase_add_test(tc, test_holdout_stratified);
    tcase_add_test(tc, test_holdout_small_classes);
    tcase_add_test(tc, test_holdout_deterministic);
    tc = tcase_new(s, "kfold");
    tcase_add_test(tc, test_kfold_balanced);
    tcase_add_test(tc, test_kfold_deterministic);
    return s;
}
