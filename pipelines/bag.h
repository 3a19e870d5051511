/*
 * pipelines/bag.h — seed bagging: several copies of one family's pipeline,
 * fitted on the same documents with different seeds, their probabilities
 * averaged.
 *
 * A network's test score moves by one or two points from one seed to the
 * next on corpora of a few thousand documents (bench/neural), and the
 * average of a few seeds is both better and steadier than any one of
 * them. The search refits its neural members this way (search/search.h).
 *
 * Hyperparameter "bag": n, accepted by every family (tcat_pipeline_create
 * takes it off before the family parses the rest): n copies, 1 to
 * TCAT_BAG_MAX; 1 (the default) is the plain pipeline, no wrapper. Copy i
 * fits with seed tcat_bag_seed(seed, i), so copy 0 is the plain
 * pipeline's fit. With a deadline, copy i > 0 is only started when the
 * fits so far say it ends before it; "bag" in the effective
 * hyperparameters is then the number fitted (at least 1). The copies fit
 * one after another, each on all the threads given.
 *
 * The wrapper reports the family's name (ops->family) and the first
 * copy's effective hyperparameters plus "bag", so a model file's member
 * table reads as the family's. Sections: copy i's own under
 * "<prefix>.b<i>.*", and its effective hyperparameters (JSON; what it
 * fitted on dev, such as its temperature, differs by seed) in
 * "<prefix>.b<i>.params". A missing or malformed one is TCAT_ERR_MODEL.
 */
#ifndef TCAT_PIPELINES_BAG_H
#define TCAT_PIPELINES_BAG_H

#include <jansson.h>

#include "core/status.h"
#include "pipelines/pipeline.h"

#define TCAT_BAG_MAX 16

/* A bag of n (2..TCAT_BAG_MAX) unfitted pipelines of ops's family, each
 * created with params (which must not hold "bag"). */
tcat_status tcat_bag_create(tcat_pipeline **out, const tcat_pipeline_ops *ops,
                            const json_t *params, size_t n, size_t nclasses, tcat_error *err);

/* The seed copy i fits with (i = 0: seed itself). */
uint64_t tcat_bag_seed(uint64_t seed, size_t i);

#endif
