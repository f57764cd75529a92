/*
 * batch.c - batch_run: plan, resume from the journal, grade with N workers,
 * and write the gradebook from the journal (see include/grader/batch.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch_int.h"
#include "grader/batch.h"
#include "grader/gradebook.h"
#include "grader/kernel.h"
#include "grader/roster.h"
#include "grader/rubric.h"
#include "grader/sandbox.h"

/*
 * Journal entries are fsync'd in groups: at most GROUP_MAX of them, and no
 * later than GROUP_MS after the first was written. A submission is reported
 * (progress line, summary) only once its entry is synced. kill -9 loses
 * nothing written (the page cache keeps it); a host crash costs at most the
 * unreported entries of the last group, which the next run grades again.
 */
#define GROUP_MAX 256
#define GROUP_MS 100

/* A journal entry written but not yet synced, nor reported. */
struct unsynced {
	size_t index;
	json_t *sub;
};

/* Everything the coordinator and (read-only, after fork) the workers share. */
struct run {
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
	struct unsynced group[GROUP_MAX];
	size_t ngroup;
	double group_start; /* when group[0] was written */
};

void batch_opts_init(struct batch_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
}

/*
 * A cell's source as nbgrader's gradebook saves it (SaveCells runs after
 * ClearSolutions, before ClearHiddenTests): the released stub in place of
 * solutions, hidden tests kept. A later real autograde restores locked cells
 * from it, and a solution cell left as released must match it.
 */
static int set_saved_source(struct gb_cell *gc, const struct rubric_cell *c)
{
	char *stubbed = NULL;
	int found = 0, rc;

	if (!c->solution || c->from_public)
		return gb_set_str(&gc->source, c->source);
	if (rubric_clear_solutions(&stubbed, &found, c->source, c->type, 1, NULL) < 0)
		return gb_set_str(&gc->source, c->source); /* rubric_load checked the regions */
	rc = gb_set_str(&gc->source, stubbed);
	free(stubbed);
	return rc;
}

static int header_from_rubric(struct run *r, struct gr_err *err)
{
	const struct rubric *rb = r->rubric;
	struct gb_assignment *a;
	int rc;

	if (gb_new(&r->header) || gb_add_assignment(r->header, &a, rb->assignment) ||
	    gb_set_str(&a->duedate, rb->duedate_text) ||
	    gb_set_str(&r->header->generator, "grader " GRADER_VERSION))
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < rb->nnotebooks; i++) {
		const struct rubric_notebook *rn = &rb->notebooks[i];
		char *label = batch_notebook_label(rn->name);
		struct gb_notebook *nb;
		json_t *ks = json_object_get(json_object_get(rn->json, "metadata"), "kernelspec");

		rc = label ? gb_assignment_add_notebook(a, &nb, label) : GR_ENOMEM;
		free(label);
		if (!rc && ks) {
			char *text = json_dumps(ks, JSON_COMPACT | JSON_SORT_KEYS);
			rc = text ? gb_set_str(&nb->kernelspec, text) : GR_ENOMEM;
			free(text);
		}
		for (size_t c = 0; !rc && c < rn->ncells; c++) {
			const struct rubric_cell *rc_ = &rn->cells[c];
			struct gb_cell *gc;

			/* every cell nbgrader records a source_cell for, read-only ones too */
			if (!rc_->grade_id ||
			    !(rc_->grade || rc_->solution || rc_->task || rc_->locked))
				continue;
			rc = gb_notebook_add_cell(nb, &gc, rc_->grade_id);
			if (rc)
				break;
			gc->grade = rc_->grade;
			gc->solution = rc_->solution;
			gc->task = rc_->task;
			gc->locked = rc_->locked;
			gc->max_score = (rc_->grade || rc_->task) ? rc_->points : NAN;
			gc->hidden_tests =
			    rc_->hidden_tests || rubric_has_hidden_tests(rc_->source);
			rc = gb_set_str(&gc->cell_type,
					rc_->type == NB_CELL_MARKDOWN ? "markdown" : "code");
			if (!rc && rc_->checksum[0])
				rc = gb_set_str(&gc->checksum, rc_->checksum);
			if (!rc)
				rc = set_saved_source(gc, rc_);
		}
		if (rc)
			return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	gb_assignment_sum(a);
	r->assignment = a;
	return 0;
}

