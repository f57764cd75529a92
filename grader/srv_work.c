/*
 * srv_work.c - the grading side's job: fetch the pushed commit into the
 * student's folder of STATE/submitted (fetch_git_run, its bare cache and its
 * safe tree walk), stamp it with the time the push was received, grade it
 * in the worker's warm zygote into the assignment's journal (the one
 * `grader grade` keeps beside STATE/gradebooks/ASSIGNMENT.json, which
 * srv_gradebook.c writes from it), and store the student's submission as
 * the job's result.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <jansson.h>

#include "grader/batch.h"
#include "grader/fetch.h"
#include "grader/gradebook.h"
#include "grader/rubric.h"
#include "srv_int.h"

struct fetch_log_ctx {
	long long job;
};

static void fetch_line(void *payload, const char *line)
{
	const struct fetch_log_ctx *ctx = payload;

	srv_log("job %lld: fetch: %s", ctx->job, line);
}

int srv_low_space(const char *dir)
{
	struct statvfs sv;

	return statvfs(dir, &sv) == 0 &&
	       (unsigned long long)sv.f_bavail * sv.f_frsize < SRV_MIN_FREE;
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
	int64_t sec = (int64_t)received;
	int32_t usec = (int32_t)((received - (double)sec) * 1e6);
	char line[GR_TIME_MAX + 1], iso[GR_TIME_MAX];
	char *path = gr_path_join(dir, FETCH_TIMESTAMP_NAME), *prov = NULL;
	json_t *doc = NULL;
	char *text = NULL;
	int rc;

	if (!path)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	gr_time_format(line, sizeof(line) - 1, sec, usec, GR_TIME_NBGRADER);
	strcat(line, "\n");
	rc = gr_write_file_atomic(path, line, strlen(line), err);
	prov = rc ? NULL : gr_path_join(dir, FETCH_PROVENANCE_NAME);
	doc = prov ? json_load_file(prov, 0, NULL) : NULL;
	if (doc) {
		gr_time_format(iso, sizeof(iso), sec, usec, GR_TIME_ISO);
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
/*
 * The pushed commit into dest; *why when the student's fetch failed, and
 * *moved when that is because the branch moved on past the commit: a
 * delivery late or out of order, or a replayed one, never grades an old
 * commit over the branch's newer one (whose own push is its job).
 */
static int fetch_commit(char **why, int *moved, const struct srv_config *cfg,
			const struct srv_opts *so, const struct srv_assignment *a,
			const struct srv_job *job, const char *dest, struct gr_err *err)
{
	struct roster_student st = {0};
	struct roster ro = {.path = "config",
			    .columns = ROSTER_STUDENT_ID | ROSTER_REPO,
			    .count = 1,
			    .students = &st};
	struct fetch_report *rep = NULL;
	struct fetch_log_ctx lctx = {job->id};
	struct fetch_opts o;
	char empty[1] = "";
	int rc;

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
	o.commit_is_tip = true;
	o.branch = a->branch;
	o.log = fetch_line;
	o.log_payload = &lctx;
	o.https_user = so->git_user;
	o.https_token = so->git_token;
	o.limits.max_file_size = o.limits.max_total_size = SRV_PUSH_MAX;
	o.limits.max_files = SRV_PUSH_FILES;
	/* only the graded branch is fetched, and at most this much of it (the cache too) */
	o.limits.max_fetch_size = (uint64_t)cfg->fetch_mib << 20;
	rc = fetch_git_run(&rep, &o, err);
	if (!rc && rep->count == 1 && rep->results[0]->failed) {
		*why = strdup(rep->results[0]->error ? rep->results[0]->error : "fetch failed");
		*moved = rep->results[0]->moved_on;
	} else if (!rc && rep->count == 1 && rep->results[0]->nskips)
		/* the reason, not the name: names are the student's */
		srv_log("job %lld: fetch: %zu file(s) left out, the first: %s", job->id,
			rep->results[0]->nskips, rep->results[0]->skips[0].reason);
	fetch_report_free(rep);
	free(st.repo);
	return rc;
}

/* Whether the rubric's notebook `nb` (gradebook name: the file less ".ipynb") holds cell `id`
 * without hidden tests. */
