/*
 * gradebook_check.c - consistency checks of a gradebook beyond JSON shapes:
 * names resolve and are unique, cells have the right kinds, scores add up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradebook_int.h"

static bool close_to(double a, double b)
{
	return fabs(a - b) <= GB_EPSILON * (1.0 + fabs(a) + fabs(b));
}

static int check_cells(const struct gb_notebook *nb, const char *where, struct gr_err *err)
{
	char w[256];
	double sum = 0.0;

	for (size_t i = 0; i < nb->n_cells; i++) {
		const struct gb_cell *c = nb->cells[i];

		snprintf(w, sizeof(w), "%s.cells[%zu]", where, i);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(nb->cells[k]->name, c->name))
				return gb_bad(err, w, "name", "duplicate cell '%s'", c->name);
		if (strcmp(c->cell_type, "code") && strcmp(c->cell_type, "markdown"))
			return gb_bad(err, w, "cell_type",
				      "expected \"code\" or \"markdown\", not '%s'", c->cell_type);
		if (c->grade && c->task)
			return gb_bad(err, w, "task",
				      "a cell cannot be both a grade and a task cell");
		if (c->grade || c->task) {
			if (!gb_isset(c->max_score) || c->max_score < 0)
				return gb_bad(err, w, "max_score",
					      "a grade or task cell needs a max_score >= 0");
			sum += c->max_score;
		}
	}
	if (!close_to(sum, nb->max_score))
		return gb_bad(err, where, "max_score",
			      "%g is not the sum of its cells' max_score (%g)", nb->max_score, sum);
	return 0;
}

static int cmp_student_at(const void *pa, const void *pb, void *arg)
{
	struct gb_student *const *st = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = strcmp(st[a]->id, st[b]->id);

	return c ? c : (a > b) - (a < b);
}

/*
 * Refuse duplicate student ids in O(n log n) (rosters reach thousands):
 * report the earliest entry that repeats an id seen before it.
 */
static int check_students(const struct gb_gradebook *gb, struct gr_err *err)
{
	size_t *order = malloc((gb->n_students + 1) * sizeof(*order)), dup = SIZE_MAX;
	char w[64];

	if (!order)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < gb->n_students; i++)
		order[i] = i;
	qsort_r(order, gb->n_students, sizeof(*order), cmp_student_at, gb->students);
	for (size_t i = 1; i < gb->n_students; i++)
		if (!strcmp(gb->students[order[i - 1]]->id, gb->students[order[i]]->id) &&
		    order[i] < dup)
			dup = order[i];
	free(order);
	if (dup == SIZE_MAX)
		return 0;
	snprintf(w, sizeof(w), "students[%zu]", dup);
	return gb_bad(err, w, "id", "duplicate student '%s'", gb->students[dup]->id);
}

int gb_check_header(const struct gb_gradebook *gb, struct gr_err *err)
{
	char w[160], wn[200];
	int rc;

	for (size_t i = 0; i < gb->n_assignments; i++) {
		const struct gb_assignment *a = gb->assignments[i];
		double sum = 0.0;

		snprintf(w, sizeof(w), "assignments[%zu]", i);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(gb->assignments[k]->name, a->name))
				return gb_bad(err, w, "name", "duplicate assignment '%s'", a->name);
		for (size_t j = 0; j < a->n_notebooks; j++) {
			snprintf(wn, sizeof(wn), "%s.notebooks[%zu]", w, j);
			for (size_t k = 0; k < j; k++)
				if (!strcmp(a->notebooks[k]->name, a->notebooks[j]->name))
					return gb_bad(err, wn, "name", "duplicate notebook '%s'",
						      a->notebooks[j]->name);
			if ((rc = check_cells(a->notebooks[j], wn, err)) < 0)
				return rc;
			sum += a->notebooks[j]->max_score;
		}
		if (!close_to(sum, a->max_score))
			return gb_bad(err, w, "max_score",
				      "%g is not the sum of its notebooks' max_score (%g)",
				      a->max_score, sum);
	}
	return check_students(gb, err);
}

