/*
 * gradebook_read.c - reading a gradebook file as a stream of submissions
 * (gb_reader): a top-level scan finds where each element of "submissions"
 * starts and ends, keeping the rest (format, assignments, students) as the
 * header; each submission is then handed to jansson alone, checked as
 * gb_read_file checks it, and forgotten. What stays in memory is the header
 * and an index of a few dozen bytes per submission, so exporters and merge
 * run in the same memory at 100 or 10 000 submissions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gradebook_int.h"

#define NONE UINT32_MAX /* an empty slot of gb_reader.slots */

struct entry {
	off_t off;	     /* first byte of the submission's object */
	size_t len;	     /* its length in bytes */
	unsigned line, col;  /* where it starts, for messages */
	uint32_t assignment; /* index in header->assignments */
	uint32_t student;    /* index in header->students */
};

struct gb_reader {
	char *path;
	int fd;
	struct gb_gradebook *header;
	struct entry *v;
	size_t n, cap;
	uint32_t *by_id;   /* student indexes sorted by id */
	uint32_t *slots;   /* [assignment * n_students + student] -> entry, or NONE */
	struct gr_buf buf; /* the submission last read */
};

/* ---- the top-level scan ---------------------------------------------------- */

struct scan {
	FILE *f;
	off_t off;	     /* offset of the next byte */
	unsigned line, col;  /* of the next byte */
	struct gr_buf *keep; /* bytes copied to the header, or NULL */
	struct gb_reader *r;
	struct gr_err *err;
};

static int next(struct scan *s)
{
	int c = getc_unlocked(s->f);

	if (c == EOF)
		return EOF;
	s->off++;
	if (c == '\n') {
		s->line++;
		s->col = 1;
	} else {
		s->col++;
	}
	if (s->keep) {
		char ch = (char)c;

		if (gr_buf_put(s->keep, &ch, 1) < 0)
			return -2;
	}
	return c;
}

/* The next byte that is not JSON white space (consumed), EOF or -2 (out of memory). */
static int next_token(struct scan *s)
{
	int c;

	do
		c = next(s);
	while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
	return c;
}

static int fail(struct scan *s, int c, const char *what)
{
	if (c == -2)
		return gr_err_set(s->err, GR_ENOMEM, "out of memory");
	if (c == EOF)
		return gr_err_set(s->err, GR_EINVAL, "'%s': line %u: the file ends inside %s",
				  s->r->path, s->line, what);
	return gr_err_set(s->err, GR_EINVAL, "'%s': line %u column %u: unexpected '%c' in %s",
			  s->r->path, s->line, s->col - 1, c >= 0x20 && c < 0x7f ? c : '?', what);
}

/* Skip the rest of a string whose opening quote was read. */
static int skip_string(struct scan *s, const char *what)
{
	int c;

	while ((c = next(s)) != '"') {
		if (c == '\\')
			c = next(s);
		if (c < 0)
			return fail(s, c, what);
	}
	return 0;
}

/*
 * Skip one JSON value whose first byte `c` was read. Only its extent is
 * found here: jansson reads (and checks) it later. Brackets must match.
 */
static int skip_value(struct scan *s, int c, const char *what)
{
	char stack[256];
	size_t depth = 0;

	for (;;) {
		if (c == '"') {
			if (skip_string(s, what) < 0)
				return GR_EINVAL;
		} else if (c == '{' || c == '[') {
			if (depth == sizeof(stack))
				return gr_err_set(s->err, GR_EINVAL,
						  "'%s': line %u: %s nests too deep", s->r->path,
						  s->line, what);
			stack[depth++] = c == '{' ? '}' : ']';
		} else if (c == '}' || c == ']') {
			if (!depth || stack[depth - 1] != c)
				return fail(s, c, what);
			depth--;
		} else if (c < 0) {
			return fail(s, c, what);
		}
		if (!depth)
			break;
		c = next(s);
	}
	return 0;
}

