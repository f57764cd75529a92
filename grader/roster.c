/* roster.c - the roster CSV reader (see include/grader/roster.h). */
#include "grader/roster.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROSTER_MAX_FILE (64u * 1024 * 1024)

/* A growing array of fields for one record. */
struct record {
	char **fields;
	size_t count, cap;
};

static void record_clear(struct record *rec)
{
	for (size_t i = 0; i < rec->count; i++)
		free(rec->fields[i]);
	rec->count = 0;
}

static int record_push(struct record *rec, const char *s, size_t n)
{
	char *copy;

	if (rec->count == rec->cap) {
		size_t ncap = rec->cap ? rec->cap * 2 : 8;
		char **nf = realloc(rec->fields, ncap * sizeof(*nf));
		if (!nf)
			return GR_ENOMEM;
		rec->fields = nf;
		rec->cap = ncap;
	}
	copy = malloc(n + 1);
	if (!copy)
		return GR_ENOMEM;
	memcpy(copy, s, n);
	copy[n] = '\0';
	rec->fields[rec->count++] = copy;
	return 0;
}

/*
 * Read one RFC 4180 record starting at *pos into rec; advances *pos and *line.
 * Quoted fields may hold commas, quotes ("") and line breaks. Returns 0, or
 * GR_EINVAL for an unterminated quote or text after a closing quote.
 */
static int read_record(struct record *rec, const char *s, size_t len, size_t *pos, size_t *line,
		       const char *name, struct gr_err *err)
{
	size_t i = *pos, start_line = *line;
	struct gr_buf b = {0};
	int rc = 0;

	record_clear(rec);
	for (;;) {
		int quoted = 0;
		b.len = 0;
		if (i < len && s[i] == '"') {
			quoted = 1;
			i++;
		}
		for (;;) {
			char c;
			if (i >= len) {
				if (quoted) {
					rc = gr_err_set(err, GR_EINVAL,
							"cannot read roster '%s': line %zu: "
							"unterminated quoted field",
							name, start_line);
					goto done;
				}
				break;
			}
			c = s[i];
			if (quoted && c == '"') {
				if (i + 1 < len && s[i + 1] == '"') {
					c = '"';
					i++;
				} else {
					i++;
					quoted = 0;
					if (i < len && s[i] != ',' && s[i] != '\n' &&
					    s[i] != '\r') {
						rc =
						    gr_err_set(err, GR_EINVAL,
							       "cannot read roster '%s': line %zu: "
							       "text after a closing quote",
							       name, *line);
						goto done;
					}
					continue;
				}
			} else if (!quoted && (c == ',' || c == '\n' || c == '\r')) {
				break;
			} else if (c == '\n') {
				(*line)++;
			}
			if (gr_buf_put(&b, &c, 1) < 0) {
				rc = gr_err_set(err, GR_ENOMEM,
						"cannot read roster '%s': out of memory", name);
				goto done;
			}
			i++;
		}
		if (record_push(rec, b.p ? b.p : "", b.len) < 0) {
			rc = gr_err_set(err, GR_ENOMEM, "cannot read roster '%s': out of memory",
					name);
			goto done;
		}
		if (i < len && s[i] == ',') {
			i++;
			continue;
		}
		if (i < len && s[i] == '\r')
			i++;
		if (i < len && s[i] == '\n')
			i++;
		(*line)++;
		break;
	}
done:
	free(b.p);
	*pos = i;
	return rc;
}

static char *trimmed_dup(const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return strndup(s, n);
}

static const struct {
	const char *name;
	enum roster_column col;
} known_columns[] = {
    {"student_id", ROSTER_STUDENT_ID}, {"repo", ROSTER_REPO},	  {"first_name", ROSTER_FIRST_NAME},
    {"last_name", ROSTER_LAST_NAME},   {"email", ROSTER_EMAIL},	  {"branch", ROSTER_BRANCH},
    {"lms_id", ROSTER_LMS_ID},	       {"subdir", ROSTER_SUBDIR},
};

#define NCOLUMNS (sizeof(known_columns) / sizeof(known_columns[0]))

static char **field_of(struct roster_student *st, enum roster_column col)
{
	switch (col) {
	case ROSTER_STUDENT_ID:
		return &st->student_id;
	case ROSTER_REPO:
		return &st->repo;
	case ROSTER_FIRST_NAME:
		return &st->first_name;
	case ROSTER_LAST_NAME:
		return &st->last_name;
	case ROSTER_EMAIL:
		return &st->email;
	case ROSTER_BRANCH:
		return &st->branch;
	case ROSTER_LMS_ID:
		return &st->lms_id;
	case ROSTER_SUBDIR:
		return &st->subdir;
	}
	return NULL;
}

static void student_release(struct roster_student *st)
{
	for (size_t k = 0; k < NCOLUMNS; k++)
		free(*field_of(st, known_columns[k].col));
}

static int is_blank(const struct record *rec)
{
	return rec->count == 1 && rec->fields[0][0] == '\0';
}

