/* test_rubric.c - unit tests for rubric validation, checksums, release and splicing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grader/rubric.h"
#include "../grader/rubric_int.h"

/* A small valid rubric: setup, q1 answer + tests (hidden), q2 answer + tests, manual, task. */
static const char BASE[] =
    "{\"grader_rubric\": 1, \"assignment\": \"ps0\", \"duedate\": \"2026-10-30T10:00:00Z\","
    " \"late_policy\": {\"method\": \"percent\", \"percent\": 10, \"per\": \"hour\", \"cap\": 50},"
    " \"extensions\": {\"alice\": \"1d12h\"}, \"preload\": [\"numpy\"], \"seed\": 7,"
    " \"notebooks\": [{\"name\": \"ps0.ipynb\", \"cells\": ["
    "  {\"cell_type\": \"code\", \"source\": \"import math\", \"grade_id\": \"setup\", \"locked\": "
    "true},"
    "  {\"cell_type\": \"code\", \"source\": \"def f(x):\\n    ### BEGIN SOLUTION\\n    return x * "
    "x\\n    ### END SOLUTION\","
    "   \"grade_id\": \"f\", \"solution\": true},"
    "  {\"cell_type\": \"code\", \"source\": \"assert f(2) == 4\\n### BEGIN HIDDEN TESTS\\nassert "
    "f(3) == 9\\n### END HIDDEN TESTS\","
    "   \"grade_id\": \"test_f\", \"grade\": true, \"locked\": true, \"points\": 2},"
    "  {\"cell_type\": \"markdown\", \"source\": \"## Q2\"},"
    "  {\"cell_type\": \"code\", \"source\": \"g = 1\", \"grade_id\": \"g\", \"solution\": true},"
    "  {\"cell_type\": \"code\", \"source\": \"assert g == 1\", \"grade_id\": \"test_g\", "
    "\"grade\": true, \"locked\": true, \"points\": 1.5},"
    "  {\"cell_type\": \"markdown\", \"source\": \"An essay.\", \"grade_id\": \"essay\", "
    "\"grade\": true, \"solution\": true, \"points\": 3},"
    "  {\"cell_type\": \"markdown\", \"source\": \"Do it.\", \"grade_id\": \"task1\", \"task\": "
    "true, \"locked\": true, \"points\": 1}"
    " ]}]}";

static json_t *base(void)
{
	json_t *j = json_loads(BASE, 0, NULL);

	assert_non_null(j);
	return j;
}

static json_t *cell(json_t *root, size_t i)
{
	return json_array_get(
	    json_object_get(json_array_get(json_object_get(root, "notebooks"), 0), "cells"), i);
}

/* Load `root` (consumed) and expect failure with `msg` in the message. */
static void expect_invalid(json_t *root, const char *msg)
{
	struct rubric *r = NULL;
	struct gr_err err = {0};

	assert_int_equal(rubric_from_json(&r, root, "ps0.json", &err), GR_EINVAL);
	if (!strstr(err.msg, msg))
		fail_msg("expected '%s' in '%s'", msg, err.msg);
	assert_null(r);
	json_decref(root);
}

static void test_rubric__loads_valid(void **state)
{
	struct rubric *r = NULL;
	struct gr_err err = {0};
	const struct rubric_notebook *nb;
	(void)state;

	assert_int_equal(rubric_parse(&r, BASE, strlen(BASE), "ps0.json", &err), 0);
	assert_string_equal(r->assignment, "ps0");
	assert_true(r->duedate.sec == 1793354400 && r->duedate.usec == 0);
	assert_int_equal(r->late.method, SCORE_LATE_PERCENT);
	assert_true(r->late.period == 3600 && r->late.percent == 10 && r->late.cap == 50);
	assert_true(rubric_extension_for(r, "alice") == 36 * 3600);
	assert_true(rubric_extension_for(r, "bob") == 0);
	assert_true(r->limits.cell_timeout == 30);
	assert_int_equal(r->seed, 7);
	nb = rubric_find_notebook(r, "ps0.ipynb");
	assert_non_null(nb);
	assert_int_equal(nb->ncells, 8);
	assert_true(nb->max_points == 7.5);
	assert_int_equal(nb->cells[0].kind, RUBRIC_READONLY);
	assert_int_equal(nb->cells[1].kind, RUBRIC_ANSWER);
	assert_int_equal(nb->cells[2].kind, RUBRIC_TESTS);
	assert_int_equal(nb->cells[3].kind, RUBRIC_PLAIN);
	assert_int_equal(nb->cells[6].kind, RUBRIC_MANUAL);
	assert_int_equal(nb->cells[7].kind, RUBRIC_TASK);
	/* python3: nbgrader's compute_checksum on the cell (test cell keeps hidden tests) */
	assert_string_equal(nb->cells[2].checksum, "88e1342266f99f384bf9f2b0967bd265");
	rubric_free(r);
	rubric_free(NULL);
}

