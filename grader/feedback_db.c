/*
 * feedback_db.c - the marker's work from nbgrader's gradebook.db (manual
 * scores, extra credit, manual comments, as formgrader stores them), laid
 * over the gradebook before feedback is written.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "grader/feedback.h"

/* Every graded or commented cell of every submitted notebook, by names. */
static const char grades_sql[] =
    "SELECT a.name, sa.student_id, n.name, bc.name, g.manual_score, g.extra_credit "
    "FROM grade g JOIN submitted_notebook sn ON g.notebook_id = sn.id "
    "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
    "JOIN assignment a ON sa.assignment_id = a.id "
    "JOIN notebook n ON sn.notebook_id = n.id JOIN base_cell bc ON g.cell_id = bc.id";
static const char comments_sql[] =
    "SELECT a.name, sa.student_id, n.name, bc.name, c.manual_comment "
    "FROM comment c JOIN submitted_notebook sn ON c.notebook_id = sn.id "
    "JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
    "JOIN assignment a ON sa.assignment_id = a.id "
    "JOIN notebook n ON sn.notebook_id = n.id JOIN base_cell bc ON c.cell_id = bc.id "
    "WHERE c.manual_comment IS NOT NULL AND c.manual_comment != ''";

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? (const char *)s : "";
}

static struct gb_nbresult *row_notebook(const struct gb_gradebook *gb, sqlite3_stmt *st,
					struct gb_submission **sub)
{
	*sub = gb_find_submission(gb, col(st, 0), col(st, 1));
	return *sub ? gb_find_nbresult(*sub, col(st, 2)) : NULL;
}

/* Overlay manual scores; each submission changed goes into touched[*n] (repeats are harmless). */
static int apply_grades(struct gb_gradebook *gb, sqlite3_stmt *st, struct gb_submission **touched,
			size_t *n, size_t cap)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct gb_submission *sub;
		struct gb_nbresult *r = row_notebook(gb, st, &sub);
		struct gb_grade *g = r ? gb_find_grade(r, col(st, 3)) : NULL;

		if (!g)
			continue;
		if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
			g->manual_score = sqlite3_column_double(st, 4);
			g->needs_manual_grade = false;
		}
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			g->extra_credit = sqlite3_column_double(st, 5);
		if (*n && touched[*n - 1] == sub)
			continue;
		if (*n == cap)
			return GR_ELIMIT;
		touched[(*n)++] = sub;
	}
	return rc == SQLITE_DONE ? 0 : GR_EINVAL;
}

static int apply_comments(struct gb_gradebook *gb, sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct gb_submission *sub;
		struct gb_nbresult *r = row_notebook(gb, st, &sub);
		struct gb_comment *c = NULL;

		if (!r)
			continue;
		for (size_t i = 0; i < r->n_comments && !c; i++)
			if (!strcmp(r->comments[i]->grade_id, col(st, 3)))
				c = r->comments[i];
		if (!c && gb_nbresult_add_comment(r, &c, col(st, 3)) < 0)
			return GR_ENOMEM;
		if (gb_set_str(&c->manual_comment, col(st, 4)) < 0)
			return GR_ENOMEM;
	}
	return rc == SQLITE_DONE ? 0 : GR_EINVAL;
}

int fb_apply_db(struct gb_gradebook *gb, const char *db, struct gr_err *err)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	/* One slot per grade of the gradebook bounds the rows that can match. */
	size_t cap = 1, n = 0;
	struct gb_submission **touched = NULL;
	int rc = GR_EIO;

	for (size_t i = 0; i < gb->n_submissions; i++)
		for (size_t j = 0; j < gb->submissions[i]->n_notebooks; j++)
			cap += gb->submissions[i]->notebooks[j]->n_grades;
	touched = calloc(cap, sizeof(*touched));

	if (!touched)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = gr_err_set(err, GR_EIO, "cannot open '%s': %s", db,
				h ? sqlite3_errmsg(h) : "out of memory");
		goto done;
	}
	if (sqlite3_prepare_v2(h, grades_sql, -1, &st, NULL) != SQLITE_OK ||
	    apply_grades(gb, st, touched, &n, cap) < 0) {
		rc = gr_err_set(err, GR_EINVAL, "cannot read grades from '%s': %s", db,
				sqlite3_errmsg(h));
		goto done;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(h, comments_sql, -1, &st, NULL) != SQLITE_OK) {
		rc = gr_err_set(err, GR_EINVAL, "cannot read comments from '%s': %s", db,
				sqlite3_errmsg(h));
		goto done;
	}
	rc = apply_comments(gb, st);
	if (rc < 0) {
		rc = rc == GR_ENOMEM
			 ? gr_err_set(err, rc, "out of memory")
			 : gr_err_set(err, GR_EINVAL, "cannot read comments from '%s': %s", db,
				      sqlite3_errmsg(h));
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		gb_submission_sum(touched[i], gb_find_assignment(gb, touched[i]->assignment));
	rc = 0;
done:
	sqlite3_finalize(st);
	sqlite3_close(h);
	free(touched);
	return rc;
}
