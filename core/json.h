/*
 * core/json.h — JSON helpers shared by the reports (jansson).
 */
#ifndef TCAT_CORE_JSON_H
#define TCAT_CORE_JSON_H

#include <jansson.h>

/* A JSON string of the NUL-terminated bytes s. jansson refuses invalid
 * UTF-8, so such sequences are first replaced by U+FFFD (the rule of
 * tokenizer/utf8.h). A new reference, or NULL when out of memory. */
json_t *tcat_json_text(const char *s);

#endif
