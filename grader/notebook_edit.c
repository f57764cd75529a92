/*
 * notebook_edit.c - editing the notebook model: new notebooks and cells,
 * copies, sources, nbgrader metadata, inserting and removing cells (see
 * include/grader/notebook.h). Every edit goes to the JSON first and the
 * cells array is re-read from it, so the two never disagree.
 */
#include "grader/notebook.h"
#include "notebook_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nb_copy(struct nb_notebook **out, const struct nb_notebook *nb, struct gr_err *err)
{
	struct nb_notebook *copy = NULL;
	json_t *root = json_deep_copy(nb->root);
	int rc;

	if (!root)
		return gr_err_set(err, GR_ENOMEM, "cannot copy '%s': out of memory", nb->path);
	if ((rc = nb_from_root(&copy, root, nb->path, err)))
		return rc;
	copy->from_script = nb->from_script;
	*out = copy;
	return 0;
}

struct nb_cell *nb_find_cell(const struct nb_notebook *nb, const char *grade_id)
{
	size_t i;

	for (i = nb->ncells; i-- > 0;) {
		const char *gid = nb->cells[i].nbgrader.grade_id;
		if (gid && !strcmp(gid, grade_id))
			return &nb->cells[i];
	}
	return NULL;
}

int nb_cell_set_source(struct nb_cell *cell, const char *source, struct gr_err *err)
{
	json_t *str;
	char *copy;

	str = json_string(source);
	if (!str)
		return gr_err_set(err, GR_EINVAL, "cannot set cell source: not valid UTF-8");
	copy = strdup(source);
	if (!copy) {
		json_decref(str);
		return gr_err_set(err, GR_ENOMEM, "cannot set cell source: out of memory");
	}
	if (json_object_set_new(cell->json, "source", str)) {
		free(copy);
		return gr_err_set(err, GR_ENOMEM, "cannot set cell source: out of memory");
	}
	free(cell->source);
	cell->source = copy;
	return 0;
}

int nb_grader_meta_to_json(json_t **out, const struct nb_grader_meta *m, struct gr_err *err)
{
	json_t *g = json_object(), *pts = NULL;
	int bad = !g;

	if (g) {
		bad |= json_object_set_new(g, "schema_version",
					   json_integer(m->schema_version ? m->schema_version : 3));
		bad |= json_object_set_new(g, "grade", json_boolean(m->grade));
		bad |= json_object_set_new(g, "solution", json_boolean(m->solution));
		bad |= json_object_set_new(g, "locked", json_boolean(m->locked));
		bad |= json_object_set_new(g, "task", json_boolean(m->task));
		if (m->grade_id)
			bad |= json_object_set_new(g, "grade_id", json_string(m->grade_id));
		if (m->has_points) {
			/* nbgrader's editor stores whole points as integers. */
			if (m->points == (double)(json_int_t)m->points)
				pts = json_integer((json_int_t)m->points);
			else
				pts = json_real(m->points);
			bad |= json_object_set_new(g, "points", pts);
		}
		if (m->checksum)
			bad |= json_object_set_new(g, "checksum", json_string(m->checksum));
	}
	if (bad) {
		json_decref(g);
		return gr_err_set(err, GR_EINVAL,
				  "cannot build nbgrader metadata: out of memory or invalid UTF-8");
	}
	*out = g;
	return 0;
}

/*
 * Keys of the old metadata.nbgrader that the model does not hold (such as
 * the "cell_type" nbgrader stores next to a checksum) survive a rewrite;
 * a new checksum gets its "cell_type" as nbgrader's checksum step adds it.
 */
static int keep_extra_keys(json_t *g, const json_t *old, const json_t *cell)
{
	static const char *const modeled[] = {"schema_version", "grade",    "solution", "locked",
					      "task",		"grade_id", "points",	"checksum"};
	const char *key;
	void *it;
	size_t i;
	int known;

	if (json_is_object(old)) {
		for (it = json_object_iter((json_t *)old); it;
		     it = json_object_iter_next((json_t *)old, it)) {
			key = json_object_iter_key(it);
			for (i = 0, known = 0; i < sizeof(modeled) / sizeof(modeled[0]); i++)
				known |= !strcmp(key, modeled[i]);
			if (!known && json_object_set(g, key, json_object_iter_value(it)))
				return GR_ENOMEM;
		}
	}
	if (json_object_get(g, "checksum") && !json_object_get(g, "cell_type") &&
	    json_is_string(json_object_get(cell, "cell_type")))
		return json_object_set(g, "cell_type", json_object_get(cell, "cell_type"))
			   ? GR_ENOMEM
			   : 0;
	return 0;
}