static void test_rubric__validation_errors(void **state)
{
	json_t *j;
	(void)state;

	j = base();
	json_object_set_new(cell(j, 2), "points", json_integer(-1));
	expect_invalid(j, "rubric 'ps0.json': notebooks[0].cells[2]: points must be a number >= 0");
	j = base();
	json_object_set_new(cell(j, 2), "points", json_string("2"));
	expect_invalid(j, "notebooks[0].cells[2]: points must be a number >= 0");
	j = base();
	json_object_del(cell(j, 2), "points");
	expect_invalid(j, "notebooks[0].cells[2]: a grade or task cell needs points");
	j = base();
	json_object_set_new(cell(j, 4), "grade_id", json_string("f"));
	expect_invalid(j, "notebooks[0].cells[4]: duplicate grade_id 'f' (also cells[1])");
	j = base();
	json_object_set_new(cell(j, 1), "grade_id", json_string("bad id"));
	expect_invalid(j, "grade_id must be letters, digits");
	j = base();
	json_object_del(cell(j, 1), "grade_id");
	expect_invalid(j, "needs a grade_id");
	j = base();
	json_object_set_new(cell(j, 6), "solution", json_false());
	expect_invalid(j, "a markdown cell must be both grade and solution, or neither");
	j = base();
	json_object_set_new(cell(j, 7), "cell_type", json_string("code"));
	expect_invalid(j, "task cells must be markdown");
	j = base();
	json_object_set_new(cell(j, 0), "source",
			    json_string("### BEGIN SOLUTION\nx\n### END SOLUTION"));
	expect_invalid(
	    j, "notebooks[0].cells[0]: a solution region in a cell that is not a solution cell");
	j = base();
	json_object_set_new(cell(j, 4), "source",
			    json_string("### BEGIN HIDDEN TESTS\nx\n### END HIDDEN TESTS"));
	expect_invalid(j, "hidden tests in a cell that is not a grade cell");
	j = base();
	json_object_set_new(cell(j, 1), "source", json_string("### BEGIN SOLUTION\nx"));
	expect_invalid(j, "line 1: the 'BEGIN SOLUTION' region is never closed (no END line)");
	j = base();
	json_object_set_new(cell(j, 2), "checksum",
			    json_string("00000000000000000000000000000000"));
	expect_invalid(
	    j, "checksum does not match the cell (expected 88e1342266f99f384bf9f2b0967bd265");
	j = base();
	json_object_set_new(cell(j, 3), "points", json_integer(1));
	expect_invalid(j, "points only belong on grade or task cells");
	j = base();
	json_object_set_new(cell(j, 3), "cell_type", json_string("python"));
	expect_invalid(j, "cell_type must be");
	j = base();
	json_object_set_new(cell(j, 3), "grde", json_true());
	expect_invalid(j, "notebooks[0].cells[3]: unknown field 'grde'");
	j = base();
	json_object_set_new(j, "dudate", json_null());
	expect_invalid(j, "rubric 'ps0.json': unknown field 'dudate'");
	j = base();
	json_object_set_new(j, "grader_rubric", json_integer(2));
	expect_invalid(j, "grader_rubric: must be 1");
	j = base();
	json_object_set_new(j, "duedate", json_string("2026-10-30 10:00:00"));
	expect_invalid(j, "duedate: invalid time '2026-10-30 10:00:00': missing time zone");
	j = base();
	json_object_set_new(j, "late_policy", json_pack("{s:s}", "method", "percent"));
	expect_invalid(j, "late_policy: method \"percent\" needs percent");
	j = base();
	json_object_set_new(
	    j, "late_policy",
	    json_pack("{s:s, s:i, s:s}", "method", "percent", "percent", 10, "per", "week"));
	expect_invalid(j, "late_policy: per must be \"hour\" or \"day\"");
	j = base();
	json_object_set_new(j, "extensions", json_pack("{s:s}", "bob", "soon"));
	expect_invalid(j, "extensions: 'bob': invalid duration 'soon'");
	j = base();
	json_object_set_new(j, "limits", json_pack("{s:i}", "cell_timeout", 0));
	expect_invalid(j, "limits: cell_timeout must be a number > 0");
	j = base();
	json_object_set_new(j, "preload", json_pack("[s]", "os; rm"));
	expect_invalid(j, "preload: [0] must be a module name");
	j = base();
	json_object_set_new(j, "seed", json_integer(-1));
	expect_invalid(j, "seed: must be an integer");
	j = base();
	json_object_set_new(
	    j, "files",
	    json_pack("[{s:s, s:s, s:s}]", "path", "d.csv", "target", "../d.csv", "sha256", "00"));
	expect_invalid(j, "files[0]: target must be a relative path without '..'");
	j = base();
	json_object_set_new(json_array_get(json_object_get(j, "notebooks"), 0), "name",
			    json_string("/etc/x.ipynb"));
	expect_invalid(j, "notebooks[0]: name must be a relative path ending in .ipynb");
	j = base();
	json_object_set_new(j, "notebooks", json_array());
	expect_invalid(j, "notebooks: must be a non-empty array");
	j = base();
	json_object_set_new(j, "assignment", json_string(""));
	expect_invalid(j, "assignment: must be a name");
}

