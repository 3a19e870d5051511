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
 *   m<i>.*     the fitted parameters of member i (its family's sections)
 *
 * JSON is written with sorted keys and fixed precision, and nothing that
 * depends on the clock goes in (except the creation time, which
 * SOURCE_DATE_EPOCH pins), so the same data, seed and threads give the
 * same file byte for byte.
 *
 * Prediction averages the members' probabilities with their weights.
 */
#ifndef TCAT_MODEL_MODEL_H
#define TCAT_MODEL_MODEL_H

#include <jansson.h>
#include <stddef.h>

#include "core/status.h"
#include "corpora/labels.h"
#include "model/modelfile.h"
#include "pipelines/pipeline.h"
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
    tcat_mreader *file;   /* set when loaded: members may point into it */
} tcat_model;

/* An empty model with a copy of the tokenizer settings and a new label
 * set; members are added with tcat_model_add_member. */
tcat_status tcat_model_new(tcat_model **out, const tcat_tok_config *tok, tcat_error *err);

/* Takes ownership of p and scores (even on failure). */
tcat_status tcat_model_add_member(tcat_model *m, tcat_pipeline *p, double weight, json_t *scores,
                                  tcat_error *err);

/* Writes m to path atomically. TCAT_ERR_IO when it cannot. */
tcat_status tcat_model_save(const tcat_model *m, const char *path, tcat_error *err);

/* Reads and checks a model file. A truncated, corrupted or foreign file,
 * or one whose sections do not make a model, is TCAT_ERR_MODEL naming the
 * file and what is wrong; a missing file TCAT_ERR_IO. */
tcat_status tcat_model_load(tcat_model **out, const char *path, tcat_error *err);

/* Class probabilities of docs (docs->n x class count), the weighted mean
 * of the members'. */
tcat_status tcat_model_predict_proba(const tcat_model *m, const tcat_docs *docs, float *proba,
                                     int threads, tcat_error *err);

size_t tcat_model_classes(const tcat_model *m);

void tcat_model_free(tcat_model **m);

/* Creation time for the metadata: SOURCE_DATE_EPOCH when set (the
 * reproducible-builds convention), else now; ISO 8601 UTC in buf. */
void tcat_model_timestamp(char *buf, size_t size);

#endif
