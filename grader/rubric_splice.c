/*
 * rubric_splice.c - the notebook to execute for one submission: the
 * student's answers with the rubric's tests and locked cells put back, the
 * way nbgrader's autograde sanitizes a submission (ClearOutput,
 * DeduplicateIds, OverwriteKernelspec, OverwriteCells, missing cells added).
 */
#include <stdlib.h>
#include <string.h>

#include "rubric_int.h"

static int add_flag(struct rubric_splice *s, const char *flag, const char *grade_id,
		    struct gr_err *err)
{
	struct rubric_flag *f = realloc(s->flags, (s->nflags + 1) * sizeof(*f));

	if (!f)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	s->flags = f;
	f[s->nflags].flag = flag;
	f[s->nflags].grade_id = strdup(grade_id ? grade_id : "");
	if (!f[s->nflags].grade_id)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	s->nflags++;
	return 0;
}

void rubric_splice_free(struct rubric_splice *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nflags; i++)
		free(s->flags[i].grade_id);
	free(s->flags);
	free(s->graded);
	nb_free(s->nb);
	free(s);
}

static int has_role(const struct nb_grader_meta *m)
{
	return m->present && (m->grade || m->solution || m->locked || m->task);
}

static int is_locked_kind(enum rubric_kind k)
{
	return k == RUBRIC_TESTS || k == RUBRIC_READONLY || k == RUBRIC_TASK;
}

/* Replace cell `at` of nb by `cell` (nb takes a reference), then reindex. */
static int replace_cell(struct nb_notebook *nb, size_t at, json_t *cell, struct gr_err *err)
{
	json_t *arr = json_object_get(nb->root, "cells");

	if (json_array_set(arr, at, cell))
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	return nb_reindex(nb, err);
}

