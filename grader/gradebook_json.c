/*
 * gradebook_json.c - the gradebook model to and from JSON, with one-line
 * errors that name the path of the bad field ("submissions[2].score: ...").
 * Checks against the assignments (names, sums) live in gradebook_check.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradebook_internal.h"

int gb_bad(struct gr_err *err, const char *where, const char *key, const char *fmt, ...)
{
	char msg[GR_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (where && *where && key)
		return gr_err_set(err, GR_EINVAL, "%s.%s: %s", where, key, msg);
	if (where && *where)
		return gr_err_set(err, GR_EINVAL, "%s: %s", where, msg);
	return gr_err_set(err, GR_EINVAL, "%s: %s", key ? key : "(top)", msg);
}

/* ---- reading helpers ---------------------------------------------------- */

static int want_object(json_t *j, const char *where, const char *key, struct gr_err *err)
{
	if (!json_is_object(j))
		return gb_bad(err, where, key, "expected an object");
	return 0;
}

/* Refuse keys outside `allowed` (NULL-terminated): typos should not pass silently. */
static int known_keys(json_t *o, const char *where, const char *const *allowed, struct gr_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		size_t i;

		for (i = 0; allowed[i]; i++)
			if (!strcmp(allowed[i], key))
				break;
		if (!allowed[i])
			return gb_bad(err, where, key, "unknown field");
	}
	return 0;
}

/* A string field; absent or null gives NULL unless `required`. */
static int get_str(json_t *o, const char *key, const char *where, bool required, char **out,
		   struct gr_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		if (required)
			return gb_bad(err, where, key, "missing (expected a string)");
		return gb_set_str(out, NULL);
	}
	if (!json_is_string(v))
		return gb_bad(err, where, key, "expected a string");
	if (required && !*json_string_value(v))
		return gb_bad(err, where, key, "must not be empty");
	if (memchr(json_string_value(v), '\0', json_string_length(v)))
		return gb_bad(err, where, key, "contains a NUL character");
	return gb_set_str(out, json_string_value(v)) < 0 ? gr_err_set(err, GR_ENOMEM, "out of memory")
							   : 0;
}

/* A number field; absent or null gives `dflt` (NAN for optional ones). */
static int get_num(json_t *o, const char *key, const char *where, double dflt, bool nullable,
		   double *out, struct gr_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		if (v && !nullable)
			return gb_bad(err, where, key, "expected a number, not null");
		*out = dflt;
		return 0;
	}
	if (!json_is_number(v))
		return gb_bad(err, where, key, "expected a number");
	*out = json_number_value(v);
	return 0;
}

static int get_bool(json_t *o, const char *key, const char *where, bool *out, struct gr_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		*out = false;
		return 0;
	}
	if (!json_is_boolean(v))
		return gb_bad(err, where, key, "expected true or false");
	*out = json_is_true(v);
	return 0;
}

static int get_array(json_t *o, const char *key, const char *where, json_t **out,
		     struct gr_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		*out = NULL;
		return 0;
	}
	if (!json_is_array(v))
		return gb_bad(err, where, key, "expected an array");
	*out = v;
	return 0;
}

static int get_time(json_t *o, const char *key, const char *where, char **out, struct gr_err *err)
{
	long long sec;
	int usec, rc = get_str(o, key, where, false, out, err);

	if (rc < 0)
		return rc;
	if (*out && gb_parse_time(*out, &sec, &usec) < 0)
		return gb_bad(err, where, key, "'%s' is not an ISO 8601 date-time", *out);
	return 0;
}

#define OOM(err) gr_err_set(err, GR_ENOMEM, "out of memory")
#define TRY(expr)                  \
	do {                       \
		if ((rc = (expr)) < 0) \
			goto done; \
	} while (0)

/* ---- writing helpers ---------------------------------------------------- */

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *jnum(double x)
{
	return gb_isset(x) ? json_real(x) : json_null();
}

