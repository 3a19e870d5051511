/* tokenizer/config.c — the tokenizer's settings and their text form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"

/* First line of the text form; the number changes when the meaning of a
 * key changes, so an old model is refused rather than misread. */
#define CONFIG_MAGIC "tcat-tokenizer 1"

void tcat_tok_config_default(tcat_tok_config *c)
{
    c->nfkc = true;
    c->casefold = true;
    c->keep_punct = false;
    c->patterns_on = true;
    c->patterns = NULL;
}

void tcat_tok_config_clear(tcat_tok_config *c)
{
    free(c->patterns);
    tcat_tok_config_default(c);
}

tcat_status tcat_tok_config_copy(tcat_tok_config *dst, const tcat_tok_config *src)
{
    *dst = *src;
    if (src->patterns) {
        dst->patterns = strdup(src->patterns);
        if (!dst->patterns)
            return TCAT_ERR_NOMEM;
    }
    return TCAT_OK;
}

tcat_status tcat_tok_config_save(const tcat_tok_config *c, char **out, size_t *out_len)
{
    /* The pattern text is always written out, built-in or not, so a model
     * keeps tokenizing the same after the built-in table changes. */
    const char *pat = c->patterns ? c->patterns : tcat_default_patterns;
    size_t plen = strlen(pat);
    size_t cap = plen + 256;
    char *buf = malloc(cap);
    if (!buf)
        return TCAT_ERR_NOMEM;
    int head = snprintf(buf, cap,
                        CONFIG_MAGIC "\nnfkc=%d\ncasefold=%d\nkeep_punct=%d\npatterns_on=%d\n"
                        "patterns=%zu\n",
                        c->nfkc, c->casefold, c->keep_punct, c->patterns_on, plen);
    memcpy(buf + head, pat, plen + 1);
    *out = buf;
    *out_len = (size_t)head + plen;
    return TCAT_OK;
}

static tcat_status parse_bool(const char *v, size_t vlen, bool *b, size_t line, tcat_error *err)
{
    if (vlen == 1 && (v[0] == '0' || v[0] == '1')) {
        *b = v[0] == '1';
        return TCAT_OK;
    }
    return tcat_fail(err, TCAT_ERR_INPUT, "tokenizer settings line %zu: expected 0 or 1", line);
}

tcat_status tcat_tok_config_load(tcat_tok_config *c, const char *text, size_t len,
                                 tcat_error *err)
{
    tcat_tok_config_clear(c);
    const char *s = text, *end = text + len;
    size_t line = 0;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl)
            return tcat_fail(err, TCAT_ERR_INPUT, "tokenizer settings line %zu: truncated",
                             line + 1);
        line++;
        size_t ll = (size_t)(nl - s);
        if (line == 1) {
            if (ll != strlen(CONFIG_MAGIC) || memcmp(s, CONFIG_MAGIC, ll) != 0)
                return tcat_fail(err, TCAT_ERR_INPUT,
                                 "tokenizer settings: expected '%s' on line 1; the model was "
                                 "written by an incompatible tcat", CONFIG_MAGIC);
            s = nl + 1;
            continue;
        }
        const char *eq = memchr(s, '=', ll);
        if (!eq)
            return tcat_fail(err, TCAT_ERR_INPUT, "tokenizer settings line %zu: expected key=value",
                             line);
        size_t klen = (size_t)(eq - s);
        const char *v = eq + 1;
        size_t vlen = (size_t)(nl - v);
        tcat_status st = TCAT_OK;
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(s, k, klen) == 0)
        if (KEY("nfkc"))
            st = parse_bool(v, vlen, &c->nfkc, line, err);
        else if (KEY("casefold"))
            st = parse_bool(v, vlen, &c->casefold, line, err);
        else if (KEY("keep_punct"))
            st = parse_bool(v, vlen, &c->keep_punct, line, err);
        else if (KEY("patterns_on"))
            st = parse_bool(v, vlen, &c->patterns_on, line, err);
        else if (KEY("patterns")) {
            char *e;
            unsigned long long plen = strtoull(v, &e, 10);
            if (vlen == 0 || e != nl)
                return tcat_fail(err, TCAT_ERR_INPUT,
                                 "tokenizer settings line %zu: bad pattern length", line);
            if (plen > (unsigned long long)(end - (nl + 1)))
                return tcat_fail(err, TCAT_ERR_INPUT,
                                 "tokenizer settings line %zu: pattern table truncated", line);
            c->patterns = malloc((size_t)plen + 1);
            if (!c->patterns)
                return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
            memcpy(c->patterns, nl + 1, (size_t)plen);
            c->patterns[plen] = 0;
            if (memchr(c->patterns, 0, (size_t)plen))
                return tcat_fail(err, TCAT_ERR_INPUT,
                                 "tokenizer settings: NUL byte in the pattern table");
            s = nl + 1 + plen;
            if (s != end)
                return tcat_fail(err, TCAT_ERR_INPUT,
                                 "tokenizer settings: unexpected bytes after the pattern table");
            return TCAT_OK;
        } else
            return tcat_fail(err, TCAT_ERR_INPUT, "tokenizer settings line %zu: unknown key '%.*s'",
                             line, (int)klen, s);
#undef KEY
        if (st != TCAT_OK)
            return st;
        s = nl + 1;
    }
    if (line == 0)
        return tcat_fail(err, TCAT_ERR_INPUT, "tokenizer settings: empty");
    return tcat_fail(err, TCAT_ERR_INPUT, "tokenizer settings: no pattern table");
}
