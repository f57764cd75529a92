/*
 * srv_page.c - what the service shows about itself: GET /metrics in
 * Prometheus's text format and GET /, an HTML page of the queue and the
 * recent jobs for instructors (no student code, no external assets), and
 * GET /api/v1/assignments/{a}/export?to=FORMAT with export's own code.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "grader/export.h"
#include "grader/gradebook.h"
#include "srv_http_int.h"

static const double buckets[SRV_HIST_N] = SRV_HIST_LE;

static void histogram(struct gr_buf *b, struct srv_store *st, const char *name, const char *help,
		      const char *metric)
{
	unsigned long long counts[SRV_HIST_N], total = 0;
	double sum = 0;
	char line[256];

	if (srv_store_histogram(st, metric, counts, &sum, &total, NULL) < 0)
		return;
	snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	gr_buf_put(b, line, strlen(line));
	for (size_t i = 0; i < SRV_HIST_N; i++) {
		snprintf(line, sizeof(line), "%s_bucket{le=\"%g\"} %llu\n", name, buckets[i],
			 counts[i]);
		gr_buf_put(b, line, strlen(line));
	}
	snprintf(line, sizeof(line), "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n",
		 name, total, name, sum, name, total);
	gr_buf_put(b, line, strlen(line));
}

/*
 * The text `make` gives, made at most once a second (SRV_CACHE_S) and no
 * more often than every ten times what making it last cost: anyone may ask
 * for /metrics and /healthz, and each making reads every job. Requests
 * meanwhile get a copy of the last one, also while one request makes the
 * next (only the very first waits for it). A heap copy, or NULL.
 */
static char *cached(struct srv_cache *k, char *(*make)(struct srv_http *, struct srv_req *),
		    struct srv_http *h, struct srv_req *r)
{
	char *text = NULL, *fresh;
	double t0 = gr_now(), every;

	pthread_mutex_lock(&k->lock);
	every = k->cost * 10 > SRV_CACHE_S ? k->cost * 10 : SRV_CACHE_S;
	if (k->text && (k->busy || t0 - k->at < every)) {
		text = strdup(k->text);
		pthread_mutex_unlock(&k->lock);
		return text;
	}
	/* the first answer is made holding the lock: the others wait for it, not make their own */
	k->busy = k->text != NULL;
	if (k->busy)
		pthread_mutex_unlock(&k->lock);
	fresh = make(h, r);
	if (k->busy)
		pthread_mutex_lock(&k->lock);
	k->busy = 0;
	if (fresh) {
		free(k->text);
		k->text = fresh;
		k->at = gr_now();
		k->cost = k->at - t0;
	}
	if (k->text)
		text = strdup(k->text);
	pthread_mutex_unlock(&k->lock);
	return text;
}

static char *health_text(struct srv_http *h, struct srv_req *r)
{
	json_t *j = NULL;
	char *text;

	(void)h;
	if (srv_store_stats(r->store, &j, 0, NULL) < 0)
		return NULL;
	json_object_set_new(j, "status", json_string("ok"));
	json_object_del(j, "recent");
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return text;
}

int srv_page_health(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c)
{
	char *text = cached(&h->health, health_text, h, r);

	if (!text)
		return srv_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, "state unreadable");
	return srv_reply_text(r, c, MHD_HTTP_OK, "application/json", text);
}

static char *metrics_text(struct srv_http *h, struct srv_req *r)
{
	static const char *const states[] = {"queued", "running", "done", "failed", "superseded"};
	struct gr_buf b = {0};
	json_t *stats = NULL, *by;
	char line[256];

	if (srv_store_stats(r->store, &stats, 0, NULL) < 0)
		return NULL;
	by = json_object_get(stats, "jobs");
	snprintf(line, sizeof(line),
		 "# HELP grader_queue_depth Jobs waiting to be graded.\n"
		 "# TYPE grader_queue_depth gauge\ngrader_queue_depth %lld\n"
		 "# HELP grader_jobs Jobs in the state database by state.\n"
		 "# TYPE grader_jobs gauge\n",
		 (long long)json_integer_value(json_object_get(by, "queued")));
	gr_buf_put(&b, line, strlen(line));
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		snprintf(line, sizeof(line), "grader_jobs{state=\"%s\"} %lld\n", states[i],
			 (long long)json_integer_value(json_object_get(by, states[i])));
		gr_buf_put(&b, line, strlen(line));
	}
	snprintf(line, sizeof(line),
		 "# HELP grader_http_requests_total Requests answered by this HTTP side.\n"
		 "# TYPE grader_http_requests_total counter\n");
	gr_buf_put(&b, line, strlen(line));
	for (int k = 1; k <= 5; k++) {
		snprintf(line, sizeof(line), "grader_http_requests_total{code=\"%dxx\"} %llu\n", k,
			 (unsigned long long)atomic_load(&h->requests[k]));
		gr_buf_put(&b, line, strlen(line));
	}
	histogram(&b, r->store, "grader_grading_seconds",
		  "Seconds from taking a job to its result.", "grading");
	histogram(&b, r->store, "grader_push_to_result_seconds",
		  "Seconds from receiving a push or upload to its result.", "push");
	json_decref(stats);
	return b.p;
}

