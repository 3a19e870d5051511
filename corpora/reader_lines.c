/*
 * corpora/reader_lines.c — the layouts of one document a line: TSV,
 * fastText and JSONL. Blank lines are skipped in all three (in TSV a line
 * holding a tab is never blank: "label<TAB>" is a document with no text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "corpora/reader_impl.h"
#include "tokenizer/utf8.h"

/* The next line that is not blank (tabs count as blank when tabs). */
static tcat_status next_line(tcat_reader *r, tcat_rd_line *l, bool tabs, bool *done,
                             tcat_error *err)
{
    for (;;) {
        tcat_status st = tcat_rd_src_line(&r->src, r->name, l, done, err);
        if (st != TCAT_OK || *done)
            return st;
        if (!tcat_rd_blank(l->s, l->len, tabs))
            return TCAT_OK;
    }
}

static void set_doc(tcat_reader *r, tcat_rawdoc *doc, const char *text, size_t len,
                    uint64_t line)
{
    doc->text = text;
    doc->len = len;
    doc->source = r->name;
    doc->line = line;
}

/* ---- TSV: label<TAB>text ------------------------------------------------- */

/* True when s[0..n), trimmed of spaces, is word w in any case. */
static bool is_word(const char *s, size_t n, const char *w)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r'))
        n--;
    while (n > 0 && *s == ' ') {
        s++;
        n--;
    }
    return n == strlen(w) && strncasecmp(s, w, n) == 0;
}

tcat_status tcat_rd_tsv_next(tcat_reader *r, tcat_rawdoc *doc, bool *done, tcat_error *err)
{
    tcat_rd_line l;
    tcat_status st = next_line(r, &l, false, done, err);
    if (st != TCAT_OK || *done)
        return st;
    const char *tab = memchr(l.s, '\t', l.len);
    /* A first line "label<TAB>text" is a header, not a document of the
     * class "label": spreadsheets export TSV that way. */
    if (!r->tsv_started && tab && is_word(l.s, (size_t)(tab - l.s), "label") &&
        is_word(tab + 1, l.len - (size_t)(tab + 1 - l.s), "text")) {
        r->tsv_started = true;
        return tcat_rd_tsv_next(r, doc, done, err);
    }
    r->tsv_started = true;
    if (!tab)
        return tcat_rd_input_error(err, r->name, l.no,
                                   "no tab on this line: a TSV line reads label<TAB>text");
    st = tcat_rd_label_add(r, l.s, (size_t)(tab - l.s), r->name, l.no, err);
    if (st != TCAT_OK)
        return st;
    size_t skip = (size_t)(tab - l.s) + 1;
    set_doc(r, doc, l.s + skip, l.len - skip, l.no);
    return TCAT_OK;
}

/* ---- fastText: __label__A [__label__B ...] text ---------------------------- */

#define FT_PREFIX "__label__"
#define FT_PREFIX_LEN 9

static bool ft_sep(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

static bool ft_label_at(const char *p, const char *end)
{
    return (size_t)(end - p) >= FT_PREFIX_LEN && memcmp(p, FT_PREFIX, FT_PREFIX_LEN) == 0;
}

tcat_status tcat_rd_fasttext_next(tcat_reader *r, tcat_rawdoc *doc, bool *done,
                                  tcat_error *err)
{
    tcat_rd_line l;
    tcat_status st = next_line(r, &l, true, done, err);
    if (st != TCAT_OK || *done)
        return st;
    const char *p = l.s, *end = l.s + l.len;
    while (p < end && ft_sep(*p))
        p++;
    if (!ft_label_at(p, end))
        return tcat_rd_input_error(err, r->name, l.no,
                                   "no label: a fastText line starts with __label__X");
    const char *text = end;
    for (;;) {
        const char *name = p + FT_PREFIX_LEN, *e = name;
        while (e < end && !ft_sep(*e))
            e++;
        if (e == name)
            return tcat_rd_input_error(err, r->name, l.no, "empty label: '__label__' alone");
        st = tcat_rd_label_add(r, name, (size_t)(e - name), r->name, l.no, err);
        if (st != TCAT_OK)
            return st;
        const char *q = e;
        while (q < end && ft_sep(*q))
            q++;
        if (!ft_label_at(q, end)) {
            text = e < end ? e + 1 : end; /* the text starts after one separator */
            break;
        }
        p = q;
    }
    set_doc(r, doc, text, (size_t)(end - text), l.no);
    return TCAT_OK;
}

/* ---- JSONL: {"label": ..., "text": ...} ------------------------------------ */

/* JSON is UTF-8 and jansson refuses anything else, so invalid sequences are
 * replaced by U+FFFD first, as the tokenizer would replace them (same
 * maximal-subpart rule). Returns s itself when it is valid, the repaired
 * copy in b otherwise, NULL when out of memory. */
static const char *utf8_repaired(tcat_buf *b, const char *s, size_t n, size_t *out_len)
{
    size_t i = 0;
    *out_len = n;
    for (; i < n; i++) {
        if ((unsigned char)s[i] < 0x80)
            continue;
        int32_t cp;
        size_t k = tcat_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (cp < 0)
            break;
        i += k - 1;
    }
    if (i == n)
        return s;
    b->len = 0;
    if (tcat_buf_reserve(b, n + n / 2 + 8) != TCAT_OK || tcat_buf_append(b, s, i) != TCAT_OK)
        return NULL;
    while (i < n) {
        int32_t cp = 0;
        size_t k = (unsigned char)s[i] < 0x80 ? 1
                                              : tcat_utf8_decode((const uint8_t *)s + i, n - i, &cp);
        tcat_status st = cp < 0 ? tcat_buf_append(b, "\xEF\xBF\xBD", 3)
                                : tcat_buf_append(b, s + i, k);
        if (st != TCAT_OK)
            return NULL;
        i += k;
    }
    *out_len = b->len;
    return b->data;
}

/* A number label as text: integers as they are; reals as jansson prints
 * them with the fewest digits that read back to the same value, without
 * an exponent when one of those forms has none (100.0, not 1e+02). */
static tcat_status number_label(tcat_reader *r, json_t *v, uint64_t line, tcat_error *err)
{
    char tmp[64];
    if (json_is_integer(v)) {
        int n = snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return tcat_rd_label_add(r, tmp, (size_t)n, r->name, line, err);
    }
    char *best = NULL, *fallback = NULL;
    for (int prec = 1; prec <= 17 && !best; prec++) {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(prec));
        if (!s) {
            free(fallback);
            return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
        }
        json_t *back = json_loads(s, JSON_DECODE_ANY, NULL);
        bool same = back && json_is_real(back) && json_real_value(back) == json_real_value(v);
        json_decref(back);
        if (same && !strpbrk(s, "eE"))
            best = s;
        else if ((same || prec == 17) && !fallback)
            fallback = s;
        else
            free(s);
    }
    if (best)
        free(fallback);
    else
        best = fallback;
    tcat_status st = tcat_rd_label_add(r, best, strlen(best), r->name, line, err);
    free(best);
    return st;
}

