/*
 * feedback_html.c - a student's feedback page: one self-contained HTML file.
 *
 * Everything taken from the notebook or the gradebook goes through
 * gr_html_text, so student code, outputs and names stay text whatever they
 * hold; images are embedded only as data: URIs of checked base64, and the
 * page's Content Security Policy forbids scripts and fetches in any case.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "feedback_int.h"
#include "grader/export.h"

#define H gr_html_text

static const char css[] =
    "body{font:15px/1.5 system-ui,sans-serif;margin:2em auto;max-width:56em;color:#222;"
    "padding:0 1em}h1{font-size:1.5em}"
    "table{border-collapse:collapse;margin:.5em 0 1em}"
    "th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left}th{background:#f3f3f3}"
    "td.n{text-align:right}"
    ".cell{margin:1em 0;border-left:3px solid #ddd;padding-left:.8em}"
    ".prompt{color:#888;font:12px monospace}"
    "pre{background:#f7f7f7;padding:.5em;overflow-x:auto;white-space:pre-wrap;"
    "word-wrap:break-word;margin:.3em 0}"
    "pre.out{background:#fff;border:1px solid #eee}pre.err{background:#fff3f3}"
    ".md{white-space:pre-wrap;font-family:inherit;background:none;padding:0}"
    ".grade{border:1px solid #ccc;border-radius:6px;padding:.4em .8em;margin:.4em 0}"
    ".passed{border-color:#5aa469;background:#f1f8f2}"
    ".partial{border-color:#d9a400;background:#fdf8e6}"
    ".failed,.error,.timeout,.missing{border-color:#c44;background:#fcf0f0}"
    ".manual{border-color:#4a7ab5;background:#eef3fa}"
    ".comment{border-left:3px solid #4a7ab5;padding-left:.6em;white-space:pre-wrap}"
    ".note{color:#666;font-size:.9em}img{max-width:100%}";

static const char *status_class(enum gb_cell_status s)
{
	static const char *const names[] = {"passed",  "partial", "failed", "error",
					    "timeout", "manual",  "missing"};

	return (unsigned)s < sizeof(names) / sizeof(*names) ? names[s] : "error";
}

/* Is s (whitespace aside) nothing but base64? Then it is safe in a data: URI. */
static bool is_base64(const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '\n' || *s == '\r' || *s == ' ')
			continue;
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
			    *s))
			return false;
		n++;
	}
	return n > 0;
}

static void image(FILE *f, const char *mime, const char *b64)
{
	fprintf(f, "<div><img alt=\"figure\" src=\"data:%s;base64,", mime);
	for (; *b64; b64++)
		if (*b64 != '\n' && *b64 != '\r' && *b64 != ' ')
			fputc(*b64, f);
	fputs("\"></div>\n", f);
}

/* SVG as an <img> from a data: URI: the browser runs no script inside it. */
static int svg_image(FILE *f, const char *svg)
{
	size_t n = strlen(svg);
	unsigned char *b = malloc(4 * ((n + 2) / 3) + 1);

	if (!b)
		return GR_ENOMEM;
	EVP_EncodeBlock(b, (const unsigned char *)svg, (int)n);
	image(f, "image/svg+xml", (const char *)b);
	free(b);
	return 0;
}

static void pre(FILE *f, const char *cls, const char *text)
{
	fprintf(f, "<pre class=\"%s\">", cls);
	H(f, text);
	fputs("</pre>\n", f);
}

/* The richest form of a display_data or execute_result we can show as text or image. */
static int rich_output(FILE *f, const json_t *data)
{
	static const char *const images[] = {"image/png", "image/jpeg", "image/gif"};
	char *text = NULL;
	int rc = 0;

	for (size_t i = 0; i < sizeof(images) / sizeof(*images); i++) {
		char *b64 = fb_join_text(json_object_get(data, images[i]));

		if (b64 && is_base64(b64)) {
			image(f, images[i], b64);
			free(b64);
			return 0;
		}
		free(b64);
	}
	if (json_object_get(data, "image/svg+xml")) {
		text = fb_join_text(json_object_get(data, "image/svg+xml"));
		rc = text ? svg_image(f, text) : GR_ENOMEM;
		free(text);
		return rc;
	}
	/* HTML, Markdown, LaTeX and JavaScript outputs show their plain text, never themselves. */
	text = fb_join_text(json_object_get(data, "text/plain"));
	if (text && *text)
		pre(f, "out", text);
	else if (json_object_size(data))
		fputs("<p class=\"note\">(an output this page cannot show)</p>\n", f);
	free(text);
	return 0;
}

