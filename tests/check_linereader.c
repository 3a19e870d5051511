/* tests/check_linereader.c — corpora/linereader: lines in bounded memory. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "corpora/linereader.h"
#include "tests/suites.h"
#include "tests/testutil.h"

/* ---- helpers ------------------------------------------------------------- */

static char g_path[4096];

/* Writes data[0..len) to a new temporary file (mkstemp); its name is in
 * g_path until the teardown removes it. */
static const char *temp_file(const void *data, size_t len)
{
    const char *dir = getenv("TMPDIR");
    snprintf(g_path, sizeof g_path, "%s/tcat-lines-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(g_path);
    ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        ck_assert_int_gt(w, 0);
        p += w;
        len -= (size_t)w;
    }
    close(fd);
    return g_path;
}

static void lines_teardown(void)
{
    if (g_path[0])
        unlink(g_path);
    g_path[0] = 0;
}

/* The result of reading a whole stream: the lines rebuilt from their
 * pieces, joined with '|' after each ("a|b|" for two lines), plus checks
 * made on the way. */
typedef struct read_result {
    const char *lines; /* ring storage; NUL bytes of the data appear as '0' */
    size_t npieces, nlines, max_piece;
} read_result;

static read_result read_all_from(tcat_lines *l, size_t window)
{
    read_result r = {NULL, 0, 0, 0};
    tcat_buf b = {0};
    tcat_error err = {0};
    uint64_t expect_line = 1;
    for (;;) {
        tcat_piece p;
        bool done = true;
        ck_assert_msg(tcat_lines_next(l, &p, &done, &err) == TCAT_OK, "next: %s", err.msg);
        if (done)
            break;
        r.npieces++;
        if (p.len > r.max_piece)
            r.max_piece = p.len;
        ck_assert_uint_le(p.len, window);
        ck_assert_uint_eq(p.line, expect_line);
        for (size_t i = 0; i < p.len; i++)
            tcat_buf_append(&b, p.data[i] ? &p.data[i] : "0", 1);
        if (p.eol) {
            tcat_buf_append(&b, "|", 1);
            r.nlines++;
            expect_line++;
        }
    }
    /* done is sticky */
    tcat_piece p;
    bool done = false;
    ck_assert_int_eq(tcat_lines_next(l, &p, &done, &err), TCAT_OK);
    ck_assert(done);
    r.lines = ring_copy(b.data ? b.data : "", b.len);
    tcat_buf_free(&b);
    return r;
}

/* Reads data through a temporary file with the given window. */
static read_result read_all(const void *data, size_t len, size_t window)
{
    const char *path = temp_file(data, len);
    tcat_lines *l = NULL;
    tcat_error err = {0};
    ck_assert_msg(tcat_lines_open(&l, path, window, &err) == TCAT_OK, "open: %s", err.msg);
    ck_assert_str_eq(tcat_lines_name(l), path);
    size_t effective = window == 0 ? TCAT_LINES_WINDOW : window < 64 ? 64 : window;
    read_result r = read_all_from(l, effective);
    tcat_lines_close(&l);
    ck_assert_ptr_null(l);
    lines_teardown();
    return r;
}

static const char *lines_of(const char *s) { return read_all(s, strlen(s), 0).lines; }

/* ---- line ends -------------------------------------------------------------- */

START_TEST(test_lf)
{
    ck_assert_str_eq(lines_of("a\nb\nc\n"), "a|b|c|");
    ck_assert_str_eq(lines_of("hello world\nсвет\n"), "hello world|свет|");
}
END_TEST

START_TEST(test_no_final_newline)
{
    ck_assert_str_eq(lines_of("a\nb"), "a|b|");
    ck_assert_str_eq(lines_of("x"), "x|");
}
END_TEST

START_TEST(test_empty_input_and_lines)
{
    read_result r = read_all("", 0, 0);
    ck_assert_str_eq(r.lines, "");
    ck_assert_uint_eq(r.npieces, 0);
    ck_assert_str_eq(lines_of("\n"), "|");
    ck_assert_str_eq(lines_of("\n\n"), "||");
    ck_assert_str_eq(lines_of("a\n\nb\n\n"), "a||b||");
    ck_assert_uint_eq(read_all("a\n\nb\n\n", 6, 0).nlines, 4);
}
END_TEST

