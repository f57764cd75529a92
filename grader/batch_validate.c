/*
 * batch_validate.c - prove a rubric on the instructor's own solution, as
 * `nbgrader validate` does: each notebook, as a student would hand it in if
 * every answer were the solution (the released notebook with the solution
 * cells' full source), is graded as one submission the way `grade` grades
 * one, so that what passes here passes there. The rubric's limits, preloads,
 * data files, seed and allow_* switches all apply; the sandbox is never
 * weakened.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch_int.h"
#include "grader/batch.h"
#include "grader/gradebook.h"
#include "grader/kernel.h"
#include "grader/notebook.h"
#include "grader/rubric.h"
#include "grader/sandbox.h"

struct observed {
	const struct rubric *r;
	struct rubric_validation *v;
	int rc; /* GR_ENOMEM met while observing */
};

/* The rubric's own cell with grade_id `gid` in notebook `rn` (its strings live long). */
static const struct rubric_cell *rubric_cell_of(const struct rubric_notebook *rn, const char *gid)
{
	for (size_t i = 0; gid && i < rn->ncells; i++)
		if (rn->cells[i].grade_id && !strcmp(rn->cells[i].grade_id, gid))
			return &rn->cells[i];
	return NULL;
}

static enum rubric_vstatus vstatus(enum kernel_cell_status st)
{
	return st == KERNEL_CELL_OK	   ? RUBRIC_V_OK
	       : st == KERNEL_CELL_TIMEOUT ? RUBRIC_V_TIMEOUT
	       : st == KERNEL_CELL_NOT_RUN ? RUBRIC_V_NOT_RUN
					   : RUBRIC_V_ERROR;
}

/* Every code cell of the run, its time and its error, as the kernel saw them. */
static void observe(void *ctx, size_t i, const struct nb_notebook *ran,
		    const struct kernel_result *kr)
{
	struct observed *ob = ctx;
	const struct rubric_notebook *rn = &ob->r->notebooks[i];
	struct rubric_vnotebook *vn = &ob->v->notebooks[i];

	vn->wall = kr->wall;
	if (kr->message[0] && !vn->message && !(vn->message = strdup(kr->message)))
		ob->rc = GR_ENOMEM;
	for (size_t k = 0; k < kr->ncells; k++) {
		const struct kernel_cell_result *c = &kr->cells[k];
		const struct nb_cell *nc = c->index < ran->ncells ? &ran->cells[c->index] : NULL;
		const struct rubric_cell *rc_ =
		    nc ? rubric_cell_of(rn, nc->nbgrader.grade_id) : NULL;
		struct rubric_vcell vc = {0};

		vc.number = c->index + 1;
		vc.grade_id = rc_ ? rc_->grade_id : NULL;
		vc.test = rc_ && rc_->kind == RUBRIC_TESTS;
		vc.points = vc.test ? rc_->points : 0;
		vc.status = vstatus(c->status);
		vc.ename = c->ename;
		vc.evalue = c->evalue;
		vc.note = c->note;
		vc.time = c->time;
		if (rubric_validation_add_cell(ob->v, i, &vc, NULL) < 0)
			ob->rc = GR_ENOMEM;
	}
}

/*
 * DIR/NAME for every notebook: the released notebook (what a student gets)
 * with each solution cell holding the instructor's full source; the locked
 * cells, hidden tests included, come back from the rubric when it is graded.
 */
static int write_solutions(const char *dir, const struct rubric *r, struct gr_err *err)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < r->nnotebooks; i++) {
		const struct rubric_notebook *rn = &r->notebooks[i];
		struct nb_notebook *nb = NULL;
		char *path = gr_path_join(dir, rn->name), *slash;

		if (!path)
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		rc = rubric_release_notebook(&nb, r, i, err);
		for (size_t k = 0; !rc && k < nb->ncells; k++) {
			struct nb_cell *c = &nb->cells[k];
			const struct rubric_cell *rc_ = rubric_cell_of(rn, c->nbgrader.grade_id);

			if (rc_ && rc_->solution)
				rc = nb_cell_set_source(c, rc_->source, err);
		}
		slash = strrchr(path, '/');
		if (!rc && slash > path + strlen(dir)) {
			*slash = '\0';
			rc = gr_mkdir_p(path, 0755, err);
			*slash = '/';
		}
		if (!rc)
			rc = nb_write_file(nb, path, err);
		nb_free(nb);
		free(path);
	}
	return rc;
}

