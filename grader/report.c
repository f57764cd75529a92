/*
 * report.c - the figures of the course report (report.h): counts, score
 * distribution, per-question means and pass rates, item analysis, flagged
 * and slow submissions; and their JSON form.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

double report_pearson(const double *x, const double *y, size_t n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;

	if (n < 2)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (size_t i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	/* Below rounding noise a variance is no variance: the figure is undefined. */
	if (sxx <= 1e-12 || syy <= 1e-12)
		return NAN;
	return sxy / sqrt(sxx * syy);
}

/* Variance with n in the denominator: alpha's ratio is the same with n - 1. */
static double variance(const double *v, size_t n, size_t stride)
{
	double m = 0, s = 0;

	for (size_t i = 0; i < n; i++)
		m += v[i * stride];
	m /= (double)n;
	for (size_t i = 0; i < n; i++)
		s += (v[i * stride] - m) * (v[i * stride] - m);
	return s / (double)n;
}

double report_cronbach_alpha(const double *scores, size_t n, size_t k)
{
	double *tot, sum_var = 0, var_tot;

	if (k < 2 || n < 2)
		return NAN;
	tot = calloc(n, sizeof(*tot));
	if (!tot)
		return NAN;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < k; j++)
			tot[i] += scores[i * k + j];
	for (size_t j = 0; j < k; j++)
		sum_var += variance(scores + j, n, k);
	var_tot = variance(tot, n, 1);
	free(tot);
	if (var_tot <= 1e-12)
		return NAN;
	return (double)k / (double)(k - 1) * (1.0 - sum_var / var_tot);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_slow(const void *a, const void *b)
{
	double x = ((const struct report_slow *)a)->seconds;
	double y = ((const struct report_slow *)b)->seconds;

	return (x < y) - (x > y);
}

/* Keep the REPORT_SLOWEST longest notebooks seen so far, longest first. */
static void note_slow(struct report_assignment *ra, const char *student, const char *nb,
		      double seconds)
{
	if (ra->n_slow == REPORT_SLOWEST && seconds <= ra->slow[REPORT_SLOWEST - 1].seconds)
		return;
	if (ra->n_slow < REPORT_SLOWEST)
		ra->n_slow++;
	ra->slow[ra->n_slow - 1] = (struct report_slow){student, nb, seconds};
	qsort(ra->slow, ra->n_slow, sizeof(*ra->slow), cmp_slow);
}

/* "flag, flag: message" for a flagged or errored submission; NULL when none. */
static char *reasons(const struct gb_submission *sub)
{
	struct gr_buf b = {0};
	bool nb_flagged = false;

	for (size_t i = 0; i < sub->n_flags; i++) {
		if (i)
			gr_buf_put(&b, ", ", 2);
		gr_buf_put(&b, sub->flags[i], strlen(sub->flags[i]));
	}
	for (size_t j = 0; j < sub->n_notebooks; j++)
		nb_flagged |= sub->notebooks[j]->flagged;
	if (!sub->n_flags && nb_flagged)
		gr_buf_put(&b, "flagged notebook", 16);
	if (sub->message) {
		if (b.len)
			gr_buf_put(&b, ": ", 2);
		gr_buf_put(&b, sub->message, strlen(sub->message));
	}
	if (!b.len)
		gr_buf_put(&b, gb_status_name(sub->status), strlen(gb_status_name(sub->status)));
	return b.p;
}