START_TEST(test_crlf)
{
    ck_assert_str_eq(lines_of("a\r\nb\r\n"), "a|b|");
    ck_assert_str_eq(lines_of("a\r\nb\nc"), "a|b|c|");
    ck_assert_str_eq(lines_of("\r\n\r\n"), "||");
    /* a CR not before LF is data */
    ck_assert_str_eq(lines_of("a\rb\n"), "a\rb|");
    ck_assert_str_eq(lines_of("a\r"), "a\r|");
    ck_assert_str_eq(lines_of("a\r\r\n"), "a\r|");
}
END_TEST

START_TEST(test_bom)
{
    ck_assert_str_eq(lines_of("\xEF\xBB\xBFhello\nworld\n"), "hello|world|");
    ck_assert_str_eq(lines_of("\xEF\xBB\xBF"), "");
    ck_assert_str_eq(lines_of("\xEF\xBB\xBF\n"), "|");
    ck_assert_str_eq(lines_of("\xEF\xBB\xBF\xEF\xBB\xBFx\n"), "\xEF\xBB\xBFx|");
    /* only at the very start */
    ck_assert_str_eq(lines_of("a\n\xEF\xBB\xBF" "b\n"), "a|\xEF\xBB\xBF" "b|");
    /* not a BOM: two of its bytes */
    ck_assert_str_eq(lines_of("\xEF\xBB"), "\xEF\xBB|");
}
END_TEST

START_TEST(test_nul_bytes)
{
    read_result r = read_all("a\0b\n\0\n\0", 7, 0);
    ck_assert_str_eq(r.lines, "a0b|0|0|");
    ck_assert_uint_eq(r.nlines, 3);
}
END_TEST

START_TEST(test_bytes_untouched)
{
    /* invalid UTF-8 passes through: repairing it is the tokenizer's job */
    ck_assert_str_eq(lines_of("\x80\xC0\xAF\n\xFF"), "\x80\xC0\xAF|\xFF|");
}
END_TEST

/* ---- long lines --------------------------------------------------------------- */

/* Checks that a line longer than the window comes in pieces of at most
 * the window, eol only on the last, that rebuild the line. */
static void long_line(const char *line, size_t window)
{
    tcat_buf data = {0};
    tcat_buf_append(&data, line, strlen(line));
    tcat_buf_append(&data, "\nnext\n", 6);
    const char *path = temp_file(data.data, data.len);
    tcat_buf_free(&data);
    tcat_lines *l = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_lines_open(&l, path, window, &err), TCAT_OK);
    tcat_buf got = {0};
    size_t pieces = 0;
    for (;;) {
        tcat_piece p;
        bool done;
        ck_assert_int_eq(tcat_lines_next(l, &p, &done, &err), TCAT_OK);
        ck_assert(!done);
        ck_assert_uint_le(p.len, window < 64 ? 64 : window);
        ck_assert_uint_eq(p.line, 1);
        tcat_buf_append(&got, p.data, p.len);
        pieces++;
        if (p.eol)
            break;
        ck_assert_uint_gt(p.len, 0);
    }
    ck_assert_uint_ge(pieces, 2);
    ck_assert_uint_eq(got.len, strlen(line));
    ck_assert_int_eq(memcmp(got.data, line, got.len), 0);
    tcat_buf_free(&got);
    /* the next line is whole and numbered 2 */
    tcat_piece p;
    bool done;
    ck_assert_int_eq(tcat_lines_next(l, &p, &done, &err), TCAT_OK);
    ck_assert(!done);
    ck_assert(p.eol);
    ck_assert_uint_eq(p.line, 2);
    ck_assert_uint_eq(p.len, 4);
    ck_assert_int_eq(memcmp(p.data, "next", 4), 0);
    ck_assert_int_eq(tcat_lines_next(l, &p, &done, &err), TCAT_OK);
    ck_assert(done);
    tcat_lines_close(&l);
    lines_teardown();
}

START_TEST(test_long_line_with_spaces)
{
    tcat_buf b = {0};
    for (int i = 0; i < 200; i++)
        tcat_buf_append(&b, "word 語 ", strlen("word 語 "));
    tcat_buf_append(&b, "", 1);
    long_line(b.data, 64);
    long_line(b.data, 100);
    long_line(b.data, 10); /* below the minimum: 64 */
    tcat_buf_free(&b);
}
END_TEST

