/*
 * rubric_import.c - build a rubric from nbgrader instructor ("source")
 * notebooks, checking them with nbgrader's rules first so that mistakes are
 * reported against the notebook and cell the instructor edits.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader/rubric.h"

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Absolute, symlink-free folder of `path` (the file itself may not exist). */
static char *abs_dir_of(const char *path)
{
	char *copy = strdup(path), *slash, *res;

	if (!copy)
		return NULL;
	slash = strrchr(copy, '/');
	if (slash == copy)
		copy[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(copy, ".");
	res = realpath(copy, NULL);
	free(copy);
	return res;
}

/* Relative path from folder `from` to `to` (both absolute, normalized). */
static char *relpath(const char *from, const char *to)
{
	size_t i = 0, common = 0, ups = 0, len;
	const char *rest;
	char *out;

	/* the common prefix, whole components only */
	while (from[i] && from[i] == to[i]) {
		i++;
		if (from[i - 1] == '/')
			common = i;
	}
	if (!from[i] && (to[i] == '/' || !to[i]))
		common = i;
	for (size_t k = common; from[k]; k++)
		if (from[k] != '/' && (k == common || from[k - 1] == '/'))
			ups++;
	rest = to + common;
	while (*rest == '/')
		rest++;
	len = ups * 3 + strlen(rest) + 2;
	out = malloc(len);
	if (!out)
		return NULL;
	out[0] = '\0';
	for (i = 0; i < ups; i++)
		strcat(out, "../");
	strcat(out, rest);
	return out;
}

#define CELLF(nbname, idx, gid)                                                                    \
	nbname, idx + 1, gid ? " (grade_id '" : "", gid ? gid : "", gid ? "')" : ""

/* "'nb': cell N (grade_id 'g'): REASON", the reason being err's own message when rc != 0. */
static int region_error(struct gr_err *err, int rc, const char *nbname, size_t idx, const char *gid,
			const char *otherwise)
{
	char why[GR_ERR_MAX];

	snprintf(why, sizeof(why), "%s", rc || !otherwise ? err->msg : otherwise);
	return gr_err_set(err, GR_EINVAL, "'%s': cell %zu%s%s%s: %s", CELLF(nbname, idx, gid), why);
}

/* nbgrader's rules for one source cell; messages name notebook and cell. */
static int check_cell(const char *nbname, size_t idx, const struct nb_cell *c, struct gr_err *err)
{
	const struct nb_grader_meta *m = &c->nbgrader;
	const char *gid = m->grade_id;
	char *tmp = NULL;
	int found = 0, rc;

	if (m->present && m->schema_version != 3 && m->schema_version != 2)
		return gr_err_set(
		    err, GR_EINVAL,
		    "'%s': cell %zu%s%s%s: nbgrader schema_version %d is not supported "
		    "(3 expected: open and save it with nbgrader 0.9 or later)",
		    CELLF(nbname, idx, gid), m->schema_version);
	if ((m->grade || m->solution || m->locked || m->task) && !rubric_is_grade_id(gid))
		return gr_err_set(
		    err, GR_EINVAL,
		    "'%s': cell %zu%s%s%s: nbgrader cells need a grade_id of letters, "
		    "digits, '_' or '-'",
		    CELLF(nbname, idx, gid));
	if (m->grade && !m->has_points)
		return gr_err_set(err, GR_EINVAL, "'%s': cell %zu%s%s%s: grade cell has no points",
				  CELLF(nbname, idx, gid));
	if (m->task && c->type != NB_CELL_MARKDOWN)
		return gr_err_set(err, GR_EINVAL,
				  "'%s': cell %zu%s%s%s: task cells must be markdown",
				  CELLF(nbname, idx, gid));
	if (m->task && (m->grade || m->solution))
		return gr_err_set(
		    err, GR_EINVAL,
		    "'%s': cell %zu%s%s%s: a task cell cannot be a grade or solution cell",
		    CELLF(nbname, idx, gid));
	if (!m->task && c->type == NB_CELL_MARKDOWN && m->grade != m->solution)
		return gr_err_set(err, GR_EINVAL,
				  "'%s': cell %zu%s%s%s: a markdown cell must be both grade and "
				  "solution, or neither",
				  CELLF(nbname, idx, gid));
	/* the reason is copied out first: it becomes part of the message in the same err */
	rc = rubric_clear_solutions(&tmp, &found, c->source, c->type, 0, err);
	free(tmp);
	tmp = NULL;
	if (rc || (found && !m->solution))
		return region_error(err, rc, nbname, idx, gid,
				    "solution region in a cell that is not a solution cell");
	rc = rubric_clear_hidden_tests(&tmp, &found, c->source, err);
	free(tmp);
	tmp = NULL;
	if (rc || (found && !m->grade))
		return region_error(err, rc, nbname, idx, gid,
				    "hidden tests in a cell that is not a grade cell");
	rc = rubric_clear_mark_scheme(&tmp, &found, c->source, err);
	free(tmp);
	if (rc)
		return region_error(err, rc, nbname, idx, gid, NULL);
	return 0;
}

/* The rubric's JSON for one source cell. */
static int cell_json(json_t **out, const struct nb_cell *c)
{
	const struct nb_grader_meta *m = &c->nbgrader;
	json_t *j = json_object(), *md, *att;
	int role = m->grade || m->solution || m->locked || m->task, bad = !j;

	if (!j)
		return GR_ENOMEM;
	bad |= json_object_set_new(j, "cell_type", json_string(nb_cell_type_name(c->type)));
	if (c->id)
		bad |= json_object_set_new(j, "id", json_string(c->id));
	bad |= json_object_set_new(j, "source", json_string(c->source));
	md = json_deep_copy(json_object_get(c->json, "metadata"));
	if (md) {
		json_object_del(md, "nbgrader");
		if (json_object_size(md))
			bad |= json_object_set_new(j, "metadata", md);
		else
			json_decref(md);
	}
	att = json_object_get(c->json, "attachments");
	if (att)
		bad |= json_object_set(j, "attachments", att);
	if (role) {
		bad |= json_object_set_new(j, "grade_id", json_string(m->grade_id));
		bad |= json_object_set_new(j, "grade", json_boolean(m->grade));
		bad |= json_object_set_new(j, "solution", json_boolean(m->solution));
		bad |= json_object_set_new(j, "locked", json_boolean(m->locked));
		/* no "task" key where the instructor's cell had none: nbgrader adds none */
		if (m->task ||
		    json_object_get(
			json_object_get(json_object_get(c->json, "metadata"), "nbgrader"), "task"))
			bad |= json_object_set_new(j, "task", json_boolean(m->task));
		if (m->grade || m->task) {
			double p = m->has_points ? m->points : 0;

			bad |= json_object_set_new(j, "points",
						   p == (double)(json_int_t)p
						       ? json_integer((json_int_t)p)
						       : json_real(p));
		}
	}
	if (bad) {
		json_decref(j);
		return GR_ENOMEM;
	}
	*out = j;
	return 0;
}

static int import_notebook(json_t **out, const char *path, struct gr_err *err)
{
	struct nb_notebook *nb = NULL;
	json_t *j = NULL, *cells = NULL, *md;
	const char *name = base_name(path);
	char sha[65];
	int rc;

	if ((rc = nb_read_file(&nb, path, err)))
		return rc;
	if (nb->from_script) {
		rc = gr_err_set(err, GR_EINVAL, "'%s': a source notebook must be an .ipynb file",
				path);
		goto done;
	}
	if ((rc = gr_sha256_file(sha, path, err)))
		goto done;
	for (size_t i = 0; i < nb->ncells; i++) {
		if ((rc = check_cell(name, i, &nb->cells[i], err)))
			goto done;
		for (size_t k = 0; k < i && nb->cells[i].nbgrader.grade_id; k++) {
			const char *a = nb->cells[k].nbgrader.grade_id,
				   *b = nb->cells[i].nbgrader.grade_id;
			const struct nb_grader_meta *mi = &nb->cells[i].nbgrader,
						    *mk = &nb->cells[k].nbgrader;

			if (a && !strcmp(a, b) &&
			    (mi->grade || mi->solution || mi->locked || mi->task) &&
			    (mk->grade || mk->solution || mk->locked || mk->task)) {
				rc = gr_err_set(
				    err, GR_EINVAL,
				    "'%s': cell %zu: duplicate grade_id '%s' (also cell %zu)", name,
				    i + 1, b, k + 1);
				goto done;
			}
		}
	}
	j = json_object();
	cells = json_array();
	if (!j || !cells)
		goto nomem;
	for (size_t i = 0; i < nb->ncells; i++) {
		json_t *c = NULL;

		if (cell_json(&c, &nb->cells[i]) || json_array_append_new(cells, c))
			goto nomem;
	}
	md = json_deep_copy(json_object_get(nb->root, "metadata"));
	if (md)
		json_object_del(md, "celltoolbar");
	if (json_object_set_new(j, "name", json_string(name)) ||
	    json_object_set_new(j, "source_sha256", json_string(sha)) ||
	    json_object_set_new(j, "nbformat", json_integer(4)) ||
	    json_object_set_new(j, "nbformat_minor", json_integer(nb->nbformat_minor)) ||
	    json_object_set_new(j, "metadata", md ? md : json_object()) ||
	    json_object_set(j, "cells", cells))
		goto nomem;
	*out = j;
	j = NULL;
	goto done;
nomem:
	rc = gr_err_set(err, GR_ENOMEM, "'%s': out of memory", path);
done:
	json_decref(cells);
	json_decref(j);
	nb_free(nb);
	return rc;
}

/* Whole numbers as JSON integers (rubrics are read by people). */
static json_t *num(double v)
{
	if (v == (double)(json_int_t)v && v < 9e15 && v > -9e15)
		return json_integer((json_int_t)v);
	return json_real(v);
}

int rubric_late_policy_parse(json_t **out, const char *text, struct gr_err *err)
{
	double pct = 0, cap = 100;
	char unit[8] = "", *end;
	const char *p = text;

	if (!strcmp(text, "none") || !strcmp(text, "zero")) {
		*out = json_pack("{s:s}", "method", text);
		return *out ? 0 : gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	pct = strtod(p, &end);
	if (end == p)
		goto bad;
	p = end;
	if (*p == '%')
		p++;
	if (*p++ != '/')
		goto bad;
	if (!strncmp(p, "hour", 4))
		strcpy(unit, "hour"), p += 4;
	else if (!strncmp(p, "day", 3))
		strcpy(unit, "day"), p += 3;
	else
		goto bad;
	if (!strncmp(p, ",cap=", 5)) {
		p += 5;
		cap = strtod(p, &end);
		if (end == p)
			goto bad;
		p = end;
		if (*p == '%')
			p++;
	}
	if (*p || !(pct > 0) || pct > 100 || !(cap > 0) || cap > 100)
		goto bad;
	*out = json_pack("{s:s, s:o, s:s, s:o}", "method", "percent", "percent", num(pct), "per",
			 unit, "cap", num(cap));
	return *out ? 0 : gr_err_set(err, GR_ENOMEM, "out of memory");
bad:
	return gr_err_set(
	    err, GR_EINVAL,
	    "invalid late policy '%s': expected none, zero or PCT%%/hour|day[,cap=PCT%%] "
	    "(e.g. 10%%/day,cap=50%%)",
	    text);
}

static int add_files(json_t *root, const struct rubric_import_opts *o, struct gr_err *err)
{
	char *outdir = NULL, *srcdir = NULL;
	json_t *files = json_array();
	int rc = 0;

	if (!files)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	outdir = abs_dir_of(o->output ? o->output : "./x");
	srcdir = abs_dir_of(o->sources[0]);
	if (!outdir || !srcdir) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot resolve the folder of '%s'",
				!outdir && o->output ? o->output : o->sources[0]);
		goto done;
	}
	for (size_t i = 0; i < o->ndata; i++) {
		char sha[65], *abs = realpath(o->data[i], NULL), *rel = NULL, *target = NULL;
		size_t sl = strlen(srcdir);

		if (!abs) {
			rc = gr_err_sys(err, GR_ENOTFOUND, errno, "cannot open data file '%s'",
					o->data[i]);
			goto done;
		}
		if ((rc = gr_sha256_file(sha, abs, err))) {
			free(abs);
			goto done;
		}
		rel = relpath(outdir, abs);
		/* beside the notebook: keep the layout below the source folder */
		if (!strncmp(abs, srcdir, sl) && abs[sl] == '/')
			target = strdup(abs + sl + 1);
		else
			target = strdup(base_name(abs));
		free(abs);
		if (!rel || !target ||
		    json_array_append_new(files, json_pack("{s:s, s:s, s:s}", "path", rel, "target",
							   target, "sha256", sha))) {
			free(rel);
			free(target);
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
			goto done;
		}
		free(rel);
		free(target);
	}
	if (json_object_set(root, "files", files))
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
done:
	json_decref(files);
	free(outdir);
	free(srcdir);
	return rc;
}

