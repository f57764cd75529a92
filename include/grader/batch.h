/*
 * batch.h - grade a folder of submissions against a rubric into a gradebook.
 *
 * batch_run() plans DIR/{student_id}/{assignment}/ folders, skips those whose
 * files and rubric are unchanged since a previous run (unless `force`), grades
 * the rest with N workers (each with its own notebook zygote), appends every
 * finished submission to a journal beside the output (`OUTPUT.journal`), and
 * finally writes the gradebook atomically from the journal. A run killed at
 * any point resumes from the journal. One student's failure is recorded in
 * that student's entry and never stops the batch.
 */
#ifndef GRADER_BATCH_H
#define GRADER_BATCH_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "grader/util.h"

/*
 * What `grade` does, under a due date and a late policy, with a submission
 * whose lateness cannot be computed: its timestamp.txt is unreadable, or
 * empty (the LMS gave no time, as in a Canvas download) while the LMS
 * flagged it late. See docs/scoring.md.
 */
enum batch_late_unknown {
	BATCH_LATE_UNKNOWN_FLAG, /* no penalty, flagged "late_unknown" for review (default) */
	BATCH_LATE_UNKNOWN_NONE, /* no penalty, no flag */
	BATCH_LATE_UNKNOWN_ZERO, /* the late penalty takes the whole score */
};

struct batch_opts {
	const char *rubric;	     /* rubric JSON path */
	const char *submissions;     /* folder of {student_id}/{assignment}/ */
	const char *output;	     /* gradebook JSON path */
	const char *roster;	     /* optional roster CSV: names, emails, students without work */
	const char *const *students; /* only these ids (NULL-terminated), or NULL for all */
	unsigned jobs;		     /* workers; 0 = number of cores */
	int force;		     /* regrade everything */
	int merge;		     /* with `students`: keep the other students' results already
					in `output` (else such an output is refused) */
	int allow_weaker;	     /* run even with a sandbox protection missing */
	const char *autograded;	     /* write nbgrader's AUTOGRADED/{student}/{assignment}/
					notebooks (outputs, timestamp.txt), or NULL */
	enum batch_late_unknown late_unknown;
	unsigned shard, shards; /* grade only shard `shard` (1..shards) of `shards`, see
				   batch_shard_of; shards = 0: every student */
	FILE *log;		/* progress and per-student lines (stderr), or NULL */
	/* set (to the signal's number) by the caller's SIGTERM/SIGINT handler, or
	   NULL: once nonzero the run stops, see batch_run */
	const volatile sig_atomic_t *stop;
	/* what the caller keeps of the journal between runs (batch_jindex_new), or NULL:
	   the journal is read whole */
	struct batch_jindex *jindex;
};

/* total = graded + failed + missing + reused + kept */
struct batch_summary {
	size_t total;	/* submissions in the gradebook */
	size_t graded;	/* graded in this run */
	size_t reused;	/* unchanged since an earlier run: taken from the journal */
	size_t failed;	/* run in this run and recorded with status "error" */
	size_t missing; /* no submission folder (this run) */
	size_t kept;	/* other students' results kept from the output (--merge) */
	double wall;
};

/*
 * The shard (1..n) of student `id` among n: the first 8 bytes of the sha256
 * of the id, big-endian, mod n, plus one. It depends on the id alone, so the
 * shards of one n never overlap and every student is in exactly one.
 */
unsigned batch_shard_of(const char *id, unsigned n);

/* Fill defaults (no allocation). */
void batch_opts_init(struct batch_opts *opts);

/*
 * What a long-lived caller (grader serve's gradebook writer) keeps of one
 * output's journal between batch_run calls, set in batch_opts.jindex: the
 * place of every final entry, by student and key, and how far the journal
 * was read. A run then reads only the lines appended since the last (the
 * whole journal again when it was replaced or truncated), so its cost
 * follows the new entries, not the journal's history. One index per output.
 */
struct batch_jindex;
int batch_jindex_new(struct batch_jindex **out, struct gr_err *err);
void batch_jindex_free(struct batch_jindex *x);

