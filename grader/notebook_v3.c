/*
 * notebook_v3.c - read nbformat 3 notebooks by upgrading their JSON to
 * nbformat 4 in place, as nbformat's v4 converter (and so nbgrader) does:
 * the cells of every worksheet in order, `input` and `prompt_number` of
 * code cells become `source` and `execution_count`, heading cells become
 * markdown `#` lines, html cells markdown, and outputs take their v4 names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notebook_int.h"

/* v3 output data keys and their v4 MIME types (nbformat.v4.convert). */
static const char *const mime_map[][2] = {
    {"text", "text/plain"},
    {"html", "text/html"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpeg", "image/jpeg"},
    {"latex", "text/latex"},
    {"javascript", "application/javascript"},
    {"json", "application/json"},
};

static int move_key(json_t *o, const char *from, const char *to)
{
	json_t *v = json_object_get(o, from);

	if (!v)
		return 0;
	if (json_object_set(o, to, v) < 0)
		return -1;
	return json_object_del(o, from);
}

static int upgrade_output(json_t *out)
{
	const char *type = json_string_value(json_object_get(out, "output_type"));
	json_t *data;

	if (!json_is_object(out) || !type)
		return 0;
	if (!strcmp(type, "pyerr"))
		return json_object_set_new(out, "output_type", json_string("error"));
	if (!strcmp(type, "stream"))
		return move_key(out, "stream", "name");
	if (strcmp(type, "pyout") && strcmp(type, "display_data"))
		return 0;
	if (!strcmp(type, "pyout") &&
	    (json_object_set_new(out, "output_type", json_string("execute_result")) < 0 ||
	     move_key(out, "prompt_number", "execution_count") < 0))
		return -1;
	data = json_object();
	if (!data)
		return -1;
	for (size_t i = 0; i < sizeof(mime_map) / sizeof(*mime_map); i++) {
		json_t *v = json_object_get(out, mime_map[i][0]);

		if (v && (json_object_set(data, mime_map[i][1], v) < 0 ||
			  json_object_del(out, mime_map[i][0]) < 0)) {
			json_decref(data);
			return -1;
		}
	}
	if (!json_object_get(out, "metadata"))
		json_object_set_new(out, "metadata", json_object());
	return json_object_set_new(out, "data", data);
}

/* "## Title" from a heading cell of `level` with `source` (a string or lines). */
static json_t *heading_source(json_t *source, json_int_t level)
{
	char *text = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *out;

	if (!f)
		return NULL;
	for (json_int_t i = 0; i < (level < 1 ? 1 : level > 6 ? 6 : level); i++)
		fputc('#', f);
	fputc(' ', f);
	if (json_is_string(source)) {
		fputs(json_string_value(source), f);
	} else {
		size_t i;
		json_t *line;

		json_array_foreach(source, i, line) if (json_is_string(line))
		    fputs(json_string_value(line), f);
	}
	if (fclose(f) != 0)
		return NULL;
	len = strlen(text);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	for (p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' '; /* a heading is one line */
	out = json_string(text);
	free(text);
	return out;
}

static int upgrade_cell(json_t *cell)
{
	const char *type = json_string_value(json_object_get(cell, "cell_type"));
	json_t *outs, *o;
	size_t i;

	if (!json_is_object(cell) || !type)
		return 0; /* the v4 reader then says what is wrong */
	if (!json_object_get(cell, "metadata") &&
	    json_object_set_new(cell, "metadata", json_object()) < 0)
		return -1;
	if (!strcmp(type, "heading")) {
		json_t *src = heading_source(json_object_get(cell, "source"),
					     json_integer_value(json_object_get(cell, "level")));

		if (!src || json_object_set_new(cell, "source", src) < 0)
			return -1;
		json_object_del(cell, "level");
		return json_object_set_new(cell, "cell_type", json_string("markdown"));
	}
	if (!strcmp(type, "html"))
		return json_object_set_new(cell, "cell_type", json_string("markdown"));
	if (strcmp(type, "code"))
		return 0;
	json_object_del(cell, "language");
	if (move_key(cell, "input", "source") < 0 ||
	    move_key(cell, "prompt_number", "execution_count") < 0)
		return -1;
	if (!json_object_get(cell, "execution_count"))
		json_object_set_new(cell, "execution_count", json_null());
	if (json_object_get(cell, "collapsed")) {
		json_object_set(json_object_get(cell, "metadata"), "collapsed",
				json_object_get(cell, "collapsed"));
		json_object_del(cell, "collapsed");
	}
	outs = json_object_get(cell, "outputs");
	if (!outs)
		return json_object_set_new(cell, "outputs", json_array());
	json_array_foreach(outs, i, o) if (upgrade_output(o) < 0) return -1;
	return 0;
}

int nb_upgrade_v3(json_t *root, const char *name, struct gr_err *err)
{
	json_t *cells = json_array(), *ws, *w, *meta;
	size_t i, k;

	if (!cells)
		return gr_err_set(err, GR_ENOMEM, "cannot read '%s': out of memory", name);
	ws = json_object_get(root, "worksheets");
	if (ws && !json_is_array(ws)) {
		json_decref(cells);
		return gr_err_set(
		    err, GR_EINVAL,
		    "cannot read '%s': nbformat 3 notebook whose worksheets is not a list", name);
	}
	json_array_foreach(ws, i, w)
	{
		json_t *c;

		json_array_foreach(json_object_get(w, "cells"), k,
				   c) if (upgrade_cell(c) < 0 || json_array_append(cells, c) < 0)
		{
			json_decref(cells);
			return gr_err_set(err, GR_ENOMEM, "cannot read '%s': out of memory", name);
		}
	}
	meta = json_object_get(root, "metadata");
	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(root, "metadata", meta);
	}
	json_object_del(meta, "name");
	json_object_del(meta, "signature");
	json_object_set_new(meta, "orig_nbformat", json_integer(3));
	json_object_set_new(
	    meta, "orig_nbformat_minor",
	    json_integer(json_integer_value(json_object_get(root, "nbformat_minor"))));
	json_object_del(root, "worksheets");
	if (json_object_set_new(root, "cells", cells) < 0 ||
	    json_object_set_new(root, "nbformat", json_integer(4)) < 0 ||
	    json_object_set_new(root, "nbformat_minor", json_integer(0)) < 0)
		return gr_err_set(err, GR_ENOMEM, "cannot read '%s': out of memory", name);
	return 0;
}
