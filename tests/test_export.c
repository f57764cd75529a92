/* test_export.c - unit tests of the exporters' pure functions and text outputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grader/export.h"
#include "../grader/export_int.h"

static struct gb_gradebook *fixture(void)
{
	const char *root = getenv("ROOT");
	char *path = gr_path_join(root ? root : ".", "tests/fixtures/gradebook/ps1.json");
	struct gb_gradebook *gb = NULL;
	struct gr_err err = {0};

	assert_int_equal(gb_read_file(&gb, path, &err), 0);
	free(path);
	return gb;
}

/* Run a text exporter into a heap string. */
static char *run(int (*fn)(FILE *, const struct gb_gradebook *, const struct export_opts *,
			   struct gr_err *),
		 const struct gb_gradebook *gb, const struct export_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct gr_err err = {0};

	assert_non_null(f);
	assert_int_equal(fn(f, gb, o, &err), 0);
	fclose(f);
	return buf;
}

static void test_export__times(void **state)
{
	char out[40];
	(void)state;

	assert_int_equal(export_utc_time(out, "2026-10-31T09:30:00+02:00", true), 0);
	assert_string_equal(out, "2026-10-31 07:30:00");
	assert_int_equal(export_utc_time(out, "2026-10-31T09:30:00+02:00", false), 0);
	assert_string_equal(out, "2026-10-31 07:30:00.000000");
	assert_int_equal(export_utc_time(out, "2026-10-29T21:14:03.25Z", true), 0);
	assert_string_equal(out, "2026-10-29 21:14:03.250000");
	assert_int_equal(export_utc_time(out, "1969-12-31T23:59:59Z", true), 0);
	assert_string_equal(out, "1969-12-31 23:59:59");
	assert_int_equal(export_utc_time(out, "soon", true), GR_EINVAL);
	export_db_interval(out, 86400.0);
	assert_string_equal(out, "1970-01-02 00:00:00.000000");
	export_db_interval(out, 90.5);
	assert_string_equal(out, "1970-01-01 00:01:30.500000");
}