static int shown_cell(const struct rubric *r, const char *nb, const char *id)
{
	for (size_t i = 0; nb && id && i < r->nnotebooks; i++) {
		const struct rubric_notebook *rn = &r->notebooks[i];
		size_t len = strlen(rn->name);

		if (len > 6 && !strcmp(rn->name + len - 6, ".ipynb"))
			len -= 6;
		if (strlen(nb) != len || strncmp(rn->name, nb, len))
			continue;
		for (size_t c = 0; c < rn->ncells; c++)
			if (rn->cells[c].grade_id && !strcmp(rn->cells[c].grade_id, id))
				return !rn->cells[c].hidden_tests &&
				       !rubric_has_hidden_tests(rn->cells[c].source);
	}
	return 0;
}

/*
 * What the student may see: everything but the output of cells holding
 * hidden tests (a traceback would show the hidden test's code, and what the
 * notebook's code printed or raised may carry values the test handed it)
 * and of cells that ran after one (the notebook's code may have kept those
 * values to print there); their scores, status and the name of the
 * exception stay. A cell the rubric does not know is treated as hidden.
 */
static json_t *student_view(const json_t *sub, const struct rubric *r)
{
	json_t *view = json_deep_copy(sub), *nr, *gr;
	size_t i, k;

	json_array_foreach(json_object_get(view, "notebooks"), i, nr)
	{
		const char *nb = json_string_value(json_object_get(nr, "name"));

		json_array_foreach(json_object_get(nr, "grades"), k, gr)
		{
			json_t *out = json_object_get(gr, "output");
			bool hidden = !shown_cell(
				 r, nb, json_string_value(json_object_get(gr, "grade_id"))),
			     after = json_is_true(json_object_get(out, "after_hidden_tests"));

			if (hidden || after) {
				const char *tb =
				    json_string_value(json_object_get(out, "traceback"));

				/* the exception's name only: gb_hidden_error */
				if (tb)
					json_object_set_new(gr, "error",
							    json_string(gb_hidden_error(tb)));
				json_object_set_new(gr, "withheld",
						    json_string(gb_withheld_note(hidden, after)));
				json_object_del(gr, "output");
				/* student code chooses how long a cell runs: a channel */
				json_object_del(gr, "time");
				if (hidden)
					json_object_set_new(gr, "hidden_tests", json_true());
			}
		}
	}
	return view;
}

/*
 * The job's result: the submission JSON the journal got (`text`), the
 * student's view of it under the rubric it was graded with (the warm
 * zygote's, loaded once) and its score. The gradebook file is written later
 * from the journal (srv_gradebook.c); the result does not wait for it.
 */
static int job_result(char **mine, double *score, double *max, const char *text,
		      const struct srv_assignment *a, const struct rubric *r, struct gr_err *err)
{
	json_t *j = NULL, *view = NULL;
	int rc = 0;

	j = json_loads(text, 0, NULL);
	if (!j)
		return gr_err_set(err, GR_EINVAL, "cannot read back the result of '%s'", a->name);
	if (!(view = student_view(j, r)))
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	if (!rc && !(*mine = json_dumps(view, JSON_COMPACT | JSON_SORT_KEYS)))
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	*score = json_number_value(json_object_get(j, "score"));
	*max = json_number_value(json_object_get(j, "max_score"));
	json_decref(view);
	json_decref(j);
	return rc;
}

