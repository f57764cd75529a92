/*
 * rubric_text.c - nbgrader's checksum and the source transforms that turn an
 * instructor's cell into the student's: solution stubs, hidden tests and
 * mark schemes removed. Exactly nbgrader's line rules (split on "\n", a
 * marker is any line containing the delimiter), see docs/scoring.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader/rubric.h"

static const char CODE_STUB[] = "# YOUR CODE HERE\nraise NotImplementedError()";
static const char TEXT_STUB[] = "YOUR ANSWER HERE";

void rubric_pyfloat_repr(char out[32], double v)
{
	char tmp[40], digits[20], *e;
	int prec, exp10, decpt, nd = 0, neg = 0;

	if (v != v) {
		snprintf(out, 32, "nan");
		return;
	}
	if (v == 0) {
		snprintf(out, 32, "%s", 1 / v < 0 ? "-0.0" : "0.0");
		return;
	}
	if (v > 1.7976931348623157e308 || v < -1.7976931348623157e308) {
		snprintf(out, 32, "%s", v < 0 ? "-inf" : "inf");
		return;
	}
	/* the shortest %e precision that reads back as the same double, as repr() */
	for (prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec, v);
	e = strchr(tmp, 'e');
	exp10 = atoi(e + 1);
	*e = '\0';
	for (char *p = tmp; *p; p++) {
		if (*p == '-')
			neg = 1;
		else if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	}
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	decpt = exp10 + 1; /* value = 0.DIGITS * 10^decpt */
	if (decpt > 16 || decpt < -3) {
		/* exponent form: d[.ddd]e+XX, at least two exponent digits */
		snprintf(out, 32, "%s%c%s%.*s%c%+03d", neg ? "-" : "", digits[0], nd > 1 ? "." : "",
			 nd - 1, digits + 1, 'e', exp10);
	} else if (decpt <= 0) {
		snprintf(out, 32, "%s0.%0*d%s", neg ? "-" : "", -decpt, 0, digits);
		if (decpt == 0)
			snprintf(out, 32, "%s0.%s", neg ? "-" : "", digits);
	} else if (decpt >= nd) {
		snprintf(out, 32, "%s%s%0*d.0", neg ? "-" : "", digits, decpt - nd, 0);
		if (decpt == nd)
			snprintf(out, 32, "%s%s.0", neg ? "-" : "", digits);
	} else {
		snprintf(out, 32, "%s%.*s.%s", neg ? "-" : "", decpt, digits, digits + decpt);
	}
}

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
		rubric_pyfloat_repr(pts, points);
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
	int in = 0, first = 1, rc = 0;

	*found = 0;
	if (gr_buf_put(&b, "", 0))
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (has(p, n, begin)) {
			if (in) {
				rc = gr_err_set(err, GR_EINVAL, "nested '%s' regions", what);
				goto done;
			}
			in = 1;
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
	}
	if (in) {
		rc = gr_err_set(err, GR_EINVAL, "'%s' region without its END line", what);
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
