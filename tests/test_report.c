/*
 * test_report.c - unit tests of the course report: the statistics against
 * values worked out by hand (in the comments), and the figures of a small
 * gradebook built here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader/report.h"
#include "../grader/report_int.h"

static void test_report__pearson(void **state)
{
	double a[] = {1, 2, 3, 4}, b[] = {2, 4, 6, 8}, c[] = {8, 6, 4, 2};
	/* dx = -2 -1 0 1 2, dy = -1 -2 1 0 2: sxy = 8, sxx = syy = 10, r = 0.8 */
	double x[] = {1, 2, 3, 4, 5}, y[] = {2, 1, 4, 3, 5}, k[] = {3, 3, 3, 3, 3};
	(void)state;

	assert_float_equal(report_pearson(a, b, 4), 1.0, 1e-12);
	assert_float_equal(report_pearson(a, c, 4), -1.0, 1e-12);
	assert_float_equal(report_pearson(x, y, 5), 0.8, 1e-12);
	assert_true(isnan(report_pearson(x, k, 5))); /* no variance */
	assert_true(isnan(report_pearson(x, y, 1)));
}

static void test_report__cronbach_alpha(void **state)
{
	double same[] = {1, 1, 2, 2, 3, 3};	   /* identical items: alpha 1 */
	double indep[] = {1, 0, 0, 1, 1, 1, 0, 0}; /* sum of item variances = total's: 0 */
	/*
	 * Item variances (over n) .6875, .5, .25 sum to 1.4375; totals 4 2 5 0
	 * have variance 3.6875; alpha = 3/2 * (1 - 1.4375 / 3.6875) = 0.9152542...
	 */
	double m[] = {2, 1, 1, 1, 1, 0, 2, 2, 1, 0, 0, 0};
	double flat[] = {1, 1, 1, 1};
	(void)state;

	assert_float_equal(report_cronbach_alpha(same, 3, 2), 1.0, 1e-12);
	assert_float_equal(report_cronbach_alpha(indep, 4, 2), 0.0, 1e-12);
	assert_float_equal(report_cronbach_alpha(m, 4, 3), 1.5 * (1 - 1.4375 / 3.6875), 1e-12);
	assert_float_equal(report_cronbach_alpha(m, 4, 3), 0.915254237, 1e-9);
	assert_true(isnan(report_cronbach_alpha(flat, 2, 2)));
	assert_true(isnan(report_cronbach_alpha(m, 4, 1)));
}

/* The matrix of test_report__cronbach_alpha as four students' grades on q1..q3 (max 2, 2, 1). */
static struct gb_gradebook *small_gradebook(void)
{
	static const double m[4][3] = {{2, 1, 1}, {1, 1, 0}, {2, 2, 1}, {0, 0, 0}};
	static const char *ids[] = {"s1", "s2", "s3", "s4", "s5"};
	static const char *q[] = {"q1", "q2", "q3", "essay"};
	static const double maxes[] = {2, 2, 1, 5};
	struct gb_gradebook *gb;
	struct gb_assignment *a;
	struct gb_notebook *nb;
	struct gb_student *st;

	assert_int_equal(gb_new(&gb), 0);
	assert_int_equal(gb_add_assignment(gb, &a, "hw"), 0);
	assert_int_equal(gb_assignment_add_notebook(a, &nb, "nb"), 0);
	for (int j = 0; j < 4; j++) {
		struct gb_cell *c;

		assert_int_equal(gb_notebook_add_cell(nb, &c, q[j]), 0);
		c->grade = true;
		c->solution = j == 3; /* a hand-graded answer nobody graded yet */
		c->max_score = maxes[j];
		assert_int_equal(gb_set_str(&c->cell_type, "code"), 0);
	}
	gb_assignment_sum(a);
	for (int i = 0; i < 5; i++) {
		struct gb_submission *sub;
		struct gb_nbresult *r;

		assert_int_equal(gb_add_student(gb, &st, ids[i]), 0);
		assert_int_equal(gb_submission_new(&sub, "hw", ids[i]), 0);
		if (i == 4) {
			sub->status = GB_MISSING;
		} else {
			assert_int_equal(gb_submission_add_notebook(sub, &r, "nb"), 0);
			for (int j = 0; j < 4; j++) {
				struct gb_grade *g;

				assert_int_equal(gb_nbresult_add_grade(r, &g, q[j]), 0);
				g->max_score = maxes[j];
				if (j < 3)
					g->auto_score = m[i][j];
				else
					g->needs_manual_grade = true;
				g->time = 0.5 * (i + 1);
			}
		}
		if (i == 1) {
			sub->late_seconds = 3600;
			assert_int_equal(gb_submission_add_flag(sub, "tampered"), 0);
		}
		gb_submission_sum(sub, a);
		assert_int_equal(gb_take_submission(gb, sub), 0);
	}
	return gb;
}

