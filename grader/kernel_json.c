/* kernel_json.c - notebook results: status names, JSON form, release. */
#include <stdlib.h>
#include <string.h>

#include "kernel_int.h"

const char *kernel_cell_status_name(enum kernel_cell_status st)
{
	switch (st) {
	case KERNEL_CELL_OK:
		return "ok";
	case KERNEL_CELL_ERROR:
		return "error";
	case KERNEL_CELL_TIMEOUT:
		return "timeout";
	case KERNEL_CELL_NOT_RUN:
		return "not_run";
	}
	return "?";
}

const char *kernel_status_name(enum kernel_status st)
{
	switch (st) {
	case KERNEL_NB_OK:
		return "ok";
	case KERNEL_NB_TIMEOUT:
		return "timeout";
	case KERNEL_NB_CRASHED:
		return "crashed";
	case KERNEL_NB_TAMPERED:
		return "tampered";
	case KERNEL_NB_FAILED:
		return "failed";
	}
	return "?";
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *kernel_result_json(const struct kernel_result *res)
{
	json_t *o = json_object(), *cells = json_array(), *rep = json_array();

	if (!o || !cells || !rep) {
		json_decref(o);
		json_decref(cells);
		json_decref(rep);
		return NULL;
	}
	json_object_set_new(o, "status", json_string(kernel_status_name(res->status)));
	json_object_set_new(o, "tampered", json_boolean(res->tampered));
	json_object_set_new(o, "timed_out", json_boolean(res->timed_out));
	json_object_set_new(o, "wall", json_real(res->wall));
	json_object_set_new(o, "max_rss_kb", json_integer(res->max_rss_kb));
	json_object_set_new(o, "message", json_string(res->message));
	for (size_t i = 0; i < res->nreplaced; i++)
		json_array_append_new(rep, json_string(res->replaced[i]));
	json_object_set_new(o, "replaced", rep);
	rep = json_array();
	for (size_t i = 0; rep && i < res->nflags; i++)
		json_array_append_new(rep, json_pack("{s:s,s:s}", "flag", res->flags[i].flag,
						     "reason", res->flags[i].reason));
	json_object_set_new(o, "flags", rep ? rep : json_array());
	for (size_t i = 0; i < res->ncells; i++) {
		const struct kernel_cell_result *c = &res->cells[i];
		json_t *j = json_object();

		json_object_set_new(j, "index", json_integer((json_int_t)c->index));
		json_object_set_new(j, "number", json_integer((json_int_t)c->number));
		json_object_set_new(j, "status", json_string(kernel_cell_status_name(c->status)));
		json_object_set_new(j, "ename", str_or_null(c->ename));
		json_object_set_new(j, "evalue", str_or_null(c->evalue));
		json_object_set_new(j, "traceback", str_or_null(c->traceback));
		json_object_set_new(j, "stdout", json_string(c->out ? c->out : ""));
		json_object_set_new(j, "stderr", json_string(c->err ? c->err : ""));
		json_object_set_new(j, "stdout_dropped", json_integer((json_int_t)c->out_dropped));
		json_object_set_new(j, "stderr_dropped", json_integer((json_int_t)c->err_dropped));
		json_object_set_new(j, "result", str_or_null(c->result));
		json_object_set_new(j, "note", str_or_null(c->note));
		json_object_set_new(j, "time", json_real(c->time));
		json_object_set_new(j, "outputs",
				    c->outputs ? json_incref(c->outputs) : json_array());
		json_array_append_new(cells, j);
	}
	json_object_set_new(o, "cells", cells);
	return o;
}

void kernel_result_free(struct kernel_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->ncells; i++) {
		struct kernel_cell_result *c = &res->cells[i];

		free(c->ename);
		free(c->evalue);
		free(c->traceback);
		free(c->out);
		free(c->err);
		free(c->result);
		free(c->note);
		json_decref(c->outputs);
	}
	free(res->cells);
	for (size_t i = 0; i < res->nreplaced; i++)
		free(res->replaced[i]);
	free(res->replaced);
	for (size_t i = 0; i < res->nflags; i++) {
		free(res->flags[i].flag);
		free(res->flags[i].reason);
	}
	free(res->flags);
	free(res);
}

