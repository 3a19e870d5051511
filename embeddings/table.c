#include "embeddings/table.h"

#include <stdlib.h>
#include <string.h>

void tcat_emb_bag(const tcat_tensor *E, const uint32_t *ids, size_t n, bool mean, float *out)
{
    size_t dim = E->cols;
    memset(out, 0, dim * sizeof *out);
    for (size_t i = 0; i < n; i++)
        tcat_axpy(dim, 1.0f, tcat_tensor_row(E, ids[i]), out);
    if (mean && n > 1)
        for (size_t j = 0; j < dim; j++)
            out[j] /= (float)n;
}

void tcat_emb_bag_add(tcat_tensor *E, const uint32_t *ids, size_t n, float scale, const float *g)
{
    for (size_t i = 0; i < n; i++)
        tcat_axpy(E->cols, scale, g, tcat_tensor_row(E, ids[i]));
}

void tcat_emb_gather(const tcat_tensor *E, const uint32_t *ids, size_t n, float *out)
{
    size_t dim = E->cols;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == TCAT_EMB_PAD)
            memset(out + i * dim, 0, dim * sizeof *out);
        else
            memcpy(out + i * dim, tcat_tensor_row(E, ids[i]), dim * sizeof *out);
    }
}

tcat_status tcat_emb_grad_init(tcat_emb_grad *g, size_t nrows, size_t dim)
{
    memset(g, 0, sizeof *g);
    g->dim = dim;
    g->nrows = nrows;
    if (nrows > INT32_MAX || !(g->slot = malloc((nrows ? nrows : 1) * sizeof *g->slot)))
        return TCAT_ERR_NOMEM;
    for (size_t i = 0; i < nrows; i++)
        g->slot[i] = -1;
    return TCAT_OK;
}

void tcat_emb_grad_free(tcat_emb_grad *g)
{
    free(g->slot);
    free(g->rows);
    free(g->g);
    memset(g, 0, sizeof *g);
}

void tcat_emb_grad_clear(tcat_emb_grad *g)
{
    for (size_t i = 0; i < g->n; i++)
        g->slot[g->rows[i]] = -1;
    g->n = 0;
}

/* The gradient row of table row r, added (zeroed) when new. */
static float *row_of(tcat_emb_grad *g, uint32_t r)
{
    if (g->slot[r] >= 0)
        return g->g + (size_t)g->slot[r] * g->dim;
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 256;
        uint32_t *rows = realloc(g->rows, cap * sizeof *rows);
        if (!rows)
            return NULL;
        g->rows = rows;
        float *gg = realloc(g->g, cap * g->dim * sizeof *gg);
        if (!gg)
            return NULL;
        g->g = gg;
        g->cap = cap;
    }
    g->slot[r] = (int32_t)g->n;
    g->rows[g->n] = r;
    float *row = g->g + g->n++ * g->dim;
    memset(row, 0, g->dim * sizeof *row);
    return row;
}

tcat_status tcat_emb_grad_scatter(tcat_emb_grad *g, const uint32_t *ids, size_t n,
                                  const float *dX)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == TCAT_EMB_PAD)
            continue;
        float *row = row_of(g, ids[i]);
        if (!row)
            return TCAT_ERR_NOMEM;
        const float *d = dX + i * g->dim;
        for (size_t j = 0; j < g->dim; j++)
            row[j] += d[j];
    }
    return TCAT_OK;
}

tcat_status tcat_emb_grad_merge(tcat_emb_grad *dst, const tcat_emb_grad *src)
{
    for (size_t i = 0; i < src->n; i++) {
        float *row = row_of(dst, src->rows[i]);
        if (!row)
            return TCAT_ERR_NOMEM;
        const float *s = src->g + i * src->dim;
        for (size_t j = 0; j < dst->dim; j++)
            row[j] += s[j];
    }
    return TCAT_OK;
}