static int clear_outputs(struct nb_notebook *nb, struct gr_err *err)
{
	for (size_t i = 0; i < nb->ncells; i++) {
		json_t *c = nb->cells[i].json;

		if (nb->cells[i].type != NB_CELL_CODE)
			continue;
		if (json_object_set_new(c, "outputs", json_array()) ||
		    json_object_set_new(c, "execution_count", json_null()))
			return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	return 0;
}

/* Strip nbgrader roles: earlier duplicates, unknown grade_ids, roles without ids. */
static int sanitize_roles(struct rubric_splice *s, const struct rubric_notebook *rn,
			  struct gr_err *err)
{
	struct nb_notebook *nb = s->nb;
	int rc;

	for (size_t i = nb->ncells; i-- > 0;) {
		struct nb_cell *c = &nb->cells[i];
		const char *gid = c->nbgrader.grade_id;
		const char *flag = NULL;
		int known = 0;

		if (!c->nbgrader.present)
			continue;
		if (gid) {
			for (size_t k = i + 1; k < nb->ncells && !flag; k++)
				if (nb->cells[k].nbgrader.grade_id &&
				    !strcmp(nb->cells[k].nbgrader.grade_id, gid))
					flag = RUBRIC_FLAG_DUPLICATE;
			for (size_t k = 0; k < rn->ncells && !known; k++)
				known =
				    rn->cells[k].grade_id && !strcmp(rn->cells[k].grade_id, gid);
			if (!flag && !known)
				flag = has_role(&c->nbgrader) ? RUBRIC_FLAG_UNKNOWN : NULL;
		}
		if (!flag && gid && known)
			continue;
		if (flag && (rc = add_flag(s, flag, gid, err)))
			return rc;
		if ((rc = nb_cell_set_grader(c, NULL, err)))
			return rc;
	}
	return 0;
}

/* Where a missing rubric cell goes: after the nearest earlier rubric cell present. */
static size_t insert_position(const struct nb_notebook *nb, const struct rubric_notebook *rn,
			      size_t k)
{
	for (size_t p = k; p-- > 0;) {
		const struct nb_cell *prev;
		size_t at;

		if (rn->cells[p].kind == RUBRIC_PLAIN)
			continue;
		prev = nb_find_cell(nb, rn->cells[p].grade_id);
		if (!prev)
			continue;
		at = (size_t)(prev - nb->cells) + 1;
		/* after the student's own cells that follow it, before the next rubric cell */
		while (at < nb->ncells && !nb->cells[at].nbgrader.grade_id)
			at++;
		return at;
	}
	return 0;
}

/*
 * Equal texts once line endings are normalised: a notebook saved on Windows
 * (CRLF, or old Mac CR) still holds the cell the student was given; nbgrader
 * does not count that as a change either.
 */
static int same_text(const char *a, const char *b)
{
	for (;;) {
		char ca = *a, cb = *b;

		if (ca == '\r') {
			ca = '\n';
			if (a[1] == '\n')
				a++;
		}
		if (cb == '\r') {
			cb = '\n';
			if (b[1] == '\n')
				b++;
		}
		if (ca != cb)
			return 0;
		if (!ca)
			return 1;
		a++;
		b++;
	}
}

static int splice_cell(struct rubric_splice *s, const struct rubric_cell *rc_, struct gr_err *err)
{
	struct nb_notebook *nb = s->nb;
	struct nb_cell *c = nb_find_cell(nb, rc_->grade_id);
	json_t *cell = NULL, *id = NULL;
	char *released = NULL;
	size_t at;
	int rc;

	if ((rc = rubric_released_source(&released, rc_, err)))
		return rc;
	if (!c && !is_locked_kind(rc_->kind)) {
		/*
		 * A deleted answer is not put back: its stub would raise or
		 * redefine what the student wrote elsewhere. It scores as
		 * "No response." (rubric_splice marks it unchanged).
		 */
		rc = add_flag(s, RUBRIC_FLAG_DELETED_ANSWER, rc_->grade_id, err);
		goto done;
	}
	if (!c) {
		const char *flag = rc_->kind == RUBRIC_TESTS ? RUBRIC_FLAG_DELETED_TEST
							     : RUBRIC_FLAG_DELETED_LOCKED;

		rc = rubric_cell_json(&cell, rc_, rc_->source, 0, err);
		if (!rc)
			rc = add_flag(s, flag, rc_->grade_id, err);
		if (!rc)
			rc = nb_insert_cell(
			    nb, insert_position(nb, s->rn, (size_t)(rc_ - s->rn->cells)), cell,
			    err);
		goto done;
	}
	at = (size_t)(c - nb->cells);
	id = json_incref(json_object_get(c->json, "id"));
	if (is_locked_kind(rc_->kind)) {
		/* modified: not what the student received (type or source) */
		if (c->type != rc_->type || !same_text(c->source, released))
			if ((rc = add_flag(s, RUBRIC_FLAG_MODIFIED_LOCKED, rc_->grade_id, err)))
				goto done;
		rc = rubric_cell_json(&cell, rc_, rc_->source, 0, err);
	} else {
		if (c->type != rc_->type)
			if ((rc = add_flag(s, RUBRIC_FLAG_CELL_TYPE, rc_->grade_id, err)))
				goto done;
		rc = rubric_cell_json(&cell, rc_, c->source, 0, err);
	}
	if (rc)
		goto done;
	if (id && json_object_set(cell, "id", id)) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	rc = replace_cell(nb, at, cell, err);
done:
	json_decref(id);
	json_decref(cell);
	free(released);
	return rc;
}

int rubric_splice(struct rubric_splice **out, const struct rubric *r, size_t i,
		  const struct nb_notebook *student, struct gr_err *err)
{
	const struct rubric_notebook *rn;
	struct rubric_splice *s;
	json_t *ks;
	size_t k;
	int rc;

	if (i >= r->nnotebooks)
		return gr_err_set(err, GR_EINVAL, "no notebook %zu in the rubric", i);
	rn = &r->notebooks[i];
	s = calloc(1, sizeof(*s));
	if (!s)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	s->rn = rn;
	if ((rc = nb_copy(&s->nb, student, err)) || (rc = clear_outputs(s->nb, err)) ||
	    (rc = sanitize_roles(s, rn, err)))
		goto fail;
	/* nbgrader's OverwriteKernelspec */
	ks = json_object_get(json_object_get(rn->json, "metadata"), "kernelspec");
	if (ks) {
		json_t *md = json_object_get(s->nb->root, "metadata");

		if (!json_is_object(md)) {
			md = json_object();
			if (!md || json_object_set_new(s->nb->root, "metadata", md))
				goto nomem;
		}
		if (json_object_set_new(md, "kernelspec", json_deep_copy(ks)))
			goto nomem;
	}
	for (k = 0; k < rn->ncells; k++)
		if (rn->cells[k].kind != RUBRIC_PLAIN && (rc = splice_cell(s, &rn->cells[k], err)))
			goto fail;
	s->graded = calloc(rn->ncells + 1, sizeof(*s->graded));
	if (!s->graded)
		goto nomem;
	for (k = 0; k < rn->ncells; k++) {
		const struct rubric_cell *c = &rn->cells[k];
		struct rubric_graded *g;
		struct nb_cell *sc;

		if (c->kind != RUBRIC_TESTS && c->kind != RUBRIC_MANUAL &&
		    c->kind != RUBRIC_ANSWER && c->kind != RUBRIC_TASK)
			continue;
		sc = nb_find_cell(s->nb, c->grade_id);
		if (!sc && is_locked_kind(c->kind)) {
			rc = gr_err_set(err, GR_EINVAL, "cell '%s' lost while splicing",
					c->grade_id);
			goto fail;
		}
		g = &s->graded[s->ngraded++];
		g->cell = c;
		g->kind = c->kind;
		g->index = sc ? (size_t)(sc - s->nb->cells) : RUBRIC_NO_CELL;
		g->points = c->grade || c->task ? c->points : 0;
		g->manual = c->kind == RUBRIC_MANUAL || c->kind == RUBRIC_TASK;
		if (!sc) {
			g->unchanged = 1; /* a deleted answer: no response */
		} else if (c->kind == RUBRIC_MANUAL || c->kind == RUBRIC_ANSWER) {
			char sum[33];

			rubric_checksum(sum, sc->source, c->type, c->grade, c->solution, c->locked,
					c->grade_id, c->points);
			g->unchanged = !strcmp(sum, c->checksum);
		}
	}
	*out = s;
	return 0;
nomem:
	rc = gr_err_set(err, GR_ENOMEM, "out of memory");
fail:
	rubric_splice_free(s);
	return rc;
}