static bool flag_ok(const char *f)
{
	if (!*f)
		return false;
	for (; *f; f++)
		if (!((*f >= 'a' && *f <= 'z') || (*f >= '0' && *f <= '9') || *f == '_'))
			return false;
	return true;
}

static int check_grade(const struct gb_notebook *def, const struct gb_nbresult *nb, size_t i,
		       const char *where, struct gr_err *err)
{
	const struct gb_grade *g = nb->grades[i];
	const struct gb_cell *c = gb_find_cell(def, g->grade_id);
	char w[320];

	snprintf(w, sizeof(w), "%s.grades[%zu]", where, i);
	for (size_t k = 0; k < i; k++)
		if (!strcmp(nb->grades[k]->grade_id, g->grade_id))
			return gb_bad(err, w, "grade_id", "duplicate grade for '%s'", g->grade_id);
	if (!c)
		return gb_bad(err, w, "grade_id", "notebook '%s' has no cell '%s'", def->name,
			      g->grade_id);
	if (!c->grade && !c->task)
		return gb_bad(err, w, "grade_id", "cell '%s' is neither a grade nor a task cell",
			      g->grade_id);
	if (!close_to(g->max_score, c->max_score))
		return gb_bad(err, w, "max_score", "%g differs from the cell's max_score %g",
			      g->max_score, c->max_score);
	if (gb_isset(g->auto_score) &&
	    (g->auto_score < 0 || g->auto_score > g->max_score + GB_EPSILON))
		return gb_bad(err, w, "auto_score", "%g is outside [0, %g]", g->auto_score,
			      g->max_score);
	if (gb_isset(g->manual_score) && g->manual_score < 0)
		return gb_bad(err, w, "manual_score", "%g is negative", g->manual_score);
	if (gb_isset(g->time) && g->time < 0)
		return gb_bad(err, w, "time", "%g is negative", g->time);
	return 0;
}

static int check_nbresult(const struct gb_assignment *a, const struct gb_submission *sub, size_t i,
			  const char *where, struct gr_err *err)
{
	const struct gb_nbresult *nb = sub->notebooks[i];
	const struct gb_notebook *def = gb_find_notebook(a, nb->name);
	char w[256], wc[320];
	double sum = 0.0;
	int rc;

	snprintf(w, sizeof(w), "%s.notebooks[%zu]", where, i);
	for (size_t k = 0; k < i; k++)
		if (!strcmp(sub->notebooks[k]->name, nb->name))
			return gb_bad(err, w, "name", "duplicate notebook '%s'", nb->name);
	if (!def)
		return gb_bad(err, w, "name", "assignment '%s' has no notebook '%s'", a->name,
			      nb->name);
	for (size_t j = 0; j < nb->n_grades; j++) {
		if ((rc = check_grade(def, nb, j, w, err)) < 0)
			return rc;
		sum += gb_grade_score(nb->grades[j]);
	}
	for (size_t j = 0; j < nb->n_comments; j++) {
		const struct gb_comment *c = nb->comments[j];
		const struct gb_cell *cell = gb_find_cell(def, c->grade_id);

		snprintf(wc, sizeof(wc), "%s.comments[%zu]", w, j);
		for (size_t k = 0; k < j; k++)
			if (!strcmp(nb->comments[k]->grade_id, c->grade_id))
				return gb_bad(err, wc, "grade_id", "duplicate comment for '%s'",
					      c->grade_id);
		if (!cell || (!cell->solution && !cell->task))
			return gb_bad(err, wc, "grade_id",
				      "notebook '%s' has no solution or task cell '%s'", def->name,
				      c->grade_id);
	}
	if (!close_to(nb->score, sum))
		return gb_bad(err, w, "score", "%g is not the sum of its grades' scores (%g)",
			      nb->score, sum);
	if (!close_to(nb->max_score, def->max_score))
		return gb_bad(err, w, "max_score", "%g differs from the notebook's max_score %g",
			      nb->max_score, def->max_score);
	if (nb->late_submission_penalty < 0)
		return gb_bad(err, w, "late_submission_penalty", "%g is negative",
			      nb->late_submission_penalty);
	return 0;
}