/*
 * Grade as described above. Returns 0 when the gradebook was written, whatever
 * happened to individual students; negative (with a message) when the rubric,
 * the submissions folder (GR_ENOTFOUND "no submissions in 'DIR'" when it holds
 * none of the assignment) or the output cannot be used; the output is checked
 * before anyone is graded (see batch_opts.merge).
 *
 * Once *opts->stop is set the run stops: the running sandboxes are killed,
 * the journal keeps every submission finished before (a rerun resumes from
 * it; nothing finished after the signal is recorded), the workers' work
 * directories (student files) are removed, no gradebook is written, and
 * GR_ELIMIT comes back with "N of M submissions kept in 'JOURNAL'", the
 * summary filled.
 */
int batch_run(const struct batch_opts *opts, struct batch_summary *out, struct gr_err *err);

struct gb_gradebook;
struct rubric;

struct batch_preload_opts {
	unsigned slot; /* sandbox worker slot for the runs it makes */
	FILE *log;     /* one line per module left out and why, or NULL */
};

/*
 * The modules rubric `r`'s code cells import (`import x`, `import x.y as z`,
 * `from x import y`, `%matplotlib` for matplotlib; in module-level code, not
 * inside functions) that the system's Python provides (standard library or
 * site-packages, never a course or student file) and that load together in
 * a zygote. The sources are parsed, never run, in a sandboxed child. *out is
 * NULL-terminated, in the order first imported, possibly empty, and one
 * free(*out) releases it (as gr_split_list). GR_ESYS when Python cannot run.
 */
int batch_detect_preload(char ***out, const struct rubric *r, const struct batch_preload_opts *o,
			 struct gr_err *err);

/*
 * How many of `r`'s preload modules cannot be imported in a zygote (0 when
 * all load); each is named on o->log with the reason.
 */
int batch_preload_check(const struct rubric *r, const struct batch_preload_opts *o);

/*
 * Grade one folder (a student's working tree, as in `grader ci`) in this
 * process's own zygote, without journal: *out is a gradebook holding the
 * rubric's assignment, the one student and their submission (gb_free it).
 * Uses opts->rubric and opts->allow_weaker only.
 */
int batch_grade_dir(struct gb_gradebook **out, const struct batch_opts *opts, const char *dir,
		    const char *student, struct gr_err *err);

struct rubric_validation;

/*
 * Prove rubric `r` on the instructor's own solution, as `nbgrader validate`
 * does: each notebook, solutions in place and hidden tests included, is
 * graded as one submission the way `grade` grades one (the rubric's limits,
 * preloads, data files, seed and allow_* switches; never a weaker sandbox).
 * *out holds every cell's result and time and the flags raised
 * (rubric_validation_report decides; rubric_validation_free it). GR_ESYS
 * "the sandbox cannot run here: ..." when this host cannot run it; GR_EINVAL
 * for a public rubric (it has no solutions).
 */
int batch_validate(struct rubric_validation **out, const struct rubric *r, struct gr_err *err);

/*
 * A zygote kept warm for one rubric, grading one submission at a time in
 * this process (grader serve's workers). Each notebook still runs in a
 * fresh child forked from the zygote, as in batch_run. _new uses
 * opts->rubric, allow_weaker and late_unknown; `slot` is the sandbox worker
 * slot. _stale: whether the rubric file changed since (a new warm one is due).
 */
struct batch_warm;
int batch_warm_new(struct batch_warm **out, const struct batch_opts *opts, unsigned slot,
		   struct gr_err *err);
int batch_warm_stale(const struct batch_warm *w);
/* The rubric w grades with, as loaded once (only read it; it lives as long as w). */
const struct rubric *batch_warm_rubric(const struct batch_warm *w);
void batch_warm_free(struct batch_warm *w);

/*
 * Grade SUBMISSIONS/STUDENT/ASSIGNMENT in w's zygote and append it to the
 * journal of `output` (OUTPUT.journal, with the key batch_run gives it, so a
 * later batch_run of that student reuses it; several processes may append at
 * once). The gradebook itself is not written. *text: the submission JSON
 * (heap). Negative when the grader, not the student, failed.
 */
int batch_warm_grade(struct batch_warm *w, const char *submissions, const char *output,
		     const char *student, char **text, struct gr_err *err);

#endif