/* Students: from the roster (names, emails) and from the plan. */
static int add_students(struct run *r, const struct roster *roster, struct gr_err *err)
{
	for (size_t i = 0; i < r->plan.n; i++) {
		const struct roster_student *rs =
		    roster ? roster_find(roster, r->plan.items[i].student_id) : NULL;
		struct gb_student *s;

		if (gb_add_student(r->header, &s, r->plan.items[i].student_id))
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		if (rs && ((rs->first_name[0] && gb_set_str(&s->first_name, rs->first_name)) ||
			   (rs->last_name[0] && gb_set_str(&s->last_name, rs->last_name)) ||
			   (rs->email[0] && gb_set_str(&s->email, rs->email)) ||
			   (rs->lms_id[0] && gb_set_str(&s->lms_user_id, rs->lms_id))))
			return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	return 0;
}

/* What each worker's zygote needs, taken from the rubric. */
static int setup_grader(struct run *r, struct gr_err *err)
{
	kernel_opts_init(&r->kopts);
	r->preload = calloc(r->rubric->npreload + 1, sizeof(*r->preload));
	if (!r->preload)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->rubric->npreload; i++)
		r->preload[i] = r->rubric->preload[i];
	r->kopts.preload = r->preload;
	r->kopts.seed = (long)r->rubric->seed;
	r->kopts.allow_ctypes = r->rubric->allow_ctypes;
	r->kopts.allow_jit = r->rubric->allow_jit;
	r->kopts.timeout_cell = r->rubric->limits.cell_timeout;
	r->kopts.timeout = r->rubric->limits.notebook_timeout;
	r->kopts.mem_mb = (size_t)r->rubric->limits.memory_mb;
	r->kopts.procs = (unsigned)r->rubric->limits.processes;
	if (r->rubric->limits.output_bytes > 0)
		r->kopts.output_cap = (size_t)r->rubric->limits.output_bytes;
	r->kopts.allow_weaker = r->opts->allow_weaker;
	r->grader.rubric = r->rubric;
	r->grader.assignment = r->assignment;
	r->grader.autograded = r->opts->autograded;
	r->grader.late_unknown = r->opts->late_unknown;
	return 0;
}

/* Whether the caller's signal handler asked the run to stop. */
static int stopped(const struct run *r)
{
	return r->opts->stop && *r->opts->stop;
}

/* Where work directories go: $TMPDIR when it is an absolute path, else /tmp. */
static const char *work_parent(void)
{
	const char *tmp = getenv("TMPDIR");

	return tmp && tmp[0] == '/' ? tmp : "/tmp";
}

/* ---- worker side (runs in forked processes) ---------------------------- */

static int worker_init(void *ctx, unsigned slot, struct gr_err *err)
{
	struct run *r = ctx;
	double t;
	int rc;

	r->grader.prof = r->prof ? &r->prof[1 + slot] : NULL;
	t = batch_prof_now(r->grader.prof);
	r->kopts.slot = slot;
	rc = kernel_new(&r->grader.kernel, &r->kopts, err);
	if (rc)
		return rc;
	r->grader.job_end = batch_prof_add(r->grader.prof, BATCH_PH_ZYGOTE, t);
	/* after the zygote's fork: only this worker holds the work directory's lock */
	rc = gr_workdir_make(&r->work, work_parent(), "grader-work", err);
	if (rc)
		return rc;
	if (r->work.warning[0])
		fprintf(stderr, "grader grade: warning: %s\n", r->work.warning);
	r->grader.scratch = strdup(r->work.path);
	if (!r->grader.scratch)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	return 0;
}

static int worker_job(void *ctx, size_t index, char **text, struct gr_err *err)
{
	struct run *r = ctx;
	struct gb_submission *sub = NULL;
	json_t *j = NULL;
	double t = batch_prof_add(r->grader.prof, BATCH_PH_IDLE, r->grader.job_end);
	int rc;

	rc = batch_grade_one(&sub, &r->grader, &r->plan.items[index], err);
	if (rc)
		goto done;
	t = batch_prof_now(r->grader.prof);
	rc = gb_submission_to_json(&j, sub, err);
	if (rc)
		goto done;
	*text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (!*text)
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	r->grader.job_end = batch_prof_add(r->grader.prof, BATCH_PH_ENCODE, t);
done:
	if (rc)
		r->grader.job_end = batch_prof_now(r->grader.prof);
	json_decref(j);
	gb_submission_free(sub);
	return rc;
}

