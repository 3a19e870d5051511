/* tests/check_reader.c — corpora/reader: every input layout, detection,
 * stdin, malformed input. Each test writes its files into a scratch folder
 * (mkdtemp) that its teardown removes. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "corpora/reader.h"
#include "tests/suites.h"
#include "tests/testutil.h"

/* ---- scratch files ------------------------------------------------------- */

static char g_dir[4096];

static void scratch_setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/tcat-reader-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_msg(mkdtemp(g_dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void scratch_teardown(void)
{
    if (g_dir[0])
        nftw(g_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    g_dir[0] = 0;
}

/* The path of rel in the scratch folder (ring storage). */
static const char *at(const char *rel)
{
    char p[8192];
    int n = snprintf(p, sizeof p, "%s/%s", g_dir, rel);
    return ring_copy(p, (size_t)n);
}

static void make_dir(const char *rel) { ck_assert_int_eq(mkdir(at(rel), 0755), 0); }

static const char *write_bytes(const char *rel, const void *data, size_t len)
{
    const char *path = at(rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        ck_assert_int_gt(w, 0);
        p += w;
        len -= (size_t)w;
    }
    close(fd);
    return path;
}

static const char *write_text(const char *rel, const char *s) { return write_bytes(rel, s, strlen(s)); }

/* "path:line:" (ring storage). */
static const char *where(const char *path, int line)
{
    char p[8192];
    int n = snprintf(p, sizeof p, "%s:%d:", path, line);
    return ring_copy(p, (size_t)n);
}

/* ---- reading ---------------------------------------------------------------- */

static tcat_format g_fmt; /* the layout of the last read_docs */

/* Reads every document of path: "labels:text@line;" each, labels joined
 * by '+', NUL bytes shown as '0'. Every source must be source (NULL: the
 * path; for folders it is checked by the tests). */
static const char *read_docs(const char *path, tcat_format fmt, const char *source)
{
    tcat_reader *r = NULL;
    tcat_error err = {0};
    ck_assert_msg(tcat_reader_open(&r, path, fmt, &err) == TCAT_OK, "open: %s", err.msg);
    g_fmt = tcat_reader_format(r);
    tcat_buf out = {0};
    for (;;) {
        tcat_rawdoc d;
        bool done = false;
        ck_assert_msg(tcat_reader_next(r, &d, &done, &err) == TCAT_OK, "next: %s", err.msg);
        if (done)
            break;
        ck_assert_uint_ge(d.nlabels, 1);
        for (size_t i = 0; i < d.nlabels; i++) {
            ck_assert_uint_eq(strlen(d.labels[i]), d.label_lens[i]);
            ck_assert_uint_gt(d.label_lens[i], 0);
            if (i)
                tcat_buf_append(&out, "+", 1);
            tcat_buf_append(&out, d.labels[i], d.label_lens[i]);
        }
        tcat_buf_append(&out, ":", 1);
        ck_assert_ptr_nonnull(d.text);
        for (size_t i = 0; i < d.len; i++)
            tcat_buf_append(&out, d.text[i] ? &d.text[i] : "0", 1);
        char tail[32];
        int n = snprintf(tail, sizeof tail, "@%llu;", (unsigned long long)d.line);
        tcat_buf_append(&out, tail, (size_t)n);
        if (g_fmt != TCAT_FORMAT_FOLDER)
            ck_assert_str_eq(d.source, source ? source : path);
    }
    /* the end is sticky */
    tcat_rawdoc d;
    bool done = false;
    ck_assert_int_eq(tcat_reader_next(r, &d, &done, &err), TCAT_OK);
    ck_assert(done);
    tcat_reader_close(&r);
    ck_assert_ptr_null(r);
    const char *s = ring_copy(out.data ? out.data : "", out.len);
    tcat_buf_free(&out);
    return s;
}

/* Reads path until it fails; expects status want, a message holding frag
 * (when not NULL), ndocs documents before the failure, and the same
 * failure again from a second call. Returns the message (ring storage). */
static const char *read_error(const char *path, tcat_format fmt, tcat_status want,
                              const char *frag, size_t ndocs)
{
    tcat_reader *r = NULL;
    tcat_error err = {0};
    tcat_status st = tcat_reader_open(&r, path, fmt, &err);
    size_t n = 0;
    while (st == TCAT_OK) {
        tcat_rawdoc d;
        bool done = false;
        st = tcat_reader_next(r, &d, &done, &err);
        ck_assert_msg(st != TCAT_OK || !done, "%s: no error, %zu documents", path, n);
        if (st == TCAT_OK)
            n++;
    }
    ck_assert_msg(st == want, "%s: status %d (want %d): %s", path, st, want, err.msg);
    ck_assert_int_eq(err.status, want);
    if (frag)
        ck_assert_msg(strstr(err.msg, frag), "'%s' not in '%s'", frag, err.msg);
    ck_assert_uint_eq(n, ndocs);
    if (r) {
        tcat_rawdoc d;
        bool done = false;
        tcat_error again = {0};
        ck_assert_int_eq(tcat_reader_next(r, &d, &done, &again), want);
        ck_assert_str_eq(again.msg, err.msg);
        tcat_reader_close(&r);
    } else {
        ck_assert_ptr_null(r);
    }
    return ring_copy(err.msg, strlen(err.msg));
}

/* The layout detected for path. */
static tcat_format detected(const char *path)
{
    tcat_reader *r = NULL;
    tcat_error err = {0};
    ck_assert_msg(tcat_reader_open(&r, path, TCAT_FORMAT_AUTO, &err) == TCAT_OK, "open %s: %s",
                  path, err.msg);
    tcat_format f = tcat_reader_format(r);
    tcat_reader_close(&r);
    return f;
}

/* ---- the layouts ------------------------------------------------------------- */

START_TEST(test_tsv)
{
    const char *p = write_text("a.tsv", "pos\tgood film\n"
                                        "neg\tbad\tfilm\twith tabs\n"
                                        "\n"
                                        "   \n"
                                        " spaced \t  text keeps its spaces \n"
                                        "empty\t\n"
                                        "last\tno newline");
    ck_assert_str_eq(read_docs(p, TCAT_FORMAT_AUTO, NULL),
                     "pos:good film@1;neg:bad\tfilm\twith tabs@2;"
                     "spaced:  text keeps its spaces @5;empty:@6;last:no newline@7;");
    ck_assert_int_eq(g_fmt, TCAT_FORMAT_TSV);
    /* NUL bytes in the text are passed through */
    p = write_bytes("nul.tsv", "a\tx\0y\n", 6);
    ck_assert_str_eq(read_docs(p, TCAT_FORMAT_TSV, NULL), "a:x0y@1;");
    /* a first line "label<TAB>text" (any case) is a header; later, a document */
    p = write_text("h.tsv", "\n Label \tTEXT\r\npos\tgood\nlabel\ttext\n");
    ck_assert_str_eq(read_docs(p, TCAT_FORMAT_AUTO, NULL), "pos:good@3;label:text@4;");
}
END_TEST

START_TEST(test_csv)
{
    const char *p = write_text("a.csv", "\xEF\xBB\xBF id , Text ,LABEL\r\n"
                                        "1,\"hello, world\",pos\r\n"
                                        "2,\"she said \"\"hi\"\"\",neg\r\n"
                                        "3,\"line one\r\nline two\nline three\",pos\r\n"
                                        "  \r\n"
                                        "4,plain text,\"quoted label\"\r\n"
                                        "5,,neg\r\n"
                                        "6,a \"b\" c,pos\r\n"
                                        "7,\"\",\"x,y\"\n"
                                        "8,\"q\"tail,pos");
    ck_assert_str_eq(read_docs(p, TCAT_FORMAT_AUTO, NULL),
                     "pos:hello, world@2;"
                     "neg:she said \"hi\"@3;"
                     "pos:line one\r\nline two\nline three@4;"
                     "quoted label:plain text@8;"
                     "neg:@9;"
                     "pos:a \"b\" c@10;"
                     "x,y:@11;"
                     "pos:qtail@12;");
    ck_assert_int_eq(g_fmt, TCAT_FORMAT_CSV);
    /* columns in any order, others ignored, a header only: no documents */
    p = write_text("b.csv", "text,label\nsome text,\"  a  \"\n");
    ck_assert_str_eq(read_docs(p, TCAT_FORMAT_AUTO, NULL), "a:some text@2;");
    p = write_text("c.csv", "\n\nlabel,text\n");
    ck_assert_str_eq(read_docs(p, TCAT_FORMAT_CSV, NULL), "");
}
END_TEST

START_TEST(test_jsonl)
{
    const char *p = write_text(
        "a.jsonl", "{\"label\": \"pos\", \"text\": \"good\"}\n"
                   "{\"text\": \"n\", \"label\": 7, \"extra\": [1, {\"x\": null}]}\n"
                   "\n"
                   "  \t \n"
                   "{\"label\": -3, \"text\": \"\"}\n"
                   "{\"label\": 2.5, \"text\": \"r\"}\n"
                   "{\"label\": 0.1, \"text\": \"r2\"}\n"
                   "{\"label\": 1e2, \"text\": \"r3\"}\n"
                   "{\"label\": 1e300, \"text\": \"r4\"}\n"
                   "{\"label\": [\"a\", \"b\", 3], \"text\": \"multi\"}\n"
                   "{\"label\": [\"a\", \" a \"], \"text\": \"dup\"}\n"
                   "  {\"label\": \" spaced \", \"text\": \"x\\u0000y\\n\\\"q\\\"\"}  \n"
                   "{\"label\":\"\\u00e9t\\u00e9\",\"text\":\"caf\\u00e9 \\ud83d\\ude00\"}\n"
                   "{\"label\":\"x\",\"text\":\"a\xFF" "b\xE2\x82\"}\n");
    ck_assert_str_eq(read_docs(p, TCAT_FORMAT_AUTO, NULL),
                     "pos:good@1;7:n@2;-3:@5;2.5:r@6;0.1:r2@7;100.0:r3@8;1e300:r4@9;"
                     "a+b+3:multi@10;a:dup@11;spaced:x0y\n\"q\"@12;été:café 😀@13;"
                     "x:a\xEF\xBF\xBD" "b\xEF\xBF\xBD@14;");
    ck_assert_int_eq(g_fmt, TCAT_FORMAT_JSONL);
}
END_TEST

START_TEST(test_fasttext)
{
    const char *p = write_text("a.ft", "__label__a __label__b text with  spaces\n"
                                       "__label__c\n"
                                       "\n"
                                       "  __label__d\t__label__e   lead\n"
                                       "__label__x text __label__y\n"
                                       "__label__z __label__z dup\n");
    ck_assert_str_eq(read_docs(p, TCAT_FORMAT_AUTO, NULL),
                     "a+b:text with  spaces@1;c:@2;d+e:  lead@4;x:text __label__y@5;z:dup@6;");
    ck_assert_int_eq(g_fmt, TCAT_FORMAT_FASTTEXT);
}
END_TEST

/* Reads a folder: "label:text@source-relative-to-root;" each. */
static const char *read_folder(const char *root)
{
    tcat_reader *r = NULL;
    tcat_error err = {0};
    ck_assert_msg(tcat_reader_open(&r, root, TCAT_FORMAT_AUTO, &err) == TCAT_OK, "open: %s",
                  err.msg);
    ck_assert_int_eq(tcat_reader_format(r), TCAT_FORMAT_FOLDER);
    tcat_buf out = {0};
    size_t rl = strlen(root);
    for (;;) {
        tcat_rawdoc d;
        bool done;
        ck_assert_msg(tcat_reader_next(r, &d, &done, &err) == TCAT_OK, "next: %s", err.msg);
        if (done)
            break;
        ck_assert_uint_eq(d.nlabels, 1);
        ck_assert_uint_eq(d.line, 0);
        ck_assert_int_eq(strncmp(d.source, root, rl), 0);
        ck_assert_ptr_null(strstr(d.source, "//"));
        tcat_buf_append(&out, d.labels[0], d.label_lens[0]);
        tcat_buf_append(&out, ":", 1);
        tcat_buf_append(&out, d.text, d.len);
        tcat_buf_append(&out, "@", 1);
        const char *rel = d.source + rl + (d.source[rl] == '/');
        tcat_buf_append(&out, rel, strlen(rel));
        tcat_buf_append(&out, ";", 1);
    }
    tcat_reader_close(&r);
    const char *s = ring_copy(out.data ? out.data : "", out.len);
    tcat_buf_free(&out);
    return s;
}

START_TEST(test_folder)
{
    make_dir("corp");
    make_dir("corp/neg");
    make_dir("corp/pos");
    make_dir("corp/empty");
    make_dir("corp/.git");
    make_dir("corp/neg/.hiddendir");
    make_dir("corp/neg/nested");
    write_text("corp/neg/b.txt", "bad");
    write_text("corp/neg/a.txt", "awful\nreally\n");
    write_text("corp/neg/.hidden", "hidden");
    write_text("corp/neg/.hiddendir/z.txt", "hidden too");
    write_text("corp/neg/nested/n.txt", "nested");
    write_text("corp/pos/c.txt", "\xEF\xBB\xBFgood");
    write_bytes("corp/pos/B.txt", "", 0);
    write_text("corp/.git/config", "not a label");
    write_text("corp/README", "a file at the root");
    write_text("outside.txt", "linked");
    ck_assert_int_eq(symlink("../../outside.txt", at("corp/pos/link.txt")), 0);
    ck_assert_int_eq(symlink("pos", at("corp/zlinked")), 0);
    ck_assert_str_eq(read_folder(at("corp")),
                     "neg:awful\nreally\n@neg/a.txt;neg:bad@neg/b.txt;"
                     "pos:@pos/B.txt;pos:good@pos/c.txt;pos:linked@pos/link.txt;"
                     "zlinked:@zlinked/B.txt;zlinked:good@zlinked/c.txt;"
                     "zlinked:linked@zlinked/link.txt;");
    /* a trailing slash gives the same sources */
    ck_assert_str_eq(read_folder(ring_copy(at("corp/"), strlen(at("corp/")))),
                     read_folder(at("corp")));
}
END_TEST

START_TEST(test_folder_nul_text)
{
    /* read_folder stops at the NUL in its string: check the bytes */
    make_dir("f");
    make_dir("f/l");
    write_bytes("f/l/x", "a\0b", 3);
    tcat_reader *r = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_reader_open(&r, at("f"), TCAT_FORMAT_FOLDER, &err), TCAT_OK);
    tcat_rawdoc d;
    bool done;
    ck_assert_int_eq(tcat_reader_next(r, &d, &done, &err), TCAT_OK);
    ck_assert(!done);
    ck_assert_uint_eq(d.len, 3);
    ck_assert_int_eq(memcmp(d.text, "a\0b", 3), 0);
    ck_assert_str_eq(d.source, at("f/l/x"));
    ck_assert_int_eq(tcat_reader_next(r, &d, &done, &err), TCAT_OK);
    ck_assert(done);
    tcat_reader_close(&r);
}
END_TEST

/* ---- detection --------------------------------------------------------------- */

START_TEST(test_detect_by_extension)
{
    /* the extension wins over what the first line looks like */
    const char *odd = "{\"label\": 1}\t__label__x,label,text\n";
    ck_assert_int_eq(detected(write_text("a.tsv", odd)), TCAT_FORMAT_TSV);
    ck_assert_int_eq(detected(write_text("a.TSV", odd)), TCAT_FORMAT_TSV);
    ck_assert_int_eq(detected(write_text("a.csv", odd)), TCAT_FORMAT_CSV);
    ck_assert_int_eq(detected(write_text("a.jsonl", odd)), TCAT_FORMAT_JSONL);
    ck_assert_int_eq(detected(write_text("a.ndjson", odd)), TCAT_FORMAT_JSONL);
    ck_assert_int_eq(detected(write_text("a.json", odd)), TCAT_FORMAT_JSONL);
    ck_assert_int_eq(detected(write_text("a.ft", odd)), TCAT_FORMAT_FASTTEXT);
    ck_assert_int_eq(detected(write_text("a.fasttext", odd)), TCAT_FORMAT_FASTTEXT);
    ck_assert_str_eq(read_docs(at("a.tsv"), TCAT_FORMAT_AUTO, NULL),
                     "{\"label\": 1}:__label__x,label,text@1;");
    make_dir("d.tsv");
    make_dir("d.tsv/x");
    ck_assert_int_eq(detected(at("d.tsv")), TCAT_FORMAT_FOLDER);
}
END_TEST

START_TEST(test_detect_by_content)
{
    ck_assert_int_eq(detected(write_text("t.txt", "\n\npos\tgood\n")), TCAT_FORMAT_TSV);
    ck_assert_str_eq(read_docs(at("t.txt"), TCAT_FORMAT_AUTO, NULL), "pos:good@3;");
    ck_assert_int_eq(detected(write_text("c.data", "\r\n Label ,\"TEXT\"\r\nx,y\r\n")),
                     TCAT_FORMAT_CSV);
    ck_assert_str_eq(read_docs(at("c.data"), TCAT_FORMAT_AUTO, NULL), "x:y@3;");
    ck_assert_int_eq(detected(write_text("j", "  {\"label\":\"a\",\"text\":\"b\"}\n")),
                     TCAT_FORMAT_JSONL);
    ck_assert_int_eq(detected(write_text("f.txt", "__label__a some text\n")),
                     TCAT_FORMAT_FASTTEXT);
    ck_assert_int_eq(detected(write_text("bom.txt", "\xEF\xBB\xBF{\"label\":1,\"text\":\"\"}")),
                     TCAT_FORMAT_JSONL);
    ck_assert_str_eq(read_docs(at("bom.txt"), TCAT_FORMAT_AUTO, NULL), "1:@1;");
    /* what cannot be told */
    const char *p = write_text("u.txt", "just some words, no layout\nlabel,text\n");
    const char *msg = read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, p, 0);
    ck_assert_ptr_nonnull(strstr(msg, "--format"));
    p = write_text("h.txt", "id,label,body\n1,a,b\n");
    read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, "--format", 0);
}
END_TEST

