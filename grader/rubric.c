/*
 * rubric.c - loading, validating and writing rubric JSON. Every rule lives
 * in one place (here) and fails with one line that names the file and the
 * field: "rubric 'ps1.json': notebooks[0].cells[2]: points must be a number >= 0".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rubric_int.h"

/* Validation context: the rubric's name and the current place. */
struct vctx {
	const char *name;
	struct gr_err *err;
	int is_public;
};

static int bad(struct vctx *v, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(struct vctx *v, const char *where, const char *fmt, ...)
{
	char msg[GR_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (where && *where)
		return gr_err_set(v->err, GR_EINVAL, "rubric '%s': %s: %s", v->name, where, msg);
	return gr_err_set(v->err, GR_EINVAL, "rubric '%s': %s", v->name, msg);
}

/* Reject keys outside `allowed` (typos must not silently drop settings). */
static int only_keys(struct vctx *v, const char *where, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *val;

	json_object_foreach(obj, key, val)
	{
		int ok = 0;

		for (size_t i = 0; allowed[i]; i++)
			ok |= !strcmp(key, allowed[i]);
		if (!ok)
			return bad(v, where, "unknown field '%s'", key);
	}
	return 0;
}

int rubric_is_grade_id(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static int is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* A relative path that stays below its folder: no "/" start, no ".." part. */
static int is_safe_relpath(const char *s)
{
	const char *p = s;

	if (!*s || *s == '/')
		return 0;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!slash)
			break;
		p = slash + 1;
	}
	return 1;
}

static int is_module_name(const char *s)
{
	int start = 1;

	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (start)
				return 0;
			start = 1;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
		      (!start && *s >= '0' && *s <= '9')))
			return 0;
		start = 0;
	}
	return !start;
}

/* An optional boolean field; *out = 0 when absent. */
static int get_bool(struct vctx *v, const char *where, json_t *obj, const char *key, int *out)
{
	json_t *x = json_object_get(obj, key);

	*out = 0;
	if (!x)
		return 0;
	if (!json_is_boolean(x))
		return bad(v, where, "%s must be true or false", key);
	*out = json_is_true(x);
	return 0;
}

/* An optional number field with a minimum (and > min when strict). */
static int get_number(struct vctx *v, const char *where, json_t *obj, const char *key, double min,
		      int strict, double *out)
{
	json_t *x = json_object_get(obj, key);
	double d;

	if (!x)
		return 0;
	d = json_number_value(x);
	if (!json_is_number(x) || d != d || d < min || (strict && d == min) || d > 1e300)
		return bad(v, where, "%s must be a number %s %g", key, strict ? ">" : ">=", min);
	*out = d;
	return 0;
}

static const char *const CELL_KEYS[] = {
    "cell_type", "id",	   "source", "metadata", "attachments", "grade_id",	"grade",
    "solution",	 "locked", "task",   "points",	 "checksum",	"hidden_tests", NULL};

/* The cell's type, source, id and metadata. */
static int cell_basics(struct vctx *v, const char *where, json_t *c, struct rubric_cell *rc)
{
	const char *type = json_string_value(json_object_get(c, "cell_type"));
	json_t *x;

	if (!type)
		return bad(v, where, "cell_type must be \"code\", \"markdown\" or \"raw\"");
	if (!strcmp(type, "code"))
		rc->type = NB_CELL_CODE;
	else if (!strcmp(type, "markdown"))
		rc->type = NB_CELL_MARKDOWN;
	else if (!strcmp(type, "raw"))
		rc->type = NB_CELL_RAW;
	else
		return bad(v, where, "cell_type must be \"code\", \"markdown\" or \"raw\"");
	rc->source = json_string_value(json_object_get(c, "source"));
	if (!rc->source)
		return bad(v, where, "source must be a string");
	x = json_object_get(c, "id");
	if (x && !json_is_string(x))
		return bad(v, where, "id must be a string");
	rc->id = json_string_value(x);
	x = json_object_get(c, "metadata");
	if (x && !json_is_object(x))
		return bad(v, where, "metadata must be an object");
	if (x && json_object_get(x, "nbgrader"))
		return bad(v, where,
			   "metadata.nbgrader is not used here: put grade_id, points, "
			   "... on the cell itself");
	return 0;
}

