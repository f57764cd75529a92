/*
 * notebook.c - reading nbformat 4 notebooks into the notebook model (see
 * include/grader/notebook.h). Edits are in notebook_edit.c, writing in
 * notebook_dump.c, percent-format scripts in notebook_script.c, opening a
 * file of either format in notebook_read.c. The model's lifecycle (nb_new,
 * nb_free) is here.
 *
 * Every input is untrusted (student files): each shape check fails with a
 * one-line message naming the file and, for cell problems, the cell (counted
 * from 1) and its grade_id when it has one.
 */
#include "grader/notebook.h"
#include "notebook_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int nb_err_one_line(int rc, struct gr_err *err)
{
	char *p;

	if (rc && err)
		for (p = err->msg; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	return rc;
}

static const char *const cell_type_names[] = {"code", "markdown", "raw"};

const char *nb_cell_type_name(enum nb_cell_type type)
{
	if ((unsigned)type >= sizeof(cell_type_names) / sizeof(cell_type_names[0]))
		return "unknown";
	return cell_type_names[type];
}

static void cells_free(struct nb_cell *cells, size_t n)
{
	size_t i;

	if (!cells)
		return;
	for (i = 0; i < n; i++)
		free(cells[i].source);
	free(cells);
}

void nb_free(struct nb_notebook *nb)
{
	if (!nb)
		return;
	cells_free(nb->cells, nb->ncells);
	json_decref(nb->root);
	free(nb->path);
	free(nb);
}

/*
 * A cell's source, string or list of strings, joined into a new heap string.
 * Lists are measured first so that a cell of a million lines costs one copy.
 */
static int join_source(char **out, const json_t *src, const char *name, size_t idx,
		       struct gr_err *err)
{
	size_t i, total = 0, used = 0;
	const json_t *line;
	char *buf;

	if (json_is_string(src)) {
		total = json_string_length(src);
		if (strlen(json_string_value(src)) != total)
			return gr_err_set(err, GR_EINVAL,
					  "'%s': cell %zu source contains a NUL character", name,
					  idx + 1);
		buf = malloc(total + 1);
		if (!buf)
			return gr_err_set(err, GR_ENOMEM, "'%s': out of memory", name);
		memcpy(buf, json_string_value(src), total + 1);
		*out = buf;
		return 0;
	}
	if (!json_is_array(src))
		return gr_err_set(err, GR_EINVAL,
				  "'%s': cell %zu source is not a string or a list of strings",
				  name, idx + 1);
	for (i = 0; i < json_array_size(src); i++) {
		line = json_array_get(src, i);
		if (!json_is_string(line))
			return gr_err_set(
			    err, GR_EINVAL,
			    "'%s': cell %zu source is not a string or a list of strings", name,
			    idx + 1);
		if (strlen(json_string_value(line)) != json_string_length(line))
			return gr_err_set(err, GR_EINVAL,
					  "'%s': cell %zu source contains a NUL character", name,
					  idx + 1);
		total += json_string_length(line);
	}
	buf = malloc(total + 1);
	if (!buf)
		return gr_err_set(err, GR_ENOMEM, "'%s': out of memory", name);
	for (i = 0; i < json_array_size(src); i++) {
		line = json_array_get(src, i);
		memcpy(buf + used, json_string_value(line), json_string_length(line));
		used += json_string_length(line);
	}
	buf[used] = '\0';
	*out = buf;
	return 0;
}

/* Read one optional boolean of metadata.nbgrader; absent means false. */
static int grader_bool(int *out, const json_t *g, const char *key, const char *name,
		       const char *where, struct gr_err *err)
{
	const json_t *v = json_object_get(g, key);

	*out = 0;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return gr_err_set(err, GR_EINVAL, "'%s': %s: nbgrader %s is not a boolean", name,
				  where, key);
	*out = json_is_true(v);
	return 0;
}

/*
 * Types are checked, values are not (the rubric module applies nbgrader's
 * rules); a negative points value is refused because no rule could use it.
 */
int nb_grader_read(struct nb_grader_meta *m, const json_t *cell, const char *name, size_t idx,
		   struct gr_err *err)
{
	const json_t *md = json_object_get(cell, "metadata"), *g, *v;
	char where[128];
	int rc;

	memset(m, 0, sizeof(*m));
	if (!md)
		return 0;
	if (!json_is_object(md))
		return gr_err_set(err, GR_EINVAL, "'%s': cell %zu metadata is not an object", name,
				  idx + 1);
	g = json_object_get(md, "nbgrader");
	if (!g)
		return 0;
	if (!json_is_object(g))
		return gr_err_set(err, GR_EINVAL,
				  "'%s': cell %zu metadata.nbgrader is not an object", name,
				  idx + 1);
	m->present = 1;
	v = json_object_get(g, "grade_id");
	if (v && !json_is_string(v))
		return gr_err_set(err, GR_EINVAL,
				  "'%s': cell %zu: nbgrader grade_id is not a string", name,
				  idx + 1);
	if (v) {
		m->grade_id = json_string_value(v);
		snprintf(where, sizeof(where), "cell %zu (grade_id '%.64s')", idx + 1, m->grade_id);
	} else {
		snprintf(where, sizeof(where), "cell %zu", idx + 1);
	}
	if ((rc = grader_bool(&m->grade, g, "grade", name, where, err)) ||
	    (rc = grader_bool(&m->solution, g, "solution", name, where, err)) ||
	    (rc = grader_bool(&m->locked, g, "locked", name, where, err)) ||
	    (rc = grader_bool(&m->task, g, "task", name, where, err)))
		return rc;
	v = json_object_get(g, "points");
	if (v) {
		if (!json_is_number(v))
			return gr_err_set(err, GR_EINVAL,
					  "'%s': %s: nbgrader points is not a number", name, where);
		m->points = json_number_value(v);
		m->has_points = 1;
		if (m->points < 0)
			return gr_err_set(err, GR_EINVAL, "'%s': %s: nbgrader points is negative",
					  name, where);
	}
	v = json_object_get(g, "checksum");
	if (v && !json_is_string(v))
		return gr_err_set(err, GR_EINVAL, "'%s': %s: nbgrader checksum is not a string",
				  name, where);
	if (v)
		m->checksum = json_string_value(v);
	v = json_object_get(g, "schema_version");
	if (v && !json_is_integer(v))
		return gr_err_set(err, GR_EINVAL,
				  "'%s': %s: nbgrader schema_version is not an integer", name,
				  where);
	if (v)
		m->schema_version = (int)json_integer_value(v);
	return 0;
}

static int read_cell(struct nb_cell *c, json_t *cell, const char *name, size_t idx,
		     struct gr_err *err)
{
	const json_t *v;
	const char *type;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(cell))
		return gr_err_set(err, GR_EINVAL, "'%s': cell %zu is not an object", name, idx + 1);
	c->json = cell;
	v = json_object_get(cell, "cell_type");
	if (!v)
		return gr_err_set(err, GR_EINVAL, "'%s': cell %zu has no cell_type", name, idx + 1);
	if (!json_is_string(v))
		return gr_err_set(err, GR_EINVAL, "'%s': cell %zu cell_type is not a string", name,
				  idx + 1);
	type = json_string_value(v);
	if (!strcmp(type, "code"))
		c->type = NB_CELL_CODE;
	else if (!strcmp(type, "markdown"))
		c->type = NB_CELL_MARKDOWN;
	else if (!strcmp(type, "raw"))
		c->type = NB_CELL_RAW;
	else
		return gr_err_set(err, GR_EINVAL, "'%s': cell %zu has unknown cell_type '%.64s'",
				  name, idx + 1, type);
	v = json_object_get(cell, "id");
	if (v && !json_is_string(v))
		return gr_err_set(err, GR_EINVAL, "'%s': cell %zu id is not a string", name,
				  idx + 1);
	c->id = v ? json_string_value(v) : NULL;
	if ((rc = nb_grader_read(&c->nbgrader, cell, name, idx, err)))
		return rc;
	v = json_object_get(cell, "source");
	if (!v)
		return gr_err_set(err, GR_EINVAL, "'%s': cell %zu has no source", name, idx + 1);
	return join_source(&c->source, v, name, idx, err);
}

