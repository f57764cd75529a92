/*
 * srv_store_gradebook.c - what the state database knows about each
 * assignment's gradebook file: when the HTTP side last asked for it to be
 * up to date (`wanted`) and up to when the grading side last wrote it
 * (`written`), and the queries the grading side asks before writing it:
 * which students' folders may be changing under it, and whether any job
 * finished since it was last written.
 */
#include <stdlib.h>
#include <string.h>

#include "srv_store_int.h"

static const char gb_schema[] = "CREATE TABLE IF NOT EXISTS gradebooks ("
				" assignment TEXT PRIMARY KEY, wanted REAL NOT NULL DEFAULT 0,"
				" written REAL NOT NULL DEFAULT 0);";

int srv_store_gb_schema(struct srv_store *s, struct gr_err *err)
{
	if (sqlite3_exec(s->db, gb_schema, NULL, NULL, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "make the gradebooks table");
	return 0;
}

/* Run the upsert `sql` binding the assignment and a time. */
static int upsert(struct srv_store *s, const char *sql, const char *assignment, double when,
		  struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	sqlite3_bind_text(st, 1, assignment, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, when);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = srv_db_fail(s, err, "record the gradebook's state");
	sqlite3_finalize(st);
	return rc;
}

int srv_store_gb_want(struct srv_store *s, const char *assignment, double when, struct gr_err *err)
{
	return upsert(s,
		      "INSERT INTO gradebooks(assignment, wanted) VALUES(?1, ?2) "
		      "ON CONFLICT(assignment) DO UPDATE SET wanted=max(wanted, ?2)",
		      assignment, when, err);
}

int srv_store_gb_written(struct srv_store *s, const char *assignment, double upto,
			 struct gr_err *err)
{
	return upsert(s,
		      "INSERT INTO gradebooks(assignment, written) VALUES(?1, ?2) "
		      "ON CONFLICT(assignment) DO UPDATE SET written=max(written, ?2)",
		      assignment, upto, err);
}

int srv_store_gb_state(struct srv_store *s, const char *assignment, double *wanted, double *written,
		       struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, step;

	*wanted = *written = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT wanted, written FROM gradebooks WHERE assignment=?",
			       -1, &st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	sqlite3_bind_text(st, 1, assignment, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*wanted = sqlite3_column_double(st, 0);
		*written = sqlite3_column_double(st, 1);
	} else if (step != SQLITE_DONE) {
		rc = srv_db_fail(s, err, "read the gradebook's state");
	}
	sqlite3_finalize(st);
	return rc;
}

int srv_store_gb_changed(struct srv_store *s, const char *assignment, double since, int *changed,
			 struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	*changed = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT EXISTS(SELECT 1 FROM jobs WHERE assignment=? AND "
			       "state IN ('done','failed') AND finished>?)",
			       -1, &st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	sqlite3_bind_text(st, 1, assignment, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, since);
	if (sqlite3_step(st) == SQLITE_ROW)
		*changed = sqlite3_column_int(st, 0);
	else
		rc = srv_db_fail(s, err, "look for finished jobs");
	sqlite3_finalize(st);
	return rc;
}

void srv_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

/*
 * A job running, or one queued again after a worker had taken it, may have
 * its student's folder half replaced: such students are left out of a
 * gradebook write (their row is kept) until their job finishes.
 */
int srv_store_gb_busy(struct srv_store *s, const char *assignment, char ***out, size_t *n,
		      double *first_start, struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	char **ids = NULL;
	size_t k = 0, cap = 0;
	int rc = 0, step;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT student, coalesce(min(started), 0) FROM jobs WHERE "
			       "assignment=? AND (state='running' OR (state='queued' AND "
			       "attempts>0)) GROUP BY student",
			       -1, &st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	sqlite3_bind_text(st, 1, assignment, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *id = sqlite3_column_text(st, 0);
		double started = sqlite3_column_double(st, 1);

		if (k == cap) {
			char **more = realloc(ids, (cap = cap ? 2 * cap : 8) * sizeof(*ids));
			if (!more) {
				rc = gr_err_set(err, GR_ENOMEM, "out of memory");
				goto done;
			}
			ids = more;
		}
		if (!(ids[k] = strdup(id ? (const char *)id : ""))) {
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
			goto done;
		}
		k++;
		if (started > 0 && started < *first_start)
			*first_start = started;
	}
	if (step != SQLITE_DONE)
		rc = srv_db_fail(s, err, "list the running jobs");
done:
	sqlite3_finalize(st);
	if (rc) {
		srv_ids_free(ids, k);
		return rc;
	}
	*out = ids;
	*n = k;
	return 0;
}
