/*
 * export_items.c - one CSV row per student and question, for learning
 * analytics: assignment,student_id,notebook,question,score,max_score,status,
 * time. Every (assignment, student) pair of the selection appears, a student
 * without a submission with status "missing" and score 0; `time` is the
 * seconds the cell ran (empty when unknown).
 */
#include <stdlib.h>
#include <string.h>

#include "export_int.h"

static void row(FILE *out, const struct gb_assignment *a, const struct gb_student *s,
		const struct gb_notebook *nb, const struct gb_cell *c,
		const struct gb_submission *sub)
{
	const struct gb_nbresult *r = sub ? gb_find_nbresult(sub, nb->name) : NULL;
	const struct gb_grade *g = r ? gb_find_grade(r, c->name) : NULL;
	bool missing = !sub || sub->status == GB_MISSING;
	char score[32], max[32], t[32] = "";
	const char *status;

	gr_py_float_repr(score, g && !missing ? gb_grade_score(g) : 0.0);
	gr_py_float_repr(max, gb_isset(c->max_score) ? c->max_score : 0.0);
	if (missing)
		status = "missing";
	else if (!g)
		status = gb_cell_status_name(GB_CELL_MISSING);
	else if (g->needs_manual_grade && !gb_isset(g->manual_score))
		status = "needs_manual_grade";
	else
		status = gb_cell_status_name(g->status);
	if (g && !missing && gb_isset(g->time))
		snprintf(t, sizeof(t), "%.6f", g->time);
	export_csv_fields(out, (const char *const[]){a->name, s->id, nb->name, c->name}, 4);
	fprintf(out, ",%s,%s,%s,%s\n", score, max, status, t);
}

int export_items_sel(FILE *out, struct export_sel *sel, const struct export_opts *o,
		     struct gr_err *err)
{
	int rc = 0;

	(void)o;
	fputs("assignment,student_id,notebook,question,score,max_score,status,time\n", out);
	for (size_t i = 0; i < sel->na; i++) {
		const struct gb_assignment *a = sel->as[i];

		for (size_t k = 0; k < sel->ns; k++) {
			const struct gb_submission *sub = NULL;

			if ((rc = export_sel_sub(sel, i, k, &sub, err)) < 0)
				return rc;
			for (size_t j = 0; j < a->n_notebooks; j++) {
				const struct gb_notebook *nb = a->notebooks[j];

				for (size_t c = 0; c < nb->n_cells; c++)
					if (nb->cells[c]->grade || nb->cells[c]->task)
						row(out, a, sel->ss[k], nb, nb->cells[c], sub);
			}
		}
	}
	return rc;
}

int export_items(FILE *out, const struct gb_gradebook *gb, const struct export_opts *o,
		 struct gr_err *err)
{
	return export_over(export_items_sel, "items", out, gb, o, err);
}