static tcat_status one_label(tcat_reader *r, json_t *v, uint64_t line, tcat_error *err)
{
    if (json_is_string(v))
        return tcat_rd_label_add(r, json_string_value(v), json_string_length(v), r->name, line,
                                 err);
    if (json_is_number(v))
        return number_label(r, v, line, err);
    return tcat_rd_input_error(err, r->name, line,
                               "\"label\" must be a string, a number or an array of them");
}

static tcat_status json_labels(tcat_reader *r, json_t *v, uint64_t line, tcat_error *err)
{
    if (!json_is_array(v))
        return one_label(r, v, line, err);
    if (json_array_size(v) == 0)
        return tcat_rd_input_error(err, r->name, line, "empty label: \"label\" is []");
    for (size_t i = 0; i < json_array_size(v); i++) {
        tcat_status st = one_label(r, json_array_get(v, i), line, err);
        if (st != TCAT_OK)
            return st;
    }
    return TCAT_OK;
}

static tcat_status json_error(tcat_reader *r, const json_error_t *je, uint64_t line,
                              tcat_error *err)
{
    char shown[200];
    tcat_rd_escape(je->text, strlen(je->text), shown, sizeof shown);
    if (je->column > 0)
        return tcat_rd_input_error(err, r->name, line, "malformed JSON at column %d: %s",
                                   je->column, shown);
    return tcat_rd_input_error(err, r->name, line, "malformed JSON: %s", shown);
}

tcat_status tcat_rd_jsonl_next(tcat_reader *r, tcat_rawdoc *doc, bool *done, tcat_error *err)
{
    json_decref(r->json);
    r->json = NULL;
    tcat_rd_line l;
    tcat_status st = next_line(r, &l, true, done, err);
    if (st != TCAT_OK || *done)
        return st;
    size_t n;
    const char *s = utf8_repaired(&r->field, l.s, l.len, &n);
    if (!s)
        return tcat_fail(err, TCAT_ERR_NOMEM, "out of memory");
    json_error_t je;
    r->json = json_loadb(s, n, JSON_ALLOW_NUL, &je);
    if (!r->json)
        return json_error(r, &je, l.no, err);
    if (!json_is_object(r->json))
        return tcat_rd_input_error(err, r->name, l.no,
                                   "a JSONL line must be an object {\"label\": ..., \"text\": ...}");
    json_t *label = json_object_get(r->json, "label");
    json_t *text = json_object_get(r->json, "text");
    if (!label)
        return tcat_rd_input_error(err, r->name, l.no, "no \"label\" key");
    if (!text)
        return tcat_rd_input_error(err, r->name, l.no, "no \"text\" key");
    if (!json_is_string(text))
        return tcat_rd_input_error(err, r->name, l.no, "\"text\" must be a string");
    st = json_labels(r, label, l.no, err);
    if (st != TCAT_OK)
        return st;
    set_doc(r, doc, json_string_value(text), json_string_length(text), l.no);
    return TCAT_OK;
}
