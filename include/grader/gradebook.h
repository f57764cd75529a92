/*
 * gradebook.h - the gradebook JSON model: the system of record of a grading
 * run, read and written by `gb_`, exported to other formats by `export_`.
 *
 * Shape (docs/gradebook.md, docs/gradebook.schema.json): a format version,
 * assignments (each with notebooks and their nbgrader cells), students, and
 * submissions (one per assignment and student, each with per-notebook
 * results holding per-cell grades and comments). It mirrors nbgrader's
 * gradebook.db so that `grader export --to nbgrader-db` is a plain copy.
 *
 * Ownership: every struct below is owned by its parent; strings are heap
 * copies owned by the struct holding them (set them with gb_set_str). Arrays
 * hold pointers, so an element's address stays valid while its parent grows.
 * Optional numbers use NAN for "absent" (JSON null): test with gb_isset().
 *
 * Producers build a gradebook with gb_new + gb_add_* and write it with
 * gb_write_file, or, to keep memory flat over thousands of submissions,
 * open a gb_writer with the assignments and students and stream each
 * submission into it (from structs or from journal JSON objects).
 */
#ifndef GRADER_GRADEBOOK_H
#define GRADER_GRADEBOOK_H

#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "grader/util.h"

#define GB_FORMAT "grader-gradebook"
#define GB_FORMAT_VERSION 1
/* Captured stdout, stderr and traceback are each capped to this many bytes. */
#define GB_OUTPUT_CAP 8192
/* Largest gradebook file gb_read_file accepts. */
#define GB_FILE_MAX ((size_t)1 << 31)
/* Tolerance when checking that scores add up. */
#define GB_EPSILON 1e-6

static inline bool gb_isset(double x)
{
	return !isnan(x);
}

/* A cell of the instructor's source notebook that nbgrader tracks. */
struct gb_cell {
	char *name;	   /* nbgrader grade_id, unique in its notebook */
	char *cell_type;   /* "code" or "markdown" */
	bool grade;	   /* graded (autograder tests or manually graded answer) */
	bool solution;	   /* the student writes here */
	bool task;	   /* a manually graded task (markdown, locked) */
	bool locked;	   /* read-only for students */
	double max_score;  /* points of grade and task cells; NAN otherwise */
	bool hidden_tests; /* holds BEGIN/END HIDDEN TESTS regions */
	char *checksum;	   /* nbgrader's md5 checksum of the cell, or NULL */
	char *source;	   /* instructor's source (with hidden tests), or NULL */
};

struct gb_notebook {
	char *name;	  /* file name without .ipynb */
	char *kernelspec; /* kernelspec as compact JSON text, or NULL */
	double max_score; /* sum of its grade and task cells' max_score */
	size_t n_cells;
	struct gb_cell **cells;
};

struct gb_assignment {
	char *name;
	char *duedate;	  /* ISO 8601 ("2026-10-30T10:00:00Z"), or NULL */
	double max_score; /* sum of its notebooks' max_score */
	size_t n_notebooks;
	struct gb_notebook **notebooks;
};

struct gb_student {
	char *id;
	char *first_name, *last_name, *email, *lms_user_id; /* or NULL */
};

/* Where a submission came from. */
struct gb_source {
	char *kind;	/* "git", "archive", "directory", ... */
	char *location; /* URL or path, or NULL */
	char *commit;	/* git commit id, or NULL */
	char *checksum; /* sha256 of the submitted files, or NULL */
};

enum gb_status { GB_GRADED, GB_MISSING, GB_ERROR };

enum gb_cell_status {
	GB_CELL_PASSED,	 /* full marks */
	GB_CELL_PARTIAL, /* 0 < score < max */
	GB_CELL_FAILED,	 /* 0: error output, stderr or failed assertion */
	GB_CELL_ERROR,	 /* could not run: crash, sandbox or kernel failure */
	GB_CELL_TIMEOUT, /* exceeded its time limit */
	GB_CELL_MANUAL,	 /* waits for (or received) a manual grade */
	GB_CELL_MISSING, /* the cell is absent from the submission */
};

struct gb_output {
	char *stdout_text, *stderr_text, *traceback; /* capped, or NULL */
	bool truncated;				     /* something was cut */
	/* The cell ran after a cell holding hidden tests: what the notebook's
	 * code printed in it may carry values those tests handed it. */
	bool after_hidden;
};

