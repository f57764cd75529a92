/*
 * export_nbgrader_db.c - write a gradebook into nbgrader's gradebook.db so
 * instructors can continue in formgrader: create the database with
 * nbgrader's schema when missing, else upsert students, the assignment,
 * notebooks, cells, submissions, grades and comments in one transaction.
 * What a marker entered (manual_score, extra_credit, manual_comment, flagged)
 * is never overwritten. Like nbgrader's add_submission, every submitted
 * notebook gets a grade row per grade/task cell and a comment row per
 * solution/task cell.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <sqlite3.h>

#include "export_nbgrader.h"

#define ID_LEN 33 /* 32 hex digits of a uuid4 and a NUL */
#define CACHE_MAX 32

struct db {
	sqlite3 *db;
	const char *path;
	struct gr_err *err;
	struct {
		const char *sql; /* identity of a string literal */
		sqlite3_stmt *st;
	} cache[CACHE_MAX];
	size_t n_cache;
};

/* A uuid4 as nbgrader's new_uuid() makes it: uuid4().hex. */
static int new_uuid(char out[ID_LEN], struct gr_err *err)
{
	unsigned char b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n < 0)
			return gr_err_sys(err, GR_ESYS, errno, "cannot read random bytes");
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static int db_fail(struct db *d, const char *what)
{
	return gr_err_set(d->err, GR_EIO, "'%s': %s: %s", d->path, what, sqlite3_errmsg(d->db));
}

static sqlite3_stmt *prepare(struct db *d, const char *sql)
{
	sqlite3_stmt *st = NULL;

	for (size_t i = 0; i < d->n_cache; i++)
		if (d->cache[i].sql == sql) {
			sqlite3_reset(d->cache[i].st);
			sqlite3_clear_bindings(d->cache[i].st);
			return d->cache[i].st;
		}
	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (d->n_cache < CACHE_MAX) {
		d->cache[d->n_cache].sql = sql;
		d->cache[d->n_cache++].st = st;
	}
	return st;
}

static void release(struct db *d, sqlite3_stmt *st)
{
	for (size_t i = 0; i < d->n_cache; i++)
		if (d->cache[i].st == st) {
			sqlite3_reset(st);
			return;
		}
	sqlite3_finalize(st);
}

/*
 * Run one statement. `types` has one letter per parameter: t text (NULL ok),
 * d double (NAN binds NULL), i int. When `id` is given, the first column of
 * the first row is copied there. Returns 1 when a row came back, 0 when not.
 */
static int q(struct db *d, char id[ID_LEN], const char *sql, const char *types, ...)
{
	sqlite3_stmt *st = prepare(d, sql);
	va_list ap;
	int rc, n = 0;

	if (!st)
		return db_fail(d, "cannot prepare a statement");
	va_start(ap, types);
	for (const char *t = types; *t; t++) {
		n++;
		if (*t == 't') {
			const char *s = va_arg(ap, const char *);

			rc = s ? sqlite3_bind_text(st, n, s, -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(st, n);
		} else if (*t == 'd') {
			double x = va_arg(ap, double);

			rc = gb_isset(x) ? sqlite3_bind_double(st, n, x) : sqlite3_bind_null(st, n);
		} else {
			rc = sqlite3_bind_int(st, n, va_arg(ap, int));
		}
		if (rc != SQLITE_OK) {
			va_end(ap);
			release(d, st);
			return db_fail(d, "cannot bind a value");
		}
	}
	va_end(ap);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (id) {
			const unsigned char *v = sqlite3_column_text(st, 0);

			snprintf(id, ID_LEN, "%s", v ? (const char *)v : "");
		}
		release(d, st);
		return 1;
	}
	if (rc != SQLITE_DONE) {
		rc = db_fail(d, "cannot write");
		release(d, st);
		return rc;
	}
	release(d, st);
	return 0;
}

