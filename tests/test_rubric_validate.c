/*
 * test_rubric_validate.c - unit tests for the verdict and report of a rubric
 * proved on its own solution (rubric_validate.c): which findings are errors,
 * warnings or notes, the lines printed, and the limits suggested.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader/rubric.h"

/* A validation of one notebook "ps0.ipynb" of assignment ps0 (5 s per cell, 120 s per notebook). */
struct fixture {
	struct rubric r;
	struct rubric_notebook nb;
	struct rubric_validation *v;
	char *out;
	size_t len;
};

static void setup(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->nb.name = "ps0.ipynb";
	fx->r.assignment = "ps0";
	fx->r.limits.cell_timeout = 5;
	fx->r.limits.notebook_timeout = 120;
	fx->r.nnotebooks = 1;
	fx->r.notebooks = &fx->nb;
	assert_int_equal(rubric_validation_new(&fx->v, &fx->r, NULL), 0);
	fx->v->wall = 0.42;
}

static void teardown(struct fixture *fx)
{
	rubric_validation_free(fx->v);
	free(fx->out);
}

/* Add a cell: number, grade_id (NULL: plain), test, points, score, status, ename, evalue, time. */
static void add(struct fixture *fx, size_t number, const char *gid, int test, double points,
		double score, enum rubric_vstatus st, const char *ename, const char *evalue,
		double time)
{
	struct rubric_vcell c = {0};

	c.number = number;
	c.grade_id = gid;
	c.test = test;
	c.points = points;
	c.score = score;
	c.status = st;
	c.ename = (char *)ename;
	c.evalue = (char *)evalue;
	c.time = time;
	assert_int_equal(rubric_validation_add_cell(fx->v, 0, &c, NULL), 0);
}

/* The report's text and its number of errors. */
static size_t report(struct fixture *fx)
{
	FILE *f = open_memstream(&fx->out, &fx->len);
	size_t errors;

	assert_non_null(f);
	errors = rubric_validation_report(f, fx->v);
	fclose(f);
	return errors;
}

static void test_rubric__validate_clean(void **state)
{
	struct fixture fx;

	(void)state;
	setup(&fx);
	add(&fx, 1, NULL, 0, 0, 0, RUBRIC_V_OK, NULL, NULL, 0.01);
	add(&fx, 2, "f", 0, 0, 0, RUBRIC_V_OK, NULL, NULL, 0.01);
	add(&fx, 3, "test_f", 1, 2, 2, RUBRIC_V_OK, NULL, NULL, 0.01);
	add(&fx, 4, "test_g", 1, 1.5, 1.5, RUBRIC_V_OK, NULL, NULL, 0.01);
	fx.v->notebooks[0].wall = 0.3;
	assert_int_equal(report(&fx), 0);
	assert_string_equal(fx.out,
			    "validated ps0: 2/2 grade cells full marks (3.5 points) in 0.4 s\n");
	teardown(&fx);
}

static void test_rubric__validate_short_test(void **state)
{
	struct fixture fx;

	(void)state;
	setup(&fx);
	add(&fx, 3, "test_f", 1, 2, 0, RUBRIC_V_ERROR, "AssertionError", "f(3) is not 9", 0.01);
	add(&fx, 4, "test_g", 1, 4, 3, RUBRIC_V_OK, NULL, NULL, 0.01);
	add(&fx, 5, "test_h", 1, 1, 1, RUBRIC_V_OK, NULL, NULL, 0.01);
	assert_int_equal(report(&fx), 2);
	assert_string_equal(
	    fx.out, "error: ps0.ipynb cell 3 test_f: 0/2 points: AssertionError: f(3) is not 9\n"
		    "error: ps0.ipynb cell 4 test_g: 3/4 points: passed some but not all of the "
		    "tests, or wrote to stderr\n"
		    "ps0: 1/3 grade cells full marks (4/7 points) in 0.4 s\n");
	teardown(&fx);
}

static void test_rubric__validate_names_the_module(void **state)
{
	struct fixture fx;

	(void)state;
	setup(&fx);
	add(&fx, 1, NULL, 0, 0, 0, RUBRIC_V_ERROR, "ModuleNotFoundError", "No module named 'scipy'",
	    0.01);
	add(&fx, 2, "a", 0, 0, 0, RUBRIC_V_ERROR, "ImportError",
	    "cannot import name 'expm' from 'scipy.linalg' (/usr/lib/x.py)", 0.01);
	add(&fx, 3, "t", 1, 5, 0, RUBRIC_V_ERROR, "ModuleNotFoundError",
	    "No module named 'sympy.core'", 0.01);
	assert_int_equal(report(&fx), 3);
	assert_non_null(strstr(fx.out, "error: ps0.ipynb cell 1: import of 'scipy' failed: "
				       "ModuleNotFoundError: No module named 'scipy'\n"));
	assert_non_null(strstr(fx.out, "error: ps0.ipynb cell 2 a: import of 'scipy.linalg' "
				       "failed: ImportError: cannot import name 'expm'"));
	assert_non_null(strstr(fx.out, "error: ps0.ipynb cell 3 t: 0/5 points: import of "
				       "'sympy.core' failed"));
	teardown(&fx);
}