static void worker_fini(void *ctx)
{
	struct run *r = ctx;

	kernel_free(r->grader.kernel);
	r->grader.kernel = NULL;
	if (r->work.path) {
		struct gr_err err = {0};

		/* student files: never left behind in silence */
		if (gr_workdir_remove(&r->work, &err) < 0)
			fprintf(stderr, "grader grade: %s\n", err.msg);
	}
	free(r->grader.scratch);
	r->grader.scratch = NULL;
}

/* ---- coordinator side ---------------------------------------------------- */

static int has_flag(json_t *sub, const char *flag)
{
	json_t *flags = json_object_get(sub, "flags"), *v;
	size_t i;

	json_array_foreach(flags, i, v) if (json_is_string(v) &&
					    !strcmp(json_string_value(v), flag)) return 1;
	return 0;
}

static void log_line(struct run *r, const struct batch_item *it, json_t *sub)
{
	char line[512];
	const char *status = json_string_value(json_object_get(sub, "status"));
	const char *msg = json_string_value(json_object_get(sub, "message"));

	if (status && !strcmp(status, "graded"))
		snprintf(line, sizeof(line), "graded %s: %g/%g", it->student_id,
			 json_number_value(json_object_get(sub, "score")),
			 json_number_value(json_object_get(sub, "max_score")));
	else
		snprintf(line, sizeof(line), "%s %s%s%s", status ? status : "?", it->student_id,
			 msg ? ": " : "", msg ? msg : "");
	batch_progress_step(&r->progress, line);
	/* a time that could not be read, or that nobody knows, is never quiet */
	if (has_flag(sub, "bad_timestamp") ||
	    (has_flag(sub, "time_unknown") && r->rubric->duedate_text)) {
		snprintf(line, sizeof(line), "grader grade: student '%s': %s", it->student_id,
			 msg ? msg : "submission time unknown");
		batch_progress_note(&r->progress, line);
	}
}

/* fdatasync the journal, then report the group's submissions: they are on disk. */
static int sync_group(struct run *r)
{
	struct gr_err err = {0};
	double t;
	int rc = 0;

	if (!r->ngroup)
		return 0;
	rc = batch_journal_sync(&r->journal, &err);
	if (rc)
		fprintf(stderr, "grader grade: %s\n", err.msg);
	t = batch_prof_now(r->prof);
	for (size_t i = 0; i < r->ngroup; i++) {
		if (!rc)
			log_line(r, &r->plan.items[r->group[i].index], r->group[i].sub);
		json_decref(r->group[i].sub);
	}
	batch_prof_add(r->prof, BATCH_PH_PROGRESS, t);
	r->ngroup = 0;
	return rc;
}

static int job_done(void *dctx, size_t index, const char *text, const char *message)
{
	struct run *r = dctx;
	struct batch_item *it = &r->plan.items[index];
	struct gb_submission *sub = NULL;
	struct gr_err err = {0};
	json_t *j = NULL;
	const char *status;
	double t = batch_prof_now(r->prof);
	int rc = 0;

	/* after a stop a result may be the signal's doing: the rerun grades it */
	if (stopped(r))
		return 0;
	if (text)
		j = json_loads(text, 0, NULL);
	t = batch_prof_add(r->prof, BATCH_PH_PARSE, t);
	if (!j) {
		char why[GR_ERR_MAX];

		snprintf(why, sizeof(why), "%s",
			 message && message[0] ? message : "grading failed");
		rc = batch_error_submission(&sub, r->assignment, it->student_id, why);
		if (!rc)
			rc = gb_submission_to_json(&j, sub, &err);
		gb_submission_free(sub);
		if (rc)
			return rc;
	}
	rc = batch_journal_write(&r->journal, it, j, text != NULL, &err);
	if (rc) {
		fprintf(stderr, "grader grade: %s\n", err.msg);
		json_decref(j);
		return rc;
	}
	status = json_string_value(json_object_get(j, "status"));
	if (status && !strcmp(status, "error"))
		r->summary.failed++;
	else if (status && !strcmp(status, "missing"))
		r->summary.missing++;
	else
		r->summary.graded++;
	if (!r->ngroup)
		r->group_start = gr_now();
	r->group[r->ngroup].index = index;
	r->group[r->ngroup++].sub = j;
	return r->ngroup == GROUP_MAX ? sync_group(r) : 0;
}