/* Offset `off` into `s` clamped to [from, len] and moved back to a UTF-8 character start. */
static size_t cut_at(const char *s, size_t len, size_t from, json_int_t off)
{
	size_t at = off < 0 ? 0 : (size_t)off;

	if (at > len)
		at = len;
	while (at > from && at < len && ((unsigned char)s[at] & 0xc0) == 0x80)
		at--;
	return at < from ? from : at;
}

static void add_stream(json_t *outs, const char *name, const char *text, size_t from, size_t to)
{
	json_t *o;

	if (to <= from)
		return;
	o = json_object();
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "output_type", json_string("stream"));
	json_object_set_new(o, "text", json_stringn(text + from, to - from));
	json_array_append_new(outs, o);
}

static void add_display(json_t *outs, const json_t *d)
{
	json_t *o = json_object(), *data = json_object_get(d, "data");

	json_object_set_new(o, "data", json_is_object(data) ? json_deep_copy(data) : json_object());
	json_object_set_new(o, "metadata", json_object());
	json_object_set_new(o, "output_type", json_string("display_data"));
	json_array_append_new(outs, o);
}

/* "Traceback ...\nX: y\n" as nbformat's list of lines (no newlines). */
static json_t *traceback_lines(const char *tb)
{
	json_t *lines = json_array();

	while (tb && *tb) {
		const char *nl = strchr(tb, '\n');
		size_t n = nl ? (size_t)(nl - tb) : strlen(tb);

		json_array_append_new(lines, json_stringn(tb, n));
		tb += n + (nl ? 1 : 0);
	}
	return lines;
}

/*
 * Streams are split at each display so that text printed before a display()
 * comes before it, as a Jupyter kernel would have sent them; stdout and stderr
 * are captured apart, so their interleaving within one stretch is not known
 * (stdout first).
 */
json_t *kernel_cell_outputs(const struct kernel_cell_result *c, const json_t *displays)
{
	const char *out = c->out ? c->out : "", *err = c->err ? c->err : "";
	size_t olen = strlen(out), elen = strlen(err), op = 0, ep = 0, k;
	json_t *outs = json_array(), *d;

	if (!outs || c->status == KERNEL_CELL_NOT_RUN)
		return outs;
	json_array_foreach(displays, k, d)
	{
		size_t o2 = cut_at(out, olen, op, json_integer_value(json_object_get(d, "out")));
		size_t e2 = cut_at(err, elen, ep, json_integer_value(json_object_get(d, "err")));

		if (json_is_true(json_object_get(d, "post")))
			continue;
		add_stream(outs, "stdout", out, op, o2);
		add_stream(outs, "stderr", err, ep, e2);
		add_display(outs, d);
		op = o2;
		ep = e2;
	}
	add_stream(outs, "stdout", out, op, olen);
	add_stream(outs, "stderr", err, ep, elen);
	if (c->result) {
		json_t *r = json_object(), *data = json_object();

		json_object_set_new(data, "text/plain", json_string(c->result));
		json_object_set_new(r, "data", data);
		json_object_set_new(r, "execution_count", json_integer((json_int_t)c->number));
		json_object_set_new(r, "metadata", json_object());
		json_object_set_new(r, "output_type", json_string("execute_result"));
		json_array_append_new(outs, r);
	}
	json_array_foreach(displays, k, d) if (json_is_true(json_object_get(d, "post")))
	    add_display(outs, d);
	if (c->status != KERNEL_CELL_OK) {
		json_t *e = json_object();

		json_object_set_new(e, "ename", json_string(c->ename ? c->ename : "Error"));
		json_object_set_new(e, "evalue", json_string(c->evalue ? c->evalue : ""));
		json_object_set_new(e, "output_type", json_string("error"));
		json_object_set_new(e, "traceback", traceback_lines(c->traceback));
		json_array_append_new(outs, e);
	}
	return outs;
}