/* The grade of one grade or task cell of a submitted notebook. */
struct gb_grade {
	char *grade_id;
	double max_score;
	double auto_score;   /* NAN when not autograded */
	double manual_score; /* NAN until a marker grades it */
	double extra_credit; /* NAN when none */
	bool needs_manual_grade;
	enum gb_cell_status status;
	double time; /* seconds spent running the cell, NAN when unknown */
	struct gb_output output;
	char *auto_comment; /* or NULL */
};

/* A comment on one solution or task cell of a submitted notebook. */
struct gb_comment {
	char *grade_id;
	char *auto_comment, *manual_comment; /* or NULL */
};

struct gb_nbresult {
	char *name;
	enum gb_status status;
	char *message; /* why it errored or is missing, or NULL */
	double score;  /* sum of its grades (before the late penalty) */
	double max_score;
	double late_submission_penalty;
	bool flagged;
	size_t n_grades;
	struct gb_grade **grades;
	size_t n_comments;
	struct gb_comment **comments;
};

struct gb_submission {
	char *assignment; /* name of an assignment of the gradebook */
	char *student_id; /* id of a student of the gradebook */
	char *timestamp;  /* ISO 8601, or NULL */
	struct gb_source source;
	double late_seconds;	  /* max(0, timestamp - duedate - extension) */
	double extension_seconds; /* NAN when none */
	double raw_score;	  /* sum of its notebooks' scores */
	double late_submission_penalty;
	double score;	  /* max(0, raw_score - late_submission_penalty) */
	double max_score; /* the assignment's max_score */
	enum gb_status status;
	char *message;
	size_t n_flags;
	char **flags; /* "tampered", "modified_locked_cell", ... */
	size_t n_flag_reasons;
	struct gb_flag_reason *flag_reasons; /* why some of `flags` were raised, for the marker */
	size_t n_notebooks;
	struct gb_nbresult **notebooks;
};

/* One line saying what raised a flag ("numpy.allclose rebound (cell 3)"). */
struct gb_flag_reason {
	char *flag;   /* one of the submission's flags */
	char *reason; /* several findings joined with "; " */
};

struct gb_gradebook {
	int format_version;
	char *generator; /* "grader 0.1.0", or NULL */
	size_t n_assignments;
	struct gb_assignment **assignments;
	size_t n_students;
	struct gb_student **students;
	size_t n_submissions;
	struct gb_submission **submissions;
	/*
	 * Private hash indexes behind gb_find_student and gb_find_submission,
	 * kept by gb_add_student and gb_take_submission (do not rename a student
	 * or a submission once added). Arrays filled by hand fall back to a scan.
	 */
	struct gb_index *student_index, *submission_index;
};

/* ---- building ---------------------------------------------------------- */

/* Replace *field with a heap copy of value (NULL clears it). GR_ENOMEM. */
int gb_set_str(char **field, const char *value);

/* New empty gradebook (*out, free with gb_free). */
int gb_new(struct gb_gradebook **out);
void gb_free(struct gb_gradebook *gb);

/*
 * Append a zeroed element named `name` and return it through *out (owned by
 * the parent). Numbers start as NAN where optional and 0 elsewhere; statuses
 * start at GB_GRADED / GB_CELL_PASSED. GR_ENOMEM on allocation failure.
 */
int gb_add_assignment(struct gb_gradebook *gb, struct gb_assignment **out, const char *name);
int gb_assignment_add_notebook(struct gb_assignment *a, struct gb_notebook **out, const char *name);
int gb_notebook_add_cell(struct gb_notebook *nb, struct gb_cell **out, const char *name);
int gb_add_student(struct gb_gradebook *gb, struct gb_student **out, const char *id);

/* A standalone submission (free with gb_submission_free unless given to a gradebook). */
int gb_submission_new(struct gb_submission **out, const char *assignment, const char *student_id);
void gb_submission_free(struct gb_submission *sub);
int gb_submission_add_flag(struct gb_submission *sub, const char *flag);
/*
 * Add `flag` (if missing) with `reason`, appended with "; " to the reason it
 * already has (a repeated reason is kept once; the whole is capped at 1000
 * bytes). GR_ENOMEM.
 */