/* ---- stdin -------------------------------------------------------------------- */

/* Puts data on fd 0 through a pipe (it must fit the pipe's buffer); returns
 * the old fd 0 for restore_stdin. */
static int stdin_from(const char *data)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    size_t n = strlen(data);
    ck_assert_int_eq(write(fds[1], data, n), (ssize_t)n);
    close(fds[1]);
    int saved = dup(0);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_eq(dup2(fds[0], 0), 0);
    close(fds[0]);
    return saved;
}

static void restore_stdin(int saved)
{
    dup2(saved, 0);
    close(saved);
}

/* The documents of data read from stdin in layout fmt (its detection is
 * left in g_fmt). */
static const char *stdin_docs(const char *data, tcat_format fmt)
{
    int saved = stdin_from(data);
    const char *s = read_docs("-", fmt, "stdin");
    /* stdin is not closed */
    ck_assert_int_ne(fcntl(0, F_GETFD), -1);
    restore_stdin(saved);
    return s;
}

START_TEST(test_stdin)
{
    /* the line read ahead to tell the layout is the first document */
    ck_assert_str_eq(stdin_docs("\xEF\xBB\xBF\npos\tgood\r\nneg\tbad\n", TCAT_FORMAT_AUTO),
                     "pos:good@2;neg:bad@3;");
    ck_assert_int_eq(g_fmt, TCAT_FORMAT_TSV);
    ck_assert_str_eq(stdin_docs("{\"label\":\"a\",\"text\":\"b\"}\n{\"label\":2,\"text\":\"c\"}",
                                TCAT_FORMAT_AUTO),
                     "a:b@1;2:c@2;");
    ck_assert_int_eq(g_fmt, TCAT_FORMAT_JSONL);
    ck_assert_str_eq(stdin_docs("__label__x hi\n__label__y yo\n", TCAT_FORMAT_AUTO),
                     "x:hi@1;y:yo@2;");
    ck_assert_int_eq(g_fmt, TCAT_FORMAT_FASTTEXT);
    ck_assert_str_eq(stdin_docs("label,text\na,\"b\nc\"\n", TCAT_FORMAT_AUTO), "a:b\nc@2;");
    ck_assert_int_eq(g_fmt, TCAT_FORMAT_CSV);
    ck_assert_str_eq(stdin_docs("", TCAT_FORMAT_AUTO), "");
    ck_assert_str_eq(stdin_docs("x\ty\n", TCAT_FORMAT_TSV), "x:y@1;");
    ck_assert_str_eq(stdin_docs("label,text\nx,y\n", TCAT_FORMAT_CSV), "x:y@2;");
}
END_TEST

