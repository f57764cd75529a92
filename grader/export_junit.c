/*
 * export_junit.c - JUnit XML for CI dashboards (GitLab, Jenkins): one
 * testsuite per student notebook, one testcase per grade or task cell.
 * Full marks pass; fewer points fail with the captured traceback (only the
 * exception's name for a cell holding hidden tests: see export_traceback); cells that
 * could not run (crash, timeout) are errors; cells waiting for a marker are
 * skipped. The root carries no `skipped` (the common JUnit XSD allows it on
 * <testsuite> only). Text is escaped for XML 1.0, which cannot carry most controls.
 */
#include <stdlib.h>
#include <string.h>

#include "export_int.h"

enum verdict { V_PASS, V_FAIL, V_ERROR, V_SKIP };

struct counts {
	size_t tests, failures, errors, skipped;
	double time;
};

static enum verdict judge(const struct gb_grade *g)
{
	if (!g)
		return V_FAIL;
	if (g->needs_manual_grade && !gb_isset(g->manual_score))
		return V_SKIP;
	if (g->status == GB_CELL_ERROR || g->status == GB_CELL_TIMEOUT)
		return V_ERROR;
	return gb_grade_score(g) >= g->max_score - GB_EPSILON ? V_PASS : V_FAIL;
}

static void count(struct counts *c, const struct gb_cell *cell, const struct gb_grade *g)
{
	enum verdict v = judge(g);

	c->tests++;
	c->failures += v == V_FAIL;
	c->errors += v == V_ERROR;
	c->skipped += v == V_SKIP;
	if (gb_isset(gb_grade_shown_time(cell, g)))
		c->time += g->time;
}

/* Why a cell has no grade: the notebook's or submission's message, or a default. */
static const char *absent_reason(const struct gb_submission *sub, const struct gb_nbresult *r)
{
	if (r && r->message)
		return r->message;
	if (sub && sub->message)
		return sub->message;
	if (!sub || sub->status == GB_MISSING)
		return "no submission";
	return r ? "cell missing from the submission" : "notebook missing from the submission";
}

static void body(FILE *out, const struct gb_grade *g, const char *withheld)
{
	/* a cell holding hidden tests, or run after one: the exception's name only */
	char *tb = export_traceback(g->output.traceback, withheld);
	const char *parts[] = {tb, withheld ? NULL : g->output.stderr_text, g->auto_comment};

	for (size_t i = 0, n = 0; i < 3; i++) {
		if (!parts[i] || !*parts[i])
			continue;
		if (n++)
			fputc('\n', out);
		export_xml_text(out, parts[i], false);
	}
	free(tb);
}

static void testcase(FILE *out, const char *classname, const struct gb_cell *cell,
		     const struct gb_grade *g, const struct gb_submission *sub,
		     const struct gb_nbresult *r)
{
	enum verdict v = judge(g);
	char got[32], max[32];
	/* a cell holding hidden tests, or run after one: its stdout withheld too */
	const char *withheld = NULL;
	bool out_shown = g && !gb_grade_withheld(cell, g, &withheld) && g->output.stdout_text &&
			 *g->output.stdout_text;

	fputs("    <testcase classname=\"", out);
	export_xml_text(out, classname, true);
	fputs("\" name=\"", out);
	export_xml_text(out, cell->name, true);
	/* a withheld cell's time is left out: student code may have chosen it */
	if (g && gb_grade_withheld(cell, g, NULL))
		fputc('"', out);
	else
		fprintf(out, "\" time=\"%.3f\"", g && gb_isset(g->time) ? g->time : 0.0);
	if (v == V_PASS && !out_shown) {
		fputs("/>\n", out);
		return;
	}
	fputs(">\n", out);
	if (!g) {
		fputs("      <failure type=\"missing\" message=\"", out);
		export_xml_text(out, absent_reason(sub, r), true);
		fputs("\"/>\n", out);
		goto done;
	}
	gr_py_float_repr(got, gb_grade_score(g));
	gr_py_float_repr(max, g->max_score);
	if (v == V_SKIP) {
		fputs("      <skipped message=\"needs manual grading\"/>\n", out);
	} else if (v != V_PASS) {
		const char *tag = v == V_ERROR ? "error" : "failure";

		/* a cell that could not run says why (the notebook's reason, e.g. unreadable) */
		const char *why = g->auto_comment ? g->auto_comment
				  : g->status == GB_CELL_ERROR || g->status == GB_CELL_MISSING
				      ? absent_reason(sub, r)
				      : NULL;

		fprintf(out, "      <%s type=\"%s\" message=\"%s of %s points", tag,
			gb_cell_status_name(g->status), got, max);
		if (why) {
			fputs(": ", out);
			export_xml_text(out, why, true);
		}
		fputs("\">", out);
		body(out, g, withheld);
		if (why && why != g->auto_comment && !g->output.traceback)
			export_xml_text(out, why, false);
		fprintf(out, "</%s>\n", tag);
	}
	if (out_shown) {
		fputs("      <system-out>", out);
		export_xml_text(out, g->output.stdout_text, false);
		fputs("</system-out>\n", out);
	}
done:
	fputs("    </testcase>\n", out);
}