int rubric_import(struct rubric **out, const struct rubric_import_opts *o, struct gr_err *err)
{
	json_t *root = NULL, *nbs = NULL, *x = NULL;
	const struct rubric_limits *l = &o->limits;
	int rc = 0;

	if (!o->nsources)
		return gr_err_set(err, GR_EINVAL, "no source notebook given");
	if (!o->assignment || !rubric_is_grade_id(o->assignment))
		return gr_err_set(err, GR_EINVAL,
				  "invalid assignment name '%s': use letters, digits, '_' or '-'",
				  o->assignment ? o->assignment : "");
	root = json_object();
	nbs = json_array();
	if (!root || !nbs)
		goto nomem;
	if (json_object_set_new(root, "grader_rubric", json_integer(RUBRIC_VERSION)) ||
	    json_object_set_new(root, "assignment", json_string(o->assignment)))
		goto nomem;
	if (o->duedate) {
		int64_t t;

		if ((rc = gr_time_parse(&t, NULL, o->duedate, 0, err)))
			goto done;
		if (json_object_set_new(root, "duedate", json_string(o->duedate)))
			goto nomem;
	} else if (json_object_set_new(root, "duedate", json_null())) {
		goto nomem;
	}
	if ((rc = rubric_late_policy_parse(&x, o->late_policy ? o->late_policy : "none", err)))
		goto done;
	if (json_object_set_new(root, "late_policy", x))
		goto nomem;
	x = json_object();
	if (!x || json_object_set_new(root, "extensions", x))
		goto nomem;
	for (size_t i = 0; i < o->nextensions; i++) {
		const char *eq = strchr(o->extensions[i], '=');
		char student[256];
		double secs;

		if (!eq || eq == o->extensions[i] ||
		    (size_t)(eq - o->extensions[i]) >= sizeof(student)) {
			rc = gr_err_set(err, GR_EINVAL,
					"invalid extension '%s': expected STUDENT=DURATION",
					o->extensions[i]);
			goto done;
		}
		memcpy(student, o->extensions[i], (size_t)(eq - o->extensions[i]));
		student[eq - o->extensions[i]] = '\0';
		if ((rc = score_parse_duration(&secs, eq + 1, err)))
			goto done;
		if (json_object_set_new(x, student, json_string(eq + 1)))
			goto nomem;
	}
	x = json_pack("{s:o, s:o, s:o, s:o, s:o}", "cell_timeout",
		      num(l->cell_timeout > 0 ? l->cell_timeout : 30), "notebook_timeout",
		      num(l->notebook_timeout > 0 ? l->notebook_timeout : 600), "memory_mb",
		      num(l->memory_mb > 0 ? l->memory_mb : 4096), "processes",
		      num(l->processes > 0 ? l->processes : 64), "output_bytes",
		      num(l->output_bytes > 0 ? l->output_bytes : 1 << 20));
	if (!x || json_object_set_new(root, "limits", x))
		goto nomem;
	x = json_array();
	if (!x || json_object_set_new(root, "preload", x))
		goto nomem;
	for (size_t i = 0; i < o->npreload; i++)
		if (json_array_append_new(x, json_string(o->preload[i])))
			goto nomem;
	if (o->seed < 0 || o->seed > 4294967295LL) {
		rc = gr_err_set(err, GR_EINVAL, "invalid seed %lld: use 0 to 4294967295", o->seed);
		goto done;
	}
	if (json_object_set_new(root, "seed", json_integer(o->seed)) ||
	    (o->allow_ctypes && json_object_set_new(root, "allow_ctypes", json_true())) ||
	    (o->allow_jit && json_object_set_new(root, "allow_jit", json_true())) ||
	    json_object_set_new(root, "public", json_false()))
		goto nomem;
	if ((rc = add_files(root, o, err)))
		goto done;
	for (size_t i = 0; i < o->nsources; i++) {
		json_t *n = NULL;

		if ((rc = import_notebook(&n, o->sources[i], err)))
			goto done;
		if (json_array_append_new(nbs, n))
			goto nomem;
	}
	if (json_object_set(root, "notebooks", nbs))
		goto nomem;
	if ((rc = rubric_from_json(out, root, o->output ? o->output : "<stdout>", err)))
		goto done;
	/* record nbgrader's checksums: later loads check them */
	for (size_t i = 0; i < (*out)->nnotebooks; i++)
		for (size_t k = 0; k < (*out)->notebooks[i].ncells; k++) {
			struct rubric_cell *c = &(*out)->notebooks[i].cells[k];

			if (c->grade_id &&
			    json_object_set_new(c->json, "checksum", json_string(c->checksum))) {
				rubric_free(*out);
				*out = NULL;
				goto nomem;
			}
		}
	goto done;
nomem:
	rc = gr_err_set(err, GR_ENOMEM, "out of memory");
done:
	json_decref(nbs);
	json_decref(root);
	return rc;
}