/* Build a fresh cells array from root's "cells" (checked to be an array). */
static int build_cells(struct nb_cell **out, size_t *nout, json_t *root, const char *name,
		       struct gr_err *err)
{
	json_t *arr = json_object_get(root, "cells"), *cell;
	struct nb_cell *cells = NULL;
	size_t i, n;
	int rc = 0;

	if (!arr)
		return gr_err_set(err, GR_EINVAL, "cannot read '%s': no cells array", name);
	if (!json_is_array(arr))
		return gr_err_set(err, GR_EINVAL, "cannot read '%s': cells is not an array", name);
	n = json_array_size(arr);
	if (n > NB_MAX_CELLS)
		return gr_err_set(err, GR_ELIMIT, "cannot read '%s': more than %u cells", name,
				  NB_MAX_CELLS);
	if (n) {
		cells = calloc(n, sizeof(*cells));
		if (!cells)
			return gr_err_set(err, GR_ENOMEM, "'%s': out of memory", name);
	}
	for (i = 0; i < n; i++) {
		cell = json_array_get(arr, i);
		if ((rc = read_cell(&cells[i], cell, name, i, err))) {
			cells_free(cells, i + 1);
			return rc;
		}
	}
	*out = cells;
	*nout = n;
	return 0;
}

int nb_reindex(struct nb_notebook *nb, struct gr_err *err)
{
	struct nb_cell *cells = NULL;
	size_t n = 0;
	int rc;

	if ((rc = build_cells(&cells, &n, nb->root, nb->path, err)))
		return nb_err_one_line(rc, err);
	cells_free(nb->cells, nb->ncells);
	nb->cells = cells;
	nb->ncells = n;
	return 0;
}

