/*
 * srv_store.c - the service's state database: one SQLite file in WAL mode
 * holding the job queue, the deliveries seen (replays are refused) and each
 * job's outcome. Both sides of the service open it; every change is one
 * transaction, so a process killed at any point leaves a consistent queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "srv_int.h"
#include "srv_store_int.h"

#define BUSY_MS 10000

static int run_id(struct srv_store *s, const char *sql, long long id, const char *a, const char *b,
		  struct gr_err *err);

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS jobs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " assignment TEXT NOT NULL, student TEXT NOT NULL, kind TEXT NOT NULL,"
    " forge TEXT, delivery TEXT, repository TEXT, commit_id TEXT, commit_time TEXT,"
    " received REAL NOT NULL, state TEXT NOT NULL DEFAULT 'queued',"
    " attempts INTEGER NOT NULL DEFAULT 0, started REAL, finished REAL,"
    " error TEXT, score REAL, max_score REAL, result TEXT, student_result TEXT,"
    " runner INTEGER);"
    "CREATE TABLE IF NOT EXISTS files ("
    " job INTEGER NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS files_job ON files(job);"
    "CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, id);"
    "CREATE INDEX IF NOT EXISTS jobs_student ON jobs(assignment, student, id);"
    "CREATE TABLE IF NOT EXISTS deliveries ("
    " forge TEXT NOT NULL, id TEXT NOT NULL, received REAL NOT NULL,"
    " PRIMARY KEY (forge, id));"
    "CREATE TABLE IF NOT EXISTS calls ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, job INTEGER NOT NULL, kind TEXT NOT NULL,"
    " body TEXT NOT NULL, mac TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending',"
    " attempts INTEGER NOT NULL DEFAULT 0, next_try REAL NOT NULL, error TEXT, sent REAL);"
    "CREATE INDEX IF NOT EXISTS calls_due ON calls(state, next_try);";

/* The database's complaint as a GR_E* code: a full disk is a limit, not a bug. */
int srv_db_fail(struct srv_store *s, struct gr_err *err, const char *what)
{
	int ext = sqlite3_extended_errcode(s->db), code = ext & 0xff;

	return gr_err_set(err, code == SQLITE_FULL ? GR_ELIMIT : GR_EIO,
			  "state database '%s': cannot %s: %s", s->path, what,
			  sqlite3_errmsg(s->db));
}

static int exec(struct srv_store *s, const char *sql, struct gr_err *err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "run a statement");
	return 0;
}

static int prepare(struct srv_store *s, const char *sql, sqlite3_stmt **st, struct gr_err *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	return 0;
}

/*
 * A write transaction (BEGIN IMMEDIATE: the lock is taken now, not at the
 * first write) and its first statement; nothing is left open on failure.
 */
