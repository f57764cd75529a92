/*
 * fetch_int.h - private to the fetch module (grader/fetch_*.c): the safe
 * writer of one submission folder, provenance, and the worker pool.
 */
#ifndef GRADER_FETCH_INT_H
#define GRADER_FETCH_INT_H

#include "grader/fetch.h"

/* ---- LMS file names (fetch_lms.c, fetch_regex.c) ---- */

enum fetch_name_kind {
	FETCH_NAME_FILE,      /* a file of the submission */
	FETCH_NAME_RECEIPT,   /* Blackboard's receipt .txt (recorded, not copied) */
	FETCH_NAME_TIMESTAMP, /* nbgrader's timestamp.txt (read, not copied) */
};

/* What an archive entry's name says about its submission. */
struct fetch_name {
	enum fetch_layout layout; /* the layout that matched */
	enum fetch_name_kind kind;
	char *lms_id;	    /* Canvas user id or anon id, Moodle participant id,
			       Blackboard username, nbgrader/regex student_id */
	char *display_name; /* Canvas sortable name, Moodle full name, regex
			       first/last name; NULL when absent */
	char *path;	    /* path inside the submission ("" for a receipt) */
	char *original;	    /* the file name as stored when `path` was renamed
			       (Canvas `-1` suffix), else NULL */
	int late;	    /* Canvas LATE flag */
	int has_time;	    /* Blackboard attempt time, regex timestamp */
	int time_naive;	    /* ... written without a zone (read as UTC) */
	struct gr_time time;
	int64_t time_later;   /* read in --lms-timezone, a wall time that happens twice
				 (the repeated hour of a DST end): the second instant
				 (time is the first), else 0 */
	int made_at_download; /* written by the LMS when the download was made (Moodle's
				 onlinetext.html): its entry time is not the student's */
	uint64_t version[2];  /* order among duplicates: Canvas attachment id and
				 resubmission suffix; newest = largest */
};

/*
 * The translation alone, for tests and messages: *out is the POSIX pattern
 * (caller frees); group_of_name(name) gives the 1-based group number or 0.
 */
int fetch_regex_translate(char **out, const char *pattern, struct gr_err *err);
size_t fetch_regex_group(const struct fetch_regex *re, const char *name);

/*
 * Read an archive entry's path `name` under `layout` (FETCH_LAYOUT_AUTO tries
 * Moodle, Blackboard, Canvas, then nbgrader). `assignment` is needed for the
 * nbgrader layout, `re` for FETCH_LAYOUT_REGEX. Returns 0 and fills *out
 * (release with fetch_name_release), GR_ENOTFOUND when the name does not
 * match, GR_ENOMEM.
 */
int fetch_name_parse(struct fetch_name *out, const char *name, enum fetch_layout layout,
		     const struct fetch_regex *re, const char *assignment);
void fetch_name_release(struct fetch_name *n);

/* Fill *out from the named groups of `re` matching `s`; GR_ENOTFOUND, GR_ENOMEM. */
int fetch_regex_match_name(const struct fetch_regex *re, const char *s, struct fetch_name *out);

/*
 * Check a relative path from an untrusted source. Returns 0 when every
 * component is safe, else GR_EDENIED with the reason in `why` (absolute,
 * `..`, `.git`, empty component, not UTF-8, control character, too long).
 */
int fetch_path_check(const char *path, char *why, size_t whylen);

/* ---- entry names (fetch_names.c) ---- */

/* Names read as CP437 that look like another code page, for one warning. */
struct fetch_odd {
	size_t n;
	char first[512]; /* the first of them, as read (escaped) */
	char alt[512];	 /* ... and as CP866 would read it */
};

/*
 * Decode an entry name from its bytes into *out (NFC, heap): UTF-8 when it
 * is valid UTF-8, else, for a zip, `charset` (an iconv name; NULL = CP437,
 * whose suspicious readings are counted in *odd). *encoding names the
 * decoding for the provenance. GR_EINVAL when no decoding applies, GR_ENOMEM.
 */
int fetch_decode_name(char **out, const char **encoding, const char *raw, int zip,
		      const char *charset, struct fetch_odd *odd);

/*
 * Show an entry name in a message: valid UTF-8 sequences as they are,
 * control bytes and bytes that are no UTF-8 as \xNN.
 */
void fetch_escape_name(char *out, size_t size, const char *name);

/* ---- the writer (fetch_out.c) ---- */

/*
 * The folder of one submission while it is being written:
 * DEST/{student}/.{assignment}.tmp-XXXXXX, opened as a directory fd. Every
 * file is created with openat(O_CREAT|O_EXCL|O_NOFOLLOW) under it, walking
 * validated components with O_NOFOLLOW|O_DIRECTORY, never by a string path.
 */