/* The pool's tick: sync the group once it is GROUP_MS old, else say when it will be. */
static int job_tick(void *dctx, int *wait_ms)
{
	struct run *r = dctx;
	double left;

	*wait_ms = -1;
	if (stopped(r))
		return GR_ELIMIT;
	if (!r->ngroup)
		return 0;
	left = r->group_start + GROUP_MS / 1000.0 - gr_now();
	if (left <= 0)
		return sync_group(r);
	*wait_ms = (int)(left * 1000) + 1;
	return 0;
}

static int write_gradebook(struct run *r, struct gr_err *err)
{
	struct gb_writer *w = NULL;
	int rc;

	rc = gb_writer_open(&w, r->opts->output, r->header, err);
	for (size_t i = 0; !rc && i < r->plan.n; i++) {
		struct batch_item *it = &r->plan.items[i];
		json_t *sub = NULL;

		rc = batch_journal_read(&r->journal, it, &sub, err);
		if (rc)
			break;
		rc = gb_writer_add_json(w, sub, err);
		json_decref(sub);
	}
	if (!rc)
		rc = batch_output_add_kept(w, r->keep, &r->plan, &r->summary.kept, err);
	if (!rc)
		rc = gb_writer_commit(w, err);
	gb_writer_free(w);
	return rc;
}

/* An unchanged, graded submission whose autograded notebooks are gone is run again. */
static int lost_autograded(struct run *r, const struct batch_item *it)
{
	char *dir;
	json_t *prev = NULL;
	const char *st;
	struct gr_err err = {0};
	int lost = 0;

	if (!it->path || !r->opts->autograded)
		return 0;
	dir = batch_autograded_dir(&r->grader, it->student_id);
	if (dir && access(dir, F_OK) < 0 && !batch_journal_read(&r->journal, it, &prev, &err)) {
		st = json_string_value(json_object_get(prev, "status"));
		lost = !st || strcmp(st, "error") != 0;
	}
	json_decref(prev);
	free(dir);
	return lost;
}

/* Whether any planned student handed something in (a roster alone is not work). */
static int has_work(const struct batch_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		if (plan->items[i].path)
			return 1;
	return 0;
}

static int plan_with_roster(struct run *r, const struct roster *roster, const char *rubric_sha,
			    struct gr_err *err)
{
	const char **ids = NULL;
	size_t n = 0;
	int rc;

	if (!roster || r->opts->students)
		return batch_plan_build(&r->plan, r->opts->submissions, r->rubric->assignment,
					r->opts->students, rubric_sha, err);
	/* everyone in the roster (a missing one gets a "missing" entry) and every folder */
	rc = batch_plan_build(&r->plan, r->opts->submissions, r->rubric->assignment, NULL,
			      rubric_sha, err);
	if (rc)
		return rc;
	ids = calloc(r->plan.n + roster->count + 1, sizeof(*ids));
	if (!ids)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->plan.n; i++)
		ids[n++] = r->plan.items[i].student_id;
	for (size_t i = 0; i < roster->count; i++)
		ids[n++] = roster->students[i].student_id;
	{
		struct batch_plan full = {0};
		rc = batch_plan_build(&full, r->opts->submissions, r->rubric->assignment, ids,
				      rubric_sha, err);
		free(ids);
		if (rc)
			return rc;
		batch_plan_release(&r->plan);
		r->plan = full;
	}
	return 0;
}

/*
 * The key of the journal's entries (64 hex digits): it changes with the
 * rubric's text, the grader itself and the options that change a score
 * (--late-unknown).
 */
static int rubric_key(char out[65], const struct batch_opts *opts, struct gr_err *err)
{
	char *text = NULL, *salted = NULL;
	size_t len = 0;
	int rc = gr_read_file(&text, &len, opts->rubric, RUBRIC_MAX_FILE, err);

	if (rc)
		return rc;
	if (asprintf(&salted, "%s\n%s%s", GRADER_VERSION, text,
		     opts->late_unknown == BATCH_LATE_UNKNOWN_FLAG   ? ""
		     : opts->late_unknown == BATCH_LATE_UNKNOWN_NONE ? "\nlate-unknown none"
								     : "\nlate-unknown zero") < 0)
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	else
		gr_sha256_hex(out, salted, strlen(salted));
	free(salted);
	free(text);
	return rc;
}

