/*
 * export_gradescope.c - Gradescope autograder results.json: one test per
 * grade or task cell, hidden tests visible only once grades are published,
 * and then with only the name of the exception that failed them (their
 * traceback quotes their source; its message and the cell's stderr may carry
 * values the hidden test handed the notebook's code).
 */
#include <stdlib.h>
#include <string.h>

#include "export_int.h"

/* Append s (ANSI codes removed) to the text in *buf, a blank line between parts. */
static int add_text(char **buf, const char *label, const char *s)
{
	char *clean, *joined = NULL;
	int rc;

	if (!s || !*s)
		return 0;
	clean = export_strip_ansi(s);
	if (!clean)
		return GR_ENOMEM;
	rc = asprintf(&joined, "%s%s%s%s", *buf ? *buf : "", *buf ? "\n" : "", label ? label : "",
		      clean);
	free(clean);
	if (rc < 0)
		return GR_ENOMEM;
	free(*buf);
	*buf = joined;
	return 0;
}

static const struct gb_comment *find_comment(const struct gb_nbresult *r, const char *grade_id)
{
	for (size_t i = 0; r && i < r->n_comments; i++)
		if (!strcmp(r->comments[i]->grade_id, grade_id))
			return r->comments[i];
	return NULL;
}

static json_t *test_json(const struct gb_notebook *nb, const struct gb_cell *cell, size_t nbi,
			 size_t ci, const struct gb_nbresult *r, const char *absent)
{
	const struct gb_grade *g = r ? gb_find_grade(r, cell->name) : NULL;
	const struct gb_comment *c = find_comment(r, cell->name);
	double score = g ? gb_grade_score(g) : 0.0;
	char *name = NULL, *number = NULL, *text = NULL;
	json_t *t = NULL;
	bool pending = g && g->needs_manual_grade && !gb_isset(g->manual_score);
	bool passed = g && score >= cell->max_score - GB_EPSILON && !pending;
	int rc = 0;

	if (!g)
		rc = add_text(&text, NULL, absent);
	else if (pending)
		rc = add_text(&text, NULL, "pending: waiting for manual grading");
	else if ((g->status == GB_CELL_ERROR || g->status == GB_CELL_MISSING) &&
		 !g->output.traceback && r && r->message)
		rc = add_text(&text, "not run: ", r->message); /* e.g. an unreadable notebook */
	if (rc == 0 && g && !passed) {
		/* a cell holding hidden tests, or run after one: the exception's name only */
		const char *why;
		bool withheld = gb_grade_withheld(cell, g, &why);
		char *tb = export_traceback(g->output.traceback, why);

		rc = add_text(&text, NULL, tb);
		free(tb);
		if (rc == 0 && !withheld)
			rc = add_text(&text, NULL, g->output.stderr_text);
		else if (rc == 0 && !g->output.traceback && g->output.stderr_text)
			rc = add_text(&text, NULL, why);
	}
	if (rc == 0 && g)
		rc = add_text(&text, NULL, g->auto_comment);
	if (rc == 0 && c && c->auto_comment &&
	    (!g || !g->auto_comment || strcmp(c->auto_comment, g->auto_comment)))
		rc = add_text(&text, NULL, c->auto_comment);
	if (rc == 0 && c)
		rc = add_text(&text, "Marker: ", c->manual_comment);
	if (rc < 0 || asprintf(&name, "%s/%s", nb->name, cell->name) < 0 ||
	    asprintf(&number, "%zu.%zu", nbi, ci) < 0)
		goto done;
	t = json_pack("{s:s, s:s, s:f, s:f, s:s, s:s, s:s}", "name", name, "number", number,
		      "score", score, "max_score", cell->max_score, "status",
		      passed ? "passed" : "failed", "output", text ? text : "", "visibility",
		      cell->hidden_tests ? "after_published" : "visible");
	/* Gradescope paints a status red or green: a cell a marker has yet to grade has none */
	if (t && pending)
		json_object_del(t, "status");
done:
	free(name);
	free(number);
	free(text);
	return t;
}

