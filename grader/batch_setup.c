/*
 * batch_setup.c - what every way of grading (batch_run, a folder, a warm
 * worker) sets up from the rubric: the gradebook's header, the zygote's
 * options, a worker's own zygote and work folder, and the journal's key.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_int.h"
#include "grader/gradebook.h"
#include "grader/kernel.h"
#include "grader/rubric.h"

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

int batch_header_from_rubric(struct batch_ctx *r, struct gr_err *err)
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

/* What each worker's zygote needs, taken from the rubric. */
int batch_setup_grader(struct batch_ctx *r, struct gr_err *err)
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

/* Where work directories go: $TMPDIR when it is an absolute path, else /tmp. */
const char *batch_work_parent(void)
{
	const char *tmp = getenv("TMPDIR");

	return tmp && tmp[0] == '/' ? tmp : "/tmp";
}

int batch_worker_init(void *ctx, unsigned slot, struct gr_err *err)
{
	struct batch_ctx *r = ctx;
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
	rc = gr_workdir_make(&r->work, batch_work_parent(), "grader-work", err);
	if (rc)
		return rc;
	if (r->work.warning[0])
		fprintf(stderr, "grader grade: warning: %s\n", r->work.warning);
	r->grader.scratch = strdup(r->work.path);
	if (!r->grader.scratch)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	return 0;
}

void batch_worker_fini(void *ctx)
{
	struct batch_ctx *r = ctx;

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

/*
 * The key of the journal's entries (64 hex digits): it changes with the
 * rubric's text, the grader itself and the options that change a score
 * (--late-unknown).
 */
int batch_rubric_key(char out[65], const struct batch_opts *opts, struct gr_err *err)
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
