/*
 * feedback.c - feedback for students: which pages to write and where, the
 * hidden-test filter and the helpers both renderers share.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feedback_int.h"
#include "grader/rubric.h"

void fb_num(char out[32], double x)
{
	if (!gb_isset(x))
		strcpy(out, "-");
	else
		gr_num_short(out, x);
}

const char *fb_status_text(enum gb_cell_status s)
{
	switch (s) {
	case GB_CELL_PASSED:
		return "passed";
	case GB_CELL_PARTIAL:
		return "partly passed";
	case GB_CELL_FAILED:
		return "failed";
	case GB_CELL_ERROR:
		return "could not run";
	case GB_CELL_TIMEOUT:
		return "took too long";
	case GB_CELL_MANUAL:
		return "graded by hand";
	case GB_CELL_MISSING:
		return "missing from the notebook";
	}
	return "unknown";
}

const char *fb_manual_comment(const struct gb_nbresult *r, const char *grade_id)
{
	for (size_t i = 0; i < r->n_comments; i++)
		if (!strcmp(r->comments[i]->grade_id, grade_id) && r->comments[i]->manual_comment &&
		    *r->comments[i]->manual_comment)
			return r->comments[i]->manual_comment;
	return NULL;
}

bool fb_is_hidden(const struct fb_page *p, const char *grade_id, const char *source)
{
	const struct gb_cell *c = p->def && grade_id ? gb_find_cell(p->def, grade_id) : NULL;

	return (c && c->hidden_tests) || (source && rubric_has_hidden_tests(source));
}

char *fb_join_text(const json_t *v)
{
	struct gr_buf b = {0};
	size_t i;
	json_t *s;

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (gr_buf_put(&b, "", 0) < 0)
		return NULL;
	json_array_foreach(v, i,
			   s) if (json_is_string(s) && gr_buf_put(&b, json_string_value(s),
								  strlen(json_string_value(s))) < 0)
	{
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* Does the line [s, e) hold `marker` (nbgrader matches the text anywhere in it)? */
static bool line_has(const char *s, const char *e, const char *marker)
{
	size_t n = strlen(marker);

	for (; s + n <= e; s++)
		if (!memcmp(s, marker, n))
			return true;
	return false;
}

/*
 * Not rubric_clear_hidden_tests: that one refuses nested or unterminated
 * regions, as nbgrader does; a feedback page must never fail open, so here
 * an unterminated region hides everything after it, and a marker line says
 * where tests were taken out.
 */
char *fb_strip_hidden(const char *src)
{
	struct gr_buf b = {0};
	bool hidden = false;

	if (gr_buf_put(&b, "", 0) < 0)
		return NULL;
	for (const char *s = src; *s;) {
		const char *e = strchr(s, '\n');
		const char *next = e ? e + 1 : s + strlen(s);

		e = e ? e : next;
		if (!hidden && line_has(s, e, "BEGIN HIDDEN TESTS")) {
			hidden = true;
			/* Keep the indentation, so that the code around still reads right. */
			if (gr_buf_put(&b, s, strspn(s, " \t")) < 0 ||
			    gr_buf_put(&b, "# hidden tests\n", 15) < 0)
				goto nomem;
		} else if (hidden) {
			hidden = !line_has(s, e, "END HIDDEN TESTS");
		} else if (gr_buf_put(&b, s, (size_t)(next - s)) < 0) {
			goto nomem;
		}
		s = next;
	}
	return b.p;
nomem:
	free(b.p);
	return NULL;
}

int fb_render(FILE *out, enum fb_format fmt, const struct gb_gradebook *gb,
	      const struct gb_submission *sub, const struct gb_nbresult *r,
	      const struct nb_notebook *nb, struct gr_err *err)
{
	struct fb_page p = {gb, sub, r, nb, NULL, NULL, NULL};
	int rc;

	p.a = gb_find_assignment(gb, sub->assignment);
	p.def = p.a ? gb_find_notebook(p.a, r->name) : NULL;
	p.student = gb_find_student(gb, sub->student_id);
	rc = fmt == FB_MARKDOWN ? fb_render_markdown(out, &p) : fb_render_html(out, &p);
	if (rc < 0 || ferror(out))
		return gr_err_set(err, rc < 0 ? rc : GR_EIO, "cannot render the feedback of '%s'",
				  sub->student_id);
	return 0;
}

