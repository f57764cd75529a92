/*
 * rubric_validate.c - what proving a rubric on the instructor's own solution
 * found, and whether the rubric passes: every test cell at full marks, no
 * failing import, no time limit hit, nothing flagged. A solution that fails
 * here would fail every student the same way, so each finding is one line
 * naming the notebook, the cell and the reason.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader/rubric.h"

#define EVALUE_SHOWN 200 /* one line of a report, not a traceback */

int rubric_validation_new(struct rubric_validation **out, const struct rubric *r,
			  struct gr_err *err)
{
	struct rubric_validation *v = calloc(1, sizeof(*v));

	if (!v)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	v->assignment = r->assignment;
	v->limits = r->limits;
	v->notebooks = calloc(r->nnotebooks + 1, sizeof(*v->notebooks));
	if (!v->notebooks) {
		free(v);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	v->nnotebooks = r->nnotebooks;
	for (size_t i = 0; i < r->nnotebooks; i++)
		v->notebooks[i].name = r->notebooks[i].name;
	*out = v;
	return 0;
}

void rubric_validation_free(struct rubric_validation *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nnotebooks; i++) {
		struct rubric_vnotebook *nb = &v->notebooks[i];

		for (size_t k = 0; k < nb->ncells; k++) {
			free(nb->cells[k].ename);
			free(nb->cells[k].evalue);
			free(nb->cells[k].note);
		}
		free(nb->cells);
		free(nb->message);
	}
	for (size_t i = 0; i < v->nflags; i++) {
		free(v->flags[i]);
		free(v->reasons[i]);
	}
	free(v->flags);
	free(v->reasons);
	free(v->notebooks);
	free(v);
}

/* A heap copy of `s`; *bad set when `s` was not NULL and could not be copied. */
static char *dup_or_null(const char *s, int *bad)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*bad = 1;
	return d;
}

int rubric_validation_add_cell(struct rubric_validation *v, size_t nb, const struct rubric_vcell *c,
			       struct gr_err *err)
{
	struct rubric_vnotebook *n;
	struct rubric_vcell *cells, *d;
	int bad = 0;

	if (nb >= v->nnotebooks)
		return gr_err_set(err, GR_EINVAL, "no notebook %zu in the validation", nb);
	n = &v->notebooks[nb];
	cells = realloc(n->cells, (n->ncells + 1) * sizeof(*cells));
	if (!cells)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	n->cells = cells;
	d = &cells[n->ncells];
	*d = *c;
	d->ename = dup_or_null(c->ename, &bad);
	d->evalue = dup_or_null(c->evalue, &bad);
	d->note = dup_or_null(c->note, &bad);
	n->ncells++;
	return bad ? gr_err_set(err, GR_ENOMEM, "out of memory") : 0;
}

int rubric_validation_add_flag(struct rubric_validation *v, const char *flag, const char *reason,
			       struct gr_err *err)
{
	char **f = realloc(v->flags, (v->nflags + 1) * sizeof(*f)), **r;
	int bad = 0;

	if (!f)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	v->flags = f;
	r = realloc(v->reasons, (v->nflags + 1) * sizeof(*r));
	if (!r)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	v->reasons = r;
	f[v->nflags] = dup_or_null(flag ? flag : "?", &bad);
	r[v->nflags] = dup_or_null(reason, &bad);
	v->nflags++;
	return bad ? gr_err_set(err, GR_ENOMEM, "out of memory") : 0;
}

double rubric_suggest_limit(double used)
{
	double s = ceil(used * 3);

	return s < 1 ? 1 : s;
}

/* Whether a test cell got less than full marks (a 0-point test fails by raising, as nbgrader). */
static int short_of_points(const struct rubric_vcell *c)
{
	if (c->points <= 0)
		return c->status != RUBRIC_V_OK;
	return c->score + 1e-9 < c->points;
}

static int is_import_error(const struct rubric_vcell *c)
{
	return c->ename &&
	       (!strcmp(c->ename, "ModuleNotFoundError") || !strcmp(c->ename, "ImportError"));
}

/*
 * The module an import error names: the one after "from" ("cannot import
 * name 'expm' from 'scipy.linalg' (...)"), else the first quoted name ("No
 * module named 'scipy'"). "" when it names none.
 */
static void import_module(char *out, size_t len, const char *evalue)
{
	const char *from = evalue ? strstr(evalue, " from '") : NULL;
	const char *q = from ? from + 6 : evalue ? strchr(evalue, '\'') : NULL, *end;

	out[0] = '\0';
	if (!q || !(end = strchr(q + 1, '\'')))
		return;
	snprintf(out, len, "%.*s", (int)(end - q - 1), q + 1);
}

/* Print "error|warning|note: TEXT" escaped for a terminal. */
static void line(FILE *f, const char *kind, const char *text)
{
	char *e = gr_term_escape(text);

	fprintf(f, "%s: %s\n", kind, e ? e : "out of memory");
	free(e);
}

