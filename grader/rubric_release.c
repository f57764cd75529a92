/*
 * rubric_release.c - what students get from a rubric: the released notebooks
 * with their data files, and the public rubric for their own CI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rubric_int.h"

/* metadata.nbgrader of a released cell, as nbgrader's generate_assignment writes it. */
static int released_meta(json_t **out, const struct rubric_cell *c, const char *source,
			 struct gr_err *err)
{
	struct nb_grader_meta m = {0};
	char sum[33];
	json_t *g = NULL;
	int rc;

	m.present = 1;
	m.schema_version = 3;
	m.grade = c->grade;
	m.solution = c->solution;
	m.locked = c->locked;
	m.task = c->task;
	m.grade_id = c->grade_id;
	m.has_points = c->grade || c->task;
	m.points = c->points;
	if (c->grade || c->solution || c->locked) {
		rubric_checksum(sum, source, c->type, c->grade, c->solution, c->locked, c->grade_id,
				c->points);
		m.checksum = sum;
	}
	if ((rc = nb_grader_meta_to_json(&g, &m, err)))
		return rc;
	/* nbgrader writes no "task" where the instructor's cell had none (nor the rubric) */
	if (!c->task && !json_object_get(c->json, "task"))
		json_object_del(g, "task");
	if (m.checksum &&
	    json_object_set_new(g, "cell_type", json_string(nb_cell_type_name(c->type)))) {
		json_decref(g);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	*out = g;
	return 0;
}

/* A cell object with the rubric cell's metadata, `source` and nbgrader role. */
static int build_cell(json_t **out, const struct rubric_cell *c, const char *source, int release,
		      struct gr_err *err)
{
	json_t *cell = NULL, *md, *g = NULL, *att;
	int rc;

	if ((rc = nb_cell_new(&cell, c->type, source, c->id, NULL, err)))
		return rc;
	md = json_deep_copy(json_object_get(c->json, "metadata"));
	if (!md)
		md = json_object();
	if (!md || json_object_set_new(cell, "metadata", md))
		goto nomem;
	/* nbgrader's ClearOutput drops the view state with the outputs */
	json_object_del(md, "scrolled");
	json_object_del(md, "collapsed");
	att = json_object_get(c->json, "attachments");
	if (att && json_object_set(cell, "attachments", att))
		goto nomem;
	if (c->kind == RUBRIC_PLAIN)
		goto ok;
	if ((rc = released_meta(&g, c, source, err)))
		goto fail;
	if (!release) {
		/* grading copy: nbgrader's OverwriteCells stores the gradebook checksum */
		if (json_object_set_new(g, "checksum", json_string(c->checksum)))
			goto nomem;
	}
	if (json_object_set_new(md, "nbgrader", g))
		goto nomem;
	/* nbgrader's LockCells */
	if (c->solution) {
		if (json_object_set_new(md, "deletable", json_false()))
			goto nomem;
	} else if (c->grade || c->locked) {
		if (json_object_set_new(md, "deletable", json_false()) ||
		    json_object_set_new(md, "editable", json_false()))
			goto nomem;
	}
ok:
	*out = cell;
	return 0;
nomem:
	rc = gr_err_set(err, GR_ENOMEM, "out of memory");
fail:
	json_decref(cell);
	return rc;
}

int rubric_cell_json(json_t **out, const struct rubric_cell *c, const char *source, int release,
		     struct gr_err *err)
{
	return build_cell(out, c, source, release, err);
}

int rubric_release_notebook(struct nb_notebook **out, const struct rubric *r, size_t i,
			    struct gr_err *err)
{
	const struct rubric_notebook *rn = &r->notebooks[i];
	struct nb_notebook *nb = NULL;
	json_t *md, *minor;
	int rc;

