/*
 * batch_autograded.c - the autograded notebooks nbgrader's autograde leaves
 * behind: autograded/{student}/{assignment}/{notebook}.ipynb is the notebook
 * that was run (the student's answers, the rubric's test and locked cells
 * with their hidden tests and nbgrader metadata) with every code cell's
 * outputs and execution count, beside the student's timestamp.txt.
 * nbgrader's generate_feedback and formgrader read these files.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch_int.h"
#include "grader/fetch.h"
#include "grader/kernel.h"
#include "grader/notebook.h"
#include "grader/rubric.h"

char *batch_autograded_dir(const struct batch_grader *g, const char *student)
{
	char *s, *dir;

	if (!g->autograded)
		return NULL;
	s = gr_path_join(g->autograded, student);
	dir = s ? gr_path_join(s, g->rubric->assignment) : NULL;
	free(s);
	return dir;
}

int batch_autograded_begin(const struct batch_grader *g, const struct batch_item *it,
			   struct gr_err *err)
{
	char *dir = batch_autograded_dir(g, it->student_id), *src = NULL, *dst = NULL;
	int rc;

	if (!g->autograded)
		return 0;
	if (!dir)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	/* what an earlier run left must not outlive this one (as nbgrader's autograde) */
	rc = gr_rm_rf(dir, err);
	if (!rc)
		rc = gr_mkdir_p(dir, 0755, err);
	if (rc)
		goto done;
	src = gr_path_join(it->path, FETCH_TIMESTAMP_NAME);
	dst = gr_path_join(dir, FETCH_TIMESTAMP_NAME);
	if (!src || !dst) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	if (access(src, F_OK) == 0)
		rc = gr_copy_file(src, dst, 0644, err);
done:
	free(src);
	free(dst);
	free(dir);
	return rc;
}

static const struct kernel_cell_result *result_of(const struct kernel_result *kr, size_t index)
{
	for (size_t i = 0; i < kr->ncells; i++)
		if (kr->cells[i].index == index)
			return &kr->cells[i];
	return NULL;
}

int batch_autograded_write(const struct batch_grader *g, const struct batch_item *it,
			   const char *name, struct nb_notebook *nb, const struct kernel_result *kr,
			   struct gr_err *err)
{
	char *dir = NULL, *path = NULL;
	int rc = 0;

	if (!g->autograded)
		return 0;
	for (size_t i = 0; i < nb->ncells; i++) {
		const struct kernel_cell_result *c;
		json_t *cell = nb->cells[i].json;

		if (nb->cells[i].type != NB_CELL_CODE)
			continue;
		c = result_of(kr, i);
		if (json_object_set_new(cell, "outputs",
					c && c->outputs ? json_deep_copy(c->outputs)
							: json_array()) ||
		    json_object_set_new(cell, "execution_count",
					c && c->status != KERNEL_CELL_NOT_RUN
					    ? json_integer((json_int_t)c->number)
					    : json_null()))
			return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	dir = batch_autograded_dir(g, it->student_id);
	path = dir ? gr_path_join(dir, name) : NULL;
	if (!path) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	*strrchr(path, '/') = '\0'; /* a notebook in a sub-folder gets its folder */
	rc = gr_mkdir_p(path, 0755, err);
	path[strlen(path)] = '/';
	if (!rc)
		rc = nb_write_file(nb, path, err);
done:
	free(path);
	free(dir);
	return rc;
}
