/*
 * fetch.h - collecting submissions into nbgrader's layout.
 *
 * Sources are git repositories (one per student, named by a roster) or
 * archives (LMS bulk downloads, zips of zips, nbgrader trees). Each student
 * ends up in DEST/{student_id}/{assignment}/ holding only regular files, a
 * `timestamp.txt` (nbgrader's format) and `.grader-provenance.json` (where
 * every file came from, its sha256, and what was skipped and why). A folder
 * is built beside its final name and swapped in with one rename, so readers
 * see either the old or the new submission. Nothing is written outside DEST.
 *
 * Everything here is library code: messages go to `struct gr_err` or to the
 * caller's log callback; nothing prints or exits.
 */
#ifndef GRADER_FETCH_H
#define GRADER_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "grader/roster.h"
#include "grader/util.h"

#define FETCH_PROVENANCE_NAME ".grader-provenance.json"
#define FETCH_TIMESTAMP_NAME "timestamp.txt"
#define FETCH_CACHE_DIR ".grader-cache"

/* Times are util.h's struct gr_time (UTC seconds + microseconds), read with
 * gr_time_parse(..., GR_TIME_LENIENT, ...) and printed with gr_time_format. */

/* ---- limits --------------------------------------------------------------- */

struct fetch_limits {
	uint64_t max_file_size;	   /* one file (bytes); larger ones are skipped */
	uint64_t max_total_size;   /* one submission (bytes); over it the student fails */
	size_t max_files;	   /* files in one submission; over it the student fails */
	size_t max_entries;	   /* entries in one archive, nested ones included */
	uint64_t max_archive_size; /* uncompressed bytes in one archive, nested included */
	unsigned max_ratio;	   /* uncompressed / compressed bytes of an archive */
	unsigned max_depth;	   /* archives inside archives */
	uint64_t max_fetch_size;   /* git: bytes one fetch may receive, and a student's cache
				      may hold after it (0: no cap) */
};

/* Defaults: 100 MiB per file, 1 GiB and 5000 files per submission, 100000
 * entries and 8 GiB per archive, ratio 200, depth 3. */
void fetch_limits_init(struct fetch_limits *l);

/* ---- LMS file names ------------------------------------------------------- */

enum fetch_layout {
	FETCH_LAYOUT_AUTO,
	FETCH_LAYOUT_CANVAS,
	FETCH_LAYOUT_MOODLE,
	FETCH_LAYOUT_BLACKBOARD,
	FETCH_LAYOUT_NBGRADER,
	FETCH_LAYOUT_REGEX,
};

/* "auto", "canvas", ... ; NULL for an out-of-range value. */
const char *fetch_layout_name(enum fetch_layout l);

struct fetch_regex;

/*
 * Compile a PCRE-like pattern with named groups `(?P<name>...)` or
 * `(?<name>...)` into a POSIX extended regex: named and `(?:...)` groups
 * become numbered ones, `\d \D \w \W \s \S` become bracket expressions. The
 * pattern must name `student_id` and `file_id`; `timestamp`, `first_name`,
 * `last_name`, `email` are optional. It is anchored at the start like
 * Python's re.match. Free with fetch_regex_free.
 */
int fetch_regex_new(struct fetch_regex **out, const char *pattern, struct gr_err *err);
void fetch_regex_free(struct fetch_regex *re);

/* ---- results --------------------------------------------------------------- */

struct fetch_file {
	char *path; /* relative to the submission folder */
	uint64_t size;
	char sha256[65];
	char *origin;		   /* "archive.zip!entry" chain, or "git:<blob id>" */
	const char *name_encoding; /* archive entries: how the name's bytes were
				      read, "utf-8", "cp437" or the zip_charset
				      given (NULL for git) */
};

struct fetch_skip {
	char *path; /* as named by the source (may be unsafe: printed quoted) */
	char *reason;
	int unreadable; /* the entry's name could not be read: the run fails */
};

/* One student's submission as fetched (or why it failed). */
struct fetch_result {
	char *student_id;
	int missing; /* archive mode: in the roster, nothing in the archives */
	int failed;
	char *error;   /* one line when failed, e.g. "no commit on 'main' before ..." */
	bool moved_on; /* failed: the commit asked for is no longer the tip (commit_is_tip) */
	size_t nfiles, nskips;
	struct fetch_file *files; /* sorted by path once written */
	struct fetch_skip *skips;
	int late;
	int has_time;
	struct gr_time time;	 /* what timestamp.txt says */
	const char *time_source; /* "commit", "timestamp.txt", "lms", "archive-entry",
				    "unknown" (timestamp.txt left empty, as nbgrader
				    reads "no time") */
	const char *time_note;	 /* why the time is unknown (static), or NULL */
	struct gr_time fetched_at;
	json_t *source; /* provenance "source" object (owned reference) */
};