int nb_from_root(struct nb_notebook **out, json_t *root, const char *name, struct gr_err *err)
{
	struct nb_notebook *nb = NULL;
	const json_t *v;
	int rc = 0;

	if (!json_is_object(root)) {
		rc = gr_err_set(err, GR_EINVAL,
				"cannot read '%s': not a notebook (the top level is not an object)",
				name);
		goto done;
	}
	v = json_object_get(root, "nbformat");
	if (!v) {
		rc = gr_err_set(err, GR_EINVAL,
				"cannot read '%s': not an nbformat 4 notebook (no nbformat field)",
				name);
		goto done;
	}
	if (!json_is_integer(v) || json_integer_value(v) != 4) {
		if (json_is_integer(v))
			rc = gr_err_set(err, GR_EINVAL,
					"cannot read '%s': not an nbformat 4 notebook "
					"(nbformat is %" JSON_INTEGER_FORMAT ")",
					name, json_integer_value(v));
		else
			rc = gr_err_set(err, GR_EINVAL,
					"cannot read '%s': not an nbformat 4 notebook "
					"(nbformat is not an integer)",
					name);
		goto done;
	}
	v = json_object_get(root, "nbformat_minor");
	if (v &&
	    (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000)) {
		rc = gr_err_set(err, GR_EINVAL,
				"cannot read '%s': nbformat_minor is not a small integer", name);
		goto done;
	}
	nb = calloc(1, sizeof(*nb));
	if (!nb || !(nb->path = strdup(name))) {
		rc = gr_err_set(err, GR_ENOMEM, "cannot read '%s': out of memory", name);
		goto done;
	}
	nb->nbformat_minor = v ? (int)json_integer_value(v) : 0;
	nb->root = root;
	root = NULL;
	if ((rc = nb_reindex(nb, err)))
		goto done;
	*out = nb;
	nb = NULL;
done:
	json_decref(root);
	nb_free(nb);
	return rc;
}

/*
 * Python's json module writes NaN, Infinity and -Infinity for non-finite
 * floats (outputs of pandas or plotting libraries hold them), which jansson
 * refuses. Copy the text with those bare tokens (outside strings) replaced
 * by null, or return NULL when there is none (or no memory).
 */