/* The header's columns: map[c] the known column of column c (0: ignored), r->columns set. */
static int map_header(struct roster *r, const struct record *rec, enum roster_column *map,
		      const char *name, struct gr_err *err)
{
	for (size_t c = 0; c < rec->count; c++) {
		char *h = trimmed_dup(rec->fields[c]);
		if (!h)
			return gr_err_set(err, GR_ENOMEM, "cannot read roster '%s': out of memory",
					  name);
		for (size_t k = 0; k < NCOLUMNS; k++) {
			if (strcasecmp(h, known_columns[k].name))
				continue;
			if (r->columns & known_columns[k].col) {
				free(h);
				return gr_err_set(
				    err, GR_EINVAL,
				    "cannot read roster '%s': column '%s' appears twice", name,
				    known_columns[k].name);
			}
			map[c] = known_columns[k].col;
			r->columns |= known_columns[k].col;
		}
		free(h);
	}
	if (!(r->columns & ROSTER_STUDENT_ID)) {
		/* what spreadsheets write: say what to change */
		const char *h0 = rec->count ? rec->fields[0] : "", *sep = NULL;
		char hint[160] = "";
		if (rec->count == 1 && strchr(h0, ';'))
			sep = "';'";
		else if (rec->count == 1 && strchr(h0, '\t'))
			sep = "tabs";
		if (sep)
			snprintf(hint, sizeof(hint),
				 " (its header is separated by %s, not commas: save it as "
				 "comma-separated CSV)",
				 sep);
		for (size_t c = 0; c < rec->count && !hint[0]; c++)
			if (!strncasecmp(rec->fields[c], "student", 7) &&
			    strchr(" -", rec->fields[c][7]) && rec->fields[c][7] &&
			    !strcasecmp(rec->fields[c] + 8, "id"))
				snprintf(hint, sizeof(hint),
					 " (rename its column '%.40s' to student_id)",
					 rec->fields[c]);
		return gr_err_set(err, GR_EINVAL,
				  "cannot read roster '%s': no 'student_id' column%s", name, hint);
	}
	return 0;
}

/* A student's fields from a row (trimmed, NFC, "" when absent); the row is at line `row_line`. */
static int fill_student(struct roster_student *st, const struct record *rec,
			const enum roster_column *map, size_t ncols, size_t row_line,
			const char *name, struct gr_err *err)
{
	for (size_t c = 0; c < ncols; c++) {
		if (!map[c])
			continue;
		*field_of(st, map[c]) = trimmed_dup(c < rec->count ? rec->fields[c] : "");
	}
	for (size_t k = 0; k < NCOLUMNS; k++) {
		char **f = field_of(st, known_columns[k].col);
		if (!*f && !(*f = strdup("")))
			return gr_err_set(err, GR_ENOMEM, "cannot read roster '%s': out of memory",
					  name);
	}
	for (size_t k = 0; k < NCOLUMNS; k++) {
		/* names compare as NFC: a roster typed on macOS may be NFD */
		char **f = field_of(st, known_columns[k].col), *nfc = NULL;
		int u = gr_utf8_nfc(&nfc, *f);
		if (u == GR_ENOMEM)
			return gr_err_set(err, GR_ENOMEM, "cannot read roster '%s': out of memory",
					  name);
		if (u < 0)
			return gr_err_set(err, GR_EINVAL,
					  "cannot read roster '%s': line %zu: column '%s' is "
					  "not UTF-8 (save the file as UTF-8)",
					  name, row_line, known_columns[k].name);
		free(*f);
		*f = nfc;
	}
	if (!st->student_id[0])
		return gr_err_set(err, GR_EINVAL,
				  "cannot read roster '%s': line %zu: empty student_id", name,
				  row_line);
	return 0;
}

/* The last student of r against the ones before: one line per student_id and per lms_id. */
static int check_unique(const struct roster *r, size_t row_line, const char *name,
			struct gr_err *err)
{
	const struct roster_student *st = &r->students[r->count - 1];

	for (size_t j = 0; j + 1 < r->count; j++) {
		if (!strcmp(r->students[j].student_id, st->student_id))
			return gr_err_set(err, GR_EINVAL,
					  "cannot read roster '%s': line %zu: student '%s' "
					  "already on line %zu",
					  name, row_line, st->student_id, r->students[j].line);
		if (st->lms_id[0] && !strcmp(r->students[j].lms_id, st->lms_id))
			/* the first would silently win every LMS entry of both */
			return gr_err_set(err, GR_EINVAL,
					  "cannot read roster '%s': line %zu: lms_id '%s' "
					  "already on line %zu (student '%s')",
					  name, row_line, st->lms_id, r->students[j].line,
					  r->students[j].student_id);
	}
	return 0;
}

/* A new zeroed student at the end of r; NULL on allocation failure. */
static struct roster_student *add_student(struct roster *r, size_t *cap)
{
	struct roster_student *st;

	if (r->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct roster_student *ns = realloc(r->students, ncap * sizeof(*ns));
		if (!ns)
			return NULL;
		r->students = ns;
		*cap = ncap;
	}
	st = &r->students[r->count++];
	memset(st, 0, sizeof(*st));
	return st;
}