int srv_page_metrics(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c)
{
	char *text = cached(&h->metrics, metrics_text, h, r);

	if (!text)
		return srv_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, "state unreadable");
	return srv_reply_text(r, c, MHD_HTTP_OK, "text/plain; version=0.0.4", text);
}

/* Append `s` with &, <, >, " and ' escaped. */
static void put_html(struct gr_buf *b, const char *s)
{
	for (; s && *s; s++) {
		const char *e = *s == '&'    ? "&amp;"
				: *s == '<'  ? "&lt;"
				: *s == '>'  ? "&gt;"
				: *s == '"'  ? "&quot;"
				: *s == '\'' ? "&#39;"
					     : NULL;

		if (e)
			gr_buf_put(b, e, strlen(e));
		else
			gr_buf_put(b, s, 1);
	}
}

static void put(struct gr_buf *b, const char *s)
{
	gr_buf_put(b, s, strlen(s));
}

static void cell_json(struct gr_buf *b, json_t *v)
{
	char num[64];

	put(b, "<td>");
	if (json_is_string(v)) {
		put_html(b, json_string_value(v));
	} else if (json_is_number(v)) {
		snprintf(num, sizeof(num), "%g", json_number_value(v));
		put(b, num);
	}
	put(b, "</td>");
}

int srv_page_index(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c)
{
	static const char *const cols[] = {"id",    "assignment", "student",   "kind",
					   "state", "score",	  "max_score", "error"};
	struct gr_buf b = {0};
	json_t *stats = NULL, *job;
	const char *key;
	json_t *v;
	size_t i;
	char when[64];

	(void)h;

	if (srv_store_stats(r->store, &stats, 50, NULL) < 0)
		return srv_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, "state unreadable");
	put(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>grader serve</title>"
		"<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
		"td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}</style></head>"
		"<body><h1>grader serve</h1><h2>Queue</h2><ul>");
	json_object_foreach(json_object_get(stats, "jobs"), key, v)
	{
		char line[128];

		snprintf(line, sizeof(line), ": %lld</li>", (long long)json_integer_value(v));
		put(&b, "<li>");
		put_html(&b, key);
		put(&b, line);
	}
	put(&b, "</ul><h2>Recent jobs</h2><table><tr>");
	for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
		put(&b, "<th>");
		put(&b, cols[k]);
		put(&b, "</th>");
	}
	put(&b, "<th>received</th></tr>\n");
	json_array_foreach(json_object_get(stats, "recent"), i, job)
	{
		time_t t = (time_t)json_number_value(json_object_get(job, "received"));
		struct tm tm;

		put(&b, "<tr>");
		for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++)
			cell_json(&b, json_object_get(job, cols[k]));
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "<td>%Y-%m-%d %H:%M:%SZ</td></tr>\n", &tm);
		put(&b, when);
	}
	put(&b, "</table></body></html>\n");
	json_decref(stats);
	if (!b.p)
		return MHD_NO;
	return srv_reply_text(r, c, MHD_HTTP_OK, "text/html; charset=utf-8", b.p);
}

/*
 * GET .../export?to=F: `grader export --to F` of the gradebook, brought up
 * to date first, read as a stream (export_src: one submission in memory at
 * a time) into a private temporary file that is sent as it is read.
 */