/* Open `<output>.journal` and match its entries to the plan (done ones are reused). */
static int open_journal(struct run *r, struct gr_err *err)
{
	char *journal = NULL;
	int rc;

	if (asprintf(&journal, "%s.journal", r->opts->output) < 0)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	rc = batch_journal_open(&r->journal, journal, r->opts->force, err);
	if (!rc && r->opts->jindex)
		rc = batch_jindex_match(r->opts->jindex, &r->journal, &r->plan, err);
	else if (!rc)
		rc = batch_journal_match(&r->journal, &r->plan, err);
	free(journal);
	return rc;
}

/*
 * Grade the planned students todo[0..ntodo) in the worker pool, after one
 * check that this host can build the sandbox: a host that cannot fails the
 * whole run once, here, rather than every student's entry in the workers.
 */
static int grade_todo(struct run *r, unsigned jobs, size_t *todo, size_t ntodo, struct gr_err *err)
{
	const struct batch_worker_ops ops = {worker_init, worker_job, worker_fini, job_done,
					     job_tick};
	struct sbx_config cfg;
	sbx *probe = NULL;
	int rc, src;

	if (ntodo > 0) {
		sbx_config_init(&cfg);
		cfg.allow_weaker = r->opts->allow_weaker;
		rc = sbx_new(&probe, &cfg, err);
		sbx_free(probe);
		if (rc)
			return rc;
	}
	batch_progress_init(&r->progress, r->opts->log, ntodo);
	r->journal.prof = r->prof;
	if (ntodo == 0)
		return 0;
	fflush(NULL); /* nothing buffered may be written twice by the workers */
	rc = batch_pool_run(&ops, r, r, jobs, todo, ntodo, err);
	/* what was recorded before a failure is synced and reported too */
	src = sync_group(r);
	if (!rc && src)
		rc = gr_err_set(err, src, "cannot sync journal '%s'", r->journal.path);
	batch_progress_finish(&r->progress);
	return rc;
}

/*
 * After a stop: the pool killed the workers (their zygotes and sandboxes die
 * with them), so the locks of their work directories are free and a sweep
 * removes them. A sandbox still dying may write into its box a moment
 * longer, hence the retries.
 */
static int stop_run(struct run *r, double start, struct batch_summary *out, struct gr_err *err)
{
	struct gr_err werr = {0};
	size_t kept =
	    r->summary.reused + r->summary.graded + r->summary.failed + r->summary.missing;
	int rc = -1;

	for (int tries = 0; tries < 50 && rc < 0; tries++) {
		struct timespec pause = {0, 20 * 1000000L};

		if (tries)
			nanosleep(&pause, NULL);
		rc = gr_workdir_sweep(work_parent(), "grader-work", NULL, &werr);
	}
	r->summary.total = r->plan.n;
	r->summary.wall = gr_now() - start;
	if (out)
		*out = r->summary;
	if (rc < 0)
		return gr_err_set(err, GR_EIO, "%zu of %zu submissions kept in '%s'; %s", kept,
				  r->plan.n, r->journal.path, werr.msg);
	return gr_err_set(err, GR_ELIMIT,
			  "%zu of %zu submissions kept in '%s', work directories removed", kept,
			  r->plan.n, r->journal.path);
}

