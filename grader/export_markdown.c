/*
 * export_markdown.c - a Markdown summary (for a GitHub job summary, an email
 * or an issue): per assignment, a per-question table (max, mean, median,
 * full marks, zeros over the submissions received) and a per-student table.
 */
#include <stdlib.h>
#include <string.h>

#include "export_int.h"

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

/* Number of the cells of `a` that earn points (a row of the per-question table each). */
static size_t n_scored(const struct gb_assignment *a)
{
	size_t n = 0;

	for (size_t j = 0; j < a->n_notebooks; j++)
		for (size_t k = 0; k < a->notebooks[j]->n_cells; k++)
			n += a->notebooks[j]->cells[k]->grade || a->notebooks[j]->cells[k]->task;
	return n;
}

/*
 * Note the score of every scored cell of one received submission: column q
 * of `scores` (stride ns) holds cell q's scores in the students' order.
 */
static void note_scores(double *scores, size_t ns, size_t n, const struct gb_assignment *a,
			const struct gb_submission *sub)
{
	size_t q = 0;

	for (size_t j = 0; j < a->n_notebooks; j++) {
		const struct gb_notebook *nb = a->notebooks[j];
		const struct gb_nbresult *r = gb_find_nbresult(sub, nb->name);

		for (size_t k = 0; k < nb->n_cells; k++) {
			const struct gb_grade *g;

			if (!nb->cells[k]->grade && !nb->cells[k]->task)
				continue;
			g = r ? gb_find_grade(r, nb->cells[k]->name) : NULL;
			scores[q++ * ns + n] = g ? gb_grade_score(g) : 0.0;
		}
	}
}

/* The per-question table from the n received scores of each cell. */
static void questions(FILE *out, const struct gb_assignment *a, double *scores, size_t ns, size_t n)
{
	char c1[32], c2[32], c3[32];
	size_t q = 0;

	fputs("| question | max | mean | median | full marks | zero |\n", out);
	fputs("|---|---:|---:|---:|---:|---:|\n", out);
	for (size_t j = 0; j < a->n_notebooks; j++) {
		const struct gb_notebook *nb = a->notebooks[j];

		for (size_t k = 0; k < nb->n_cells; k++) {
			const struct gb_cell *cell = nb->cells[k];
			double sum = 0.0, median = 0.0, *col;
			size_t full = 0, zero = 0;

			if (!cell->grade && !cell->task)
				continue;
			col = scores + q++ * ns;
			for (size_t i = 0; i < n; i++) {
				sum += col[i];
				full += col[i] >= cell->max_score - GB_EPSILON;
				zero += col[i] <= GB_EPSILON;
			}
			if (n) {
				qsort(col, n, sizeof(*col), cmp_double);
				median = n % 2 ? col[n / 2] : (col[n / 2 - 1] + col[n / 2]) / 2;
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

static void student_row(FILE *out, const struct gb_assignment *a, const struct gb_student *s,
			const struct gb_submission *sub)
{
	char raw[32], pen[32], score[32], max[32];
	bool missing = !sub || sub->status == GB_MISSING;

	gr_num_short(raw, missing ? 0.0 : sub->raw_score);
	gr_num_short(pen, missing ? 0.0 : sub->late_submission_penalty);
	gr_num_short(score, missing ? 0.0 : sub->score);
	gr_num_short(max, a->max_score);
	fputs("| ", out);
	md_text(out, s->id);
	fputs(" | ", out);
	md_text(out, s->first_name);
	if (s->first_name && s->last_name)
		fputc(' ', out);
	md_text(out, s->last_name);
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

/*
 * One assignment's section. Its first line needs the count and mean of the
 * submissions received and the question table their scores: one pass over
 * the submissions notes those (a few numbers per student), a second writes
 * the per-student table.
 */
static int section(FILE *out, struct export_sel *sel, size_t i, double *scores, struct gr_err *err)
{
	const struct gb_assignment *a = sel->as[i];
	const struct gb_submission *sub;
	size_t submitted = 0, ns = sel->ns;
	double total = 0.0;
	char mean[32], max[32];
	int rc;

	for (size_t j = 0; j < ns; j++) {
		if ((rc = export_sel_sub(sel, i, j, &sub, err)) < 0)
			return rc;
		if (sub && sub->status != GB_MISSING) {
			note_scores(scores, ns, submitted, a, sub);
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
	questions(out, a, scores, ns, submitted);
	fputs("\n### Per student\n\n", out);
	fputs("| student | name | status | raw score | late penalty | score | max | flags |\n",
	      out);
	fputs("|---|---|---|---:|---:|---:|---:|---|\n", out);
	for (size_t j = 0; j < ns; j++) {
		if ((rc = export_sel_sub(sel, i, j, &sub, err)) < 0)
			return rc;
		student_row(out, a, sel->ss[j], sub);
	}
	return 0;
}

int export_markdown_sel(FILE *out, struct export_sel *sel, const struct export_opts *o,
			struct gr_err *err)
{
	double *scores = NULL;
	size_t cells = 0;
	int rc = 0;

	(void)o;
	for (size_t i = 0; i < sel->na; i++)
		if (n_scored(sel->as[i]) > cells)
			cells = n_scored(sel->as[i]);
	scores = calloc(cells * sel->ns + 1, sizeof(*scores));
	if (!scores)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < sel->na && !rc; i++)
		rc = section(out, sel, i, scores, err);
	free(scores);
	return rc;
}

int export_markdown(FILE *out, const struct gb_gradebook *gb, const struct export_opts *o,
		    struct gr_err *err)
{
	return export_over(export_markdown_sel, "markdown", out, gb, o, err);
}