int gb_submission_validate(const struct gb_gradebook *gb, const struct gb_submission *sub,
			   const char *where, struct gr_err *err)
{
	const struct gb_assignment *a = gb_find_assignment(gb, sub->assignment);
	double raw = 0.0, pen = 0.0, want;
	char w[224];
	int rc;

	if (!where)
		where = "submission";
	if (!a)
		return gb_bad(err, where, "assignment", "unknown assignment '%s'", sub->assignment);
	if (!gb_find_student(gb, sub->student_id))
		return gb_bad(err, where, "student_id", "unknown student '%s'", sub->student_id);
	for (size_t i = 0; i < sub->n_flags; i++) {
		snprintf(w, sizeof(w), "%s.flags[%zu]", where, i);
		if (!flag_ok(sub->flags[i]))
			return gb_bad(err, w, NULL,
				      "'%s' is not a flag (lowercase letters, digits, _)",
				      sub->flags[i]);
	}
	if (sub->late_seconds < 0)
		return gb_bad(err, where, "late_seconds", "%g is negative", sub->late_seconds);
	for (size_t i = 0; i < sub->n_notebooks; i++) {
		if ((rc = check_nbresult(a, sub, i, where, err)) < 0)
			return rc;
		raw += sub->notebooks[i]->score;
		pen += sub->notebooks[i]->late_submission_penalty;
	}
	if (!close_to(sub->raw_score, raw))
		return gb_bad(err, where, "raw_score",
			      "%g is not the sum of its notebooks' scores (%g)", sub->raw_score,
			      raw);
	if (!close_to(sub->late_submission_penalty, pen))
		return gb_bad(err, where, "late_submission_penalty",
			      "%g is not the sum of its notebooks' penalties (%g)",
			      sub->late_submission_penalty, pen);
	want = raw - pen > 0 ? raw - pen : 0.0;
	if (!close_to(sub->score, want))
		return gb_bad(err, where, "score", "%g is not max(0, raw_score - penalty) = %g",
			      sub->score, want);
	if (!close_to(sub->max_score, a->max_score))
		return gb_bad(err, where, "max_score",
			      "%g differs from the assignment's max_score %g", sub->max_score,
			      a->max_score);
	return 0;
}

struct gb_seen {
	json_t *keys; /* object used as a set of "assignment\x1fstudent" */
};

int gb_seen_new(struct gb_seen **out, struct gr_err *err)
{
	struct gb_seen *s = calloc(1, sizeof(*s));

	if (!s || !(s->keys = json_object())) {
		free(s);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	*out = s;
	return 0;
}

int gb_seen_add(struct gb_seen *seen, const struct gb_submission *sub, const char *where,
		struct gr_err *err)
{
	size_t la = strlen(sub->assignment), ls = strlen(sub->student_id);
	char *key = malloc(la + ls + 2);
	int rc = 0;

	if (!key)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	memcpy(key, sub->assignment, la);
	key[la] = '\x1f';
	memcpy(key + la + 1, sub->student_id, ls + 1);
	if (json_object_get(seen->keys, key))
		rc = gb_bad(err, where, NULL, "second submission of '%s' by '%s'", sub->assignment,
			    sub->student_id);
	else if (json_object_set_new(seen->keys, key, json_true()) < 0)
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	free(key);
	return rc;
}

void gb_seen_free(struct gb_seen *seen)
{
	if (!seen)
		return;
	json_decref(seen->keys);
	free(seen);
}
