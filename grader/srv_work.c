/*
 * srv_work.c - the grading side's job: fetch the pushed commit into the
 * student's folder of STATE/submitted (fetch_git_run, its bare cache and its
 * safe tree walk), stamp it with the time the push was received, grade the
 * assignment with batch_run (only what changed is graded; the journal and
 * gradebook in STATE/gradebooks are `grader grade`'s own), and store the
 * student's submission as the job's result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "grader/batch.h"
#include "grader/fetch.h"
#include "grader/gradebook.h"
#include "grader/roster.h"
#include "srv_int.h"

struct fetch_log_ctx {
	long long job;
};

static void fetch_line(void *payload, const char *line)
{
	const struct fetch_log_ctx *ctx = payload;

	srv_log("job %lld: fetch: %s", ctx->job, line);
}

/* The clone URL of `student`: the assignment's template with the id in place. */
static char *clone_url(const struct srv_assignment *a, const char *student)
{
	const char *mark = strstr(a->clone, "{student}");
	char *url = NULL;

	if (asprintf(&url, "%.*s%s%s", (int)(mark - a->clone), a->clone, student, mark + 9) < 0)
		return NULL;
	return url;
}

/*
 * Lateness is judged by when the service received the push, not by the
 * commit's date (students set those): timestamp.txt says so, and the
 * provenance keeps both.
 */
static int stamp_received(const char *dir, double received, struct gr_err *err)
{
	struct fetch_time t = { .sec = (int64_t)received,
				.usec = (int32_t)((received - (double)(int64_t)received) * 1e6) };
	char line[48], iso[32], *path = gr_path_join(dir, FETCH_TIMESTAMP_NAME), *prov = NULL;
	json_t *doc = NULL;
	char *text = NULL;
	int rc;

	if (!path)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	fetch_time_nbgrader(line, &t);
	strcat(line, "\n");
	rc = gr_write_file_atomic(path, line, strlen(line), err);
	prov = rc ? NULL : gr_path_join(dir, FETCH_PROVENANCE_NAME);
	doc = prov ? json_load_file(prov, 0, NULL) : NULL;
	if (doc) {
		fetch_time_iso(iso, &t);
		json_object_set_new(doc, "time_source", json_string("received"));
		json_object_set_new(doc, "received_at", json_string(iso));
		text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
		rc = text ? gr_write_file_atomic(prov, text, strlen(text), err)
			  : gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	free(text);
	json_decref(doc);
	free(prov);
	free(path);
	return rc;
}

/* Fetch job->commit into STATE/submitted/{student}/{assignment}; *why when the student's
 * repository is at fault (the job fails, the service goes on). */
static int fetch_commit(char **why, const struct srv_config *cfg, const struct srv_assignment *a,
			const struct srv_job *job, const char *dest, struct gr_err *err)
{
	struct roster_student st = { 0 };
	struct roster ro = { .path = "config", .columns = ROSTER_STUDENT_ID | ROSTER_REPO,
			     .count = 1, .students = &st };
	struct fetch_report *rep = NULL;
	struct fetch_log_ctx lctx = { job->id };
	struct fetch_opts o;
	char empty[1] = "";
	int rc;

	(void)cfg;
	st.student_id = job->student;
	st.repo = clone_url(a, job->student);
	st.branch = a->branch;
	st.first_name = st.last_name = st.email = st.lms_id = empty;
	if (!st.repo)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	fetch_opts_init(&o);
	o.dest = dest;
	o.assignment = a->name;
	o.roster = &ro;
	o.commit = job->commit;
	o.branch = a->branch;
	o.log = fetch_line;
	o.log_payload = &lctx;
	rc = fetch_git_run(&rep, &o, err);
	if (!rc && rep->count == 1 && rep->results[0]->failed)
		*why = strdup(rep->results[0]->error ? rep->results[0]->error : "fetch failed");
	fetch_report_free(rep);
	free(st.repo);
	return rc;
}

/* The student's submission from the gradebook batch_run wrote. */
static int read_result(char **text, double *score, double *max, const char *gradebook,
		       const struct srv_job *job, struct gr_err *err)
{
	struct gb_gradebook *gb = NULL;
	struct gb_submission *sub;
	json_t *j = NULL;
	int rc;

	rc = gb_read_file(&gb, gradebook, err);
	if (rc)
		return rc;
	sub = gb_find_submission(gb, job->assignment, job->student);
	if (!sub) {
		rc = gr_err_set(err, GR_ENOTFOUND, "gradebook '%s' has no submission of '%s'",
				gradebook, job->student);
		goto done;
	}
	rc = gb_submission_to_json(&j, sub, err);
	if (rc)
		goto done;
	*text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (!*text)
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	*score = sub->score;
	*max = sub->max_score;
done:
	json_decref(j);
	gb_free(gb);
	return rc;
}

int srv_work_job(const struct srv_config *cfg, struct srv_store *st, const struct srv_job *job,
		 int allow_weaker, struct gr_err *err)
{
	const struct srv_assignment *a = srv_config_assignment(cfg, job->assignment);
	char *dest = NULL, *dir = NULL, *gradebook = NULL, *why = NULL, *result = NULL;
	struct batch_summary sum;
	struct batch_opts bo;
	double score = 0, max = 0, t0 = gr_now();
	int rc = 0;

	if (!a) {
		why = strdup("the assignment is no longer in the config");
		goto finish;
	}
	dest = gr_path_join(cfg->state, "submitted");
	if (!dest || asprintf(&dir, "%s/%s/%s", dest, job->student, a->name) < 0 ||
	    asprintf(&gradebook, "%s/gradebooks/%s.json", cfg->state, a->name) < 0) {
		dir = gradebook = NULL;
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	if (!job->commit) {
		why = strdup("uploads are not supported yet");
		goto finish;
	}
	rc = fetch_commit(&why, cfg, a, job, dest, err);
	if (rc || why)
		goto finish;
	rc = stamp_received(dir, job->received, err);
	if (rc)
		goto done;
	batch_opts_init(&bo);
	bo.rubric = a->rubric;
	bo.submissions = dest;
	bo.output = gradebook;
	bo.roster = cfg->roster;
	bo.jobs = 1;
	bo.allow_weaker = allow_weaker;
	rc = batch_run(&bo, &sum, err);
	/* the HTTP side (another user) serves the gradebook; the journal stays private */
	if (!rc && chmod(gradebook, 0644) < 0)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot publish '%s'", gradebook);
	if (!rc)
		rc = read_result(&result, &score, &max, gradebook, job, err);
finish:
	if (rc && !why)
		why = strdup(err->msg);
	rc = srv_store_finish(st, job->id, why ? "failed" : "done", why, result, score, max, err);
	if (!rc && why)
		srv_log("job %lld: %s %s %.12s: failed in %.2f s: %s", job->id, job->assignment,
			job->student, job->commit ? job->commit : "-", gr_now() - t0, why);
	else if (!rc)
		srv_log("job %lld: %s %s %.12s: done in %.2f s: %g/%g", job->id, job->assignment,
			job->student, job->commit ? job->commit : "-", gr_now() - t0, score, max);
done:
	free(result);
	free(why);
	free(gradebook);
	free(dir);
	free(dest);
	return rc;
}
