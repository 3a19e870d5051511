#include "pipelines/cnn.h"

#include <stdio.h>

#include "embeddings/conv.h"
#include "pipelines/params.h"
#include "pipelines/neural.h"

#define MAX_WIDTHS 8

typedef struct cnn {
    size_t widths[MAX_WIDTHS], nwidths;
    long maps;
    bool wide;
} cnn;

static const char *const extra_keys[] = {"widths", "maps", "wide", NULL};

static tcat_status parse(void *self, const json_t *p, tcat_error *err)
{
    cnn *c = self;
    const json_t *w = p ? json_object_get(p, "widths") : NULL;
    if (!w) {
        c->widths[0] = 3, c->widths[1] = 4, c->widths[2] = 5;
        c->nwidths = 3;
    } else {
        if (!json_is_array(w) || json_array_size(w) == 0 || json_array_size(w) > MAX_WIDTHS)
            return tcat_fail(err, TCAT_ERR_USAGE,
                             "cnn: hyperparameter 'widths' must be a list of 1 to %d widths",
                             MAX_WIDTHS);
        c->nwidths = json_array_size(w);
        for (size_t i = 0; i < c->nwidths; i++) {
            const json_t *v = json_array_get(w, i);
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 32)
                return tcat_fail(err, TCAT_ERR_USAGE,
                                 "cnn: hyperparameter 'widths' must hold whole numbers 1..32");
            c->widths[i] = (size_t)json_integer_value(v);
        }
    }
    tcat_status st = tcat_params_int("cnn", p, "maps", 100, 1, 4096, &c->maps, err);
    return st ? st : tcat_params_bool("cnn", p, "wide", true, &c->wide, err);
}

static json_t *effective(const void *self)
{
    const cnn *c = self;
    json_t *w = json_array();
    for (size_t i = 0; i < c->nwidths; i++)
        json_array_append_new(w, json_integer((json_int_t)c->widths[i]));
    return json_pack("{s:o, s:I, s:b}", "widths", w, "maps", (json_int_t)c->maps, "wide",
                     c->wide);
}

/* Wide convolution: the widest filter minus one zero rows on each side. */
static size_t pad(const void *self)
{
    const cnn *c = self;
    size_t maxw = 0;
    for (size_t i = 0; i < c->nwidths; i++)
        if (c->widths[i] > maxw)
            maxw = c->widths[i];
    return c->wide ? maxw - 1 : 0;
}

static void unpadded(void *self)
{
    cnn *c = self;
    c->wide = false;
}

static tcat_status encoder(const void *self, size_t in_dim, tcat_encoder **out, tcat_error *err)
{
    const cnn *c = self;
    return tcat_conv_new(out, in_dim, c->widths, c->nwidths, (size_t)c->maps, err);
}

static tcat_status create(tcat_pipeline **out, const json_t *params, size_t nclasses,
                          tcat_error *err);

static const tcat_neural_family family = {
    .ops = &tcat_cnn_ops,
    .defaults = {.dim = 300, .min_count = 1, .max_words = 200000, .max_len = 400,
                 .batch = 50, .epochs = 25, .patience = 5, .dropout = 0.5, .lr = 1.0,
                 .clip = 0, .max_norm = 3, .init = "random", .mode = "nonstatic",
                 .optimizer = "adadelta", .punct = true},
    .extra_keys = extra_keys,
    .parse = parse,
    .effective = effective,
    .encoder = encoder,
    .pad = pad,
    .unpadded = unpadded,
    .self_size = sizeof(cnn),
};

static tcat_status create(tcat_pipeline **out, const json_t *params, size_t nclasses,
                          tcat_error *err)
{
    return tcat_neural_create(out, &family, params, nclasses, err);
}

const tcat_pipeline_ops tcat_cnn_ops = {
    .family = "cnn",
    .dev_selects = true,
    .create = create,
    .fit = tcat_neural_fit,
    .predict_proba = tcat_neural_predict_proba,
    .save = tcat_neural_save,
    .load = tcat_neural_load,
    .describe = tcat_neural_describe,
    .memory = tcat_neural_memory,
    .destroy = tcat_neural_destroy,
};