int gb_submission_add_flag_reason(struct gb_submission *sub, const char *flag, const char *reason);
/* The reason recorded for `flag`, or NULL. */
const char *gb_submission_flag_reason(const struct gb_submission *sub, const char *flag);
int gb_submission_add_notebook(struct gb_submission *sub, struct gb_nbresult **out,
			       const char *name);
int gb_nbresult_add_grade(struct gb_nbresult *nb, struct gb_grade **out, const char *grade_id);
int gb_nbresult_add_comment(struct gb_nbresult *nb, struct gb_comment **out, const char *grade_id);

/* Give `sub` to the gradebook (it frees it from now on). GR_ENOMEM (sub untouched). */
int gb_take_submission(struct gb_gradebook *gb, struct gb_submission *sub);

/*
 * Store captured text in one of `out`'s fields (NULL data clears it),
 * cutting the middle out of text longer than GB_OUTPUT_CAP (keeping the
 * head and the tail, on UTF-8 boundaries) and setting out->truncated.
 */
int gb_output_set(struct gb_output *out, char **field, const char *data, size_t len);

/* ---- scores ------------------------------------------------------------ */

/* nbgrader's score of a grade: manual if set, else auto (or 0), plus extra credit. */
double gb_grade_score(const struct gb_grade *g);

/* Sum the grade and task cells of a notebook / notebooks of an assignment into max_score. */
void gb_assignment_sum(struct gb_assignment *a);

/*
 * Fill the sums of a submission from its grades: each notebook's score and
 * max_score (from the assignment's definition when given, else from its
 * grades), then raw_score, late_submission_penalty (sum of the notebooks'),
 * score = max(0, raw - penalty) and max_score.
 */
void gb_submission_sum(struct gb_submission *sub, const struct gb_assignment *a);

/* ---- lookups ----------------------------------------------------------- */

struct gb_assignment *gb_find_assignment(const struct gb_gradebook *gb, const char *name);
struct gb_student *gb_find_student(const struct gb_gradebook *gb, const char *id);
struct gb_submission *gb_find_submission(const struct gb_gradebook *gb, const char *assignment,
					 const char *student_id);
struct gb_notebook *gb_find_notebook(const struct gb_assignment *a, const char *name);
struct gb_cell *gb_find_cell(const struct gb_notebook *nb, const char *name);
struct gb_nbresult *gb_find_nbresult(const struct gb_submission *sub, const char *name);
struct gb_grade *gb_find_grade(const struct gb_nbresult *nb, const char *grade_id);

/*
 * What a student may see of the error of a cell holding hidden tests: the
 * name of a built-in exception ("an exception" for any other), from a
 * traceback's text or from an ename; never its message or other output.
 */
const char *gb_hidden_error(const char *traceback);
const char *gb_hidden_ename(const char *ename);
#define GB_AFTER_HIDDEN_NOTE                                                                       \
	"the rest is withheld: this cell ran after a cell holding hidden tests, and the "          \
	"notebook's code may have kept their values to print here"
/*
 * Whether students may see no more of a grade than its status, points and the
 * name of its exception: its cell holds hidden tests (`cell`, may be NULL), or
 * ran after one. The note saying why, for the caller to print.
 */
bool gb_grade_withheld(const struct gb_cell *cell, const struct gb_grade *g, const char **why);
/*
 * The note saying why a cell's output is withheld: it holds hidden tests
 * (first), or it ran after one; NULL for neither. Every student view asks it.
 */
const char *gb_withheld_note(bool hidden, bool after);
/*
 * The seconds a grade's cell ran, as students may see them: NAN (absent)
 * when its output is withheld, since student code chooses how long a cell
 * runs and can time it to the values a hidden test handed it.
 */
double gb_grade_shown_time(const struct gb_cell *cell, const struct gb_grade *g);
#define GB_HIDDEN_NOTE                                                                             \
	"the rest is withheld: this cell holds hidden tests, and what the notebook's code "        \
	"printed or raised in it may carry their values"

/* Names of statuses as written in JSON ("graded", "passed", ...). */
const char *gb_status_name(enum gb_status s);
const char *gb_cell_status_name(enum gb_cell_status s);

/* ---- JSON -------------------------------------------------------------- */

/* One submission as a JSON object (*out, json_decref it). */
int gb_submission_to_json(json_t **out, const struct gb_submission *sub, struct gr_err *err);