static void test_export__duration_for_people(void **state)
{
	char out[32];
	const struct {
		double s;
		const char *want;
	} cases[] = {
	    {0, "0 s"},	       {45, "45 s"},  {60, "1 min"},	 {3599, "59 min"}, {7200, "2h"},
	    {7500, "2h 5min"}, {86400, "1d"}, {180000, "2d 2h"}, {-5, "0 s"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		export_duration(out, cases[i].s);
		assert_string_equal(out, cases[i].want);
	}
}

static void test_export__csv_field_quoting(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	(void)state;

	export_csv_field(f, "plain");
	fputc('|', f);
	export_csv_field(f, "O'Brien, Jr.");
	fputc('|', f);
	export_csv_field(f, "say \"hi\"");
	fputc('|', f);
	export_csv_field(f, "two\nlines");
	fputc('|', f);
	export_csv_field(f, NULL);
	fclose(f);
	assert_string_equal(buf, "plain|\"O'Brien, Jr.\"|\"say \"\"hi\"\"\"|\"two\nlines\"|");
	free(buf);
}

static void test_export__xml_escaping(void **state)
{
	char *buf = NULL, *clean;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	(void)state;

	export_xml_text(f, "a<b && \"c\"\x01\x1b[0;31mred\x1b[0m\tend\n", false);
	fputc('|', f);
	export_xml_text(f, "q\"\n<", true);
	fclose(f);
	assert_string_equal(buf, "a&lt;b &amp;&amp; \"c\"\xEF\xBF\xBDred\tend\n|q&quot;&#10;&lt;");
	free(buf);
	clean = export_strip_ansi("\x1b[1;32mok\x1b[0m \x1b]0;title\a!");
	assert_string_equal(clean, "ok !");
	free(clean);
}

static void test_export__csv_matches_nbgrader(void **state)
{
	struct gb_gradebook *gb = fixture();
	struct export_opts o = {0};
	char *csv = run(export_csv, gb, &o);
	(void)state;

	/* Students in nbgrader's order (last name, first name); carol submitted nothing. */
	assert_string_equal(
	    csv,
	    "assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,"
	    "late_submission_penalty,score,max_score\n"
	    "ps1,2026-10-30 10:00:00,2026-10-29 21:14:03.250000,alice,Liddell,Alice,"
	    "alice@example.edu,10.0,0.0,10.0,10.0\n"
	    "ps1,2026-10-30 10:00:00,2026-10-31 07:30:00,dave,Nguyễn,Đức,dave@example.edu,3.0,0.0,"
	    "3.0,10.0\n"
	    "ps1,2026-10-30 10:00:00,2026-10-30 12:00:00,bob,\"O'Brien, Jr.\",Robert,"
	    "bob@example.edu,2.5,1.0,1.5,10.0\n"
	    "ps1,2026-10-30 10:00:00,,carol,Zhang,Carol,,0.0,0.0,0.0,10.0\n");
	free(csv);
	o.per_cell = true;
	o.student = "bob";
	csv = run(export_csv, gb, &o);
	assert_string_equal(
	    csv,
	    "assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,"
	    "late_submission_penalty,score,max_score,problem1/test_squares,"
	    "problem1/test_squares_hidden,problem1/test_fib,problem2/explain,problem2/plot_task\n"
	    "ps1,2026-10-30 10:00:00,2026-10-30 12:00:00,bob,\"O'Brien, Jr.\",Robert,"
	    "bob@example.edu,2.5,1.0,1.5,10.0,2.0,0.5,0.0,0.0,0.0\n");
	free(csv);
	gb_free(gb);
}

/* Names come from the LMS, where students choose them: never a formula in a spreadsheet. */
static void test_export__csv_no_formula(void **state)
{
	struct gb_gradebook *gb = fixture();
	struct export_opts o = {.student = "bob"};
	char *csv;
	(void)state;

	for (size_t j = 0; j < gb->n_students; j++)
		if (!strcmp(gb->students[j]->id, "bob")) {
			free(gb->students[j]->first_name);
			free(gb->students[j]->last_name);
			gb->students[j]->first_name = strdup("=HYPERLINK(\"http://x\",\"y\")");
			gb->students[j]->last_name = strdup("-O'Brien");
		}
	csv = run(export_csv, gb, &o);
	assert_non_null(strstr(csv, ",bob,'-O'Brien,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\","
				    "bob@example.edu,2.5,"));
	free(csv);
	gb_free(gb);
}

/* Scores that binary floating point cannot hold print as Python would print them. */
static void test_export__csv_rounding(void **state)
{
	struct gb_gradebook *gb = fixture();
	struct gb_submission *dave = gb_find_submission(gb, "ps1", "dave");
	struct gb_nbresult *r = gb_find_nbresult(dave, "problem1");
	struct export_opts o = {.student = "dave"};
	char *csv;
	(void)state;

	gb_find_grade(r, "test_squares")->auto_score = 0.1;
	gb_find_grade(r, "test_squares_hidden")->auto_score = 0.2;
	r->late_submission_penalty = 1.0 / 3.0;
	gb_submission_sum(dave, gb_find_assignment(gb, "ps1"));
	csv = run(export_csv, gb, &o);
	assert_non_null(
	    strstr(csv, ",dave@example.edu,0.30000000000000004,0.3333333333333333,0.0,10.0\n"));
	free(csv);
	gb_free(gb);
}

/* Several assignments: nbgrader's order (due date, then name), qualified cell columns. */
static void test_export__csv_several_assignments(void **state)
{
	struct gb_gradebook *gb = fixture();
	struct gb_assignment *a;
	struct gb_notebook *nb;
	struct gb_cell *c;
	struct export_opts o = {.per_cell = true, .student = "alice"};
	char *csv;
	(void)state;

	assert_int_equal(gb_add_assignment(gb, &a, "ps0"), 0);
	assert_int_equal(gb_set_str(&a->duedate, "2026-09-01T12:00:00+02:00"), 0);
	assert_int_equal(gb_assignment_add_notebook(a, &nb, "warmup"), 0);
	assert_int_equal(gb_notebook_add_cell(nb, &c, "t"), 0);
	c->grade = true;
	c->max_score = 1.0;
	gb_assignment_sum(a);
	csv = run(export_csv, gb, &o);
	assert_non_null(strstr(csv, ",max_score,ps0/warmup/t,ps1/problem1/test_squares,"));
	assert_non_null(strstr(csv,
			       "\nps0,2026-09-01 10:00:00,,alice,Liddell,Alice,alice@example.edu,"
			       "0.0,0.0,0.0,1.0,0.0,,,,,\nps1,"));
	assert_non_null(strstr(csv, ",10.0,0.0,10.0,10.0,,2.0,1.0,2.0,2.5,2.5\n"));
	free(csv);
	gb_free(gb);
}

static void test_export__junit(void **state)
{
	struct gb_gradebook *gb = fixture();
	struct export_opts o = {.student = "bob"};
	char *xml = run(export_junit, gb, &o);
	(void)state;

	/* the common JUnit XSD has no `skipped` on <testsuites>: only per suite */
	assert_non_null(strstr(
	    xml, "<testsuites name=\"grader\" tests=\"5\" failures=\"2\" errors=\"0\" time=\""));
	assert_non_null(
	    strstr(xml, "<testsuite name=\"ps1/bob/problem1\" tests=\"3\" failures=\"2\""));
	assert_non_null(strstr(xml, " skipped=\""));
	/* The traceback, escaped, without colour codes, its bell replaced. */
	assert_non_null(strstr(xml, "AssertionError: expected fib(10) == 55 &amp; fib(0) == 0, got "
				    "&lt;function fib at 0x7f3a&gt; \xEF\xBF\xBD (bell)"));
	assert_null(strchr(xml, '\x1b'));
	assert_null(strchr(xml, '\a'));
	assert_non_null(strstr(xml, "<skipped message=\"needs manual grading\"/>"));
	assert_non_null(strstr(xml, "message=\"0.5 of 1.0 points\""));
	free(xml);
	o.student = "carol";
	xml = run(export_junit, gb, &o);
	assert_non_null(strstr(xml, "<failure type=\"missing\" message=\"no submission found\"/>"));
	free(xml);
	gb_free(gb);
}

static void test_export__markdown(void **state)
{
	struct gb_gradebook *gb = fixture();
	char *md = run(export_markdown, gb, NULL);
	(void)state;

	assert_non_null(strstr(md, "4 students, 3 submitted, 1 missing; mean score 4.83 / 10"));
	assert_non_null(strstr(md, "| question | max | mean | median | full marks | zero |\n"));
	assert_non_null(strstr(md, "| problem1/test\\_fib | 2 | 0.67 | 0 | 1 | 2 |\n"));
	assert_non_null(strstr(
	    md, "| problem1/test\\_squares\\_hidden (hidden tests) | 1 | 0.83 | 1 | 2 | 0 |\n"));
	assert_non_null(strstr(
	    md, "| bob | Robert O'Brien, Jr. | graded, 2h late | 2.5 | 1 | 1.5 | 10 |  |\n"));
	assert_non_null(strstr(md, "| carol | Carol Zhang | missing | 0 | 0 | 0 | 10 |  |\n"));
	assert_non_null(strstr(md, "tampered, modified\\_locked\\_cell"));
	free(md);
	gb_free(gb);
}

static void test_export__gradescope_student(void **state)
{
	struct gb_gradebook *gb = fixture();
	struct gr_err err = {0};
	json_t *j = NULL, *tests, *t;
	(void)state;

	assert_int_equal(
	    export_gradescope_student(&j, gb, gb->assignments[0], gb_find_student(gb, "bob"), &err),
	    0);
	assert_true(json_real_value(json_object_get(j, "score")) == 1.5);
	tests = json_object_get(j, "tests");
	assert_int_equal(json_array_size(tests), 5);
	t = json_array_get(tests, 1);
	assert_string_equal(json_string_value(json_object_get(t, "name")),
			    "problem1/test_squares_hidden");
	assert_string_equal(json_string_value(json_object_get(t, "visibility")), "after_published");
	assert_string_equal(json_string_value(json_object_get(t, "status")), "failed");
	assert_true(json_real_value(json_object_get(t, "score")) == 0.5);
	t = json_array_get(tests, 2);
	assert_string_equal(json_string_value(json_object_get(t, "visibility")), "visible");
	assert_non_null(
	    strstr(json_string_value(json_object_get(t, "output")), "AssertionError: expected"));
	assert_null(strchr(json_string_value(json_object_get(t, "output")), '\x1b'));
	assert_non_null(
	    strstr(json_string_value(json_object_get(j, "output")), "minus 1.0 for 2h late"));
	json_decref(j);
	assert_int_equal(export_gradescope_student(&j, gb, gb->assignments[0],
						   gb_find_student(gb, "carol"), &err),
			 0);
	assert_true(json_real_value(json_object_get(j, "score")) == 0.0);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(json_object_get(j, "tests"), 0), "output")),
			    "no submission");
	json_decref(j);
	gb_free(gb);
}

