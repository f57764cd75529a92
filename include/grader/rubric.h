/*
 * rubric.h - the rubric: one JSON file holding everything needed to grade
 * one assignment (rubrics/README.md, rubrics/rubric.schema.json). Built from
 * nbgrader-style instructor notebooks (`rubric_import`), it gives the student
 * version (`rubric_release`), a rubric without hidden tests for students'
 * own CI (`rubric_public`), and, per submission, the notebook to execute
 * with the rubric's tests spliced in (`rubric_splice`).
 *
 * A `struct rubric` keeps its jansson document (`root`); strings in the
 * structs are borrowed from it and live as long as the rubric.
 */
#ifndef GRADER_RUBRIC_H
#define GRADER_RUBRIC_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "grader/notebook.h"
#include "grader/score.h"
#include "grader/util.h"

#define RUBRIC_VERSION 1
#define RUBRIC_MAX_FILE (64u * 1024 * 1024)

/* What an nbgrader cell is (nbgrader's "kinds"). */
enum rubric_kind {
	RUBRIC_PLAIN,	 /* no nbgrader role */
	RUBRIC_ANSWER,	 /* autograded answer: solution only */
	RUBRIC_TESTS,	 /* autograder tests: grade (+ locked), not solution */
	RUBRIC_MANUAL,	 /* manually graded answer: grade + solution */
	RUBRIC_TASK,	 /* manually graded task: task (+ locked), markdown */
	RUBRIC_READONLY, /* locked only */
};

struct rubric_cell {
	enum nb_cell_type type;
	enum rubric_kind kind;
	const char *id;	      /* nbformat cell id; NULL when absent */
	const char *source;   /* the instructor's full source (solutions, hidden tests) */
	const char *grade_id; /* NULL for plain cells */
	int grade, solution, locked, task;
	double points; /* 0 unless grade or task */
	/*
	 * nbgrader's checksum of the cell as its gradebook stores it: of the
	 * source with hidden tests, after solutions are replaced by stubs. A
	 * student's answer cell whose checksum equals it was left as released.
	 */
	char checksum[33];
	int from_public;  /* in a public rubric: the source is already released */
	int hidden_tests; /* the source has hidden tests, or (public rubric) had them */
	json_t *json;	  /* borrowed: the cell object inside root */
};

struct rubric_notebook {
	const char *name; /* file name relative to the submission folder */
	size_t ncells;
	struct rubric_cell *cells; /* in notebook order */
	double max_points;	   /* sum of points of grade and task cells */
	json_t *json;
};

struct rubric_file {
	const char *path;   /* relative to the rubric's folder */
	const char *target; /* relative to the notebooks' folder */
	const char *sha256;
};

struct rubric_extension {
	const char *student;
	double seconds;
};

struct rubric_limits {
	double cell_timeout;	 /* seconds per cell (default 30, as nbgrader) */
	double notebook_timeout; /* seconds per notebook (default 600) */
	double memory_mb;	 /* default 1024 */
	double processes;	 /* default 64 */
	double output_bytes;	 /* per cell (default 1 MiB) */
};

struct rubric {
	char *path;   /* owned; as given to rubric_load, or the parse name */
	char *dir;    /* owned; folder of path ("." when none) */
	json_t *root; /* owned reference */
	const char *assignment;
	const char *duedate_text; /* NULL when no due date */
	struct gr_time duedate;	  /* the instant (util's one time representation) */
	struct score_late_policy late;
	size_t nextensions;
	struct rubric_extension *extensions;
	struct rubric_limits limits;
	size_t npreload;
	const char **preload; /* module names */
	long long seed;
	int allow_ctypes; /* let the real ctypes/cffi load; weakens forgery protection */
	int allow_jit;	  /* lift the sandbox's W^X for a JIT; weakens forgery protection */
	int is_public;	  /* hidden tests and solutions stripped */
	size_t nfiles;
	struct rubric_file *files;
	size_t nnotebooks;
	struct rubric_notebook *notebooks;
};

/*
 * Load and validate a rubric. Errors are one line naming the file and the
 * place: "rubric 'ps1.json': notebooks[0].cells[2]: points must be a number >= 0"
 * (GR_EINVAL); GR_ENOTFOUND / GR_EIO / GR_ELIMIT for the file itself.
 */
int rubric_load(struct rubric **out, const char *path, struct gr_err *err);

/*
 * rubric_load that also puts the sha256 (hex) of the very bytes it read in
 * sha; with out NULL, only the sha (the file is read but not parsed: a
 * rubric changed on disk is seen by comparing two).
 */
int rubric_load_sha(struct rubric **out, char sha[65], const char *path, struct gr_err *err);

/* Same from JSON text; `name` is used in messages (and as path). */
int rubric_parse(struct rubric **out, const char *data, size_t len, const char *name,
		 struct gr_err *err);