static void test_rubric__load_file_errors(void **state)
{
	struct rubric *r = NULL;
	struct gr_err err = {0};
	(void)state;

	assert_int_equal(rubric_load(&r, "/nonexistent/ps0.json", &err), GR_ENOTFOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/ps0.json"));
	assert_int_equal(rubric_parse(&r, "{\"a\": ", 6, "bad.json", &err), GR_EINVAL);
	assert_non_null(strstr(err.msg, "rubric 'bad.json': line 1:"));
	assert_int_equal(rubric_parse(&r, "[]", 2, "arr.json", &err), GR_EINVAL);
	assert_string_equal(err.msg, "rubric 'arr.json': the top level must be an object");
}

static void test_rubric__checksums_match_nbgrader(void **state)
{
	char sum[33];
	(void)state;

	/* expected values from nbgrader's recipe run in /usr/bin/python3 (hashlib.md5) */
	rubric_checksum(sum, "# YOUR CODE HERE\nraise NotImplementedError()", NB_CELL_CODE, 0, 1, 0,
			"f", 0);
	assert_string_equal(sum, "e697d20a0c4e1e5fda906a06d5e64ad6");
	rubric_checksum(sum, "YOUR ANSWER HERE", NB_CELL_MARKDOWN, 1, 1, 0, "essay", 5);
	assert_string_equal(sum, "c968018a9a2c1392059412233d80eb28");
	rubric_checksum(sum, "import numpy as np", NB_CELL_CODE, 0, 0, 1, "setup", 0);
	assert_string_equal(sum, "349b3297aacb5fd09d22117940a10469");
	rubric_checksum(sum, "h\xc3\xa9llo", NB_CELL_CODE, 1, 0, 1, "x", 1e16);
	assert_string_equal(sum, "d38e6bb21801b95f471e112c60cfca31");
	rubric_checksum(sum, "x", NB_CELL_CODE, 1, 0, 1, "x", 0.1);
	assert_string_equal(sum, "19a98e3767c9c4acf78e7988c79506c3");
	/* a grade cell is locked whatever its metadata says */
	rubric_checksum(sum, "x", NB_CELL_CODE, 1, 0, 0, "x", 0.1);
	assert_string_equal(sum, "19a98e3767c9c4acf78e7988c79506c3");
}

static void test_rubric__clear_regions(void **state)
{
	char *out = NULL;
	int found = 0;
	struct gr_err err = {0};
	(void)state;

	assert_int_equal(
	    rubric_clear_solutions(&out, &found,
				   "def f(x):\n    if x:\n        ### BEGIN SOLUTION\n"
				   "        return 1\n        ### END SOLUTION\n    return 0",
				   NB_CELL_CODE, 1, &err),
	    0);
	assert_true(found);
	assert_string_equal(out, "def f(x):\n    if x:\n        # YOUR CODE HERE\n"
				 "        raise NotImplementedError()\n    return 0");
	free(out);
	assert_int_equal(rubric_clear_solutions(&out, &found, "x = 42", NB_CELL_CODE, 1, &err), 0);
	assert_false(found);
	assert_string_equal(out, "# YOUR CODE HERE\nraise NotImplementedError()");
	free(out);
	assert_int_equal(
	    rubric_clear_solutions(&out, &found, "Because.", NB_CELL_MARKDOWN, 1, &err), 0);
	assert_string_equal(out, "YOUR ANSWER HERE");
	free(out);
	assert_int_equal(rubric_clear_solutions(&out, &found, "x = 1", NB_CELL_CODE, 0, &err), 0);
	assert_string_equal(out, "x = 1");
	free(out);
	assert_int_equal(rubric_clear_solutions(&out, &found,
						"\t### BEGIN SOLUTION\n\t### BEGIN SOLUTION\n",
						NB_CELL_CODE, 1, &err),
			 GR_EINVAL);
	assert_string_equal(err.msg,
			    "line 2: a 'BEGIN SOLUTION' inside the region opened on line 1 "
			    "(regions cannot nest)");
	assert_int_equal(rubric_clear_hidden_tests(&out, &found,
						   "assert a\n### BEGIN HIDDEN TESTS\nassert b\n"
						   "### END HIDDEN TESTS\nassert c\n",
						   &err),
			 0);
	assert_true(found);
	assert_string_equal(out, "assert a\nassert c\n");
	free(out);
	assert_int_equal(rubric_clear_mark_scheme(&out, &found,
						  "Task\n### BEGIN MARK SCHEME\n2 points\n"
						  "### END MARK SCHEME",
						  &err),
			 0);
	assert_string_equal(out, "Task");
	free(out);
}

/* The released notebook of BASE with the student's edits applied by `edit`. */
static struct nb_notebook *student_from(const struct rubric *r)
{
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};

	assert_int_equal(rubric_release_notebook(&nb, r, 0, &err), 0);
	return nb;
}