/* Fill the items of ra (the questions of the assignment, in notebook order). */
static int list_items(struct report_assignment *ra)
{
	const struct gb_assignment *a = ra->a;
	size_t n = 0;

	for (size_t j = 0; j < a->n_notebooks; j++)
		for (size_t k = 0; k < a->notebooks[j]->n_cells; k++)
			n += a->notebooks[j]->cells[k]->grade || a->notebooks[j]->cells[k]->task;
	ra->items = calloc(n + 1, sizeof(*ra->items));
	if (!ra->items)
		return GR_ENOMEM;
	for (size_t j = 0; j < a->n_notebooks; j++) {
		const struct gb_notebook *nb = a->notebooks[j];

		for (size_t k = 0; k < nb->n_cells; k++) {
			const struct gb_cell *c = nb->cells[k];
			struct report_item *it = &ra->items[ra->n_items];

			if (!c->grade && !c->task)
				continue;
			it->notebook = nb->name;
			it->grade_id = c->name;
			it->max_score = gb_isset(c->max_score) ? c->max_score : 0;
			it->hidden_tests = c->hidden_tests;
			it->manual = c->task || c->solution;
			it->mean = it->pass_rate = it->difficulty = it->discrimination = NAN;
			ra->n_items++;
		}
	}
	return 0;
}

/*
 * Per-question figures from the score matrix m (n received submissions by
 * n_items), then alpha and item-rest correlations over the analysed items.
 */
static int analyse_items(struct report_assignment *ra, const double *m, const bool *scored,
			 size_t n)
{
	size_t k = ra->n_items, na = 0;
	double *sub = NULL, *x = NULL, *rest = NULL;
	int rc = GR_ENOMEM;

	for (size_t j = 0; j < k; j++) {
		struct report_item *it = &ra->items[j];
		double sum = 0;
		size_t full = 0;

		it->n = n;
		for (size_t i = 0; i < n; i++) {
			sum += m[i * k + j];
			full += m[i * k + j] >= it->max_score - GB_EPSILON;
			it->analysed |= scored[i * k + j];
		}
		if (n && it->analysed) {
			it->mean = sum / (double)n;
			it->pass_rate = (double)full / (double)n;
			if (it->max_score > 0)
				it->difficulty = it->mean / it->max_score;
		}
		na += it->analysed;
	}
	sub = calloc(n * na + 1, sizeof(*sub));
	x = calloc(n + 1, sizeof(*x));
	rest = calloc(n + 1, sizeof(*rest));
	if (!sub || !x || !rest)
		goto done;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0, c = 0; j < k; j++)
			if (ra->items[j].analysed)
				sub[i * na + c++] = m[i * k + j];
	ra->alpha = report_cronbach_alpha(sub, n, na);
	for (size_t j = 0, c = 0; j < k; j++) {
		if (!ra->items[j].analysed)
			continue;
		for (size_t i = 0; i < n; i++) {
			x[i] = sub[i * na + c];
			rest[i] = 0;
			for (size_t o = 0; o < na; o++)
				if (o != c)
					rest[i] += sub[i * na + o];
		}
		if (na >= 2)
			ra->items[j].discrimination = report_pearson(x, rest, n);
		c++;
	}
	rc = 0;
done:
	free(sub);
	free(x);
	free(rest);
	return rc;
}

/* Score distribution of the final scores received (v, n of them). */
static void distribution(struct report_assignment *ra, double *v, size_t n)
{
	double max = ra->a->max_score, sum = 0, ss = 0;

	ra->mean = ra->median = ra->min = ra->max = ra->stdev = NAN;
	if (!n)
		return;
	for (size_t i = 0; i < n; i++) {
		int bin = max > 0 ? (int)floor(v[i] / max * REPORT_BINS) : 0;

		/* Full marks belong to the last bin; extra credit too. */
		bin = bin < 0 ? 0 : bin >= REPORT_BINS ? REPORT_BINS - 1 : bin;
		ra->hist[bin]++;
		sum += v[i];
	}
	ra->mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - ra->mean) * (v[i] - ra->mean);
	ra->stdev = n > 1 ? sqrt(ss / (double)(n - 1)) : NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	ra->min = v[0];
	ra->max = v[n - 1];
	ra->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One submission's counts, flags, times and row of the score matrix. */
