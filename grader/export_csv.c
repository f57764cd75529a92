/*
 * export_csv.c - the CSV of `nbgrader export` (same columns, order, rules and
 * number/date formatting), with RFC 4180 quoting where a field needs it and,
 * with --per-cell, one more column per grade or task cell.
 */
#include <stdlib.h>
#include <string.h>

#include "export_int.h"

static const char *const columns[] = {"assignment", "duedate",	 "timestamp",
				      "student_id", "last_name", "first_name",
				      "email",	    "raw_score", "late_submission_penalty",
				      "score",	    "max_score"};

/* True when the cell earns points (a column with --per-cell). */
static bool scored(const struct gb_cell *c)
{
	return c->grade || c->task;
}

static void header(FILE *out, const struct gb_assignment *const *as, size_t n, bool per_cell)
{
	for (size_t i = 0; i < sizeof(columns) / sizeof(*columns); i++)
		fprintf(out, "%s%s", i ? "," : "", columns[i]);
	for (size_t i = 0; per_cell && i < n; i++) {
		for (size_t j = 0; j < as[i]->n_notebooks; j++) {
			const struct gb_notebook *nb = as[i]->notebooks[j];

			for (size_t k = 0; k < nb->n_cells; k++) {
				char *name = NULL;
				int rc;

				if (!scored(nb->cells[k]))
					continue;
				if (n > 1)
					rc = asprintf(&name, "%s/%s/%s", as[i]->name, nb->name,
						      nb->cells[k]->name);
				else
					rc = asprintf(&name, "%s/%s", nb->name, nb->cells[k]->name);
				fputc(',', out);
				if (rc >= 0)
					export_csv_field(out, name);
				free(name);
			}
		}
	}
	fputc('\n', out);
}

/* The per-cell values of one row: the cells of `a` get scores, others stay empty. */
static void cell_values(FILE *out, const struct gb_assignment *const *as, size_t n,
			const struct gb_assignment *a, const struct gb_submission *sub)
{
	char num[32];

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < as[i]->n_notebooks; j++) {
			const struct gb_notebook *nb = as[i]->notebooks[j];
			const struct gb_nbresult *r = sub ? gb_find_nbresult(sub, nb->name) : NULL;

			for (size_t k = 0; k < nb->n_cells; k++) {
				const struct gb_grade *g;

				if (!scored(nb->cells[k]))
					continue;
				fputc(',', out);
				if (as[i] != a)
					continue;
				g = r ? gb_find_grade(r, nb->cells[k]->name) : NULL;
				gr_py_float_repr(num, g ? gb_grade_score(g) : 0.0);
				fputs(num, out);
			}
		}
	}
}

static int row(FILE *out, const struct gb_assignment *a, const struct gb_student *s,
	       const struct gb_submission *sub, struct gr_err *err)
{
	char due[40] = "", date[40] = "", num[32];
	double raw = 0.0, pen = 0.0, score = 0.0;

	if (a->duedate && export_utc_time(due, a->duedate, true) < 0)
		return gr_err_set(err, GR_EINVAL, "assignment '%s': bad duedate", a->name);
	if (sub && sub->timestamp && export_utc_time(date, sub->timestamp, true) < 0)
		return gr_err_set(err, GR_EINVAL, "submission of '%s': bad timestamp", s->id);
	export_csv_fields(out, (const char *const[]){a->name, due, date}, 3);
	for (size_t i = 0; i < 4; i++) {
		fputc(',', out);
		export_csv_text(
		    out, (const char *const[]){s->id, s->last_name, s->first_name, s->email}[i]);
	}
	if (sub) {
		raw = sub->raw_score;
		pen = sub->late_submission_penalty;
		score = raw - pen > 0.0 ? raw - pen : 0.0;
	}
	gr_py_float_repr(num, raw);
	fprintf(out, ",%s", num);
	gr_py_float_repr(num, pen);
	fprintf(out, ",%s", num);
	gr_py_float_repr(num, score);
	fprintf(out, ",%s", num);
	gr_py_float_repr(num, a->max_score);
	fprintf(out, ",%s", num);
	return 0;
}

int export_csv_sel(FILE *out, struct export_sel *sel, const struct export_opts *o,
		   struct gr_err *err)
{
	int rc = 0;

	header(out, sel->as, sel->na, o && o->per_cell);
	for (size_t i = 0; i < sel->na; i++) {
		for (size_t j = 0; j < sel->ns; j++) {
			const struct gb_submission *sub = NULL;

			if ((rc = export_sel_sub(sel, i, j, &sub, err)) < 0)
				return rc;
			/* A submission marked missing is no submission, as in nbgrader. */
			if (sub && sub->status == GB_MISSING)
				sub = NULL;
			if ((rc = row(out, sel->as[i], sel->ss[j], sub, err)) < 0)
				return rc;
			if (o && o->per_cell)
				cell_values(out, sel->as, sel->na, sel->as[i], sub);
			fputc('\n', out);
		}
	}
	return rc;
}

int export_csv(FILE *out, const struct gb_gradebook *gb, const struct export_opts *o,
	       struct gr_err *err)
{
	return export_over(export_csv_sel, "csv", out, gb, o, err);
}