START_TEST(test_stdin_bom_in_small_reads)
{
    /* a slow producer: the BOM comes over two reads (a SOCK_SEQPACKET
     * socket hands out one packet a read), the first line over three */
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    static const char *const packets[] = {"\xEF", "\xBB\xBF", "__lab", "el__a x\n__label__b y"};
    for (size_t i = 0; i < 4; i++)
        ck_assert_int_eq(write(sv[1], packets[i], strlen(packets[i])), (ssize_t)strlen(packets[i]));
    close(sv[1]);
    int saved = dup(0);
    ck_assert_int_eq(dup2(sv[0], 0), 0);
    close(sv[0]);
    ck_assert_str_eq(read_docs("-", TCAT_FORMAT_AUTO, "stdin"), "a:x@1;b:y@2;");
    ck_assert_int_eq(g_fmt, TCAT_FORMAT_FASTTEXT);
    restore_stdin(saved);
}
END_TEST

START_TEST(test_stdin_large)
{
    /* more than any single read: from a file on fd 0 */
    tcat_buf b = {0};
    for (int i = 0; i < 50000; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "l%d\tdocument number %d\n", i % 3, i);
        tcat_buf_append(&b, line, (size_t)n);
    }
    const char *p = write_bytes("big", b.data, b.len);
    tcat_buf_free(&b);
    int fd = open(p, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    int saved = dup(0);
    ck_assert_int_eq(dup2(fd, 0), 0);
    close(fd);
    tcat_reader *r = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_reader_open(&r, "-", TCAT_FORMAT_AUTO, &err), TCAT_OK);
    ck_assert_int_eq(tcat_reader_format(r), TCAT_FORMAT_TSV);
    size_t n = 0;
    for (;;) {
        tcat_rawdoc d;
        bool done;
        ck_assert_int_eq(tcat_reader_next(r, &d, &done, &err), TCAT_OK);
        if (done)
            break;
        char want[64];
        snprintf(want, sizeof want, "document number %zu", n);
        ck_assert_uint_eq(d.len, strlen(want));
        ck_assert_int_eq(memcmp(d.text, want, d.len), 0);
        ck_assert_uint_eq(d.line, n + 1);
        n++;
    }
    ck_assert_uint_eq(n, 50000);
    tcat_reader_close(&r);
    restore_stdin(saved);
}
END_TEST

