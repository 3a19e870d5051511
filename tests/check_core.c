/* tests/check_core.c — core/rng, core/parallel, core/cache and core/lbfgs. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/cache.h"
#include "core/lbfgs.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "tests/suites.h"
#include "tests/testutil.h"

/* ---- rng ----------------------------------------------------------------- */

START_TEST(test_rng_splitmix_reference)
{
    /* the first outputs of splitmix64 from 0 (Vigna's reference code) */
    uint64_t x = 0;
    ck_assert_uint_eq(tcat_splitmix64(&x), 0xE220A8397B1DCDAFull);
    ck_assert_uint_eq(tcat_splitmix64(&x), 0x6E789E6AA1B965F4ull);
    ck_assert_uint_eq(tcat_splitmix64(&x), 0x06C45D188009454Full);
}
END_TEST

START_TEST(test_rng_same_seed_same_sequence)
{
    static const uint64_t seeds[] = {0, 1, 42, 0xFFFFFFFFFFFFFFFFull};
    for (size_t s = 0; s < 4; s++) {
        tcat_rng a, b, c;
        tcat_rng_seed(&a, seeds[s]);
        tcat_rng_seed(&b, seeds[s]);
        tcat_rng_seed(&c, seeds[s] + 1);
        ck_assert(a.s[0] | a.s[1] | a.s[2] | a.s[3]); /* never the all-zero state */
        int differ = 0, same = 0;
        for (int i = 0; i < 1000; i++) {
            uint64_t x = tcat_rng_next(&a);
            same += x == tcat_rng_next(&b);
            differ += x != tcat_rng_next(&c);
        }
        ck_assert_int_eq(same, 1000);
        ck_assert_int_gt(differ, 990);
    }
}
END_TEST

START_TEST(test_rng_below_in_range)
{
    static const uint64_t ns[] = {1, 2, 3, 7, 10, 1000, 1ull << 40, UINT64_MAX};
    tcat_rng r;
    tcat_rng_seed(&r, 7);
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
        size_t out = 0;
        for (int i = 0; i < 20000; i++)
            out += tcat_rng_below(&r, ns[k]) >= ns[k];
        ck_assert_msg(out == 0, "below(%llu): %zu values out of range",
                      (unsigned long long)ns[k], out);
    }
    /* roughly uniform: each of 10 values within 10% of its share */
    enum { DRAWS = 100000 };
    size_t hist[10] = {0};
    for (int i = 0; i < DRAWS; i++)
        hist[tcat_rng_below(&r, 10)]++;
    for (int v = 0; v < 10; v++)
        ck_assert_msg(hist[v] > DRAWS / 10 * 9 / 10 && hist[v] < DRAWS / 10 * 11 / 10,
                      "value %d drawn %zu times", v, hist[v]);
    /* uniform() is in [0, 1) */
    double sum = 0;
    size_t out = 0;
    for (int i = 0; i < DRAWS; i++) {
        double u = tcat_rng_uniform(&r);
        out += !(u >= 0.0 && u < 1.0);
        sum += u;
    }
    ck_assert_uint_eq(out, 0);
    ck_assert(sum / DRAWS > 0.49 && sum / DRAWS < 0.51);
}
END_TEST

START_TEST(test_rng_shuffle_permutation)
{
    tcat_rng r;
    tcat_rng_seed(&r, 3);
    static const size_t ns[] = {0, 1, 2, 3, 10, 257};
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
        size_t n = ns[k];
        size_t v[257], count[257] = {0};
        for (size_t i = 0; i < n; i++)
            v[i] = i;
        tcat_rng_shuffle(&r, v, n);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) {
            if (v[i] < n)
                count[v[i]]++;
            else
                bad++;
        }
        for (size_t i = 0; i < n; i++)
            bad += count[i] != 1;
        ck_assert_msg(bad == 0, "n %zu: not a permutation", n);
    }
    /* deterministic for a seed; moves things for n large */
    size_t a[100], b[100];
    for (size_t i = 0; i < 100; i++)
        a[i] = b[i] = i;
    tcat_rng ra, rb;
    tcat_rng_seed(&ra, 99);
    tcat_rng_seed(&rb, 99);
    tcat_rng_shuffle(&ra, a, 100);
    tcat_rng_shuffle(&rb, b, 100);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    size_t fixed = 0;
    for (size_t i = 0; i < 100; i++)
        fixed += a[i] == i;
    ck_assert_uint_lt(fixed, 10);
    /* every one of the 6 orders of 3 shows up */
    int seen[6] = {0};
    for (int t = 0; t < 600; t++) {
        size_t p[3] = {0, 1, 2};
        tcat_rng_shuffle(&r, p, 3);
        seen[p[0] * 2 + (p[1] > p[2])]++;
    }
    for (int i = 0; i < 6; i++)
        ck_assert_int_gt(seen[i], 50);
}
END_TEST

