/* test_score.c - unit tests for nbgrader's scoring rules and late penalties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "grader/score.h"
#include "test_skip.h"

static struct score_cell ran(double points, int raised, int err, const char *result,
			     int result_first)
{
	struct score_run run = {.ran = 1,
				.raised = raised,
				.wrote_stderr = err,
				.result_text = result,
				.result_first = result_first};
	struct score_cell c;

	assert_int_equal(score_test_cell(&c, points, &run, NULL), 0);
	return c;
}

static void test_score__test_cell_basic_rules(void **state)
{
	struct score_cell c;
	struct score_run never = {0};
	(void)state;

	c = ran(2, 0, 0, NULL, 0);
	assert_true(c.score == 2 && c.max == 2 && c.reason == SCORE_PASSED && !c.needs_manual);
	c = ran(2, 1, 0, NULL, 0);
	assert_true(c.score == 0 && c.reason == SCORE_FAILED);
	c = ran(2, 0, 1, NULL, 0);
	assert_true(c.score == 0 && c.reason == SCORE_FAILED);
	assert_int_equal(score_test_cell(&c, 3, &never, NULL), 0);
	assert_true(c.score == 0 && c.max == 3 && c.reason == SCORE_FAILED);
	assert_int_equal(score_test_cell(&c, -1, &never, NULL), GR_EINVAL);
	assert_int_equal(score_test_cell(&c, NAN, &never, NULL), GR_EINVAL);
}

static void test_score__partial_credit(void **state)
{
	struct score_cell c;
	(void)state;

	c = ran(3, 0, 0, "1.5", 0);
	assert_true(c.score == 1.5 && c.reason == SCORE_PARTIAL);
	/* 0 is a real zero (nbgrader fixed `> 0` into `>= 0`, PR #1410) */
	c = ran(3, 0, 0, "0", 0);
	assert_true(c.score == 0 && c.reason == SCORE_PARTIAL);
	c = ran(3, 0, 0, "-0.0", 0);
	assert_true(c.score == 0 && !signbit(c.score));
	c = ran(3, 0, 0, "3", 0);
	assert_true(c.score == 3 && c.reason == SCORE_PARTIAL);
	c = ran(3, 0, 0, " 1_0e-1\n", 0);
	assert_true(c.score == 1.0 && c.reason == SCORE_PARTIAL);
	/* negative, non-number, nan: full points (nbgrader warns) */
	c = ran(3, 0, 0, "-1", 0);
	assert_true(c.score == 3 && c.reason == SCORE_PASSED);
	c = ran(3, 0, 0, "-inf", 0);
	assert_true(c.score == 3 && c.reason == SCORE_PASSED);
	c = ran(3, 0, 0, "'ok'", 0);
	assert_true(c.score == 3 && c.reason == SCORE_PASSED);
	c = ran(3, 0, 0, "[1, 2]", 0);
	assert_true(c.score == 3 && c.reason == SCORE_PASSED);
	c = ran(3, 0, 0, "np.float64(0.5)", 0);
	assert_true(c.score == 3 && c.reason == SCORE_PASSED);
	c = ran(3, 0, 0, "nan", 0);
	assert_true(c.score == 3 && c.reason == SCORE_PASSED);
	c = ran(3, 0, 0, "", 0);
	assert_true(c.score == 3 && c.reason == SCORE_PASSED);
	/* above points or +inf: nbgrader errors; we give 0 and ask a human */
	c = ran(3, 0, 0, "3.5", 0);
	assert_true(c.score == 0 && c.reason == SCORE_BAD_PARTIAL && c.needs_manual);
	c = ran(3, 0, 0, "inf", 0);
	assert_true(c.score == 0 && c.reason == SCORE_BAD_PARTIAL);
	/* zero-point cell: any non-negative result is above points unless 0 */
	c = ran(0, 0, 0, "0", 0);
	assert_true(c.score == 0 && c.max == 0 && c.reason == SCORE_PARTIAL);
}

