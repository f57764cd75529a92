/*
 * report_html.c - the course report as one self-contained HTML page: inline
 * CSS, charts as inline SVG, no script and nothing fetched (a Content
 * Security Policy says so to the browser), every name escaped.
 */
#include <math.h>
#include <string.h>

#include "grader/report.h"

#define H gr_html_text

static const char css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222;"
    "padding:0 1.5em}"
    "h1{font-size:1.6em}h2{border-bottom:2px solid #ccc;margin-top:2em}"
    "table{border-collapse:collapse;margin:.5em 0 1em}"
    "th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}"
    "th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}"
    ".cards{display:flex;flex-wrap:wrap;gap:.6em}"
    ".card{border:1px solid #ddd;border-radius:6px;padding:.4em .8em;min-width:4.5em}"
    ".card b{display:block;font-size:1.5em}.warn b{color:#b35900}"
    "svg text{font:12px system-ui,sans-serif;fill:#333}.low{color:#b00}"
    ".note{color:#666;font-size:.9em}";

/*
 * `lead` (markup or text of ours, written as is), then a figure with `dec`
 * decimals, or an en dash when undefined.
 */
static void fig(FILE *f, const char *lead, double x, int dec)
{
	fputs(lead, f);
	if (isfinite(x))
		fprintf(f, "%.*f", dec, x);
	else
		fputs("\xE2\x80\x93", f);
}

static void card(FILE *f, const char *label, size_t n, bool warn)
{
	fprintf(f, "<div class=\"card%s\"><b>%zu</b>", warn && n ? " warn" : "", n);
	H(f, label);
	fputs("</div>", f);
}

/* Vertical bars: the number of received submissions per score bin. */
static void histogram(FILE *f, const struct report_assignment *ra)
{
	const int W = 600, Hh = 220, left = 40, bottom = 30, top = 10;
	double bw = (double)(W - left - 10) / REPORT_BINS, max = ra->a->max_score;
	size_t peak = 1;

	for (int i = 0; i < REPORT_BINS; i++)
		peak = ra->hist[i] > peak ? ra->hist[i] : peak;
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"role=\"img\" aria-label=\"score histogram\">",
		W, Hh);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", left,
		Hh - bottom, W - 10, Hh - bottom);
	for (int i = 0; i < REPORT_BINS; i++) {
		double h = (double)ra->hist[i] / (double)peak * (Hh - bottom - top - 14);
		double x = left + i * bw;

		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			"fill=\"#4a7ab5\"/>",
			x + 2, Hh - bottom - h, bw - 4, h);
		if (ra->hist[i])
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%zu</text>",
				x + bw / 2, Hh - bottom - h - 3, ra->hist[i]);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.3g</text>", x,
			Hh - bottom + 15, max * i / REPORT_BINS);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g</text>", W - 10,
		Hh - bottom + 15, max);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">final score</text>",
		(W + left) / 2, Hh - 2);
	fputs("</svg>\n", f);
}

/* One horizontal bar `len` long at (x, y), its percentage `frac` written after it. */
static void hbar(FILE *f, int x, int y, double len, int bar, const char *color, double frac)
{
	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>", x, y, len,
		bar, color);
	fprintf(f, "<text x=\"%.1f\" y=\"%d\">%.0f%%</text>", x + len + 4, y + bar - 2, frac * 100);
}

/* A legend entry at the foot of a chart `height` high: a square of `color`, then `text`. */
static void legend(FILE *f, int x, int height, const char *color, const char *text)
{
	fprintf(f,
		"<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
		"<text x=\"%d\" y=\"%d\">%s</text>",
		x, height - 16, color, x + 14, height - 7, text);
}

/* Horizontal bars per question: mean as % of max (blue), pass rate (green). */
static void question_bars(FILE *f, const struct report_assignment *ra)
{
	const int label = 230, W = 640, row = 34, bar = 12;
	int plot = W - label - 60, Hh = (int)ra->n_items * row + 30;

	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"role=\"img\" aria-label=\"per-question mean and pass rate\">",
		W, Hh);
	for (size_t i = 0; i < ra->n_items; i++) {
		const struct report_item *it = &ra->items[i];
		double mean = isfinite(it->difficulty) ? it->difficulty : 0;
		double pass = isfinite(it->pass_rate) ? it->pass_rate : 0;
		int y = (int)i * row + 4;

		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", label - 6, y + bar + 4);
		H(f, it->grade_id);
		fputs("</text>", f);
		if (!it->analysed) {
			fprintf(f,
				"<text x=\"%d\" y=\"%d\" fill=\"#666\">awaiting manual "
				"grading</text>",
				label, y + bar + 4);
			continue;
		}
		hbar(f, label, y, mean * plot, bar, "#4a7ab5", mean);
		hbar(f, label, y + bar + 2, pass * plot, bar, "#5aa469", pass);
	}
	legend(f, label, Hh, "#4a7ab5", "mean / max");
	legend(f, label + 110, Hh, "#5aa469", "pass rate (full marks)");
	fputs("</svg>\n", f);
}

