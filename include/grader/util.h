/*
 * util.h - small file-system, string, digest and time helpers shared by
 * every module above the sandbox. Errors and the clock are in base.h.
 */
#ifndef GRADER_UTIL_H
#define GRADER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "grader/base.h"

/*
 * Read a whole file into a NUL-terminated heap buffer (*out, caller frees).
 * Files larger than `max` bytes (0 = no cap) fail with GR_ELIMIT.
 */
int gr_read_file(char **out, size_t *len, const char *path, size_t max, struct gr_err *err);

/* Write `len` bytes to `path` atomically (temp file in the same folder, fsync, rename). */
int gr_write_file_atomic(const char *path, const void *data, size_t len, struct gr_err *err);

/*
 * Write all `len` bytes to fd, retrying on EINTR and short writes. 0, or -1
 * with errno set (EIO when the descriptor accepts no byte); on -1 an unknown
 * prefix may have been written.
 */
int gr_write_all(int fd, const void *buf, size_t len);

/*
 * Read until `len` bytes or end of file, retrying on EINTR and short reads.
 * Returns the number of bytes read: `len`, fewer only when end of file came
 * first (0 at once), or -1 with errno set on a read error. A caller reading
 * fixed-size frames treats 0 as a clean end and 0 < n < len as a torn frame.
 */
ssize_t gr_read_full(int fd, void *buf, size_t len);

/*
 * Copy the regular file `src` to the new file `dst` (created with `mode`,
 * minus the umask), following no symlink at either end: a link, FIFO or
 * folder at `src` and anything already at `dst` are refused. GR_EIO with a
 * message; a partly written `dst` is left for the caller to remove.
 */
int gr_copy_file(const char *src, const char *dst, unsigned mode, struct gr_err *err);

/* What gr_copy_tree copies, and what it does with what it cannot. */
struct gr_copy_opts {
	int max_depth;		 /* folders nested below `from` that are copied (0: none) */
	size_t max_files;	 /* 0: no cap; past a cap files are left out (capped) */
	uint64_t max_bytes;	 /* 0: no cap */
	bool skip_hidden;	 /* leave out every name starting with '.' */
	const char *skip_prefix; /* leave out `from`'s own entries starting with it, or NULL */
	bool keep_exec;		 /* files keep their execute bits (else 0644) */
	bool best_effort;	 /* leave out what cannot be read, copied or is nested too
				    deep, rather than fail */
};

/* What a gr_copy_tree copied. */
struct gr_copy_stats {
	size_t files;
	uint64_t bytes;
	bool capped; /* files were left out for the caps */
};

/*
 * Copy the regular files and folders under `from` into the existing folder
 * `to`, following no symlink (links, FIFOs and devices are left out). Without
 * best_effort: GR_EIO naming what could not be read or written, GR_ELIMIT
 * "'FROM': folders nested too deep" past max_depth; `to` is then partly
 * filled, for the caller to remove. st may be NULL.
 */
int gr_copy_tree(const char *from, const char *to, const struct gr_copy_opts *o,
		 struct gr_copy_stats *st, struct gr_err *err);

/*
 * A growable byte string, always NUL-terminated once anything was put:
 * start with `struct gr_buf b = {0}` and free(b.p) when done.
 */
struct gr_buf {
	char *p;
	size_t len, cap;
};

/* Append n bytes (n == 0 still allocates ""); GR_ENOMEM leaves b as it was. */
int gr_buf_put(struct gr_buf *b, const void *data, size_t n);

/* mkdir -p with the given mode; existing directories are fine. */
int gr_mkdir_p(const char *path, unsigned mode, struct gr_err *err);

/*
 * rm -rf without following symlinks; a missing path is fine. No depth limit
 * (one directory open at a time); folders of ours without write or search
 * permission are opened up first. GR_EIO with a message naming what could
 * not be removed. gr_rm_rf_at: `name` relative to the directory dir_fd.
 */
int gr_rm_rf(const char *path, struct gr_err *err);
int gr_rm_rf_at(int dir_fd, const char *name, struct gr_err *err);

/*
 * A private work directory `<parent>/<prefix>.XXXXXX` (mode 0700) holding
 * student files, which a grader killed with SIGKILL cannot remove itself:
 * its owner holds a lock on `<path>/.lock` (flock, dropped by the kernel
 * when the owner dies), so that the next run can tell it is stale.
 */
struct gr_workdir {
	char *path;		  /* heap */
	int lock_fd;		  /* the held lock, -1 when none */
	char warning[GR_ERR_MAX]; /* why a stale directory could not be removed, or "" */
};

