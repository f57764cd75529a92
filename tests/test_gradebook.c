/* test_gradebook.c - unit tests of the gradebook model: JSON round trips, validation, writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../grader/gradebook_int.h"

static char *fixture_path(void)
{
	const char *root = getenv("ROOT");

	return gr_path_join(root ? root : ".", "tests/fixtures/gradebook/ps1.json");
}

static json_t *fixture_json(void)
{
	char *path = fixture_path();
	json_t *j = json_load_file(path, 0, NULL);

	assert_non_null(j);
	free(path);
	return j;
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/test_gradebook.XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static char *slurp(const char *path)
{
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(gr_read_file(&data, &len, path, 0, NULL), 0);
	return data;
}

static void test_gradebook__fixture_reads(void **state)
{
	struct gb_gradebook *gb = NULL;
	struct gr_err err = {0};
	char *path = fixture_path();
	struct gb_submission *bob;
	struct gb_grade *g;
	(void)state;

	assert_int_equal(gb_read_file(&gb, path, &err), 0);
	assert_int_equal(gb->n_assignments, 1);
	assert_int_equal(gb->n_students, 4);
	assert_int_equal(gb->n_submissions, 4);
	bob = gb_find_submission(gb, "ps1", "bob");
	assert_non_null(bob);
	assert_true(bob->late_submission_penalty == 1.0);
	assert_true(bob->score == 1.5);
	g = gb_find_grade(gb_find_nbresult(bob, "problem1"), "test_fib");
	assert_int_equal(g->status, GB_CELL_FAILED);
	assert_non_null(strchr(g->output.traceback, '\a'));
	assert_false(
	    gb_isset(gb_find_grade(gb_find_nbresult(bob, "problem2"), "explain")->manual_score));
	assert_true(gb_find_submission(gb, "ps1", "dave")->extension_seconds == 86400.0);
	assert_true(gb_submission_has_flag(gb_find_submission(gb, "ps1", "dave"), "tampered"));
	assert_int_equal(gb_find_submission(gb, "ps1", "carol")->status, GB_MISSING);
	gb_free(gb);
	free(path);
}

static void test_gradebook__round_trip_identical(void **state)
{
	struct gb_gradebook *a = NULL, *b = NULL;
	struct gr_err err = {0};
	char *path = fixture_path(), *dir = tmpdir();
	char *p1 = gr_path_join(dir, "one.json"), *p2 = gr_path_join(dir, "two.json");
	char *t1, *t2;
	json_t *ja = NULL, *jb = NULL;
	(void)state;

	assert_int_equal(gb_read_file(&a, path, &err), 0);
	assert_int_equal(gb_write_file(a, p1, &err), 0);
	assert_int_equal(gb_read_file(&b, p1, &err), 0);
	assert_int_equal(gb_write_file(b, p2, &err), 0);
	assert_int_equal(gb_to_json(&ja, a, &err), 0);
	assert_int_equal(gb_to_json(&jb, b, &err), 0);
	assert_true(json_equal(ja, jb));
	/* The file as read also equals the model (nothing dropped on the way in). */
	json_t *orig = fixture_json();
	assert_true(json_equal(orig, ja));
	t1 = slurp(p1);
	t2 = slurp(p2);
	assert_string_equal(t1, t2);
	/* Deterministic layout: one line per submission, keys in a fixed order. */
	assert_non_null(strstr(
	    t1, "\n{\"assignment\": \"ps1\", \"student_id\": \"alice\", \"status\": \"graded\""));
	json_decref(orig);
	json_decref(ja);
	json_decref(jb);
	gb_free(a);
	gb_free(b);
	free(t1);
	free(t2);
	gr_rm_rf(dir, NULL);
	free(p1);
	free(p2);
	free(dir);
	free(path);
}