/* Write one uploaded file into dir_fd: a new regular file, no link followed. */
static int write_upload(int dir_fd, const struct srv_file *f, const char *dir, struct gr_err *err)
{
	int fd;

	if (!srv_file_name_ok(f->name))
		return gr_err_set(err, GR_EDENIED, "unsafe file name in the upload");
	fd = openat(dir_fd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot write into '%s'", dir);
	if (gr_write_all(fd, f->data.p ? f->data.p : "", f->data.len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		return gr_err_sys(err, GR_EIO, e, "cannot write into '%s'", dir);
	}
	close(fd);
	return 0;
}

/*
 * An upload becomes STATE/submitted/{student}/{assignment}: written beside
 * it and swapped in with one rename, as fetch does, so batch_run sees the
 * old or the new submission, never half of one. A zip is unpacked there too
 * (fetch's archive code writes TMP/{student}/{assignment}) and goes in place
 * only when the whole zip passed: an entry refused after good ones leaves
 * nothing of it behind.
 */
static int place_upload(char **why, struct srv_store *st, const struct srv_job *job,
			const char *dest, const char *dir, struct gr_err *err)
{
	struct srv_file *files = NULL;
	char *sdir = NULL, *tmp = NULL, *old = NULL, *from = NULL, prov[256];
	size_t n = 0;
	int rc, dfd = -1;

	rc = srv_store_files(st, job->id, &files, &n, err);
	if (rc)
		return rc;
	/* the row's names are the HTTP side's: one it should have refused fails the job */
	for (size_t i = 0; i < n && !*why; i++)
		if (!srv_file_name_ok(files[i].name) &&
		    !(*why = strdup("unsafe file name in the upload")))
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	if (rc || *why)
		goto done;
	if (asprintf(&sdir, "%s/%s", dest, job->student) < 0 ||
	    asprintf(&tmp, "%s/.%s.upload-%lld", sdir, job->assignment, job->id) < 0 ||
	    asprintf(&old, "%s/.%s.old-%lld", sdir, job->assignment, job->id) < 0) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	gr_rm_rf(tmp, NULL);
	rc = gr_mkdir_p(tmp, 0755, err);
	if (rc)
		goto done;
	if (n == 1 && srv_archive_is_zip(files[0].name)) {
		char zwhy[300];

		rc = srv_archive_unpack(&files[0], tmp, job->assignment, job->student, zwhy,
					sizeof(zwhy), err);
		if (rc > 0 && !(*why = strdup(zwhy)))
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		if (rc > 0)
			rc = 0;
		if (rc || *why)
			goto done;
		if (asprintf(&from, "%s/%s/%s", tmp, job->student, job->assignment) < 0) {
			from = NULL;
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
			goto done;
		}
	} else {
		dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0) {
			rc = gr_err_sys(err, GR_EIO, errno, "cannot open '%s'", tmp);
			goto done;
		}
		for (size_t i = 0; !rc && i < n; i++)
			rc = write_upload(dfd, &files[i], tmp, err);
		snprintf(prov, sizeof(prov),
			 "{\"source\": {\"kind\": \"upload\", \"job\": %lld}}\n", job->id);
		if (!rc) {
			char *p = gr_path_join(tmp, FETCH_PROVENANCE_NAME);
			rc = p ? gr_write_file_atomic(p, prov, strlen(prov), err)
			       : gr_err_set(err, GR_ENOMEM, "out of memory");
			free(p);
		}
		if (rc)
			goto done;
	}
	if (rename(dir, old) < 0 && errno != ENOENT) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot replace '%s'", dir);
		goto done;
	}
	if (rename(from ? from : tmp, dir) < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot replace '%s'", dir);
		goto done;
	}
	gr_rm_rf(old, NULL);
done:
	if (dfd >= 0)
		close(dfd);
	/* what is left of the temporary folder: all of it when the upload did not go in */
	if (tmp)
		gr_rm_rf(tmp, NULL);
	srv_files_free(files, n);
	free(sdir);
	free(tmp);
	free(old);
	free(from);
	return rc;
}

/*
 * The student's folder as it was before the job, set aside while the job
 * runs (STATE/submitted/{student}/.{assignment}.kept: that folder, or an
 * empty file when there was none) and put back unless the job ends done: a
 * job that fails, is superseded or goes back in the queue leaves
 * STATE/submitted as it found it, so the gradebook (made from the folders)
 * and the results (the newest done job) agree. One left by a worker that
 * died in a job is put back first: that job never finished.
 */
struct kept {
	char *path;
	int held;
};

static void kept_put_back(struct kept *k, const char *dir)
{
	struct stat sb;

	if (!k->held)
		return;
	k->held = 0;
	if (lstat(k->path, &sb) < 0)
		return;
	gr_rm_rf(dir, NULL);
	if (!S_ISDIR(sb.st_mode))
		gr_rm_rf(k->path, NULL);
	else if (rename(k->path, dir) < 0)
		srv_log("cannot put '%s' back: %s", dir, strerror(errno));
}

static int kept_take(struct kept *k, const char *dest, const struct srv_job *job, const char *dir,
		     struct gr_err *err)
{
	struct stat sb;
	char *sdir = NULL;
	int fd, rc = 0;

