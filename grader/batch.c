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

void batch_opts_init(struct batch_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
}

/* Students: from the roster (names, emails) and from the plan. */
static int add_students(struct batch_ctx *r, const struct roster *roster, struct gr_err *err)
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

/* Whether the caller's signal handler asked the run to stop. */
static int stopped(const struct batch_ctx *r)
{
	return r->opts->stop && *r->opts->stop;
}

/* ---- worker side (runs in forked processes) ---------------------------- */

static int worker_job(void *ctx, size_t index, char **text, struct gr_err *err)
{
	struct batch_ctx *r = ctx;
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

/* ---- coordinator side ---------------------------------------------------- */

static int has_flag(json_t *sub, const char *flag)
{
	json_t *flags = json_object_get(sub, "flags"), *v;
	size_t i;

	json_array_foreach(flags, i, v) if (json_is_string(v) &&
					    !strcmp(json_string_value(v), flag)) return 1;
	return 0;
}

static void log_line(struct batch_ctx *r, const struct batch_item *it, json_t *sub)
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
static int sync_group(struct batch_ctx *r)
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
	struct batch_ctx *r = dctx;
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
	return r->ngroup == BATCH_GROUP_MAX ? sync_group(r) : 0;
}

/* The pool's tick: sync the group once it is BATCH_GROUP_MS old, else say when it will be. */
static int job_tick(void *dctx, int *wait_ms)
{
	struct batch_ctx *r = dctx;
	double left;

	*wait_ms = -1;
	if (stopped(r))
		return GR_ELIMIT;
	if (!r->ngroup)
		return 0;
	left = r->group_start + BATCH_GROUP_MS / 1000.0 - gr_now();
	if (left <= 0)
		return sync_group(r);
	*wait_ms = (int)(left * 1000) + 1;
	return 0;
}

static int write_gradebook(struct batch_ctx *r, struct gr_err *err)
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
static int lost_autograded(struct batch_ctx *r, const struct batch_item *it)
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

static int plan_with_roster(struct batch_ctx *r, const struct roster *roster,
			    const char *rubric_sha, struct gr_err *err)
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

/* Open `<output>.journal` and match its entries to the plan (done ones are reused). */
static int open_journal(struct batch_ctx *r, struct gr_err *err)
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
static int grade_todo(struct batch_ctx *r, unsigned jobs, size_t *todo, size_t ntodo,
		      struct gr_err *err)
{
	const struct batch_worker_ops ops = {batch_worker_init, worker_job, batch_worker_fini,
					     job_done, job_tick};
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
static int stop_run(struct batch_ctx *r, double start, struct batch_summary *out,
		    struct gr_err *err)
{
	struct gr_err werr = {0};
	size_t kept =
	    r->summary.reused + r->summary.graded + r->summary.failed + r->summary.missing;
	int rc = -1;

	for (int tries = 0; tries < 50 && rc < 0; tries++) {
		struct timespec pause = {0, 20 * 1000000L};

		if (tries)
			nanosleep(&pause, NULL);
		rc = gr_workdir_sweep(batch_work_parent(), "grader-work", NULL, &werr);
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
	struct batch_ctx r = {0};
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
		rc = batch_rubric_key(rubric_sha, opts, err);
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
	rc = batch_header_from_rubric(&r, err);
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
	rc = batch_setup_grader(&r, err);
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