/* The cell's roles (grade, solution, ...), grade_id and points, and the kind they make. */
static int cell_roles(struct vctx *v, const char *where, json_t *c, struct rubric_cell *rc)
{
	json_t *x;
	int role;

	if (get_bool(v, where, c, "grade", &rc->grade) ||
	    get_bool(v, where, c, "solution", &rc->solution) ||
	    get_bool(v, where, c, "locked", &rc->locked) ||
	    get_bool(v, where, c, "task", &rc->task) ||
	    get_bool(v, where, c, "hidden_tests", &rc->hidden_tests))
		return GR_EINVAL;
	x = json_object_get(c, "grade_id");
	if (x && (!json_is_string(x) || !rubric_is_grade_id(json_string_value(x))))
		return bad(v, where, "grade_id must be letters, digits, '_' or '-'");
	rc->grade_id = json_string_value(x);
	role = rc->grade || rc->solution || rc->locked || rc->task;
	if (role && !rc->grade_id)
		return bad(v, where, "a grade, solution, locked or task cell needs a grade_id");
	if (!role && rc->grade_id)
		return bad(v, where,
			   "grade_id '%s' on a cell that is neither grade, solution, "
			   "locked nor task",
			   rc->grade_id);
	x = json_object_get(c, "points");
	if (x && !rc->grade && !rc->task)
		return bad(v, where, "points only belong on grade or task cells");
	if ((rc->grade || rc->task) && !x)
		return bad(v, where, "a grade or task cell needs points");
	if (get_number(v, where, c, "points", 0, 0, &rc->points))
		return GR_EINVAL;
	if (rc->task) {
		if (rc->type != NB_CELL_MARKDOWN)
			return bad(v, where, "task cells must be markdown");
		if (rc->grade || rc->solution)
			return bad(v, where, "a task cell cannot also be a grade or solution cell");
	} else if (rc->type == NB_CELL_MARKDOWN && rc->grade != rc->solution) {
		return bad(v, where, "a markdown cell must be both grade and solution, or neither");
	}
	if (rc->task)
		rc->kind = RUBRIC_TASK;
	else if (rc->grade && rc->solution)
		rc->kind = RUBRIC_MANUAL;
	else if (rc->grade)
		rc->kind = RUBRIC_TESTS;
	else if (rc->solution)
		rc->kind = RUBRIC_ANSWER;
	else if (rc->locked)
		rc->kind = RUBRIC_READONLY;
	else
		rc->kind = RUBRIC_PLAIN;
	return 0;
}

/*
 * The regions (solutions, hidden tests, mark schemes) must be well formed
 * and where nbgrader allows them. *cleared: the source with its solutions
 * cleared (heap), what the checksum is computed on.
 */
static int cell_regions(struct vctx *v, const char *where, struct rubric_cell *rc, char **cleared)
{
	char *tmp = NULL;
	int found, hidden, rc_;

	rc->from_public = v->is_public;
	rc_ = rubric_clear_solutions(cleared, &found, rc->source, rc->type,
				     rc->solution && !v->is_public, v->err);
	if (rc_)
		return bad(v, where, "%s", v->err ? v->err->msg : "bad solution region");
	if (found && (!rc->solution || v->is_public))
		return bad(v, where,
			   v->is_public
			       ? "a public rubric must not hold solutions"
			       : "a solution region in a cell that is not a solution cell");
	rc_ = rubric_clear_hidden_tests(&tmp, &hidden, rc->source, v->err);
	free(tmp);
	if (rc_)
		return bad(v, where, "%s", v->err ? v->err->msg : "bad hidden tests");
	if (hidden && (!rc->grade || v->is_public))
		return bad(v, where,
			   v->is_public ? "a public rubric must not hold hidden tests"
					: "hidden tests in a cell that is not a grade cell");
	rc_ = rubric_clear_mark_scheme(&tmp, &hidden, rc->source, v->err);
	free(tmp);
	if (rc_)
		return bad(v, where, "%s", v->err ? v->err->msg : "bad mark scheme");
	return 0;
}