	if ((rc = nb_new(&nb, rn->name, err)))
		return rc;
	md = json_object_get(rn->json, "metadata");
	minor = json_object_get(rn->json, "nbformat_minor");
	if ((md && json_object_set_new(nb->root, "metadata", json_deep_copy(md))) ||
	    (minor && json_object_set(nb->root, "nbformat_minor", minor))) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = nb_reindex(nb, err)))
		goto done;
	nb->nbformat_minor = minor ? (int)json_integer_value(minor) : 5;
	for (size_t k = 0; k < rn->ncells; k++) {
		char *src = NULL;
		json_t *cell = NULL;

		if ((rc = rubric_released_source(&src, &rn->cells[k], err)))
			goto done;
		rc = build_cell(&cell, &rn->cells[k], src, 1, err);
		free(src);
		if (rc)
			goto done;
		rc = nb_insert_cell(nb, nb->ncells, cell, err);
		json_decref(cell);
		if (rc)
			goto done;
	}
	*out = nb;
	nb = NULL;
done:
	nb_free(nb);
	return rc;
}

/* Copy a data file from beside the rubric to `dir`, checking its sha256. */
static int copy_file(const struct rubric *r, const struct rubric_file *f, const char *dir,
		     struct gr_err *err)
{
	char *src = NULL, *dst = NULL, *data = NULL, *slash;
	char sha[65];
	size_t len = 0;
	int rc;

	src = f->path[0] == '/' ? strdup(f->path) : gr_path_join(r->dir, f->path);
	dst = gr_path_join(dir, f->target);
	if (!src || !dst) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = gr_read_file(&data, &len, src, 0, err)))
		goto done;
	gr_sha256_hex(sha, data, len);
	if (strcmp(sha, f->sha256)) {
		rc =
		    gr_err_set(err, GR_EINVAL,
			       "data file '%s' changed since the rubric was made (sha256 %.12s..., "
			       "rubric says %.12s...)",
			       src, sha, f->sha256);
		goto done;
	}
	slash = strrchr(dst, '/');
	*slash = '\0';
	rc = gr_mkdir_p(dst, 0755, err);
	*slash = '/';
	if (!rc)
		rc = gr_write_file_atomic(dst, data, len, err);
done:
	free(data);
	free(src);
	free(dst);
	return rc;
}

int rubric_release(const struct rubric *r, const char *dir, struct gr_err *err)
{
	int rc;

	if ((rc = gr_mkdir_p(dir, 0755, err)))
		return rc;
	for (size_t i = 0; i < r->nnotebooks; i++) {
		struct nb_notebook *nb = NULL;
		char *path = gr_path_join(dir, r->notebooks[i].name), *slash;

		if (!path)
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		slash = strrchr(path, '/');
		*slash = '\0';
		rc = gr_mkdir_p(path, 0755, err);
		*slash = '/';
		if (!rc)
			rc = rubric_release_notebook(&nb, r, i, err);
		if (!rc)
			rc = nb_write_file(nb, path, err);
		nb_free(nb);
		free(path);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < r->nfiles; i++)
		if ((rc = copy_file(r, &r->files[i], dir, err)))
			return rc;
	return 0;
}

int rubric_public(struct rubric **out, const struct rubric *r, struct gr_err *err)
{
	json_t *root = json_deep_copy(r->root);
	int rc = 0;

	if (!root)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->nnotebooks; i++) {
		json_t *cells =
		    json_object_get(json_array_get(json_object_get(root, "notebooks"), i), "cells");

		for (size_t k = 0; k < r->notebooks[i].ncells; k++) {
			json_t *c = json_array_get(cells, k);
			char *src = NULL;

			if ((rc = rubric_released_source(&src, &r->notebooks[i].cells[k], err)))
				goto done;
			json_object_del(c, "checksum");
			/* students' CI says which tests have more to come when graded */
			if (rubric_has_hidden_tests(r->notebooks[i].cells[k].source) &&
			    json_object_set_new(c, "hidden_tests", json_true())) {
				free(src);
				rc = gr_err_set(err, GR_ENOMEM, "out of memory");
				goto done;
			}
			if (json_object_set_new(c, "source", json_string(src))) {
				free(src);
				rc = gr_err_set(err, GR_ENOMEM, "out of memory");
				goto done;
			}
			free(src);
		}
	}
	if (json_object_set_new(root, "public", json_true())) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	rc = rubric_from_json(out, root, r->path, err);
done:
	json_decref(root);
	return rc;
}