/* Apply `edit` to the fixture JSON and expect gb_from_json to fail with `want` in its message. */
static void expect_invalid(const char *pointer_path, json_t *value, const char *want)
{
	json_t *j = fixture_json(), *cur = j;
	struct gb_gradebook *gb = NULL;
	struct gr_err err = {0};
	char *copy = strdup(pointer_path), *save = NULL, *tok, *last = NULL;

	/* pointer_path: "submissions/1/score"; the last component is set to value. */
	for (tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (last)
			cur = json_is_array(cur) ? json_array_get(cur, strtoul(last, NULL, 10))
						 : json_object_get(cur, last);
		assert_non_null(cur);
		last = tok;
	}
	if (json_is_array(cur))
		assert_int_equal(json_array_set_new(cur, strtoul(last, NULL, 10), value), 0);
	else
		assert_int_equal(json_object_set_new(cur, last, value), 0);
	assert_int_equal(gb_from_json(&gb, j, &err), GR_EINVAL);
	if (!strstr(err.msg, want))
		fail_msg("message '%s' lacks '%s'", err.msg, want);
	assert_null(strchr(err.msg, '\n'));
	free(copy);
	json_decref(j);
}

static void test_gradebook__validation_names_the_field(void **state)
{
	(void)state;
	expect_invalid("submissions/1/notebooks/0/grades/2/auto_score", json_string("x"),
		       "submissions[1].notebooks[0].grades[2].auto_score: expected a number");
	expect_invalid("submissions/0/score", json_real(3.0),
		       "submissions[0].score: 3 is not max(0, raw_score - penalty) = 10");
	expect_invalid("submissions/0/student_id", json_string("zed"),
		       "submissions[0].student_id: unknown student 'zed'");
	expect_invalid("assignments/0/notebooks/0/cells/1/bogus", json_true(),
		       "assignments[0].notebooks[0].cells[1].bogus: unknown field");
	expect_invalid("format_version", json_integer(2),
		       "format_version: version 2 is not supported");
	expect_invalid("submissions/1/notebooks/0/grades/0/grade_id", json_string("squares"),
		       "submissions[1].notebooks[0].grades[0].grade_id: cell 'squares' is neither");
	expect_invalid("submissions/2/timestamp", json_string("yesterday"),
		       "submissions[2].timestamp: 'yesterday' is not an ISO 8601 date-time");
	expect_invalid("submissions/3/status", json_string("weird"),
		       "submissions[3].status: unknown status 'weird'");
	expect_invalid("submissions/1/notebooks/0/grades/1/auto_score", json_real(1.5),
		       "submissions[1].notebooks[0].grades[1].auto_score: 1.5 is outside [0, 1]");
	expect_invalid(
	    "assignments/0/max_score", json_real(12.0),
	    "assignments[0].max_score: 12 is not the sum of its notebooks' max_score (10)");
	expect_invalid("students/1/id", json_string("alice"),
		       "students[1].id: duplicate student 'alice'");
	expect_invalid("submissions/0/flags", json_pack("[s]", "Bad Flag"),
		       "submissions[0].flags[0]: 'Bad Flag' is not a flag");
	expect_invalid("submissions/2/assignment", json_string("ps9"),
		       "submissions[2].assignment: unknown assignment 'ps9'");
}

static void test_gradebook__duplicate_submission_refused(void **state)
{
	json_t *j = fixture_json(), *subs = json_object_get(j, "submissions");
	struct gb_gradebook *gb = NULL;
	struct gr_err err = {0};
	(void)state;

	json_array_append(subs, json_array_get(subs, 0));
	assert_int_equal(gb_from_json(&gb, j, &err), GR_EINVAL);
	assert_string_equal(err.msg, "submissions[4]: second submission of 'ps1' by 'alice'");
	json_decref(j);
}

static void test_gradebook__read_file_errors_name_the_file(void **state)
{
	char *dir = tmpdir(), *p = gr_path_join(dir, "gb.json");
	struct gb_gradebook *gb = NULL;
	struct gr_err err = {0};
	json_t *j = fixture_json();
	(void)state;

	assert_int_equal(gr_write_file_atomic(p, "{\"format\": ", 11, NULL), 0);
	assert_int_equal(gb_read_file(&gb, p, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "gb.json': line 1"));
	json_object_set_new(json_array_get(json_object_get(j, "submissions"), 1), "raw_score",
			    json_real(9));
	assert_int_equal(json_dump_file(j, p, 0), 0);
	assert_int_equal(gb_read_file(&gb, p, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "gb.json': submissions[1].raw_score: 9 is not the sum"));
	assert_int_equal(gb_read_file(&gb, "/nonexistent/gb.json", &err), GR_ENOTFOUND);
	json_decref(j);
	gr_rm_rf(dir, NULL);
	free(p);
	free(dir);
}