/* json_object_set_new that remembers a failure in *ok. */
static void put(json_t *o, const char *key, json_t *v, bool *ok)
{
	if (!v || json_object_set_new(o, key, v) < 0)
		*ok = false;
}

static void append(json_t *a, json_t *v, bool *ok)
{
	if (!v || json_array_append_new(a, v) < 0)
		*ok = false;
}

/* ---- assignments and students ------------------------------------------ */

static json_t *cell_to_json(const struct gb_cell *c)
{
	json_t *o = json_object();
	bool ok = o != NULL;

	if (!o)
		return NULL;
	put(o, "name", jstr(c->name), &ok);
	put(o, "cell_type", jstr(c->cell_type), &ok);
	put(o, "grade", json_boolean(c->grade), &ok);
	put(o, "solution", json_boolean(c->solution), &ok);
	put(o, "task", json_boolean(c->task), &ok);
	put(o, "locked", json_boolean(c->locked), &ok);
	put(o, "max_score", jnum(c->max_score), &ok);
	put(o, "hidden_tests", json_boolean(c->hidden_tests), &ok);
	put(o, "checksum", jstr(c->checksum), &ok);
	put(o, "source", jstr(c->source), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *gb_assignment_to_json(const struct gb_assignment *a)
{
	json_t *o = json_object(), *nbs = json_array();
	bool ok = o && nbs;

	for (size_t i = 0; ok && i < a->n_notebooks; i++) {
		const struct gb_notebook *nb = a->notebooks[i];
		json_t *n = json_object(), *cells = json_array(), *ks = NULL;

		ok = n && cells;
		if (ok && nb->kernelspec)
			ok = (ks = json_loads(nb->kernelspec, 0, NULL)) != NULL;
		if (ok) {
			put(n, "name", jstr(nb->name), &ok);
			put(n, "kernelspec", ks ? ks : json_null(), &ok);
			ks = NULL;
			put(n, "max_score", json_real(nb->max_score), &ok);
		}
		for (size_t j = 0; ok && j < nb->n_cells; j++)
			append(cells, cell_to_json(nb->cells[j]), &ok);
		json_decref(ks);
		if (ok) {
			put(n, "cells", cells, &ok);
			cells = NULL;
			append(nbs, n, &ok);
			n = NULL;
		}
		json_decref(cells);
		json_decref(n);
	}
	if (ok) {
		put(o, "name", jstr(a->name), &ok);
		put(o, "duedate", jstr(a->duedate), &ok);
		put(o, "max_score", json_real(a->max_score), &ok);
		put(o, "notebooks", nbs, &ok);
		nbs = NULL;
	}
	json_decref(nbs);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *gb_student_to_json(const struct gb_student *s)
{
	json_t *o = json_object();
	bool ok = o != NULL;

	if (!o)
		return NULL;
	put(o, "id", jstr(s->id), &ok);
	put(o, "first_name", jstr(s->first_name), &ok);
	put(o, "last_name", jstr(s->last_name), &ok);
	put(o, "email", jstr(s->email), &ok);
	put(o, "lms_user_id", jstr(s->lms_user_id), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int cell_from_json(struct gb_notebook *nb, json_t *j, const char *where, struct gr_err *err)
{
	static const char *const keys[] = { "name",	"cell_type",	"grade",    "solution",
					    "task",	"locked",	"max_score", "hidden_tests",
					    "checksum", "source",	NULL };
	struct gb_cell *c = NULL;
	char *name = NULL;
	int rc;

	TRY(want_object(j, where, NULL, err));
	TRY(known_keys(j, where, keys, err));
	TRY(get_str(j, "name", where, true, &name, err));
	if (gb_notebook_add_cell(nb, &c, name) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(get_str(j, "cell_type", where, true, &c->cell_type, err));
	TRY(get_bool(j, "grade", where, &c->grade, err));
	TRY(get_bool(j, "solution", where, &c->solution, err));
	TRY(get_bool(j, "task", where, &c->task, err));
	TRY(get_bool(j, "locked", where, &c->locked, err));
	TRY(get_num(j, "max_score", where, NAN, true, &c->max_score, err));
	TRY(get_bool(j, "hidden_tests", where, &c->hidden_tests, err));
	TRY(get_str(j, "checksum", where, false, &c->checksum, err));
	TRY(get_str(j, "source", where, false, &c->source, err));
done:
	free(name);
	return rc;
}

int gb_assignment_from_json(struct gb_gradebook *gb, json_t *j, const char *where,
			    struct gr_err *err)
{
	static const char *const keys[] = { "name", "duedate", "max_score", "notebooks", NULL };
	static const char *const nb_keys[] = { "name", "kernelspec", "max_score", "cells", NULL };
	struct gb_assignment *a = NULL;
	json_t *nbs, *v;
	char *name = NULL, w[192], wc[256];
	size_t i, k;
	int rc;

	TRY(want_object(j, where, NULL, err));
	TRY(known_keys(j, where, keys, err));
	TRY(get_str(j, "name", where, true, &name, err));
	if (gb_add_assignment(gb, &a, name) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(get_time(j, "duedate", where, &a->duedate, err));
	TRY(get_num(j, "max_score", where, 0.0, false, &a->max_score, err));
	TRY(get_array(j, "notebooks", where, &nbs, err));
	json_array_foreach(nbs, i, v) {
		struct gb_notebook *nb = NULL;
		json_t *cells, *ks, *cv;

		snprintf(w, sizeof(w), "%s.notebooks[%zu]", where, i);
		TRY(want_object(v, w, NULL, err));
		TRY(known_keys(v, w, nb_keys, err));
		TRY(get_str(v, "name", w, true, &name, err));
		if (gb_assignment_add_notebook(a, &nb, name) < 0) {
			rc = OOM(err);
			goto done;
		}
		ks = json_object_get(v, "kernelspec");
		if (ks && !json_is_null(ks)) {
			if (!json_is_object(ks)) {
				rc = gb_bad(err, w, "kernelspec", "expected an object or null");
				goto done;
			}
			nb->kernelspec = json_dumps(ks, JSON_COMPACT | JSON_SORT_KEYS);
			if (!nb->kernelspec) {
				rc = OOM(err);
				goto done;
			}
		}
		TRY(get_num(v, "max_score", w, 0.0, false, &nb->max_score, err));
		TRY(get_array(v, "cells", w, &cells, err));
		json_array_foreach(cells, k, cv) {
			snprintf(wc, sizeof(wc), "%s.cells[%zu]", w, k);
			TRY(cell_from_json(nb, cv, wc, err));
		}
	}
	rc = 0;
done:
	free(name);
	return rc;
}

int gb_student_from_json(struct gb_gradebook *gb, json_t *j, const char *where,
			 struct gr_err *err)
{
	static const char *const keys[] = { "id", "first_name", "last_name", "email",
					    "lms_user_id", NULL };
	struct gb_student *s = NULL;
	char *id = NULL;
	int rc;

	TRY(want_object(j, where, NULL, err));
	TRY(known_keys(j, where, keys, err));
	TRY(get_str(j, "id", where, true, &id, err));
	if (gb_add_student(gb, &s, id) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(get_str(j, "first_name", where, false, &s->first_name, err));
	TRY(get_str(j, "last_name", where, false, &s->last_name, err));
	TRY(get_str(j, "email", where, false, &s->email, err));
	TRY(get_str(j, "lms_user_id", where, false, &s->lms_user_id, err));
done:
	free(id);
	return rc;
}

/* ---- submissions --------------------------------------------------------- */

static json_t *grade_to_json(const struct gb_grade *g)
{
	json_t *o = json_object(), *out = json_object();
	bool ok = o && out;

	if (ok) {
		put(out, "stdout", jstr(g->output.stdout_text), &ok);
		put(out, "stderr", jstr(g->output.stderr_text), &ok);
		put(out, "traceback", jstr(g->output.traceback), &ok);
		put(out, "truncated", json_boolean(g->output.truncated), &ok);
		put(o, "grade_id", jstr(g->grade_id), &ok);
		put(o, "max_score", json_real(g->max_score), &ok);
		put(o, "auto_score", jnum(g->auto_score), &ok);
		put(o, "manual_score", jnum(g->manual_score), &ok);
		put(o, "extra_credit", jnum(g->extra_credit), &ok);
		put(o, "needs_manual_grade", json_boolean(g->needs_manual_grade), &ok);
		put(o, "status", json_string(gb_cell_status_name(g->status)), &ok);
		put(o, "time", jnum(g->time), &ok);
		put(o, "output", out, &ok);
		out = NULL;
		put(o, "auto_comment", jstr(g->auto_comment), &ok);
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
		append(grades, grade_to_json(nb->grades[i]), &ok);
	for (size_t i = 0; ok && i < nb->n_comments; i++) {
		const struct gb_comment *c = nb->comments[i];
		json_t *co = json_object();

		ok = co != NULL;
		put(co, "grade_id", jstr(c->grade_id), &ok);
		put(co, "auto_comment", jstr(c->auto_comment), &ok);
		put(co, "manual_comment", jstr(c->manual_comment), &ok);
		append(comments, co, &ok);
	}
	if (ok) {
		put(o, "name", jstr(nb->name), &ok);
		put(o, "status", json_string(gb_status_name(nb->status)), &ok);
		put(o, "message", jstr(nb->message), &ok);
		put(o, "score", json_real(nb->score), &ok);
		put(o, "max_score", json_real(nb->max_score), &ok);
		put(o, "late_submission_penalty", json_real(nb->late_submission_penalty), &ok);
		put(o, "flagged", json_boolean(nb->flagged), &ok);
		put(o, "grades", grades, &ok);
		grades = NULL;
		put(o, "comments", comments, &ok);
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
		append(flags, json_string(sub->flags[i]), &ok);
	for (size_t i = 0; ok && i < sub->n_notebooks; i++)
		append(nbs, nbresult_to_json(sub->notebooks[i]), &ok);
	if (ok && sub->source.kind) {
		ok = (src = json_object()) != NULL;
		put(src, "kind", jstr(sub->source.kind), &ok);
		put(src, "location", jstr(sub->source.location), &ok);
		put(src, "commit", jstr(sub->source.commit), &ok);
		put(src, "checksum", jstr(sub->source.checksum), &ok);
	}
	if (ok) {
		put(o, "assignment", jstr(sub->assignment), &ok);
		put(o, "student_id", jstr(sub->student_id), &ok);
		put(o, "status", json_string(gb_status_name(sub->status)), &ok);
		put(o, "message", jstr(sub->message), &ok);
		put(o, "timestamp", jstr(sub->timestamp), &ok);
		put(o, "source", src ? src : json_null(), &ok);
		src = NULL;
		put(o, "late_seconds", json_real(sub->late_seconds), &ok);
		put(o, "extension_seconds", jnum(sub->extension_seconds), &ok);
		put(o, "raw_score", json_real(sub->raw_score), &ok);
		put(o, "late_submission_penalty", json_real(sub->late_submission_penalty), &ok);
		put(o, "score", json_real(sub->score), &ok);
		put(o, "max_score", json_real(sub->max_score), &ok);
		put(o, "flags", flags, &ok);
		flags = NULL;
		put(o, "notebooks", nbs, &ok);
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
	static const char *const keys[] = { "stdout", "stderr", "traceback", "truncated", NULL };
	static const char *const names[] = { "stdout", "stderr", "traceback" };
	char **fields[] = { &g->output.stdout_text, &g->output.stderr_text, &g->output.traceback };
	int rc;

	if (!j || json_is_null(j))
		return 0;
	TRY(want_object(j, where, NULL, err));
	TRY(known_keys(j, where, keys, err));
	TRY(get_bool(j, "truncated", where, &g->output.truncated, err));
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
	s = cell ? gb_cell_status_parse(json_string_value(v)) : gb_status_parse(json_string_value(v));
	if (s < 0)
		return gb_bad(err, where, "status", "unknown status '%s'", json_string_value(v));
	*out = s;
	return 0;
}

static int grade_from_json(struct gb_nbresult *nb, json_t *j, const char *where,
			   struct gr_err *err)
{
	static const char *const keys[] = { "grade_id",	    "max_score", "auto_score",
					    "manual_score", "extra_credit", "needs_manual_grade",
					    "status",	    "time",	 "output",
					    "auto_comment", NULL };
	struct gb_grade *g = NULL;
	char *id = NULL, w[320];
	int rc, st;

	TRY(want_object(j, where, NULL, err));
	TRY(known_keys(j, where, keys, err));
	TRY(get_str(j, "grade_id", where, true, &id, err));
	if (gb_nbresult_add_grade(nb, &g, id) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(get_num(j, "max_score", where, 0.0, false, &g->max_score, err));
	TRY(get_num(j, "auto_score", where, NAN, true, &g->auto_score, err));
	TRY(get_num(j, "manual_score", where, NAN, true, &g->manual_score, err));
	TRY(get_num(j, "extra_credit", where, NAN, true, &g->extra_credit, err));
	TRY(get_bool(j, "needs_manual_grade", where, &g->needs_manual_grade, err));
	TRY(status_from_json(j, where, true, &st, err));
	g->status = (enum gb_cell_status)st;
	TRY(get_num(j, "time", where, NAN, true, &g->time, err));
	snprintf(w, sizeof(w), "%s.output", where);
	TRY(output_from_json(g, json_object_get(j, "output"), w, err));
	TRY(get_str(j, "auto_comment", where, false, &g->auto_comment, err));
done:
	free(id);
	return rc;
}

static int nbresult_from_json(struct gb_submission *sub, json_t *j, const char *where,
			      struct gr_err *err)
{
	static const char *const keys[] = { "name",	 "status",
					    "message",	 "score",
					    "max_score", "late_submission_penalty",
					    "flagged",	 "grades",
					    "comments",	 NULL };
	static const char *const ckeys[] = { "grade_id", "auto_comment", "manual_comment", NULL };
	struct gb_nbresult *nb = NULL;
	json_t *arr, *v;
	char *name = NULL, w[288];
	size_t i;
	int rc, st;

	TRY(want_object(j, where, NULL, err));
	TRY(known_keys(j, where, keys, err));
	TRY(get_str(j, "name", where, true, &name, err));
	if (gb_submission_add_notebook(sub, &nb, name) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(status_from_json(j, where, false, &st, err));
	nb->status = (enum gb_status)st;
	TRY(get_str(j, "message", where, false, &nb->message, err));
	TRY(get_num(j, "score", where, 0.0, false, &nb->score, err));
	TRY(get_num(j, "max_score", where, 0.0, false, &nb->max_score, err));
	TRY(get_num(j, "late_submission_penalty", where, 0.0, false, &nb->late_submission_penalty,
		    err));
	TRY(get_bool(j, "flagged", where, &nb->flagged, err));
	TRY(get_array(j, "grades", where, &arr, err));
	json_array_foreach(arr, i, v) {
		snprintf(w, sizeof(w), "%s.grades[%zu]", where, i);
		TRY(grade_from_json(nb, v, w, err));
	}
	TRY(get_array(j, "comments", where, &arr, err));
	json_array_foreach(arr, i, v) {
		struct gb_comment *c = NULL;

		snprintf(w, sizeof(w), "%s.comments[%zu]", where, i);
		TRY(want_object(v, w, NULL, err));
		TRY(known_keys(v, w, ckeys, err));
		TRY(get_str(v, "grade_id", w, true, &name, err));
		if (gb_nbresult_add_comment(nb, &c, name) < 0) {
			rc = OOM(err);
			goto done;
		}
		TRY(get_str(v, "auto_comment", w, false, &c->auto_comment, err));
		TRY(get_str(v, "manual_comment", w, false, &c->manual_comment, err));
	}
	rc = 0;
done:
	free(name);
	return rc;
}

int gb_submission_from_json(struct gb_submission **out, json_t *j, const char *where,
			    struct gr_err *err)
{
	static const char *const keys[] = { "assignment",
					    "student_id",
					    "status",
					    "message",
					    "timestamp",
					    "source",
					    "late_seconds",
					    "extension_seconds",
					    "raw_score",
					    "late_submission_penalty",
					    "score",
					    "max_score",
					    "flags",
					    "notebooks",
					    NULL };
	static const char *const skeys[] = { "kind", "location", "commit", "checksum", NULL };
	struct gb_submission *sub = NULL;
	char *a = NULL, *s = NULL, w[224];
	json_t *arr, *v, *src;
	size_t i;
	int rc, st;

	if (!where)
		where = "submission";
	TRY(want_object(j, where, NULL, err));
	TRY(known_keys(j, where, keys, err));
	TRY(get_str(j, "assignment", where, true, &a, err));
	TRY(get_str(j, "student_id", where, true, &s, err));
	if (gb_submission_new(&sub, a, s) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(status_from_json(j, where, false, &st, err));
	sub->status = (enum gb_status)st;
	TRY(get_str(j, "message", where, false, &sub->message, err));
	TRY(get_time(j, "timestamp", where, &sub->timestamp, err));
	src = json_object_get(j, "source");
	if (src && !json_is_null(src)) {
		snprintf(w, sizeof(w), "%s.source", where);
		TRY(want_object(src, w, NULL, err));
		TRY(known_keys(src, w, skeys, err));
		TRY(get_str(src, "kind", w, true, &sub->source.kind, err));
		TRY(get_str(src, "location", w, false, &sub->source.location, err));
		TRY(get_str(src, "commit", w, false, &sub->source.commit, err));
		TRY(get_str(src, "checksum", w, false, &sub->source.checksum, err));
	}
	TRY(get_num(j, "late_seconds", where, 0.0, false, &sub->late_seconds, err));
	TRY(get_num(j, "extension_seconds", where, NAN, true, &sub->extension_seconds, err));
	TRY(get_num(j, "raw_score", where, 0.0, false, &sub->raw_score, err));
	TRY(get_num(j, "late_submission_penalty", where, 0.0, false, &sub->late_submission_penalty,
		    err));
	TRY(get_num(j, "score", where, 0.0, false, &sub->score, err));
	TRY(get_num(j, "max_score", where, 0.0, false, &sub->max_score, err));
	TRY(get_array(j, "flags", where, &arr, err));
	json_array_foreach(arr, i, v) {
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
	TRY(get_array(j, "notebooks", where, &arr, err));
	json_array_foreach(arr, i, v) {
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

/* ---- whole gradebook ----------------------------------------------------- */

int gb_to_json(json_t **out, const struct gb_gradebook *gb, struct gr_err *err)
{
	json_t *o = json_object(), *as = json_array(), *ss = json_array(), *subs = json_array();
	bool ok = o && as && ss && subs;
	int rc = 0;

	for (size_t i = 0; ok && i < gb->n_assignments; i++)
		append(as, gb_assignment_to_json(gb->assignments[i]), &ok);
	for (size_t i = 0; ok && i < gb->n_students; i++)
		append(ss, gb_student_to_json(gb->students[i]), &ok);
	for (size_t i = 0; ok && i < gb->n_submissions; i++) {
		json_t *sj = NULL;

		if ((rc = gb_submission_to_json(&sj, gb->submissions[i], err)) < 0)
			break;
		append(subs, sj, &ok);
	}
	if (ok && rc == 0) {
		put(o, "format", json_string(GB_FORMAT), &ok);
		put(o, "format_version", json_integer(gb->format_version), &ok);
		put(o, "generator", jstr(gb->generator), &ok);
		put(o, "assignments", as, &ok);
		as = NULL;
		put(o, "students", ss, &ok);
		ss = NULL;
		put(o, "submissions", subs, &ok);
		subs = NULL;
	}
	json_decref(as);
	json_decref(ss);
	json_decref(subs);
	if (!ok || rc < 0) {
		json_decref(o);
		return rc < 0 ? rc : OOM(err);
	}
	*out = o;
	return 0;
}

int gb_header_from_json(struct gb_gradebook **out, json_t *j, struct gr_err *err)
{
	static const char *const keys[] = { "format",	   "format_version", "generator",
					    "assignments", "students",	     "submissions",
					    NULL };
	struct gb_gradebook *gb = NULL;
	json_t *arr, *v, *fmt, *ver;
	char w[64];
	size_t i;
	int rc;

	TRY(want_object(j, "", "(top)", err));
	TRY(known_keys(j, "", keys, err));
	fmt = json_object_get(j, "format");
	if (!json_is_string(fmt) || strcmp(json_string_value(fmt), GB_FORMAT)) {
		rc = gb_bad(err, "", "format", "expected \"%s\"", GB_FORMAT);
		goto done;
	}
	ver = json_object_get(j, "format_version");
	if (!json_is_integer(ver)) {
		rc = gb_bad(err, "", "format_version", "expected an integer");
		goto done;
	}
	if (json_integer_value(ver) != GB_FORMAT_VERSION) {
		rc = gb_bad(err, "", "format_version", "version %lld is not supported (this grader reads %d)",
			    (long long)json_integer_value(ver), GB_FORMAT_VERSION);
		goto done;
	}
	if (gb_new(&gb) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(get_str(j, "generator", "", false, &gb->generator, err));
	TRY(get_array(j, "assignments", "", &arr, err));
	json_array_foreach(arr, i, v) {
		snprintf(w, sizeof(w), "assignments[%zu]", i);
		TRY(gb_assignment_from_json(gb, v, w, err));
	}
	TRY(get_array(j, "students", "", &arr, err));
	json_array_foreach(arr, i, v) {
		snprintf(w, sizeof(w), "students[%zu]", i);
		TRY(gb_student_from_json(gb, v, w, err));
	}
	TRY(gb_check_header(gb, err));
	*out = gb;
	gb = NULL;
done:
	gb_free(gb);
	return rc;
}

int gb_from_json(struct gb_gradebook **out, json_t *j, struct gr_err *err)
{
	struct gb_gradebook *gb = NULL;
	struct gb_seen *seen = NULL;
	json_t *arr, *v;
	char w[64];
	size_t i;
	int rc;

	TRY(gb_header_from_json(&gb, j, err));
	TRY(gb_seen_new(&seen, err));
	TRY(get_array(j, "submissions", "", &arr, err));
	json_array_foreach(arr, i, v) {
		struct gb_submission *sub = NULL;

		snprintf(w, sizeof(w), "submissions[%zu]", i);
		TRY(gb_submission_from_json(&sub, v, w, err));
		if ((rc = gb_submission_validate(gb, sub, w, err)) < 0 ||
		    (rc = gb_seen_add(seen, sub, w, err)) < 0 ||
		    (rc = gb_take_submission(gb, sub)) < 0) {
			gb_submission_free(sub);
			if (rc == GR_ENOMEM)
				OOM(err);
			goto done;
		}
	}
	*out = gb;
	gb = NULL;
done:
	gb_seen_free(seen);
	gb_free(gb);
	return rc;
}

int gb_read_file(struct gb_gradebook **out, const char *path, struct gr_err *err)
{
	struct gr_err inner = { 0 };
	json_error_t jerr;
	json_t *j = NULL;
	char *data = NULL;
	size_t len = 0;
	int rc;

	rc = gr_read_file(&data, &len, path, GB_FILE_MAX, err);
	if (rc < 0)
		goto done;
	j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		rc = gr_err_set(err, GR_EINVAL, "'%s': line %d column %d: %s", path, jerr.line,
				jerr.column, jerr.text);
		goto done;
	}
	rc = gb_from_json(out, j, &inner);
	if (rc < 0)
		gr_err_set(err, rc, "'%s': %s", path, inner.msg);
done:
	json_decref(j);
	free(data);
	return rc;
}