	if (asprintf(&k->path, "%s/%s/.%s.kept", dest, job->student, job->assignment) < 0 ||
	    asprintf(&sdir, "%s/%s", dest, job->student) < 0) {
		free(k->path);
		k->path = NULL;
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	k->held = lstat(k->path, &sb) == 0;
	kept_put_back(k, dir);
	if (rename(dir, k->path) == 0) {
		k->held = 1;
		goto done;
	}
	if (errno != ENOENT) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot set '%s' aside", dir);
		goto done;
	}
	rc = gr_mkdir_p(sdir, 0755, err);
	fd = rc ? -1 : open(k->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (!rc && fd < 0)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", k->path);
	if (fd >= 0)
		close(fd);
	k->held = !rc;
done:
	free(sdir);
	return rc;
}

void srv_worker_release(struct srv_worker *w)
{
	for (size_t i = 0; i < w->nwarm; i++) {
		batch_warm_free(w->warm[i].warm);
		free(w->warm[i].assignment);
	}
	w->nwarm = 0;
}

static void warm_drop(struct srv_worker *w, size_t i)
{
	batch_warm_free(w->warm[i].warm);
	free(w->warm[i].assignment);
	memmove(&w->warm[i], &w->warm[i + 1], (w->nwarm - i - 1) * sizeof(w->warm[0]));
	w->nwarm--;
}

/*
 * The worker's warm zygote of assignment a, moved to the front; a new one
 * (*started set) when there is none or the rubric file changed (the least
 * recently used goes when SRV_WARM_MAX are warm).
 */
static int warm_get(struct batch_warm **out, int *started, struct srv_worker *w,
		    const struct srv_assignment *a, const struct srv_opts *so, struct gr_err *err)
{
	struct batch_opts bo;
	struct batch_warm *bw = NULL;
	char *name;
	size_t i;
	int rc;

	for (i = 0; i < w->nwarm && strcmp(w->warm[i].assignment, a->name); i++)
		;
	if (i < w->nwarm && batch_warm_stale(w->warm[i].warm))
		warm_drop(w, i);
	else if (i < w->nwarm) {
		bw = w->warm[i].warm;
		name = w->warm[i].assignment;
		memmove(&w->warm[1], &w->warm[0], i * sizeof(w->warm[0]));
		w->warm[0].warm = bw;
		w->warm[0].assignment = name;
		*out = bw;
		return 0;
	}
	*started = 1;
	if (w->nwarm == SRV_WARM_MAX)
		warm_drop(w, w->nwarm - 1);
	batch_opts_init(&bo);
	bo.rubric = a->rubric;
	bo.allow_weaker = so->allow_weaker;
	rc = batch_warm_new(&bw, &bo, w->slot, err);
	if (rc)
		return rc;
	name = strdup(a->name);
	if (!name) {
		batch_warm_free(bw);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	memmove(&w->warm[1], &w->warm[0], w->nwarm * sizeof(w->warm[0]));
	w->warm[0].warm = bw;
	w->warm[0].assignment = name;
	w->nwarm++;
	*out = bw;
	return 0;
}

void srv_worker_prewarm(struct srv_worker *w, const struct srv_config *cfg,
			const struct srv_opts *so)
{
	for (size_t i = 0; i < cfg->nassignments && i < SRV_WARM_MAX; i++) {
		struct batch_warm *bw = NULL;
		struct gr_err err = {0};
		double t0 = gr_now();

		int started = 0;

		if (warm_get(&bw, &started, w, &cfg->assignments[i], so, &err) < 0)
			srv_log("worker %u: %s: %s", w->slot, cfg->assignments[i].name, err.msg);
		else
			srv_log("worker %u: %s: zygote warm in %.2f s", w->slot,
				cfg->assignments[i].name, gr_now() - t0);
	}
}

int srv_work_job(const struct srv_config *cfg, struct srv_store *st, const struct srv_job *job,
		 const struct srv_opts *opts, struct srv_worker *w, struct gr_err *err)
{
	const struct srv_assignment *a = srv_config_assignment(cfg, job->assignment);
	char *dest = NULL, *dir = NULL, *gradebook = NULL, *why = NULL, *result = NULL;
	char *mine = NULL;
	struct batch_warm *bw = NULL;
	struct srv_call_in calls[2];
	struct kept kept = {0};
	size_t ncalls = 0;
	double score = 0, max = 0, t0 = gr_now(), t[3] = {0};
	int rc = 0, lock = -1, moved = 0, started = 0;
	const char *state;

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
	/*
	 * A gradebook write in progress reads the folders: wait for it before
	 * replacing this one (it left this student out, their job being taken).
	 */
	rc = srv_gradebook_lock(&lock, gradebook, err);
	if (rc)
		goto finish;
	close(lock);
	rc = kept_take(&kept, dest, job, dir, err);
	if (rc)
		goto finish;
	if (!strcmp(job->kind, "upload")) {
		rc = place_upload(&why, st, job, dest, dir, err);
		if (rc || why)
			goto finish;
	} else {
		rc = fetch_commit(&why, &moved, cfg, opts, a, job, dest, err);
		if (rc || why)
			goto finish;
	}
	rc = stamp_received(dir, job->received, err);
	if (rc)
		goto finish;
	t[0] = gr_now();
	rc = warm_get(&bw, &started, w, a, opts, err);
	t[1] = gr_now();
	/* a fact the log states, not a time to read it from */
	if (!rc && started)
		srv_log("worker %u: %s: zygote started for job %lld", w->slot, a->name, job->id);
	if (!rc)
		rc = batch_warm_grade(bw, dest, gradebook, job->student, &result, err);
	if (rc && bw) {
		/* the zygote may be what failed: the next job starts a fresh one */
		for (size_t i = 0; i < w->nwarm; i++)
			if (w->warm[i].warm == bw)
				warm_drop(w, i);
	}
	t[2] = gr_now();
	if (!rc)
		rc = job_result(&mine, &score, &max, result, a, batch_warm_rubric(bw), err);
finish:
	/*
	 * The host failed, not the student (a full disk, an I/O error): the job
	 * goes back in the queue rather than failing; after a few tries it fails.
	 */
	if (rc || (why && srv_low_space(cfg->state))) {
		/* before the job is queued again: another worker may take it at once */
		kept_put_back(&kept, dir);
		if (job->attempts < SRV_ATTEMPTS_MAX && srv_store_requeue(st, job->id, NULL) == 0) {
			srv_log("job %lld: %s %s: queued again (%s)", job->id, job->assignment,
				job->student, rc ? err->msg : "the state folder is full");
			rc = GR_EIO;
			goto done;
		}
	}
	if (rc && !why)
		why = strdup(err->msg);
	/* a commit the branch moved past is superseded: no status, no callback */
	state = moved ? "superseded" : why ? "failed" : "done";
	/* before the job is finished: the gradebook may read the folder from then on */
	if (why || moved)
		kept_put_back(&kept, dir);
	else if (kept.held) {
		kept.held = 0;
		if (gr_rm_rf(kept.path, NULL) < 0)
			srv_log("job %lld: cannot remove '%s'", job->id, kept.path);
	}
	rc = moved ? 0
		   : srv_callback_build(cfg, w->key, job, state, why, score, max, calls, &ncalls);
	if (rc)
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	else
		rc = srv_store_finish(st, job->id, state, why, result, mine, score, max, calls,
				      ncalls, err);
	srv_callback_free(calls, ncalls);
	if (!rc && why)
		srv_log("job %lld: %s %s %.12s: %s in %.2f s: %s", job->id, job->assignment,
			job->student, job->commit ? job->commit : "-", state, gr_now() - t0, why);
	else if (!rc)
		/* where the time went: fetch, zygote start (first job only), grading, store */
		srv_log("job %lld: %s %s %.12s: done in %.2f s (fetch %.2f, zygote %.2f, grade "
			"%.2f, store %.2f): %g/%g",
			job->id, job->assignment, job->student, job->commit ? job->commit : "-",
			gr_now() - t0, t[0] - t0, t[1] - t[0], t[2] - t[1], gr_now() - t[2], score,
			max);
done:
	kept_put_back(&kept, dir); /* the job did not end done: as it found it */
	free(kept.path);
	free(mine);
	free(result);
	free(why);
	free(gradebook);
	free(dir);
	free(dest);
	return rc;
}
