/*
 * batch_int.h - internals of the batch grader (grader/batch_*.c), shared by its
 * files only: the plan of submissions, the journal, the worker pool and the
 * progress display. The public interface is include/grader/batch.h.
 */
#ifndef GRADER_BATCH_INT_H
#define GRADER_BATCH_INT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "grader/batch.h"
#include "grader/kernel.h"
#include "grader/util.h"

/* One submission folder to grade: DIR/{student_id}/{assignment}/. */
struct batch_item {
	char *student_id;
	char *path;	   /* the submission folder; NULL when the student has none */
	char tree[65];	   /* sha256 of the submission's files ("none" without a folder) */
	char key[65];	   /* sha256 of rubric + tree: unchanged -> not rerun */
	off_t journal_off; /* where its finished entry starts in the journal, -1 if none */
	size_t journal_len;
	int done;
};

struct batch_plan {
	struct batch_item *items;
	size_t n;
};

/*
 * List the students under `dir` who have `assignment` (or are named in
 * `only`, a NULL-terminated list, in which case a missing one is planned with
 * path NULL), sorted by id, and compute each one's key from `rubric_sha`.
 */
int batch_plan_build(struct batch_plan *plan, const char *dir, const char *assignment,
		     const char *const *only, const char *rubric_sha, struct gr_err *err);
void batch_plan_release(struct batch_plan *plan);
/* Keep only the items of shard k (1..n) of n (batch_shard_of). */
void batch_plan_shard(struct batch_plan *plan, unsigned k, unsigned n);

/*
 * The relative paths of the regular files below `dir` (symlinks and special
 * files are skipped), sorted; free with batch_files_free.
 */
int batch_list_files(char ***out, size_t *n, const char *dir, struct gr_err *err);
void batch_files_free(char **files, size_t n);

/* sha256 over the relative paths and contents of the regular files under `dir`. */
int batch_hash_tree(char out[65], const char *dir, struct gr_err *err);

/*
 * The journal: one JSON object a line, {"key", "student_id", "submission"},
 * written as each submission finishes, so that a run killed at any moment
 * resumes where it stopped, and fsync'd in groups (batch.c: a submission is
 * reported done only once its entry is synced). A torn last line is ignored.
 */
struct batch_journal {
	int fd;
	char *path;
	off_t size;
	struct batch_prof *prof; /* the coordinator's profile slot, or NULL */
};

/* Open (creating) the journal; with `truncate` start afresh (--force). */
int batch_journal_open(struct batch_journal *j, const char *path, int truncate, struct gr_err *err);
/* Mark every plan item whose key has an entry in the journal as done (last entry wins). */
int batch_journal_match(struct batch_journal *j, struct batch_plan *plan, struct gr_err *err);
/* batch_journal_match through index x: only the lines appended since its last match are read. */
struct batch_jindex;
int batch_jindex_match(struct batch_jindex *x, struct batch_journal *j, struct batch_plan *plan,
		       struct gr_err *err);
/*
 * Append an entry for plan item `it` and record its offset; `submission` is
 * borrowed. A `final` entry is reused by later runs while the key holds; a
 * non-final one (the grader or the host failed, not the student) is written
 * for this run's gradebook but graded again next time.
 */
int batch_journal_append(struct batch_journal *j, struct batch_item *it, json_t *submission,
			 int final, struct gr_err *err);
/* The same without the fdatasync; batch_journal_sync makes what was written durable. */
int batch_journal_write(struct batch_journal *j, struct batch_item *it, json_t *submission,
			int final, struct gr_err *err);
int batch_journal_sync(struct batch_journal *j, struct gr_err *err);
/* Read back the "submission" object of a done item (new reference in *out). */
int batch_journal_read(struct batch_journal *j, const struct batch_item *it, json_t **out,
		       struct gr_err *err);
void batch_journal_close(struct batch_journal *j);

/*
 * The worker pool: `n` forked processes, each calling init(ctx, slot) once and
 * then job(ctx, index, &text) for each index it is given; `text` is a heap
 * JSON string handed back to the coordinator, which calls done(dctx, index,
 * text or NULL, message) in the parent. A worker that dies is replaced and its
 * job reported with text NULL, so one crash never costs another submission.
 */
struct batch_worker_ops {
	int (*init)(void *ctx, unsigned slot, struct gr_err *err);
	int (*job)(void *ctx, size_t index, char **text, struct gr_err *err);
	void (*fini)(void *ctx);
	int (*done)(void *dctx, size_t index, const char *text, const char *message);
	/* optional: called before the coordinator waits for a worker; may do
	   deferred work, and sets *wait_ms to how long it may wait (-1: no limit) */
	int (*tick)(void *dctx, int *wait_ms);
};