/* A producer builds a gradebook through the API, without touching JSON. */
static void test_gradebook__build_sum_and_write(void **state)
{
	struct gb_gradebook *gb = NULL, *back = NULL;
	struct gb_assignment *a;
	struct gb_notebook *nb;
	struct gb_cell *c;
	struct gb_student *s;
	struct gb_submission *sub;
	struct gb_nbresult *r;
	struct gb_grade *g;
	struct gr_err err = {0};
	char *dir = tmpdir(), *p = gr_path_join(dir, "gb.json");
	(void)state;

	assert_int_equal(gb_new(&gb), 0);
	assert_int_equal(gb_add_assignment(gb, &a, "hw1"), 0);
	assert_int_equal(gb_set_str(&a->duedate, "2026-01-01T00:00:00Z"), 0);
	assert_int_equal(gb_assignment_add_notebook(a, &nb, "nb"), 0);
	assert_int_equal(gb_notebook_add_cell(nb, &c, "t1"), 0);
	c->grade = c->locked = true;
	c->max_score = 0.1;
	assert_int_equal(gb_notebook_add_cell(nb, &c, "t2"), 0);
	c->grade = c->locked = true;
	c->max_score = 0.2;
	gb_assignment_sum(a);
	assert_int_equal(gb_add_student(gb, &s, "s1"), 0);
	assert_int_equal(gb_submission_new(&sub, "hw1", "s1"), 0);
	assert_int_equal(gb_submission_add_notebook(sub, &r, "nb"), 0);
	assert_int_equal(gb_nbresult_add_grade(r, &g, "t1"), 0);
	g->max_score = 0.1;
	g->auto_score = 0.1;
	assert_int_equal(gb_nbresult_add_grade(r, &g, "t2"), 0);
	g->max_score = 0.2;
	g->auto_score = 0.2;
	r->late_submission_penalty = 0.5;
	gb_submission_sum(sub, a);
	assert_true(sub->score == 0.0); /* max(0, 0.3 - 0.5) */
	assert_int_equal(gb_submission_validate(gb, sub, "s", &err), 0);
	assert_int_equal(gb_take_submission(gb, sub), 0);
	assert_int_equal(gb_write_file(gb, p, &err), 0);
	assert_int_equal(gb_read_file(&back, p, &err), 0);
	assert_true(fabs(back->submissions[0]->raw_score - 0.3) < 1e-12);
	gb_free(back);
	gb_free(gb);
	gr_rm_rf(dir, NULL);
	free(p);
	free(dir);
}

/* Streaming journal objects through gb_writer gives the bytes gb_write_file gives. */
static void test_gradebook__writer_streams_journal(void **state)
{
	struct gb_gradebook *gb = NULL;
	struct gb_writer *w = NULL;
	struct gr_err err = {0};
	char *path = fixture_path(), *dir = tmpdir();
	char *whole = gr_path_join(dir, "whole.json"),
	     *streamed = gr_path_join(dir, "streamed.json");
	char *t1, *t2;
	json_t *bad;
	(void)state;

	assert_int_equal(gb_read_file(&gb, path, &err), 0);
	assert_int_equal(gb_write_file(gb, whole, &err), 0);
	assert_int_equal(gb_writer_open(&w, streamed, gb, &err), 0);
	for (size_t i = 0; i < gb->n_submissions; i++) {
		json_t *j = NULL;
		char *line;

		/* A journal line, as the batch grader would store it. */
		assert_int_equal(gb_submission_to_json(&j, gb->submissions[i], &err), 0);
		line = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		j = json_loads(line, 0, NULL);
		assert_int_equal(gb_writer_add_json(w, j, &err), 0);
		if (i == 1) {
			/* A second copy is refused and leaves the file intact. */
			assert_int_equal(gb_writer_add_json(w, j, &err), GR_EINVAL);
			assert_non_null(strstr(err.msg, "second submission of 'ps1' by 'bob'"));
		}
		json_decref(j);
		free(line);
	}
	bad = json_pack("{s:s, s:s}", "assignment", "ps1", "student_id", "nobody");
	assert_int_equal(gb_writer_add_json(w, bad, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "unknown student 'nobody'"));
	json_decref(bad);
	assert_int_equal(access(streamed, F_OK), -1); /* nothing visible before commit */
	assert_int_equal(gb_writer_commit(w, &err), 0);
	gb_writer_free(w);
	t1 = slurp(whole);
	t2 = slurp(streamed);
	assert_string_equal(t1, t2);
	/* An abandoned writer leaves no file and no temporary behind. */
	assert_int_equal(gb_writer_open(&w, whole, gb, &err), 0);
	gb_writer_free(w);
	free(t2);
	t2 = slurp(whole);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	gb_free(gb);
	gr_rm_rf(dir, NULL);
	free(whole);
	free(streamed);
	free(dir);
	free(path);
}

