/*
 * corpora/labels.h — the set of class labels and their ids.
 *
 * Ids are dense, 0..count-1, in order of first appearance, so the same
 * data read in the same order gives the same ids. Names are byte strings
 * (normally UTF-8) compared exactly.
 */
#ifndef TCAT_CORPORA_LABELS_H
#define TCAT_CORPORA_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct tcat_labels tcat_labels;

tcat_status tcat_labels_new(tcat_labels **out);
void tcat_labels_free(tcat_labels **l);

/* The id of name[0..len), added when absent. TCAT_ERR_NOMEM. */
tcat_status tcat_labels_intern(tcat_labels *l, const char *name, size_t len, int32_t *id);

/* The id of name[0..len), or -1 when absent. */
int32_t tcat_labels_find(const tcat_labels *l, const char *name, size_t len);

size_t tcat_labels_count(const tcat_labels *l);

/* The NUL-terminated name of id (NULL when out of range). */
const char *tcat_labels_name(const tcat_labels *l, int32_t id);

/* All names, indexable by id (valid until the next intern or free). */
const char *const *tcat_labels_names(const tcat_labels *l);

#endif