int batch_pool_run(const struct batch_worker_ops *ops, void *ctx, void *dctx, unsigned n,
		   const size_t *indices, size_t count, struct gr_err *err);

/*
 * The profile (batch_prof.c), on when the environment sets GRADER_PROFILE:
 * seconds and counts per phase, one slot per process (0 the coordinator, 1 +
 * i worker slot i) in a mapping shared across the workers' fork. Every
 * function does nothing with p NULL (profiling off).
 */
enum batch_phase {
	BATCH_PH_START,
	BATCH_PH_ZYGOTE,
	BATCH_PH_SOURCE,
	BATCH_PH_READ,
	BATCH_PH_SPLICE,
	BATCH_PH_BOX,
	BATCH_PH_REQUEST,
	BATCH_PH_SANDBOX,
	BATCH_PH_CELLS,
	BATCH_PH_SCORE,
	BATCH_PH_CLEAN,
	BATCH_PH_ENCODE,
	BATCH_PH_IDLE,
	BATCH_PH_PARSE,
	BATCH_PH_JOURNAL,
	BATCH_PH_SYNC,
	BATCH_PH_PROGRESS,
	BATCH_PH_GRADEBOOK,
	BATCH_PH_N
};

struct batch_prof {
	double sec[BATCH_PH_N];
	unsigned long count[BATCH_PH_N];
};

/* workers + 1 zeroed slots, or NULL when they cannot be mapped. */
struct batch_prof *batch_prof_new(unsigned workers);
void batch_prof_free(struct batch_prof *p, unsigned workers);
/* gr_now(), or 0 when p is NULL */
double batch_prof_now(const struct batch_prof *p);
/* Add now - since to phase ph; returns now (0 when p is NULL). */
double batch_prof_add(struct batch_prof *p, enum batch_phase ph, double since);
void batch_prof_add_sec(struct batch_prof *p, enum batch_phase ph, double sec);
/* The per-phase table, totals and per submission graded, on f. */
void batch_prof_print(FILE *f, const struct batch_prof *p, unsigned workers, size_t graded,
		      double wall);

struct rubric;
struct gb_gradebook;
struct gb_assignment;
struct gb_submission;
struct kernel;
struct nb_notebook;
struct kernel_result;

/* What a worker needs to grade one submission (shared read-only after fork). */
struct batch_grader {
	const struct rubric *rubric;
	const struct gb_assignment *assignment;
	struct kernel *kernel; /* the worker's own zygote */
	char *scratch;	       /* the worker's scratch folder for box directories */
	int data_optional;     /* a missing rubric data file is not an error (grader ci:
				  the student's tree holds the released copy) */
	enum batch_late_unknown late_unknown;
	unsigned runs;
	const char *autograded; /* nbgrader's autograded/ folder to write, or NULL */
	/* validation (batch_validate.c): shown every notebook run, or NULL */
	void (*observe)(void *ctx, size_t notebook, const struct nb_notebook *ran,
			const struct kernel_result *kr);
	void *observe_ctx;
	struct batch_prof *prof; /* this worker's profile slot, or NULL */
	double job_end;		 /* when the last job's reply was ready (profile) */
};

/*
 * The autograded notebooks (batch_autograded.c). _dir: heap
 * AUTOGRADED/{student}/{assignment}, NULL without a folder or on ENOMEM.
 * _begin: empty that folder and copy the submission's timestamp.txt.
 * _write: put each code cell's outputs and execution count from `kr` into
 * `nb` (the notebook that ran; modified) and write it there as `name`.
 * Both do nothing when g->autograded is NULL.
 */
char *batch_autograded_dir(const struct batch_grader *g, const char *student);
int batch_autograded_begin(const struct batch_grader *g, const struct batch_item *it,
			   struct gr_err *err);
int batch_autograded_write(const struct batch_grader *g, const struct batch_item *it,
			   const char *name, struct nb_notebook *nb, const struct kernel_result *kr,
			   struct gr_err *err);

/*
 * Grade one planned submission into a new gradebook submission (*out). Every
 * problem of the student's own (missing or malformed notebook, crash, timeout)
 * is recorded in it; negative only when the grader itself failed.
 */
int batch_grade_one(struct gb_submission **out, struct batch_grader *g, const struct batch_item *it,
		    struct gr_err *err);

/*
 * batch_grade_dir on a rubric already in memory (`rubric` is only read),
 * every rubric data file required, `observe` (may be NULL) shown each run:
 * the path `grade` takes for one submission, for batch_validate.
 */