/*
 * Create one, after removing the stale ones of the same prefix in `parent`
 * (gr_workdir_sweep; what it could not remove is in w->warning, for the
 * caller to print: it does not stop this run). GR_EIO/GR_ENOMEM.
 */
int gr_workdir_make(struct gr_workdir *w, const char *parent, const char *prefix,
		    struct gr_err *err);

/* rm -rf it and drop the lock; GR_EIO naming what stayed. `w` is released either way. */
int gr_workdir_remove(struct gr_workdir *w, struct gr_err *err);

/*
 * Remove `<parent>/<prefix>.*` directories whose lock nobody holds (their
 * owner died); live ones, and directories without a lock file (not made by
 * gr_workdir_make), are left alone. *removed (may be NULL) counts them. The
 * sweep goes on past a failure; the first one is returned (GR_EIO).
 */
int gr_workdir_sweep(const char *parent, const char *prefix, unsigned *removed, struct gr_err *err);

/*
 * Split a comma-separated list ("numpy,matplotlib"): *out is a NULL-terminated
 * array of its non-empty items, held with a copy of the text in one heap
 * block, so one free(*out) releases everything. GR_ENOMEM.
 */
int gr_split_list(char ***out, const char *list);

/*
 * Text safe to print on a terminal: every control character is shown
 * escaped, so that what a student's code printed cannot move the cursor,
 * rewrite a line, ring the bell or set the window title. \n \r \t as such,
 * other C0 bytes and DEL as \xHH, C1 controls (U+0080-U+009F) and the
 * characters that show as nothing but change what is shown (bidi controls
 * such as U+202E, zero-width and other format characters, U+2028/U+2029) as
 * \uHHHH (\UHHHHHHHH above U+FFFF), bytes that are not UTF-8 as \xHH;
 * everything else unchanged. A heap string
 * (caller frees), "" for NULL, or NULL when out of memory.
 */
char *gr_term_escape(const char *s);

/* Heap "a/b" (one slash between); NULL on allocation failure. */
char *gr_path_join(const char *a, const char *b);

/* ---- UTF-8 (util_text.c) ------------------------------------------------- */

/*
 * The strict UTF-8 sequence at s (n bytes there): its length 1-4 with *cp its
 * code point, or 0 when the bytes there are not a whole valid sequence
 * (overlong forms, surrogates, > U+10FFFF, cut). NUL is a sequence of one.
 */
size_t gr_utf8_seq(const char *s, size_t n, uint32_t *cp);

/* Bytes of the longest prefix of s[0..n) that is strict UTF-8 (n: all of it). */
size_t gr_utf8_prefix(const char *s, size_t n);

/* Whether n bytes are strict UTF-8 (no overlong forms, surrogates, > U+10FFFF). */
int gr_utf8_valid(const char *s, size_t n);

/*
 * A copy of s[0..n) that is valid UTF-8 without NUL bytes: each byte that
 * starts no valid sequence, and NUL, becomes U+FFFD; a sequence the end cut
 * off (a capped output) is dropped. Heap, NULL on allocation failure.
 */
char *gr_utf8_clean(const char *s, size_t n);

/*
 * *out = s in Unicode NFC (heap, caller frees), so that a name written
 * decomposed (macOS zips) and the same name composed are one byte string.
 * GR_EINVAL when s is not valid UTF-8, GR_ENOMEM.
 */
int gr_utf8_nfc(char **out, const char *s);

/*
 * *out = the first n bytes of s case folded (Unicode full case folding,
 * then NFC: "LÖSUNG" and "lösung" fold alike, "Straße" is "strasse"); heap,
 * caller frees. GR_EINVAL when not valid UTF-8, GR_ENOMEM.
 */
int gr_utf8_casefold(char **out, const char *s, size_t n);

/*
 * The key people's names are compared by (heap, caller frees): NFKC, case
 * folded, invisible marks (RLM, ZWJ) dropped, only letters, marks and digits
 * kept: "Ana García", "ANA GARCÍA" and "Ana_García" (Moodle writes a space
 * for '_') give one key; word order is the caller's business.
 * GR_EINVAL when s is not valid UTF-8, GR_ENOMEM.
 */
int gr_utf8_name_key(char **out, const char *s);

/* Lowercase hex digests (out must hold 65 / 33 bytes). */
void gr_sha256_hex(char out[65], const void *data, size_t len);
int gr_sha256_file(char out[65], const char *path, struct gr_err *err);
void gr_md5_hex(char out[33], const void *data, size_t len);

/*
 * Write s as HTML text, safe inside an element or a double- or single-quoted
 * attribute: & < > " ' become entities, ANSI escape sequences are dropped,
 * control characters (but tab, LF and CR), DEL and bytes that are not UTF-8
 * become U+FFFD. Nothing in s is ever read as markup. NULL writes nothing.
 */