START_TEST(test_long_line_without_spaces)
{
    tcat_buf b = {0};
    for (int i = 0; i < 100; i++)
        tcat_buf_append(&b, "我喜欢吃苹果x", strlen("我喜欢吃苹果x"));
    tcat_buf_append(&b, "", 1);
    long_line(b.data, 64);
    long_line(b.data, 65);
    long_line(b.data, 67);
    tcat_buf_free(&b);
}
END_TEST

START_TEST(test_line_at_window_size)
{
    /* lines of window-1, window, window+1 bytes, with LF and with CR LF */
    for (size_t len = 62; len <= 67; len++) {
        for (int crlf = 0; crlf < 2; crlf++) {
            char data[200];
            memset(data, 'x', len);
            size_t n = len;
            if (crlf)
                data[n++] = '\r';
            data[n++] = '\n';
            memcpy(data + n, "y\n", 2);
            n += 2;
            char expect[200];
            memset(expect, 'x', len);
            memcpy(expect + len, "|y|", 4);
            read_result r = read_all(data, n, 64);
            ck_assert_msg(strcmp(r.lines, expect) == 0, "len %zu crlf %d: got '%s'", len, crlf,
                          r.lines);
            ck_assert_uint_eq(r.nlines, 2);
        }
    }
}
END_TEST

START_TEST(test_default_window)
{
    /* window 0 is 1 MiB: a 300 kB line is one piece */
    size_t n = 300000;
    char *data = malloc(n + 1);
    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < n; i++)
        data[i] = i % 7 == 6 ? ' ' : 'a';
    data[n] = '\n';
    read_result r = read_all(data, n + 1, 0);
    ck_assert_uint_eq(r.npieces, 1);
    ck_assert_uint_eq(r.max_piece, n);
    /* and a 2.5 MB line is three or more pieces */
    free(data);
    n = 2500000;
    data = malloc(n);
    ck_assert_ptr_nonnull(data);
    for (size_t i = 0; i < n; i++)
        data[i] = i % 7 == 6 ? ' ' : 'a';
    r = read_all(data, n, 0);
    ck_assert_uint_ge(r.npieces, 3);
    ck_assert_uint_eq(r.nlines, 1);
    ck_assert_uint_le(r.max_piece, TCAT_LINES_WINDOW);
    free(data);
}
END_TEST

START_TEST(test_random_streams)
{
    /* random lines (empty, short, longer than the window, CR LF or LF, a
     * final newline or not) rebuild exactly, whatever the window */
    static const char *const pieces[] = {"a", "b", " ", "c", "語", "\r", "\0", "\t", "😀"};
    uint64_t rs = 2024;
    for (int it = 0; it < 300; it++) {
        tcat_buf data = {0}, expect = {0};
        size_t nlines = rng_below(&rs, 8);
        for (size_t k = 0; k < nlines; k++) {
            size_t len = rng_below(&rs, 4) == 0 ? 0 : rng_below(&rs, 300);
            for (size_t i = 0; i < len; i++) {
                const char *c = pieces[rng_below(&rs, sizeof pieces / sizeof *pieces)];
                if (c[0] == '\r' && i + 1 == len)
                    c = "z"; /* a CR before the LF is part of the line end */
                size_t cl = c[0] ? strlen(c) : 1;
                tcat_buf_append(&data, c, cl);
                tcat_buf_append(&expect, c[0] ? c : "0", cl);
            }
            /* the last line may lack its newline, unless it is empty */
            bool newline = k + 1 < nlines || len == 0 || rng_below(&rs, 2);
            if (newline) {
                const char *nl = rng_below(&rs, 2) ? "\r\n" : "\n";
                tcat_buf_append(&data, nl, strlen(nl));
            }
            tcat_buf_append(&expect, "|", 1);
        }
        tcat_buf_append(&expect, "", 1);
        size_t window = 64 + rng_below(&rs, 100);
        read_result r = read_all(data.data ? data.data : "", data.len, window);
        ck_assert_msg(strcmp(r.lines, expect.data) == 0, "window %zu: got '%s' expected '%s'",
                      window, r.lines, expect.data);
        ck_assert_uint_eq(r.nlines, nlines);
        tcat_buf_free(&data);
        tcat_buf_free(&expect);
    }
}
END_TEST

/* ---- opening, stdin ---------------------------------------------------------------- */