/* A given checksum must be the one computed (rc->checksum). */
static int cell_checksum(struct vctx *v, const char *where, json_t *c, const struct rubric_cell *rc,
			 int role)
{
	json_t *x = json_object_get(c, "checksum");

	if (!x)
		return 0;
	if (!json_is_string(x) || !is_hex(json_string_value(x), 32))
		return bad(v, where, "checksum must be 32 lowercase hex digits");
	if (!role)
		return bad(v, where, "checksum on a cell without a grade_id");
	if (strcmp(json_string_value(x), rc->checksum))
		return bad(v, where,
			   "checksum does not match the cell (expected %s; remove "
			   "it to have it computed)",
			   rc->checksum);
	return 0;
}

static int load_cell(struct vctx *v, const char *where, json_t *c, struct rubric_cell *rc)
{
	char *cleared = NULL;
	int rc_, role;

	if (!json_is_object(c))
		return bad(v, where, "must be an object");
	if (only_keys(v, where, c, CELL_KEYS))
		return GR_EINVAL;
	rc->json = c;
	if ((rc_ = cell_basics(v, where, c, rc)) || (rc_ = cell_roles(v, where, c, rc)))
		return rc_;
	role = rc->grade || rc->solution || rc->locked || rc->task;
	if ((rc_ = cell_regions(v, where, rc, &cleared))) {
		free(cleared);
		return rc_;
	}
	if (role) {
		rubric_checksum(rc->checksum, cleared, rc->type, rc->grade, rc->solution,
				rc->locked, rc->grade_id, rc->points);
	}
	free(cleared);
	return cell_checksum(v, where, c, rc, role);
}

static const char *const NB_KEYS[] = {"name",		"cells",	 "metadata", "nbformat",
				      "nbformat_minor", "source_sha256", NULL};

static int load_notebook(struct vctx *v, size_t i, json_t *n, struct rubric_notebook *nb,
			 struct rubric *r)
{
	char where[96];
	json_t *cells, *x;
	size_t j;

	snprintf(where, sizeof(where), "notebooks[%zu]", i);
	if (!json_is_object(n))
		return bad(v, where, "must be an object");
	if (only_keys(v, where, n, NB_KEYS))
		return GR_EINVAL;
	nb->json = n;
	nb->name = json_string_value(json_object_get(n, "name"));
	if (!nb->name || !is_safe_relpath(nb->name) || strlen(nb->name) < 7 ||
	    strcmp(nb->name + strlen(nb->name) - 6, ".ipynb"))
		return bad(v, where, "name must be a relative path ending in .ipynb");
	for (j = 0; j < i; j++)
		if (!strcmp(r->notebooks[j].name, nb->name))
			return bad(v, where, "notebook '%s' listed twice", nb->name);
	x = json_object_get(n, "metadata");
	if (x && !json_is_object(x))
		return bad(v, where, "metadata must be an object");
	x = json_object_get(n, "source_sha256");
	if (x && (!json_is_string(x) || !is_hex(json_string_value(x), 64)))
		return bad(v, where, "source_sha256 must be 64 lowercase hex digits");
	x = json_object_get(n, "nbformat");
	if (x && (!json_is_integer(x) || json_integer_value(x) != 4))
		return bad(v, where, "nbformat must be 4");
	x = json_object_get(n, "nbformat_minor");
	if (x && (!json_is_integer(x) || json_integer_value(x) < 0))
		return bad(v, where, "nbformat_minor must be an integer >= 0");
	cells = json_object_get(n, "cells");
	if (!json_is_array(cells))
		return bad(v, where, "cells must be an array");
	nb->ncells = json_array_size(cells);
	nb->cells = calloc(nb->ncells ? nb->ncells : 1, sizeof(*nb->cells));
	if (!nb->cells)
		return gr_err_set(v->err, GR_ENOMEM, "out of memory");
	for (j = 0; j < nb->ncells; j++) {
		struct rubric_cell *c = &nb->cells[j];

		snprintf(where, sizeof(where), "notebooks[%zu].cells[%zu]", i, j);
		if (load_cell(v, where, json_array_get(cells, j), c))
			return GR_EINVAL;
		if (c->grade_id)
			for (size_t k = 0; k < j; k++)
				if (nb->cells[k].grade_id &&
				    !strcmp(nb->cells[k].grade_id, c->grade_id))
					return bad(v, where,
						   "duplicate grade_id '%s' (also cells[%zu])",
						   c->grade_id, k);
		if (c->grade || c->task)
			nb->max_points += c->points;
	}
	return 0;
}

