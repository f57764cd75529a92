/*
 * srv_store_calls.c - the calls a finished job owes (its commit status, the
 * course's callback), kept in the state database with the job's outcome and
 * sent by the grading side until they are answered: pending, sent or failed,
 * with the attempts made and the time of the next one.
 */
#include <stdlib.h>
#include <string.h>

#include "srv_store_int.h"

int srv_store_add_calls(struct srv_store *s, long long job, const struct srv_call_in *calls,
			size_t n, struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (!n)
		return 0;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO calls(job, kind, body, mac, next_try) "
			       "VALUES(?,?,?,?,(julianday('now')-2440587.5)*86400.0)",
			       -1, &st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	for (size_t i = 0; !rc && i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, job);
		sqlite3_bind_text(st, 2, calls[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, calls[i].body, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, calls[i].mac, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = srv_db_fail(s, err, "record a call");
	}
	sqlite3_finalize(st);
	return rc;
}

static char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return strdup(t ? (const char *)t : "");
}

void srv_calls_free(struct srv_call *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].kind);
		free(c[i].body);
		free(c[i].mac);
		free(c[i].assignment);
		free(c[i].repository);
		free(c[i].commit);
	}
	free(c);
}

int srv_store_calls_due(struct srv_store *s, double now, size_t max, struct srv_call **out,
			size_t *n, struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	struct srv_call *c = calloc(max + 1, sizeof(*c));
	size_t k = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!c)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	if (sqlite3_prepare_v2(
		s->db,
		"SELECT c.id, c.job, c.kind, c.body, c.mac, c.attempts, j.assignment, "
		"j.repository, j.commit_id FROM calls c JOIN jobs j ON j.id=c.job "
		"WHERE c.state='pending' AND c.next_try<=? ORDER BY c.next_try, c.id "
		"LIMIT ?",
		-1, &st, NULL) != SQLITE_OK) {
		free(c);
		return srv_db_fail(s, err, "prepare a query");
	}
	sqlite3_bind_double(st, 1, now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while (k < max && sqlite3_step(st) == SQLITE_ROW) {
		c[k].id = sqlite3_column_int64(st, 0);
		c[k].job = sqlite3_column_int64(st, 1);
		c[k].kind = col(st, 2);
		c[k].body = col(st, 3);
		c[k].mac = col(st, 4);
		c[k].attempts = sqlite3_column_int(st, 5);
		c[k].assignment = col(st, 6);
		c[k].repository = col(st, 7);
		c[k].commit = col(st, 8);
		if (!c[k].kind || !c[k].body || !c[k].mac || !c[k].assignment || !c[k].repository ||
		    !c[k].commit) {
			k++;
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
			break;
		}
		k++;
	}
	sqlite3_finalize(st);
	if (rc) {
		srv_calls_free(c, k);
		return rc;
	}
	*out = c;
	*n = k;
	return 0;
}

int srv_store_call_update(struct srv_store *s, long long id, const char *state, int attempts,
			  double next_try, const char *error, struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db,
			       "UPDATE calls SET state=?2, attempts=?3, next_try=?4, error=?5, "
			       "sent=CASE WHEN ?2='sent' THEN "
			       "(julianday('now')-2440587.5)*86400.0 END WHERE id=?1",
			       -1, &st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, attempts);
	sqlite3_bind_double(st, 4, next_try);
	if (error)
		sqlite3_bind_text(st, 5, error, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = srv_db_fail(s, err, "update a call");
	sqlite3_finalize(st);
	return rc;
}