int nb_cell_set_grader(struct nb_cell *cell, const struct nb_grader_meta *meta, struct gr_err *err)
{
	json_t *md, *g = NULL;
	struct nb_grader_meta fresh;
	int rc;

	if (meta && meta->present && meta->has_points && !(meta->points >= 0))
		return gr_err_set(err, GR_EINVAL,
				  "cannot set nbgrader metadata: points is negative");
	md = json_object_get(cell->json, "metadata");
	if (!json_is_object(md)) {
		md = json_object();
		if (!md || json_object_set_new(cell->json, "metadata", md))
			return gr_err_set(err, GR_ENOMEM,
					  "cannot set cell metadata: out of memory");
	}
	if (meta && meta->present) {
		if ((rc = nb_grader_meta_to_json(&g, meta, err)))
			return rc;
		if (keep_extra_keys(g, json_object_get(md, "nbgrader"), cell->json)) {
			json_decref(g);
			return gr_err_set(err, GR_ENOMEM,
					  "cannot set cell metadata: out of memory");
		}
		if (json_object_set_new(md, "nbgrader", g))
			return gr_err_set(err, GR_ENOMEM,
					  "cannot set cell metadata: out of memory");
	} else {
		json_object_del(md, "nbgrader");
	}
	if ((rc = nb_grader_read(&fresh, cell->json, "<cell>", 0, err)))
		return rc;
	cell->nbgrader = fresh;
	return 0;
}

int nb_cell_new(json_t **out, enum nb_cell_type type, const char *source, const char *id,
		const struct nb_grader_meta *meta, struct gr_err *err)
{
	json_t *cell = NULL, *md = NULL, *g = NULL;
	int rc = 0, bad;

	if ((unsigned)type > NB_CELL_RAW)
		return gr_err_set(err, GR_EINVAL, "cannot create cell: unknown cell type %d",
				  (int)type);
	cell = json_object();
	md = json_object();
	bad = !cell || !md;
	if (!bad && meta && meta->present) {
		if ((rc = nb_grader_meta_to_json(&g, meta, err)))
			goto done;
		if (meta->checksum)
			bad |= json_object_set_new(g, "cell_type",
						   json_string(nb_cell_type_name(type)));
		bad |= json_object_set_new(md, "nbgrader", g);
	}
	if (!bad) {
		bad |= json_object_set_new(cell, "cell_type", json_string(nb_cell_type_name(type)));
		bad |= json_object_set(cell, "metadata", md);
		bad |= json_object_set_new(cell, "source", json_string(source ? source : ""));
		if (id)
			bad |= json_object_set_new(cell, "id", json_string(id));
		if (type == NB_CELL_CODE) {
			bad |= json_object_set_new(cell, "execution_count", json_null());
			bad |= json_object_set_new(cell, "outputs", json_array());
		}
	}
	if (bad) {
		rc = gr_err_set(err, GR_EINVAL,
				"cannot create cell: out of memory or source not valid UTF-8");
		goto done;
	}
	*out = cell;
	cell = NULL;
done:
	json_decref(md);
	json_decref(cell);
	return rc;
}

/*
 * A fresh cell id: 8 hex digits (the length Jupyter uses) from the md5 of
 * the source and a counter, so that ids are reproducible across runs.
 */
static int fresh_id(char out[9], const struct nb_notebook *nb, const json_t *cell)
{
	const json_t *src = json_object_get(cell, "source");
	const char *s = json_is_string(src) ? json_string_value(src) : "";
	char *buf = NULL, hex[33];
	unsigned k;
	size_t i;
	int n, taken;

	for (k = 0; k < 100000; k++) {
		n = asprintf(&buf, "%u:%s", k, s);
		if (n < 0)
			return GR_ENOMEM;
		gr_md5_hex(hex, buf, (size_t)n);
		free(buf);
		memcpy(out, hex, 8);
		out[8] = '\0';
		taken = 0;
		for (i = 0; i < nb->ncells && !taken; i++)
			taken = nb->cells[i].id && !strcmp(nb->cells[i].id, out);
		if (!taken)
			return 0;
	}
	return GR_ELIMIT;
}

int nb_insert_cell(struct nb_notebook *nb, size_t at, json_t *cell, struct gr_err *err)
{
	json_t *arr = json_object_get(nb->root, "cells"), *copy;
	char id[9];
	int rc;

	if (!json_is_array(arr) || at > json_array_size(arr))
		return gr_err_set(err, GR_EINVAL, "'%s': cannot insert a cell at %zu of %zu",
				  nb->path, at + 1, json_array_size(arr));
	if (!json_is_object(cell))
		return gr_err_set(err, GR_EINVAL,
				  "'%s': cannot insert a cell that is not an object", nb->path);
	copy = json_deep_copy(cell);
	if (!copy)
		return gr_err_set(err, GR_ENOMEM, "'%s': out of memory", nb->path);
	if (nb->nbformat_minor >= 5 && !json_object_get(copy, "id")) {
		if ((rc = fresh_id(id, nb, copy)) ||
		    json_object_set_new(copy, "id", json_string(id))) {
			json_decref(copy);
			return gr_err_set(err, GR_ENOMEM, "'%s': cannot make a cell id", nb->path);
		}
	}
	if (json_array_insert_new(arr, at, copy))
		return gr_err_set(err, GR_ENOMEM, "'%s': out of memory", nb->path);
	if ((rc = nb_reindex(nb, err))) {
		json_array_remove(arr, at);
		return rc;
	}
	return 0;
}

int nb_remove_cell(struct nb_notebook *nb, size_t at, struct gr_err *err)
{
	json_t *arr = json_object_get(nb->root, "cells");

	if (!json_is_array(arr) || at >= json_array_size(arr))
		return gr_err_set(err, GR_ENOTFOUND, "'%s': no cell %zu to remove", nb->path,
				  at + 1);
	json_array_remove(arr, at);
	return nb_reindex(nb, err);
}
