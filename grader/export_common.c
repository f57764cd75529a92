/* export_common.c - helpers shared by the exporters: formats, ordering, escaping. */
#include <stdlib.h>
#include <string.h>

#include "export_int.h"

static const char *const format_names[] = {"nbgrader-db", "csv",      "gradescope",
					   "junit",	  "markdown", "items"};

int export_format_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(*format_names); i++)
		if (name && !strcmp(format_names[i], name))
			return (int)i;
	return -1;
}

const char *export_format_names(void)
{
	return "nbgrader-db, csv, gradescope, junit, markdown, items";
}

int export_utc_time(char out[40], const char *iso, bool python)
{
	int64_t sec;
	int32_t usec;

	if (gr_time_parse(&sec, &usec, iso, GR_TIME_NAIVE_UTC, NULL) < 0)
		return GR_EINVAL;
	gr_time_format(out, 40, sec, usec, python ? GR_TIME_PYTHON : GR_TIME_SQL);
	return 0;
}

void export_db_interval(char out[40], double seconds)
{
	/* Rounded by hand: libm is not among the linked libraries. */
	long long us = (long long)(seconds * 1e6 + (seconds >= 0 ? 0.5 : -0.5));
	long long sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);

	gr_time_format(out, 40, sec, (int32_t)(us - sec * 1000000), GR_TIME_SQL);
}

char *export_traceback(const char *tb, const char *withheld)
{
	char *s = NULL;

	if (!tb || !withheld)
		return tb ? strdup(tb) : NULL;
	if (asprintf(&s, "%s (%s)", gb_hidden_error(tb), withheld) < 0)
		return NULL;
	return s;
}

void export_csv_field(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void export_csv_text(FILE *f, const char *s)
{
	char *guarded = NULL;

	/* a name a student chose in the LMS, "=HYPERLINK(...)", is never run as a formula */
	if (s && s[0] && strchr("=+-@\t\r", s[0]) && asprintf(&guarded, "'%s", s) >= 0)
		s = guarded;
	export_csv_field(f, s);
	free(guarded);
}

void export_csv_fields(FILE *f, const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		export_csv_field(f, fields[i]);
	}
}

/* Length of the ANSI escape sequence at s (s[0] == ESC), 1 for a lone ESC. */
static size_t ansi_len(const char *s)
{
	size_t i = 1;

	if (s[1] == '[') { /* CSI: parameters and intermediates, then a final byte */
		for (i = 2; s[i] && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x3F; i++)
			;
		return s[i] && (unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7E ? i + 1
											  : i;
	}
	if (s[1] == ']') { /* OSC: up to BEL or ESC \ */
		for (i = 2; s[i] && s[i] != '\a' && !(s[i] == '\x1b' && s[i + 1] == '\\'); i++)
			;
		return s[i] == '\a' ? i + 1 : s[i] ? i + 2 : i;
	}
	return s[1] ? 2 : 1;
}

char *export_strip_ansi(const char *s)
{
	char *out, *p;

	if (!s)
		return NULL;
	out = malloc(strlen(s) + 1);
	if (!out)
		return NULL;
	for (p = out; *s;) {
		if (*s == '\x1b') {
			s += ansi_len(s);
			continue;
		}
		*p++ = *s++;
	}
	*p = '\0';
	return out;
}

void export_xml_text(FILE *f, const char *s, bool attr)
{
	if (!s)
		return;
	while (*s) {
		unsigned char c = (unsigned char)*s;

		if (c == '\x1b') {
			s += ansi_len(s);
			continue;
		}
		if (c == '&')
			fputs("&amp;", f);
		else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (attr && c == '"')
			fputs("&quot;", f);
		else if (attr && (c == '\n' || c == '\r' || c == '\t'))
			fprintf(f, "&#%d;", c);
		else if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
			fputs("\xEF\xBF\xBD", f); /* U+FFFD: XML 1.0 has no way to carry it */
		else if (c == 0xEF && (unsigned char)s[1] == 0xBF &&
			 ((unsigned char)s[2] == 0xBE || (unsigned char)s[2] == 0xBF)) {
			fputs("\xEF\xBF\xBD", f); /* U+FFFE and U+FFFF are not XML characters */
			s += 3;
			continue;
		} else
			fputc(c, f);
		s++;
	}
}

static int cmp_nullable(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL); /* NULL sorts first, as in SQLite */
	return strcmp(a, b);
}

static int cmp_students(const void *pa, const void *pb, void *ctx)
{
	const struct gb_gradebook *gb = ctx;
	const struct gb_student *a = gb->students[*(const size_t *)pa];
	const struct gb_student *b = gb->students[*(const size_t *)pb];
	int c = cmp_nullable(a->last_name, b->last_name);

	if (!c)
		c = cmp_nullable(a->first_name, b->first_name);
	return c ? c : strcmp(a->id, b->id);
}

static int cmp_assignments(const void *pa, const void *pb, void *ctx)
{
	const struct gb_gradebook *gb = ctx;
	const struct gb_assignment *a = gb->assignments[*(const size_t *)pa];
	const struct gb_assignment *b = gb->assignments[*(const size_t *)pb];
	char da[40] = "", db[40] = "";
	int c;

	/* Compare due dates in UTC, not as written (offsets may differ). */
	if (a->duedate)
		export_utc_time(da, a->duedate, false);
	if (b->duedate)
		export_utc_time(db, b->duedate, false);
	c = cmp_nullable(a->duedate ? da : NULL, b->duedate ? db : NULL);
	return c ? c : strcmp(a->name, b->name);
}