static int tx_begin(struct srv_store *s, const char *sql, sqlite3_stmt **st, struct gr_err *err)
{
	int rc = exec(s, "BEGIN IMMEDIATE", err);

	if (!rc && (rc = prepare(s, sql, st, err)))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
 * The end of a write transaction begun with BEGIN IMMEDIATE: st is
 * finalized, then the transaction committed when rc is 0 and rolled back
 * otherwise (a failed COMMIT too). Returns the outcome.
 */
static int tx_end(struct srv_store *s, sqlite3_stmt *st, int rc, struct gr_err *err)
{
	sqlite3_finalize(st);
	if (!rc)
		rc = exec(s, "COMMIT", err);
	if (rc)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
 * The other side holds the write lock for a short transaction: try again
 * every millisecond rather than SQLite's growing sleeps, which put tens of
 * milliseconds on a request that waited once.
 */
static int busy_wait(void *payload, int tries)
{
	(void)payload;
	if (tries >= BUSY_MS)
		return 0;
	usleep(1000);
	return 1;
}

static int has_runner(struct srv_store *s)
{
	sqlite3_stmt *st = NULL;
	int found = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT runner FROM jobs LIMIT 0", -1, &st, NULL) ==
	    SQLITE_OK)
		found = 1;
	sqlite3_finalize(st);
	return found;
}

int srv_store_open(struct srv_store **out, const char *state, struct gr_err *err)
{
	struct srv_store *s = calloc(1, sizeof(*s));
	char *dir = NULL;
	int rc;

	if (!s)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	s->path = gr_path_join(state, SRV_DB_NAME);
	s->dir = strdup(state);
	dir = gr_path_join(state, "db");
	if (!s->path || !s->dir || !dir) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	rc = gr_mkdir_p(dir, 0755, err);
	if (rc)
		goto done;
	if (sqlite3_open_v2(s->path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = s->db ? srv_db_fail(s, err, "open")
			   : gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	/* the other side may write what this one reads: keep the schema inert */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_busy_handler(s->db, busy_wait, NULL);
	/*
	 * WAL with synchronous=NORMAL: a commit is in the WAL file before the
	 * answer, so it survives the process being killed (kill -9), not a power
	 * cut; it costs no fsync per request (the checkpoints sync).
	 */
	rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", err);
	if (!rc)
		rc = exec(s, schema, err);
	if (!rc)
		rc = srv_store_gb_schema(s, err);
	if (!rc)
		rc = srv_store_seen_schema(s, err);
	if (!rc)
		rc = srv_store_stats_schema(s, err);
	/* a database of an earlier version: the column saying which worker runs a job */
	if (!rc && !has_runner(s))
		rc = exec(s, "ALTER TABLE jobs ADD COLUMN runner INTEGER", err);
	if (rc)
		goto done;
	*out = s;
	s = NULL;
done:
	free(dir);
	srv_store_close(s);
	return rc;
}

void srv_store_close(struct srv_store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s->path);
	free(s->dir);
	free(s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* The integer the one-row query `sql` (binding a and b as text) returns. */
static int count(struct srv_store *s, long long *n, const char *sql, const char *a, const char *b,
		 struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	if (a)
		bind_text(st, 1, a);
	if (b)
		bind_text(st, 2, b);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		rc = srv_db_fail(s, err, "count jobs");
	sqlite3_finalize(st);
	return rc;
}

/* INSERT the delivery; SRV_REPLAY when the forge sent that id before. */
static int add_delivery(struct srv_store *s, const char *forge, const char *id, double when,
			struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	long long seen = 0;
	int rc = 0, step;

	if (!forge || !id)
		return 0;
	/* the same delivery sent to another forge's endpoint is a replay too */
	rc = count(s, &seen, "SELECT count(*) FROM deliveries WHERE id=?", id, NULL, err);
	if (rc || seen)
		return rc ? rc : SRV_REPLAY;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO deliveries(forge, id, received) VALUES(?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	bind_text(st, 1, forge);
	bind_text(st, 2, id);
	sqlite3_bind_double(st, 3, when);
	step = sqlite3_step(st);
	if (step == SQLITE_CONSTRAINT)
		rc = SRV_REPLAY;
	else if (step != SQLITE_DONE)
		rc = srv_db_fail(s, err, "record a delivery");
	sqlite3_finalize(st);
	return rc;
}

int srv_store_delivery(struct srv_store *s, const char *forge, const char *delivery,
		       double received, struct gr_err *err)
{
	return add_delivery(s, forge, delivery, received, err);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? strdup((const char *)t) : NULL;
}

void srv_files_free(struct srv_file *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++) {
		free(f[i].name);
		free(f[i].data.p);
	}
	free(f);
}

static int add_files(struct srv_store *s, long long id, const struct srv_file *files, size_t nfiles,
		     struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (!nfiles)
		return 0;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO files(job, name, data) VALUES(?,?,?)", -1, &st,
			       NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	for (size_t i = 0; !rc && i < nfiles; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		bind_text(st, 2, files[i].name);
		sqlite3_bind_blob64(st, 3, files[i].data.p ? files[i].data.p : "",
				    files[i].data.len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = srv_db_fail(s, err, "store an upload");
	}
	sqlite3_finalize(st);
	return rc;
}

int srv_store_files(struct srv_store *s, long long id, struct srv_file **out, size_t *n,
		    struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	struct srv_file *f = NULL, *bigger;
	size_t k = 0;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT name, data FROM files WHERE job=? ORDER BY rowid", -1,
			       &st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	sqlite3_bind_int64(st, 1, id);
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		const void *data = sqlite3_column_blob(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);

		bigger = realloc(f, (k + 1) * sizeof(*f));
		if (!bigger) {
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
			break;
		}
		f = bigger;
		memset(&f[k], 0, sizeof(f[k]));
		f[k].name = col_dup(st, 0);
		k++;
		if (!f[k - 1].name || gr_buf_put(&f[k - 1].data, data ? data : "", len))
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	sqlite3_finalize(st);
	if (rc) {
		srv_files_free(f, k);
		return rc;
	}
	*out = f;
	*n = k;
	return 0;
}

int srv_store_enqueue(struct srv_store *s, const struct srv_job_in *in,
		      const struct srv_file *files, size_t nfiles, size_t queue_max,
		      size_t per_student, long long *id, struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	long long waiting = 0, mine = 0;
	int rc, known = 0, make_way;

	/* a job accepted on a nearly full disk might not be gradable: refuse it now */
	if (srv_low_space(s->dir))
		return gr_err_set(err, GR_ELIMIT, "state folder '%s' is full", s->dir);
	rc = exec(s, "BEGIN IMMEDIATE", err);
	if (rc)
		return rc;
	rc = add_delivery(s, in->forge, in->delivery, in->received, err);
	if (!rc)
		rc = srv_store_add_body(s, in->body_sha, in->received, err);
	if (!rc)
		rc = srv_store_commit_known(s, in, &known, err);
	if (!rc && known == 1)
		rc = SRV_KNOWN; /* acknowledged, not queued: the newest is not graded again */
	if (!rc)
		rc = count(s, &waiting, "SELECT count(*) FROM jobs WHERE state='queued'", NULL,
			   NULL, err);
	if (!rc)
		rc = count(s, &mine,
			   "SELECT count(*) FROM jobs WHERE state='queued' AND assignment=? AND "
			   "student=?",
			   in->assignment, in->student, err);
	/*
	 * The newest push or upload is never the one refused: at a bound, the
	 * student's waiting jobs (which it would supersede at take anyway)
	 * make way for it. Only a student with nothing waiting meets a full queue.
	 */
	make_way = mine && ((size_t)mine >= per_student || (size_t)waiting >= queue_max);
	if (!rc && !make_way && (size_t)waiting >= queue_max)
		rc = SRV_QUEUE_FULL;
	if (!rc)
		rc = prepare(s,
			     "INSERT INTO jobs(assignment, student, kind, forge, delivery, "
			     "repository, commit_id, commit_time, received) "
			     "VALUES(?,?,?,?,?,?,?,?,?)",
			     &st, err);
	if (rc)
		goto done;
	bind_text(st, 1, in->assignment);
	bind_text(st, 2, in->student);
	bind_text(st, 3, in->kind);
	bind_text(st, 4, in->forge);
	bind_text(st, 5, in->delivery);
	bind_text(st, 6, in->repository);
	bind_text(st, 7, in->commit);
	bind_text(st, 8, in->commit_time);
	sqlite3_bind_double(st, 9, in->received);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = srv_db_fail(s, err, "queue a job");
		goto done;
	}
	*id = sqlite3_last_insert_rowid(s->db);
	rc = add_files(s, *id, files, nfiles, err);
	if (!rc && make_way)
		rc = srv_store_supersede(s, in->assignment, in->student, *id, err);
done:
	return tx_end(s, st, rc, err);
}

void srv_job_release(struct srv_job *j)
{
	free(j->assignment);
	free(j->student);
	free(j->kind);
	free(j->repository);
	free(j->commit);
	free(j->commit_time);
	memset(j, 0, sizeof(*j));
}

int srv_store_requeue(struct srv_store *s, long long id, struct gr_err *err)
{
	return run_id(s, "UPDATE jobs SET state='queued', started=NULL WHERE id=?", id, NULL, NULL,
		      err);
}

void srv_store_http_side(struct srv_store *s)
{
	/* checkpoints (and their fsync) are the grading side's: requests never wait on one */
	exec(s, "PRAGMA wal_autocheckpoint=0", NULL);
}

int srv_store_recover(struct srv_store *s, long long runner, int *n, struct gr_err *err)
{
	int rc = runner
		     ? run_id(s,
			      "UPDATE jobs SET state='queued', started=NULL WHERE "
			      "state='running' AND runner=?",
			      runner, NULL, NULL, err)
		     : exec(s, "UPDATE jobs SET state='queued', started=NULL WHERE state='running'",
			    err);

	if (!rc)
		*n = sqlite3_changes(s->db);
	return rc;
}

/* Read job `id` into *j (the columns the grading side needs). */
static int read_job(struct srv_store *s, long long id, struct srv_job *j, struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT assignment, student, kind, repository, commit_id, "
			       "commit_time, received, attempts FROM jobs WHERE id=?",
			       -1, &st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = srv_db_fail(s, err, "read a job");
		goto done;
	}
	j->id = id;
	j->assignment = col_dup(st, 0);
	j->student = col_dup(st, 1);
	j->kind = col_dup(st, 2);
	j->repository = col_dup(st, 3);
	j->commit = col_dup(st, 4);
	j->commit_time = col_dup(st, 5);
	j->received = sqlite3_column_double(st, 6);
	j->attempts = sqlite3_column_int(st, 7);
	if (!j->assignment || !j->student || !j->kind) {
		srv_job_release(j);
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	}
done:
	sqlite3_finalize(st);
	return rc;
}

/* Run `sql` binding the integer `id` (and optional text a, b). */
static int run_id(struct srv_store *s, const char *sql, long long id, const char *a, const char *b,
		  struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	sqlite3_bind_int64(st, 1, id);
	if (a)
		bind_text(st, 2, a);
	if (b)
		bind_text(st, 3, b);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = srv_db_fail(s, err, "update a job");
	sqlite3_finalize(st);
	return rc;
}

int srv_store_supersede(struct srv_store *s, const char *assignment, const char *student,
			long long by, struct gr_err *err)
{
	return run_id(s,
		      "UPDATE jobs SET state='superseded', error=" SUPERSEDED_BY ", "
		      "finished=(julianday('now')-2440587.5)*86400.0 WHERE "
		      "state='queued' AND id<?1 AND assignment=?2 AND student=?3",
		      by, assignment, student, err);
}

int srv_store_take(struct srv_store *s, long long runner, struct srv_job *out, int *superseded,
		   struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	long long id = 0, newest = 0;
	char *a = NULL, *stu = NULL;
	int rc;

	*superseded = 0;
	rc = tx_begin(s,
		      "SELECT id, assignment, student FROM jobs q WHERE state='queued' "
		      "AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.state='running' AND "
		      "r.assignment=q.assignment AND r.student=q.student) "
		      "ORDER BY id LIMIT 1",
		      &st, err);
	if (rc)
		return rc;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = gr_err_set(err, GR_ENOTFOUND, "no job waits");
		goto done;
	}
	id = sqlite3_column_int64(st, 0);
	a = col_dup(st, 1);
	stu = col_dup(st, 2);
	if (!a || !stu) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	/*
	 * The student's newest job, but before a push of a commit one of
	 * their jobs had already (a force push back or a replay, which the
	 * branch's tip decides between at the fetch) the newest of the others:
	 * replays sent after a newer push never keep it waiting.
	 */
	rc = count(s, &newest,
		   "SELECT coalesce(max(CASE WHEN NOT EXISTS (SELECT 1 FROM jobs k WHERE "
		   "k.assignment=q.assignment AND k.student=q.student AND k.commit_id=q.commit_id "
		   "AND k.id<q.id) THEN q.id END), max(q.id)) FROM jobs q WHERE q.state='queued' "
		   "AND q.assignment=? AND q.student=?",
		   a, stu, err);
	if (!rc && newest > id) {
		/*
		 * Several pushes of one student wait: only the newest is graded. The
		 * others keep their files until it is (srv_store_finish): should its
		 * commit be one the branch moved past, they wait again.
		 */
		rc = srv_store_supersede(s, a, stu, newest, err);
		*superseded = rc ? 0 : sqlite3_changes(s->db);
		id = newest;
	}
	if (!rc) {
		char sql[160];

		/* runner: the worker's pid, an integer of ours */
		snprintf(sql, sizeof(sql),
			 "UPDATE jobs SET state='running', attempts=attempts+1, runner=%lld, "
			 "started=(julianday('now')-2440587.5)*86400.0 WHERE id=?",
			 runner);
		rc = run_id(s, sql, id, NULL, NULL, err);
	}
done:
	rc = tx_end(s, st, rc, err);
	if (!rc)
		rc = read_job(s, id, out, err);
	free(a);
	free(stu);
	return rc;
}

int srv_store_finish(struct srv_store *s, long long id, const char *state, const char *error,
		     const char *result, const char *student_result, double score, double max_score,
		     const struct srv_call_in *calls, size_t ncalls, struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* the outcome and the calls it owes, together: a crash loses neither */
	rc = tx_begin(s,
		      "UPDATE jobs SET state=?2, error=?3, result=?4, score=?5, "
		      "max_score=?6, finished=(julianday('now')-2440587.5)*86400.0, "
		      "student_result=?7 WHERE id=?1",
		      &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, state);
	bind_text(st, 3, error);
	bind_text(st, 4, result);
	bind_text(st, 7, student_result);
	if (result) {
		sqlite3_bind_double(st, 5, score);
		sqlite3_bind_double(st, 6, max_score);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = srv_db_fail(s, err, "finish a job");
	/* the upload's bytes are in the submission folder now */
	if (!rc)
		rc = run_id(s, "DELETE FROM files WHERE job=?", id, NULL, NULL, err);
	/*
	 * A job that ends other than done (its commit no longer the branch's
	 * tip or not on it: a delivery late, out of order or replayed; or a
	 * row refused) took the place of the jobs its take superseded for
	 * nothing: they wait again, the newest first. Once one is done, they
	 * are superseded for good, their files gone.
	 */
	if (!rc && state && strcmp(state, "done"))
		rc = run_id(s,
			    "UPDATE jobs SET state='queued', error=NULL, finished=NULL WHERE "
			    "state='superseded' AND error=" SUPERSEDED_BY,
			    id, NULL, NULL, err);
	else if (!rc)
		rc = run_id(s,
			    "DELETE FROM files WHERE job IN (SELECT k.id FROM jobs k, jobs j WHERE "
			    "j.id=?1 AND k.assignment=j.assignment AND k.student=j.student AND "
			    "k.state='superseded')",
			    id, NULL, NULL, err);
	if (!rc)
		rc = srv_store_add_calls(s, id, calls, ncalls, err);
	return tx_end(s, st, rc, err);
}

/* A job row as the API shows it (the submission itself is added by callers). */
json_t *srv_job_row(sqlite3_stmt *st)
{
	json_t *j = json_object();
	static const char *const names[] = {"id",	  "assignment", "student",    "kind",
					    "repository", "commit",	"state",      "error",
					    "received",	  "started",	"finished",   "score",
					    "max_score",  "attempts",	"commit_time"};

	for (int i = 0; j && i < (int)(sizeof(names) / sizeof(names[0])); i++) {
		json_t *v = NULL;

		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			v = json_integer(sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT:
			v = json_real(sqlite3_column_double(st, i));
			break;
		case SQLITE_TEXT:
			v = json_string((const char *)sqlite3_column_text(st, i));
			break;
		default:
			continue;
		}
		json_object_set_new(j, names[i], v);
	}
	return j;
}

/* One job as JSON, with its queue position and submission when it has them. */
static int job_query(struct srv_store *s, sqlite3_stmt *st, int student_view, json_t **out,
		     struct gr_err *err)
{
	json_t *j = NULL;
	const char *result, *state;
	long long pos = 0;
	int rc = 0;

	if (sqlite3_step(st) != SQLITE_ROW)
		return gr_err_set(err, GR_ENOTFOUND, "no such job");
	j = srv_job_row(st);
	if (!j)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	state = (const char *)sqlite3_column_text(st, 6);
	result = (const char *)sqlite3_column_text(st, student_view ? 16 : 15);
	if (result)
		json_object_set_new(j, "submission", json_loads(result, 0, NULL));
	if (state && !strcmp(state, "queued")) {
		char id[32];

		snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(st, 0));
		rc = count(s, &pos, "SELECT count(*) FROM jobs WHERE state='queued' AND id<=?", id,
			   NULL, err);
		json_object_set_new(j, "position", json_integer(pos));
	}
	if (rc)
		json_decref(j);
	else
		*out = j;
	return rc;
}

int srv_store_job_json(struct srv_store *s, long long id, int student_view, json_t **out,
		       struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT " SRV_JOB_COLS " FROM jobs WHERE id=?", -1, &st,
			       NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	sqlite3_bind_int64(st, 1, id);
	rc = job_query(s, st, student_view, out, err);
	sqlite3_finalize(st);
	return rc;
}

int srv_store_result_json(struct srv_store *s, const char *assignment, const char *student,
			  int student_view, json_t **out, struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT " SRV_JOB_COLS " FROM jobs WHERE assignment=? AND student=? "
			       "AND state='done' ORDER BY finished DESC, id DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	bind_text(st, 1, assignment);
	bind_text(st, 2, student);
	rc = job_query(s, st, student_view, out, err);
	sqlite3_finalize(st);
	return rc;
}
