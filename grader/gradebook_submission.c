/*
 * gradebook_submission.c - one submission to and from JSON: the unit the
 * batch grader journals and gb_writer streams.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradebook_int.h"

/* ---- submissions --------------------------------------------------------- */

static json_t *grade_to_json(const struct gb_grade *g)
{
	json_t *o = json_object(), *out = json_object();
	bool ok = o && out;

	if (ok) {
		gb_jput(out, "stdout", gb_jstr(g->output.stdout_text), &ok);
		gb_jput(out, "stderr", gb_jstr(g->output.stderr_text), &ok);
		gb_jput(out, "traceback", gb_jstr(g->output.traceback), &ok);
		gb_jput(out, "truncated", json_boolean(g->output.truncated), &ok);
		if (g->output.after_hidden)
			gb_jput(out, "after_hidden_tests", json_true(), &ok);
		gb_jput(o, "grade_id", gb_jstr(g->grade_id), &ok);
		gb_jput(o, "max_score", json_real(g->max_score), &ok);
		gb_jput(o, "auto_score", gb_jnum(g->auto_score), &ok);
		gb_jput(o, "manual_score", gb_jnum(g->manual_score), &ok);
		gb_jput(o, "extra_credit", gb_jnum(g->extra_credit), &ok);
		gb_jput(o, "needs_manual_grade", json_boolean(g->needs_manual_grade), &ok);
		gb_jput(o, "status", json_string(gb_cell_status_name(g->status)), &ok);
		gb_jput(o, "time", gb_jnum(g->time), &ok);
		gb_jput(o, "output", out, &ok);
		out = NULL;
		gb_jput(o, "auto_comment", gb_jstr(g->auto_comment), &ok);
	}
	json_decref(out);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *nbresult_to_json(const struct gb_nbresult *nb)
{
	json_t *o = json_object(), *grades = json_array(), *comments = json_array();
	bool ok = o && grades && comments;

	for (size_t i = 0; ok && i < nb->n_grades; i++)
		gb_jappend(grades, grade_to_json(nb->grades[i]), &ok);
	for (size_t i = 0; ok && i < nb->n_comments; i++) {
		const struct gb_comment *c = nb->comments[i];
		json_t *co = json_object();

		ok = co != NULL;
		gb_jput(co, "grade_id", gb_jstr(c->grade_id), &ok);
		gb_jput(co, "auto_comment", gb_jstr(c->auto_comment), &ok);
		gb_jput(co, "manual_comment", gb_jstr(c->manual_comment), &ok);
		gb_jappend(comments, co, &ok);
	}
	if (ok) {
		gb_jput(o, "name", gb_jstr(nb->name), &ok);
		gb_jput(o, "status", json_string(gb_status_name(nb->status)), &ok);
		gb_jput(o, "message", gb_jstr(nb->message), &ok);
		gb_jput(o, "score", json_real(nb->score), &ok);
		gb_jput(o, "max_score", json_real(nb->max_score), &ok);
		gb_jput(o, "late_submission_penalty", json_real(nb->late_submission_penalty), &ok);
		gb_jput(o, "flagged", json_boolean(nb->flagged), &ok);
		gb_jput(o, "grades", grades, &ok);
		grades = NULL;
		gb_jput(o, "comments", comments, &ok);
		comments = NULL;
	}
	json_decref(grades);
	json_decref(comments);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int gb_submission_to_json(json_t **out, const struct gb_submission *sub, struct gr_err *err)
{
	json_t *o = json_object(), *flags = json_array(), *nbs = json_array(), *src = NULL;
	bool ok = o && flags && nbs;

	for (size_t i = 0; ok && i < sub->n_flags; i++)
		gb_jappend(flags, json_string(sub->flags[i]), &ok);
	for (size_t i = 0; ok && i < sub->n_notebooks; i++)
		gb_jappend(nbs, nbresult_to_json(sub->notebooks[i]), &ok);
	if (ok && sub->source.kind) {
		ok = (src = json_object()) != NULL;
		gb_jput(src, "kind", gb_jstr(sub->source.kind), &ok);
		gb_jput(src, "location", gb_jstr(sub->source.location), &ok);
		gb_jput(src, "commit", gb_jstr(sub->source.commit), &ok);
		gb_jput(src, "checksum", gb_jstr(sub->source.checksum), &ok);
	}
	if (ok) {
		gb_jput(o, "assignment", gb_jstr(sub->assignment), &ok);
		gb_jput(o, "student_id", gb_jstr(sub->student_id), &ok);
		gb_jput(o, "status", json_string(gb_status_name(sub->status)), &ok);
		gb_jput(o, "message", gb_jstr(sub->message), &ok);
		gb_jput(o, "timestamp", gb_jstr(sub->timestamp), &ok);
		gb_jput(o, "source", src ? src : json_null(), &ok);
		src = NULL;
		gb_jput(o, "late_seconds", json_real(sub->late_seconds), &ok);
		gb_jput(o, "extension_seconds", gb_jnum(sub->extension_seconds), &ok);
		gb_jput(o, "raw_score", json_real(sub->raw_score), &ok);
		gb_jput(o, "late_submission_penalty", json_real(sub->late_submission_penalty), &ok);
		gb_jput(o, "score", json_real(sub->score), &ok);
		gb_jput(o, "max_score", json_real(sub->max_score), &ok);
		gb_jput(o, "flags", flags, &ok);
		flags = NULL;
		if (sub->n_flag_reasons) {
			json_t *why = json_object();

			ok = ok && why;
			for (size_t i = 0; ok && i < sub->n_flag_reasons; i++)
				gb_jput(why, sub->flag_reasons[i].flag,
					gb_jstr(sub->flag_reasons[i].reason), &ok);
			gb_jput(o, "flag_reasons", why, &ok);
		}
		gb_jput(o, "notebooks", nbs, &ok);
		nbs = NULL;
	}
	json_decref(src);
	json_decref(flags);
	json_decref(nbs);
	if (!ok) {
		json_decref(o);
		return OOM(err);
	}
	*out = o;
	return 0;
}

static int output_from_json(struct gb_grade *g, json_t *j, const char *where, struct gr_err *err)
{
	static const char *const keys[] = {
	    "stdout", "stderr", "traceback", "truncated", "after_hidden_tests", NULL};
	static const char *const names[] = {"stdout", "stderr", "traceback"};
	char **fields[] = {&g->output.stdout_text, &g->output.stderr_text, &g->output.traceback};
	int rc;

	if (!j || json_is_null(j))
		return 0;
	TRY(gb_json_object(j, where, NULL, err));
	TRY(gb_json_keys(j, where, keys, err));
	TRY(gb_json_bool(j, "truncated", where, &g->output.truncated, err));
	TRY(gb_json_bool(j, "after_hidden_tests", where, &g->output.after_hidden, err));
	for (int i = 0; i < 3; i++) {
		json_t *v = json_object_get(j, names[i]);

		if (!v || json_is_null(v))
			continue;
		if (!json_is_string(v)) {
			rc = gb_bad(err, where, names[i], "expected a string");
			goto done;
		}
		if (gb_output_set(&g->output, fields[i], json_string_value(v),
				  json_string_length(v)) < 0) {
			rc = OOM(err);
			goto done;
		}
	}
	rc = 0;
done:
	return rc;
}

static int status_from_json(json_t *o, const char *where, bool cell, int *out, struct gr_err *err)
{
	json_t *v = json_object_get(o, "status");
	int s;

	if (!v) {
		*out = 0;
		return 0;
	}
	if (!json_is_string(v))
		return gb_bad(err, where, "status", "expected a string");
	s = cell ? gb_cell_status_parse(json_string_value(v))
		 : gb_status_parse(json_string_value(v));
	if (s < 0)
		return gb_bad(err, where, "status", "unknown status '%s'", json_string_value(v));
	*out = s;
	return 0;
}

static int grade_from_json(struct gb_nbresult *nb, json_t *j, const char *where, struct gr_err *err)
{
	static const char *const keys[] = {
	    "grade_id",	    "max_score",	  "auto_score", "manual_score",
	    "extra_credit", "needs_manual_grade", "status",	"time",
	    "output",	    "auto_comment",	  NULL};
	struct gb_grade *g = NULL;
	char *id = NULL, w[320];
	int rc, st;

	TRY(gb_json_object(j, where, NULL, err));
	TRY(gb_json_keys(j, where, keys, err));
	TRY(gb_json_str(j, "grade_id", where, true, &id, err));
	if (gb_nbresult_add_grade(nb, &g, id) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(gb_json_num(j, "max_score", where, 0.0, false, &g->max_score, err));
	TRY(gb_json_num(j, "auto_score", where, NAN, true, &g->auto_score, err));
	TRY(gb_json_num(j, "manual_score", where, NAN, true, &g->manual_score, err));
	TRY(gb_json_num(j, "extra_credit", where, NAN, true, &g->extra_credit, err));
	TRY(gb_json_bool(j, "needs_manual_grade", where, &g->needs_manual_grade, err));
	TRY(status_from_json(j, where, true, &st, err));
	g->status = (enum gb_cell_status)st;
	TRY(gb_json_num(j, "time", where, NAN, true, &g->time, err));
	snprintf(w, sizeof(w), "%s.output", where);
	TRY(output_from_json(g, json_object_get(j, "output"), w, err));
	TRY(gb_json_str(j, "auto_comment", where, false, &g->auto_comment, err));
done:
	free(id);
	return rc;
}

static int nbresult_from_json(struct gb_submission *sub, json_t *j, const char *where,
			      struct gr_err *err)
{
	static const char *const keys[] = {
	    "name",    "status", "message",  "score", "max_score", "late_submission_penalty",
	    "flagged", "grades", "comments", NULL};
	static const char *const ckeys[] = {"grade_id", "auto_comment", "manual_comment", NULL};
	struct gb_nbresult *nb = NULL;
	json_t *arr, *v;
	char *name = NULL, w[288];
	size_t i;
	int rc, st;

	TRY(gb_json_object(j, where, NULL, err));
	TRY(gb_json_keys(j, where, keys, err));
	TRY(gb_json_str(j, "name", where, true, &name, err));
	if (gb_submission_add_notebook(sub, &nb, name) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(status_from_json(j, where, false, &st, err));
	nb->status = (enum gb_status)st;
	TRY(gb_json_str(j, "message", where, false, &nb->message, err));
	TRY(gb_json_num(j, "score", where, 0.0, false, &nb->score, err));
	TRY(gb_json_num(j, "max_score", where, 0.0, false, &nb->max_score, err));
	TRY(gb_json_num(j, "late_submission_penalty", where, 0.0, false,
			&nb->late_submission_penalty, err));
	TRY(gb_json_bool(j, "flagged", where, &nb->flagged, err));
	TRY(gb_json_array(j, "grades", where, &arr, err));
	json_array_foreach(arr, i, v)
	{
		snprintf(w, sizeof(w), "%s.grades[%zu]", where, i);
		TRY(grade_from_json(nb, v, w, err));
	}
	TRY(gb_json_array(j, "comments", where, &arr, err));
	json_array_foreach(arr, i, v)
	{
		struct gb_comment *c = NULL;

		snprintf(w, sizeof(w), "%s.comments[%zu]", where, i);
		TRY(gb_json_object(v, w, NULL, err));
		TRY(gb_json_keys(v, w, ckeys, err));
		TRY(gb_json_str(v, "grade_id", w, true, &name, err));
		if (gb_nbresult_add_comment(nb, &c, name) < 0) {
			rc = OOM(err);
			goto done;
		}
		TRY(gb_json_str(v, "auto_comment", w, false, &c->auto_comment, err));
		TRY(gb_json_str(v, "manual_comment", w, false, &c->manual_comment, err));
	}
	rc = 0;
done:
	free(name);
	return rc;
}

int gb_submission_from_json(struct gb_submission **out, json_t *j, const char *where,
			    struct gr_err *err)
{
	static const char *const keys[] = {"assignment",   "student_id",
					   "status",	   "message",
					   "timestamp",	   "source",
					   "late_seconds", "extension_seconds",
					   "raw_score",	   "late_submission_penalty",
					   "score",	   "max_score",
					   "flags",	   "flag_reasons",
					   "notebooks",	   NULL};
	static const char *const skeys[] = {"kind", "location", "commit", "checksum", NULL};
	struct gb_submission *sub = NULL;
	char *a = NULL, *s = NULL, w[224];
	json_t *arr, *v, *src;
	size_t i;
	int rc, st;

	if (!where)
		where = "submission";
	TRY(gb_json_object(j, where, NULL, err));
	TRY(gb_json_keys(j, where, keys, err));
	TRY(gb_json_str(j, "assignment", where, true, &a, err));
	TRY(gb_json_str(j, "student_id", where, true, &s, err));
	if (gb_submission_new(&sub, a, s) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(status_from_json(j, where, false, &st, err));
	sub->status = (enum gb_status)st;
	TRY(gb_json_str(j, "message", where, false, &sub->message, err));
	TRY(gb_json_time(j, "timestamp", where, &sub->timestamp, err));
	src = json_object_get(j, "source");
	if (src && !json_is_null(src)) {
		snprintf(w, sizeof(w), "%s.source", where);
		TRY(gb_json_object(src, w, NULL, err));
		TRY(gb_json_keys(src, w, skeys, err));
		TRY(gb_json_str(src, "kind", w, true, &sub->source.kind, err));
		TRY(gb_json_str(src, "location", w, false, &sub->source.location, err));
		TRY(gb_json_str(src, "commit", w, false, &sub->source.commit, err));
		TRY(gb_json_str(src, "checksum", w, false, &sub->source.checksum, err));
	}
	TRY(gb_json_num(j, "late_seconds", where, 0.0, false, &sub->late_seconds, err));
	TRY(gb_json_num(j, "extension_seconds", where, NAN, true, &sub->extension_seconds, err));
	TRY(gb_json_num(j, "raw_score", where, 0.0, false, &sub->raw_score, err));
	TRY(gb_json_num(j, "late_submission_penalty", where, 0.0, false,
			&sub->late_submission_penalty, err));
	TRY(gb_json_num(j, "score", where, 0.0, false, &sub->score, err));
	TRY(gb_json_num(j, "max_score", where, 0.0, false, &sub->max_score, err));
	TRY(gb_json_array(j, "flags", where, &arr, err));
	json_array_foreach(arr, i, v)
	{
		snprintf(w, sizeof(w), "%s.flags[%zu]", where, i);
		if (!json_is_string(v)) {
			rc = gb_bad(err, w, NULL, "expected a string");
			goto done;
		}
		if (gb_submission_add_flag(sub, json_string_value(v)) < 0) {
			rc = OOM(err);
			goto done;
		}
	}
	src = json_object_get(j, "flag_reasons");
	if (src && !json_is_null(src)) {
		const char *flag;

		snprintf(w, sizeof(w), "%s.flag_reasons", where);
		TRY(gb_json_object(src, w, NULL, err));
		json_object_foreach(src, flag, v)
		{
			snprintf(w, sizeof(w), "%s.flag_reasons.%s", where, flag);
			if (!json_is_string(v)) {
				rc = gb_bad(err, w, NULL, "expected a string");
				goto done;
			}
			if (!gb_submission_has_flag(sub, flag)) {
				rc = gb_bad(err, w, NULL, "'%s' is not one of the flags", flag);
				goto done;
			}
			if (gb_submission_add_flag_reason(sub, flag, json_string_value(v)) < 0) {
				rc = OOM(err);
				goto done;
			}
		}
	}
	TRY(gb_json_array(j, "notebooks", where, &arr, err));
	json_array_foreach(arr, i, v)
	{
		snprintf(w, sizeof(w), "%s.notebooks[%zu]", where, i);
		TRY(nbresult_from_json(sub, v, w, err));
	}
	*out = sub;
	sub = NULL;
	rc = 0;
done:
	gb_submission_free(sub);
	free(a);
	free(s);
	return rc;
}