static const struct rubric_graded *graded(const struct rubric_splice *s, const char *gid)
{
	for (size_t i = 0; i < s->ngraded; i++)
		if (!strcmp(s->graded[i].cell->grade_id, gid))
			return &s->graded[i];
	fail_msg("no graded cell '%s'", gid);
	return NULL;
}

static int has_flag(const struct rubric_splice *s, const char *flag, const char *gid)
{
	for (size_t i = 0; i < s->nflags; i++)
		if (!strcmp(s->flags[i].flag, flag) && !strcmp(s->flags[i].grade_id, gid))
			return 1;
	return 0;
}

static void test_rubric__release_notebook(void **state)
{
	struct rubric *r = NULL;
	struct nb_notebook *nb;
	struct gr_err err = {0};
	char *dump = NULL;
	(void)state;

	assert_int_equal(rubric_parse(&r, BASE, strlen(BASE), "ps0.json", &err), 0);
	nb = student_from(r);
	assert_int_equal(nb->ncells, 8);
	assert_string_equal(nb->cells[1].source,
			    "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()");
	assert_string_equal(nb->cells[2].source, "assert f(2) == 4");
	assert_string_equal(nb->cells[6].source, "YOUR ANSWER HERE");
	assert_int_equal(nb_dump(&dump, nb, &err), 0);
	assert_null(strstr(dump, "SOLUTION"));
	assert_null(strstr(dump, "HIDDEN"));
	assert_null(strstr(dump, "x * x"));
	assert_null(strstr(dump, "f(3)"));
	/* released checksums: of what the student receives */
	{
		char sum[33];

		rubric_checksum(sum, "assert f(2) == 4", NB_CELL_CODE, 1, 0, 1, "test_f", 2);
		assert_string_equal(nb->cells[2].nbgrader.checksum, sum);
		assert_string_equal(nb->cells[1].nbgrader.checksum,
				    r->notebooks[0].cells[1].checksum);
	}
	assert_true(json_is_null(json_object_get(nb->cells[2].json, "execution_count")));
	assert_int_equal(json_array_size(json_object_get(nb->cells[2].json, "outputs")), 0);
	assert_true(json_is_false(
	    json_object_get(json_object_get(nb->cells[2].json, "metadata"), "editable")));
	free(dump);
	nb_free(nb);
	rubric_free(r);
}

static void test_rubric__splice_untouched_submission(void **state)
{
	struct rubric *r = NULL;
	struct nb_notebook *nb;
	struct rubric_splice *s = NULL;
	struct gr_err err = {0};
	(void)state;

	assert_int_equal(rubric_parse(&r, BASE, strlen(BASE), "ps0.json", &err), 0);
	nb = student_from(r);
	/* an old output the student left: cleared */
	json_array_append_new(
	    json_object_get(nb->cells[0].json, "outputs"),
	    json_pack("{s:s, s:s, s:s}", "output_type", "stream", "name", "stdout", "text", "hi"));
	assert_int_equal(rubric_splice(&s, r, 0, nb, &err), 0);
	assert_int_equal(s->nflags, 0);
	assert_int_equal(s->nb->ncells, 8);
	/* hidden tests are back in the copy that runs */
	assert_string_equal(s->nb->cells[2].source, r->notebooks[0].cells[2].source);
	assert_int_equal(json_array_size(json_object_get(s->nb->cells[0].json, "outputs")), 0);
	assert_int_equal(s->ngraded, 6);
	assert_true(graded(s, "f")->unchanged);
	assert_true(graded(s, "essay")->unchanged && graded(s, "essay")->manual);
	assert_true(graded(s, "task1")->manual);
	assert_int_equal(graded(s, "test_f")->index, 2);
	assert_true(graded(s, "test_g")->points == 1.5);
	/* the student's notebook is not modified */
	assert_string_equal(nb->cells[2].source, "assert f(2) == 4");
	rubric_splice_free(s);
	nb_free(nb);
	rubric_free(r);
}

