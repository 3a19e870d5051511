/*
 * model/modelfile.h — the container every tcat model is saved in.
 *
 * A model file is a list of named sections of bytes (tokenizer settings,
 * vocabulary, labels, each ensemble member's tensors, metadata), each with
 * its own XXH3-64 checksum and its data aligned to 64 bytes, so a reader
 * can map the file and use float tensors in place. What the sections hold
 * is the business of the modules that write them; this module only stores
 * and checks bytes. The byte layout, every check made on load and its
 * message are in docs/model-format.md.
 *
 * Writing: sections are streamed to a temporary file beside the target
 * and renamed over it only at commit, after an fsync, so a crash or a
 * full disk never leaves a broken model where a good one was.
 *
 *     tcat_mwriter *w;
 *     if (tcat_mwriter_open(&w, "model.tcat", &err) != TCAT_OK)
 *         return err.status;
 *     if (tcat_mwriter_add(w, "labels", text, len, &err) != TCAT_OK ||
 *         tcat_mwriter_add(w, "linear.0.weights", W, n * sizeof *W, &err) != TCAT_OK) {
 *         tcat_mwriter_abort(&w);          // model.tcat is untouched
 *         return err.status;
 *     }
 *     return tcat_mwriter_commit(&w, &err);  // frees w either way
 *
 * Reading: the file is mapped read-only and checked in full (header, table,
 * every section's checksum) before tcat_mreader_open returns, so a caller
 * never sees a byte of a damaged model.
 *
 *     tcat_mreader *r;
 *     if (tcat_mreader_open(&r, "model.tcat", &err) != TCAT_OK)
 *         return err.status;            // "model.tcat: truncated (...)"
 *     const void *w; size_t n;
 *     if (!tcat_mreader_find(r, "linear.0.weights", &w, &n)) ...
 *     tcat_mreader_close(&r);
 *
 * The same sections added in the same order give the same file, byte for
 * byte (there is no timestamp in the container). Numbers are stored in the
 * byte order of the machine that wrote the file; a reader on a machine of
 * the other byte order refuses the file with a message saying so.
 *
 * Neither object is thread-safe while being built; a tcat_mreader that has
 * been opened may be read from any number of threads.
 */
#ifndef TCAT_MODEL_MODELFILE_H
#define TCAT_MODEL_MODELFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* The format version this build writes and the newest it reads. */
#define TCAT_MODEL_FORMAT_VERSION 1u

/* Section names: 1..TCAT_MODEL_NAME_MAX bytes of [A-Za-z0-9._-]. */
#define TCAT_MODEL_NAME_MAX 31

/* The most sections one file may hold. */
#define TCAT_MODEL_MAX_SECTIONS 65536u

/* Every section's data starts at a multiple of this many bytes. */
#define TCAT_MODEL_ALIGN 64u

/* ---- writing ----------------------------------------------------------- */

typedef struct tcat_mwriter tcat_mwriter;

/* Creates a temporary file beside path ("<path>.tmp.XXXXXX", same
 * directory, so the final rename is atomic) and starts a model there.
 * Nothing at path changes until tcat_mwriter_commit. TCAT_ERR_IO naming
 * the path when the temporary file cannot be created; TCAT_ERR_USAGE for
 * an empty path. *out is finished by tcat_mwriter_commit or
 * tcat_mwriter_abort. */
tcat_status tcat_mwriter_open(tcat_mwriter **out, const char *path, tcat_error *err);

/* Appends a section called name holding data[0..size) (size 0 is fine;
 * data may then be NULL). The data is written to the temporary file at
 * once, at an offset that is a multiple of TCAT_MODEL_ALIGN, and its
 * XXH3-64 checksum recorded; only the section table stays in memory.
 * TCAT_ERR_USAGE for a name that is not 1..31 bytes of [A-Za-z0-9._-],
 * a name already used in this file, or more than TCAT_MODEL_MAX_SECTIONS
 * sections: the writer is unchanged and may go on. TCAT_ERR_IO for a
 * failed write (a full disk, with the system's reason): the writer is then
 * broken, and tcat_mwriter_commit refuses it. */
