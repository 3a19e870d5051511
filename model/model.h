/*
 * model/model.h — a trained tcat model: everything predict needs, in one
 * file.
 *
 * A model holds the tokenizer settings, the label names, the ensemble
 * members (fitted pipelines, pipelines/pipeline.h) with their weights,
 * and metadata. tcat_model_save writes it through model/modelfile.h
 * (temporary file, checksums, atomic rename) as these sections:
 *
 *   meta       JSON object: format, tcat version, creation time (from
 *              SOURCE_DATE_EPOCH when set), training data hash and size,
 *              metric and scores, search summary
 *   tokenizer  the tokenizer settings (tcat_tok_config_save)
 *   labels     JSON array of the label names; position = class id
 *   members    JSON array of {"family", "params", "weight", "scores"}
 *   combiner   (optional) JSON object: how the members' probabilities are
 *              combined (search/stack.h, tcat_combine_to_json): its kind
 *              ("single", "average" or "stack"), member and class counts,
 *              the held-out score of each kind tried; for "stack" also its
 *              inputs ("log"), eps and L2 strength
 *   stack      (only with a "stack" combiner) the stacker's weights:
 *              K x (M*K + 1) floats, row-major, M = members, K = classes
 *   thresholds (only for multi-label models) K floats: label k is output
 *              when its probability reaches thresholds[k]
 *              (search/thresholds.h); every member is then one-vs-all
 *              ("multilabel": true in its params)
 *   m<i>.*     the fitted parameters of member i (its family's sections)
 *
 * JSON is written with sorted keys and fixed precision, and nothing that
 * depends on the clock goes in (except the creation time, which
 * SOURCE_DATE_EPOCH pins), so the same data, seed and threads give the
 * same file byte for byte.
 *
 * Prediction: with a "stack" combiner, each member's probabilities go
 * through the stacker (tcat_combine_apply); otherwise — no combiner (every
 * model written before stacking existed), "single" or "average" — the
 * members' probabilities are averaged with their weights.
 *
 * A model without a combiner section loads as before. A combiner that
 * does not fit the members (other counts, a "stack" section missing, cut
 * short, of the wrong size or not finite, or a "stack" section without a
 * stacking combiner) is TCAT_ERR_MODEL, and so are thresholds that are
 * not K finite floats or members that are not all one-vs-all when there
 * are thresholds (and not single-label when there are none).
 */
#ifndef TCAT_MODEL_MODEL_H
#define TCAT_MODEL_MODEL_H

#include <jansson.h>
#include <stddef.h>

#include "core/status.h"
#include "corpora/labels.h"
#include "model/modelfile.h"
#include "pipelines/pipeline.h"
#include "search/stack.h"
#include "tokenizer/tokenizer.h"

typedef struct tcat_member {
    tcat_pipeline *p; /* owned */
    double weight;    /* > 0; weights need not sum to 1 */
    json_t *scores;   /* owned JSON object (dev scores), may be NULL */
} tcat_member;

typedef struct tcat_model {
    tcat_tok_config tok;
    tcat_labels *labels;
    tcat_member *members;
    size_t nmembers;
    json_t *meta;         /* owned JSON object */
    tcat_combiner *combiner; /* owned, over the members in order; NULL: the
                              * weighted mean of the members */
    float *thresholds;    /* owned, K of them: a multi-label model; NULL:
                           * single-label (the most probable class) */
    tcat_mreader *file;   /* set when loaded: members may point into it */
} tcat_model;

/* An empty model with a copy of the tokenizer settings and a new label
 * set; members are added with tcat_model_add_member. */
tcat_status tcat_model_new(tcat_model **out, const tcat_tok_config *tok, tcat_error *err);

/* Takes ownership of p and scores (even on failure). */
tcat_status tcat_model_add_member(tcat_model *m, tcat_pipeline *p, double weight, json_t *scores,
                                  tcat_error *err);

/* Sets how the members' probabilities are combined, from a combiner
 * chosen over candidates (tcat_combine_choose): the model's members must
 * be the candidates with c->weight > 0, in the same order, so call it
 * after adding them. The model keeps a copy restricted to those members
 * (tcat_combine_compact), and each member's weight becomes its weight in
 * c. TCAT_ERR_USAGE when c's class count is not the model's or its used
 * members are not as many as the model's; TCAT_ERR_NOMEM. */
tcat_status tcat_model_set_combiner(tcat_model *m, const tcat_combiner *c, tcat_error *err);

/* Makes m a multi-label model with a copy of these K thresholds (K must
 * be the model's label count: else TCAT_ERR_USAGE). TCAT_ERR_NOMEM. */
tcat_status tcat_model_set_thresholds(tcat_model *m, const float *thr, size_t K,
                                      tcat_error *err);

/* Writes m to path atomically. TCAT_ERR_IO when it cannot. */
tcat_status tcat_model_save(const tcat_model *m, const char *path, tcat_error *err);

/* Reads and checks a model file. A truncated, corrupted or foreign file,
 * or one whose sections do not make a model, is TCAT_ERR_MODEL naming the
 * file and what is wrong; a missing file TCAT_ERR_IO. */
tcat_status tcat_model_load(tcat_model **out, const char *path, tcat_error *err);

/* Class probabilities of docs (docs->n x class count): the stacker's
 * output over the members' probabilities, or their weighted mean (see
 * above). */
tcat_status tcat_model_predict_proba(const tcat_model *m, const tcat_docs *docs, float *proba,
                                     int threads, tcat_error *err);

size_t tcat_model_classes(const tcat_model *m);

void tcat_model_free(tcat_model **m);

/* Creation time for the metadata: SOURCE_DATE_EPOCH when set (the
 * reproducible-builds convention), else now; ISO 8601 UTC in buf. */
void tcat_model_timestamp(char *buf, size_t size);

#endif
