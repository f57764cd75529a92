/*
 * export.h - exports of a gradebook (gradebook.h) to other formats, one
 * grader/export_<format>.c each: nbgrader's gradebook.db, nbgrader's CSV
 * (optionally one column per grade cell), Gradescope results.json, JUnit
 * XML and a Markdown summary.
 *
 * Text exporters write to a FILE * the caller owns (stdout, or a memory
 * stream the caller then writes atomically); they never call exit().
 * Functions return 0 or a negative GR_E* code with a message in `err`.
 */
#ifndef GRADER_EXPORT_H
#define GRADER_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "grader/gradebook.h"
#include "grader/util.h"

enum export_format {
	EXPORT_NBGRADER_DB,
	EXPORT_CSV,
	EXPORT_GRADESCOPE,
	EXPORT_JUNIT,
	EXPORT_MARKDOWN,
	EXPORT_ITEMS,
};

/* The format named `name` ("nbgrader-db", "csv", ...), or -1 when unknown. */
int export_format_parse(const char *name);
/* Comma-separated list of the format names, for usage messages. */
const char *export_format_names(void);

struct export_opts {
	const char *assignment; /* only this assignment (NULL: all) */
	const char *student;	/* only this student (NULL: all) */
	bool per_cell;		/* csv: one more column per grade cell */
	const char *course_id;	/* nbgrader-db: course of a new assignment */
};

/*
 * nbgrader's `nbgrader export` CSV: assignment,duedate,timestamp,student_id,
 * last_name,first_name,email,raw_score,late_submission_penalty,score,max_score;
 * every (assignment, student) pair, a student without a submission scoring 0;
 * numbers and dates formatted as Python's str() does; RFC 4180 quoting.
 */
int export_csv(FILE *out, const struct gb_gradebook *gb, const struct export_opts *o,
	       struct gr_err *err);

/* JUnit XML: one testsuite per student notebook, one testcase per grade cell. */
int export_junit(FILE *out, const struct gb_gradebook *gb, const struct export_opts *o,
		 struct gr_err *err);

/* Markdown: per-question statistics and a per-student table. */
int export_markdown(FILE *out, const struct gb_gradebook *gb, const struct export_opts *o,
		    struct gr_err *err);

/*
 * One CSV row per student and question: assignment,student_id,notebook,
 * question,score,max_score,status,time (every selected assignment and
 * student; no names, no free text).
 */
int export_items(FILE *out, const struct gb_gradebook *gb, const struct export_opts *o,
		 struct gr_err *err);

/* Gradescope results.json of one student for one assignment (*out, json_decref it). */
int export_gradescope_student(json_t **out, const struct gb_gradebook *gb,
			      const struct gb_assignment *a, const struct gb_student *s,
			      struct gr_err *err);

/*
 * Gradescope results for every selected student of the one selected
 * assignment: `path` NULL or "-" prints the one student's results to stdout,
 * a path ending in ".json" receives the one student's results, any other path
 * is a folder receiving {student_id}/results.json each. GR_EINVAL when the
 * selection does not fit (several assignments, or several students without a
 * folder).
 */
int export_gradescope(const char *path, const struct gb_gradebook *gb, const struct export_opts *o,
		      struct gr_err *err);

/*
 * Write the gradebook into nbgrader's SQLite gradebook.db at `path`, creating
 * it with nbgrader's schema (stamped with alembic head EXPORT_NBGRADER_ALEMBIC)
 * when missing, or upserting into an existing one in one transaction. Manual
 * scores, extra credit, manual comments and flags a marker entered are kept.
 */
#define EXPORT_NBGRADER_ALEMBIC "e43177bfe90b"
int export_nbgrader_db(const char *path, const struct gb_gradebook *gb, const struct export_opts *o,
		       struct gr_err *err);

/*
 * Pseudonymise *gb for research exports (export_pseudo.c): student ids become
 * the first EXPORT_PSEUDONYM_HEX hex digits of HMAC-SHA256(key, id), the key
 * being the bytes of `keyfile` (at least 16); names, emails, LMS ids, captured
 * outputs, tracebacks, comments, messages and source locations are dropped.
 * *gb is replaced by the new gradebook on success. GR_EINVAL / GR_EIO.
 */
#define EXPORT_PSEUDONYM_HEX 16
int export_pseudonymise(struct gb_gradebook **gb, const char *keyfile, struct gr_err *err);
void export_pseudonym(char out[EXPORT_PSEUDONYM_HEX + 1], const void *key, size_t keylen,
		      const char *id);

/*
 * A gradebook file opened for export (export_src_open): checked whole as
 * gb_read_file checks it, then read as a stream of submissions (gb_reader),
 * so that every exporter runs in the memory of the assignments, the
 * students, a small index and one submission, whatever the course size.
 * With `keyfile` (or NULL) everything read is pseudonymised as
 * export_pseudonymise does. GR_EINVAL / GR_EIO / GR_ENOTFOUND name the file.
 */
struct export_src;
int export_src_open(struct export_src **out, const char *path, const char *keyfile,
		    struct gr_err *err);
void export_src_free(struct export_src *src);

/*
 * Export `src` in format `fmt` (enum export_format). Text formats go to the
 * file `out`, written as they are made into a temporary file beside it and
 * renamed into place once complete, or to stdout when `out` is NULL or "-";
 * nbgrader-db and gradescope take `out` as export_nbgrader_db and
 * export_gradescope do. GR_ENOTFOUND: the selection names an assignment or
 * student the gradebook lacks.
 */
int export_src_write(struct export_src *src, int fmt, const char *out, const struct export_opts *o,
		     struct gr_err *err);

/* ---- helpers other modules share ---------------------------------------- */

/* A lateness for people: "45 s", "45 min", "2h", "2h 5min", "2d", "2d 2h" (rounded down). */
void export_duration(char out[32], double seconds);

/* Heap copy of s without ANSI escape sequences (colour codes of tracebacks). */
char *export_strip_ansi(const char *s);

#endif
