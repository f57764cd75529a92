/* test_feedback.c - unit tests of the feedback pages: escaping, hidden tests, rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader/feedback.h"
#include "../grader/feedback_int.h"

static char *html_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	gr_html_text(f, s);
	fclose(f);
	return buf;
}

static void test_feedback__html_text_escapes(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"</pre><script>", "&lt;/pre&gt;&lt;script&gt;"},
	    {"a & \"b\" 'c'", "a &amp; &quot;b&quot; &#39;c&#39;"},
	    {"tab\tnl\ncr\r", "tab\tnl\ncr\r"},
	    {"bell\a nul-ish\x01 del\x7f", "bell\xEF\xBF\xBD nul-ish\xEF\xBF\xBD del\xEF\xBF\xBD"},
	    {"\x1b[31mred\x1b[0m", "red"},
	    {"caf\xC3\xA9 \xF0\x9F\x98\x80", "caf\xC3\xA9 \xF0\x9F\x98\x80"},
	    {"bad \xC3( \xED\xA0\x80 \xC0\xAF",
	     "bad \xEF\xBF\xBD( \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
	     "\xEF\xBF\xBD\xEF\xBF\xBD"},
	    {"cut \xE2\x82", "cut \xEF\xBF\xBD\xEF\xBF\xBD"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *got = html_of(cases[i].in);

		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

static void test_feedback__strip_hidden(void **state)
{
	char *s;
	(void)state;

	s = fb_strip_hidden(
	    "assert f(1)\n### BEGIN HIDDEN TESTS\nassert f(2)\n### END HIDDEN TESTS\n"
	    "assert f(3)");
	assert_string_equal(s, "assert f(1)\n# hidden tests\nassert f(3)");
	free(s);
	s = fb_strip_hidden("def t():\n    ### BEGIN HIDDEN TESTS\n    secret()\n"
			    "    ### END HIDDEN TESTS\n    pass\n");
	assert_string_equal(s, "def t():\n    # hidden tests\n    pass\n");
	free(s);
	/* Unterminated: everything after the marker stays hidden. */
	s = fb_strip_hidden("a\n# BEGIN HIDDEN TESTS\nsecret\nmore secret");
	assert_string_equal(s, "a\n# hidden tests\n");
	free(s);
	s = fb_strip_hidden("no markers\n");
	assert_string_equal(s, "no markers\n");
	free(s);
}

/* One submission of one notebook with a failing hidden test cell. */
static struct gb_gradebook *gradebook(void)
{
	struct gb_gradebook *gb;
	struct gb_assignment *a;
	struct gb_notebook *nb;
	struct gb_cell *c;
	struct gb_submission *sub;
	struct gb_nbresult *r;
	struct gb_grade *g;
	struct gb_student *st;
	const char *tb = "Traceback:\n    assert secret_case()\nAssertionError: nope\n";

	assert_int_equal(gb_new(&gb), 0);
	assert_int_equal(gb_add_assignment(gb, &a, "hw1"), 0);
	assert_int_equal(gb_assignment_add_notebook(a, &nb, "nb"), 0);
	assert_int_equal(gb_notebook_add_cell(nb, &c, "t1"), 0);
	c->grade = true;
	c->hidden_tests = true;
	c->max_score = 2;
	assert_int_equal(gb_set_str(&c->cell_type, "code"), 0);
	gb_assignment_sum(a);
	assert_int_equal(gb_add_student(gb, &st, "s<1>"), 0);
	assert_int_equal(gb_submission_new(&sub, "hw1", "s<1>"), 0);
	assert_int_equal(gb_submission_add_notebook(sub, &r, "nb"), 0);
	assert_int_equal(gb_nbresult_add_grade(r, &g, "t1"), 0);
	g->max_score = 2;
	g->auto_score = 0;
	g->status = GB_CELL_FAILED;
	assert_int_equal(gb_output_set(&g->output, &g->output.traceback, tb, strlen(tb)), 0);
	gb_submission_sum(sub, a);
	assert_int_equal(gb_take_submission(gb, sub), 0);
	return gb;
}

static char *render(enum fb_format fmt, const struct gb_gradebook *gb, const struct nb_notebook *nb)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct gr_err err = {0};
	const struct gb_submission *sub = gb->submissions[0];

	assert_int_equal(fb_render(f, fmt, gb, sub, sub->notebooks[0], nb, &err), 0);
	fclose(f);
	return buf;
}

static void test_feedback__hidden_tests_stay_hidden(void **state)
{
	static const char nbjson[] =
	    "{\"nbformat\": 4, \"nbformat_minor\": 5, \"metadata\": {}, \"cells\": ["
	    "{\"cell_type\": \"code\", \"id\": \"a\", \"execution_count\": 1, \"metadata\": "
	    "{\"nbgrader\": {\"grade\": true, \"grade_id\": \"t1\", \"points\": 2, "
	    "\"solution\": false, \"locked\": true, \"schema_version\": 3}}, "
	    "\"source\": \"assert visible()\\n### BEGIN HIDDEN TESTS\\nassert secret_case()\\n"
	    "### END HIDDEN TESTS\", \"outputs\": [{\"output_type\": \"error\", \"ename\": "
	    "\"AssertionError\", \"evalue\": \"nope\", \"traceback\": "
	    "[\"    assert secret_case()\", \"AssertionError: nope\"]}]}]}";
	struct gb_gradebook *gb = gradebook();
	struct nb_notebook *nb = NULL;
	struct gr_err err = {0};
	char *html, *md, *bare;
	(void)state;

	assert_int_equal(nb_parse(&nb, nbjson, sizeof(nbjson) - 1, "nb.ipynb", &err), 0);
	html = render(FB_HTML, gb, nb);
	md = render(FB_MARKDOWN, gb, NULL);
	bare = render(FB_HTML, gb, NULL);
	for (char *page, **p = (char *[]){html, md, bare, NULL}; (page = *p); p++) {
		assert_null(strstr(page, "secret_case"));
		/* the exception's name, not its message (it may carry a hidden value) */
		assert_non_null(strstr(page, "AssertionError"));
		assert_null(strstr(page, "nope"));
		assert_non_null(strstr(page, "the rest is withheld: this cell holds hidden tests"));
	}
	assert_non_null(strstr(html, "assert visible()\n# hidden tests"));
	assert_non_null(strstr(html, "t1</b>: 0 / 2 points, failed"));
	assert_non_null(strstr(html, "Feedback for <b>s&lt;1&gt;</b>"));
	assert_non_null(strstr(md, "| t1 | failed | 0 / 2 |"));
	assert_non_null(strstr(bare, "<h2>Graded cells</h2>"));
	free(html);
	free(md);
	free(bare);
	nb_free(nb);
	gb_free(gb);
}

static void test_feedback__markdown_fence_cannot_be_closed(void **state)
{
	struct gb_gradebook *gb = gradebook();
	struct gb_grade *g = gb->submissions[0]->notebooks[0]->grades[0];
	char *md;
	(void)state;

	gb->assignments[0]->notebooks[0]->cells[0]->hidden_tests = false;
	assert_int_equal(
	    gb_output_set(&g->output, &g->output.stdout_text, "a ````\n# not a title", 20), 0);
	md = render(FB_MARKDOWN, gb, NULL);
	assert_non_null(strstr(md, "`````text\na ````\n# not a title\n`````\n"));
	free(md);
	gb_free(gb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_feedback__html_text_escapes),
	    cmocka_unit_test(test_feedback__strip_hidden),
	    cmocka_unit_test(test_feedback__hidden_tests_stay_hidden),
	    cmocka_unit_test(test_feedback__markdown_fence_cannot_be_closed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
