/*
 * srv_store_int.h - private to the state database's files (srv_store*.c).
 */
#ifndef GRADER_SRV_STORE_INT_H
#define GRADER_SRV_STORE_INT_H

#include <sqlite3.h>

#include "srv_int.h"

struct srv_store {
	sqlite3 *db;
	char *path;
	char *dir; /* the state folder */
};

/* The database's complaint as a GR_E* code: a full disk is a limit, not a bug. */
int srv_db_fail(struct srv_store *s, struct gr_err *err, const char *what);

/* Insert the calls of job `job` (inside the caller's transaction). */
int srv_store_add_calls(struct srv_store *s, long long job, const struct srv_call_in *calls,
			size_t n, struct gr_err *err);

/* Make the table of jobs the grading side has seen (srv_store_seen.c). */
int srv_store_seen_schema(struct srv_store *s, struct gr_err *err);

/*
 * *known: 1 when the push `in` names the commit of its student's newest push
 * for the assignment that is queued, running or done (it is not queued), 2
 * when another job of theirs had that commit (a force push back, or a
 * replay: it makes way for no other job), else 0 (srv_store_seen.c; inside
 * the caller's transaction).
 */
int srv_store_commit_known(struct srv_store *s, const struct srv_job_in *in, int *known,
			   struct gr_err *err);

/* Mark the waiting jobs of a student and assignment superseded, their files gone (in a
 * transaction). */
int srv_store_supersede(struct srv_store *s, const char *assignment, const char *student,
			struct gr_err *err);

/* A job's columns as the API shows them, and one row of them as JSON. */
#define SRV_JOB_COLS                                                                               \
	"id, assignment, student, kind, repository, commit_id, state, error, received, "           \
	"started, finished, score, max_score, attempts, commit_time, result, student_result"
json_t *srv_job_row(sqlite3_stmt *st);

/* Make the job figures' tables and the triggers keeping them (srv_store_stats.c). */
int srv_store_stats_schema(struct srv_store *s, struct gr_err *err);

/* Make the gradebooks table (srv_store_gradebook.c). */
int srv_store_gb_schema(struct srv_store *s, struct gr_err *err);

#endif
