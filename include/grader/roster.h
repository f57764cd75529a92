/*
 * roster.h - the class roster: a CSV file with one row per student.
 *
 * The first row names the columns (case-insensitive, any order). Known columns:
 *   student_id  required; the id used for folders and gradebooks
 *   repo        git URL or local path of the student's repository (fetch git)
 *   first_name, last_name, email   for gradebooks and exports
 *   branch      per-student branch, overriding `--branch`
 *   lms_id      the id an LMS download uses (Canvas user id, Moodle
 *               participant id, Blackboard username)
 * Other columns are ignored. Fields follow RFC 4180: commas, double-quoted
 * fields with "" for a quote, line breaks inside quotes; CRLF or LF line
 * ends; a UTF-8 byte-order mark is skipped; blank lines are skipped.
 */
#ifndef GRADER_ROSTER_H
#define GRADER_ROSTER_H

#include <stddef.h>

#include "grader/util.h"

enum roster_column {
	ROSTER_STUDENT_ID = 1u << 0,
	ROSTER_REPO = 1u << 1,
	ROSTER_FIRST_NAME = 1u << 2,
	ROSTER_LAST_NAME = 1u << 3,
	ROSTER_EMAIL = 1u << 4,
	ROSTER_BRANCH = 1u << 5,
	ROSTER_LMS_ID = 1u << 6,
	ROSTER_SUBDIR = 1u << 7, /* fetch git: the folder of the repository to take */
};

/* One row. Absent columns and empty fields are "" (never NULL). */
struct roster_student {
	char *student_id;
	char *repo;
	char *first_name;
	char *last_name;
	char *email;
	char *branch;
	char *lms_id;
	char *subdir;
	size_t line; /* 1-based line where the row starts, for messages */
};

struct roster {
	char *path;	  /* as given to roster_load, or the name given to roster_parse */
	unsigned columns; /* bitmask of enum roster_column present in the header */
	size_t count;
	struct roster_student *students; /* in file order */
};

/*
 * Read and parse a roster file. Fails with GR_EINVAL and a message naming the
 * file and line on malformed CSV, a missing student_id column, an empty or
 * duplicate student_id, or a row with more fields than the header.
 * On success *out is a new roster the caller frees with roster_free.
 */
int roster_load(struct roster **out, const char *path, struct gr_err *err);

/* Parse roster text already in memory; `name` is used in messages. */
int roster_parse(struct roster **out, const char *data, size_t len, const char *name,
		 struct gr_err *err);

/* Free a roster; NULL is a no-op. */
void roster_free(struct roster *r);

/* The row whose student_id is `id`, or NULL. */
const struct roster_student *roster_find(const struct roster *r, const char *id);

/* The row whose lms_id is `lms_id` (exact match), or NULL. */
const struct roster_student *roster_find_lms(const struct roster *r, const char *lms_id);

/* The one row whose email is `email` (ignoring ASCII case), or NULL (none, several). */
const struct roster_student *roster_find_email(const struct roster *r, const char *email);

/*
 * The row whose names match a display name from an LMS, or NULL when none or
 * several match. Letters, marks and digits of any script are compared after
 * NFKC and Unicode case folding (gr_utf8_name_key), other characters ignored
 * (so Moodle's spaces for '_' match); "First Last", "Last First" and "Last,
 * First" all match (Canvas's sortable name "lastfirst" too).
 */
const struct roster_student *roster_find_name(const struct roster *r, const char *display);

/*
 * How many rows' names match `display` as roster_find_name compares them;
 * the first `max` of them in `found` (which may be NULL when max is 0).
 */
size_t roster_name_matches(const struct roster *r, const char *display,
			   const struct roster_student **found, size_t max);

/* Whether the header had column `col`. */
int roster_has(const struct roster *r, enum roster_column col);

#endif
