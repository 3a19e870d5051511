/*
 * core/buf.h — a growable byte buffer, the one scratch type the modules
 * share. The data is not NUL-terminated unless the user appends a NUL.
 */
#ifndef TCAT_CORE_BUF_H
#define TCAT_CORE_BUF_H

#include <stddef.h>
#include <string.h>

#include "core/status.h"

typedef struct tcat_buf {
    char *data;
    size_t len, cap;
} tcat_buf;

/* Makes room for `extra` more bytes after len. TCAT_ERR_NOMEM on failure
 * (the buffer is unchanged then). */
tcat_status tcat_buf_reserve(tcat_buf *b, size_t extra);

/* Appends n bytes. */
tcat_status tcat_buf_append(tcat_buf *b, const void *p, size_t n);

/* Frees the storage and zeroes b. */
void tcat_buf_free(tcat_buf *b);

#endif