int srv_page_export(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c,
		    const char *assignment)
{
	static const char *const types[] = {
	    [EXPORT_NBGRADER_DB] = "application/vnd.sqlite3",
	    [EXPORT_CSV] = "text/csv; charset=utf-8",
	    [EXPORT_JUNIT] = "application/xml",
	    [EXPORT_MARKDOWN] = "text/markdown; charset=utf-8",
	    [EXPORT_ITEMS] = "text/csv; charset=utf-8",
	};
	const char *to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
	int fmt = to ? export_format_parse(to) : -1;
	struct export_opts o = {.assignment = assignment};
	struct export_src *src = NULL;
	struct gr_err err = {0};
	char dir[] = "/tmp/grader-export.XXXXXX", *path = NULL, *out = NULL;
	int rc, fd = -1, made = 0;

	if (fmt < 0 || fmt == EXPORT_GRADESCOPE)
		return srv_reply_error(r, c, MHD_HTTP_BAD_REQUEST,
				       "to= must be csv, nbgrader-db, junit, markdown or items");
	rc = srv_gradebook_current(r, assignment, &err);
	if (rc == GR_ELIMIT)
		return srv_reply(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
				 json_pack("{s:s}", "error", err.msg), "5");
	if (rc)
		return srv_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, "state unreadable");
	if (asprintf(&path, "%s/gradebooks/%s.json", h->cfg->state, assignment) < 0)
		return MHD_NO;
	rc = export_src_open(&src, path, NULL, &err);
	free(path);
	if (rc == GR_ENOTFOUND)
		return srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, "nothing graded yet");
	if (!rc && !(made = mkdtemp(dir) != NULL))
		rc = gr_err_sys(&err, GR_EIO, errno, "cannot make a temporary folder");
	if (!rc && !(out = gr_path_join(dir, fmt == EXPORT_NBGRADER_DB ? "gradebook.db" : "out")))
		rc = gr_err_set(&err, GR_ENOMEM, "out of memory");
	if (!rc)
		rc = export_src_write(src, fmt, out, &o, &err);
	if (!rc && (fd = open(out, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		rc = gr_err_sys(&err, GR_EIO, errno, "cannot open '%s'", out);
	/* the open descriptor keeps the file; the folder goes now */
	if (made)
		gr_rm_rf(dir, NULL);
	free(out);
	export_src_free(src);
	if (rc) {
		if (fd >= 0)
			close(fd);
		srv_log("export: %s", err.msg);
		return srv_reply_error(r, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot export");
	}
	return srv_reply_fd(r, c, types[fmt], fd);
}

/* How long a gradebook or export request waits for the grading side to write the file. */
#define GB_WAIT_MS 20000

int srv_gradebook_current(struct srv_req *r, const char *assignment, struct gr_err *err)
{
	double asked = srv_wall_now(), wanted = 0, written = 0;
	int rc;

	rc = srv_store_gb_want(r->store, assignment, asked, err);
	for (int waited = 0; !rc; waited += 20) {
		rc = srv_store_gb_state(r->store, assignment, &wanted, &written, err);
		if (rc || written >= asked)
			break;
		if (waited >= GB_WAIT_MS)
			return gr_err_set(err, GR_ELIMIT, "gradebook '%s' is not written yet",
					  assignment);
		poll(NULL, 0, 20);
	}
	/* the database's own message names its path: logged here, not sent */
	if (rc) {
		srv_log("%s", err->msg);
		return gr_err_set(err, GR_EIO, "state unreadable");
	}
	return 0;
}

/*
 * GET /api/v1/assignments/{a}/gradebook: the gradebook file as `grader
 * grade` writes it, brought up to date first, sent from the file.
 */
int srv_page_gradebook(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c,
		       const char *name)
{
	struct gr_err err = {0};
	char *path = NULL;
	int fd, rc;

	rc = srv_gradebook_current(r, name, &err);
	if (rc == GR_ELIMIT)
		return srv_reply(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
				 json_pack("{s:s}", "error", err.msg), "5");
	if (rc)
		return srv_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, "state unreadable");
	if (asprintf(&path, "%s/gradebooks/%s.json", h->cfg->state, name) < 0)
		return MHD_NO;
	/* the file is replaced by a rename: this descriptor keeps the one opened whole */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0 && errno == ENOENT)
		return srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, "nothing graded yet");
	if (fd < 0)
		return srv_reply_error(r, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "cannot read the gradebook");
	return srv_reply_fd(r, c, "application/json", fd);
}