static void test_score__output_order(void **state)
{
	struct score_cell c;
	(void)state;

	/* stderr then result (the usual order): stderr wins */
	c = ran(4, 0, 1, "2", 0);
	assert_true(c.score == 0 && c.reason == SCORE_FAILED);
	/* result written before any stderr: the result decides, as in nbgrader */
	c = ran(4, 0, 1, "2", 1);
	assert_true(c.score == 2 && c.reason == SCORE_PARTIAL);
	c = ran(4, 1, 0, NULL, 1);
	assert_true(c.score == 0);
}

static void test_score__answer_cells(void **state)
{
	struct score_cell c;
	(void)state;

	assert_int_equal(score_answer_cell(&c, 1, 5, 1, NULL), 0);
	assert_true(c.score == 0 && c.max == 5 && c.reason == SCORE_NO_RESPONSE);
	assert_string_equal(c.comment, "No response.");
	assert_false(c.needs_manual);
	assert_int_equal(score_answer_cell(&c, 1, 5, 0, NULL), 0);
	assert_true(c.needs_manual && c.reason == SCORE_MANUAL && c.comment == NULL);
	assert_int_equal(score_answer_cell(&c, 0, 5, 1, NULL), 0);
	assert_true(c.max == 0 && c.reason == SCORE_NO_RESPONSE);
	assert_int_equal(score_answer_cell(&c, 0, 0, 0, NULL), 0);
	assert_true(c.max == 0 && c.comment == NULL && !c.needs_manual);
}

static void test_score__pyfloat_grammar(void **state)
{
	double v;
	(void)state;

	assert_true(score_parse_pyfloat(&v, "1e3") && v == 1000);
	assert_true(score_parse_pyfloat(&v, "+.5") && v == 0.5);
	assert_true(score_parse_pyfloat(&v, "5.") && v == 5);
	assert_true(score_parse_pyfloat(&v, "INFINITY") && isinf(v));
	assert_true(score_parse_pyfloat(&v, "-NaN") && isnan(v));
	assert_true(score_parse_pyfloat(&v, "1_000.000_1") && v == 1000.0001);
	assert_false(score_parse_pyfloat(&v, "1__0"));
	assert_false(score_parse_pyfloat(&v, "_1"));
	assert_false(score_parse_pyfloat(&v, "1_"));
	assert_false(score_parse_pyfloat(&v, "1._5"));
	assert_false(score_parse_pyfloat(&v, "0x10"));
	assert_false(score_parse_pyfloat(&v, "."));
	assert_false(score_parse_pyfloat(&v, "1e"));
	assert_false(score_parse_pyfloat(&v, "1 2"));
	assert_false(score_parse_pyfloat(&v, "infinit"));
	assert_false(score_parse_pyfloat(&v, NULL));
}

/* A time as util parses it (nbgrader's rule for a missing zone when naive_utc). */
static int parse(struct gr_time *t, const char *text, int naive_utc, struct gr_err *err)
{
	return gr_time_parse(&t->sec, &t->usec, text, naive_utc ? GR_TIME_NAIVE_UTC : 0, err);
}

static bool same(const struct gr_time *a, const struct gr_time *b)
{
	return a->sec == b->sec && a->usec == b->usec;
}

static void format(char out[GR_TIME_MAX], const struct gr_time *t)
{
	gr_time_format(out, GR_TIME_MAX, t->sec, t->usec, GR_TIME_ISO_FRAC);
}