START_TEST(test_stdin_errors)
{
    int saved = stdin_from("what is this\n");
    read_error("-", TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, "cannot tell the layout of 'stdin'", 0);
    restore_stdin(saved);
    saved = stdin_from("a\tb\nno tab\n");
    read_error("-", TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, "stdin:2:", 1);
    restore_stdin(saved);
    read_error("-", TCAT_FORMAT_FOLDER, TCAT_ERR_USAGE, "stdin", 0);
}
END_TEST

/* ---- malformed input ------------------------------------------------------------ */

START_TEST(test_bad_tsv)
{
    const char *p = write_text("a.tsv", "a\tb\n\nno tab here\n");
    read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 3), 1);
    p = write_text("b.tsv", "a\tb\n\ttext\n");
    const char *m = read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 2), 1);
    ck_assert_ptr_nonnull(strstr(m, "empty label"));
    p = write_text("c.tsv", "  \ttext\n");
    read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, "empty label", 0);
    /* a control character in a label is refused, and shown escaped */
    p = write_text("d.tsv", "ok\tx\nbad\x01\x1b[31m\ty\n");
    m = read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 2), 1);
    ck_assert_ptr_nonnull(strstr(m, "bad\\x01\\x1B[31m"));
    ck_assert_ptr_null(strchr(m, '\x1b'));
}
END_TEST