static void test_report__figures(void **state)
{
	struct gb_gradebook *gb = small_gradebook();
	struct report *r = NULL;
	struct gr_err err = {0};
	const struct report_assignment *ra;
	(void)state;

	assert_int_equal(report_compute(&r, gb, NULL, &err), 0);
	assert_int_equal(r->n_assignments, 1);
	ra = &r->assignments[0];
	assert_int_equal(ra->n_students, 5);
	assert_int_equal(ra->n_received, 4);
	assert_int_equal(ra->n_missing, 1);
	assert_int_equal(ra->n_late, 1);
	assert_int_equal(ra->n_flagged, 1);
	assert_string_equal(ra->flagged[0].student_id, "s2");
	assert_string_equal(ra->flagged[0].reasons, "tampered");
	/* totals 4 2 5 0 of 10: mean 2.75, median 3 */
	assert_float_equal(ra->mean, 2.75, 1e-12);
	assert_float_equal(ra->median, 3.0, 1e-12);
	assert_int_equal(ra->hist[0], 1); /* 0 */
	assert_int_equal(ra->hist[2], 1); /* 2 */
	assert_int_equal(ra->hist[4], 1); /* 4 */
	assert_int_equal(ra->hist[5], 1); /* 5 */
	assert_int_equal(ra->n_items, 4);
	/* q1: 2 1 2 0 of 2: mean 1.25, difficulty .625, full marks 2 of 4 */
	assert_float_equal(ra->items[0].mean, 1.25, 1e-12);
	assert_float_equal(ra->items[0].difficulty, 0.625, 1e-12);
	assert_float_equal(ra->items[0].pass_rate, 0.5, 1e-12);
	/*
	 * q1 against rest q2 + q3 = 2 1 3 0: dx = .75 -.25 .75 -1.25, dr = .5
	 * -.5 1.5 -1.5: sxy = 3.5, sxx = 2.75, srr = 5, r = 3.5 / sqrt(13.75).
	 */
	assert_float_equal(ra->items[0].discrimination, 3.5 / sqrt(13.75), 1e-12);
	assert_float_equal(ra->items[0].discrimination, 0.9438798, 1e-6);
	/* the ungraded essay is listed, outside the analysis: alpha over q1..q3 */
	assert_false(ra->items[3].analysed);
	assert_true(ra->items[3].manual);
	assert_true(isnan(ra->items[3].discrimination));
	assert_float_equal(ra->alpha, 0.915254237, 1e-9);
	/* slowest: s4 (4 cells x 2 s) first */
	assert_int_equal(ra->n_slow, 4);
	assert_string_equal(ra->slow[0].student_id, "s4");
	assert_float_equal(ra->slow[0].seconds, 8.0, 1e-12);
	report_free(r);
	gb_free(gb);
}

static void test_report__html_and_json(void **state)
{
	struct gb_gradebook *gb = small_gradebook();
	struct report *r = NULL;
	struct gr_err err = {0};
	char *buf = NULL, *dump;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *j = NULL;
	(void)state;

	/* A hostile question name must come out as text. */
	assert_int_equal(gb_set_str(&gb->assignments[0]->notebooks[0]->cells[0]->name,
				    "<script>alert(1)</script>"),
			 0);
	assert_int_equal(report_compute(&r, gb, "hw", &err), 0);
	assert_int_equal(report_write_html(f, r, &err), 0);
	fclose(f);
	assert_null(strstr(buf, "<script"));
	assert_non_null(strstr(buf, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(buf, "<svg"));
	assert_non_null(strstr(buf, "default-src 'none'"));
	assert_int_equal(report_to_json(&j, r, &err), 0);
	dump = json_dumps(j, JSON_COMPACT);
	assert_non_null(strstr(dump, "\"missing\":1"));
	assert_non_null(strstr(dump, "\"discrimination\":null"));
	free(dump);
	json_decref(j);
	report_free(r);
	assert_int_equal(report_compute(&r, gb, "nope", &err), GR_ENOTFOUND);
	assert_string_equal(err.msg, "no assignment 'nope' in the gradebook");
	free(buf);
	gb_free(gb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report__pearson),
	    cmocka_unit_test(test_report__cronbach_alpha),
	    cmocka_unit_test(test_report__figures),
	    cmocka_unit_test(test_report__html_and_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