/* Validate and take a new reference to `root`. */
int rubric_from_json(struct rubric **out, json_t *root, const char *name, struct gr_err *err);

void rubric_free(struct rubric *r);

/*
 * 1 when `s` is a valid grade_id or assignment name as nbgrader allows them
 * (non-empty, ASCII letters, digits, '_' and '-' only), 0 otherwise or NULL.
 */
int rubric_is_grade_id(const char *s);

/* Serialize (two-space indent, keys in a stable order); caller frees. */
int rubric_dump(char **out, const struct rubric *r, struct gr_err *err);
int rubric_write_file(const struct rubric *r, const char *path, struct gr_err *err);

/* The notebook named `name`, or NULL. */
const struct rubric_notebook *rubric_find_notebook(const struct rubric *r, const char *name);

/* Seconds of extension granted to `student` (0 when none). */
double rubric_extension_for(const struct rubric *r, const char *student);

/*
 * Source transforms, as nbgrader's ClearSolutions / ClearHiddenTests /
 * ClearMarkScheme do them (lines split on "\n"; a marker is any line
 * containing "BEGIN SOLUTION", "END SOLUTION", ...). Solutions become the stub
 * ("# YOUR CODE HERE\nraise NotImplementedError()" for code, "YOUR ANSWER
 * HERE" for markdown) indented like the BEGIN line; a solution cell without
 * markers is replaced whole. *out is a heap string; *found tells whether a
 * region was found. GR_EINVAL on nested or unterminated regions.
 */
int rubric_clear_solutions(char **out, int *found, const char *source, enum nb_cell_type type,
			   int is_solution_cell, struct gr_err *err);
int rubric_clear_hidden_tests(char **out, int *found, const char *source, struct gr_err *err);
int rubric_clear_mark_scheme(char **out, int *found, const char *source, struct gr_err *err);

/* Whether a cell's source holds a hidden-tests region (its BEGIN marker). */
int rubric_has_hidden_tests(const char *source);

/* Options of rubric_import (strings borrowed). */
struct rubric_import_opts {
	const char *const *sources; /* instructor notebooks */
	size_t nsources;
	const char *assignment;
	const char *duedate;	       /* ISO 8601 with zone, or NULL */
	const char *late_policy;       /* "none", "zero", "10%/hour", "5%/day,cap=50%", or NULL */
	const char *const *extensions; /* "student=DURATION" */
	size_t nextensions;
	const char *const *preload;
	size_t npreload;
	const char *const *data; /* data files to place beside the notebooks */
	size_t ndata;
	const char *output; /* where the rubric will be written (for relative paths) */
	long long seed;
	int allow_ctypes;	     /* write "allow_ctypes": true */
	int allow_jit;		     /* write "allow_jit": true */
	struct rubric_limits limits; /* zero fields take the defaults */
};

/* Parse a --late-policy value into the rubric's JSON object. */
int rubric_late_policy_parse(json_t **out, const char *text, struct gr_err *err);

/*
 * Build a rubric from nbgrader instructor notebooks, validating them with
 * nbgrader's rules; messages name the notebook and the cell.
 */
int rubric_import(struct rubric **out, const struct rubric_import_opts *opts, struct gr_err *err);

/*
 * The student version of notebook `i`: solutions replaced by stubs, hidden
 * tests and mark schemes removed, outputs cleared, execution counts null,
 * nbgrader metadata (with checksums of the released cells) and cell locks set.
 */
int rubric_release_notebook(struct nb_notebook **out, const struct rubric *r, size_t i,
			    struct gr_err *err);

/* Write every released notebook and data file into `dir` (created). */
int rubric_release(const struct rubric *r, const char *dir, struct gr_err *err);

/* The public rubric (no hidden tests, no solutions, "public": true). */
int rubric_public(struct rubric **out, const struct rubric *r, struct gr_err *err);

/*
 * ---- validation: the rubric proved on the instructor's own solution ----
 * (rubric_validate.c). What running the solution found is gathered here by
 * the runner (batch_validate); deciding and reporting needs no sandbox.
 */
enum rubric_vstatus {
	RUBRIC_V_OK = 0,
	RUBRIC_V_ERROR,	  /* raised (or failed to compile) */
	RUBRIC_V_TIMEOUT, /* killed at the cell or notebook time limit */
	RUBRIC_V_NOT_RUN, /* never started: an earlier cell ended the run */
};

/* One code cell of the solution as the sandbox ran it. */
struct rubric_vcell {
	size_t number;	      /* 1-based position in the notebook, as import's messages */
	const char *grade_id; /* borrowed from the rubric; NULL for a plain cell */
	int test;	      /* an autograded test cell (grade, not solution) */
	double points, score; /* test cells: possible, and scored by grade's rules */
	enum rubric_vstatus status;
	char *ename, *evalue, *note; /* owned; NULL when none */
	double time;		     /* seconds */
};