START_TEST(test_bad_csv)
{
    /* the wrong field count, named at the record's first line */
    const char *p = write_text("a.csv", "label,text\na,\"multi\nline\"\nb,c,d\n");
    const char *m = read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 4), 1);
    ck_assert_ptr_nonnull(strstr(m, "3 fields"));
    p = write_text("b.csv", "label,text\na\n");
    read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 2), 0);
    /* an unclosed quote, named where it opens */
    p = write_text("c.csv", "label,text\na,b\nc,\"never\nclosed\n\n");
    m = read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 3), 1);
    ck_assert_ptr_nonnull(strstr(m, "unclosed quote"));
    /* the header */
    p = write_text("d.csv", "label,body\na,b\n");
    m = read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 1), 0);
    ck_assert_ptr_nonnull(strstr(m, "'text'"));
    p = write_text("e.csv", "\nclass,text\na,b\n");
    m = read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 2), 0);
    ck_assert_ptr_nonnull(strstr(m, "'label'"));
    p = write_text("f.csv", "\"label,text\n");
    read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, "unclosed quote", 0);
    /* an empty label */
    p = write_text("g.csv", "text,label\nx,\n");
    read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 2), 0);
    /* a line break inside a quoted label */
    p = write_text("h.csv", "text,label\nx,\"a\nb\"\n");
    m = read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 2), 0);
    ck_assert_ptr_nonnull(strstr(m, "a\\x0Ab"));
}
END_TEST

