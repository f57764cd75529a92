/*
 * feedback_md.c - a student's feedback as Markdown, for an LMS comment box:
 * the totals, a table of the graded cells, then per graded cell its captured
 * output or traceback in a fence no output can close, and the comments. The
 * notebook itself is not repeated; a cell holding hidden tests shows only the
 * name of the exception that failed it.
 */
#include <stdlib.h>
#include <string.h>

#include "feedback_int.h"
#include "grader/export.h"

/* Inline text: no markup, no line breaks, no HTML (LMS boxes often render it). */
static void md_text(FILE *f, const char *s)
{
	char *clean = export_strip_ansi(s ? s : "");

	for (const char *p = clean ? clean : ""; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n' || c == '\r' || c == '\t')
			fputc(' ', f);
		else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '&')
			fputs("&amp;", f);
		else if (strchr("|\\`*_[]#!~", c))
			fprintf(f, "\\%c", c);
		else if (c >= 0x20 && c != 0x7f)
			fputc(c, f);
	}
	free(clean);
}

/* A fenced block: the fence is longer than any run of backticks inside. */
static void fence(FILE *f, const char *text)
{
	char *clean = export_strip_ansi(text);
	size_t run = 0, longest = 0, n;
	const char *s = clean ? clean : "";

	for (const char *p = s; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	n = longest < 3 ? 3 : longest + 1;
	for (size_t i = 0; i < n; i++)
		fputc('`', f);
	fputs("text\n", f);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p >= 0x20 || *p == '\n' || *p == '\t')
			fputc(*p, f);
	if (*s && s[strlen(s) - 1] != '\n')
		fputc('\n', f);
	for (size_t i = 0; i < n; i++)
		fputc('`', f);
	fputs("\n\n", f);
	free(clean);
}

/* Each line of a comment as a quote. */
static void quote(FILE *f, const char *s)
{
	fputs("> ", f);
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\n> ", f);
		else if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if ((unsigned char)*s >= 0x20 || *s == '\t')
			fputc(*s, f);
	}
	fputs("\n\n", f);
}

static void grade_detail(FILE *f, const struct fb_page *p, const struct gb_grade *g)
{
	const struct gb_output *o = &g->output;
	const char *why =
	    gb_withheld_note(fb_is_hidden(p, g->grade_id, NULL), g->output.after_hidden);
	bool withheld = why != NULL;
	const char *mc = fb_manual_comment(p->r, g->grade_id);
	bool any = (o->stdout_text && *o->stdout_text) || (o->stderr_text && *o->stderr_text) ||
		   (o->traceback && *o->traceback) || (g->auto_comment && *g->auto_comment) || mc;

	if (!any)
		return;
	fputs("### ", f);
	md_text(f, g->grade_id);
	fputs("\n\n", f);
	if (g->auto_comment && *g->auto_comment) {
		md_text(f, g->auto_comment);
		fputs("\n\n", f);
	}
	if (withheld) {
		/* the exception's name only: the rest may carry the hidden tests' values */
		char note[256];

		snprintf(note, sizeof(note), "(%s)", why);
		if (o->traceback && *o->traceback)
			fence(f, gb_hidden_error(o->traceback));
		if ((o->traceback && *o->traceback) || (o->stdout_text && *o->stdout_text) ||
		    (o->stderr_text && *o->stderr_text)) {
			md_text(f, note);
			fputs("\n\n", f);
		}
	} else {
		if (o->stdout_text && *o->stdout_text)
			fence(f, o->stdout_text);
		if (o->stderr_text && *o->stderr_text)
			fence(f, o->stderr_text);
		if (o->traceback && *o->traceback)
			fence(f, o->traceback);
	}
	if (mc)
		quote(f, mc);
}

int fb_render_markdown(FILE *f, const struct fb_page *p)
{
	const struct gb_nbresult *r = p->r;
	char a[32], b[32], c[32];
	double final = r->score - r->late_submission_penalty;

	fputs("## ", f);
	md_text(f, p->sub->assignment);
	fputs(" / ", f);
	md_text(f, r->name);
	fputs(": feedback for ", f);
	md_text(f, p->sub->student_id);
	fb_num(a, final < 0 ? 0 : final);
	fb_num(b, r->max_score);
	fprintf(f, "\n\n**Score: %s / %s**", a, b);
	if (p->sub->late_seconds > 0) {
		export_duration(a, p->sub->late_seconds);
		fb_num(b, r->late_submission_penalty);
		fb_num(c, r->score);
		fprintf(f, " (submitted %s late: %s before a late penalty of %s)", a, c, b);
	}
	fputs(".\n\n", f);
	if (p->sub->status != GB_GRADED || r->status != GB_GRADED) {
		md_text(f, r->message	     ? r->message
			   : p->sub->message ? p->sub->message
					     : "this notebook was not graded");
		fputs("\n\n", f);
	}
	if (r->n_grades)
		fputs("| question | status | score |\n|---|---|---:|\n", f);
	for (size_t i = 0; i < r->n_grades; i++) {
		const struct gb_grade *g = r->grades[i];
		bool waiting = g->needs_manual_grade && !gb_isset(g->manual_score);

		fb_num(a, gb_grade_score(g));
		fb_num(b, g->max_score);
		fputs("| ", f);
		md_text(f, g->grade_id);
		fprintf(f, " | %s | %s / %s |\n",
			waiting ? "waiting for a marker" : fb_status_text(g->status),
			waiting ? "?" : a, b);
	}
	fputs("\n", f);
	for (size_t i = 0; i < r->n_grades; i++)
		grade_detail(f, p, r->grades[i]);
	for (size_t i = 0; i < r->n_comments; i++) {
		const struct gb_comment *cm = r->comments[i];

		if (!cm->manual_comment || !*cm->manual_comment || gb_find_grade(r, cm->grade_id))
			continue;
		fputs("### ", f);
		md_text(f, cm->grade_id);
		fputs("\n\n", f);
		quote(f, cm->manual_comment);
	}
	return 0;
}