static void test_gradebook__output_is_capped(void **state)
{
	struct gb_output out = {0};
	size_t len = 100000;
	char *big = malloc(len + 1);
	(void)state;

	memset(big, 'x', len);
	memcpy(big, "HEAD", 4);
	memcpy(big + len - 4, "TAIL", 4);
	/* A multibyte character straddling the cut must not be split. */
	memcpy(big + 4060, "\xC3\xA9\xC3\xA9\xC3\xA9", 6);
	big[len] = '\0';
	assert_int_equal(gb_output_set(&out, &out.traceback, big, len), 0);
	assert_true(out.truncated);
	assert_true(strlen(out.traceback) <= GB_OUTPUT_CAP);
	assert_memory_equal(out.traceback, "HEAD", 4);
	assert_string_equal(out.traceback + strlen(out.traceback) - 4, "TAIL");
	assert_non_null(strstr(out.traceback, "bytes cut ...]"));
	json_t *valid = json_string(out.traceback); /* NULL unless valid UTF-8 */
	assert_non_null(valid);
	json_decref(valid);
	assert_int_equal(gb_output_set(&out, &out.stdout_text, "short", 5), 0);
	assert_string_equal(out.stdout_text, "short");
	free(out.traceback);
	free(out.stdout_text);
	free(big);
}

/* A flag's reason: joined once per finding, written only when present, read back. */
static void test_gradebook__flag_reasons_round_trip(void **state)
{
	struct gb_submission *sub = NULL, *back = NULL;
	struct gr_err err = {0};
	json_t *j = NULL;

	(void)state;
	assert_int_equal(gb_submission_new(&sub, "ps1", "alice"), 0);
	assert_int_equal(gb_submission_to_json(&j, sub, &err), 0);
	assert_null(json_object_get(j, "flag_reasons"));
	json_decref(j);
	assert_int_equal(gb_submission_add_flag_reason(sub, "replaced_builtins",
						       "numpy.allclose rebound (cell 3)"),
			 0);
	assert_int_equal(gb_submission_add_flag_reason(sub, "replaced_builtins",
						       "builtins.len rebound (cell 4)"),
			 0);
	assert_int_equal(gb_submission_add_flag_reason(sub, "replaced_builtins",
						       "builtins.len rebound (cell 4)"),
			 0);
	assert_true(gb_submission_has_flag(sub, "replaced_builtins"));
	assert_string_equal(gb_submission_flag_reason(sub, "replaced_builtins"),
			    "numpy.allclose rebound (cell 3); builtins.len rebound (cell 4)");
	assert_null(gb_submission_flag_reason(sub, "tampered"));
	assert_int_equal(gb_submission_to_json(&j, sub, &err), 0);
	assert_int_equal(gb_submission_from_json(&back, j, NULL, &err), 0);
	assert_string_equal(gb_submission_flag_reason(back, "replaced_builtins"),
			    "numpy.allclose rebound (cell 3); builtins.len rebound (cell 4)");
	gb_submission_free(back);
	back = NULL;
	/* a reason for a flag the submission does not have is refused, naming the field */
	json_object_set_new(json_object_get(j, "flag_reasons"), "tampered", json_string("x"));
	assert_true(gb_submission_from_json(&back, j, NULL, &err) < 0);
	assert_non_null(strstr(err.msg, "flag_reasons.tampered"));
	assert_null(back);
	json_decref(j);
	gb_submission_free(sub);
}