struct rubric_vnotebook {
	const char *name; /* borrowed from the rubric */
	double wall;	  /* seconds its run took */
	char *message;	  /* owned: why the run ended early or was not scored; NULL */
	size_t ncells;
	struct rubric_vcell *cells;
};

struct rubric_validation {
	const char *assignment; /* borrowed */
	struct rubric_limits limits;
	size_t nnotebooks;
	struct rubric_vnotebook *notebooks; /* one per rubric notebook, in order */
	size_t nflags;
	char **flags, **reasons; /* owned: what the engine flagged, and why (reason may be NULL) */
	double wall;		 /* seconds the whole proof took */
};

/* An empty validation of `r` (one empty notebook entry per notebook); `r` outlives it. */
int rubric_validation_new(struct rubric_validation **out, const struct rubric *r,
			  struct gr_err *err);
void rubric_validation_free(struct rubric_validation *v);

/* Append a copy of `c` (its strings copied) to notebook `nb`. GR_ENOMEM. */
int rubric_validation_add_cell(struct rubric_validation *v, size_t nb, const struct rubric_vcell *c,
			       struct gr_err *err);
int rubric_validation_add_flag(struct rubric_validation *v, const char *flag, const char *reason,
			       struct gr_err *err);

/*
 * The limit to suggest for something that took `used` seconds: three times
 * it, in whole seconds, so that the solution uses at most a third.
 */
double rubric_suggest_limit(double used);

/*
 * Decide and print (to `f`, one line per finding, escaped for a terminal):
 * "error:" for every test cell short of full points (grade_id, got/possible,
 * "ename: evalue"), every failing import (naming the module), every time
 * limit hit, every flag and every run that ended early; "warning:" with a
 * suggested --cell-timeout / --notebook-timeout for a cell or notebook that
 * used more than a third of its limit; "note:" for another cell that raised.
 * Last, the summary ("validated ps1: 5/5 grade cells full marks (13 points) in
 * 0.4 s" when clean). Returns the number of errors (0: the rubric passes).
 */
size_t rubric_validation_report(FILE *f, const struct rubric_validation *v);

/* Flags raised while splicing (names are stable: they reach the gradebook). */
#define RUBRIC_FLAG_MODIFIED_LOCKED "modified_locked_cell"
#define RUBRIC_FLAG_DELETED_TEST "deleted_test_cell"
#define RUBRIC_FLAG_DELETED_LOCKED "deleted_locked_cell"
#define RUBRIC_FLAG_DELETED_ANSWER "deleted_answer_cell"
#define RUBRIC_FLAG_DUPLICATE "duplicate_grade_id"
#define RUBRIC_FLAG_UNKNOWN "unknown_grade_id"
#define RUBRIC_FLAG_CELL_TYPE "changed_cell_type"

struct rubric_flag {
	const char *flag; /* one of RUBRIC_FLAG_* (static) */
	char *grade_id;	  /* owned copy (student data may be anything) */
};

/* What the scorer needs about one graded, answer or task cell. */
struct rubric_graded {
	const struct rubric_cell *cell; /* borrowed from the rubric */
	enum rubric_kind kind;
	size_t index; /* cell index in the spliced notebook; RUBRIC_NO_CELL
			 for a deleted answer cell (scored "No response.") */
	double points;
	int unchanged; /* answer left as released: "No response." */
	int manual;    /* graded by a human (manual answer, task) */
};

#define RUBRIC_NO_CELL ((size_t)-1)

struct rubric_splice {
	struct nb_notebook *nb;		  /* the notebook to execute (owned) */
	const struct rubric_notebook *rn; /* borrowed from the rubric */
	size_t ngraded;
	struct rubric_graded *graded; /* in rubric order */
	size_t nflags;
	struct rubric_flag *flags;
};

/*
 * Build the notebook to execute from a student's notebook (not modified):
 * outputs cleared; earlier cells with a duplicate grade_id lose their
 * nbgrader role (the last wins, as nbgrader's DeduplicateIds); every locked
 * cell (tests, read-only, task) gets the rubric's source, type and metadata
 * whenever it differs (flagged modified_locked_cell when its checksum
 * differs); answer cells keep the student's source with the rubric's
 * metadata; missing locked cells are re-inserted after the rubric cell
 * that precedes them (flagged deleted_test_cell / deleted_locked_cell);
 * missing answer cells are not re-inserted (deleted_answer_cell, scored as
 * unchanged); cells with unknown grade_ids lose their nbgrader role.
 */
int rubric_splice(struct rubric_splice **out, const struct rubric *r, size_t i,
		  const struct nb_notebook *student, struct gr_err *err);

void rubric_splice_free(struct rubric_splice *s);

#endif
