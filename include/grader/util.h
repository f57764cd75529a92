/*
 * util.h - errors and small file-system helpers shared by every module.
 *
 * Errors: functions return 0 on success or a negative GR_E* code, and fill a
 * caller-provided `struct gr_err` with a one-line message in git's style
 * ("cannot open 'ps1.ipynb': no such file"). A NULL `struct gr_err *` is
 * allowed everywhere: the message is then dropped.
 */
#ifndef GRADER_UTIL_H
#define GRADER_UTIL_H

#include <stddef.h>
#include <stdint.h>

enum {
	GR_OK = 0,
	GR_ENOMEM = -1,   /* allocation failed */
	GR_EIO = -2,      /* a file or system call failed */
	GR_EINVAL = -3,   /* malformed input (notebook, rubric, archive, option) */
	GR_ENOTFOUND = -4, /* a named file, student, cell or repository is missing */
	GR_ELIMIT = -5,   /* a size, count or time limit was exceeded */
	GR_EDENIED = -6,  /* refused for safety (path escape, weaker sandbox, ...) */
	GR_ESYS = -7,     /* the host lacks something we need */
};

#define GR_ERR_MAX 512

struct gr_err {
	int code;
	char msg[GR_ERR_MAX];
};

/* Store a printf-style message in `err` (when not NULL); returns `code`. */
int gr_err_set(struct gr_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like gr_err_set, appending ": strerror(errno_value)". */
int gr_err_sys(struct gr_err *err, int code, int errno_value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Read a whole file into a NUL-terminated heap buffer (*out, caller frees).
 * Files larger than `max` bytes (0 = no cap) fail with GR_ELIMIT.
 */
int gr_read_file(char **out, size_t *len, const char *path, size_t max, struct gr_err *err);

/* Write `len` bytes to `path` atomically (temp file in the same folder, fsync, rename). */
int gr_write_file_atomic(const char *path, const void *data, size_t len, struct gr_err *err);

/* mkdir -p with the given mode; existing directories are fine. */
int gr_mkdir_p(const char *path, unsigned mode, struct gr_err *err);

/* rm -rf without following symlinks; a missing path is fine. */
int gr_rm_rf(const char *path, struct gr_err *err);

/* Heap "a/b" (one slash between); NULL on allocation failure. */
char *gr_path_join(const char *a, const char *b);

/* Lowercase hex digests (out must hold 65 / 33 bytes). */
void gr_sha256_hex(char out[65], const void *data, size_t len);
int gr_sha256_file(char out[65], const char *path, struct gr_err *err);
void gr_md5_hex(char out[33], const void *data, size_t len);

/* Monotonic clock in seconds. */
double gr_now(void);

#endif
