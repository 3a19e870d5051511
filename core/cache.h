/*
 * core/cache.h — a keyed store of reusable artefacts for one training run.
 *
 * A model search fits many candidates on the same documents; what they
 * share (n-gram vocabularies and feature matrices, for instance) is kept
 * here under a string key that names everything it depends on, and freed
 * with the cache. Not thread-safe: one cache per search thread.
 */
#ifndef TCAT_CORE_CACHE_H
#define TCAT_CORE_CACHE_H

#include "core/status.h"

typedef struct tcat_cache tcat_cache;

tcat_status tcat_cache_new(tcat_cache **out);

/* The object stored under key, or NULL. */
void *tcat_cache_get(tcat_cache *c, const char *key);

/* Stores obj under key (which must be new); free_fn(obj) runs when the
 * cache is freed. On failure free_fn(obj) runs at once. */
tcat_status tcat_cache_put(tcat_cache *c, const char *key, void *obj, void (*free_fn)(void *));

/* Frees every object, then the cache; sets *c to NULL. NULL-safe. */
void tcat_cache_free(tcat_cache **c);

#endif