static void test_rubric__splice_hostile_submission(void **state)
{
	struct rubric *r = NULL;
	struct nb_notebook *nb;
	struct rubric_splice *s = NULL;
	struct gr_err err = {0};
	struct nb_grader_meta forged = {0};
	json_t *extra = NULL;
	(void)state;

	assert_int_equal(rubric_parse(&r, BASE, strlen(BASE), "ps0.json", &err), 0);
	nb = student_from(r);
	/* answers */
	assert_int_equal(nb_cell_set_source(&nb->cells[1], "def f(x):\n    return x * x", &err), 0);
	assert_int_equal(nb_cell_set_source(&nb->cells[6], "Because.", &err), 0);
	/* an edited test cell and an edited locked cell */
	assert_int_equal(nb_cell_set_source(&nb->cells[2], "pass", &err), 0);
	assert_int_equal(nb_cell_set_source(&nb->cells[0], "import math, os", &err), 0);
	/* test_g deleted, with a helper cell of the student's after answer g */
	assert_int_equal(nb_remove_cell(nb, 5, &err), 0);
	assert_int_equal(nb_cell_new(&extra, NB_CELL_CODE, "helper = 1", NULL, NULL, &err), 0);
	assert_int_equal(nb_insert_cell(nb, 5, extra, &err), 0);
	json_decref(extra);
	/* a forged earlier copy of test_f that always passes, and an unknown grade cell */
	forged.present = 1;
	forged.grade = 1;
	forged.locked = 1;
	forged.grade_id = "test_f";
	forged.has_points = 1;
	forged.points = 2;
	assert_int_equal(nb_cell_new(&extra, NB_CELL_CODE, "pass", NULL, &forged, &err), 0);
	assert_int_equal(nb_insert_cell(nb, 0, extra, &err), 0);
	json_decref(extra);
	forged.grade_id = "bonus";
	forged.points = 100;
	assert_int_equal(nb_cell_new(&extra, NB_CELL_CODE, "pass", NULL, &forged, &err), 0);
	assert_int_equal(nb_insert_cell(nb, nb->ncells, extra, &err), 0);
	json_decref(extra);

	assert_int_equal(rubric_splice(&s, r, 0, nb, &err), 0);
	assert_true(has_flag(s, RUBRIC_FLAG_MODIFIED_LOCKED, "test_f"));
	assert_true(has_flag(s, RUBRIC_FLAG_MODIFIED_LOCKED, "setup"));
	assert_true(has_flag(s, RUBRIC_FLAG_DELETED_TEST, "test_g"));
	assert_true(has_flag(s, RUBRIC_FLAG_DUPLICATE, "test_f"));
	assert_true(has_flag(s, RUBRIC_FLAG_UNKNOWN, "bonus"));
	assert_int_equal(s->nflags, 5);
	/* cells: [forged (now plain)][setup][f][test_f][##
	 * Q2][g][helper][test_g][essay][task1][bonus (plain)] */
	assert_int_equal(s->nb->ncells, 11);
	assert_false(s->nb->cells[0].nbgrader.present);
	assert_string_equal(s->nb->cells[0].source, "pass");
	assert_string_equal(s->nb->cells[1].source, "import math");
	assert_string_equal(s->nb->cells[3].source, r->notebooks[0].cells[2].source);
	assert_string_equal(s->nb->cells[6].source, "helper = 1");
	assert_string_equal(s->nb->cells[7].source, "assert g == 1");
	assert_string_equal(s->nb->cells[7].nbgrader.grade_id, "test_g");
	assert_false(s->nb->cells[10].nbgrader.present);
	assert_int_equal(graded(s, "test_f")->index, 3);
	assert_int_equal(graded(s, "test_g")->index, 7);
	assert_false(graded(s, "f")->unchanged);
	assert_true(graded(s, "g")->unchanged);
	assert_false(graded(s, "essay")->unchanged);
	/* the answer keeps the student's source */
	assert_string_equal(s->nb->cells[2].source, "def f(x):\n    return x * x");
	rubric_splice_free(s);
	nb_free(nb);
	rubric_free(r);
}