static void test_gradebook__lookups_scale(void **state)
{
	struct gb_gradebook *gb = NULL;
	struct gb_student *s;
	struct gb_submission *sub;
	char id[32];
	(void)state;

	assert_int_equal(gb_new(&gb), 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "s%04d", i);
		assert_int_equal(gb_add_student(gb, &s, id), 0);
		assert_int_equal(gb_submission_new(&sub, i % 2 ? "a1" : "a2", id), 0);
		assert_int_equal(gb_take_submission(gb, sub), 0);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "s%04d", i);
		assert_ptr_equal(gb_find_student(gb, id), gb->students[i]);
		assert_ptr_equal(gb_find_submission(gb, i % 2 ? "a1" : "a2", id),
				 gb->submissions[i]);
		assert_null(gb_find_submission(gb, i % 2 ? "a2" : "a1", id));
	}
	assert_null(gb_find_student(gb, "nobody"));
	/* An element appended by hand is still found (by scanning). */
	s = calloc(1, sizeof(*s));
	s->id = strdup("late");
	gb->students = realloc(gb->students, (gb->n_students + 1) * sizeof(*gb->students));
	gb->students[gb->n_students++] = s;
	assert_ptr_equal(gb_find_student(gb, "late"), s);
	gb_free(gb);
}

/* ---- the streaming reader ------------------------------------------------ */

/* Write `j` to dir/name with its top-level keys in the given order (NULL-terminated). */
static char *write_keys(const char *dir, const char *name, json_t *j, const char *const *keys)
{
	char *p = gr_path_join(dir, name);
	json_t *o = json_object();

	for (size_t i = 0; keys[i]; i++)
		json_object_set(o, keys[i], json_object_get(j, keys[i]));
	assert_int_equal(json_dump_file(o, p, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)), 0);
	json_decref(o);
	return p;
}

/* Every submission the reader gives back is the one gb_read_file reads. */
static void assert_reader_matches(const char *path)
{
	struct gb_gradebook *gb = NULL;
	struct gb_reader *r = NULL;
	struct gr_err err = {0};

	assert_int_equal(gb_read_file(&gb, path, &err), 0);
	assert_int_equal(gb_reader_open(&r, path, &err), 0);
	assert_int_equal(gb_reader_count(r), gb->n_submissions);
	assert_int_equal(gb_reader_header(r)->n_students, gb->n_students);
	for (size_t i = 0; i < gb->n_submissions; i++) {
		struct gb_submission *sub = NULL;
		json_t *a = NULL, *b = NULL;
		size_t ai, si;

		assert_int_equal(gb_reader_get(r, i, &sub, &err), 0);
		assert_int_equal(gb_submission_to_json(&a, gb->submissions[i], &err), 0);
		assert_int_equal(gb_submission_to_json(&b, sub, &err), 0);
		assert_true(json_equal(a, b));
		gb_reader_keys(r, i, &ai, &si);
		assert_string_equal(gb_reader_header(r)->students[si]->id, sub->student_id);
		assert_int_equal(gb_reader_find(r, ai, si), (long)i);
		json_decref(a);
		json_decref(b);
		gb_submission_free(sub);
	}
	gb_reader_free(r);
	gb_free(gb);
}

static void test_gradebook__reader_reads_every_layout(void **state)
{
	static const char *const written[] = {"format",	     "format_version", "generator",
					      "assignments", "students",       "submissions",
					      NULL};
	static const char *const subs_first[] = {"submissions", "students",    "generator",
						 "format",	"assignments", "format_version",
						 NULL};
	char *dir = tmpdir(), *path = fixture_path(), *p1, *p2;
	json_t *j = fixture_json();
	(void)state;

	assert_reader_matches(path);
	/* one line, and the submissions before the assignments they refer to */
	p1 = write_keys(dir, "line.json", j, written);
	p2 = write_keys(dir, "first.json", j, subs_first);
	assert_reader_matches(p1);
	assert_reader_matches(p2);
	gr_rm_rf(dir, NULL);
	json_decref(j);
	free(p1);
	free(p2);
	free(path);
	free(dir);
}

/* The fixture as gb_writer lays it out: one line per submission. */
static char *writer_text(const char *dir)
{
	char *p = gr_path_join(dir, "written.json"), *path = fixture_path(), *text;
	struct gb_gradebook *gb = NULL;

	assert_int_equal(gb_read_file(&gb, path, NULL), 0);
	assert_int_equal(gb_write_file(gb, p, NULL), 0);
	text = slurp(p);
	gb_free(gb);
	free(path);
	free(p);
	return text;
}

