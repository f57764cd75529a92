/*
 * rubric_text.c - nbgrader's checksum and the source transforms that turn an
 * instructor's cell into the student's: solution stubs, hidden tests and
 * mark schemes removed. Exactly nbgrader's line rules (split on "\n", a
 * marker is any line containing the delimiter), see docs/scoring.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rubric_int.h"

static const char CODE_STUB[] = "# YOUR CODE HERE\nraise NotImplementedError()";
static const char TEXT_STUB[] = "YOUR ANSWER HERE";

void rubric_checksum(char out[33], const char *source, enum nb_cell_type type, int grade,
		     int solution, int locked, const char *grade_id, double points)
{
	static const char *const types[] = {"code", "markdown", "raw"};
	const char *t = types[type];
	size_t ls = strlen(source), lt = strlen(t), lg = grade_id ? strlen(grade_id) : 0;
	char pts[32] = "";
	char *buf, *p;

	/* nbgrader's is_locked: a solution cell never is, a grade cell always is */
	locked = solution ? 0 : grade ? 1 : locked;
	if (grade)
		gr_py_float_repr(pts, points);
	buf = malloc(ls + lt + 15 + lg + strlen(pts) + 1);
	if (!buf) {
		memset(out, '0', 32);
		out[32] = '\0';
		return;
	}
	p = buf;
	memcpy(p, source, ls), p += ls;
	memcpy(p, t, lt), p += lt;
	p += sprintf(p, "%s%s%s", grade ? "True" : "False", solution ? "True" : "False",
		     locked ? "True" : "False");
	memcpy(p, grade_id ? grade_id : "", lg), p += lg;
	p += sprintf(p, "%s", pts);
	gr_md5_hex(out, buf, (size_t)(p - buf));
	free(buf);
}

/* One output line (with the "\n" separator before it unless first). */
static int sb_line(struct gr_buf *b, int *first, const char *s, size_t n)
{
	if (!*first && gr_buf_put(b, "\n", 1))
		return GR_ENOMEM;
	*first = 0;
	return gr_buf_put(b, s, n);
}

static int has(const char *line, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(line + i, needle, k))
			return 1;
	return 0;
}

/*
 * Walk the lines of `source`; lines inside BEGIN/END regions are dropped and
 * each BEGIN line is replaced by `stub` (NULL: nothing) indented like it.
 */
static int clear_regions(char **out, int *found, const char *source, const char *begin,
			 const char *end, const char *stub, const char *what, struct gr_err *err)
{
	struct gr_buf b = {0};
	const char *p = source;
	int in = 0, first = 1, rc = 0, line = 1, opened = 0;

	*found = 0;
	if (gr_buf_put(&b, "", 0))
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (has(p, n, begin)) {
			if (in) {
				rc = gr_err_set(
				    err, GR_EINVAL,
				    "line %d: a '%s' inside the region opened on line %d "
				    "(regions cannot nest)",
				    line, what, opened);
				goto done;
			}
			in = 1;
			opened = line;
			*found = 1;
			if (stub) {
				size_t ind = 0;
				const char *s = stub;

				while (ind < n && (p[ind] == ' ' || p[ind] == '\t'))
					ind++;
				for (;;) {
					const char *snl = strchr(s, '\n');
					size_t sn = snl ? (size_t)(snl - s) : strlen(s);

					if (sb_line(&b, &first, p, ind) || gr_buf_put(&b, s, sn))
						goto nomem;
					if (!snl)
						break;
					s = snl + 1;
				}
			}
		} else if (has(p, n, end)) {
			in = 0;
		} else if (!in) {
			if (sb_line(&b, &first, p, n))
				goto nomem;
		}
		if (!nl)
			break;
		p = nl + 1;
		line++;
	}
	if (in) {
		rc = gr_err_set(err, GR_EINVAL,
				"line %d: the '%s' region is never closed (no END line)", opened,
				what);
		goto done;
	}
	*out = b.p;
	b.p = NULL;
done:
	free(b.p);
	return rc;
nomem:
	free(b.p);
	return gr_err_set(err, GR_ENOMEM, "out of memory");
}

int rubric_clear_solutions(char **out, int *found, const char *source, enum nb_cell_type type,
			   int is_solution_cell, struct gr_err *err)
{
	const char *stub = type == NB_CELL_CODE ? CODE_STUB : TEXT_STUB;
	int rc;

	rc = clear_regions(out, found, source, "BEGIN SOLUTION", "END SOLUTION", stub,
			   "BEGIN SOLUTION", err);
	if (rc)
		return rc;
	if (is_solution_cell && !*found) {
		/* a solution cell without markers is replaced whole */
		free(*out);
		*out = strdup(stub);
		if (!*out)
			return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	return 0;
}

int rubric_clear_hidden_tests(char **out, int *found, const char *source, struct gr_err *err)
{
	return clear_regions(out, found, source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", NULL,
			     "BEGIN HIDDEN TESTS", err);
}

int rubric_has_hidden_tests(const char *source)
{
	return source && strstr(source, "BEGIN HIDDEN TESTS") != NULL;
}

int rubric_clear_mark_scheme(char **out, int *found, const char *source, struct gr_err *err)
{
	return clear_regions(out, found, source, "BEGIN MARK SCHEME", "END MARK SCHEME", NULL,
			     "BEGIN MARK SCHEME", err);
}

int rubric_released_source(char **out, const struct rubric_cell *cell, struct gr_err *err)
{
	char *a = NULL, *b = NULL, *c = NULL;
	int found, rc;

	if (cell->from_public) {
		*out = strdup(cell->source);
		return *out ? 0 : gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	rc = rubric_clear_solutions(&a, &found, cell->source, cell->type, cell->solution, err);
	if (!rc)
		rc = rubric_clear_hidden_tests(&b, &found, a, err);
	if (!rc)
		rc = rubric_clear_mark_scheme(&c, &found, b, err);
	free(a);
	free(b);
	if (!rc)
		*out = c;
	return rc;
}