/* ---- parallel -------------------------------------------------------------- */

typedef struct par_ctx {
    atomic_int hits[16];
    atomic_int calls;
    pthread_t caller;
    atomic_int t0_on_caller;
    int spin;
} par_ctx;

static void par_body(void *vctx, int t)
{
    par_ctx *c = vctx;
    if (t < 0 || t >= 16)
        t = 15; /* counted where the test will see it */
    atomic_fetch_add(&c->hits[t], 1);
    atomic_fetch_add(&c->calls, 1);
    if (t == 0 && pthread_equal(pthread_self(), c->caller))
        atomic_store(&c->t0_on_caller, 1);
    /* a little work so the threads overlap */
    volatile unsigned x = 0;
    for (int i = 0; i < c->spin; i++)
        x += (unsigned)i;
}

START_TEST(test_parallel_each_once)
{
    static const int Ts[] = {1, 2, 7, 15};
    for (size_t k = 0; k < sizeof Ts / sizeof *Ts; k++) {
        for (int rep = 0; rep < 3; rep++) {
            par_ctx c;
            memset(&c, 0, sizeof c);
            c.caller = pthread_self();
            c.spin = rep * 5000;
            tcat_parallel(Ts[k], par_body, &c);
            ck_assert_int_eq(atomic_load(&c.calls), Ts[k]);
            for (int t = 0; t < 16; t++)
                ck_assert_int_eq(atomic_load(&c.hits[t]), t < Ts[k] ? 1 : 0);
            ck_assert_int_eq(atomic_load(&c.t0_on_caller), 1);
        }
    }
}
END_TEST

START_TEST(test_parallel_below_one)
{
    /* T < 1 counts as 1 */
    for (int T = -3; T <= 0; T++) {
        par_ctx c;
        memset(&c, 0, sizeof c);
        c.caller = pthread_self();
        tcat_parallel(T, par_body, &c);
        ck_assert_int_eq(atomic_load(&c.calls), 1);
        ck_assert_int_eq(atomic_load(&c.hits[0]), 1);
        ck_assert_int_eq(atomic_load(&c.t0_on_caller), 1);
    }
}
END_TEST

/* Each t fills its own slice of an array: the split is the caller's. */
typedef struct fill_ctx {
    int T;
    size_t n;
    unsigned *v;
} fill_ctx;

static void fill_body(void *vctx, int t)
{
    fill_ctx *c = vctx;
    size_t a = c->n * (size_t)t / (size_t)c->T, b = c->n * (size_t)(t + 1) / (size_t)c->T;
    for (size_t i = a; i < b; i++)
        c->v[i] += (unsigned)i * 3u + 1u;
}

START_TEST(test_parallel_slices)
{
    enum { N = 20011 };
    unsigned *v = calloc(N, sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (int T = 1; T <= 7; T += 3) {
        memset(v, 0, N * sizeof *v);
        fill_ctx c = {T, N, v};
        tcat_parallel(T, fill_body, &c);
        size_t bad = 0;
        for (size_t i = 0; i < N; i++)
            bad += v[i] != (unsigned)i * 3u + 1u;
        ck_assert_msg(bad == 0, "T %d: %zu entries wrong", T, bad);
    }
    free(v);
}
END_TEST

/* ---- cache ------------------------------------------------------------------ */

static int g_freed;

static void count_free(void *p)
{
    g_freed++;
    free(p);
}

START_TEST(test_cache)
{
    g_freed = 0;
    tcat_cache *c;
    ck_assert_int_eq(tcat_cache_new(&c), TCAT_OK);
    ck_assert_ptr_null(tcat_cache_get(c, "a"));
    enum { N = 50 };
    int *objs[N];
    char key[32];
    for (int i = 0; i < N; i++) {
        objs[i] = malloc(sizeof **objs);
        ck_assert_ptr_nonnull(objs[i]);
        *objs[i] = i;
        snprintf(key, sizeof key, "features/%d", i);
        ck_assert_int_eq(tcat_cache_put(c, key, objs[i], count_free), TCAT_OK);
    }
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "features/%d", i);
        ck_assert_ptr_eq(tcat_cache_get(c, key), objs[i]);
    }
    ck_assert_ptr_null(tcat_cache_get(c, "features/"));
    ck_assert_ptr_null(tcat_cache_get(c, "features/50"));
    ck_assert_int_eq(g_freed, 0);
    tcat_cache_free(&c);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(g_freed, N);
    tcat_cache_free(&c);
    tcat_cache_free(NULL);
}
END_TEST