tcat_status tcat_mwriter_add(tcat_mwriter *w, const char *name, const void *data, size_t size,
                             tcat_error *err);

/* Finishes the model: writes the section table and the header, fsyncs the
 * file, renames it over path (atomically replacing any old model there)
 * and fsyncs the directory so the rename survives a crash. Frees *w and
 * sets it to NULL, on success and on failure alike.
 *
 * On failure (TCAT_ERR_IO naming the path, also when an earlier
 * tcat_mwriter_add failed to write; TCAT_ERR_NOMEM; TCAT_ERR_USAGE when
 * *w is NULL) the temporary file is removed and path is untouched. The one exception: the rename succeeded but the directory
 * could not be synced; path then holds the new model, the status is
 * TCAT_ERR_IO and the message says so (a crash might still bring back the
 * old model). A new file gets mode 0666 less the umask; a model that
 * replaces another keeps the old one's permission bits. */
tcat_status tcat_mwriter_commit(tcat_mwriter **w, tcat_error *err);

/* Abandons the model: removes the temporary file, frees *w and sets it to
 * NULL. path is untouched. NULL and *w == NULL are fine. */
void tcat_mwriter_abort(tcat_mwriter **w);

/* ---- reading ----------------------------------------------------------- */

typedef struct tcat_mreader tcat_mreader;

/* Opens path, maps it read-only and checks all of it before returning:
 * the magic, the format version (a newer one says which version the file
 * has, which this tcat reads, and to upgrade tcat), the byte order and
 * type sizes, the header checksum, the declared file size against the
 * real one (truncated or trailing bytes), the section table's bounds and
 * checksum, and each section's bounds, alignment, name, uniqueness and
 * data checksum; the padding between sections must be zero, so every byte
 * of the file is covered by a checksum or a check.
 *
 * Every fault in the file is TCAT_ERR_MODEL with a one-line message that
 * starts with the path and names the section at fault, e.g.
 *   "model.tcat: not a tcat model file (bad magic)"
 *   "model.tcat: empty file, not a tcat model"
 *   "model.tcat: truncated (1234 bytes, expected 5678)"
 *   "model.tcat: section 'linear.0.weights' is corrupted (checksum mismatch)"
 * A file that cannot be opened, is not a regular file, or cannot be mapped
 * is TCAT_ERR_IO; no memory is TCAT_ERR_NOMEM. No input makes it crash.
 * *out is freed with tcat_mreader_close.
 *
 * The mapping stays valid while the reader is open; tcat never rewrites a
 * model in place (it renames a new file over it), so a model being read
 * is never changed underneath the reader by tcat itself. */
tcat_status tcat_mreader_open(tcat_mreader **out, const char *path, tcat_error *err);

/* Finds the section called name. On success *data points to its bytes in
 * the mapping (aligned to TCAT_MODEL_ALIGN, valid until close) and *size
 * is its length; either pointer may be NULL when not wanted. Returns false
 * (leaving *data and *size alone) when there is no such section.
 * O(log count). */
bool tcat_mreader_find(const tcat_mreader *r, const char *name, const void **data,
                       size_t *size);

/* The number of sections. */
size_t tcat_mreader_count(const tcat_mreader *r);

/* Section i (0-based, in file order, which is the order they were added):
 * returns its name (valid until close) and fills *data and *size (either
 * may be NULL). Returns NULL, with *data = NULL and *size = 0, when
 * i >= count. */
const char *tcat_mreader_section(const tcat_mreader *r, size_t i, const void **data,
                                 size_t *size);

/* The file's format version (TCAT_MODEL_FORMAT_VERSION or older). */
uint32_t tcat_mreader_version(const tcat_mreader *r);

/* The file's size in bytes. */
uint64_t tcat_mreader_file_size(const tcat_mreader *r);

/* Unmaps the file, frees *r and sets it to NULL. NULL and *r == NULL are
 * fine. */
void tcat_mreader_close(tcat_mreader **r);

#endif