/* Open `text` as a gradebook file: the return code, the message in err. */
static int open_text(const char *dir, const char *text, struct gr_err *err)
{
	char *p = gr_path_join(dir, "gb.json");
	struct gb_reader *r = NULL;
	int rc;

	assert_int_equal(gr_write_file_atomic(p, text, strlen(text), NULL), 0);
	rc = gb_reader_open(&r, p, err);
	gb_reader_free(r);
	free(p);
	return rc;
}

static void test_gradebook__reader_refuses_truncated_files(void **state)
{
	char *dir = tmpdir(), *text = writer_text(dir), *cut, *second;
	struct gr_err err = {0};
	(void)state;

	/* cut inside the third submission: the message names it */
	second = strstr(text, "\n{\"assignment\"");
	second = strstr(second + 1, "\n{\"assignment\"");
	second = strstr(second + 1, "\n{\"assignment\"");
	assert_non_null(second);
	cut = strndup(text, (size_t)(second - text) + 40);
	assert_int_equal(open_text(dir, cut, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "gb.json': line "));
	assert_non_null(strstr(err.msg, "the file ends inside submissions[2]"));
	assert_null(strchr(err.msg, '\n'));
	free(cut);
	/* cut after the last submission's object, before the closing bracket */
	cut = strndup(text, strlen(text) - 4);
	assert_int_equal(open_text(dir, cut, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "gb.json': line "));
	assert_non_null(strstr(err.msg, "the file ends inside"));
	free(cut);
	assert_int_equal(open_text(dir, "", &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "gb.json': the file is empty"));
	text[strlen(text) - 1] = '\0';
	cut = NULL;
	assert_int_equal(asprintf(&cut, "%s{}", text), (int)strlen(text) + 2);
	assert_int_equal(open_text(dir, cut, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "data after the gradebook"));
	free(cut);
	gr_rm_rf(dir, NULL);
	free(text);
	free(dir);
}

/*
 * A malformed submission in the middle refuses the whole file (an export
 * missing a row would give that student 0): one line naming the file and
 * the submission's index.
 */
static void test_gradebook__reader_names_a_bad_submission(void **state)
{
	char *dir = tmpdir(), *text = writer_text(dir), *at, *bad;
	json_t *j = fixture_json();
	struct gr_err err = {0};
	(void)state;

	/* not JSON: the position is the file's */
	at = strstr(text, "\"student_id\": \"bob\"");
	assert_non_null(at);
	bad = strdup(text);
	memcpy(bad + (at - text), "\"student_id\"; \"bob\"", 19);
	assert_int_equal(open_text(dir, bad, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "gb.json': submissions[1]: line "));
	assert_null(strchr(err.msg, '\n'));
	free(bad);
	/* JSON, but not a submission */
	json_object_set_new(json_array_get(json_object_get(j, "submissions"), 2), "score",
			    json_string("ten"));
	bad = json_dumps(j, JSON_PRESERVE_ORDER);
	assert_int_equal(open_text(dir, bad, &err), GR_EINVAL);
	assert_string_equal(strstr(err.msg, "gb.json': "),
			    "gb.json': submissions[2].score: expected a number");
	free(bad);
	/* a second submission of the same student */
	json_decref(j);
	j = fixture_json();
	json_array_append(json_object_get(j, "submissions"),
			  json_array_get(json_object_get(j, "submissions"), 0));
	bad = json_dumps(j, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
	assert_int_equal(open_text(dir, bad, &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "gb.json': submissions[4]: second submission of 'ps1' by "
					"'alice'"));
	free(bad);
	gr_rm_rf(dir, NULL);
	json_decref(j);
	free(text);
	free(dir);
}

static void test_gradebook__reader_empty_gradebook(void **state)
{
	char *dir = tmpdir(), *p = gr_path_join(dir, "gb.json");
	json_t *j = fixture_json();
	struct gb_reader *r = NULL;
	struct gr_err err = {0};
	(void)state;

	json_object_set_new(j, "submissions", json_array());
	assert_int_equal(json_dump_file(j, p, JSON_INDENT(2)), 0);
	assert_int_equal(gb_reader_open(&r, p, &err), 0);
	assert_int_equal(gb_reader_count(r), 0);
	assert_int_equal(gb_reader_header(r)->n_students, 4);
	assert_int_equal(gb_reader_find(r, 0, 0), -1);
	gb_reader_free(r);
	gr_rm_rf(dir, NULL);
	json_decref(j);
	free(p);
	free(dir);
}

/* Strings of megabytes, full of what a scanner could take for structure. */
static void test_gradebook__reader_huge_strings(void **state)
{
	char *dir = tmpdir(), *p = gr_path_join(dir, "gb.json");
	size_t n = (size_t)4 << 20;
	char *big = malloc(n + 1);
	json_t *j = fixture_json(), *sub;
	struct gb_submission *back = NULL;
	struct gb_reader *r = NULL;
	struct gr_err err = {0};
	(void)state;

	for (size_t i = 0; i < n; i++)
		big[i] = "{[\"\\]}\n,x"[i % 9];
	big[n] = '\0';
	sub = json_array_get(json_object_get(j, "submissions"), 1);
	json_object_set_new(sub, "message", json_string(big));
	assert_int_equal(json_dump_file(j, p, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)), 0);
	assert_int_equal(gb_reader_open(&r, p, &err), 0);
	assert_int_equal(gb_reader_count(r), 4);
	assert_int_equal(gb_reader_get(r, 1, &back, &err), 0);
	assert_string_equal(back->message, big);
	gb_submission_free(back);
	back = NULL;
	assert_int_equal(gb_reader_get(r, 2, &back, &err), 0);
	assert_string_equal(
	    back->student_id,
	    json_string_value(json_object_get(json_array_get(json_object_get(j, "submissions"), 2),
					      "student_id")));
	gb_submission_free(back);
	gb_reader_free(r);
	gr_rm_rf(dir, NULL);
	json_decref(j);
	free(big);
	free(p);
	free(dir);
}