int export_sorted(struct export_sel *sel, const struct gb_gradebook *gb, struct gb_reader *reader,
		  const struct export_opts *o, struct gr_err *err)
{
	*sel = (struct export_sel){.gb = gb, .reader = reader};
	sel->ai = calloc(gb->n_assignments + 1, sizeof(*sel->ai));
	sel->as = calloc(gb->n_assignments + 1, sizeof(*sel->as));
	sel->si = calloc(gb->n_students + 1, sizeof(*sel->si));
	sel->ss = calloc(gb->n_students + 1, sizeof(*sel->ss));
	if (!sel->ai || !sel->as || !sel->si || !sel->ss) {
		export_sel_release(sel);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < gb->n_assignments; i++)
		if (!o || !o->assignment || !strcmp(o->assignment, gb->assignments[i]->name))
			sel->ai[sel->na++] = i;
	for (size_t i = 0; i < gb->n_students; i++)
		if (!o || !o->student || !strcmp(o->student, gb->students[i]->id))
			sel->si[sel->ns++] = i;
	if (o && o->assignment && sel->na == 0) {
		export_sel_release(sel);
		return gr_err_set(err, GR_ENOTFOUND, "no assignment '%s' in the gradebook",
				  o->assignment);
	}
	if (o && o->student && sel->ns == 0) {
		export_sel_release(sel);
		return gr_err_set(err, GR_ENOTFOUND, "no student '%s' in the gradebook",
				  o->student);
	}
	qsort_r(sel->ai, sel->na, sizeof(*sel->ai), cmp_assignments, (void *)gb);
	qsort_r(sel->si, sel->ns, sizeof(*sel->si), cmp_students, (void *)gb);
	for (size_t i = 0; i < sel->na; i++)
		sel->as[i] = gb->assignments[sel->ai[i]];
	for (size_t j = 0; j < sel->ns; j++)
		sel->ss[j] = gb->students[sel->si[j]];
	return 0;
}

void export_sel_release(struct export_sel *sel)
{
	free(sel->ai);
	free(sel->as);
	free(sel->si);
	free(sel->ss);
	gb_submission_free(sel->held);
	*sel = (struct export_sel){0};
}

int export_over(export_text_fn *fn, const char *what, FILE *out, const struct gb_gradebook *gb,
		const struct export_opts *o, struct gr_err *err)
{
	struct export_sel sel;
	int rc = export_sorted(&sel, gb, NULL, o, err);

	if (rc == 0)
		rc = fn(out, &sel, o, err);
	if (rc == 0 && ferror(out))
		rc = gr_err_set(err, GR_EIO, "cannot write the %s export", what);
	export_sel_release(&sel);
	return rc;
}

/* Read submission k of the file into sel->held, pseudonymised when asked. */
static int hold(struct export_sel *sel, size_t k, const struct gb_submission **out,
		struct gr_err *err)
{
	int rc;

	gb_submission_free(sel->held);
	sel->held = NULL;
	if ((rc = gb_reader_get(sel->reader, k, &sel->held, err)) < 0)
		return rc;
	if (sel->key && export_pseudo_submission(sel->held, sel->key, sel->keylen) < 0)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	*out = sel->held;
	return 0;
}

int export_sel_sub(struct export_sel *sel, size_t i, size_t j, const struct gb_submission **out,
		   struct gr_err *err)
{
	long k;

	*out = NULL;
	if (!sel->reader) {
		*out = gb_find_submission(sel->gb, sel->as[i]->name, sel->ss[j]->id);
		return 0;
	}
	k = gb_reader_find(sel->reader, sel->ai[i], sel->si[j]);
	return k < 0 ? 0 : hold(sel, (size_t)k, out, err);
}

size_t export_sel_count(const struct export_sel *sel)
{
	return sel->reader ? gb_reader_count(sel->reader) : sel->gb->n_submissions;
}

const char *export_sel_nth_assignment(const struct export_sel *sel, size_t k)
{
	size_t a, s;

	if (!sel->reader)
		return sel->gb->submissions[k]->assignment;
	gb_reader_keys(sel->reader, k, &a, &s);
	return sel->gb->assignments[a]->name;
}

int export_sel_nth(struct export_sel *sel, size_t k, const struct gb_submission **out,
		   struct gr_err *err)
{
	if (!sel->reader) {
		*out = sel->gb->submissions[k];
		return 0;
	}
	return hold(sel, k, out, err);
}

void export_duration(char out[32], double seconds)
{
	long t = seconds > 0 ? (long)seconds : 0;
	long d = t / 86400, h = (t % 86400) / 3600, m = (t % 3600) / 60;

	if (d > 0)
		snprintf(out, 32, h ? "%ldd %ldh" : "%ldd", d, h);
	else if (h > 0)
		snprintf(out, 32, m ? "%ldh %ldmin" : "%ldh", h, m);
	else if (m > 0)
		snprintf(out, 32, "%ld min", m);
	else
		snprintf(out, 32, "%ld s", t);
}

const char *export_time_note(const struct gb_submission *sub)
{
	for (size_t i = 0; sub && i < sub->n_flags; i++)
		if (!strcmp(sub->flags[i], "bad_timestamp") ||
		    !strcmp(sub->flags[i], "time_unknown"))
			return sub->message ? sub->message : "submission time unknown";
	return NULL;
}
