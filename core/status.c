#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>

const char *tcat_strerror(tcat_status s)
{
    switch (s) {
    case TCAT_OK: return "success";
    case TCAT_ERR_NOMEM: return "out of memory";
    case TCAT_ERR_USAGE: return "usage error";
    case TCAT_ERR_INPUT: return "bad input data";
    case TCAT_ERR_IO: return "input/output error";
    case TCAT_ERR_MODEL: return "bad model file";
    case TCAT_ERR_NOT_PROMOTED: return "new model not promoted";
    case TCAT_ERR_LIBRARY: return "library failure";
    case TCAT_ERR_UNSUPPORTED: return "not supported by this build";
    }
    return "unknown status";
}

tcat_status tcat_fail(tcat_error *err, tcat_status s, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = s;
    }
    return s;
}

int tcat_status_exit_code(tcat_status s)
{
    switch (s) {
    case TCAT_OK: return TCAT_EXIT_OK;
    case TCAT_ERR_USAGE: return TCAT_EXIT_USAGE;
    case TCAT_ERR_INPUT: return TCAT_EXIT_INPUT;
    case TCAT_ERR_IO: return TCAT_EXIT_IO;
    case TCAT_ERR_MODEL: return TCAT_EXIT_MODEL;
    case TCAT_ERR_NOT_PROMOTED: return TCAT_EXIT_NOT_PROMOTED;
    default: return TCAT_EXIT_FAILURE;
    }
}
