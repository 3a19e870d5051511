/*
 * tests/testutil.h — helpers shared by the Check suites.
 *
 *     ck_assert_str_eq(tok("Hello, World!"), "hello world");
 *
 * tok() runs tcat_tok_run with the default settings and joins the tokens
 * with single spaces. The strings it returns live in a small ring of
 * buffers, so a few of them may be used in one assertion; they are freed
 * by testutil_teardown (a checked fixture of every test case).
 */
#ifndef TCAT_TESTS_TESTUTIL_H
#define TCAT_TESTS_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "tokenizer/tokenizer.h"

/* The shared tokenizer with the default settings (built on first use). */
tcat_tok *tok_default(void);

/* Tokens of s (NUL-terminated / n bytes) with the default settings. */
const char *tok(const char *s);
const char *tokn(const char *s, size_t n);

/* Tokens of s[0..n) with tokenizer t. */
const char *tok_with(tcat_tok *t, const char *s, size_t n);

/* Tokens of s with a one-off tokenizer built from cfg. */
const char *tok_cfg(const tcat_tok_config *cfg, const char *s);

/* The tokens of one run joined with single spaces (ring storage). */
const char *join_tokens(const tcat_tokens *t);

/* A copy of s[0..n) in ring storage, NUL-terminated. */
const char *ring_copy(const char *s, size_t n);

/* Adds a test case with no time limit (Check's default is 4 s, and
 * sanitizer builds on a loaded machine must not fail for being slow). */
TCase *tcase_new(Suite *s, const char *name);

/* Frees the shared tokenizer and the ring. */
void testutil_teardown(void);

/* A small deterministic generator (splitmix64) for the random tests. */
uint64_t rng_next(uint64_t *state);
static inline size_t rng_below(uint64_t *state, size_t n)
{
    return n ? (size_t)(rng_next(state) % n) : 0;
}

/* Appends the UTF-8 form of cp to buf at *len (room for 4 bytes). */
void put_cp(char *buf, size_t *len, uint32_t cp);

#endif