/* Why a cell failed, in one line: the time limit, the import, or "ename: evalue". */
static void cell_reason(char *out, size_t len, const struct rubric_validation *v,
			const struct rubric_vcell *c)
{
	char mod[128];

	if (c->status == RUBRIC_V_TIMEOUT) {
		if (c->time + 0.05 >= v->limits.cell_timeout)
			snprintf(out, len,
				 "timed out at the %g s cell limit (raise --cell-timeout if the "
				 "solution needs longer)",
				 v->limits.cell_timeout);
		else
			snprintf(out, len,
				 "timed out at the %g s notebook limit (raise --notebook-timeout "
				 "if the solution needs longer)",
				 v->limits.notebook_timeout);
		return;
	}
	if (c->status == RUBRIC_V_NOT_RUN) {
		snprintf(out, len, "not run (the run ended early)");
		return;
	}
	import_module(mod, sizeof(mod), c->evalue);
	if (is_import_error(c) && mod[0])
		snprintf(out, len, "import of '%s' failed: %s: %.*s%s%s", mod, c->ename,
			 EVALUE_SHOWN, c->evalue ? c->evalue : "", c->note ? " - " : "",
			 c->note ? c->note : "");
	else if (c->ename)
		snprintf(out, len, "%s%s%.*s%s%s", c->ename, c->evalue && *c->evalue ? ": " : "",
			 EVALUE_SHOWN, c->evalue ? c->evalue : "", c->note ? " - " : "",
			 c->note ? c->note : "");
	else
		snprintf(out, len, "passed some but not all of the tests, or wrote to stderr");
}

/* The findings of one notebook; *errors counts the error lines. */
static void report_notebook(FILE *f, const struct rubric_validation *v,
			    const struct rubric_vnotebook *nb, size_t *errors)
{
	char text[2048], why[700], where[300];
	int timed_out = 0;

	for (size_t k = 0; k < nb->ncells; k++)
		timed_out |= nb->cells[k].status == RUBRIC_V_TIMEOUT;
	/* a time limit hit is told by its cell, with the limit to raise */
	if (nb->message && !timed_out) {
		snprintf(text, sizeof(text), "%s: the run ended early: %s", nb->name, nb->message);
		line(f, "error", text);
		(*errors)++;
	}
	for (size_t k = 0; k < nb->ncells; k++) {
		const struct rubric_vcell *c = &nb->cells[k];

		snprintf(where, sizeof(where), "%s cell %zu%s%s", nb->name, c->number,
			 c->grade_id ? " " : "", c->grade_id ? c->grade_id : "");
		cell_reason(why, sizeof(why), v, c);
		if (c->test && short_of_points(c)) {
			snprintf(text, sizeof(text), "%s: %g/%g points: %s", where, c->score,
				 c->points, why);
			line(f, "error", text);
			(*errors)++;
		} else if (!c->test && (c->status == RUBRIC_V_TIMEOUT || is_import_error(c))) {
			snprintf(text, sizeof(text), "%s: %s", where, why);
			line(f, "error", text);
			(*errors)++;
		} else if (!c->test && c->status == RUBRIC_V_ERROR) {
			snprintf(text, sizeof(text), "%s raised %s", where, why);
			line(f, "note", text);
		}
		if (c->status != RUBRIC_V_TIMEOUT && v->limits.cell_timeout > 0 &&
		    c->time > v->limits.cell_timeout / 3) {
			snprintf(text, sizeof(text),
				 "%s: %.1f s of the %g s cell limit: suggest --cell-timeout %g",
				 where, c->time, v->limits.cell_timeout,
				 rubric_suggest_limit(c->time));
			line(f, "warning", text);
		}
	}
	if (!timed_out && v->limits.notebook_timeout > 0 &&
	    nb->wall > v->limits.notebook_timeout / 3) {
		snprintf(text, sizeof(text),
			 "%s: %.1f s of the %g s notebook limit: suggest --notebook-timeout %g",
			 nb->name, nb->wall, v->limits.notebook_timeout,
			 rubric_suggest_limit(nb->wall));
		line(f, "warning", text);
	}
}

size_t rubric_validation_report(FILE *f, const struct rubric_validation *v)
{
	size_t errors = 0, tests = 0, full = 0;
	double points = 0, got = 0;
	char text[1024];

	for (size_t i = 0; i < v->nnotebooks; i++) {
		const struct rubric_vnotebook *nb = &v->notebooks[i];

		report_notebook(f, v, nb, &errors);
		for (size_t k = 0; k < nb->ncells; k++)
			if (nb->cells[k].test) {
				tests++;
				full += !short_of_points(&nb->cells[k]);
				points += nb->cells[k].points;
				got += nb->cells[k].score;
			}
	}
	for (size_t i = 0; i < v->nflags; i++) {
		snprintf(text, sizeof(text),
			 "flag %s on the solution itself%s%s: every student would be flagged",
			 v->flags[i], v->reasons[i] ? ": " : "",
			 v->reasons[i] ? v->reasons[i] : "");
		line(f, "error", text);
		errors++;
	}
	if (!errors)
		snprintf(text, sizeof(text),
			 "validated %s: %zu/%zu grade cells full marks (%g points) in %.1f s",
			 v->assignment, full, tests, points, v->wall);
	else
		snprintf(text, sizeof(text),
			 "%s: %zu/%zu grade cells full marks (%g/%g points) in %.1f s",
			 v->assignment, full, tests, got, points, v->wall);
	{
		char *e = gr_term_escape(text);

		fprintf(f, "%s\n", e ? e : text);
		free(e);
	}
	return errors;
}