int batch_run(const struct batch_opts *opts, struct batch_summary *out, struct gr_err *err)
{
	struct run r = {0};
	struct roster *roster = NULL;
	size_t *todo = NULL, ntodo = 0;
	char rubric_sha[65];
	double start = gr_now(), t;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned jobs = opts->jobs ? opts->jobs : (unsigned)(cores > 0 ? cores : 1);
	int rc;

	r.opts = opts;
	r.journal.fd = -1;
	if (getenv("GRADER_PROFILE"))
		r.prof = batch_prof_new(jobs);
	rc = rubric_load(&r.rubric, opts->rubric, err);
	if (!rc)
		rc = rubric_key(rubric_sha, opts, err);
	if (rc)
		goto done;
	if (opts->roster && (rc = roster_load(&roster, opts->roster, err)))
		goto done;
	rc = plan_with_roster(&r, roster, rubric_sha, err);
	if (rc)
		goto done;
	if (!opts->students && !has_work(&r.plan)) {
		rc = gr_err_set(err, GR_ENOTFOUND,
				"no submissions in '%s' (expected %s/STUDENT/%s/)",
				opts->submissions, opts->submissions, r.rubric->assignment);
		goto done;
	}
	/* the course as a whole must have work; one shard may hold none of it */
	if (opts->shards > 1)
		batch_plan_shard(&r.plan, opts->shard, opts->shards);
	rc = batch_output_check(&r.keep, opts, r.rubric->assignment, &r.plan, err);
	if (rc)
		goto done;
	rc = header_from_rubric(&r, err);
	if (!rc)
		rc = add_students(&r, roster, err);
	if (!rc)
		rc = batch_output_keep_students(r.header, r.keep, &r.plan, err);
	if (!rc)
		rc = open_journal(&r, err);
	if (rc)
		goto done;
	todo = calloc(r.plan.n + 1, sizeof(*todo));
	if (!todo) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	rc = setup_grader(&r, err);
	if (rc)
		goto done;
	for (size_t i = 0; i < r.plan.n; i++) {
		struct batch_item *it = &r.plan.items[i];

		if (it->done && lost_autograded(&r, it))
			it->done = 0;
		if (r.plan.items[i].done)
			r.summary.reused++;
		else
			todo[ntodo++] = i;
	}
	batch_prof_add(r.prof, BATCH_PH_START, start);
	rc = stopped(&r) ? 0 : grade_todo(&r, jobs, todo, ntodo, err);
	if (stopped(&r)) {
		rc = stop_run(&r, start, out, err);
		goto done;
	}
	t = batch_prof_now(r.prof);
	if (!rc)
		rc = write_gradebook(&r, err);
	if (rc)
		goto done;
	batch_prof_add(r.prof, BATCH_PH_GRADEBOOK, t);
	r.summary.total = r.plan.n + r.summary.kept;
	r.summary.wall = gr_now() - start;
	batch_prof_print(stderr, r.prof, ntodo < jobs ? (unsigned)(ntodo ? ntodo : 1) : jobs, ntodo,
			 r.summary.wall);
	if (out)
		*out = r.summary;
done:
	free(todo);
	free(r.preload);
	batch_journal_close(&r.journal);
	batch_plan_release(&r.plan);
	gb_free(r.header);
	gb_reader_free(r.keep);
	rubric_free(r.rubric);
	roster_free(roster);
	batch_prof_free(r.prof, jobs);
	return rc;
}

/*
 * One folder graded in this process's own zygote. r->opts and r->rubric are
 * set, and r->grader's data_optional and observe; the rubric stays the caller's.
 */
static int grade_dir(struct gb_gradebook **out, struct run *r, const char *dir, const char *student,
		     struct gr_err *err)
{
	struct batch_item it = {0};
	struct gb_submission *sub = NULL;
	struct gb_student *s;
	int rc, started = 0;

	it.student_id = (char *)student;
	it.path = (char *)dir;
	it.journal_off = -1;
	rc = header_from_rubric(r, err);
	if (!rc && gb_add_student(r->header, &s, student))
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	if (!rc)
		rc = batch_hash_tree(it.tree, dir, err);
	if (!rc)
		rc = setup_grader(r, err);
	if (rc)
		goto done;
	started = 1;
	rc = worker_init(r, 0, err);
	if (!rc)
		rc = batch_grade_one(&sub, &r->grader, &it, err);
	if (rc)
		goto done;
	if (gb_take_submission(r->header, sub)) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	sub = NULL;
	*out = r->header;
	r->header = NULL;
done:
	if (started)
		worker_fini(r);
	gb_submission_free(sub);
	free(r->preload);
	r->preload = NULL;
	gb_free(r->header);
	r->header = NULL;
	return rc;
}

int batch_grade_dir(struct gb_gradebook **out, const struct batch_opts *opts, const char *dir,
		    const char *student, struct gr_err *err)
{
	struct run r = {0};
	int rc;

	r.opts = opts;
	/* grader ci: the student's tree holds the released copy of the data */
	r.grader.data_optional = 1;
	rc = rubric_load(&r.rubric, opts->rubric, err);
	if (!rc)
		rc = grade_dir(out, &r, dir, student, err);
	rubric_free(r.rubric);
	return rc;
}

