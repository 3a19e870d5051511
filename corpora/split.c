#include "corpora/split.h"

#include <stdlib.h>

#include "core/rng.h"

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* order[] = document indices grouped by class (unknown labels first),
 * each group shuffled; start[c]..start[c+1] is the group of class c-1
 * (class index shifted by one for the unknown group). */
static tcat_status by_class(const int32_t *label, size_t n, uint64_t seed, size_t **order_out,
                            size_t **start_out, size_t *ngroups)
{
    int32_t maxl = -1;
    for (size_t i = 0; i < n; i++)
        if (label[i] > maxl)
            maxl = label[i];
    size_t g = (size_t)maxl + 2;
    size_t *start = calloc(g + 1, sizeof *start);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!start || !order) {
        free(start);
        free(order);
        return TCAT_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        start[(size_t)(label[i] < 0 ? 0 : label[i] + 1) + 1]++;
    for (size_t c = 0; c < g; c++)
        start[c + 1] += start[c];
    size_t *fill = malloc(g * sizeof *fill);
    if (!fill) {
        free(start);
        free(order);
        return TCAT_ERR_NOMEM;
    }
    for (size_t c = 0; c < g; c++)
        fill[c] = start[c];
    for (size_t i = 0; i < n; i++)
        order[fill[label[i] < 0 ? 0 : (size_t)label[i] + 1]++] = i;
    free(fill);
    tcat_rng rng;
    tcat_rng_seed(&rng, seed);
    for (size_t c = 0; c < g; c++)
        tcat_rng_shuffle(&rng, order + start[c], start[c + 1] - start[c]);
    *order_out = order;
    *start_out = start;
    *ngroups = g;
    return TCAT_OK;
}

tcat_status tcat_split_holdout(const int32_t *label, size_t n, double frac, uint64_t seed,
                               size_t **keep, size_t *nkeep, size_t **held, size_t *nheld)
{
    size_t *order, *start, g;
    if (by_class(label, n, seed, &order, &start, &g) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    size_t *k = malloc((n ? n : 1) * sizeof *k), *h = malloc((n ? n : 1) * sizeof *h);
    if (!k || !h) {
        free(k);
        free(h);
        free(order);
        free(start);
        return TCAT_ERR_NOMEM;
    }
    size_t nk = 0, nh = 0;
    for (size_t c = 0; c < g; c++) {
        size_t m = start[c + 1] - start[c];
        size_t take = (size_t)(frac * (double)m + 0.5);
        if (take == 0 && m >= 2 && frac > 0)
            take = 1;
        if (take >= m && m > 0)
            take = m - 1;
        for (size_t j = 0; j < m; j++) {
            size_t d = order[start[c] + j];
            if (j < take)
                h[nh++] = d;
            else
                k[nk++] = d;
        }
    }
    free(order);
    free(start);
    qsort(k, nk, sizeof *k, cmp_size);
    qsort(h, nh, sizeof *h, cmp_size);
    *keep = k;
    *nkeep = nk;
    *held = h;
    *nheld = nh;
    return TCAT_OK;
}

tcat_status tcat_split_kfold(const int32_t *label, size_t n, size_t k, uint64_t seed,
                             uint32_t *fold)
{
    size_t *order, *start, g;
    if (by_class(label, n, seed, &order, &start, &g) != TCAT_OK)
        return TCAT_ERR_NOMEM;
    /* deal round-robin, continuing the count across classes so small
     * classes do not all land in fold 0 */
    size_t next = 0;
    for (size_t c = 0; c < g; c++)
        for (size_t j = start[c]; j < start[c + 1]; j++)
            fold[order[j]] = (uint32_t)(next++ % k);
    free(order);
    free(start);
    return TCAT_OK;
}