/*
 * A cell holding hidden tests, or run after one: the name of each exception
 * only, no stream, display or message (they may carry values the hidden
 * tests handed the notebook's code), and one line saying why (`why`).
 */
static void hidden_outputs(FILE *f, const json_t *cell, const char *why)
{
	const json_t *o;
	size_t i;

	json_array_foreach(json_object_get(cell, "outputs"), i, o)
	{
		const char *type = json_string_value(json_object_get(o, "output_type"));

		if (type && !strcmp(type, "error")) {
			fputs("<pre class=\"out err\">", f);
			H(f, gb_hidden_ename(json_string_value(json_object_get(o, "ename"))));
			fputs("</pre>\n", f);
		}
	}
	if (json_array_size(json_object_get(cell, "outputs")))
		fprintf(f, "<p class=\"note\">(%s)</p>\n", why);
}

/* A cell's outputs; when `withheld` (why), only what hidden_outputs shows. */
static int outputs(FILE *f, const json_t *cell, const char *withheld)
{
	const json_t *o;
	size_t i;

	if (withheld) {
		hidden_outputs(f, cell, withheld);
		return 0;
	}
	json_array_foreach(json_object_get(cell, "outputs"), i, o)
	{
		const char *type = json_string_value(json_object_get(o, "output_type"));
		char *text = NULL;

		if (!type)
			continue;
		if (!strcmp(type, "stream")) {
			const char *name = json_string_value(json_object_get(o, "name"));

			text = fb_join_text(json_object_get(o, "text"));
			if (text)
				pre(f, name && !strcmp(name, "stderr") ? "out err" : "out", text);
		} else if (!strcmp(type, "error")) {
			const char *en = json_string_value(json_object_get(o, "ename"));
			const char *ev = json_string_value(json_object_get(o, "evalue"));

			const json_t *tb = json_object_get(o, "traceback");
			struct gr_buf b = {0};
			const json_t *line;
			size_t k;

			gr_buf_put(&b, "", 0);
			json_array_foreach(tb, k, line) if (json_is_string(line))
			{
				gr_buf_put(&b, json_string_value(line),
					   strlen(json_string_value(line)));
				gr_buf_put(&b, "\n", 1);
			}
			text = b.p;
			if (text && *text) {
				pre(f, "out err", text);
			} else {
				fputs("<pre class=\"out err\">", f);
				H(f, en ? en : "error");
				if (ev && *ev) {
					fputs(": ", f);
					H(f, ev);
				}
				fputs("</pre>\n", f);
			}
		} else if (!strcmp(type, "display_data") || !strcmp(type, "execute_result")) {
			if (rich_output(f, json_object_get(o, "data")) < 0)
				return GR_ENOMEM;
		}
		free(text);
	}
	return 0;
}

/* What the gradebook captured, for a grade whose cell shows no output here. */
static void captured(FILE *f, const struct gb_grade *g, const char *withheld)
{
	const struct gb_output *o = &g->output;

	if (withheld) {
		/* as hidden_outputs: the exception's name only */
		if (o->traceback && *o->traceback)
			pre(f, "out err", gb_hidden_error(o->traceback));
		if ((o->traceback && *o->traceback) || (o->stdout_text && *o->stdout_text) ||
		    (o->stderr_text && *o->stderr_text))
			fprintf(f, "<p class=\"note\">(%s)</p>\n", withheld);
		return;
	}
	if (o->stdout_text && *o->stdout_text)
		pre(f, "out", o->stdout_text);
	if (o->stderr_text && *o->stderr_text)
		pre(f, "out err", o->stderr_text);
	if (o->traceback && *o->traceback)
		pre(f, "out err", o->traceback);
	if (o->truncated)
		fputs("<p class=\"note\">(output shortened)</p>\n", f);
}