/* Expects the JSONL line bad (after one good line) to fail with frag. */
static void bad_json(const char *bad, const char *frag)
{
    tcat_buf b = {0};
    const char *good = "{\"label\":\"a\",\"text\":\"b\"}\n\n";
    tcat_buf_append(&b, good, strlen(good));
    tcat_buf_append(&b, bad, strlen(bad));
    const char *p = write_bytes("bad.jsonl", b.data, b.len);
    tcat_buf_free(&b);
    const char *m = read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 3), 1);
    ck_assert_msg(strstr(m, frag), "'%s' not in '%s'", frag, m);
}

START_TEST(test_bad_jsonl)
{
    bad_json("{\"label\": \"a\", \"text\": }", "malformed JSON at column 24");
    bad_json("{\"label\": \"a\", \"text\": \"b\"} x", "malformed JSON");
    bad_json("{\"label\": \"a\", \"text\": \"b\x01\"}", "malformed JSON");
    bad_json("[1, 2]", "must be an object");
    bad_json("{\"text\": \"x\"}", "no \"label\" key");
    bad_json("{\"label\": \"x\"}", "no \"text\" key");
    bad_json("{\"label\": \"x\", \"text\": 5}", "\"text\" must be a string");
    bad_json("{\"label\": \"x\", \"text\": null}", "\"text\" must be a string");
    bad_json("{\"label\": \"\", \"text\": \"x\"}", "empty label");
    bad_json("{\"label\": \"  \", \"text\": \"x\"}", "empty label");
    bad_json("{\"label\": [], \"text\": \"x\"}", "empty label");
    bad_json("{\"label\": true, \"text\": \"x\"}", "must be a string, a number");
    bad_json("{\"label\": [\"a\", {}], \"text\": \"x\"}", "must be a string, a number");
    bad_json("{\"label\": \"a\\tb\", \"text\": \"x\"}", "a\\x09b");
    bad_json("{\"label\": \"a\\u0000b\", \"text\": \"x\"}", "a\\x00b");
}
END_TEST

START_TEST(test_bad_fasttext)
{
    const char *p = write_text("a.ft", "__label__a x\nno label here\n");
    const char *m = read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 2), 1);
    ck_assert_ptr_nonnull(strstr(m, "no label"));
    p = write_text("b.ft", "__label__a x\n\n__label__ text\n");
    m = read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, where(p, 3), 1);
    ck_assert_ptr_nonnull(strstr(m, "empty label"));
    p = write_text("c.ft", "__label__a __label__\n");
    read_error(p, TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, "empty label", 0);
}
END_TEST

START_TEST(test_bad_folder)
{
    make_dir("flat");
    write_text("flat/a.txt", "x");
    write_text("flat/b.txt", "y");
    const char *m = read_error(at("flat"), TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, at("flat"), 0);
    ck_assert_ptr_nonnull(strstr(m, "2 files and no subfolders"));
    ck_assert_ptr_nonnull(strstr(m, "one subfolder per label"));
    make_dir("none");
    read_error(at("none"), TCAT_FORMAT_FOLDER, TCAT_ERR_INPUT, "no subfolders", 0);
    /* a file that cannot be read (a dangling link) is an I/O error naming it */
    make_dir("dang");
    make_dir("dang/a");
    make_dir("dang/b");
    write_text("dang/a/1", "one");
    ck_assert_int_eq(symlink("nowhere", at("dang/b/2")), 0);
    read_error(at("dang"), TCAT_FORMAT_AUTO, TCAT_ERR_IO, at("dang/b/2"), 1);
    /* a label that is not one */
    make_dir("ctl");
    make_dir("ctl/a\nb");
    write_text("ctl/a\nb/x", "x");
    read_error(at("ctl"), TCAT_FORMAT_AUTO, TCAT_ERR_INPUT, "a\\x0Ab", 0);
}
END_TEST

