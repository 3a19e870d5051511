#include "core/cache.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *key;
    void *obj;
    void (*free_fn)(void *);
} entry;

struct tcat_cache {
    entry *v;
    size_t n, cap;
};

tcat_status tcat_cache_new(tcat_cache **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? TCAT_OK : TCAT_ERR_NOMEM;
}

void *tcat_cache_get(tcat_cache *c, const char *key)
{
    for (size_t i = 0; c && i < c->n; i++)
        if (strcmp(c->v[i].key, key) == 0)
            return c->v[i].obj;
    return NULL;
}

tcat_status tcat_cache_put(tcat_cache *c, const char *key, void *obj, void (*free_fn)(void *))
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        entry *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            free_fn(obj);
            return TCAT_ERR_NOMEM;
        }
        c->v = v;
        c->cap = cap;
    }
    char *k = strdup(key);
    if (!k) {
        free_fn(obj);
        return TCAT_ERR_NOMEM;
    }
    c->v[c->n++] = (entry){k, obj, free_fn};
    return TCAT_OK;
}

void tcat_cache_free(tcat_cache **cp)
{
    if (!cp || !*cp)
        return;
    tcat_cache *c = *cp;
    for (size_t i = 0; i < c->n; i++) {
        c->v[i].free_fn(c->v[i].obj);
        free(c->v[i].key);
    }
    free(c->v);
    free(c);
    *cp = NULL;
}