int batch_grade_rubric_dir(struct gb_gradebook **out, const struct rubric *rubric,
			   const struct batch_opts *opts, const char *dir, const char *student,
			   void (*observe)(void *ctx, size_t notebook,
					   const struct nb_notebook *ran,
					   const struct kernel_result *kr),
			   void *observe_ctx, struct gr_err *err);

/* The gradebook's name of a notebook file: "ps1.ipynb" -> "ps1" (heap, NULL on ENOMEM). */
char *batch_notebook_label(const char *file);

/* A submission recording that grading `student` failed with `message`. */
int batch_error_submission(struct gb_submission **out, const struct gb_assignment *a,
			   const char *student, const char *message);

/* Progress: a bar with rate and ETA on a terminal, else one line per item. */
struct batch_progress {
	FILE *f;
	int tty;
	size_t total, done;
	double start, last_draw;
};

void batch_progress_init(struct batch_progress *p, FILE *f, size_t total);
/* One item finished; `line` is printed as-is when not on a terminal. */
void batch_progress_step(struct batch_progress *p, const char *line);
void batch_progress_finish(struct batch_progress *p);
/* A warning about one student: always printed (stderr when quiet), above the bar. */
void batch_progress_note(struct batch_progress *p, const char *line);

/*
 * The output gradebook (batch_output.c). _check, before grading: -o is a
 * file in a writable folder; an existing gradebook there is of this
 * assignment; with opts->students, the other students' rows it holds are
 * refused unless opts->merge, and then *keep reads them (gb_reader_free
 * it; NULL when there is nothing to keep). _keep_students adds their
 * students to the header; _add_kept streams their submissions into w (*kept
 * counts them).
 */
struct gb_gradebook;
struct gb_reader;
struct gb_writer;
struct batch_opts;
int batch_output_check(struct gb_reader **keep, const struct batch_opts *o, const char *assignment,
		       const struct batch_plan *plan, struct gr_err *err);
int batch_output_keep_students(struct gb_gradebook *header, const struct gb_reader *keep,
			       const struct batch_plan *plan, struct gr_err *err);
int batch_output_add_kept(struct gb_writer *w, struct gb_reader *keep,
			  const struct batch_plan *plan, size_t *kept, struct gr_err *err);

/*
 * Journal entries are fsync'd in groups: at most BATCH_GROUP_MAX of them, and no
 * later than BATCH_GROUP_MS after the first was written. A submission is reported
 * (progress line, summary) only once its entry is synced. kill -9 loses
 * nothing written (the page cache keeps it); a host crash costs at most the
 * unreported entries of the last group, which the next run grades again.
 */
#define BATCH_GROUP_MAX 256
#define BATCH_GROUP_MS 100

/* A journal entry written but not yet synced, nor reported. */
struct batch_unsynced {
	size_t index;
	json_t *sub;
};

/*
 * One grading: everything the coordinator and (read-only, after fork) the
 * workers share (batch.c); a folder or a warm worker uses its worker side
 * only (batch_one.c).
 */
struct batch_ctx {
	const struct batch_opts *opts;
	struct rubric *rubric;
	struct gb_gradebook *header; /* assignment + students, no submissions */
	struct gb_assignment *assignment;
	struct gb_reader *keep; /* other students' results kept (--merge), or NULL */
	struct batch_plan plan;
	struct batch_journal journal;
	struct batch_progress progress;
	struct batch_summary summary;
	/* worker side */
	struct kernel_opts kopts;
	const char **preload;
	struct batch_grader grader;
	struct gr_workdir work; /* holds grader.scratch; .path NULL when none */
	struct gr_err werr;
	struct batch_prof *prof; /* GRADER_PROFILE: slot 0 + one per worker, or NULL */
	struct batch_unsynced group[BATCH_GROUP_MAX];
	size_t ngroup;
	double group_start; /* when group[0] was written */
};

/*
 * What every grading sets up (batch_setup.c). _header_from_rubric: c->header
 * with the assignment's notebooks and cells (c->rubric set), c->assignment.
 * _setup_grader: c->kopts and c->grader from the rubric and c->opts.
 * _worker_init and _worker_fini (a struct batch_ctx as ctx): a worker's own
 * zygote and work folder, as batch_pool_run's init and fini. _rubric_key: the
 * journal's key of opts->rubric's results (64 hex digits).
 */
int batch_header_from_rubric(struct batch_ctx *c, struct gr_err *err);
int batch_setup_grader(struct batch_ctx *c, struct gr_err *err);
int batch_worker_init(void *ctx, unsigned slot, struct gr_err *err);
void batch_worker_fini(void *ctx);
int batch_rubric_key(char out[65], const struct batch_opts *opts, struct gr_err *err);
/* Where work directories go: $TMPDIR when it is an absolute path, else /tmp. */
const char *batch_work_parent(void);

#endif