START_TEST(test_open_errors)
{
    const char *missing = at("no/such/file.tsv");
    read_error(missing, TCAT_FORMAT_AUTO, TCAT_ERR_IO, missing, 0);
    read_error(missing, TCAT_FORMAT_TSV, TCAT_ERR_IO, missing, 0);
    read_error(at("nodir"), TCAT_FORMAT_FOLDER, TCAT_ERR_IO, at("nodir"), 0);
    make_dir("d");
    make_dir("d/x");
    read_error(at("d"), TCAT_FORMAT_TSV, TCAT_ERR_USAGE, "is a folder", 0);
    const char *p = write_text("f.tsv", "a\tb\n");
    read_error(p, TCAT_FORMAT_FOLDER, TCAT_ERR_USAGE, "not a folder", 0);
    read_error("", TCAT_FORMAT_AUTO, TCAT_ERR_USAGE, NULL, 0);
    read_error(p, (tcat_format)42, TCAT_ERR_USAGE, NULL, 0);
    tcat_reader *r = NULL;
    tcat_reader_close(&r);
    tcat_reader_close(NULL);
}
END_TEST

/* ---- sizes, line ends, empty input ------------------------------------------------ */

START_TEST(test_big_documents)
{
    /* a 20 MB single-line TSV document is read whole */
    size_t n = 20u << 20;
    char *data = malloc(n + 32);
    ck_assert_ptr_nonnull(data);
    memcpy(data, "big\t", 4);
    for (size_t i = 0; i < n; i++)
        data[4 + i] = i % 11 == 10 ? ' ' : (char)('a' + i % 26);
    memcpy(data + 4 + n, "\nsmall\tx\n", 9);
    const char *p = write_bytes("big.tsv", data, n + 13);
    tcat_reader *r = NULL;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_reader_open(&r, p, TCAT_FORMAT_AUTO, &err), TCAT_OK);
    tcat_rawdoc d;
    bool done;
    ck_assert_int_eq(tcat_reader_next(r, &d, &done, &err), TCAT_OK);
    ck_assert(!done);
    ck_assert_uint_eq(d.len, n);
    ck_assert_int_eq(memcmp(d.text, data + 4, n), 0);
    ck_assert_str_eq(d.labels[0], "big");
    ck_assert_int_eq(tcat_reader_next(r, &d, &done, &err), TCAT_OK);
    ck_assert(!done);
    ck_assert_uint_eq(d.line, 2);
    ck_assert_uint_eq(d.len, 1);
    tcat_reader_close(&r);

    /* the same text as a CSV field cut by many line breaks */
    for (size_t i = 0; i < n; i += 97)
        data[4 + i] = '\n';
    tcat_buf b = {0};
    tcat_buf_append(&b, "label,text\nbig,\"", 16);
    tcat_buf_append(&b, data + 4, n);
    tcat_buf_append(&b, "\"\nsmall,x\n", 10);
    p = write_bytes("big.csv", b.data, b.len);
    tcat_buf_free(&b);
    ck_assert_int_eq(tcat_reader_open(&r, p, TCAT_FORMAT_AUTO, &err), TCAT_OK);
    ck_assert_int_eq(tcat_reader_next(r, &d, &done, &err), TCAT_OK);
    ck_assert_uint_eq(d.len, n);
    ck_assert_int_eq(memcmp(d.text, data + 4, n), 0);
    ck_assert_uint_eq(d.line, 2);
    ck_assert_int_eq(tcat_reader_next(r, &d, &done, &err), TCAT_OK);
    ck_assert_uint_eq(d.line, 3 + (n - 1) / 97 + 1);
    tcat_reader_close(&r);
    free(data);
}
END_TEST

START_TEST(test_crlf)
{
    ck_assert_str_eq(read_docs(write_text("a.tsv", "a\tb\r\nc\td\r\n\r\n"), TCAT_FORMAT_AUTO, NULL),
                     "a:b@1;c:d@2;");
    ck_assert_str_eq(read_docs(write_text("a.jsonl", "{\"label\":\"a\",\"text\":\"b\"}\r\n\r\n"
                                                     "{\"label\":\"c\",\"text\":\"d\"}\r\n"),
                               TCAT_FORMAT_AUTO, NULL),
                     "a:b@1;c:d@3;");
    ck_assert_str_eq(read_docs(write_text("a.ft", "__label__a b\r\n__label__c\r\n"),
                               TCAT_FORMAT_AUTO, NULL),
                     "a:b@1;c:@2;");
    ck_assert_str_eq(read_docs(write_text("a.csv", "label,text\r\na,b\r\nc,\"d\r\ne\"\r\n"),
                               TCAT_FORMAT_AUTO, NULL),
                     "a:b@2;c:d\r\ne@3;");
    /* a CR that does not end a line is text */
    ck_assert_str_eq(read_docs(write_text("b.tsv", "a\tb\rc\n"), TCAT_FORMAT_AUTO, NULL),
                     "a:b\rc@1;");
}
END_TEST