static int load_late(struct vctx *v, json_t *lp, struct score_late_policy *late)
{
	static const char *const keys[] = {"method", "percent", "per", "cap", NULL};
	const char *m, *per;

	memset(late, 0, sizeof(*late));
	late->cap = 100;
	if (!lp)
		return 0;
	if (!json_is_object(lp))
		return bad(v, "late_policy", "must be an object");
	if (only_keys(v, "late_policy", lp, keys))
		return GR_EINVAL;
	m = json_string_value(json_object_get(lp, "method"));
	if (!m)
		return bad(v, "late_policy", "method must be \"none\", \"zero\" or \"percent\"");
	if (!strcmp(m, "none") || !strcmp(m, "zero")) {
		late->method = !strcmp(m, "zero") ? SCORE_LATE_ZERO : SCORE_LATE_NONE;
		if (json_object_size(lp) != 1)
			return bad(v, "late_policy", "method \"%s\" takes no other field", m);
		return 0;
	}
	if (strcmp(m, "percent"))
		return bad(v, "late_policy", "method must be \"none\", \"zero\" or \"percent\"");
	late->method = SCORE_LATE_PERCENT;
	if (!json_object_get(lp, "percent"))
		return bad(v, "late_policy", "method \"percent\" needs percent");
	if (get_number(v, "late_policy", lp, "percent", 0, 1, &late->percent) ||
	    get_number(v, "late_policy", lp, "cap", 0, 1, &late->cap))
		return GR_EINVAL;
	if (late->percent > 100 || late->cap > 100)
		return bad(v, "late_policy", "percent and cap must be at most 100");
	per = json_string_value(json_object_get(lp, "per"));
	if (!per || (strcmp(per, "hour") && strcmp(per, "day")))
		return bad(v, "late_policy", "per must be \"hour\" or \"day\"");
	late->period = !strcmp(per, "hour") ? 3600 : 86400;
	return 0;
}

static int load_limits(struct vctx *v, json_t *l, struct rubric_limits *lim)
{
	static const char *const keys[] = {"cell_timeout", "notebook_timeout", "memory_mb",
					   "processes",	   "output_bytes",     NULL};

	lim->cell_timeout = 30;
	lim->notebook_timeout = 600;
	lim->memory_mb = 4096;
	lim->processes = 64;
	lim->output_bytes = 1 << 20;
	if (!l)
		return 0;
	if (!json_is_object(l))
		return bad(v, "limits", "must be an object");
	if (only_keys(v, "limits", l, keys))
		return GR_EINVAL;
	if (get_number(v, "limits", l, "cell_timeout", 0, 1, &lim->cell_timeout) ||
	    get_number(v, "limits", l, "notebook_timeout", 0, 1, &lim->notebook_timeout) ||
	    get_number(v, "limits", l, "memory_mb", 0, 1, &lim->memory_mb) ||
	    get_number(v, "limits", l, "processes", 0, 1, &lim->processes) ||
	    get_number(v, "limits", l, "output_bytes", 0, 1, &lim->output_bytes))
		return GR_EINVAL;
	return 0;
}

static const char *const TOP_KEYS[] = {"grader_rubric", "assignment", "duedate", "late_policy",
				       "extensions",	"limits",     "preload", "seed",
				       "allow_ctypes",	"allow_jit",  "public",	 "files",
				       "notebooks",	NULL};

/* "extensions": student -> a duration added to the due date. */
static int load_extensions(struct vctx *v, json_t *x, struct rubric *r)
{
	const char *key;
	json_t *val;

	if (x && !json_is_object(x))
		return bad(v, "extensions", "must be an object of student: duration");
	if (!x)
		return 0;
	r->extensions = calloc(json_object_size(x) + 1, sizeof(*r->extensions));
	if (!r->extensions)
		return gr_err_set(v->err, GR_ENOMEM, "out of memory");
	json_object_foreach(x, key, val)
	{
		struct gr_err e = {0};
		struct rubric_extension *ext = &r->extensions[r->nextensions];

		if (!json_is_string(val) ||
		    score_parse_duration(&ext->seconds, json_string_value(val), &e))
			return bad(v, "extensions", "'%s': %s", key,
				   e.msg[0] ? e.msg : "must be a duration such as \"2d\"");
		ext->student = key;
		r->nextensions++;
	}
	return 0;
}

