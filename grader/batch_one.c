/*
 * batch_one.c - one submission at a time in this process's own zygote: a
 * folder (grader ci, a rubric's validation) and a warm worker that grades
 * submission after submission (grader serve).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_int.h"
#include "grader/batch.h"
#include "grader/gradebook.h"
#include "grader/rubric.h"

/*
 * One folder graded in this process's own zygote. r->opts and r->rubric are
 * set, and r->grader's data_optional and observe; the rubric stays the caller's.
 */
static int grade_dir(struct gb_gradebook **out, struct batch_ctx *r, const char *dir,
		     const char *student, struct gr_err *err)
{
	struct batch_item it = {0};
	struct gb_submission *sub = NULL;
	struct gb_student *s;
	int rc, started = 0;

	it.student_id = (char *)student;
	it.path = (char *)dir;
	it.journal_off = -1;
	rc = batch_header_from_rubric(r, err);
	if (!rc && gb_add_student(r->header, &s, student))
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	if (!rc)
		rc = batch_hash_tree(it.tree, dir, err);
	if (!rc)
		rc = batch_setup_grader(r, err);
	if (rc)
		goto done;
	started = 1;
	rc = batch_worker_init(r, 0, err);
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
		batch_worker_fini(r);
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
	struct batch_ctx r = {0};
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
	struct batch_ctx r = {0};

	r.opts = opts;
	/* only read: batch_setup_grader and batch_header_from_rubric take what they need */
	r.rubric = (struct rubric *)rubric;
	r.grader.observe = observe;
	r.grader.observe_ctx = observe_ctx;
	return grade_dir(out, &r, dir, student, err);
}

/* ---- a warm zygote, one submission at a time (grader serve) -------------- */

struct batch_warm {
	struct batch_ctx r;
	struct batch_opts opts; /* r.opts points here */
	char *rubric_path;
	char key[65];	   /* batch_rubric_key: the journal's key of this rubric's results */
	char file_sha[65]; /* the rubric file as loaded */
	int started;
};

void batch_warm_free(struct batch_warm *w)
{
	if (!w)
		return;
	if (w->started)
		batch_worker_fini(&w->r);
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
		rc = batch_rubric_key(w->key, &w->opts, err);
	if (!rc)
		rc = batch_header_from_rubric(&w->r, err);
	if (!rc)
		rc = batch_setup_grader(&w->r, err);
	if (!rc) {
		w->started = 1;
		rc = batch_worker_init(&w->r, slot, err);
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