/* A notebook saved with Windows line endings is not a modified locked cell. */
static void test_rubric__splice_crlf_not_modified(void **state)
{
	struct rubric *r = NULL;
	struct nb_notebook *nb;
	struct rubric_splice *s = NULL;
	struct gr_err err = {0};
	json_t *root = base();
	(void)state;

	json_object_set_new(cell(root, 0), "source", json_string("import math\nimport os\n"));
	assert_int_equal(rubric_from_json(&r, root, "ps0.json", &err), 0);
	json_decref(root);
	nb = student_from(r);
	assert_int_equal(nb_cell_set_source(&nb->cells[0], "import math\r\nimport os\r\n", &err),
			 0);
	assert_int_equal(nb_cell_set_source(&nb->cells[4], "g = 1\r\n", &err), 0);
	assert_int_equal(rubric_splice(&s, r, 0, nb, &err), 0);
	assert_int_equal(s->nflags, 0);
	/* the rubric's copy runs */
	assert_string_equal(s->nb->cells[0].source, "import math\nimport os\n");
	rubric_splice_free(s);
	/* a real edit is still one, whatever the line endings */
	assert_int_equal(nb_cell_set_source(&nb->cells[0], "import math\r\nimport sys\r\n", &err),
			 0);
	assert_int_equal(rubric_splice(&s, r, 0, nb, &err), 0);
	assert_true(has_flag(s, RUBRIC_FLAG_MODIFIED_LOCKED, "setup"));
	rubric_splice_free(s);
	nb_free(nb);
	rubric_free(r);
}

static void test_rubric__splice_deleted_answer_and_type_change(void **state)
{
	struct rubric *r = NULL;
	struct nb_notebook *nb;
	struct rubric_splice *s = NULL;
	struct gr_err err = {0};
	(void)state;

	assert_int_equal(rubric_parse(&r, BASE, strlen(BASE), "ps0.json", &err), 0);
	nb = student_from(r);
	assert_int_equal(nb_remove_cell(nb, 6, &err), 0); /* essay */
	assert_int_equal(nb_remove_cell(nb, 0, &err), 0); /* setup, the first cell */
	json_object_set_new(nb->cells[1].json, "cell_type", json_string("markdown")); /* test_f */
	assert_int_equal(nb_reindex(nb, &err), 0);
	assert_int_equal(rubric_splice(&s, r, 0, nb, &err), 0);
	assert_true(has_flag(s, RUBRIC_FLAG_DELETED_ANSWER, "essay"));
	assert_true(has_flag(s, RUBRIC_FLAG_DELETED_LOCKED, "setup"));
	assert_true(has_flag(s, RUBRIC_FLAG_MODIFIED_LOCKED, "test_f"));
	assert_string_equal(s->nb->cells[0].source, "import math");
	assert_int_equal(s->nb->cells[2].type, NB_CELL_CODE);
	assert_true(graded(s, "essay")->unchanged);
	assert_true(graded(s, "essay")->index == RUBRIC_NO_CELL);
	assert_int_equal(s->nb->ncells, 7);
	assert_string_equal(s->nb->cells[6].nbgrader.grade_id, "task1");
	rubric_splice_free(s);
	nb_free(nb);
	rubric_free(r);
}

static void test_rubric__public(void **state)
{
	struct rubric *r = NULL, *p = NULL;
	struct gr_err err = {0};
	char *dump = NULL;
	(void)state;

	assert_int_equal(rubric_parse(&r, BASE, strlen(BASE), "ps0.json", &err), 0);
	assert_int_equal(rubric_public(&p, r, &err), 0);
	assert_true(p->is_public);
	assert_int_equal(rubric_dump(&dump, p, &err), 0);
	assert_null(strstr(dump, "HIDDEN"));
	assert_null(strstr(dump, "SOLUTION"));
	assert_null(strstr(dump, "x * x"));
	assert_null(strstr(dump, "An essay"));
	assert_string_equal(p->notebooks[0].cells[2].source, "assert f(2) == 4");
	/* answers keep the checksum of the released stub ("No response." still works) */
	assert_string_equal(p->notebooks[0].cells[1].checksum, r->notebooks[0].cells[1].checksum);
	free(dump);
	/* a public rubric holding a solution is refused */
	{
		json_t *j = json_deep_copy(p->root);

		json_object_set_new(cell(j, 1), "source",
				    json_string("### BEGIN SOLUTION\nx\n### END SOLUTION"));
		expect_invalid(j, "a public rubric must not hold solutions");
	}
	rubric_free(p);
	rubric_free(r);
}

static char *write_tmp(const char *dir, const char *name, const char *text)
{
	char *path = gr_path_join(dir, name);

	assert_int_equal(gr_write_file_atomic(path, text, strlen(text), NULL), 0);
	return path;
}