/* How the notebooks run: "preload", "seed", "allow_ctypes", "allow_jit". */
static int load_run(struct vctx *v, json_t *root, struct rubric *r)
{
	json_t *x = json_object_get(root, "preload");

	if (x && !json_is_array(x))
		return bad(v, "preload", "must be an array of module names");
	r->npreload = json_array_size(x);
	r->preload = calloc(r->npreload + 1, sizeof(*r->preload));
	if (!r->preload)
		return gr_err_set(v->err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->npreload; i++) {
		r->preload[i] = json_string_value(json_array_get(x, i));
		if (!r->preload[i] || !is_module_name(r->preload[i]))
			return bad(v, "preload", "[%zu] must be a module name such as \"numpy\"",
				   i);
	}
	x = json_object_get(root, "seed");
	if (x && (!json_is_integer(x) || json_integer_value(x) < 0 ||
		  json_integer_value(x) > 4294967295LL))
		return bad(v, "seed", "must be an integer from 0 to 4294967295");
	r->seed = x ? json_integer_value(x) : 0;
	x = json_object_get(root, "allow_ctypes");
	if (x && !json_is_boolean(x))
		return bad(v, "allow_ctypes", "must be true or false");
	r->allow_ctypes = json_is_true(x);
	x = json_object_get(root, "allow_jit");
	if (x && !json_is_boolean(x))
		return bad(v, "allow_jit", "must be true or false");
	r->allow_jit = json_is_true(x);
	return 0;
}

/* "files": the files copied next to each notebook, each with its checksum. */
static int load_files(struct vctx *v, json_t *x, struct rubric *r)
{
	static const char *const keys[] = {"path", "target", "sha256", NULL};

	if (x && !json_is_array(x))
		return bad(v, "files", "must be an array");
	r->nfiles = json_array_size(x);
	r->files = calloc(r->nfiles + 1, sizeof(*r->files));
	if (!r->files)
		return gr_err_set(v->err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->nfiles; i++) {
		json_t *f = json_array_get(x, i);
		struct rubric_file *rf = &r->files[i];
		char where[48];

		snprintf(where, sizeof(where), "files[%zu]", i);
		if (!json_is_object(f))
			return bad(v, where, "must be an object");
		if (only_keys(v, where, f, keys))
			return GR_EINVAL;
		rf->path = json_string_value(json_object_get(f, "path"));
		rf->target = json_string_value(json_object_get(f, "target"));
		rf->sha256 = json_string_value(json_object_get(f, "sha256"));
		if (!rf->path || !*rf->path || rf->path[0] == '/')
			return bad(v, where, "path must be relative to the rubric's folder");
		if (!rf->target || !is_safe_relpath(rf->target))
			return bad(v, where, "target must be a relative path without '..'");
		if (!rf->sha256 || !is_hex(rf->sha256, 64))
			return bad(v, where, "sha256 must be 64 lowercase hex digits");
		for (size_t k = 0; k < i; k++)
			if (!strcmp(r->files[k].target, rf->target))
				return bad(v, where, "target '%s' listed twice", rf->target);
	}
	return 0;
}

/* "grader_rubric", "assignment", "duedate". */
static int load_head(struct vctx *v, json_t *root, struct rubric *r)
{
	json_t *x = json_object_get(root, "grader_rubric");

	if (!json_is_integer(x) || json_integer_value(x) != RUBRIC_VERSION)
		return bad(v, "grader_rubric", "must be %d (the rubric format version)",
			   RUBRIC_VERSION);
	r->assignment = json_string_value(json_object_get(root, "assignment"));
	if (!r->assignment || !rubric_is_grade_id(r->assignment))
		return bad(v, "assignment", "must be a name of letters, digits, '_' or '-'");
	x = json_object_get(root, "duedate");
	if (x && !json_is_null(x)) {
		struct gr_err e = {0};

		if (!json_is_string(x))
			return bad(v, "duedate", "must be an ISO 8601 time with a zone, or null");
		r->duedate_text = json_string_value(x);
		if (gr_time_parse(&r->duedate.sec, &r->duedate.usec, r->duedate_text, 0, &e))
			return bad(v, "duedate", "%s", e.msg);
	}
	return 0;
}

