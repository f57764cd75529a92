/*
 * srv_store_stats.c - the figures /metrics, /healthz and the instructor's
 * page show: jobs by state and the two latency histograms, kept by the
 * database itself as jobs change (triggers on the jobs table), so reading
 * them costs a few rows whatever the number of jobs, and they stay true
 * whoever writes a row (either side, or sqlite3 by hand).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_store_int.h"

static const double bounds[SRV_HIST_N] = SRV_HIST_LE;

/* The two histograms: their names in the tables and what they measure of a row ("@"). */
static const char *const metrics[] = {"grading", "push"};
static const char *const exprs[] = {"coalesce(@.finished-@.started, 0)",
				    "coalesce(@.finished-@.received, 0)"};

/*
 * Counted in the histograms: a done job with its finish time (as a scan
 * would count it). The triggers add NEW and take OLD away when counted.
 */
#define COUNTED "@.state='done' AND @.finished IS NOT NULL"

static const char tables[] =
    "CREATE TABLE job_counts (state TEXT PRIMARY KEY, n INTEGER NOT NULL);"
    "CREATE TABLE job_hist (metric TEXT NOT NULL, le REAL NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY (metric, le));"
    "CREATE TABLE job_sums (metric TEXT PRIMARY KEY, total INTEGER NOT NULL,"
    " sum REAL NOT NULL);";

/* Append `text` to *sql with every "@" made `row` (*sql freed and NULL on failure). */
static void add(char **sql, const char *text, const char *row)
{
	size_t len, extra = 0, k;
	char *more;

	if (!*sql)
		return;
	for (const char *p = text; *p; p++)
		extra += *p == '@' ? strlen(row) : 1;
	len = strlen(*sql);
	more = realloc(*sql, len + extra + 1);
	if (!more) {
		free(*sql);
		*sql = NULL;
		return;
	}
	k = len;
	for (const char *p = text; *p; p++) {
		if (*p == '@') {
			memcpy(more + k, row, strlen(row));
			k += strlen(row);
		} else {
			more[k++] = *p;
		}
	}
	more[k] = '\0';
	*sql = more;
}

/* The statements adding (sign "+") or taking away ("-") `row` (NEW, OLD) from the figures. */
static void add_row(char **sql, const char *row, const char *sign)
{
	char text[512];

	if (!strcmp(sign, "+"))
		add(sql,
		    "INSERT INTO job_counts(state, n) VALUES(@.state, 1) "
		    "ON CONFLICT(state) DO UPDATE SET n=n+1;",
		    row);
	else
		add(sql, "UPDATE job_counts SET n=n-1 WHERE state=@.state;", row);
	for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		snprintf(
		    text, sizeof(text),
		    "UPDATE job_hist SET n=n%s1 WHERE metric='%s' AND le>=%s AND %s;"
		    "UPDATE job_sums SET total=total%s1, sum=sum%s%s WHERE metric='%s' AND %s;",
		    sign, metrics[m], exprs[m], COUNTED, sign, sign, exprs[m], metrics[m], COUNTED);
		add(sql, text, row);
	}
}

/* The triggers keeping the figures, and the figures of the jobs there are now. */
static char *stats_sql(void)
{
	char *sql = strdup(tables), text[512];

	add(&sql, "CREATE TRIGGER job_stats_insert AFTER INSERT ON jobs BEGIN ", "");
	add_row(&sql, "NEW", "+");
	add(&sql, "END;CREATE TRIGGER job_stats_delete AFTER DELETE ON jobs BEGIN ", "");
	add_row(&sql, "OLD", "-");
	add(&sql,
	    "END;CREATE TRIGGER job_stats_update AFTER UPDATE OF state, started, finished, "
	    "received ON jobs BEGIN ",
	    "");
	add_row(&sql, "OLD", "-");
	add_row(&sql, "NEW", "+");
	add(&sql, "END;INSERT INTO job_counts SELECT state, count(*) FROM jobs GROUP BY state;",
	    "");
	for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		for (size_t i = 0; i < SRV_HIST_N; i++) {
			snprintf(text, sizeof(text),
				 "INSERT INTO job_hist SELECT '%s', %.17g, count(*) FROM jobs j "
				 "WHERE %s AND %s<=%.17g;",
				 metrics[m], bounds[i], COUNTED, exprs[m], bounds[i]);
			add(&sql, text, "j");
		}
		snprintf(text, sizeof(text),
			 "INSERT INTO job_sums SELECT '%s', count(*), total(%s) FROM jobs j "
			 "WHERE %s;",
			 metrics[m], exprs[m], COUNTED);
		add(&sql, text, "j");
	}
	return sql;
}

int srv_store_stats_schema(struct srv_store *s, struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	char *sql = NULL;
	int rc = 0, have;

	/* made once, by whichever side opens the database first; counted from the jobs there */
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "begin a transaction");
	if (sqlite3_prepare_v2(s->db,
			       "SELECT count(*) FROM sqlite_master WHERE type='trigger' AND "
			       "name='job_stats_update'",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = srv_db_fail(s, err, "read the schema");
		goto done;
	}
	have = sqlite3_column_int(st, 0);
	if (!have) {
		sql = stats_sql();
		if (!sql)
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		else if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
			rc = srv_db_fail(s, err, "make the job figures");
	}
done:
	sqlite3_finalize(st);
	free(sql);
	if (sqlite3_exec(s->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !rc)
		rc = srv_db_fail(s, err, "commit the job figures");
	if (rc)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int srv_store_stats(struct srv_store *s, json_t **out, size_t recent, struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	json_t *j = json_object(), *by = json_object(), *list = json_array();
	int rc = 0;

	if (!j || !by || !list) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	if (sqlite3_prepare_v2(s->db, "SELECT state, n FROM job_counts WHERE n>0", -1, &st, NULL) !=
	    SQLITE_OK) {
		rc = srv_db_fail(s, err, "prepare a query");
		goto done;
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(by, (const char *)sqlite3_column_text(st, 0),
				    json_integer(sqlite3_column_int64(st, 1)));
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT " SRV_JOB_COLS " FROM jobs ORDER BY id DESC LIMIT ?",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = srv_db_fail(s, err, "prepare a query");
		goto done;
	}
	sqlite3_bind_int64(st, 1, (long long)recent);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(list, srv_job_row(st));
	json_object_set_new(j, "jobs", by);
	json_object_set_new(j, "recent", list);
	by = list = NULL;
	*out = j;
	j = NULL;
done:
	sqlite3_finalize(st);
	json_decref(j);
	json_decref(by);
	json_decref(list);
	return rc;
}

int srv_store_histogram(struct srv_store *s, const char *metric, unsigned long long *counts,
			double *sum, unsigned long long *total, struct gr_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	memset(counts, 0, SRV_HIST_N * sizeof(*counts));
	*sum = 0;
	*total = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT le, n FROM job_hist WHERE metric=?", -1, &st, NULL) !=
	    SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	sqlite3_bind_text(st, 1, metric, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		for (size_t i = 0; i < SRV_HIST_N; i++)
			if (sqlite3_column_double(st, 0) == bounds[i])
				counts[i] = (unsigned long long)sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db, "SELECT total, sum FROM job_sums WHERE metric=?", -1, &st,
			       NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	sqlite3_bind_text(st, 1, metric, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*total = (unsigned long long)sqlite3_column_int64(st, 0);
		*sum = sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	return rc;
}