/* A cell holding hidden tests shows only a built-in exception's name. */
static void test_gradebook__hidden_error_name_only(void **state)
{
	(void)state;
	assert_string_equal(gb_hidden_error("Traceback (most recent call last):\n"
					    "  File \"<cell 2>\", line 1\n"
					    "AssertionError: expected 25\n"),
			    "AssertionError");
	assert_string_equal(gb_hidden_error("ZeroDivisionError"), "ZeroDivisionError");
	/* a message over several lines: its last line is not the exception's */
	assert_string_equal(gb_hidden_error("KeyError: 'a\n25'\n"), "KeyError");
	/* a class the notebook defines is named by the notebook: not published */
	assert_string_equal(gb_hidden_error("Expected25: boo\n"), "an exception");
	assert_string_equal(gb_hidden_error("mod.ValueError: 25\n"), "an exception");
	assert_string_equal(gb_hidden_error(NULL), "an exception");
	assert_string_equal(gb_hidden_ename("TypeError"), "TypeError");
	assert_string_equal(gb_hidden_ename("TypeError25"), "an exception");
	assert_string_equal(gb_hidden_ename(NULL), "an exception");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gradebook__fixture_reads),
	    cmocka_unit_test(test_gradebook__round_trip_identical),
	    cmocka_unit_test(test_gradebook__validation_names_the_field),
	    cmocka_unit_test(test_gradebook__duplicate_submission_refused),
	    cmocka_unit_test(test_gradebook__read_file_errors_name_the_file),
	    cmocka_unit_test(test_gradebook__build_sum_and_write),
	    cmocka_unit_test(test_gradebook__writer_streams_journal),
	    cmocka_unit_test(test_gradebook__output_is_capped),
	    cmocka_unit_test(test_gradebook__lookups_scale),
	    cmocka_unit_test(test_gradebook__flag_reasons_round_trip),
	    cmocka_unit_test(test_gradebook__reader_reads_every_layout),
	    cmocka_unit_test(test_gradebook__reader_refuses_truncated_files),
	    cmocka_unit_test(test_gradebook__reader_names_a_bad_submission),
	    cmocka_unit_test(test_gradebook__reader_empty_gradebook),
	    cmocka_unit_test(test_gradebook__reader_huge_strings),
	    cmocka_unit_test(test_gradebook__hidden_error_name_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
