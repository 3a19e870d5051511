#include "core/buf.h"

#include <stdint.h>
#include <stdlib.h>

tcat_status tcat_buf_reserve(tcat_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return TCAT_OK;
    if (extra > SIZE_MAX / 2 - b->len)
        return TCAT_ERR_NOMEM;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return TCAT_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return TCAT_OK;
}

tcat_status tcat_buf_append(tcat_buf *b, const void *p, size_t n)
{
    tcat_status s = tcat_buf_reserve(b, n);
    if (s != TCAT_OK)
        return s;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return TCAT_OK;
}

void tcat_buf_free(tcat_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