START_TEST(test_missing_file)
{
    tcat_lines *l = NULL;
    tcat_error err = {0};
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tcat-no-such-dir-%d/missing.txt", dir && *dir ? dir : "/tmp",
             (int)getpid());
    ck_assert_int_eq(tcat_lines_open(&l, path, 0, &err), TCAT_ERR_IO);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(err.status, TCAT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    tcat_lines_close(&l);
    tcat_lines_close(NULL);
}
END_TEST

/* Replaces fd 0 with fd (restored by the caller with the returned copy). */
static int redirect_stdin(int fd)
{
    int saved = dup(0);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_eq(dup2(fd, 0), 0);
    close(fd);
    return saved;
}

static void restore_stdin(int saved)
{
    dup2(saved, 0);
    close(saved);
}

START_TEST(test_stdin)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    const char *data = "\xEF\xBB\xBFone\r\ntwo\n\nthree";
    ck_assert_int_eq(write(fds[1], data, strlen(data)), (int)strlen(data));
    close(fds[1]);
    int saved = redirect_stdin(fds[0]);
    tcat_lines *l = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_lines_open(&l, "-", 0, &err), TCAT_OK);
    ck_assert_str_eq(tcat_lines_name(l), "stdin");
    read_result r = read_all_from(l, TCAT_LINES_WINDOW);
    tcat_lines_close(&l);
    /* stdin is not closed */
    ck_assert_int_ne(fcntl(0, F_GETFD), -1);
    restore_stdin(saved);
    ck_assert_str_eq(r.lines, "one|two||three|");
}
END_TEST

START_TEST(test_stdin_line_before_eof)
{
    /* an interactive stream: the first line is handed out as soon as it
     * is complete, without reading on (a non-blocking pipe makes a read
     * attempt an error instead of a hang) */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], "first\nsecond", 12), 12);
    ck_assert_int_eq(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    int saved = redirect_stdin(fds[0]);
    tcat_lines *l = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_lines_open(&l, "-", 0, &err), TCAT_OK);
    tcat_piece p;
    bool done = true;
    tcat_status st = tcat_lines_next(l, &p, &done, &err);
    tcat_lines_close(&l);
    restore_stdin(saved);
    close(fds[1]);
    ck_assert_msg(st == TCAT_OK, "next: %s", err.msg);
    ck_assert(!done);
    ck_assert(p.eol);
    ck_assert_uint_eq(p.len, 5);
}
END_TEST

START_TEST(test_stdin_bom_in_small_reads)
{
    /* the BOM arrives over several reads (a slow producer): still the
     * very start of the stream, still dropped. A SOCK_SEQPACKET socket
     * hands out one packet a read, which makes the split deterministic. */
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    ck_assert_int_eq(write(sv[1], "\xEF", 1), 1);
    ck_assert_int_eq(write(sv[1], "\xBB\xBF", 2), 2);
    ck_assert_int_eq(write(sv[1], "hi\n", 3), 3);
    close(sv[1]);
    int saved = redirect_stdin(sv[0]);
    tcat_lines *l = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_lines_open(&l, "-", 0, &err), TCAT_OK);
    read_result r = read_all_from(l, TCAT_LINES_WINDOW);
    tcat_lines_close(&l);
    restore_stdin(saved);
    ck_assert_str_eq(r.lines, "hi|");
}
END_TEST

Suite *linereader_suite(void)
{
    Suite *s = suite_create("linereader");
    TCase *tc = tcase_new(s, "lines");
    tcase_add_checked_fixture(tc, NULL, lines_teardown);
    tcase_add_test(tc, test_lf);
    tcase_add_test(tc, test_no_final_newline);
    tcase_add_test(tc, test_empty_input_and_lines);
    tcase_add_test(tc, test_crlf);
    tcase_add_test(tc, test_bom);
    tcase_add_test(tc, test_nul_bytes);
    tcase_add_test(tc, test_bytes_untouched);
    tc = tcase_new(s, "long-lines");
    tcase_add_checked_fixture(tc, NULL, lines_teardown);
    tcase_add_test(tc, test_long_line_with_spaces);
    tcase_add_test(tc, test_long_line_without_spaces);
    tcase_add_test(tc, test_line_at_window_size);
    tcase_add_test(tc, test_default_window);
    tcase_add_test(tc, test_random_streams);
    tc = tcase_new(s, "open-and-stdin");
    tcase_add_checked_fixture(tc, NULL, lines_teardown);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_stdin);
    tcase_add_test(tc, test_stdin_line_before_eof);
    tcase_add_test(tc, test_stdin_bom_in_small_reads);
    return s;
}
