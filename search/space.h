/*
 * search/space.h — what the search tries: a portfolio of known-good
 * settings, then random settings drawn from a space per family.
 *
 * Both are data: search/space.json (compiled in; its "_doc" explains the
 * format), so adding a range or a known-good setting needs no code. A
 * sampled setting is a JSON object of one family's hyperparameters
 * (pipelines/<family>.h), every draw valid by construction: a "choice"
 * whose value is an object merges a group of settings that go together
 * (char_min with char_max, an optimiser with its learning rate).
 *
 *     tcat_space *sp;
 *     tcat_space_default(&sp, &err);
 *     for (size_t i = 0; i < tcat_space_portfolio_size(sp); i++)
 *         tcat_space_portfolio(sp, i, &family, &params);
 *     json_t *p = tcat_space_sample(sp, "fasttext", &rng);   // json_decref
 *     tcat_space_free(&sp);
 */
#ifndef TCAT_SEARCH_SPACE_H
#define TCAT_SEARCH_SPACE_H

#include <jansson.h>
#include <stddef.h>

#include "core/rng.h"
#include "core/status.h"

typedef struct tcat_space tcat_space;

/* The most families a space may order. */
#define TCAT_SPACE_MAX_FAMILIES 16

/* The space of search/space.json. */
tcat_status tcat_space_default(tcat_space **out, tcat_error *err);

/* A space from JSON text (the format of search/space.json). A malformed
 * one is TCAT_ERR_USAGE naming what is wrong. */
tcat_status tcat_space_parse(tcat_space **out, const char *text, tcat_error *err);

size_t tcat_space_portfolio_size(const tcat_space *s);

/* Portfolio entry i: its family and hyperparameters (borrowed). */
void tcat_space_portfolio(const tcat_space *s, size_t i, const char **family,
                          const json_t **params);

/* The families with a space, in the order random settings cycle through
 * them, NULL-terminated (borrowed). */
const char *const *tcat_space_families(const tcat_space *s);

/* A random setting of family, drawn with r (a new object), or NULL when
 * the family has no space. */
json_t *tcat_space_sample(const tcat_space *s, const char *family, tcat_rng *r);

/* The family's rough relative fit cost (linear 1). */
double tcat_space_cost(const tcat_space *s, const char *family);

void tcat_space_free(tcat_space **s);

#endif