static int count_submission(struct report_assignment *ra, const struct gb_submission *sub,
			    double *row, bool *scored)
{
	bool flagged = sub->n_flags > 0;
	char *why;

	if (sub->late_seconds > 0)
		ra->n_late++;
	ra->n_graded += sub->status == GB_GRADED;
	ra->n_error += sub->status == GB_ERROR;
	for (size_t j = 0; j < sub->n_notebooks; j++) {
		const struct gb_nbresult *r = sub->notebooks[j];
		double t = 0;
		bool timed = false;

		flagged |= r->flagged;
		for (size_t g = 0; g < r->n_grades; g++)
			if (gb_isset(r->grades[g]->time)) {
				t += r->grades[g]->time;
				timed = true;
			}
		if (timed)
			note_slow(ra, sub->student_id, r->name, t);
	}
	for (size_t j = 0; j < ra->n_items; j++) {
		const struct gb_nbresult *r = gb_find_nbresult(sub, ra->items[j].notebook);
		const struct gb_grade *g = r ? gb_find_grade(r, ra->items[j].grade_id) : NULL;

		row[j] = g ? gb_grade_score(g) : 0;
		/* A hand-graded question counts once a marker scored it, not its 0 placeholder. */
		scored[j] = g && (gb_isset(g->manual_score) ||
				  (!ra->items[j].manual && gb_isset(g->auto_score)));
	}
	if (!flagged && sub->status != GB_ERROR)
		return 0;
	ra->n_flagged += flagged;
	why = reasons(sub);
	if (!why)
		return GR_ENOMEM;
	ra->flagged[ra->n_flagged_list++] = (struct report_flagged){sub->student_id, why};
	return 0;
}

static int compute_one(struct report_assignment *ra, const struct gb_gradebook *gb)
{
	size_t ns = gb->n_submissions, k, n = 0;
	double *m = NULL, *finals = NULL;
	bool *scored = NULL;
	int rc = list_items(ra);

	if (rc < 0)
		return rc;
	k = ra->n_items;
	rc = GR_ENOMEM;
	m = calloc(ns * k + 1, sizeof(*m));
	scored = calloc(ns * k + 1, sizeof(*scored));
	finals = calloc(ns + 1, sizeof(*finals));
	ra->flagged = calloc(ns + 1, sizeof(*ra->flagged));
	if (!m || !scored || !finals || !ra->flagged)
		goto done;
	ra->n_students = gb->n_students;
	for (size_t i = 0; i < ns; i++) {
		const struct gb_submission *sub = gb->submissions[i];

		if (strcmp(sub->assignment, ra->a->name))
			continue;
		if (sub->status == GB_MISSING) {
			ra->n_missing++;
			continue;
		}
		rc = count_submission(ra, sub, m + n * k, scored + n * k);
		if (rc < 0)
			goto done;
		finals[n++] = sub->score;
	}
	ra->n_received = n;
	/* Students of the gradebook without any entry for this assignment are missing too. */
	if (ra->n_students > n + ra->n_missing)
		ra->n_missing = ra->n_students - n;
	distribution(ra, finals, n);
	rc = analyse_items(ra, m, scored, n);
done:
	free(m);
	free(scored);
	free(finals);
	return rc;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_assignments; i++) {
		struct report_assignment *ra = &r->assignments[i];

		for (size_t j = 0; j < ra->n_flagged_list; j++)
			free(ra->flagged[j].reasons);
		free(ra->flagged);
		free(ra->items);
	}
	free(r->assignments);
	free(r);
}

int report_compute(struct report **out, const struct gb_gradebook *gb, const char *assignment,
		   struct gr_err *err)
{
	struct report *r = calloc(1, sizeof(*r));
	int rc = GR_ENOMEM;