/* `withheld`: why its captured output is not shown (hidden tests), or NULL. */
static void grade_box(FILE *f, const struct fb_page *p, const struct gb_grade *g,
		      bool show_captured, bool hidden, const char *withheld)
{
	char sc[32], mx[32], ex[32];
	const char *mc = fb_manual_comment(p->r, g->grade_id);
	bool waiting = g->needs_manual_grade && !gb_isset(g->manual_score);

	fb_num(sc, gb_grade_score(g));
	fb_num(mx, g->max_score);
	fprintf(f, "<div class=\"grade %s\"><b>", status_class(g->status));
	H(f, g->grade_id);
	if (waiting)
		fprintf(f, "</b>: waiting for a marker (%s points)", mx);
	else
		fprintf(f, "</b>: %s / %s points, %s", sc, mx, fb_status_text(g->status));
	if (gb_isset(g->extra_credit) && g->extra_credit != 0) {
		fb_num(ex, g->extra_credit);
		fprintf(f, " (with %s extra credit)", ex);
	}
	if (hidden)
		fputs(" <span class=\"note\">(includes hidden tests)</span>", f);
	fputs("\n", f);
	if (g->auto_comment && *g->auto_comment) {
		fputs("<div class=\"note\">", f);
		H(f, g->auto_comment);
		fputs("</div>\n", f);
	}
	if (show_captured)
		captured(f, g, withheld);
	if (mc) {
		fputs("<div class=\"comment\">", f);
		H(f, mc);
		fputs("</div>\n", f);
	}
	fputs("</div>\n", f);
}

/*
 * One cell of the notebook; `*after` is set once a code cell holding hidden
 * tests has been shown: the cells below it ran after it, and what the
 * notebook's code printed there may carry the values it kept of them.
 */
static int code_or_text_cell(FILE *f, const struct fb_page *p, const struct nb_cell *c, size_t i,
			     bool *after)
{
	const char *gid = c->nbgrader.present ? c->nbgrader.grade_id : NULL;
	const struct gb_grade *g = gid ? gb_find_grade(p->r, gid) : NULL;
	const char *mc = gid && !g ? fb_manual_comment(p->r, gid) : NULL;
	bool hidden = fb_is_hidden(p, gid, c->source);
	const char *withheld = gb_withheld_note(hidden, *after || (g && g->output.after_hidden));
	char *src = hidden ? fb_strip_hidden(c->source) : NULL;
	const json_t *ec = json_object_get(c->json, "execution_count");
	size_t n_out = json_array_size(json_object_get(c->json, "outputs"));

	if (hidden && !src)
		return GR_ENOMEM;
	fprintf(f, "<div class=\"cell\" id=\"cell-%zu\">", i + 1);
	if (c->type == NB_CELL_CODE) {
		if (json_is_integer(ec))
			fprintf(f, "<div class=\"prompt\">In [%lld]:</div>",
				(long long)json_integer_value(ec));
		pre(f, "src", src ? src : c->source);
		*after |= hidden;
		if (outputs(f, c->json, withheld) < 0) {
			free(src);
			return GR_ENOMEM;
		}
	} else {
		pre(f, "md", src ? src : c->source);
	}
	free(src);
	if (g)
		grade_box(f, p, g, n_out == 0, hidden, withheld);
	if (mc) {
		fputs("<div class=\"comment\">", f);
		H(f, mc);
		fputs("</div>\n", f);
	}
	fputs("</div>\n", f);
	return 0;
}