/* The counts of one suite: a student's notebook. */
static void suite_counts(struct counts *c, const struct gb_notebook *nb,
			 const struct gb_nbresult *r)
{
	*c = (struct counts){0};
	for (size_t k = 0; k < nb->n_cells; k++)
		if (nb->cells[k]->grade || nb->cells[k]->task)
			count(c, nb->cells[k], r ? gb_find_grade(r, nb->cells[k]->name) : NULL);
}

/* Add one suite to the totals, in the order the suites are written (time is a sum of doubles). */
static void add_counts(struct counts *total, const struct counts *c)
{
	total->tests += c->tests;
	total->failures += c->failures;
	total->errors += c->errors;
	total->skipped += c->skipped;
	total->time += c->time;
}

static void suite(FILE *out, const struct gb_assignment *a, const struct gb_notebook *nb,
		  const struct gb_student *s, const struct gb_submission *sub)
{
	const struct gb_nbresult *r = sub ? gb_find_nbresult(sub, nb->name) : NULL;
	struct counts c;
	char *name = NULL, *classname = NULL, num[32];

	suite_counts(&c, nb, r);
	if (asprintf(&name, "%s/%s/%s", a->name, s->id, nb->name) < 0)
		name = NULL;
	if (asprintf(&classname, "%s.%s.%s", a->name, s->id, nb->name) < 0)
		classname = NULL;
	fputs("  <testsuite name=\"", out);
	export_xml_text(out, name ? name : nb->name, true);
	fprintf(out,
		"\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
		c.tests, c.failures, c.errors, c.skipped, c.time);
	fputs("    <properties>\n      <property name=\"student_id\" value=\"", out);
	export_xml_text(out, s->id, true);
	fputs("\"/>\n", out);
	gr_py_float_repr(num, r ? r->score : 0.0);
	fprintf(out, "      <property name=\"score\" value=\"%s\"/>\n", num);
	gr_py_float_repr(num, nb->max_score);
	fprintf(out, "      <property name=\"max_score\" value=\"%s\"/>\n", num);
	gr_py_float_repr(num, r ? r->late_submission_penalty : 0.0);
	fprintf(out, "      <property name=\"late_submission_penalty\" value=\"%s\"/>\n", num);
	if (export_time_note(sub)) {
		fputs("      <property name=\"time_note\" value=\"", out);
		export_xml_text(out, export_time_note(sub), true);
		fputs("\"/>\n", out);
	}
	fputs("    </properties>\n", out);
	for (size_t k = 0; k < nb->n_cells; k++)
		if (nb->cells[k]->grade || nb->cells[k]->task)
			testcase(out, classname ? classname : nb->name, nb->cells[k],
				 r ? gb_find_grade(r, nb->cells[k]->name) : NULL, sub, r);
	fputs("  </testsuite>\n", out);
	free(name);
	free(classname);
}

/*
 * The root element carries the totals, so a first pass over the submissions
 * adds them up (counts only) and a second writes the suites as it goes.
 */
int export_junit_sel(FILE *out, struct export_sel *sel, const struct export_opts *o,
		     struct gr_err *err)
{
	const struct gb_submission *sub;
	struct counts total = {0}, c;
	int rc;

	(void)o;
	for (size_t i = 0; i < sel->na; i++) {
		for (size_t j = 0; j < sel->ns; j++) {
			if ((rc = export_sel_sub(sel, i, j, &sub, err)) < 0)
				return rc;
			for (size_t k = 0; k < sel->as[i]->n_notebooks; k++) {
				const struct gb_notebook *nb = sel->as[i]->notebooks[k];

				suite_counts(&c, nb, sub ? gb_find_nbresult(sub, nb->name) : NULL);
				add_counts(&total, &c);
			}
		}
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out,
		"<testsuites name=\"grader\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
		"time=\"%.3f\">\n",
		total.tests, total.failures, total.errors, total.time);
	for (size_t i = 0; i < sel->na; i++) {
		for (size_t j = 0; j < sel->ns; j++) {
			if ((rc = export_sel_sub(sel, i, j, &sub, err)) < 0)
				return rc;
			for (size_t k = 0; k < sel->as[i]->n_notebooks; k++)
				suite(out, sel->as[i], sel->as[i]->notebooks[k], sel->ss[j], sub);
		}
	}
	fputs("</testsuites>\n", out);
	return 0;
}

int export_junit(FILE *out, const struct gb_gradebook *gb, const struct export_opts *o,
		 struct gr_err *err)
{
	return export_over(export_junit_sel, "junit", out, gb, o, err);
}