/* A scalar ends at the next comma or bracket, which is handed back in *c. */
static int skip_any(struct scan *s, int *c, const char *what)
{
	if (*c == '"' || *c == '{' || *c == '[') {
		if (skip_value(s, *c, what) < 0)
			return GR_EINVAL;
		*c = next_token(s);
		return 0;
	}
	while (*c >= 0 && !strchr(",}] \t\r\n", *c))
		*c = next(s);
	if (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n')
		*c = next_token(s);
	return 0;
}

static int add_entry(struct scan *s, off_t off, unsigned line, unsigned col)
{
	struct gb_reader *r = s->r;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		struct entry *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return gr_err_set(s->err, GR_ENOMEM, "out of memory");
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = (struct entry){.off = off, .line = line, .col = col};
	return 0;
}

/* The "submissions" array, its '[' not yet read: each element's extent is noted. */
static int scan_submissions(struct scan *s)
{
	char what[64];
	int c = next_token(s);

	if (c != '[')
		return c < 0 ? fail(s, c, "the gradebook")
			     : gr_err_set(s->err, GR_EINVAL, "'%s': submissions: expected an array",
					  s->r->path);
	c = next_token(s);
	if (c == ']')
		return 0;
	for (;;) {
		off_t start = s->off - 1;
		unsigned line = s->line, col = s->col - 1;

		snprintf(what, sizeof(what), "submissions[%zu]", s->r->n);
		if (add_entry(s, start, line, col) < 0)
			return GR_ENOMEM;
		if (c != '{' && c >= 0)
			return gr_err_set(s->err, GR_EINVAL, "'%s': %s: expected an object",
					  s->r->path, what);
		if (skip_value(s, c, what) < 0)
			return GR_EINVAL;
		s->r->v[s->r->n - 1].len = (size_t)(s->off - start);
		c = next_token(s);
		if (c == ']')
			return 0;
		if (c == EOF || c == -2)
			return fail(s, c, "the submissions");
		if (c != ',')
			return gr_err_set(
			    s->err, GR_EINVAL,
			    "'%s': line %u column %u: %s ends with '%c', not ',' or ']'",
			    s->r->path, s->line, s->col - 1, what, c >= 0x20 && c < 0x7f ? c : '?');
		c = next_token(s);
	}
}

/*
 * The whole file: a top-level object whose members but "submissions" are
 * copied into `hdr` (and "submissions" is copied as []).
 */
static int scan_file(struct scan *s, struct gr_buf *hdr)
{
	bool subs = false;
	int c, rc;

	if ((c = next_token(s)) != '{')
		return c == EOF && s->off == 0
			   ? gr_err_set(s->err, GR_EINVAL, "'%s': the file is empty", s->r->path)
			   : fail(s, c, "the gradebook");
	if (gr_buf_put(hdr, "{", 1) < 0)
		return gr_err_set(s->err, GR_ENOMEM, "out of memory");
	c = next_token(s);
	while (c != '}') {
		size_t key_at;
		bool is_subs;

		if (c != '"')
			return fail(s, c, "the gradebook");
		if (hdr->len > 1 && gr_buf_put(hdr, ",", 1) < 0)
			return gr_err_set(s->err, GR_ENOMEM, "out of memory");
		key_at = hdr->len;
		if (gr_buf_put(hdr, "\"", 1) < 0)
			return gr_err_set(s->err, GR_ENOMEM, "out of memory");
		s->keep = hdr;
		if ((rc = skip_string(s, "a key")) < 0)
			return rc;
		is_subs = !strcmp(hdr->p + key_at, "\"submissions\"");
		c = next_token(s);
		if (c != ':')
			return fail(s, c, "the gradebook");
		if (is_subs) {
			s->keep = NULL;
			if (subs)
				return gr_err_set(s->err, GR_EINVAL,
						  "'%s': duplicate object key 'submissions'",
						  s->r->path);
			subs = true;
			if (gr_buf_put(hdr, " []", 3) < 0)
				return gr_err_set(s->err, GR_ENOMEM, "out of memory");
			if ((rc = scan_submissions(s)) < 0)
				return rc;
			c = next_token(s);
		} else {
			c = next_token(s);
			if (skip_any(s, &c, "the gradebook") < 0)
				return GR_EINVAL;
			s->keep = NULL;
			/* the comma or brace that ended the value went to hdr: take it back */
			if (c >= 0)
				hdr->p[--hdr->len] = '\0';
		}
		if (c == ',')
			c = next_token(s);
		else if (c != '}')
			return fail(s, c, "the gradebook");
	}
	s->keep = NULL;
	if ((c = next_token(s)) != EOF)
		return gr_err_set(s->err, GR_EINVAL, "'%s': line %u: data after the gradebook",
				  s->r->path, s->line);
	if (gr_buf_put(hdr, "}", 1) < 0)
		return gr_err_set(s->err, GR_ENOMEM, "out of memory");
	return 0;
}

/* ---- the index ------------------------------------------------------------- */

static int cmp_ids(const void *a, const void *b, void *ctx)
{
	const struct gb_gradebook *gb = ctx;

	return strcmp(gb->students[*(const uint32_t *)a]->id,
		      gb->students[*(const uint32_t *)b]->id);
}

/* Index in header->students of the student `id`, or NONE. */
static uint32_t student_index(const struct gb_reader *r, const char *id)
{
	size_t lo = 0, hi = r->header->n_students;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(id, r->header->students[r->by_id[mid]]->id);

		if (!c)
			return r->by_id[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NONE;
}

static int build_index(struct gb_reader *r, struct gr_err *err)
{
	const struct gb_gradebook *gb = r->header;
	size_t n = gb->n_assignments * gb->n_students;

	if (gb->n_students >= NONE || r->n >= NONE ||
	    (gb->n_students && n / gb->n_students != gb->n_assignments))
		return gr_err_set(err, GR_ELIMIT, "'%s': too many students", r->path);
	r->by_id = malloc((gb->n_students + 1) * sizeof(*r->by_id));
	r->slots = malloc((n + 1) * sizeof(*r->slots));
	if (!r->by_id || !r->slots)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < gb->n_students; i++)
		r->by_id[i] = (uint32_t)i;
	qsort_r(r->by_id, gb->n_students, sizeof(*r->by_id), cmp_ids, (void *)gb);
	for (size_t i = 0; i < n; i++)
		r->slots[i] = NONE;
	return 0;
}

/* Read, check and index submission i (its extent is known). */
static int check_entry(struct gb_reader *r, size_t i, struct gr_err *err)
{
	struct gb_submission *sub = NULL;
	struct entry *e = &r->v[i];
	struct gr_err inner = {0};
	char where[64];
	size_t a = 0;
	uint32_t s, *slot;
	int rc;

	snprintf(where, sizeof(where), "submissions[%zu]", i);
	if ((rc = gb_reader_get(r, i, &sub, err)) < 0)
		return rc;
	rc = gb_submission_validate(r->header, sub, where, &inner);
	while (!rc && strcmp(r->header->assignments[a]->name, sub->assignment))
		a++;
	s = rc ? NONE : student_index(r, sub->student_id);
	if (!rc && s == NONE) /* a student id twice in "students": the first one is used */
		rc = gb_bad(&inner, where, "student_id", "unknown student '%s'", sub->student_id);
	if (!rc) {
		slot = &r->slots[a * r->header->n_students + s];
		if (*slot != NONE)
			rc = gb_bad(&inner, where, NULL, "second submission of '%s' by '%s'",
				    sub->assignment, sub->student_id);
		*slot = (uint32_t)i;
		e->assignment = (uint32_t)a;
		e->student = s;
	}
	if (rc < 0)
		gr_err_set(err, rc, "'%s': %s", r->path, inner.msg);
	gb_submission_free(sub);
	return rc;
}

int gb_reader_open(struct gb_reader **out, const char *path, struct gr_err *err)
{
	struct gb_reader *r = calloc(1, sizeof(*r));
	struct scan s = {.line = 1, .col = 1, .err = err};
	struct gr_buf hdr = {0};
	struct gr_err inner = {0};
	json_error_t jerr;
	json_t *j = NULL;
	int rc;

	if (!r || !(r->path = strdup(path))) {
		free(r);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	r->fd = -1;
	s.r = r;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		rc = gr_err_sys(err, errno == ENOENT ? GR_ENOTFOUND : GR_EIO, errno,
				"cannot read '%s'", path);
		goto done;
	}
	s.f = fdopen(dup(r->fd), "r");
	if (!s.f) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot read '%s'", path);
		goto done;
	}
	rc = scan_file(&s, &hdr);
	if (!rc && ferror(s.f))
		rc = gr_err_sys(err, GR_EIO, errno, "cannot read '%s'", path);
	fclose(s.f);
	if (rc)
		goto done;
	j = json_loadb(hdr.p, hdr.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		rc = gr_err_set(err, GR_EINVAL, "'%s': %s", path, jerr.text);
		goto done;
	}
	rc = gb_header_from_json(&r->header, j, &inner);
	/* the header's text and JSON go before the submissions are read: a lower peak */
	json_decref(j);
	j = NULL;
	free(hdr.p);
	hdr.p = NULL;
	if (rc < 0) {
		gr_err_set(err, rc, "'%s': %s", path, inner.msg);
		goto done;
	}
	if ((rc = build_index(r, err)) < 0)
		goto done;
	for (size_t i = 0; i < r->n && !rc; i++)
		rc = check_entry(r, i, err);
	if (rc)
		goto done;
	*out = r;
	r = NULL;
done:
	json_decref(j);
	free(hdr.p);
	gb_reader_free(r);
	return rc;
}

