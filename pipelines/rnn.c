#include "pipelines/rnn.h"

#include "embeddings/recurrent.h"
#include "pipelines/neural.h"
#include "pipelines/params.h"

typedef struct rnn {
    int cell;
    long hidden, layers;
} rnn;

static const char *const cells[] = {"gru", "lstm", NULL};
static const char *const extra_keys[] = {"cell", "hidden", "layers", NULL};

static tcat_status parse(void *self, const json_t *p, tcat_error *err)
{
    rnn *r = self;
    tcat_status st;
    if ((st = tcat_params_choice("rnn", p, "cell", cells, 0, &r->cell, err)) ||
        (st = tcat_params_int("rnn", p, "hidden", 128, 1, 4096, &r->hidden, err)) ||
        (st = tcat_params_int("rnn", p, "layers", 1, 1, 2, &r->layers, err)))
        return st;
    return TCAT_OK;
}

static json_t *effective(const void *self)
{
    const rnn *r = self;
    return json_pack("{s:s, s:I, s:I}", "cell", cells[r->cell], "hidden",
                     (json_int_t)r->hidden, "layers", (json_int_t)r->layers);
}

static tcat_status encoder(const void *self, size_t in_dim, tcat_encoder **out, tcat_error *err)
{
    const rnn *r = self;
    return tcat_rnn_new(out, in_dim, r->cell ? TCAT_RNN_LSTM : TCAT_RNN_GRU, (size_t)r->hidden,
                        (size_t)r->layers, err);
}

static tcat_status create(tcat_pipeline **out, const json_t *params, size_t nclasses,
                          tcat_error *err);

static const tcat_neural_family family = {
    .ops = &tcat_rnn_ops,
    .defaults = {.dim = 128, .min_count = 2, .max_words = 200000, .max_len = 200,
                 .batch = 32, .epochs = 10, .patience = 3, .dropout = 0.3, .lr = 0.002,
                 .clip = 5, .max_norm = 0, .init = "random", .mode = "nonstatic",
                 .optimizer = "adam", .punct = true},
    .extra_keys = extra_keys,
    .parse = parse,
    .effective = effective,
    .encoder = encoder,
    .self_size = sizeof(rnn),
};

static tcat_status create(tcat_pipeline **out, const json_t *params, size_t nclasses,
                          tcat_error *err)
{
    return tcat_neural_create(out, &family, params, nclasses, err);
}

const tcat_pipeline_ops tcat_rnn_ops = {
    .family = "rnn",
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
