/* tests/testutil.c — helpers shared by the Check suites (see testutil.h). */
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "tokenizer/utf8.h"

#define RING 16

static tcat_tok *g_tok;
static tcat_buf g_ring[RING];
static size_t g_next;

static tcat_buf *ring_slot(void)
{
    tcat_buf *b = &g_ring[g_next];
    g_next = (g_next + 1) % RING;
    b->len = 0;
    return b;
}

const char *ring_copy(const char *s, size_t n)
{
    tcat_buf *b = ring_slot();
    ck_assert_int_eq(tcat_buf_append(b, s, n), TCAT_OK);
    ck_assert_int_eq(tcat_buf_append(b, "", 1), TCAT_OK);
    return b->data;
}

tcat_tok *tok_default(void)
{
    if (!g_tok) {
        tcat_tok_config cfg;
        tcat_tok_config_default(&cfg);
        tcat_error err = {0};
        ck_assert_msg(tcat_tok_init(&g_tok, &cfg, &err) == TCAT_OK, "tcat_tok_init: %s",
                      err.msg);
    }
    return g_tok;
}

const char *join_tokens(const tcat_tokens *t)
{
    tcat_buf *b = ring_slot();
    for (size_t k = 0; k < t->n; k++) {
        if (k)
            ck_assert_int_eq(tcat_buf_append(b, " ", 1), TCAT_OK);
        ck_assert_int_eq(tcat_buf_append(b, t->text + t->spans[k].off, t->spans[k].len),
                         TCAT_OK);
    }
    ck_assert_int_eq(tcat_buf_append(b, "", 1), TCAT_OK);
    return b->data;
}

const char *tok_with(tcat_tok *t, const char *s, size_t n)
{
    tcat_tokens out;
    tcat_error err = {0};
    ck_assert_msg(tcat_tok_run(t, s, n, &out, &err) == TCAT_OK, "tcat_tok_run: %s", err.msg);
    return join_tokens(&out);
}

const char *tokn(const char *s, size_t n) { return tok_with(tok_default(), s, n); }

const char *tok(const char *s) { return tokn(s, strlen(s)); }

const char *tok_cfg(const tcat_tok_config *cfg, const char *s)
{
    tcat_tok *t = NULL;
    tcat_error err = {0};
    ck_assert_msg(tcat_tok_init(&t, cfg, &err) == TCAT_OK, "tcat_tok_init: %s", err.msg);
    tcat_tokens out;
    tcat_status st = tcat_tok_run(t, s, strlen(s), &out, &err);
    const char *r = st == TCAT_OK ? join_tokens(&out) : NULL;
    tcat_tok_free(&t);
    ck_assert_msg(st == TCAT_OK, "tcat_tok_run: %s", err.msg);
    return r;
}

static void teardown_fixture(void) { testutil_teardown(); }

TCase *tcase_new(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 0);
    tcase_add_checked_fixture(tc, NULL, teardown_fixture);
    suite_add_tcase(s, tc);
    return tc;
}

void testutil_teardown(void)
{
    tcat_tok_free(&g_tok);
    for (size_t i = 0; i < RING; i++)
        tcat_buf_free(&g_ring[i]);
    g_next = 0;
}

uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void put_cp(char *buf, size_t *len, uint32_t cp)
{
    *len += tcat_utf8_encode((int32_t)cp, (uint8_t *)buf + *len);
}