static void items_table(FILE *f, const struct report_assignment *ra)
{
	fputs("<table><tr><th>question</th><th>max</th><th>mean</th><th>difficulty</th>"
	      "<th>pass rate</th><th>discrimination</th></tr>\n",
	      f);
	for (size_t i = 0; i < ra->n_items; i++) {
		const struct report_item *it = &ra->items[i];
		bool low = isfinite(it->discrimination) && it->discrimination < 0.2;

		fputs("<tr><td>", f);
		H(f, it->notebook);
		fputs("/", f);
		H(f, it->grade_id);
		if (it->hidden_tests)
			fputs(" <span class=\"note\">(hidden tests)</span>", f);
		if (!it->analysed)
			fputs(" <span class=\"note\">(awaiting manual grading)</span>", f);
		fig(f, "</td><td>", it->max_score, 2);
		fig(f, "</td><td>", it->mean, 2);
		fig(f, "</td><td>", it->difficulty, 2);
		fig(f, "</td><td>", isfinite(it->pass_rate) ? it->pass_rate * 100 : NAN, 0);
		fprintf(f, "%s</td><td%s>", isfinite(it->pass_rate) ? "%" : "",
			low ? " class=\"low\"" : "");
		fig(f, "", it->analysed ? it->discrimination : NAN, 2);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<p class=\"note\">Difficulty is the mean score over the maximum "
	      "(1 = everyone has full marks). Discrimination is the correlation of the "
	      "question's score with the rest of the assignment (corrected point-biserial); "
	      "below 0.2 (red) the question tells strong and weak submissions apart poorly. "
	      "A dash: undefined (no variation).</p>\n",
	      f);
}

static void lists(FILE *f, const struct report_assignment *ra)
{
	fprintf(f, "<h3>Flagged and failed submissions (%zu)</h3>\n", ra->n_flagged_list);
	if (ra->n_flagged_list) {
		fputs(
		    "<table><tr><th>student</th><th style=\"text-align:left\">reasons</th></tr>\n",
		    f);
		for (size_t i = 0; i < ra->n_flagged_list; i++) {
			fputs("<tr><td>", f);
			H(f, ra->flagged[i].student_id);
			fputs("</td><td style=\"text-align:left\">", f);
			H(f, ra->flagged[i].reasons);
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n", f);
	}
	fprintf(f, "<h3>Slowest notebooks</h3>\n");
	if (!ra->n_slow) {
		fputs("<p class=\"note\">No cell times recorded.</p>\n", f);
		return;
	}
	fputs("<table><tr><th>student</th><th>notebook</th><th>seconds in graded cells</th></tr>\n",
	      f);
	for (size_t i = 0; i < ra->n_slow; i++) {
		fputs("<tr><td>", f);
		H(f, ra->slow[i].student_id);
		fputs("</td><td>", f);
		H(f, ra->slow[i].notebook);
		fprintf(f, "</td><td>%.3f</td></tr>\n", ra->slow[i].seconds);
	}
	fputs("</table>\n", f);
}

static void assignment(FILE *f, const struct report_assignment *ra)
{
	fputs("<h2>", f);
	H(f, ra->a->name);
	fputs("</h2>\n", f);
	if (ra->a->duedate) {
		fputs("<p>Due ", f);
		H(f, ra->a->duedate);
		fputs(".</p>\n", f);
	}
	fputs("<div class=\"cards\">", f);
	card(f, "students", ra->n_students, false);
	card(f, "received", ra->n_received, false);
	card(f, "graded", ra->n_graded, false);
	card(f, "missing", ra->n_missing, true);
	card(f, "error", ra->n_error, true);
	card(f, "late", ra->n_late, true);
	card(f, "flagged", ra->n_flagged, true);
	fig(f, "</div>\n<h3>Scores</h3>\n<p>Mean ", ra->mean, 2);
	fig(f, ", median ", ra->median, 2);
	fig(f, ", range ", ra->min, 2);
	fig(f, "\xE2\x80\x93", ra->max, 2);
	fig(f, ", standard deviation ", ra->stdev, 2);
	fprintf(f, " (of %.3g, %zu submissions received). Cronbach's alpha ", ra->a->max_score,
		ra->n_received);
	fig(f, "", ra->alpha, 2);
	fputs(".</p>\n", f);
	histogram(f, ra);
	fputs("<h3>Per question</h3>\n", f);
	question_bars(f, ra);
	items_table(f, ra);
	lists(f, ra);
}

int report_write_html(FILE *f, const struct report *r, struct gr_err *err)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; img-src data:\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>Course report</title>\n<style>",
	      f);
	fputs(css, f);
	fputs("</style></head><body>\n<h1>Course report</h1>\n", f);
	if (r->gb->generator) {
		fputs("<p class=\"note\">From a gradebook written by ", f);
		H(f, r->gb->generator);
		fputs(".</p>\n", f);
	}
	for (size_t i = 0; i < r->n_assignments; i++)
		assignment(f, &r->assignments[i]);
	fputs("</body></html>\n", f);
	if (ferror(f))
		return gr_err_set(err, GR_EIO, "cannot write the report");
	return 0;
}
