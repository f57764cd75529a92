/* kernel_json.c - notebook results: status names, JSON form, release. */
#include <stdlib.h>

#include "kernel_int.h"

const char *kernel_cell_status_name(enum kernel_cell_status st)
{
	switch (st) {
	case KERNEL_CELL_OK: return "ok";
	case KERNEL_CELL_ERROR: return "error";
	case KERNEL_CELL_TIMEOUT: return "timeout";
	case KERNEL_CELL_NOT_RUN: return "not_run";
	}
	return "?";
}

const char *kernel_status_name(enum kernel_status st)
{
	switch (st) {
	case KERNEL_NB_OK: return "ok";
	case KERNEL_NB_TIMEOUT: return "timeout";
	case KERNEL_NB_CRASHED: return "crashed";
	case KERNEL_NB_TAMPERED: return "tampered";
	case KERNEL_NB_FAILED: return "failed";
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
		json_array_append_new(rep, json_pack("{s:s,s:s}", "flag", res->flags[i].flag, "reason",
						     res->flags[i].reason));
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