static int exec(struct db *d, const char *sql)
{
	if (sqlite3_exec(d->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(d, "cannot run SQL");
	return 0;
}

/* Find the row matching a unique key, or insert one with a fresh uuid. */
static int find_or_new(struct db *d, char id[ID_LEN], int found)
{
	if (found < 0)
		return found;
	if (found == 0)
		return new_uuid(id, d->err);
	return 0;
}

static int create_or_check(struct db *d)
{
	char head[ID_LEN] = "";
	int rc, n;

	n = q(d, head, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", "");
	if (n < 0)
		return n;
	if (!strcmp(head, "0")) {
		for (size_t i = 0; export_nbgrader_ddl[i]; i++)
			if ((rc = exec(d, export_nbgrader_ddl[i])) < 0)
				return rc;
		return q(d, NULL, "INSERT INTO alembic_version (version_num) VALUES (?)", "t",
			 EXPORT_NBGRADER_ALEMBIC) < 0
			   ? GR_EIO
			   : 0;
	}
	for (size_t i = 0; export_nbgrader_tables[i]; i++) {
		n = q(d, NULL, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", "t",
		      export_nbgrader_tables[i]);
		if (n < 0)
			return n;
		if (n == 0)
			return gr_err_set(d->err, GR_EINVAL,
					  "'%s' is not an nbgrader gradebook: no table '%s'",
					  d->path, export_nbgrader_tables[i]);
	}
	n = q(d, head, "SELECT version_num FROM alembic_version", "");
	if (n < 0)
		return n;
	if (n == 0 || strcmp(head, EXPORT_NBGRADER_ALEMBIC))
		return gr_err_set(d->err, GR_EINVAL,
				  "'%s' is at database revision '%s', this grader writes '%s': "
				  "run 'nbgrader db upgrade' first",
				  d->path, n ? head : "(none)", EXPORT_NBGRADER_ALEMBIC);
	return 0;
}

static int put_student(struct db *d, const struct gb_student *s)
{
	/* Keep what nbgrader already knows when the gradebook leaves a field empty. */
	return q(d, NULL,
		 "INSERT INTO student (id, first_name, last_name, email, lms_user_id) "
		 "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO UPDATE SET "
		 "first_name = coalesce(?2, first_name), last_name = coalesce(?3, last_name), "
		 "email = coalesce(?4, email), lms_user_id = coalesce(?5, lms_user_id)",
		 "ttttt", s->id, s->first_name, s->last_name, s->email, s->lms_user_id);
}

/* The base_cell id of (cell, type), inserting the base and typed rows when new. */
static int put_typed_cell(struct db *d, const char *nb_id, const struct gb_cell *c,
			  const char *type, char id[ID_LEN])
{
	int rc = find_or_new(
	    d, id,
	    q(d, id, "SELECT id FROM base_cell WHERE name = ? AND notebook_id = ? AND type = ?",
	      "ttt", c->name, nb_id, type));

	if (rc < 0)
		return rc;
	if (q(d, NULL,
	      "INSERT OR IGNORE INTO base_cell (id, name, notebook_id, type) VALUES (?, ?, ?, ?)",
	      "tttt", id, c->name, nb_id, type) < 0)
		return GR_EIO;
	if (!strcmp(type, "SolutionCell"))
		rc = q(d, NULL, "INSERT OR IGNORE INTO solution_cells (id) VALUES (?)", "t", id);
	else if (!strcmp(type, "GradeCell"))
		rc = q(d, NULL,
		       "INSERT INTO grade_cells (id, max_score, cell_type) VALUES (?1, ?2, ?3) "
		       "ON CONFLICT(id) DO UPDATE SET max_score = ?2, cell_type = ?3",
		       "tdt", id, c->max_score, c->cell_type);
	else
		rc = q(d, NULL,
		       "INSERT INTO task_cells (id, max_score, cell_type) VALUES (?1, ?2, ?3) "
		       "ON CONFLICT(id) DO UPDATE SET max_score = ?2, cell_type = ?3",
		       "tdt", id, c->max_score, c->cell_type);
	return rc < 0 ? rc : 0;
}

/* Ids of one notebook's cells: where grades and comments of each cell go. */
struct cell_ids {
	char grade[ID_LEN];   /* GradeCell or TaskCell base_cell id, "" when none */
	char comment[ID_LEN]; /* SolutionCell or TaskCell base_cell id, "" when none */
};

static int put_notebook(struct db *d, const char *a_id, const struct gb_notebook *nb,
			char nb_id[ID_LEN], struct cell_ids *ids)
{
	char *ks = NULL, src_id[ID_LEN];
	int rc;

	if (nb->kernelspec) {
		/* nbgrader stores json.dumps(kernelspec): ", " and ": " separators. */
		json_t *j = json_loads(nb->kernelspec, 0, NULL);

		ks = j ? json_dumps(j, JSON_SORT_KEYS) : NULL;
		json_decref(j);
	}
	rc = find_or_new(d, nb_id,
			 q(d, nb_id, "SELECT id FROM notebook WHERE name = ? AND assignment_id = ?",
			   "tt", nb->name, a_id));
	if (rc == 0 &&
	    q(d, NULL,
	      "INSERT INTO notebook (id, name, assignment_id, kernelspec) VALUES (?1, ?2, ?3, ?4) "
	      "ON CONFLICT(name, assignment_id) DO UPDATE SET kernelspec = coalesce(?4, "
	      "kernelspec)",
	      "tttt", nb_id, nb->name, a_id, ks) < 0)
		rc = GR_EIO;
	free(ks);
	for (size_t i = 0; rc == 0 && i < nb->n_cells; i++) {
		const struct gb_cell *c = nb->cells[i];

		ids[i].grade[0] = ids[i].comment[0] = '\0';
		if (c->grade)
			rc = put_typed_cell(d, nb_id, c, "GradeCell", ids[i].grade);
		if (rc == 0 && c->solution)
			rc = put_typed_cell(d, nb_id, c, "SolutionCell", ids[i].comment);
		if (rc == 0 && c->task) {
			rc = put_typed_cell(d, nb_id, c, "TaskCell", ids[i].grade);
			memcpy(ids[i].comment, ids[i].grade, ID_LEN);
		}
		if (rc < 0)
			break;
		rc = find_or_new(d, src_id,
				 q(d, src_id,
				   "SELECT id FROM source_cell WHERE name = ? AND notebook_id = ?",
				   "tt", c->name, nb_id));
		if (rc == 0 && q(d, NULL,
				 "INSERT INTO source_cell (id, name, cell_type, locked, source, "
				 "checksum, notebook_id) "
				 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(name, "
				 "notebook_id) DO UPDATE SET "
				 "cell_type = ?3, locked = ?4, source = coalesce(?5, source), "
				 "checksum = coalesce(?6, checksum)",
				 "tttittt", src_id, c->name, c->cell_type, (int)c->locked,
				 c->source, c->checksum, nb_id) < 0)
			rc = GR_EIO;
	}
	return rc;
}

static int put_results_rows(struct db *d, const char *sa_id, const struct gb_notebook *nb,
			    const char *nb_id, const struct cell_ids *ids,
			    const struct gb_nbresult *r, const char *why, char sn_id[ID_LEN],
			    char row_id[ID_LEN])
{
	int rc;

	rc = find_or_new(
	    d, sn_id,
	    q(d, sn_id,
	      "SELECT id FROM submitted_notebook WHERE notebook_id = ? AND assignment_id = ?", "tt",
	      nb_id, sa_id));
	if (rc < 0)
		return rc;
	/* A flag a marker set in formgrader stays set. */
	if (q(d, NULL,
	      "INSERT INTO submitted_notebook (id, assignment_id, notebook_id, flagged, "
	      "late_submission_penalty) "
	      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(notebook_id, assignment_id) DO UPDATE SET "
	      "flagged = (coalesce(flagged, 0) OR ?4), late_submission_penalty = ?5",
	      "tttid", sn_id, sa_id, nb_id, (r && r->flagged) || why ? 1 : 0,
	      r ? r->late_submission_penalty : 0.0) < 0)
		return GR_EIO;
	for (size_t i = 0; i < nb->n_cells; i++) {
		const struct gb_cell *c = nb->cells[i];
		const struct gb_grade *g = r && ids[i].grade[0] ? gb_find_grade(r, c->name) : NULL;
		const struct gb_comment *cm = NULL;

		if (ids[i].grade[0]) {
			rc = find_or_new(
			    d, row_id,
			    q(d, row_id,
			      "SELECT id FROM grade WHERE cell_id = ? AND notebook_id = ?", "tt",
			      ids[i].grade, sn_id));
			/* An absent grade is a zero the autograder gave, not work for a marker. */
			if (rc == 0 &&
			    q(d, NULL,
			      "INSERT INTO grade (id, notebook_id, cell_id, auto_score, "
			      "manual_score, "
			      "extra_credit, needs_manual_grade) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
			      "?7) "
			      "ON CONFLICT(cell_id, notebook_id) DO UPDATE SET auto_score = ?4, "
			      "manual_score = coalesce(manual_score, ?5), "
			      "extra_credit = coalesce(extra_credit, ?6), "
			      "needs_manual_grade = CASE WHEN manual_score IS NULL THEN ?7 "
			      "ELSE needs_manual_grade END",
			      "tttdddi", row_id, sn_id, ids[i].grade, g ? g->auto_score : 0.0,
			      g ? g->manual_score : NAN, g ? g->extra_credit : NAN,
			      g ? (int)g->needs_manual_grade : 0) < 0)
				rc = GR_EIO;
			if (rc < 0)
				return rc;
		}
		if (!ids[i].comment[0])
			continue;
		for (size_t k = 0; r && k < r->n_comments; k++)
			if (!strcmp(r->comments[k]->grade_id, c->name))
				cm = r->comments[k];
		rc = find_or_new(d, row_id,
				 q(d, row_id,
				   "SELECT id FROM comment WHERE cell_id = ? AND notebook_id = ?",
				   "tt", ids[i].comment, sn_id));
		if (rc == 0 &&
		    q(d, NULL,
		      "INSERT INTO comment (id, notebook_id, cell_id, auto_comment, "
		      "manual_comment) "
		      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(cell_id, notebook_id) DO UPDATE SET "
		      "auto_comment = ?4, manual_comment = coalesce(manual_comment, ?5)",
		      "ttttt", row_id, sn_id, ids[i].comment,
		      why  ? why
		      : cm ? cm->auto_comment
			   : NULL,
		      cm ? cm->manual_comment : NULL) < 0)
			rc = GR_EIO;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Why a submitted notebook has no real grades (it could not be read or run),
 * as a comment formgrader shows on each answer: heap, NULL when it was graded.
 */
static char *not_graded_reason(const struct gb_submission *sub, const struct gb_nbresult *r)
{
	const char *why = NULL;
	char *text = NULL;

	if (r && r->status == GB_ERROR)
		why = r->message ? r->message : "grading failed";
	else if (sub->status == GB_ERROR && (!r || r->status != GB_GRADED))
		why = sub->message ? sub->message : "grading failed";
	if (why && asprintf(&text, "not graded: %s", why) < 0)
		text = NULL;
	return text;
}

static int put_results(struct db *d, const char *sa_id, const struct gb_notebook *nb,
		       const char *nb_id, const struct cell_ids *ids,
		       const struct gb_submission *sub, const struct gb_nbresult *r)
{
	char sn_id[ID_LEN], row_id[ID_LEN], *why = not_graded_reason(sub, r);
	int rc = put_results_rows(d, sa_id, nb, nb_id, ids, r, why, sn_id, row_id);

	free(why);
	return rc;
}

static int put_assignment(struct db *d, struct export_sel *sel, const struct gb_assignment *a,
			  const struct export_opts *o)
{
	const char *course = o && o->course_id ? o->course_id : "default_course";
	char a_id[ID_LEN], sa_id[ID_LEN], when[40], ext[40], **nb_ids = NULL;
	struct cell_ids **ids = NULL;
	int rc = 0;

	if (a->duedate && export_utc_time(when, a->duedate, false) < 0)
		return gr_err_set(d->err, GR_EINVAL, "assignment '%s': bad duedate", a->name);
	if (*course && q(d, NULL, "INSERT OR IGNORE INTO course (id) VALUES (?)", "t", course) < 0)
		return GR_EIO;
	rc = find_or_new(d, a_id,
			 q(d, a_id, "SELECT id FROM assignment WHERE name = ?", "t", a->name));
	if (rc < 0)
		return rc;
	if (q(d, NULL,
	      "INSERT INTO assignment (id, name, duedate, course_id) VALUES (?1, ?2, ?3, ?4) "
	      "ON CONFLICT(name) DO UPDATE SET duedate = coalesce(?3, duedate)",
	      "tttt", a_id, a->name, a->duedate ? when : NULL, course) < 0)
		return GR_EIO;
	nb_ids = calloc(a->n_notebooks + 1, sizeof(*nb_ids));
	ids = calloc(a->n_notebooks + 1, sizeof(*ids));
	if (!nb_ids || !ids) {
		rc = gr_err_set(d->err, GR_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t j = 0; j < a->n_notebooks; j++) {
		nb_ids[j] = calloc(1, ID_LEN);
		ids[j] = calloc(a->notebooks[j]->n_cells + 1, sizeof(**ids));
		if (!nb_ids[j] || !ids[j]) {
			rc = gr_err_set(d->err, GR_ENOMEM, "out of memory");
			goto done;
		}
		if ((rc = put_notebook(d, a_id, a->notebooks[j], nb_ids[j], ids[j])) < 0)
			goto done;
	}
	for (size_t i = 0; i < export_sel_count(sel); i++) {
		const struct gb_submission *sub = NULL;

		/* the file's order, as a whole gradebook lists them; each read once */
		if (strcmp(export_sel_nth_assignment(sel, i), a->name))
			continue;
		if ((rc = export_sel_nth(sel, i, &sub, d->err)) < 0)
			goto done;
		if (sub->status == GB_MISSING ||
		    (o && o->student && strcmp(o->student, sub->student_id)))
			continue;
		if (sub->timestamp && export_utc_time(when, sub->timestamp, false) < 0) {
			rc = gr_err_set(d->err, GR_EINVAL, "submission of '%s': bad timestamp",
					sub->student_id);
			goto done;
		}
		if (gb_isset(sub->extension_seconds))
			export_db_interval(ext, sub->extension_seconds);
		rc = find_or_new(d, sa_id,
				 q(d, sa_id,
				   "SELECT id FROM submitted_assignment WHERE assignment_id = ? "
				   "AND student_id = ?",
				   "tt", a_id, sub->student_id));
		if (rc == 0 &&
		    q(d, NULL,
		      "INSERT INTO submitted_assignment (id, assignment_id, student_id, timestamp, "
		      "extension) "
		      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(assignment_id, student_id) DO "
		      "UPDATE SET "
		      "timestamp = ?4, extension = ?5",
		      "ttttt", sa_id, a_id, sub->student_id, sub->timestamp ? when : NULL,
		      gb_isset(sub->extension_seconds) ? ext : NULL) < 0)
			rc = GR_EIO;
		for (size_t j = 0; rc == 0 && j < a->n_notebooks; j++)
			rc = put_results(d, sa_id, a->notebooks[j], nb_ids[j], ids[j], sub,
					 gb_find_nbresult(sub, a->notebooks[j]->name));
		if (rc < 0)
			goto done;
	}
done:
	for (size_t j = 0; j < a->n_notebooks; j++) {
		if (nb_ids)
			free(nb_ids[j]);
		if (ids)
			free(ids[j]);
	}
	free(nb_ids);
	free(ids);
	return rc;
}

int export_nbgrader_db_sel(const char *path, struct export_sel *sel, const struct export_opts *o,
			   struct gr_err *err)
{
	struct db d = {.path = path, .err = err};
	const struct gb_gradebook *gb = sel->gb;
	bool began = false;
	int rc;

	if (sqlite3_open_v2(path, &d.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = gr_err_set(err, GR_EIO, "cannot open '%s': %s", path,
				d.db ? sqlite3_errmsg(d.db) : "out of memory");
		goto done;
	}
	sqlite3_busy_timeout(d.db, 10000);
	/* IMMEDIATE: take the write lock now, not halfway through (formgrader may be open). */
	if ((rc = exec(&d, "BEGIN IMMEDIATE")) < 0)
		goto done;
	began = true;
	if ((rc = create_or_check(&d)) < 0)
		goto done;
	for (size_t i = 0; i < gb->n_students; i++) {
		if (o && o->student && strcmp(o->student, gb->students[i]->id))
			continue;
		if ((rc = put_student(&d, gb->students[i])) < 0)
			goto done;
	}
	for (size_t i = 0; i < sel->na; i++)
		if ((rc = put_assignment(&d, sel, sel->as[i], o)) < 0)
			goto done;
	rc = exec(&d, "COMMIT");
	if (rc == 0)
		began = false;
done:
	for (size_t i = 0; i < d.n_cache; i++)
		sqlite3_finalize(d.cache[i].st);
	if (began)
		sqlite3_exec(d.db, "ROLLBACK", NULL, NULL, NULL);
	if (d.db)
		sqlite3_close(d.db);
	return rc < 0 ? rc : 0;
}

int export_nbgrader_db(const char *path, const struct gb_gradebook *gb, const struct export_opts *o,
		       struct gr_err *err)
{
	struct export_sel sel;
	int rc = export_sorted(&sel, gb, NULL, o, err);

	if (rc == 0)
		rc = export_nbgrader_db_sel(path, &sel, o, err);
	export_sel_release(&sel);
	return rc;
}