static void test_score__late_penalties(void **state)
{
	struct score_late_policy none = {.method = SCORE_LATE_NONE};
	struct score_late_policy zero = {.method = SCORE_LATE_ZERO};
	struct score_late_policy hour = {
	    .method = SCORE_LATE_PERCENT, .percent = 10, .period = 3600, .cap = 50};
	struct score_late_policy day = {
	    .method = SCORE_LATE_PERCENT, .percent = 40, .period = 86400, .cap = 100};
	(void)state;

	assert_true(score_late_penalty(&none, 10, 99999) == 0);
	assert_true(score_late_penalty(&zero, 10, 1) == 10);
	assert_true(score_late_penalty(&zero, 10, 0) == 0); /* exactly on time */
	assert_true(score_late_penalty(&hour, 10, 0) == 0);
	assert_true(score_late_penalty(&hour, 10, 1) == 1); /* a started hour counts */
	assert_true(score_late_penalty(&hour, 10, 3600) == 1);
	assert_true(score_late_penalty(&hour, 10, 3601) == 2);
	assert_true(score_late_penalty(&hour, 10, 100 * 3600) == 5);	/* capped at 50% */
	assert_true(score_late_penalty(&day, 10, 86400 * 2 + 5) == 10); /* 120% -> the score */
	assert_true(score_late_penalty(&day, 0, 86400) == 0);
	assert_true(score_late_penalty(&zero, -3, 10) == 0);
	/* extension: due + extension, never negative */
	assert_true(score_seconds_late(&(struct gr_time){1000, 0}, &(struct gr_time){900, 0}, 0) ==
		    100);
	assert_true(
	    score_seconds_late(&(struct gr_time){1000, 0}, &(struct gr_time){900, 0}, 200) == 0);
	assert_true(score_seconds_late(&(struct gr_time){1000, 0}, &(struct gr_time){1000, 0}, 0) ==
		    0);
	/* microseconds count, across a second's boundary */
	assert_true(score_seconds_late(&(struct gr_time){1001, 250000},
				       &(struct gr_time){1000, 750000}, 0) == 0.5);
}

static void test_score__timestamps(void **state)
{
	struct gr_time t, u;
	char buf[GR_TIME_MAX];
	struct gr_err err = {0};
	(void)state;

	/* 2026-10-30T10:00:00Z = 1793354400 (date -u -d ... +%s) */
	assert_int_equal(parse(&t, "2026-10-30 10:00:00.000000 UTC", 1, &err), 0);
	assert_true(t.sec == 1793354400 && t.usec == 0);
	assert_int_equal(parse(&u, "2026-10-30T10:00:00Z", 0, &err), 0);
	assert_true(same(&u, &t));
	assert_int_equal(parse(&u, "2026-10-30T12:00:00+02:00", 0, &err), 0);
	assert_true(same(&u, &t));
	assert_int_equal(parse(&u, "2026-10-30 05:30:00 -0430\n", 0, &err), 0);
	assert_true(same(&u, &t));
	assert_int_equal(parse(&u, "2026-10-30 10:00:00.25 GMT", 0, &err), 0);
	assert_true(u.sec == t.sec && u.usec == 250000);
	assert_int_equal(parse(&u, "2026-10-30 10:00", 1, &err), 0);
	assert_true(same(&u, &t));
	assert_int_equal(parse(&u, "2024-02-29T00:00:00Z", 0, &err), 0);
	assert_true(u.sec == 1709164800 && u.usec == 0);
	assert_int_equal(parse(&u, "2026-10-30 10:00:00", 0, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "missing time zone"));
	assert_int_equal(parse(&u, "2026-10-30 12:00:00.000000 CEST", 1, &err), 0);
	assert_true(same(&u, &t));
	assert_int_equal(parse(&u, "2026-10-30 06:00:00 EDT", 1, &err), 0);
	assert_true(same(&u, &t));
	/* tz database names: Paris is on CET again after 2026-10-25 */
	assert_int_equal(parse(&u, "2026-10-30 11:00:00 Europe/Paris", 1, &err), 0);
	assert_true(same(&u, &t));
	assert_int_equal(parse(&u, "2026-10-30 10:00:00 Europe/Atlantis", 1, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "unknown time zone 'Europe/Atlantis'"));
	assert_int_equal(parse(&u, "2025-02-29 10:00:00 UTC", 1, &err), GR_EINVAL);
	assert_int_equal(parse(&u, "2026-13-01 10:00:00 UTC", 1, &err), GR_EINVAL);
	assert_int_equal(parse(&u, "2026-10-30 24:00:00 UTC", 1, &err), GR_EINVAL);
	assert_int_equal(parse(&u, "yesterday", 1, &err), GR_EINVAL);
	assert_string_equal(
	    err.msg,
	    "invalid time 'yesterday': expected YYYY-MM-DD HH:MM[:SS[.ffffff]] and a zone");
	format(buf, &t);
	assert_string_equal(buf, "2026-10-30T10:00:00Z");
	format(buf, &(struct gr_time){1709164800 - 1, 0});
	assert_string_equal(buf, "2024-02-28T23:59:59Z");
	/* timestamp.txt's microseconds survive, as in nbgrader's database */
	assert_int_equal(parse(&u, "2026-10-30 10:00:00.123456 UTC", 1, &err), 0);
	format(buf, &u);
	assert_string_equal(buf, "2026-10-30T10:00:00.123456Z");
	assert_int_equal(parse(&u, "2026-10-30 09:59:59.999999 UTC", 1, &err), 0);
	format(buf, &u);
	assert_string_equal(buf, "2026-10-30T09:59:59.999999Z");
	assert_int_equal(parse(&u, "2026-10-30 10:00:00.000001 UTC", 1, &err), 0);
	format(buf, &u);
	assert_string_equal(buf, "2026-10-30T10:00:00.000001Z");
}