static char *nonfinite_to_null(const char *data, size_t len, size_t *outlen)
{
	char *buf = NULL;
	size_t i = 0, n = 0, hits = 0;
	int in_str = 0;

	if (!memmem(data, len, "NaN", 3) && !memmem(data, len, "Infinity", 8))
		return NULL;
	/* every replacement is shorter than or one byte longer than its token */
	buf = malloc(len + len / 3 + 2);
	if (!buf)
		return NULL;
	while (i < len) {
		char c = data[i];
		if (in_str) {
			buf[n++] = c;
			if (c == '\\' && i + 1 < len)
				buf[n++] = data[++i];
			else if (c == '"')
				in_str = 0;
			i++;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (len - i >= 3 && !memcmp(data + i, "NaN", 3)) {
			memcpy(buf + n, "null", 4);
			n += 4;
			i += 3;
			hits++;
			continue;
		} else if (len - i >= 9 && !memcmp(data + i, "-Infinity", 9)) {
			memcpy(buf + n, "null", 4);
			n += 4;
			i += 9;
			hits++;
			continue;
		} else if (len - i >= 8 && !memcmp(data + i, "Infinity", 8)) {
			memcpy(buf + n, "null", 4);
			n += 4;
			i += 8;
			hits++;
			continue;
		}
		buf[n++] = c;
		i++;
	}
	if (!hits) {
		free(buf);
		return NULL;
	}
	*outlen = n;
	return buf;
}

/*
 * Count array items and object members (commas and openings outside
 * strings, an upper bound) to refuse memory bombs before jansson builds
 * them; small texts cannot hold enough values to need the scan.
 */
static int too_many_values(const char *data, size_t len)
{
	size_t i, count = 0;
	int in_str = 0;

	if (len / 2 < NB_MAX_VALUES)
		return 0;
	for (i = 0; i < len; i++) {
		char c = data[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == ',' || c == '[' || c == '{') {
			if (++count > NB_MAX_VALUES)
				return 1;
		}
	}
	return 0;
}

int nb_text_prepare(const char **data, size_t *len, const char *name, struct gr_err *err)
{
	if (*len > NB_MAX_FILE)
		return gr_err_set(err, GR_ELIMIT, "cannot read '%s': larger than %u bytes", name,
				  NB_MAX_FILE);
	if (*len >= 3 && !memcmp(*data, "\xef\xbb\xbf", 3)) {
		*data += 3;
		*len -= 3;
	}
	return 0;
}

static int parse_json(struct nb_notebook **out, const char *data, size_t len, const char *name,
		      struct gr_err *err)
{
	json_error_t jerr;
	json_t *root;

	if (!name)
		name = "<notebook>";
	if (nb_text_prepare(&data, &len, name, err))
		return GR_ELIMIT;
	if (too_many_values(data, len))
		return gr_err_set(err, GR_ELIMIT, "cannot read '%s': more than %u JSON values",
				  name, NB_MAX_VALUES);
	root = json_loadb(data, len, JSON_ALLOW_NUL, &jerr);
	if (!root && json_error_code(&jerr) == json_error_invalid_syntax) {
		size_t fixed_len = 0;
		char *fixed = nonfinite_to_null(data, len, &fixed_len);
		json_error_t again;
		if (fixed)
			root = json_loadb(fixed, fixed_len, JSON_ALLOW_NUL, &again);
		free(fixed);
	}
	if (!root) {
		switch (json_error_code(&jerr)) {
		case json_error_out_of_memory:
			return gr_err_set(err, GR_ENOMEM, "cannot read '%s': out of memory", name);
		case json_error_invalid_utf8:
			return gr_err_set(err, GR_EINVAL,
					  "cannot read '%s': not valid UTF-8 at line %d column %d",
					  name, jerr.line, jerr.column);
		case json_error_stack_overflow:
			return gr_err_set(err, GR_EINVAL,
					  "cannot read '%s': JSON nested too deeply at line %d "
					  "column %d (limit %d levels)",
					  name, jerr.line, jerr.column, JSON_PARSER_MAX_DEPTH);
		default:
			return gr_err_set(
			    err, GR_EINVAL,
			    "cannot read '%s': not valid JSON at line %d column %d: %s", name,
			    jerr.line, jerr.column, jerr.text);
		}
	}
	return nb_from_root(out, root, name, err);
}

int nb_parse(struct nb_notebook **out, const char *data, size_t len, const char *name,
	     struct gr_err *err)
{
	return nb_err_one_line(parse_json(out, data, len, name, err), err);
}

int nb_new(struct nb_notebook **out, const char *name, struct gr_err *err)
{
	json_t *root;

	if (!name)
		name = "<notebook>";
	root = json_pack("{s:[], s:{s:{s:s, s:s, s:s}, s:{s:s}}, s:i, s:i}", "cells", "metadata",
			 "kernelspec", "display_name", "Python 3", "language", "python", "name",
			 "python3", "language_info", "name", "python", "nbformat", 4,
			 "nbformat_minor", 5);
	if (!root)
		return gr_err_set(err, GR_ENOMEM, "'%s': out of memory", name);
	return nb_from_root(out, root, name, err);
}