const struct gb_gradebook *gb_reader_header(const struct gb_reader *r)
{
	return r->header;
}

size_t gb_reader_count(const struct gb_reader *r)
{
	return r->n;
}

void gb_reader_keys(const struct gb_reader *r, size_t i, size_t *assignment, size_t *student)
{
	*assignment = r->v[i].assignment;
	*student = r->v[i].student;
}

long gb_reader_find(const struct gb_reader *r, size_t assignment, size_t student)
{
	uint32_t e;

	if (assignment >= r->header->n_assignments || student >= r->header->n_students)
		return -1;
	e = r->slots[assignment * r->header->n_students + student];
	return e == NONE ? -1 : (long)e;
}

int gb_reader_get_json(struct gb_reader *r, size_t i, json_t **out, struct gr_err *err)
{
	const struct entry *e = &r->v[i];
	json_error_t jerr;
	ssize_t got;

	if (e->len >= r->buf.cap) {
		char *p = realloc(r->buf.p, e->len + 1);

		if (!p)
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		r->buf.p = p;
		r->buf.cap = e->len + 1;
	}
	got = pread(r->fd, r->buf.p, e->len, e->off);
	if (got < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot read '%s'", r->path);
	if ((size_t)got != e->len)
		return gr_err_set(
		    err, GR_EIO, "'%s': submissions[%zu]: the file changed while read", r->path, i);
	*out = json_loadb(r->buf.p, e->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out)
		return gr_err_set(err, GR_EINVAL, "'%s': submissions[%zu]: line %u column %d: %s",
				  r->path, i, e->line + (unsigned)jerr.line - 1,
				  jerr.line == 1 ? jerr.column + (int)e->col - 1 : jerr.column,
				  jerr.text);
	return 0;
}

int gb_reader_get(struct gb_reader *r, size_t i, struct gb_submission **out, struct gr_err *err)
{
	struct gr_err inner = {0};
	char where[64];
	json_t *j = NULL;
	int rc = gb_reader_get_json(r, i, &j, err);

	if (rc < 0)
		return rc;
	snprintf(where, sizeof(where), "submissions[%zu]", i);
	rc = gb_submission_from_json(out, j, where, &inner);
	if (rc < 0)
		gr_err_set(err, rc, "'%s': %s", r->path, inner.msg);
	json_decref(j);
	return rc;
}

void gb_reader_free(struct gb_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	gb_free(r->header);
	free(r->v);
	free(r->by_id);
	free(r->slots);
	free(r->buf.p);
	free(r->path);
	free(r);
}