static void test_export__format_names(void **state)
{
	(void)state;
	assert_int_equal(export_format_parse("nbgrader-db"), EXPORT_NBGRADER_DB);
	assert_int_equal(export_format_parse("csv"), EXPORT_CSV);
	assert_int_equal(export_format_parse("gradescope"), EXPORT_GRADESCOPE);
	assert_int_equal(export_format_parse("junit"), EXPORT_JUNIT);
	assert_int_equal(export_format_parse("markdown"), EXPORT_MARKDOWN);
	assert_int_equal(export_format_parse("xlsx"), -1);
	assert_int_equal(export_format_parse(NULL), -1);
}

static void test_export__unknown_selection(void **state)
{
	struct gb_gradebook *gb = fixture();
	struct export_opts o = {.student = "nobody"};
	struct gr_err err = {0};
	FILE *f = fopen("/dev/null", "w");
	(void)state;

	assert_int_equal(export_csv(f, gb, &o, &err), GR_ENOTFOUND);
	assert_string_equal(err.msg, "no student 'nobody' in the gradebook");
	o.student = NULL;
	o.assignment = "ps9";
	assert_int_equal(export_markdown(f, gb, &o, &err), GR_ENOTFOUND);
	fclose(f);
	gb_free(gb);
}

static void test_export__pseudonym_is_truncated_hmac_sha256(void **state)
{
	char p[EXPORT_PSEUDONYM_HEX + 1];
	(void)state;

	/* RFC 4231, test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?") */
	export_pseudonym(p, "Jefe", 4, "what do ya want for nothing?");
	assert_string_equal(p, "5bdcc146bf60754e");
}