struct fetch_report {
	size_t count;
	struct fetch_result **results; /* sorted by student_id */
	size_t fetched, failed;	       /* students */
	size_t missing;		       /* roster students absent from the archives */
	size_t archive_errors;	       /* whole archives refused */
	size_t skipped;		       /* entries skipped, every student's and nobody's */
	size_t unreadable;	       /* of them, entries whose name could not be read */
	struct fetch_result *orphans;  /* skips of entries no student could be told
					  for (student_id ""); NULL when none */
};

void fetch_report_free(struct fetch_report *r);

/* ---- running -------------------------------------------------------------- */

/* Called with one line (no newline, no "fetch: " prefix) per warning or error. */
typedef void (*fetch_log_fn)(void *payload, const char *line);

struct fetch_opts {
	const char *dest;	     /* created when missing */
	const char *assignment;	     /* a plain folder name */
	const struct roster *roster; /* required for git, optional for archives */
	struct fetch_limits limits;
	unsigned jobs; /* parallel workers (>= 1) */
	int has_deadline;
	struct gr_time deadline;
	int verbose; /* log a line per fetched student */
	fetch_log_fn log;
	void *log_payload;
	/* git */
	const char *branch;	/* default when the roster has none; NULL = remote HEAD */
	const char *subdir;	/* default when the roster has none: the repository's
				   folder to take ("ps1"); NULL = its root */
	const char *base_dir;	/* relative repo paths are taken from here */
	const char *https_user; /* with https_token: credentials for https URLs */
	const char *https_token;
	const char *commit; /* this exact commit (hex id) instead of the deadline rule; it
			       must be the branch's tip or an ancestor of it */
	bool commit_is_tip; /* with commit: it must be the tip itself; an ancestor fails
			       the student with moved_on set (the branch moved on) */
	/* archives */
	enum fetch_layout layout;
	const struct fetch_regex *regex; /* for FETCH_LAYOUT_REGEX */
	const char *lms_zone;		 /* tz database zone of LMS times written without one
					    (Blackboard attempts, regex timestamps); NULL = UTC */
	const char *zip_charset;	 /* code page (an iconv name) of zip entry names that
					    are neither flagged nor valid UTF-8; NULL = CP437 */
	const char *owner; /* archives of this one student's own work (an upload): every
			      entry is theirs, at its path in the archive; no layout */
};

/* Defaults: limits as fetch_limits_init, one job, auto layout. */
void fetch_opts_init(struct fetch_opts *o);

/*
 * Fetch every roster student's repository into dest (a row without `repo`
 * is a failed student). Clones once into dest/.grader-cache/{id}.git
 * (bare) and fetches on later runs; picks the last commit of the branch, along
 * first parents from the tip, whose committer time is at or before the
 * deadline (or o->commit when set). A failing student is recorded in the report and the batch goes
 * on. Returns 0 unless the whole run could not start (bad dest, ...);
 * *out is the report (free with fetch_report_free).
 */
int fetch_git_run(struct fetch_report **out, const struct fetch_opts *o, struct gr_err *err);

/*
 * Keep libgit2 set up between fetch_git_run calls of a long-lived process
 * (grader serve's workers): setting it up reads the system's certificate
 * bundle, milliseconds a call. Each _hold is undone by one _release.
 */
void fetch_git_hold(void);
void fetch_git_release(void);

/*
 * Unpack archives (zip, tar[.gz|.bz2|.xz], 7z; nested up to limits.max_depth)
 * and sort their entries into submissions by layout. With a roster, its
 * students without any entry are reported as missing (not failed). A hostile or corrupt
 * archive is refused whole (logged, counted in archive_errors); hostile
 * entries are skipped and listed. Returns 0 unless the run could not start.
 */
int fetch_archive_run(struct fetch_report **out, const struct fetch_opts *o, char *const *files,
		      size_t nfiles, struct gr_err *err);

/*
 * Write the markers' manifest: CSV with header
 * `student_id,assignment,status,late,timestamp,file,size,sha256,note`, one row
 * per file (status ok), per skipped entry (skipped, note = reason) and per
 * failed student (failed, note = error). Written atomically.
 */
int fetch_manifest_write(const struct fetch_report *r, const char *assignment, const char *path,
			 struct gr_err *err);

/*
 * Whether `name` is safe as one folder name (student id, assignment): valid
 * UTF-8 without control characters, `/`, or a leading `.`, 1..255 bytes.
 */
int fetch_name_is_safe(const char *name);

/* Where a fetched submission came from, read back from its provenance file. */
struct fetch_origin {
	char *kind;	 /* "git", "archive", ...; heap */
	char *location;	 /* the repository URL or the archive's path; heap, may be NULL */
	char *commit;	 /* the commit graded (git), heap, may be NULL */
	int late;	 /* the LMS (or the fetch deadline) marked it late */
	char *time_note; /* why its time is unknown, heap, or NULL */
};

/*
 * Read the provenance file in submission folder `dir` into `out` (release
 * with fetch_origin_release). GR_ENOTFOUND when the folder has none (it was
 * not made by fetch), GR_EINVAL when it is not provenance, GR_ENOMEM.
 */
int fetch_origin_read(struct fetch_origin *out, const char *dir, struct gr_err *err);
void fetch_origin_release(struct fetch_origin *o);

#endif