/* A one-cell nbgrader source notebook around `cell_json`. */
static void expect_import_error(const char *dir, const char *cells, const char *msg)
{
	char text[4096];
	char *path;
	struct rubric *r = NULL;
	struct gr_err err = {0};
	const char *const srcs[1] = {NULL};
	struct rubric_import_opts o = {0};

	snprintf(text, sizeof(text),
		 "{\"cells\": [%s], \"metadata\": {}, \"nbformat\": 4, \"nbformat_minor\": 5}",
		 cells);
	path = write_tmp(dir, "src.ipynb", text);
	(void)srcs;
	o.sources = (const char *const *)&path;
	o.nsources = 1;
	o.assignment = "a1";
	assert_int_equal(rubric_import(&r, &o, &err), GR_EINVAL);
	if (!strstr(err.msg, msg))
		fail_msg("expected '%s' in '%s'", msg, err.msg);
	free(path);
}

#define NBG(extra) "\"metadata\": {\"nbgrader\": {\"schema_version\": 3, " extra "}}"

static void test_rubric__import_checks_nbgrader_rules(void **state)
{
	char dir[] = "/tmp/test_rubric.XXXXXX";
	(void)state;

	assert_non_null(mkdtemp(dir));
	expect_import_error(
	    dir,
	    "{\"cell_type\": \"code\", \"source\": \"x\", " NBG(
		"\"grade\": true, \"solution\": false, \"locked\": true, \"grade_id\": \"t\"") "}",
	    "'src.ipynb': cell 1 (grade_id 't'): grade cell has no points");
	expect_import_error(dir,
			    "{\"cell_type\": \"code\", \"source\": \"x\", " NBG(
				"\"grade\": false, \"solution\": true, \"locked\": false, "
				"\"grade_id\": \"a\"") "},"
						       "{\"cell_type\": \"code\", \"source\": "
						       "\"y\", " NBG("\"grade\": false, "
								     "\"solution\": true, "
								     "\"locked\": false, "
								     "\"grade_id\": \"a\"") "}",
			    "'src.ipynb': cell 2: duplicate grade_id 'a' (also cell 1)");
	expect_import_error(dir,
			    "{\"cell_type\": \"markdown\", \"source\": \"x\", " NBG(
				"\"grade\": true, \"solution\": false, \"locked\": false, "
				"\"grade_id\": \"m\", \"points\": 1") "}",
			    "a markdown cell must be both grade and solution, or neither");
	expect_import_error(dir,
			    "{\"cell_type\": \"code\", \"source\": \"x\", " NBG(
				"\"grade\": false, \"solution\": false, \"locked\": true, "
				"\"task\": true, \"grade_id\": \"t\", \"points\": 1") "}",
			    "task cells must be markdown");
	expect_import_error(dir,
			    "{\"cell_type\": \"code\", \"source\": \"x\", " NBG(
				"\"grade\": false, \"solution\": true, \"locked\": false") "}",
			    "nbgrader cells need a grade_id");
	expect_import_error(
	    dir,
	    "{\"cell_type\": \"code\", \"source\": \"### BEGIN SOLUTION\\nx\\n### END SOLUTION\", "
	    "\"metadata\": {}}",
	    "'src.ipynb': cell 1: solution region in a cell that is not a solution cell");
	expect_import_error(dir,
			    "{\"cell_type\": \"code\", \"source\": \"x\", \"metadata\": "
			    "{\"nbgrader\": {\"schema_version\": 1, \"grade\": false, "
			    "\"solution\": true, \"locked\": false, \"grade_id\": \"a\"}}}",
			    "schema_version 1 is not supported");
	assert_int_equal(gr_rm_rf(dir, NULL), 0);
}