static void test_export__items(void **state)
{
	struct gb_gradebook *gb = fixture();
	char *out = run(export_items, gb, NULL);
	(void)state;

	assert_true(strncmp(out,
			    "assignment,student_id,notebook,question,score,max_score,status,time\n",
			    68) == 0);
	assert_int_equal(export_format_parse("items"), EXPORT_ITEMS);
	free(out);
	gb_free(gb);
}

static void test_export__time_note(void **state)
{
	char *flags[] = {"tampered", "time_unknown"};
	struct gb_submission sub = {.n_flags = 1, .flags = flags};
	(void)state;

	assert_null(export_time_note(NULL));
	assert_null(export_time_note(&sub)); /* tampered only */
	sub.n_flags = 2;
	assert_string_equal(export_time_note(&sub), "submission time unknown");
	sub.message = "invalid time 'x'";
	assert_string_equal(export_time_note(&sub), "invalid time 'x'");
}

/* ---- exports read as a stream from the file ------------------------------ */

static char *fixture_file(void)
{
	const char *root = getenv("ROOT");

	return gr_path_join(root ? root : ".", "tests/fixtures/gradebook/ps1.json");
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/test_export.XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

/* Export the file `in` through export_src into dir/out and return what was written. */
static char *run_src(const char *in, const char *dir, int fmt, const char *key,
		     const struct export_opts *o)
{
	char *out = gr_path_join(dir, "out"), *data = NULL;
	struct export_src *src = NULL;
	struct gr_err err = {0};
	size_t len = 0;

	assert_int_equal(export_src_open(&src, in, key, &err), 0);
	assert_int_equal(export_src_write(src, fmt, out, o, &err), 0);
	export_src_free(src);
	assert_int_equal(gr_read_file(&data, &len, out, 0, NULL), 0);
	unlink(out);
	free(out);
	return data;
}

/* Every text format streamed from the file is byte for byte the export of the loaded gradebook. */
static void test_export__stream_equals_whole(void **state)
{
	static int (*const fns[])(FILE *, const struct gb_gradebook *, const struct export_opts *,
				  struct gr_err *) = {export_csv, export_junit, export_markdown,
						      export_items};
	static const int fmts[] = {EXPORT_CSV, EXPORT_JUNIT, EXPORT_MARKDOWN, EXPORT_ITEMS};
	const struct export_opts sel[] = {{0}, {.student = "bob"}, {.per_cell = true}};
	char *in = fixture_file(), *dir = tmpdir(), *key = gr_path_join(dir, "key");
	struct gb_gradebook *gb = fixture(), *pseudo = fixture();
	struct gr_err err = {0};
	(void)state;

	assert_int_equal(gr_write_file_atomic(key, "0123456789abcdef0123", 20, NULL), 0);
	assert_int_equal(export_pseudonymise(&pseudo, key, &err), 0);
	for (size_t i = 0; i < sizeof(fmts) / sizeof(*fmts); i++)
		for (size_t k = 0; k < sizeof(sel) / sizeof(*sel); k++) {
			char *whole, *streamed;

			if (sel[k].per_cell && fmts[i] != EXPORT_CSV)
				continue;
			whole = run(fns[i], gb, &sel[k]);
			streamed = run_src(in, dir, fmts[i], NULL, &sel[k]);
			assert_string_equal(streamed, whole);
			free(whole);
			free(streamed);
			if (sel[k].student)
				continue;
			whole = run(fns[i], pseudo, &sel[k]);
			streamed = run_src(in, dir, fmts[i], key, &sel[k]);
			assert_string_equal(streamed, whole);
			free(whole);
			free(streamed);
		}
	gr_rm_rf(dir, NULL);
	gb_free(gb);
	gb_free(pseudo);
	free(key);
	free(dir);
	free(in);
}

/* No submission at all: every student is listed as without one. */
static void test_export__stream_empty_gradebook(void **state)
{
	char *dir = tmpdir(), *in = gr_path_join(dir, "gb.json"), *csv, *md;
	struct gb_gradebook *gb = fixture();
	(void)state;

	for (size_t i = 0; i < gb->n_submissions; i++)
		gb_submission_free(gb->submissions[i]);
	gb->n_submissions = 0;
	assert_int_equal(gb_write_file(gb, in, NULL), 0);
	csv = run_src(in, dir, EXPORT_CSV, NULL, NULL);
	assert_non_null(
	    strstr(csv, ",,bob,\"O'Brien, Jr.\",Robert,bob@example.edu,0.0,0.0,0.0,10.0\n"));
	md = run_src(in, dir, EXPORT_MARKDOWN, NULL, NULL);
	assert_non_null(strstr(md, "4 students, 0 submitted, 4 missing; mean score 0 / 10"));
	free(csv);
	free(md);
	gr_rm_rf(dir, NULL);
	gb_free(gb);
	free(in);
	free(dir);
}

/* A malformed submission in the middle: refused with the file and index, no output left. */
static void test_export__stream_refuses_a_bad_file(void **state)
{
	char *dir = tmpdir(), *in = gr_path_join(dir, "gb.json"), *out = gr_path_join(dir, "o.csv");
	struct gb_gradebook *gb = fixture();
	struct export_src *src = NULL;
	struct gr_err err = {0};
	char *text = NULL, *at;
	size_t len = 0;
	(void)state;

	assert_int_equal(gb_write_file(gb, in, NULL), 0);
	assert_int_equal(gr_read_file(&text, &len, in, 0, NULL), 0);
	at = strstr(text, "\"raw_score\": ");
	at = strstr(at + 1, "\"raw_score\": ");
	assert_non_null(at);
	at[13] = 'x'; /* submissions[1] no longer parses */
	assert_int_equal(gr_write_file_atomic(in, text, len, NULL), 0);
	assert_int_equal(export_src_open(&src, in, NULL, &err), GR_EINVAL);
	assert_null(src);
	assert_non_null(strstr(err.msg, "gb.json': submissions[1]: line "));
	assert_null(strchr(err.msg, '\n'));
	/* its object closed too early: the scan names it */
	at[12] = '}';
	assert_int_equal(gr_write_file_atomic(in, text, len, NULL), 0);
	assert_int_equal(export_src_open(&src, in, NULL, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "submissions[1] ends with 'x', not ',' or ']'"));
	assert_int_equal(access(out, F_OK), -1);
	free(text);
	gr_rm_rf(dir, NULL);
	gb_free(gb);
	free(out);
	free(in);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_export__times),
	    cmocka_unit_test(test_export__duration_for_people),
	    cmocka_unit_test(test_export__csv_field_quoting),
	    cmocka_unit_test(test_export__xml_escaping),
	    cmocka_unit_test(test_export__csv_matches_nbgrader),
	    cmocka_unit_test(test_export__csv_no_formula),
	    cmocka_unit_test(test_export__csv_rounding),
	    cmocka_unit_test(test_export__csv_several_assignments),
	    cmocka_unit_test(test_export__junit),
	    cmocka_unit_test(test_export__markdown),
	    cmocka_unit_test(test_export__gradescope_student),
	    cmocka_unit_test(test_export__format_names),
	    cmocka_unit_test(test_export__unknown_selection),
	    cmocka_unit_test(test_export__pseudonym_is_truncated_hmac_sha256),
	    cmocka_unit_test(test_export__items),
	    cmocka_unit_test(test_export__time_note),
	    cmocka_unit_test(test_export__stream_equals_whole),
	    cmocka_unit_test(test_export__stream_empty_gradebook),
	    cmocka_unit_test(test_export__stream_refuses_a_bad_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
