/*
 * srv_store_seen.c - when the grading side first saw each queued job. The
 * HTTP side writes a job's `received` time, and lateness is judged by it;
 * the HTTP side is not trusted with it alone. The grading side stamps every
 * queued job it has not seen yet (its own clock, an HMAC under its own key,
 * STATE/calls.key, which the HTTP side cannot read) over what the row
 * holds then (its fields and files), and a job's received time is taken
 * only within SRV_SEEN_SLACK seconds before that stamp, while the row still
 * holds what was stamped.
 * And whether a push repeats the commit of the student's newest job (a
 * replayed delivery under a new id must not grade it again, late).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "srv_store_int.h"

int srv_store_seen_schema(struct srv_store *s, struct gr_err *err)
{
	/* deliveries by id alone: one delivery is one, whichever forge's endpoint it is sent to */
	if (sqlite3_exec(s->db,
			 "CREATE TABLE IF NOT EXISTS seen ("
			 " job INTEGER PRIMARY KEY, at REAL NOT NULL, mac TEXT NOT NULL);"
			 "CREATE INDEX IF NOT EXISTS deliveries_id ON deliveries(id);"
			 "CREATE TABLE IF NOT EXISTS bodies ("
			 " sha TEXT PRIMARY KEY, received REAL NOT NULL);",
			 NULL, NULL, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "make the table of jobs seen");
	return 0;
}

/*
 * What a stamp vouches for: the row's fields the grading side uses and a
 * SHA-256 of its files (names and bytes), as one text (heap; NULL when the
 * job is gone or on a failure). A row re-queued with other files, another
 * commit or another received time no longer matches its stamp.
 */
static char *content(struct srv_store *s, long long job)
{
	sqlite3_stmt *q = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dn = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1] = "", *text = NULL;
	const char *col[6];
	double received = 0;
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);

	if (ok &&
	    sqlite3_prepare_v2(s->db, "SELECT name, data FROM files WHERE job=? ORDER BY rowid", -1,
			       &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, job);
		while (ok && sqlite3_step(q) == SQLITE_ROW) {
			const unsigned char *name = sqlite3_column_text(q, 0);
			const void *data = sqlite3_column_blob(q, 1);
			char len[32];

			snprintf(len, sizeof(len), "\n%d\n", sqlite3_column_bytes(q, 1));
			ok = EVP_DigestUpdate(md, name ? (const char *)name : "",
					      name ? strlen((const char *)name) : 0) &&
			     EVP_DigestUpdate(md, len, strlen(len)) &&
			     EVP_DigestUpdate(md, data ? data : "",
					      (size_t)sqlite3_column_bytes(q, 1));
		}
	} else {
		ok = 0;
	}
	sqlite3_finalize(q);
	q = NULL;
	ok = ok && EVP_DigestFinal_ex(md, dig, &dn);
	EVP_MD_CTX_free(md);
	for (unsigned i = 0; ok && i < dn; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	if (!ok || sqlite3_prepare_v2(s->db,
				      "SELECT assignment, student, kind, repository, commit_id, "
				      "received FROM jobs WHERE id=?",
				      -1, &q, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(q, 1, job);
	if (sqlite3_step(q) == SQLITE_ROW) {
		for (int i = 0; i < 5; i++) {
			col[i] = (const char *)sqlite3_column_text(q, i);
			col[i] = col[i] ? col[i] : "";
		}
		received = sqlite3_column_double(q, 5);
		if (asprintf(&text, "%lld\n%s\n%s\n%s\n%s\n%s\n%.6f\n%s", job, col[0], col[1],
			     col[2], col[3], col[4], received, hex) < 0)
			text = NULL;
	}
	sqlite3_finalize(q);
	return text;
}

/* The stamp's MAC: the time and the job's content, under the grading side's key. */
static int seen_mac(char out[65], struct srv_store *s, const char *key, long long job, double at)
{
	char *what = content(s, job), *text = NULL;

	out[0] = '\0';
	if (what && asprintf(&text, "seen %.6f\n%s", at, what) >= 0)
		srv_hmac_sha256_hex(out, key, text, strlen(text));
	free(text);
	free(what);
	return out[0] ? 0 : -1;
}

int srv_store_stamp(struct srv_store *s, const char *key, double now, struct gr_err *err)
{
	sqlite3_stmt *q = NULL, *ins = NULL;
	char mac[65];
	int rc = 0;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "begin a transaction");
	/* a row the HTTP side put there first is kept, and fails its check */
	if (sqlite3_prepare_v2(s->db,
			       "SELECT id FROM jobs WHERE state='queued' AND id NOT IN "
			       "(SELECT job FROM seen)",
			       -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO seen(job, at, mac) VALUES(?,?,?)", -1,
			       &ins, NULL) != SQLITE_OK) {
		rc = srv_db_fail(s, err, "prepare a query");
		goto done;
	}
	while (!rc && sqlite3_step(q) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(q, 0);

		if (seen_mac(mac, s, key, id, now) < 0)
			continue; /* gone meanwhile, or no memory: stamped at its take */
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, id);
		sqlite3_bind_double(ins, 2, now);
		sqlite3_bind_text(ins, 3, mac, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			rc = srv_db_fail(s, err, "stamp a job");
	}
done:
	sqlite3_finalize(q);
	sqlite3_finalize(ins);
	if (!rc && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = srv_db_fail(s, err, "stamp the jobs");
	if (rc)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int srv_store_seen_at(struct srv_store *s, const char *key, long long job, double *at)
{
	sqlite3_stmt *q = NULL;
	char mac[65];
	int found = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT at, mac FROM seen WHERE job=?", -1, &q, NULL) !=
	    SQLITE_OK)
		return 0;
	sqlite3_bind_int64(q, 1, job);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) == SQLITE_FLOAT &&
	    sqlite3_column_text(q, 1)) {
		*at = sqlite3_column_double(q, 0);
		found = seen_mac(mac, s, key, job, *at) == 0 &&
			strlen((const char *)sqlite3_column_text(q, 1)) == 64 &&
			CRYPTO_memcmp(mac, sqlite3_column_text(q, 1), 64) == 0;
	}
	sqlite3_finalize(q);
	return found;
}