	if (!r)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	r->gb = gb;
	r->assignments = calloc(gb->n_assignments + 1, sizeof(*r->assignments));
	if (!r->assignments)
		goto done;
	for (size_t i = 0; i < gb->n_assignments; i++) {
		struct report_assignment *ra = &r->assignments[r->n_assignments];

		if (assignment && strcmp(assignment, gb->assignments[i]->name))
			continue;
		ra->a = gb->assignments[i];
		r->n_assignments++;
		rc = compute_one(ra, gb);
		if (rc < 0)
			goto done;
	}
	if (assignment && !r->n_assignments) {
		rc = gr_err_set(err, GR_ENOTFOUND, "no assignment '%s' in the gradebook",
				assignment);
		goto done;
	}
	*out = r;
	return 0;
done:
	report_free(r);
	return rc == GR_ENOMEM ? gr_err_set(err, rc, "out of memory") : rc;
}

/* ---- JSON ------------------------------------------------------------- */

static json_t *num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *item_json(const struct report_item *it)
{
	return json_pack("{s:s, s:s, s:o, s:b, s:b, s:b, s:I, s:o, s:o, s:o, s:o}", "notebook",
			 it->notebook, "grade_id", it->grade_id, "max_score", num(it->max_score),
			 "hidden_tests", it->hidden_tests, "manual", it->manual, "analysed",
			 it->analysed, "n", (json_int_t)it->n, "mean", num(it->mean), "pass_rate",
			 num(it->pass_rate), "difficulty", num(it->difficulty), "discrimination",
			 num(it->discrimination));
}

static json_t *assignment_json(const struct report_assignment *ra)
{
	json_t *items = json_array(), *hist = json_array(), *flagged = json_array();
	json_t *slow = json_array(), *o = NULL;

	if (!items || !hist || !flagged || !slow)
		goto done;
	for (size_t i = 0; i < REPORT_BINS; i++)
		if (json_array_append_new(hist, json_integer((json_int_t)ra->hist[i])))
			goto done;
	for (size_t i = 0; i < ra->n_items; i++)
		if (json_array_append_new(items, item_json(&ra->items[i])))
			goto done;
	for (size_t i = 0; i < ra->n_flagged_list; i++)
		if (json_array_append_new(flagged, json_pack("{s:s, s:s}", "student_id",
							     ra->flagged[i].student_id, "reasons",
							     ra->flagged[i].reasons)))
			goto done;
	for (size_t i = 0; i < ra->n_slow; i++)
		if (json_array_append_new(slow, json_pack("{s:s, s:s, s:f}", "student_id",
							  ra->slow[i].student_id, "notebook",
							  ra->slow[i].notebook, "seconds",
							  ra->slow[i].seconds)))
			goto done;
	o = json_pack("{s:s, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, "
		      "s:{s:o, s:o, s:o, s:o, s:o}, s:o, s:O, s:O, s:O, s:O}",
		      "name", ra->a->name, "max_score", num(ra->a->max_score), "counts", "students",
		      (json_int_t)ra->n_students, "received", (json_int_t)ra->n_received, "graded",
		      (json_int_t)ra->n_graded, "missing", (json_int_t)ra->n_missing, "error",
		      (json_int_t)ra->n_error, "late", (json_int_t)ra->n_late, "flagged",
		      (json_int_t)ra->n_flagged, "scores", "mean", num(ra->mean), "median",
		      num(ra->median), "min", num(ra->min), "max", num(ra->max), "stdev",
		      num(ra->stdev), "cronbach_alpha", num(ra->alpha), "histogram", hist,
		      "questions", items, "flagged", flagged, "slowest", slow);
done:
	json_decref(items);
	json_decref(hist);
	json_decref(flagged);
	json_decref(slow);
	return o;
}

int report_to_json(json_t **out, const struct report *r, struct gr_err *err)
{
	json_t *arr = json_array(), *o = NULL;

	if (!arr)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->n_assignments; i++)
		if (json_array_append_new(arr, assignment_json(&r->assignments[i]))) {
			json_decref(arr);
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		}
	o = json_pack("{s:s, s:I, s:o}", "format", "grader-report", "version", (json_int_t)1,
		      "assignments", arr);
	if (!o)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	*out = o;
	return 0;
}
