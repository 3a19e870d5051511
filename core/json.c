#include "core/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/utf8.h"

json_t *tcat_json_text(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t len = strlen(s), o = 0;
    uint8_t *fixed = malloc(3 * len + 1);
    if (!fixed)
        return NULL;
    for (size_t i = 0; i < len;) {
        int32_t cp;
        i += tcat_utf8_decode((const uint8_t *)s + i, len - i, &cp);
        o += tcat_utf8_encode(cp < 0 ? TCAT_REPLACEMENT_CHAR : cp, fixed + o);
    }
    fixed[o] = 0;
    j = json_string((const char *)fixed);
    free(fixed);
    return j;
}