/* ---- lbfgs ------------------------------------------------------------------ */

/* Rosenbrock's function of 2 variables, least at (1, 1); calls counts the
 * evaluations, and call fail (0: none) returns NaN. */
typedef struct rosen {
    int calls, fail;
} rosen;

static double rosen_f(void *ctx, const double *x, double *g)
{
    rosen *r = ctx;
    if (++r->calls == r->fail)
        return NAN;
    double a = x[1] - x[0] * x[0], b = 1 - x[0];
    g[0] = -400 * a * x[0] - 2 * b;
    g[1] = 200 * a;
    return 100 * a * a + b * b;
}

static bool always(void *ctx) { return true; }

START_TEST(test_lbfgs_minimises)
{
    /* both rule sets find the minimum from the classic start, with their
     * own scratch or the caller's, bit for bit the same */
    static const tcat_lbfgs_rules rules[] = {TCAT_LBFGS_RULES_LOGREG, TCAT_LBFGS_RULES_STACK};
    for (size_t k = 0; k < 2; k++) {
        tcat_lbfgs_opts o = {.memory = 5, .max_iter = 500, .gtol = 1e-10, .ftol = 1e-15,
                             .max_steps = 40, .rules = rules[k]};
        double x[2] = {-1.2, 1}, x2[2] = {-1.2, 1}, scratch[(4 + 2 * 5) * 2 + 2 * 5];
        ck_assert_uint_eq(tcat_lbfgs_scratch(2, 5), sizeof scratch / sizeof *scratch);
        rosen r = {0, 0};
        ck_assert_int_eq(tcat_lbfgs(rosen_f, &r, x, 2, &o, NULL), TCAT_OK);
        ck_assert_msg(fabs(x[0] - 1) < 1e-6 && fabs(x[1] - 1) < 1e-6, "rules %zu: (%.9g, %.9g)",
                      k, x[0], x[1]);
        ck_assert_int_lt(r.calls, 200);
        r.calls = 0;
        ck_assert_int_eq(tcat_lbfgs(rosen_f, &r, x2, 2, &o, scratch), TCAT_OK);
        ck_assert(memcmp(x, x2, sizeof x) == 0);
    }
}
END_TEST

START_TEST(test_lbfgs_stops)
{
    tcat_lbfgs_opts o = {.memory = 3, .max_iter = 100, .gtol = 1e-8, .ftol = 1e-12,
                         .max_steps = 30, .rules = TCAT_LBFGS_RULES_LOGREG};
    /* no iteration: one evaluation, x as given */
    double x[2] = {-1.2, 1};
    rosen r = {0, 0};
    o.max_iter = 0;
    ck_assert_int_eq(tcat_lbfgs(rosen_f, &r, x, 2, &o, NULL), TCAT_OK);
    ck_assert_int_eq(r.calls, 1);
    ck_assert(x[0] == -1.2 && x[1] == 1);
    o.max_iter = 100;
    o.stop = always;
    ck_assert_int_eq(tcat_lbfgs(rosen_f, &r, x, 2, &o, NULL), TCAT_OK);
    ck_assert_int_eq(r.calls, 2);
    ck_assert(x[0] == -1.2 && x[1] == 1);
    o.stop = NULL;
    /* a failed evaluation ends it: at the start, x as given; later, x
     * where the last line search took it, lower than at the start */
    r = (rosen){0, 1};
    ck_assert_int_eq(tcat_lbfgs(rosen_f, &r, x, 2, &o, NULL), TCAT_ERR_NOMEM);
    ck_assert(x[0] == -1.2 && x[1] == 1);
    r = (rosen){0, 12};
    ck_assert_int_eq(tcat_lbfgs(rosen_f, &r, x, 2, &o, NULL), TCAT_ERR_NOMEM);
    double g[2];
    ck_assert(x[0] != -1.2 && rosen_f(&r, x, g) < 24.2);
}
END_TEST

Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_new(s, "rng");
    tcase_add_test(tc, test_rng_splitmix_reference);
    tcase_add_test(tc, test_rng_same_seed_same_sequence);
    tcase_add_test(tc, test_rng_below_in_range);
    tcase_add_test(tc, test_rng_shuffle_permutation);
    tc = tcase_new(s, "parallel");
    tcase_add_test(tc, test_parallel_each_once);
    tcase_add_test(tc, test_parallel_below_one);
    tcase_add_test(tc, test_parallel_slices);
    tc = tcase_new(s, "cache");
    tcase_add_test(tc, test_cache);
    tc = tcase_new(s, "lbfgs");
    tcase_add_test(tc, test_lbfgs_minimises);
    tcase_add_test(tc, test_lbfgs_stops);
    return s;
}
