/*
 * gradebook_json.c - the gradebook model to and from JSON, with one-line
 * errors that name the path of the bad field ("submissions[2].score: ...").
 * Checks against the assignments (names, sums) live in gradebook_check.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradebook_int.h"

/* ---- assignments and students ------------------------------------------ */

static json_t *cell_to_json(const struct gb_cell *c)
{
	json_t *o = json_object();
	bool ok = o != NULL;

	if (!o)
		return NULL;
	gb_jput(o, "name", gb_jstr(c->name), &ok);
	gb_jput(o, "cell_type", gb_jstr(c->cell_type), &ok);
	gb_jput(o, "grade", json_boolean(c->grade), &ok);
	gb_jput(o, "solution", json_boolean(c->solution), &ok);
	gb_jput(o, "task", json_boolean(c->task), &ok);
	gb_jput(o, "locked", json_boolean(c->locked), &ok);
	gb_jput(o, "max_score", gb_jnum(c->max_score), &ok);
	gb_jput(o, "hidden_tests", json_boolean(c->hidden_tests), &ok);
	gb_jput(o, "checksum", gb_jstr(c->checksum), &ok);
	gb_jput(o, "source", gb_jstr(c->source), &ok);
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
			gb_jput(n, "name", gb_jstr(nb->name), &ok);
			gb_jput(n, "kernelspec", ks ? ks : json_null(), &ok);
			ks = NULL;
			gb_jput(n, "max_score", json_real(nb->max_score), &ok);
		}
		for (size_t j = 0; ok && j < nb->n_cells; j++)
			gb_jappend(cells, cell_to_json(nb->cells[j]), &ok);
		json_decref(ks);
		if (ok) {
			gb_jput(n, "cells", cells, &ok);
			cells = NULL;
			gb_jappend(nbs, n, &ok);
			n = NULL;
		}
		json_decref(cells);
		json_decref(n);
	}
	if (ok) {
		gb_jput(o, "name", gb_jstr(a->name), &ok);
		gb_jput(o, "duedate", gb_jstr(a->duedate), &ok);
		gb_jput(o, "max_score", json_real(a->max_score), &ok);
		gb_jput(o, "notebooks", nbs, &ok);
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
	gb_jput(o, "id", gb_jstr(s->id), &ok);
	gb_jput(o, "first_name", gb_jstr(s->first_name), &ok);
	gb_jput(o, "last_name", gb_jstr(s->last_name), &ok);
	gb_jput(o, "email", gb_jstr(s->email), &ok);
	gb_jput(o, "lms_user_id", gb_jstr(s->lms_user_id), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int cell_from_json(struct gb_notebook *nb, json_t *j, const char *where, struct gr_err *err)
{
	static const char *const keys[] = {"name",     "cell_type", "grade",	 "solution",
					   "task",     "locked",    "max_score", "hidden_tests",
					   "checksum", "source",    NULL};
	struct gb_cell *c = NULL;
	char *name = NULL;
	int rc;

	TRY(gb_json_object(j, where, NULL, err));
	TRY(gb_json_keys(j, where, keys, err));
	TRY(gb_json_str(j, "name", where, true, &name, err));
	if (gb_notebook_add_cell(nb, &c, name) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(gb_json_str(j, "cell_type", where, true, &c->cell_type, err));
	TRY(gb_json_bool(j, "grade", where, &c->grade, err));
	TRY(gb_json_bool(j, "solution", where, &c->solution, err));
	TRY(gb_json_bool(j, "task", where, &c->task, err));
	TRY(gb_json_bool(j, "locked", where, &c->locked, err));
	TRY(gb_json_num(j, "max_score", where, NAN, true, &c->max_score, err));
	TRY(gb_json_bool(j, "hidden_tests", where, &c->hidden_tests, err));
	TRY(gb_json_str(j, "checksum", where, false, &c->checksum, err));
	TRY(gb_json_str(j, "source", where, false, &c->source, err));
done:
	free(name);
	return rc;
}

int gb_assignment_from_json(struct gb_gradebook *gb, json_t *j, const char *where,
			    struct gr_err *err)
{
	static const char *const keys[] = {"name", "duedate", "max_score", "notebooks", NULL};
	static const char *const nb_keys[] = {"name", "kernelspec", "max_score", "cells", NULL};
	struct gb_assignment *a = NULL;
	json_t *nbs, *v;
	char *name = NULL, w[192], wc[256];
	size_t i, k;
	int rc;

	TRY(gb_json_object(j, where, NULL, err));
	TRY(gb_json_keys(j, where, keys, err));
	TRY(gb_json_str(j, "name", where, true, &name, err));
	if (gb_add_assignment(gb, &a, name) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(gb_json_time(j, "duedate", where, &a->duedate, err));
	TRY(gb_json_num(j, "max_score", where, 0.0, false, &a->max_score, err));
	TRY(gb_json_array(j, "notebooks", where, &nbs, err));
	json_array_foreach(nbs, i, v)
	{
		struct gb_notebook *nb = NULL;
		json_t *cells, *ks, *cv;

		snprintf(w, sizeof(w), "%s.notebooks[%zu]", where, i);
		TRY(gb_json_object(v, w, NULL, err));
		TRY(gb_json_keys(v, w, nb_keys, err));
		TRY(gb_json_str(v, "name", w, true, &name, err));
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
		TRY(gb_json_num(v, "max_score", w, 0.0, false, &nb->max_score, err));
		TRY(gb_json_array(v, "cells", w, &cells, err));
		json_array_foreach(cells, k, cv)
		{
			snprintf(wc, sizeof(wc), "%s.cells[%zu]", w, k);
			TRY(cell_from_json(nb, cv, wc, err));
		}
	}
	rc = 0;
done:
	free(name);
	return rc;
}

int gb_student_from_json(struct gb_gradebook *gb, json_t *j, const char *where, struct gr_err *err)
{
	static const char *const keys[] = {"id",    "first_name",  "last_name",
					   "email", "lms_user_id", NULL};
	struct gb_student *s = NULL;
	char *id = NULL;
	int rc;

	TRY(gb_json_object(j, where, NULL, err));
	TRY(gb_json_keys(j, where, keys, err));
	TRY(gb_json_str(j, "id", where, true, &id, err));
	if (gb_add_student(gb, &s, id) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(gb_json_str(j, "first_name", where, false, &s->first_name, err));
	TRY(gb_json_str(j, "last_name", where, false, &s->last_name, err));
	TRY(gb_json_str(j, "email", where, false, &s->email, err));
	TRY(gb_json_str(j, "lms_user_id", where, false, &s->lms_user_id, err));
done:
	free(id);
	return rc;
}

/* ---- whole gradebook ----------------------------------------------------- */

int gb_to_json(json_t **out, const struct gb_gradebook *gb, struct gr_err *err)
{
	json_t *o = json_object(), *as = json_array(), *ss = json_array(), *subs = json_array();
	bool ok = o && as && ss && subs;
	int rc = 0;

	for (size_t i = 0; ok && i < gb->n_assignments; i++)
		gb_jappend(as, gb_assignment_to_json(gb->assignments[i]), &ok);
	for (size_t i = 0; ok && i < gb->n_students; i++)
		gb_jappend(ss, gb_student_to_json(gb->students[i]), &ok);
	for (size_t i = 0; ok && i < gb->n_submissions; i++) {
		json_t *sj = NULL;

		if ((rc = gb_submission_to_json(&sj, gb->submissions[i], err)) < 0)
			break;
		gb_jappend(subs, sj, &ok);
	}
	if (ok && rc == 0) {
		gb_jput(o, "format", json_string(GB_FORMAT), &ok);
		gb_jput(o, "format_version", json_integer(gb->format_version), &ok);
		gb_jput(o, "generator", gb_jstr(gb->generator), &ok);
		gb_jput(o, "assignments", as, &ok);
		as = NULL;
		gb_jput(o, "students", ss, &ok);
		ss = NULL;
		gb_jput(o, "submissions", subs, &ok);
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
	static const char *const keys[] = {"format",   "format_version", "generator", "assignments",
					   "students", "submissions",	 NULL};
	struct gb_gradebook *gb = NULL;
	json_t *arr, *v, *fmt, *ver;
	char w[64];
	size_t i;
	int rc;

	TRY(gb_json_object(j, "", "(top)", err));
	TRY(gb_json_keys(j, "", keys, err));
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
		rc = gb_bad(err, "", "format_version",
			    "version %lld is not supported (this grader reads %d)",
			    (long long)json_integer_value(ver), GB_FORMAT_VERSION);
		goto done;
	}
	if (gb_new(&gb) < 0) {
		rc = OOM(err);
		goto done;
	}
	TRY(gb_json_str(j, "generator", "", false, &gb->generator, err));
	TRY(gb_json_array(j, "assignments", "", &arr, err));
	json_array_foreach(arr, i, v)
	{
		snprintf(w, sizeof(w), "assignments[%zu]", i);
		TRY(gb_assignment_from_json(gb, v, w, err));
	}
	TRY(gb_json_array(j, "students", "", &arr, err));
	json_array_foreach(arr, i, v)
	{
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
	TRY(gb_json_array(j, "submissions", "", &arr, err));
	json_array_foreach(arr, i, v)
	{
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
	struct gr_err inner = {0};
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