void gr_html_text(FILE *f, const char *s);

/* ---- wall-clock times ---------------------------------------------------- */

/* A UTC instant: seconds since the epoch plus microseconds. */
struct gr_time {
	int64_t sec;
	int32_t usec;
};

/* The current wall-clock time (CLOCK_REALTIME). */
void gr_time_now(struct gr_time *out);

/* Flags of gr_time_parse. */
enum {
	GR_TIME_NAIVE_UTC = 1 << 0,  /* no zone means UTC (as nbgrader does); else an error */
	GR_TIME_DATE_ONLY = 1 << 1,  /* a bare date "2026-10-30" means its midnight */
	GR_TIME_BLACKBOARD = 1 << 2, /* Blackboard's "2026-10-30-10-00-00" */
	GR_TIME_HOUR_24 = 1 << 3,    /* "24:00[:00]" means the next day's midnight */
};
/* What LMS downloads and deadlines on the command line may use. */
#define GR_TIME_LENIENT                                                                            \
	(GR_TIME_NAIVE_UTC | GR_TIME_DATE_ONLY | GR_TIME_BLACKBOARD | GR_TIME_HOUR_24)

/*
 * Parse a time into seconds since the epoch (*sec, UTC) and microseconds
 * (*usec, may be NULL; further fraction digits are dropped). Accepted:
 * "YYYY-MM-DD" then "T", "t" or a space, then "HH:MM[:SS[(.|,)fraction]]",
 * then an optional zone after optional spaces: Z, UTC, GMT, +HH, +HHMM,
 * +HH:MM (also after UTC/GMT: "UTC+02:00") or an unambiguous abbreviation
 * (WET/WEST, BST, CET/CEST, EET/EEST, MSK, JST, KST, AEST/AEDT, NZST/NZDT,
 * EST/EDT, CST/CDT = US Central, MST/MDT, PST/PDT, AKST/AKDT, HST) or a tz
 * database name (Europe/London, America/Los_Angeles: the system's tzdata,
 * with its daylight-saving rules; see gr_time_zone_to_utc). So nbgrader's
 * "2026-10-30 10:00:00.000000 UTC", its user guide's "... America/Los_Angeles"
 * and ISO 8601 all parse. A leap second ":60" reads as ":59".
 * Surrounding whitespace is ignored; `flags` (GR_TIME_*) widen the grammar.
 * GR_EINVAL with a message naming the text; outputs set only on success.
 */
int gr_time_parse(int64_t *sec, int32_t *usec, const char *text, unsigned flags,
		  struct gr_err *err);

/*
 * The UTC instant (*utc) of the wall-clock time `local` (seconds since the
 * epoch as if the wall clock were UTC) in tz database zone `name`. A time
 * that happens twice (clocks going back) is its first occurrence; one that
 * never happens (clocks going forward) is read with the offset in force
 * after the change (as nbgrader reads both). Safe from any thread (no TZ).
 * GR_EINVAL when the zone is not in the tz database.
 */
int gr_time_zone_to_utc(int64_t *utc, int64_t local, const char *name, struct gr_err *err);

/* The same; *later is the second instant of a time that happens twice, else *utc. */
int gr_time_zone_to_utc_both(int64_t *utc, int64_t *later, int64_t local, const char *name,
			     struct gr_err *err);

enum gr_time_style {
	GR_TIME_ISO,	  /* 2026-10-30T10:00:00Z (microseconds dropped) */
	GR_TIME_ISO_FRAC, /* 2026-10-30T10:00:00[.749302]Z: microseconds when not 0 */
	GR_TIME_NBGRADER, /* 2026-10-30 10:00:00.000000 UTC (timestamp.txt) */
	GR_TIME_PYTHON,	  /* 2026-10-30 10:00:00[.250000]: str() of a naive datetime */
	GR_TIME_SQL,	  /* 2026-10-30 10:00:00.000000: microseconds always */
};

/* Room for any gr_time_format output. */
#define GR_TIME_MAX 48

/* Print a UTC instant in `style` into out (size bytes, NUL-terminated, truncated). */
void gr_time_format(char *out, size_t size, int64_t sec, int32_t usec, enum gr_time_style style);

/*
 * x as Python's repr() (and str(), json.dumps) prints a float: the shortest
 * digits that read back as x, "0.0", "7.5", "0.30000000000000004", "1e-05",
 * "1e+16", "nan", "inf". The one implementation for every format we write.
 */
void gr_py_float_repr(char out[32], double x);

/* x for people: at most two decimals, trailing zeros dropped ("2.5", "3", "0.33"). */
void gr_num_short(char out[32], double x);

#endif