/* A name used as a path component: no separator, not empty, not "." or "..". */
static bool safe_component(const char *s)
{
	return s && *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* Render one page into memory and write it atomically at out_dir/student/assignment/nb.ext. */
static int write_page(const char *out_dir, const struct gb_gradebook *gb,
		      const struct gb_submission *sub, const struct gb_nbresult *r,
		      const struct fb_opts *o, FILE *log, struct fb_stats *st)
{
	const char *ext = o->format == FB_MARKDOWN ? "md" : "html";
	char *dir = NULL, *path = NULL, *nbpath = NULL, *buf = NULL;
	struct nb_notebook *nb = NULL;
	struct gr_err e = {0};
	size_t len = 0;
	FILE *f = NULL;
	int rc = -1;

	if (!safe_component(sub->student_id) || !safe_component(sub->assignment) ||
	    !safe_component(r->name)) {
		if (log)
			fprintf(log,
				"warning: no feedback for student '%s': '%s/%s' is not a "
				"usable file name\n",
				sub->student_id, sub->assignment, r->name);
		goto done;
	}
	if (asprintf(&dir, "%s/%s/%s", out_dir, sub->student_id, sub->assignment) < 0 ||
	    asprintf(&path, "%s/%s.%s", dir, r->name, ext) < 0) {
		dir = path = NULL;
		goto done;
	}
	if (o->autograded) {
		if (asprintf(&nbpath, "%s/%s/%s/%s.ipynb", o->autograded, sub->student_id,
			     sub->assignment, r->name) < 0) {
			nbpath = NULL;
			goto done;
		}
		/* An errored submission has no autograded notebook to expect. */
		if ((sub->status != GB_ERROR || access(nbpath, F_OK) == 0) &&
		    nb_read_file(&nb, nbpath, &e) < 0 && log)
			fprintf(log, "warning: %s; the feedback of '%s' shows the scores only\n",
				e.msg, sub->student_id);
	}
	f = open_memstream(&buf, &len);
	rc = f ? fb_render(f, o->format, gb, sub, r, nb, &e) : GR_ENOMEM;
	if ((f && fclose(f) != 0) || rc < 0) {
		f = NULL;
		rc = -1;
		if (log)
			fprintf(log, "warning: %s\n", e.msg[0] ? e.msg : "out of memory");
		goto done;
	}
	f = NULL;
	rc = -1;
	if (gr_mkdir_p(dir, 0755, &e) < 0 || gr_write_file_atomic(path, buf, len, &e) < 0) {
		if (log)
			fprintf(log, "warning: %s\n", e.msg);
		goto done;
	}
	st->written++;
	st->no_notebook += nb == NULL;
	rc = 0;
done:
	if (rc < 0)
		st->failed++;
	if (f)
		fclose(f);
	nb_free(nb);
	free(buf);
	free(nbpath);
	free(path);
	free(dir);
	return rc;
}

int fb_write_all(const char *out_dir, const struct gb_gradebook *gb, const struct fb_opts *o,
		 FILE *log, struct fb_stats *st, struct gr_err *err)
{
	bool a_seen = !o->assignment, s_seen = !o->student;

	*st = (struct fb_stats){0};
	for (size_t i = 0; i < gb->n_assignments; i++)
		a_seen |= o->assignment && !strcmp(o->assignment, gb->assignments[i]->name);
	for (size_t i = 0; i < gb->n_students; i++)
		s_seen |= o->student && !strcmp(o->student, gb->students[i]->id);
	if (!a_seen)
		return gr_err_set(err, GR_ENOTFOUND, "no assignment '%s' in the gradebook",
				  o->assignment);
	if (!s_seen)
		return gr_err_set(err, GR_ENOTFOUND, "no student '%s' in the gradebook",
				  o->student);
	if (gr_mkdir_p(out_dir, 0755, err) < 0)
		return err ? err->code : GR_EIO;
	for (size_t i = 0; i < gb->n_submissions; i++) {
		const struct gb_submission *sub = gb->submissions[i];

		if (sub->status == GB_MISSING ||
		    (o->assignment && strcmp(o->assignment, sub->assignment)) ||
		    (o->student && strcmp(o->student, sub->student_id)))
			continue;
		for (size_t j = 0; j < sub->n_notebooks; j++)
			write_page(out_dir, gb, sub, sub->notebooks[j], o, log, st);
	}
	return 0;
}