START_TEST(test_bom)
{
    const char *bom = "\xEF\xBB\xBF";
    char s[256];
    snprintf(s, sizeof s, "%sa\tb\n", bom);
    ck_assert_str_eq(read_docs(write_text("a.tsv", s), TCAT_FORMAT_AUTO, NULL), "a:b@1;");
    snprintf(s, sizeof s, "%s__label__a b\n", bom);
    ck_assert_str_eq(read_docs(write_text("a.txt", s), TCAT_FORMAT_AUTO, NULL), "a:b@1;");
    snprintf(s, sizeof s, "%slabel,text\na,b\n", bom);
    ck_assert_str_eq(read_docs(write_text("b.txt", s), TCAT_FORMAT_AUTO, NULL), "a:b@2;");
    snprintf(s, sizeof s, "%s{\"label\":\"a\",\"text\":\"b\"}", bom);
    ck_assert_str_eq(read_docs(write_text("a.jsonl", s), TCAT_FORMAT_AUTO, NULL), "a:b@1;");
    /* only at the start */
    snprintf(s, sizeof s, "a\tb\n%sc\td\n", bom);
    ck_assert_str_eq(read_docs(write_text("c.tsv", s), TCAT_FORMAT_AUTO, NULL),
                     "a:b@1;\xEF\xBB\xBF" "c:d@2;");
}
END_TEST

START_TEST(test_empty_inputs)
{
    static const char *const names[] = {"e.tsv", "e.csv", "e.jsonl", "e.ft", "e"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        ck_assert_str_eq(read_docs(write_bytes(names[i], "", 0), TCAT_FORMAT_AUTO, NULL), "");
        ck_assert_str_eq(read_docs(write_text(names[i], "\xEF\xBB\xBF"), TCAT_FORMAT_AUTO, NULL),
                         "");
        ck_assert_str_eq(read_docs(write_text(names[i], "\n\r\n  \n"), TCAT_FORMAT_AUTO, NULL),
                         "");
    }
    ck_assert_str_eq(read_docs(write_bytes("x.tsv", "", 0), TCAT_FORMAT_CSV, NULL), "");
    /* a folder whose label folders are empty */
    make_dir("f");
    make_dir("f/a");
    ck_assert_str_eq(read_folder(at("f")), "");
}
END_TEST

START_TEST(test_format_names)
{
    static const char *const names[] = {"auto", "folder", "tsv", "csv", "jsonl", "fasttext"};
    for (int i = 0; i < 6; i++) {
        ck_assert_str_eq(tcat_format_name((tcat_format)i), names[i]);
        tcat_format f = (tcat_format)99;
        tcat_error err = {0};
        ck_assert_int_eq(tcat_format_parse(names[i], &f, &err), TCAT_OK);
        ck_assert_int_eq(f, i);
    }
    tcat_format f = TCAT_FORMAT_TSV;
    tcat_error err = {0};
    ck_assert_int_eq(tcat_format_parse("xml", &f, &err), TCAT_ERR_USAGE);
    ck_assert_int_eq(f, TCAT_FORMAT_TSV);
    ck_assert_ptr_nonnull(strstr(err.msg, "'xml'"));
    ck_assert_ptr_nonnull(strstr(err.msg, "fasttext"));
    ck_assert_int_eq(tcat_format_parse("a\x01", &f, &err), TCAT_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "a\\x01"));
}
END_TEST

Suite *reader_suite(void)
{
    Suite *s = suite_create("reader");
    TCase *tc = tcase_new(s, "layouts");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_tsv);
    tcase_add_test(tc, test_csv);
    tcase_add_test(tc, test_jsonl);
    tcase_add_test(tc, test_fasttext);
    tcase_add_test(tc, test_folder);
    tcase_add_test(tc, test_folder_nul_text);
    tcase_add_test(tc, test_format_names);
    tc = tcase_new(s, "detection-and-stdin");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_detect_by_extension);
    tcase_add_test(tc, test_detect_by_content);
    tcase_add_test(tc, test_stdin);
    tcase_add_test(tc, test_stdin_bom_in_small_reads);
    tcase_add_test(tc, test_stdin_large);
    tcase_add_test(tc, test_stdin_errors);
    tc = tcase_new(s, "malformed");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_bad_tsv);
    tcase_add_test(tc, test_bad_csv);
    tcase_add_test(tc, test_bad_jsonl);
    tcase_add_test(tc, test_bad_fasttext);
    tcase_add_test(tc, test_bad_folder);
    tcase_add_test(tc, test_open_errors);
    tc = tcase_new(s, "sizes-and-line-ends");
    tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
    tcase_add_test(tc, test_big_documents);
    tcase_add_test(tc, test_crlf);
    tcase_add_test(tc, test_bom);
    tcase_add_test(tc, test_empty_inputs);
    return s;
}