static void test_rubric__validate_other_errors_are_notes(void **state)
{
	struct fixture fx;

	(void)state;
	setup(&fx);
	add(&fx, 2, "a", 0, 0, 0, RUBRIC_V_ERROR, "ValueError", "math domain error", 0.01);
	add(&fx, 3, "t", 1, 1, 1, RUBRIC_V_OK, NULL, NULL, 0.01);
	assert_int_equal(report(&fx), 0);
	assert_string_equal(fx.out,
			    "note: ps0.ipynb cell 2 a raised ValueError: math domain error\n"
			    "validated ps0: 1/1 grade cells full marks (1 points) in 0.4 s\n");
	teardown(&fx);
}

static void test_rubric__validate_timeouts_and_suggestions(void **state)
{
	struct fixture fx;

	(void)state;
	setup(&fx);
	/* a slow cell and notebook: warnings with a limit three times what was used */
	add(&fx, 1, "a", 0, 0, 0, RUBRIC_V_OK, NULL, NULL, 2.1);
	add(&fx, 2, "t", 1, 1, 1, RUBRIC_V_OK, NULL, NULL, 0.01);
	fx.v->notebooks[0].wall = 50;
	assert_int_equal(report(&fx), 0);
	assert_string_equal(fx.out,
			    "warning: ps0.ipynb cell 1 a: 2.1 s of the 5 s cell limit: suggest "
			    "--cell-timeout 7\n"
			    "warning: ps0.ipynb: 50.0 s of the 120 s notebook limit: suggest "
			    "--notebook-timeout 150\n"
			    "validated ps0: 1/1 grade cells full marks (1 points) in 0.4 s\n");
	free(fx.out);
	fx.out = NULL;
	/* a cell killed at its limit: an error told once (not again as the notebook's) */
	fx.v->notebooks[0].cells[0].status = RUBRIC_V_TIMEOUT;
	fx.v->notebooks[0].cells[0].time = 5.0;
	fx.v->notebooks[0].message = strdup("cell 1 exceeded the cell time limit of 5 s");
	assert_int_equal(report(&fx), 1);
	assert_string_equal(fx.out,
			    "error: ps0.ipynb cell 1 a: timed out at the 5 s cell limit (raise "
			    "--cell-timeout if the solution needs longer)\n"
			    "ps0: 1/1 grade cells full marks (1/1 points) in 0.4 s\n");
	teardown(&fx);
}

static void test_rubric__validate_flags_crashes_escapes(void **state)
{
	struct fixture fx;

	(void)state;
	setup(&fx);
	add(&fx, 1, "t0", 1, 0, 0, RUBRIC_V_ERROR, "AssertionError", "line one\n\x1b[31mred", 0);
	add(&fx, 2, "t1", 1, 0, 0, RUBRIC_V_OK, NULL, NULL, 0);
	add(&fx, 3, "t2", 1, 2, 0, RUBRIC_V_NOT_RUN, NULL, NULL, 0);
	fx.v->notebooks[0].message = strdup("memory limit of 512 MB exceeded");
	assert_int_equal(rubric_validation_add_flag(fx.v, "replaced_builtins",
						    "builtins.len rebound (cell 1)", NULL),
			 0);
	assert_int_equal(report(&fx), 4);
	assert_string_equal(
	    fx.out,
	    "error: ps0.ipynb: the run ended early: memory limit of 512 MB exceeded\n"
	    /* a 0-point test fails by raising, as nbgrader; control bytes escaped */
	    "error: ps0.ipynb cell 1 t0: 0/0 points: AssertionError: line one\\n\\x1b[31mred\n"
	    "error: ps0.ipynb cell 3 t2: 0/2 points: not run (the run ended early)\n"
	    "error: flag replaced_builtins on the solution itself: builtins.len rebound "
	    "(cell 1): every student would be flagged\n"
	    "ps0: 1/3 grade cells full marks (0/2 points) in 0.4 s\n");
	teardown(&fx);
}

static void test_rubric__validate_suggest_limit(void **state)
{
	(void)state;
	assert_true(rubric_suggest_limit(0) == 1);
	assert_true(rubric_suggest_limit(0.1) == 1);
	assert_true(rubric_suggest_limit(1.2) == 4);
	assert_true(rubric_suggest_limit(50) == 150);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rubric__validate_clean),
	    cmocka_unit_test(test_rubric__validate_short_test),
	    cmocka_unit_test(test_rubric__validate_names_the_module),
	    cmocka_unit_test(test_rubric__validate_other_errors_are_notes),
	    cmocka_unit_test(test_rubric__validate_timeouts_and_suggestions),
	    cmocka_unit_test(test_rubric__validate_flags_crashes_escapes),
	    cmocka_unit_test(test_rubric__validate_suggest_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