static void summary(FILE *f, const struct fb_page *p)
{
	const struct gb_submission *s = p->sub;
	const struct gb_nbresult *r = p->r;
	char a[32], b[32], c[32];
	double final = r->score - r->late_submission_penalty;

	fputs("<table>\n", f);
	if (s->timestamp) {
		fputs("<tr><th>submitted</th><td>", f);
		H(f, s->timestamp);
		fputs("</td></tr>\n", f);
	}
	if (p->a && p->a->duedate) {
		fputs("<tr><th>due</th><td>", f);
		H(f, p->a->duedate);
		fputs("</td></tr>\n", f);
	}
	if (s->late_seconds > 0) {
		export_duration(a, s->late_seconds);
		fb_num(b, r->late_submission_penalty);
		fprintf(f, "<tr><th>late</th><td>%s late: %s points off</td></tr>\n", a, b);
	}
	fb_num(a, r->score);
	fb_num(b, final < 0 ? 0 : final);
	fb_num(c, r->max_score);
	fprintf(f, "<tr><th>this notebook</th><td><b>%s / %s</b>", b, c);
	if (r->late_submission_penalty > 0)
		fprintf(f, " (%s before the late penalty)", a);
	fputs("</td></tr>\n", f);
	if (s->n_notebooks > 1) {
		fb_num(a, s->score);
		fb_num(c, s->max_score);
		fprintf(f, "<tr><th>assignment total</th><td>%s / %s</td></tr>\n", a, c);
	}
	fputs("</table>\n", f);
	if (s->status != GB_GRADED || r->status != GB_GRADED) {
		fputs("<p class=\"grade error\">", f);
		H(f, r->message	  ? r->message
		     : s->message ? s->message
				  : "this notebook was not graded");
		fputs("</p>\n", f);
	}
}

/* The table of graded cells, each linked to its place on the page. */
static void grades_table(FILE *f, const struct fb_page *p)
{
	char sc[32], mx[32];

	if (!p->r->n_grades)
		return;
	fputs("<table><tr><th>question</th><th>status</th><th>score</th></tr>\n", f);
	for (size_t i = 0; i < p->r->n_grades; i++) {
		const struct gb_grade *g = p->r->grades[i];
		bool waiting = g->needs_manual_grade && !gb_isset(g->manual_score);
		struct nb_cell *c = p->nb ? nb_find_cell(p->nb, g->grade_id) : NULL;

		fb_num(sc, gb_grade_score(g));
		fb_num(mx, g->max_score);
		fputs("<tr><td>", f);
		if (c)
			fprintf(f, "<a href=\"#cell-%zu\">", (size_t)(c - p->nb->cells) + 1);
		H(f, g->grade_id);
		fprintf(f, "%s</td><td>%s</td><td class=\"n\">%s / %s</td></tr>\n", c ? "</a>" : "",
			waiting ? "waiting for a marker" : fb_status_text(g->status),
			waiting ? "?" : sc, mx);
	}
	fputs("</table>\n", f);
}

int fb_render_html(FILE *f, const struct fb_page *p)
{
	const struct gb_student *st = p->student;
	size_t shown = 0;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; img-src data:\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	      f);
	H(f, p->sub->assignment);
	fputs("/", f);
	H(f, p->r->name);
	fputs(": feedback</title>\n<style>", f);
	fputs(css, f);
	fputs("</style></head><body>\n<h1>", f);
	H(f, p->sub->assignment);
	fputs(" / ", f);
	H(f, p->r->name);
	fputs("</h1>\n<p>Feedback for <b>", f);
	if (st && (st->first_name || st->last_name)) {
		H(f, st->first_name);
		fputs(st->first_name && st->last_name ? " " : "", f);
		H(f, st->last_name);
		fputs("</b> (", f);
		H(f, p->sub->student_id);
		fputs(")", f);
	} else {
		H(f, p->sub->student_id);
		fputs("</b>", f);
	}
	fputs(".</p>\n", f);
	summary(f, p);
	grades_table(f, p);
	if (p->nb) {
		fputs("<h2>Your notebook</h2>\n", f);
		bool after = false;

		for (size_t i = 0; i < p->nb->ncells; i++)
			if (code_or_text_cell(f, p, &p->nb->cells[i], i, &after) < 0)
				return GR_ENOMEM;
	}
	/* Grades whose cell the page did not show (no notebook, or a deleted cell). */
	for (size_t i = 0; i < p->r->n_grades; i++) {
		const struct gb_grade *g = p->r->grades[i];

		if (p->nb && nb_find_cell(p->nb, g->grade_id))
			continue;
		if (!shown++)
			fputs(p->nb ? "<h2>Graded cells not in your notebook</h2>\n"
				    : "<h2>Graded cells</h2>\n",
			      f);
		bool hidden = fb_is_hidden(p, g->grade_id, NULL);

		grade_box(f, p, g, true, hidden, gb_withheld_note(hidden, g->output.after_hidden));
	}
	fputs("</body></html>\n", f);
	return 0;
}