int roster_parse(struct roster **out, const char *data, size_t len, const char *name,
		 struct gr_err *err)
{
	struct roster *r = NULL;
	struct record rec = {0};
	enum roster_column *map = NULL; /* column index -> known column, 0 = ignored */
	size_t ncols = 0, pos = 0, line = 1, cap = 0;
	int rc = 0;

	r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(name))) {
		rc = gr_err_set(err, GR_ENOMEM, "cannot read roster '%s': out of memory", name);
		goto done;
	}
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		pos = 3;
	/* header: the first non-blank record */
	do {
		if (pos >= len) {
			rc =
			    gr_err_set(err, GR_EINVAL, "cannot read roster '%s': empty file", name);
			goto done;
		}
		rc = read_record(&rec, data, len, &pos, &line, name, err);
		if (rc)
			goto done;
	} while (is_blank(&rec));
	ncols = rec.count;
	map = calloc(ncols, sizeof(*map));
	if (!map) {
		rc = gr_err_set(err, GR_ENOMEM, "cannot read roster '%s': out of memory", name);
		goto done;
	}
	if ((rc = map_header(r, &rec, map, name, err)) < 0)
		goto done;
	while (pos < len) {
		size_t row_line = line;
		struct roster_student *st;

		rc = read_record(&rec, data, len, &pos, &line, name, err);
		if (rc)
			goto done;
		if (is_blank(&rec))
			continue;
		if (rec.count > ncols) {
			rc = gr_err_set(
			    err, GR_EINVAL,
			    "cannot read roster '%s': line %zu: %zu fields, header has %zu", name,
			    row_line, rec.count, ncols);
			goto done;
		}
		if (!(st = add_student(r, &cap))) {
			rc = gr_err_set(err, GR_ENOMEM, "cannot read roster '%s': out of memory",
					name);
			goto done;
		}
		st->line = row_line;
		if ((rc = fill_student(st, &rec, map, ncols, row_line, name, err)) < 0 ||
		    (rc = check_unique(r, row_line, name, err)) < 0)
			goto done;
	}
	*out = r;
	r = NULL;
done:
	record_clear(&rec);
	free(rec.fields);
	free(map);
	roster_free(r);
	return rc;
}

int roster_load(struct roster **out, const char *path, struct gr_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	rc = gr_read_file(&data, &len, path, ROSTER_MAX_FILE, err);
	if (rc == 0)
		rc = roster_parse(out, data, len, path, err);
	free(data);
	return rc;
}

void roster_free(struct roster *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++)
		student_release(&r->students[i]);
	free(r->students);
	free(r->path);
	free(r);
}

const struct roster_student *roster_find(const struct roster *r, const char *id)
{
	for (size_t i = 0; r && i < r->count; i++)
		if (!strcmp(r->students[i].student_id, id))
			return &r->students[i];
	return NULL;
}

const struct roster_student *roster_find_lms(const struct roster *r, const char *lms_id)
{
	for (size_t i = 0; r && lms_id[0] && i < r->count; i++)
		if (!strcmp(r->students[i].lms_id, lms_id))
			return &r->students[i];
	return NULL;
}

const struct roster_student *roster_find_email(const struct roster *r, const char *email)
{
	const struct roster_student *hit = NULL;

	if (!r || !strchr(email, '@'))
		return NULL;
	for (size_t i = 0; i < r->count; i++)
		if (!strcasecmp(r->students[i].email, email)) {
			if (hit)
				return NULL;
			hit = &r->students[i];
		}
	return hit;
}

/* Whether key(first) key(last) in either order is `want`. */
static int name_matches(const char *want, const char *first, const char *last)
{
	char *f = NULL, *l = NULL;
	size_t nf, nl, nw = strlen(want);
	int hit = 0;

	if (gr_utf8_name_key(&f, first) < 0 || gr_utf8_name_key(&l, last) < 0)
		goto done;
	nf = strlen(f);
	nl = strlen(l);
	hit = nf + nl == nw && ((!memcmp(want, f, nf) && !memcmp(want + nf, l, nl)) ||
				(!memcmp(want, l, nl) && !memcmp(want + nl, f, nf)));
done:
	free(f);
	free(l);
	return hit;
}

size_t roster_name_matches(const struct roster *r, const char *display,
			   const struct roster_student **found, size_t max)
{
	char *want = NULL;
	size_t n = 0;

	if (gr_utf8_name_key(&want, display) < 0 || !want[0])
		goto done;
	for (size_t i = 0; r && i < r->count; i++) {
		const struct roster_student *st = &r->students[i];
		if (!st->first_name[0] && !st->last_name[0])
			continue;
		if (!name_matches(want, st->first_name, st->last_name))
			continue;
		if (n < max)
			found[n] = st;
		n++;
	}
done:
	free(want);
	return n;
}

const struct roster_student *roster_find_name(const struct roster *r, const char *display)
{
	const struct roster_student *found = NULL;

	return roster_name_matches(r, display, &found, 1) == 1 ? found : NULL;
}

int roster_has(const struct roster *r, enum roster_column col)
{
	return r && (r->columns & col) != 0;
}