int srv_store_add_body(struct srv_store *s, const char *sha, double when, struct gr_err *err)
{
	sqlite3_stmt *q = NULL;
	int rc = 0, step;

	if (!sha)
		return 0;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO bodies(sha, received) VALUES(?,?)", -1, &q,
			       NULL) != SQLITE_OK)
		return srv_db_fail(s, err, "prepare a query");
	sqlite3_bind_text(q, 1, sha, -1, SQLITE_STATIC);
	sqlite3_bind_double(q, 2, when);
	step = sqlite3_step(q);
	if (step == SQLITE_CONSTRAINT)
		rc = SRV_REPLAY; /* the same signed bytes: a replay under a new delivery id */
	else if (step != SQLITE_DONE)
		rc = srv_db_fail(s, err, "record a delivery's body");
	sqlite3_finalize(q);
	return rc;
}

int srv_store_commit_known(struct srv_store *s, const struct srv_job_in *in, int *known,
			   struct gr_err *err)
{
	static const char *const sql[] = {
	    /* the newest push (an upload names no commit) that is queued, running or done */
	    "SELECT 1 FROM (SELECT commit_id FROM jobs WHERE assignment=?1 AND student=?2 AND "
	    "kind='push' AND state IN ('queued', 'running', 'done') ORDER BY id DESC LIMIT 1) "
	    "WHERE commit_id=?3",
	    "SELECT 1 FROM jobs WHERE assignment=?1 AND student=?2 AND commit_id=?3 LIMIT 1"};
	int rc = 0;

	/*
	 * Known (1): the commit of the student's newest push for the
	 * assignment that is queued, running or done (a replay of it, or the
	 * forge sending it again). Any other commit is queued, even one graded
	 * before: a force push back to it makes it the branch's tip again, and
	 * the grading side grades a push only while its commit is the tip (a
	 * replay of a commit the branch moved past is superseded there). Such
	 * a commit seen before (2) may be a replay of a GitLab body (its token
	 * is sent in clear) as well as a force push: srv_store_take grades the
	 * student's newest push of a new commit before it.
	 */
	*known = 0;
	for (int i = 0; !rc && !*known && in->commit && i < 2; i++) {
		sqlite3_stmt *q = NULL;

		if (sqlite3_prepare_v2(s->db, sql[i], -1, &q, NULL) != SQLITE_OK)
			return srv_db_fail(s, err, "prepare a query");
		sqlite3_bind_text(q, 1, in->assignment, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, in->student, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, in->commit, -1, SQLITE_STATIC);
		switch (sqlite3_step(q)) {
		case SQLITE_ROW:
			*known = i + 1;
			break;
		case SQLITE_DONE:
			break;
		default:
			rc = srv_db_fail(s, err, "look up a commit");
		}
		sqlite3_finalize(q);
	}
	return rc;
}