static void test_score__durations(void **state)
{
	double v;
	(void)state;

	assert_int_equal(score_parse_duration(&v, "36h", NULL), 0);
	assert_true(v == 36 * 3600);
	assert_int_equal(score_parse_duration(&v, "1d12h30m5s", NULL), 0);
	assert_true(v == 86400 + 12 * 3600 + 30 * 60 + 5);
	assert_int_equal(score_parse_duration(&v, "2.5d", NULL), 0);
	assert_true(v == 2.5 * 86400);
	assert_int_equal(score_parse_duration(&v, "3600", NULL), 0);
	assert_true(v == 3600);
	assert_int_equal(score_parse_duration(&v, "-1h", NULL), GR_EINVAL);
	assert_int_equal(score_parse_duration(&v, "1w", NULL), GR_EINVAL);
	assert_int_equal(score_parse_duration(&v, "1h5", NULL), GR_EINVAL);
	assert_int_equal(score_parse_duration(&v, "", NULL), GR_EINVAL);
}

/* A due date and a submission on either side of a daylight-saving change. */
static void test_score__duedate_across_dst(void **state)
{
	struct score_late_policy day = {
	    .method = SCORE_LATE_PERCENT, .percent = 10, .period = 86400, .cap = 100};
	struct gr_err err = {0};
	struct gr_time due, sub;
	(void)state;

	if (access("/usr/share/zoneinfo/Europe/London", R_OK) != 0) {
		SKIP_BECAUSE("no tz database here (Debian's tzdata)");
		return;
	}
	/* due 17:00 BST (16:00Z); London goes back to GMT on 2026-10-25 */
	assert_int_equal(parse(&due, "2026-10-24 17:00:00 Europe/London", 0, &err), 0);
	assert_int_equal(parse(&sub, "2026-10-25 17:00:00 Europe/London", 0, &err), 0);
	/* one wall-clock day later is 25 hours: two started days late */
	assert_true(score_seconds_late(&sub, &due, 0) == 25 * 3600);
	assert_true(score_late_penalty(&day, 10, score_seconds_late(&sub, &due, 0)) == 2);
	/* spring: due 2026-03-28 12:00 GMT, in 2026-03-29 12:00 BST: 23 hours, one day */
	assert_int_equal(parse(&due, "2026-03-28 12:00:00 Europe/London", 0, &err), 0);
	assert_int_equal(parse(&sub, "2026-03-29 12:00:00 Europe/London", 0, &err), 0);
	assert_true(score_seconds_late(&sub, &due, 0) == 23 * 3600);
	assert_true(score_late_penalty(&day, 10, score_seconds_late(&sub, &due, 0)) == 1);
	/* the same instant written in two zones is on time to the second */
	assert_int_equal(parse(&due, "2026-07-01 09:00:00 America/Los_Angeles", 0, &err), 0);
	assert_int_equal(parse(&sub, "2026-07-01 17:00:00 Europe/London", 0, &err), 0);
	assert_true(score_seconds_late(&sub, &due, 0) == 0);
	assert_true(same(&due, &sub));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_score__test_cell_basic_rules),
	    cmocka_unit_test(test_score__partial_credit),
	    cmocka_unit_test(test_score__output_order),
	    cmocka_unit_test(test_score__answer_cells),
	    cmocka_unit_test(test_score__pyfloat_grammar),
	    cmocka_unit_test(test_score__late_penalties),
	    cmocka_unit_test(test_score__timestamps),
	    cmocka_unit_test(test_score__duedate_across_dst),
	    cmocka_unit_test(test_score__durations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
