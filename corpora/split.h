/*
 * corpora/split.h — stratified holdout and k folds, reproducible by seed.
 *
 * Stratified by the first label of each document: within every class the
 * documents are shuffled (core/rng.h, the given seed) and dealt out, so
 * each part keeps the class proportions. Documents with an unknown label
 * (-1) form a class of their own.
 */
#ifndef TCAT_CORPORA_SPLIT_H
#define TCAT_CORPORA_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Splits documents 0..n-1 (labels in label[]) into a kept part and a
 * held-out part of about frac of each class (at least one document of a
 * class with two or more; none of a class with one). *keep and *held are
 * malloc'd, sorted ascending; the caller frees them. TCAT_ERR_NOMEM. */
tcat_status tcat_split_holdout(const int32_t *label, size_t n, double frac, uint64_t seed,
                               size_t **keep, size_t *nkeep, size_t **held, size_t *nheld);

/* Assigns each document a fold in [0, k): fold[i]. Each class is dealt
 * round-robin over the folds after a shuffle, so fold sizes differ by at
 * most one per class. TCAT_ERR_NOMEM. */
tcat_status tcat_split_kfold(const int32_t *label, size_t n, size_t k, uint64_t seed,
                             uint32_t *fold);

#endif