static void test_rubric__import_builds_rubric(void **state)
{
	char dir[] = "/tmp/test_rubric.XXXXXX";
	char *nbpath, *data, *out;
	struct rubric *r = NULL, *back = NULL;
	struct gr_err err = {0};
	struct rubric_import_opts o = {0};
	const char *ext[] = {"bob=36h"};
	const char *pre[] = {"numpy", "matplotlib.pyplot"};
	const char *files[1];
	(void)state;

	assert_non_null(mkdtemp(dir));
	nbpath =
	    write_tmp(dir, "hw.ipynb",
		      "{\"cells\": ["
		      "{\"cell_type\": \"code\", \"id\": \"c1\", \"execution_count\": 3, "
		      "\"outputs\": [], \"source\": [\"def f():\\n\", \"    ### BEGIN "
		      "SOLUTION\\n\", \"    return 1\\n\", \"    ### END SOLUTION\"], " NBG(
			  "\"grade\": false, \"solution\": true, \"locked\": false, \"grade_id\": "
			  "\"f\"") "},"
				   "{\"cell_type\": \"code\", \"id\": \"c2\", \"execution_count\": "
				   "null, \"outputs\": [], \"source\": \"assert f() == 1\", " NBG(
				       "\"grade\": true, \"solution\": false, \"locked\": true, "
				       "\"grade_id\": \"test_f\", \"points\": 2.5") "}"
										    "], "
										    "\"metadata\": "
										    "{\"kernelspec"
										    "\": "
										    "{\"name\": "
										    "\"python3\", "
										    "\"display_"
										    "name\": "
										    "\"Python 3\", "
										    "\"language\": "
										    "\"python\"}}, "
										    "\"nbformat\": "
										    "4, "
										    "\"nbformat_"
										    "minor\": 5}");
	data = write_tmp(dir, "data.csv", "a,b\n1,2\n");
	out = gr_path_join(dir, "hw.json");
	files[0] = data;
	o.sources = (const char *const *)&nbpath;
	o.nsources = 1;
	o.assignment = "hw1";
	o.duedate = "2026-10-30T12:00:00+02:00";
	o.late_policy = "5%/hour,cap=40%";
	o.extensions = ext;
	o.nextensions = 1;
	o.preload = pre;
	o.npreload = 2;
	o.data = files;
	o.ndata = 1;
	o.output = out;
	o.seed = 3;
	assert_int_equal(rubric_import(&r, &o, &err), 0);
	assert_int_equal(rubric_write_file(r, out, &err), 0);
	assert_int_equal(rubric_load(&back, out, &err), 0);
	assert_true(back->duedate.sec == 1793354400 && back->duedate.usec == 0);
	assert_true(back->late.percent == 5 && back->late.cap == 40 && back->late.period == 3600);
	assert_true(rubric_extension_for(back, "bob") == 36 * 3600);
	assert_int_equal(back->npreload, 2);
	assert_int_equal(back->seed, 3);
	assert_int_equal(back->nfiles, 1);
	assert_string_equal(back->files[0].path, "data.csv");
	assert_string_equal(back->files[0].target, "data.csv");
	assert_true(back->notebooks[0].max_points == 2.5);
	assert_string_equal(back->notebooks[0].cells[0].source,
			    "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION");
	assert_non_null(json_object_get(back->notebooks[0].cells[1].json, "checksum"));
	/* release writes the notebook and the data file */
	{
		char *rel = gr_path_join(dir, "release"), *p, *text = NULL;
		size_t len;

		assert_int_equal(rubric_release(back, rel, &err), 0);
		p = gr_path_join(rel, "data.csv");
		assert_int_equal(gr_read_file(&text, &len, p, 0, &err), 0);
		assert_string_equal(text, "a,b\n1,2\n");
		free(text);
		free(p);
		/* a changed data file is refused */
		assert_int_equal(gr_write_file_atomic(data, "x", 1, NULL), 0);
		assert_int_equal(rubric_release(back, rel, &err), GR_EINVAL);
		assert_non_null(strstr(err.msg, "changed since the rubric was made"));
		free(rel);
	}
	{
		json_t *lp = NULL;

		assert_int_equal(rubric_late_policy_parse(&lp, "10/day", &err), 0);
		assert_int_equal(json_integer_value(json_object_get(lp, "cap")), 100);
		json_decref(lp);
		assert_int_equal(rubric_late_policy_parse(&lp, "10%/week", &err), GR_EINVAL);
		assert_int_equal(rubric_late_policy_parse(&lp, "150%/day", &err), GR_EINVAL);
		assert_int_equal(rubric_late_policy_parse(&lp, "zero", &err), 0);
		json_decref(lp);
	}
	rubric_free(back);
	rubric_free(r);
	free(nbpath);
	free(data);
	free(out);
	assert_int_equal(gr_rm_rf(dir, NULL), 0);
}

static void test_rubric__has_hidden_tests(void **state)
{
	(void)state;
	assert_true(rubric_has_hidden_tests("assert f(1)\n### BEGIN HIDDEN TESTS\nassert f(2)\n"));
	assert_false(rubric_has_hidden_tests("assert f(1)\n# hidden tests run later\n"));
	assert_false(rubric_has_hidden_tests(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rubric__loads_valid),
	    cmocka_unit_test(test_rubric__validation_errors),
	    cmocka_unit_test(test_rubric__load_file_errors),
	    cmocka_unit_test(test_rubric__checksums_match_nbgrader),
	    cmocka_unit_test(test_rubric__clear_regions),
	    cmocka_unit_test(test_rubric__release_notebook),
	    cmocka_unit_test(test_rubric__splice_untouched_submission),
	    cmocka_unit_test(test_rubric__splice_hostile_submission),
	    cmocka_unit_test(test_rubric__splice_crlf_not_modified),
	    cmocka_unit_test(test_rubric__splice_deleted_answer_and_type_change),
	    cmocka_unit_test(test_rubric__public),
	    cmocka_unit_test(test_rubric__import_checks_nbgrader_rules),
	    cmocka_unit_test(test_rubric__import_builds_rubric),
	    cmocka_unit_test(test_rubric__has_hidden_tests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
