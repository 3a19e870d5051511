#include "corpora/labels.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct tcat_labels {
    char **names;
    size_t n, cap;
    int32_t *slot; /* open addressing: id or -1; size a power of two */
    size_t nslots;
};

tcat_status tcat_labels_new(tcat_labels **out)
{
    tcat_labels *l = calloc(1, sizeof *l);
    if (!l)
        return TCAT_ERR_NOMEM;
    l->nslots = 16;
    l->slot = malloc(l->nslots * sizeof *l->slot);
    if (!l->slot) {
        free(l);
        return TCAT_ERR_NOMEM;
    }
    memset(l->slot, 0xFF, l->nslots * sizeof *l->slot);
    *out = l;
    return TCAT_OK;
}

void tcat_labels_free(tcat_labels **lp)
{
    if (!lp || !*lp)
        return;
    tcat_labels *l = *lp;
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    free(l->slot);
    free(l);
    *lp = NULL;
}

static size_t probe(const tcat_labels *l, const char *name, size_t len)
{
    size_t mask = l->nslots - 1;
    size_t h = (size_t)XXH3_64bits(name, len) & mask;
    for (;;) {
        int32_t id = l->slot[h];
        if (id < 0)
            return h;
        const char *s = l->names[id];
        if (strlen(s) == len && memcmp(s, name, len) == 0)
            return h;
        h = (h + 1) & mask;
    }
}

int32_t tcat_labels_find(const tcat_labels *l, const char *name, size_t len)
{
    return l->slot[probe(l, name, len)];
}

static tcat_status grow_slots(tcat_labels *l)
{
    size_t ns = l->nslots * 2;
    int32_t *slot = malloc(ns * sizeof *slot);
    if (!slot)
        return TCAT_ERR_NOMEM;
    memset(slot, 0xFF, ns * sizeof *slot);
    free(l->slot);
    l->slot = slot;
    l->nslots = ns;
    for (size_t i = 0; i < l->n; i++)
        l->slot[probe(l, l->names[i], strlen(l->names[i]))] = (int32_t)i;
    return TCAT_OK;
}

tcat_status tcat_labels_intern(tcat_labels *l, const char *name, size_t len, int32_t *id)
{
    size_t h = probe(l, name, len);
    if (l->slot[h] >= 0) {
        *id = l->slot[h];
        return TCAT_OK;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **names = realloc(l->names, cap * sizeof *names);
        if (!names)
            return TCAT_ERR_NOMEM;
        l->names = names;
        l->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return TCAT_ERR_NOMEM;
    memcpy(copy, name, len);
    copy[len] = 0;
    l->names[l->n] = copy;
    l->slot[h] = (int32_t)l->n;
    *id = (int32_t)l->n++;
    if (2 * l->n > l->nslots && grow_slots(l) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    return TCAT_OK;
}

size_t tcat_labels_count(const tcat_labels *l) { return l->n; }

const char *tcat_labels_name(const tcat_labels *l, int32_t id)
{
    return id >= 0 && (size_t)id < l->n ? l->names[id] : NULL;
}

const char *const *tcat_labels_names(const tcat_labels *l) { return (const char *const *)l->names; }