int batch_grade_rubric_dir(struct gb_gradebook **out, const struct rubric *rubric,
			   const struct batch_opts *opts, const char *dir, const char *student,
			   void (*observe)(void *ctx, size_t notebook,
					   const struct nb_notebook *ran,
					   const struct kernel_result *kr),
			   void *observe_ctx, struct gr_err *err)
{
	struct run r = {0};

	r.opts = opts;
	/* only read: setup_grader and header_from_rubric take what they need */
	r.rubric = (struct rubric *)rubric;
	r.grader.observe = observe;
	r.grader.observe_ctx = observe_ctx;
	return grade_dir(out, &r, dir, student, err);
}

/* ---- a warm zygote, one submission at a time (grader serve) -------------- */

struct batch_warm {
	struct run r;
	struct batch_opts opts; /* r.opts points here */
	char *rubric_path;
	char key[65];	   /* rubric_key: the journal's key of this rubric's results */
	char file_sha[65]; /* the rubric file as loaded */
	int started;
};

void batch_warm_free(struct batch_warm *w)
{
	if (!w)
		return;
	if (w->started)
		worker_fini(&w->r);
	free(w->r.preload);
	gb_free(w->r.header);
	rubric_free(w->r.rubric);
	free(w->rubric_path);
	free(w);
}

int batch_warm_new(struct batch_warm **out, const struct batch_opts *opts, unsigned slot,
		   struct gr_err *err)
{
	struct batch_warm *w = calloc(1, sizeof(*w));
	int rc;

	if (!w || !(w->rubric_path = strdup(opts->rubric))) {
		free(w);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	w->opts = *opts;
	w->opts.rubric = w->rubric_path;
	w->opts.students = NULL;
	w->opts.log = NULL;
	w->r.opts = &w->opts;
	w->r.journal.fd = -1;
	/* the sha of the bytes parsed: batch_warm_stale compares the file's with it */
	rc = rubric_load_sha(&w->r.rubric, w->file_sha, opts->rubric, err);
	if (!rc)
		rc = rubric_key(w->key, &w->opts, err);
	if (!rc)
		rc = header_from_rubric(&w->r, err);
	if (!rc)
		rc = setup_grader(&w->r, err);
	if (!rc) {
		w->started = 1;
		rc = worker_init(&w->r, slot, err);
	}
	if (rc) {
		batch_warm_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int batch_warm_stale(const struct batch_warm *w)
{
	char sha[65];

	return rubric_load_sha(NULL, sha, w->rubric_path, NULL) != 0 ||
	       strcmp(sha, w->file_sha) != 0;
}

const struct rubric *batch_warm_rubric(const struct batch_warm *w)
{
	return w->r.rubric;
}

int batch_warm_grade(struct batch_warm *w, const char *submissions, const char *output,
		     const char *student, char **text, struct gr_err *err)
{
	const char *only[] = {student, NULL};
	struct batch_plan plan = {0};
	struct batch_journal j = {.fd = -1};
	struct gb_submission *sub = NULL;
	json_t *js = NULL;
	char *journal = NULL;
	int rc;

	*text = NULL;
	rc = batch_plan_build(&plan, submissions, w->r.rubric->assignment, only, w->key, err);
	if (!rc && (plan.n != 1 || !plan.items[0].path))
		rc = gr_err_set(err, GR_ENOTFOUND, "no submission of '%s' in '%s'", student,
				submissions);
	if (rc)
		goto done;
	if (asprintf(&journal, "%s.journal", output) < 0) {
		journal = NULL;
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	rc = batch_journal_open(&j, journal, 0, err);
	if (!rc)
		rc = batch_grade_one(&sub, &w->r.grader, &plan.items[0], err);
	if (!rc)
		rc = gb_submission_to_json(&js, sub, err);
	if (!rc)
		rc = batch_journal_append(&j, &plan.items[0], js, 1, err);
	if (!rc && !(*text = json_dumps(js, JSON_COMPACT | JSON_SORT_KEYS)))
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
done:
	json_decref(js);
	gb_submission_free(sub);
	batch_journal_close(&j);
	free(journal);
	batch_plan_release(&plan);
	return rc;
}