/* Whole gradebook to / from JSON (deterministic key order). */
int gb_to_json(json_t **out, const struct gb_gradebook *gb, struct gr_err *err);
int gb_from_json(struct gb_gradebook **out, json_t *j, struct gr_err *err);

/*
 * Read and validate a gradebook file (*out, gb_free it). Errors are one line
 * naming the file and the bad field: "'gb.json': submissions[2].score: ...".
 */
int gb_read_file(struct gb_gradebook **out, const char *path, struct gr_err *err);

/*
 * Write the gradebook atomically (gr_write_file_atomic) in the layout of
 * gb_writer: one line per assignment, student and submission.
 */
int gb_write_file(const struct gb_gradebook *gb, const char *path, struct gr_err *err);

/* ---- streaming writer -------------------------------------------------- */

struct gb_writer;

/*
 * Start writing `path` (through a temporary file in the same folder) with the
 * assignments and students of `header` (its submissions are ignored); the
 * header must stay alive until gb_writer_commit. Submissions then follow one
 * at a time, each validated against the header and written at once: memory
 * stays flat whatever their number. The file only appears on commit.
 */
int gb_writer_open(struct gb_writer **out, const char *path, const struct gb_gradebook *header,
		   struct gr_err *err);
int gb_writer_add(struct gb_writer *w, const struct gb_submission *sub, struct gr_err *err);
/* Same from a journal's JSON object (as made by gb_submission_to_json). */
int gb_writer_add_json(struct gb_writer *w, json_t *sub, struct gr_err *err);
/* Finish the file, fsync and rename it into place. */
int gb_writer_commit(struct gb_writer *w, struct gr_err *err);
/* Free the writer; an uncommitted temporary file is removed. */
void gb_writer_free(struct gb_writer *w);

/* ---- streaming reader -------------------------------------------------- */

struct gb_reader;

/*
 * Open the gradebook file `path` and check it as gb_read_file does, without
 * holding its submissions: the header (format, assignments, students) is read
 * whole, each submission is read, checked and forgotten, and an index of
 * where each one lies in the file is kept (a few dozen bytes each). Memory is
 * the header, the index and the largest submission, whatever their number.
 * A file with one bad or truncated submission is refused whole: the one-line
 * error names the file and the submission ("'gb.json': submissions[7]...").
 */
int gb_reader_open(struct gb_reader **out, const char *path, struct gr_err *err);
void gb_reader_free(struct gb_reader *r);
/* Assignments and students (no submissions), owned by the reader. */
const struct gb_gradebook *gb_reader_header(const struct gb_reader *r);
/* Number of submissions, numbered 0.. in the file's order. */
size_t gb_reader_count(const struct gb_reader *r);
/* Indexes in the header's assignments and students of submission i. */
void gb_reader_keys(const struct gb_reader *r, size_t i, size_t *assignment, size_t *student);
/* Number of the submission of (assignment, student) indexes, or -1 when none. */
long gb_reader_find(const struct gb_reader *r, size_t assignment, size_t student);
/* Read submission i again from the file (*out, gb_submission_free / json_decref it). */
int gb_reader_get(struct gb_reader *r, size_t i, struct gb_submission **out, struct gr_err *err);

/* ---- merging ----------------------------------------------------------- */

/*
 * Write `out` from the n partial gradebooks `paths` (grader grade --shard):
 * all must hold the same assignments (the same rubric) and come from the
 * same grader version; a submission in two parts is refused (GR_EINVAL
 * naming the student). Each `expected` student (NULL-terminated, or NULL)
 * without a submission in any part is named on `log` and counted in
 * *n_missing; then unless `allow_missing` nothing is written (GR_ENOTFOUND).
 * Students are written sorted by id and submissions by (student id,
 * assignment), the order of a plain `grade` run, so merging shards gives the
 * file one run would (but for what differs by nature: cells' run times). The
 * result depends on the parts alone, whatever their order: merging again, or
 * merging the result, gives the same file. No part is held in memory: each is
 * a gb_reader (header and index), submissions are read one at a time.
 * Once *stop (a signal handler's flag, or NULL) is set the merge stops with
 * GR_ELIMIT and writes nothing: `out` is left as it was.
 */
int gb_merge(const char *out, const char *const *paths, size_t n, const char *const *expected,
	     int allow_missing, FILE *log, size_t *n_missing, const volatile sig_atomic_t *stop,
	     struct gr_err *err);

#endif