struct fetch_out {
	struct fetch_result *res;
	const struct fetch_limits *lim;
	const char *assignment;
	int student_fd;	  /* DEST/{student} */
	int dir_fd;	  /* the temporary submission folder */
	char tmpname[96]; /* its name inside student_fd */
	uint64_t total;
	char **folded; /* case-folded paths already used; "d:" dirs, "f:" files */
	size_t nfolded, capfolded;
};

/* A new, empty result for `student_id` (NULL on allocation failure). */
struct fetch_result *fetch_result_new(const char *student_id);
void fetch_result_free(struct fetch_result *r);

/* Record a failure (the first one wins); returns GR_ENOMEM or 0. */
int fetch_result_fail(struct fetch_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record a skipped entry; returns 0 or GR_ENOMEM. */
int fetch_result_skip(struct fetch_result *r, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Create the temporary folder of res->student_id under dest_fd. */
int fetch_out_begin(struct fetch_out *o, struct fetch_result *res, int dest_fd,
		    const char *assignment, const struct fetch_limits *lim, struct gr_err *err);

/*
 * Add one file from memory. A path that is unsafe, reserved, over the file
 * cap or colliding after case folding is skipped (recorded, returns
 * GR_EDENIED, not fatal). Over the submission caps: GR_ELIMIT (fatal for
 * the student). GR_EIO / GR_ENOMEM fatal.
 */
int fetch_out_write(struct fetch_out *o, const char *path, const void *data, size_t len,
		    const char *origin, struct gr_err *err);

/* Like fetch_out_write for a staged file (moved with renameat from stage_fd). */
int fetch_out_place(struct fetch_out *o, const char *path, int stage_fd, const char *stage_name,
		    uint64_t size, const char sha256[65], const char *origin, struct gr_err *err);

/*
 * Write timestamp.txt and the provenance file, then swap the folder into
 * DEST/{student}/{assignment} (renameat2 RENAME_EXCHANGE when one exists)
 * and remove the old one. Closes the fds.
 */
int fetch_out_commit(struct fetch_out *o, struct gr_err *err);

/* Remove the temporary folder and close the fds; safe after commit. */
void fetch_out_abort(struct fetch_out *o);

/* The provenance document of a result (new reference). */
json_t *fetch_prov_json(const struct fetch_result *r, const char *assignment);

/* Sort results by student_id and count fetched/failed. */
void fetch_report_finish(struct fetch_report *rep);

/* Log through the options' callback (printf-style, one line). */
void fetch_log(const struct fetch_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Run fn(ctx, i) for i in [0, n) on `jobs` threads (1 = in this thread). */
int fetch_pool_run(unsigned jobs, size_t n, void (*fn)(void *ctx, size_t i), void *ctx,
		   struct gr_err *err);

/* Open (creating) DEST as a directory fd. */
int fetch_dest_open(int *out, const char *dest, struct gr_err *err);

/* ---- archives: fetch_archive.c reads, fetch_collect.c sorts and writes ---- */

enum item_kind { ITEM_FILE, ITEM_SKIP };

/* One archive entry that belongs (or may belong) to a submission. */
struct fetch_item {
	enum item_kind kind;
	struct fetch_name name; /* lms id, path (relative), late, times, version */
	char stage[24];		/* file name in the staging folder ("" = none) */
	uint64_t size;
	char sha256[65];
	char *origin;	/* "a.zip!b.zip!entry" */
	char *reason;	/* ITEM_SKIP */
	size_t archive; /* index of the top-level archive */
	int64_t mtime;
	int64_t mtime_later;	   /* mtime is the first of a DOS time that happens twice
				      in --lms-timezone: the second instant, else 0 */
	const char *name_encoding; /* how the entry name was read: "utf-8",
				      "cp437", the --zip-charset */
	int unreadable;		   /* ITEM_SKIP: the name could not be read */
	int orphan;		   /* ITEM_SKIP: belongs to no student that can be told */
	size_t seq;		   /* order of discovery */
	size_t nest;		   /* nonzero: from a student's own archive number `nest` */
	size_t nest_prefix;	   /* bytes of name.path before that archive's content */
};

struct fetch_collect {
	const struct fetch_opts *o;
	int dest_fd, stage_fd;
	char stage_name[64];
	struct fetch_item *items;
	size_t nitems, capitems, seq, nests;
	char *const *archives; /* as given */
	char (*archive_sha)[65];
	size_t narchives;
	size_t archive_errors;
};

/* Read one top-level archive into c->items; a refused archive leaves no items
 * and bumps c->archive_errors. Returns 0 or a fatal GR_E* (out of memory). */
int fetch_archive_read(struct fetch_collect *c, size_t index, struct gr_err *err);

/* Sort the items into submissions and write them; fills *out. */
int fetch_collect_write(struct fetch_collect *c, struct fetch_report **out, struct gr_err *err);

void fetch_item_release(struct fetch_item *it);

#endif