/* One student's results for assignment a from their submission (NULL: none). */
static int student_json(json_t **out, const struct gb_assignment *a,
			const struct gb_submission *sub, struct gr_err *err)
{
	bool missing = !sub || sub->status == GB_MISSING;
	json_t *res = NULL, *tests = json_array();
	char *summary = NULL, raw[32], pen[32], score[32], max[32];
	double time = 0.0;
	int rc = 0;

	if (!tests)
		goto oom;
	for (size_t j = 0; j < a->n_notebooks; j++) {
		const struct gb_notebook *nb = a->notebooks[j];
		const struct gb_nbresult *r = missing ? NULL : gb_find_nbresult(sub, nb->name);
		const char *absent = missing	       ? "no submission"
				     : r && r->message ? r->message
				     : r	       ? "cell missing from the submission"
						       : "notebook missing from the submission";
		size_t ci = 0;

		for (size_t k = 0; k < nb->n_cells; k++) {
			const struct gb_grade *g;

			if (!nb->cells[k]->grade && !nb->cells[k]->task)
				continue;
			g = r ? gb_find_grade(r, nb->cells[k]->name) : NULL;
			if (gb_isset(gb_grade_shown_time(nb->cells[k], g)))
				time += g->time;
			if (json_array_append_new(
				tests, test_json(nb, nb->cells[k], j + 1, ++ci, r, absent)) < 0)
				goto oom;
		}
	}
	gr_py_float_repr(raw, missing ? 0.0 : sub->raw_score);
	gr_py_float_repr(pen, missing ? 0.0 : sub->late_submission_penalty);
	gr_py_float_repr(score, missing ? 0.0 : sub->score);
	gr_py_float_repr(max, a->max_score);
	if (missing)
		rc = asprintf(&summary, "%s: no submission; score 0.0 / %s", a->name, max);
	else if (sub->status == GB_ERROR)
		rc = asprintf(&summary, "%s: not graded: %s; score %s / %s", a->name,
			      sub->message ? sub->message : "grading failed", score, max);
	else if (sub->late_submission_penalty > 0) {
		char late[32];

		export_duration(late, sub->late_seconds);
		rc = asprintf(&summary, "%s: %s points, minus %s for %s late = %s / %s", a->name,
			      raw, pen, late, score, max);
	} else
		rc = asprintf(&summary, "%s: %s / %s", a->name, score, max);
	if (rc < 0) {
		summary = NULL;
		goto oom;
	}
	if (!missing && export_time_note(sub)) {
		char *noted = NULL;
		if (asprintf(&noted, "%s (%s)", summary, export_time_note(sub)) < 0)
			goto oom;
		free(summary);
		summary = noted;
	}
	res = json_pack("{s:f, s:f, s:s, s:s, s:o}", "score", missing ? 0.0 : sub->score,
			"execution_time", time, "output", summary, "visibility", "visible", "tests",
			tests);
	tests = NULL; /* json_pack's "o" took it, even on failure */
	if (!res)
		goto oom;
	free(summary);
	*out = res;
	return 0;
oom:
	json_decref(tests);
	free(summary);
	return gr_err_set(err, GR_ENOMEM, "out of memory");
}

int export_gradescope_student(json_t **out, const struct gb_gradebook *gb,
			      const struct gb_assignment *a, const struct gb_student *s,
			      struct gr_err *err)
{
	return student_json(out, a, gb_find_submission(gb, a->name, s->id), err);
}

static int dump(json_t *j, char **text, struct gr_err *err)
{
	*text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	if (!*text)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	return 0;
}

static bool safe_component(const char *s)
{
	return *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

static int write_one(const char *path, json_t *j, struct gr_err *err)
{
	char *text = NULL;
	int rc = dump(j, &text, err);

	if (rc == 0) {
		size_t n = strlen(text);

		text[n] = '\n'; /* json_dumps' NUL becomes the final newline */
		rc = gr_write_file_atomic(path, text, n + 1, err);
	}
	free(text);
	return rc;
}

/* One student's results as DIR/{student}/results.json, the folder made as needed. */
static int write_in_folder(const char *path, const char *student, json_t *j, struct gr_err *err)
{
	char *dir = NULL, *file = NULL;
	int rc;

	if (!safe_component(student))
		return gr_err_set(err, GR_EDENIED, "student id '%s' cannot name a folder", student);
	dir = gr_path_join(path, student);
	file = dir ? gr_path_join(dir, "results.json") : NULL;
	if (!file)
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	else if ((rc = gr_mkdir_p(dir, 0755, err)) == 0)
		rc = write_one(file, j, err);
	free(dir);
	free(file);
	return rc;
}

int export_gradescope_sel(const char *path, struct export_sel *sel, const struct export_opts *o,
			  struct gr_err *err)
{
	size_t len;
	bool to_stdout = !path || !strcmp(path, "-");
	bool to_file = !to_stdout && (len = strlen(path)) > 5 && !strcmp(path + len - 5, ".json");
	const struct gb_submission *sub;
	json_t *j = NULL;
	int rc;

	(void)o;
	if (sel->na != 1) {
		rc = gr_err_set(err, GR_EINVAL,
				"gradescope results cover one assignment: the gradebook has %zu, "
				"choose one with --assignment",
				sel->na);
		goto done;
	}
	if ((to_stdout || to_file) && sel->ns != 1) {
		rc = gr_err_set(err, GR_EINVAL,
				"%zu students need a folder (-o DIR), or choose one with --student",
				sel->ns);
		goto done;
	}
	for (size_t i = 0; i < sel->ns; i++) {
		const struct gb_student *s = sel->ss[i];

		if ((rc = export_sel_sub(sel, 0, i, &sub, err)) < 0 ||
		    (rc = student_json(&j, sel->as[0], sub, err)) < 0)
			goto done;
		if (to_stdout) {
			if (json_dumpf(j, stdout,
				       JSON_INDENT(2) | JSON_PRESERVE_ORDER |
					   JSON_REAL_PRECISION(17)) < 0 ||
			    fputc('\n', stdout) == EOF) {
				rc = gr_err_set(err, GR_EIO, "cannot write to standard output");
				goto done;
			}
		} else if ((rc = to_file ? write_one(path, j, err)
					 : write_in_folder(path, s->id, j, err)) < 0) {
			goto done;
		}
		json_decref(j);
		j = NULL;
	}
	rc = 0;
done:
	json_decref(j);
	return rc;
}

int export_gradescope(const char *path, const struct gb_gradebook *gb, const struct export_opts *o,
		      struct gr_err *err)
{
	struct export_sel sel;
	int rc = export_sorted(&sel, gb, NULL, o, err);

	if (rc == 0)
		rc = export_gradescope_sel(path, &sel, o, err);
	export_sel_release(&sel);
	return rc;
}