static int validate(struct vctx *v, struct rubric *r)
{
	json_t *root = r->root, *x;
	int rc;

	if (!json_is_object(root))
		return bad(v, NULL, "the top level must be an object");
	if (only_keys(v, NULL, root, TOP_KEYS))
		return GR_EINVAL;
	x = json_object_get(root, "public");
	if (x && !json_is_boolean(x))
		return bad(v, "public", "must be true or false");
	r->is_public = v->is_public = json_is_true(x);
	if ((rc = load_head(v, root, r)))
		return rc;
	if (load_late(v, json_object_get(root, "late_policy"), &r->late))
		return GR_EINVAL;
	if ((rc = load_extensions(v, json_object_get(root, "extensions"), r)))
		return rc;
	if (load_limits(v, json_object_get(root, "limits"), &r->limits))
		return GR_EINVAL;
	if ((rc = load_run(v, root, r)) || (rc = load_files(v, json_object_get(root, "files"), r)))
		return rc;
	x = json_object_get(root, "notebooks");
	if (!json_is_array(x) || json_array_size(x) == 0)
		return bad(v, "notebooks", "must be a non-empty array");
	r->notebooks = calloc(json_array_size(x), sizeof(*r->notebooks));
	if (!r->notebooks)
		return gr_err_set(v->err, GR_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(x); i++) {
		r->nnotebooks = i + 1;
		if (load_notebook(v, i, json_array_get(x, i), &r->notebooks[i], r))
			return GR_EINVAL;
	}
	return 0;
}

void rubric_free(struct rubric *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nnotebooks; i++)
		free(r->notebooks[i].cells);
	free(r->notebooks);
	free(r->files);
	free(r->preload);
	free(r->extensions);
	json_decref(r->root);
	free(r->path);
	free(r->dir);
	free(r);
}

int rubric_from_json(struct rubric **out, json_t *root, const char *name, struct gr_err *err)
{
	struct rubric *r;
	struct vctx v = {name, err, 0};
	char *slash;
	int rc;

	r = calloc(1, sizeof(*r));
	if (!r)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	r->root = json_incref(root);
	r->path = strdup(name);
	r->dir = strdup(name);
	if (!r->path || !r->dir) {
		rubric_free(r);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	slash = strrchr(r->dir, '/');
	if (slash == r->dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(r->dir, ".");
	rc = validate(&v, r);
	if (rc) {
		rubric_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int rubric_parse(struct rubric **out, const char *data, size_t len, const char *name,
		 struct gr_err *err)
{
	json_error_t je;
	json_t *root;
	int rc;

	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return gr_err_set(err, GR_EINVAL, "rubric '%s': line %d: %s", name, je.line,
				  je.text);
	rc = rubric_from_json(out, root, name, err);
	json_decref(root);
	return rc;
}

int rubric_load_sha(struct rubric **out, char sha[65], const char *path, struct gr_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc = gr_read_file(&data, &len, path, RUBRIC_MAX_FILE, err);

	if (!rc && sha)
		gr_sha256_hex(sha, data, len);
	if (!rc && out)
		rc = rubric_parse(out, data, len, path, err);
	free(data);
	return rc;
}

int rubric_load(struct rubric **out, const char *path, struct gr_err *err)
{
	return rubric_load_sha(out, NULL, path, err);
}

int rubric_dump(char **out, const struct rubric *r, struct gr_err *err)
{
	char *s = json_dumps(r->root, JSON_INDENT(1));
	char *t;
	size_t n;

	if (!s)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	n = strlen(s);
	t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	*out = t;
	return 0;
}

int rubric_write_file(const struct rubric *r, const char *path, struct gr_err *err)
{
	char *s = NULL;
	int rc = rubric_dump(&s, r, err);

	if (!rc)
		rc = gr_write_file_atomic(path, s, strlen(s), err);
	free(s);
	return rc;
}

const struct rubric_notebook *rubric_find_notebook(const struct rubric *r, const char *name)
{
	for (size_t i = 0; i < r->nnotebooks; i++)
		if (!strcmp(r->notebooks[i].name, name))
			return &r->notebooks[i];
	return NULL;
}

double rubric_extension_for(const struct rubric *r, const char *student)
{
	for (size_t i = 0; i < r->nextensions; i++)
		if (!strcmp(r->extensions[i].student, student))
			return r->extensions[i].seconds;
	return 0;
}