/* The scores grade gave the test cells, why a notebook was not scored, and the flags. */
static int collect(struct rubric_validation *v, const struct rubric *r,
		   const struct gb_gradebook *gb, struct gr_err *err)
{
	const struct gb_submission *sub = gb->n_submissions ? gb->submissions[0] : NULL;

	for (size_t i = 0; sub && i < r->nnotebooks; i++) {
		struct rubric_vnotebook *vn = &v->notebooks[i];
		char *label = batch_notebook_label(r->notebooks[i].name);
		const struct gb_nbresult *nr = NULL;

		for (size_t n = 0; label && n < sub->n_notebooks; n++)
			if (!strcmp(sub->notebooks[n]->name, label))
				nr = sub->notebooks[n];
		free(label);
		if (!nr)
			continue;
		if (nr->status != GB_GRADED && nr->message && !vn->message &&
		    !(vn->message = strdup(nr->message)))
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		for (size_t g = 0; g < nr->n_grades; g++)
			for (size_t k = 0; k < vn->ncells; k++) {
				struct rubric_vcell *c = &vn->cells[k];

				if (c->test && !strcmp(c->grade_id, nr->grades[g]->grade_id)) {
					c->score = gb_grade_score(nr->grades[g]);
					c->points = nr->grades[g]->max_score;
				}
			}
	}
	for (size_t f = 0; sub && f < sub->n_flags; f++) {
		int rc = rubric_validation_add_flag(
		    v, sub->flags[f], gb_submission_flag_reason(sub, sub->flags[f]), err);
		if (rc)
			return rc;
	}
	return 0;
}

/* A host that cannot build the full sandbox is told once, as `grade` does. */
static int probe_sandbox(struct gr_err *err)
{
	struct sbx_config cfg;
	struct gr_err why = {0};
	sbx *probe = NULL;
	int rc;

	sbx_config_init(&cfg);
	rc = sbx_new(&probe, &cfg, &why);
	sbx_free(probe);
	if (rc)
		return gr_err_set(err, GR_ESYS, "the sandbox cannot run here: %s", why.msg);
	return 0;
}

int batch_validate(struct rubric_validation **out, const struct rubric *r, struct gr_err *err)
{
	struct rubric_validation *v = NULL;
	struct gb_gradebook *gb = NULL;
	struct batch_opts opts;
	struct observed ob = {0};
	char dir[4096];
	double start = gr_now();
	int rc, made = 0;

	if (r->is_public)
		return gr_err_set(err, GR_EINVAL,
				  "'%s' is a public rubric: it holds no solution to run", r->path);
	if ((rc = probe_sandbox(err)) || (rc = rubric_validation_new(&v, r, err)))
		return rc;
	/* beside the work folders ($TMPDIR or /tmp), where the caller looks for them */
	if ((size_t)snprintf(dir, sizeof(dir), "%s/grader-validate.XXXXXX", batch_work_parent()) >=
	    sizeof(dir)) {
		rc = gr_err_set(err, GR_EINVAL, "TMPDIR '%s' is too long", batch_work_parent());
		goto done;
	}
	if (!mkdtemp(dir)) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot make a folder in '%s'",
				batch_work_parent());
		goto done;
	}
	made = 1;
	if ((rc = write_solutions(dir, r, err)))
		goto done;
	batch_opts_init(&opts);
	ob.r = r;
	ob.v = v;
	rc = batch_grade_rubric_dir(&gb, r, &opts, dir, "solution", observe, &ob, err);
	if (!rc && ob.rc)
		rc = gr_err_set(err, ob.rc, "out of memory");
	if (!rc)
		rc = collect(v, r, gb, err);
	if (rc)
		goto done;
	v->wall = gr_now() - start;
	*out = v;
	v = NULL;
done:
	if (made)
		gr_rm_rf(dir, NULL);
	gb_free(gb);
	rubric_validation_free(v);
	return rc;
}
