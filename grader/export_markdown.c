/*
 * export_markdown.c - a Markdown summary (for a GitHub job summary, an email
 * or an issue): per assignment, a per-question table (max, mean, median,
 * full marks, zeros over the submissions received) and a per-student table.
 */
#include <stdlib.h>
#include <string.h>

#include "grader/export.h"

/* Table-safe text: no pipes, no line breaks, no HTML, no emphasis by accident. */
static void md_text(FILE *out, const char *s)
{
	char *clean = export_strip_ansi(s ? s : "");

	for (const char *p = clean ? clean : ""; *p; p++) {
		if (*p == '\n' || *p == '\r' || *p == '\t')
			fputc(' ', out);
		else if (*p == '<')
			fputs("&lt;", out);
		else if (*p == '>')
			fputs("&gt;", out);
		else if (strchr("|\\`*_[]", *p))
			fprintf(out, "\\%c", *p);
		else if ((unsigned char)*p >= 0x20)
			fputc(*p, out);
	}
	free(clean);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void questions(FILE *out, const struct gb_gradebook *gb, const struct gb_assignment *a,
		      const struct gb_student *const *ss, size_t ns, double *scores)
{
	char c1[32], c2[32], c3[32];

	fputs("| question | max | mean | median | full marks | zero |\n", out);
	fputs("|---|---:|---:|---:|---:|---:|\n", out);
	for (size_t j = 0; j < a->n_notebooks; j++) {
		const struct gb_notebook *nb = a->notebooks[j];

		for (size_t k = 0; k < nb->n_cells; k++) {
			const struct gb_cell *cell = nb->cells[k];
			size_t n = 0, full = 0, zero = 0;
			double sum = 0.0, median = 0.0;

			if (!cell->grade && !cell->task)
				continue;
			for (size_t i = 0; i < ns; i++) {
				const struct gb_submission *sub =
				    gb_find_submission(gb, a->name, ss[i]->id);
				const struct gb_nbresult *r;
				const struct gb_grade *g;

				if (!sub || sub->status == GB_MISSING)
					continue;
				r = gb_find_nbresult(sub, nb->name);
				g = r ? gb_find_grade(r, cell->name) : NULL;
				scores[n] = g ? gb_grade_score(g) : 0.0;
				sum += scores[n];
				full += scores[n] >= cell->max_score - GB_EPSILON;
				zero += scores[n] <= GB_EPSILON;
				n++;
			}
			if (n) {
				qsort(scores, n, sizeof(*scores), cmp_double);
				median =
				    n % 2 ? scores[n / 2] : (scores[n / 2 - 1] + scores[n / 2]) / 2;
			}
			fputs("| ", out);
			md_text(out, nb->name);
			fputs("/", out);
			md_text(out, cell->name);
			if (cell->hidden_tests)
				fputs(" (hidden tests)", out);
			gr_num_short(c1, cell->max_score);
			gr_num_short(c2, n ? sum / (double)n : 0.0);
			gr_num_short(c3, median);
			fprintf(out, " | %s | %s | %s | %zu | %zu |\n", c1, c2, c3, full, zero);
		}
	}
}

static void students(FILE *out, const struct gb_gradebook *gb, const struct gb_assignment *a,
		     const struct gb_student *const *ss, size_t ns)
{
	char raw[32], pen[32], score[32], max[32];

	fputs("| student | name | status | raw score | late penalty | score | max | flags |\n",
	      out);
	fputs("|---|---|---|---:|---:|---:|---:|---|\n", out);
	for (size_t i = 0; i < ns; i++) {
		const struct gb_submission *sub = gb_find_submission(gb, a->name, ss[i]->id);
		bool missing = !sub || sub->status == GB_MISSING;

		gr_num_short(raw, missing ? 0.0 : sub->raw_score);
		gr_num_short(pen, missing ? 0.0 : sub->late_submission_penalty);
		gr_num_short(score, missing ? 0.0 : sub->score);
		gr_num_short(max, a->max_score);
		fputs("| ", out);
		md_text(out, ss[i]->id);
		fputs(" | ", out);
		md_text(out, ss[i]->first_name);
		if (ss[i]->first_name && ss[i]->last_name)
			fputc(' ', out);
		md_text(out, ss[i]->last_name);
		fputs(" | ", out);
		fputs(sub ? gb_status_name(sub->status) : "missing", out);
		if (!missing && sub->late_seconds > 0) {
			char late[32];

			export_duration(late, sub->late_seconds);
			fprintf(out, ", %s late", late);
		}
		fprintf(out, " | %s | %s | %s | %s | ", raw, pen, score, max);
		for (size_t k = 0; sub && k < sub->n_flags; k++) {
			fputs(k ? ", " : "", out);
			md_text(out, sub->flags[k]);
			if (gb_submission_flag_reason(sub, sub->flags[k])) {
				fputs(" (", out);
				md_text(out, gb_submission_flag_reason(sub, sub->flags[k]));
				fputs(")", out);
			}
		}
		fputs(" |\n", out);
	}
}

int export_markdown(FILE *out, const struct gb_gradebook *gb, const struct export_opts *o,
		    struct gr_err *err)
{
	const struct gb_assignment **as = NULL;
	const struct gb_student **ss = NULL;
	double *scores = NULL;
	size_t na = 0, ns;
	int rc;

	if ((rc = export_sorted_assignments(&as, &na, gb, o, err)) < 0)
		goto done;
	if ((rc = export_sorted_students(&ss, gb, o, err)) < 0)
		goto done;
	ns = export_n_students(gb, o);
	scores = calloc(ns + 1, sizeof(*scores));
	if (!scores) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < na; i++) {
		const struct gb_assignment *a = as[i];
		size_t submitted = 0;
		double total = 0.0;
		char mean[32], max[32];

		for (size_t j = 0; j < ns; j++) {
			const struct gb_submission *sub =
			    gb_find_submission(gb, a->name, ss[j]->id);

			if (sub && sub->status != GB_MISSING) {
				submitted++;
				total += sub->score;
			}
		}
		gr_num_short(mean, submitted ? total / (double)submitted : 0.0);
		gr_num_short(max, a->max_score);
		fprintf(out, "%s## ", i ? "\n" : "");
		md_text(out, a->name);
		fprintf(out, "\n\n%zu students, %zu submitted, %zu missing; mean score %s / %s", ns,
			submitted, ns - submitted, mean, max);
		if (a->duedate)
			fprintf(out, "; due %s", a->duedate);
		fputs(".\n\n### Per question\n\n", out);
		questions(out, gb, a, ss, ns, scores);
		fputs("\n### Per student\n\n", out);
		students(out, gb, a, ss, ns);
	}
	rc = 0;
done:
	free(scores);
	free(as);
	free(ss);
	return rc;
}
