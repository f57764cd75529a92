/*
 * srv_http.c - the HTTP side of `grader serve` (libmicrohttpd): webhooks in,
 * jobs into the state database, results and gradebooks out. It runs as an
 * unprivileged user in its own process and never grades anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "grader/roster.h"
#include "srv_int.h"
#include "srv_http_int.h"

/* Wall-clock seconds since the epoch, with microseconds. */
double srv_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Queue `resp` (made by the caller; NULL when making it failed) with its
 * content type and an optional Retry-After, and record the status for the log.
 */
static int queue(struct srv_req *r, struct MHD_Connection *c, unsigned status,
		 struct MHD_Response *resp, const char *type, const char *retry_after)
{
	enum MHD_Result ok;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	if (retry_after)
		MHD_add_response_header(resp, "Retry-After", retry_after);
	r->status = status;
	ok = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ok == MHD_YES ? MHD_YES : MHD_NO;
}

/* A response holding `text` (freed by libmicrohttpd, or here on failure). */
static struct MHD_Response *from_text(char *text)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);

	if (!resp)
		free(text);
	return resp;
}

int srv_reply(struct srv_req *r, struct MHD_Connection *c, unsigned status, json_t *body,
	      const char *retry_after)
{
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(body);
	if (!text)
		text = strdup("{\"error\":\"out of memory\"}");
	if (!text)
		return MHD_NO;
	return queue(r, c, status, from_text(text), "application/json", retry_after);
}

int srv_reply_error(struct srv_req *r, struct MHD_Connection *c, unsigned status,
		    const char *message)
{
	return srv_reply(r, c, status, json_pack("{s:s}", "error", message), NULL);
}

int srv_reply_text(struct srv_req *r, struct MHD_Connection *c, unsigned status, const char *type,
		   char *text)
{
	return queue(r, c, status, from_text(text), type, NULL);
}

/* The instructor's page asks a browser for the token as a Basic password. */
static int srv_reply_basic(struct srv_req *r, struct MHD_Connection *c)
{
	struct MHD_Response *resp;
	const char *msg = "the instructor token is required (as the password)\n";
	enum MHD_Result ok;

	resp = MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain");
	MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"grader\"");
	r->status = MHD_HTTP_UNAUTHORIZED;
	ok = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, resp);
	MHD_destroy_response(resp);
	return ok == MHD_YES ? MHD_YES : MHD_NO;
}

/* Which token `auth` is. */
static int srv_auth_token(const struct srv_http *h, const char *auth, const char **student)
{
	const char *tok = h->cfg->admin_token;
	size_t n;

	n = tok ? strlen(tok) : 0;
	if (tok && strlen(auth) == n && CRYPTO_memcmp(auth, tok, n) == 0)
		return SRV_AUTH_ADMIN;
	*student = srv_config_token_student(h->cfg, auth);
	return *student ? SRV_AUTH_STUDENT : SRV_AUTH_NONE;
}

int srv_auth(const struct srv_http *h, struct MHD_Connection *c, const char **student)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");

	/*
	 * Bearer only: a browser never sends one on its own, so a page of
	 * another site cannot make the instructor's browser use the token.
	 */
	*student = NULL;
	if (!auth || strncmp(auth, "Bearer ", 7))
		return SRV_AUTH_NONE;
	return srv_auth_token(h, auth + 7, student);
}

/*
 * The instructor's page alone takes the token as a Basic password: the
 * browser attaches it to every later request to the service, cross-site
 * ones too, so it opens nothing but this read-only page.
 */
static int page_auth(const struct srv_http *h, struct MHD_Connection *c)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const char *student = NULL;
	char *user = NULL, *pass = NULL;
	int who = SRV_AUTH_NONE;

	if (!auth || strncmp(auth, "Basic ", 6))
		return SRV_AUTH_NONE;
	user = MHD_basic_auth_get_username_password(c, &pass);
	if (pass) {
		who = srv_auth_token(h, pass, &student);
		explicit_bzero(pass, strlen(pass));
	}
	MHD_free(user);
	MHD_free(pass);
	return who;
}

/*
 * A request a browser sent from another site: Sec-Fetch-Site says so, or
 * an Origin that is not the service's own host. Forges and scripts send
 * neither.
 */
static int cross_site(struct MHD_Connection *c)
{
	const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *o;

	if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
		return 1;
	if (!origin)
		return 0;
	o = strstr(origin, "://");
	return !o || !host || strcmp(o + 3, host);
}

/* The outcome of srv_store_enqueue as an HTTP answer. */
int srv_reply_enqueued(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c, int rc,
		       long long id, const struct gr_err *err)
{
	char url[64];

	switch (rc) {
	case 0:
		if (h->wake >= 0 && write(h->wake, "j", 1) < 0 && errno != EAGAIN)
			srv_log("cannot wake the grading side: %s", strerror(errno));
		snprintf(url, sizeof(url), "/api/v1/jobs/%lld", id);
		r->job = id;
		return srv_reply(r, c, MHD_HTTP_ACCEPTED,
				 json_pack("{s:I, s:s, s:s}", "job", (json_int_t)id, "status",
					   "queued", "url", url),
				 NULL);
	case SRV_REPLAY:
		return srv_reply_error(r, c, MHD_HTTP_CONFLICT,
				       "delivery already received (replay refused)");
	case SRV_KNOWN:
		return srv_reply(r, c, MHD_HTTP_OK,
				 json_pack("{s:s, s:s}", "status", "ignored", "reason",
					   "this commit is queued or graded already"),
				 NULL);
	case SRV_QUEUE_FULL:
		return srv_reply(r, c, MHD_HTTP_TOO_MANY_REQUESTS,
				 json_pack("{s:s}", "error", "the queue is full, try again later"),
				 "30");
	case GR_ELIMIT:
		srv_log("%s", err->msg);
		return srv_reply(
		    r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    json_pack("{s:s}", "error", "cannot store the job now (disk full)"), "60");
	default:
		srv_log("%s", err->msg);
		return srv_reply_error(r, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "cannot store the job");
	}
}

/* One push: signature first, then the body, then the queue. */
static int on_hook(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c,
		   enum srv_forge f)
{
	static const char *const sig_h[] = {"X-Hub-Signature-256", "X-Gitlab-Token",
					    "X-Gitea-Signature"};
	static const char *const ev_h[] = {"X-GitHub-Event", "X-Gitlab-Event", "X-Gitea-Event"};
	static const char *const id_h[] = {"X-GitHub-Delivery", "X-Gitlab-Event-UUID",
					   "X-Gitea-Delivery"};
	const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, sig_h[f]);
	const char *ev = MHD_lookup_connection_value(c, MHD_HEADER_KIND, ev_h[f]);
	const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, id_h[f]);
	const struct srv_assignment *a = NULL;
	struct srv_push p = {0};
	struct gr_err err = {0};
	char *student = NULL, want[300], why[400];
	long long job = 0;
	int rc, out;

	if (!h->cfg->secret[f])
		return srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, "webhooks of this forge are off");
	if (srv_hook_verify(f, h->cfg->secret[f], sig, r->body.p ? r->body.p : "", r->body.len,
			    &err) < 0)
		return srv_reply_error(r, c, MHD_HTTP_UNAUTHORIZED, err.msg);
	if (!id || !id[0] || strlen(id) > 200)
		return srv_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "no delivery id header");
	if (srv_hook_parse(&p, f, ev, id, r->body.p ? r->body.p : "", r->body.len, &err) < 0)
		return srv_reply_error(r, c, MHD_HTTP_BAD_REQUEST, err.msg);
	if (!srv_hook_is_push(f, p.event)) {
		snprintf(why, sizeof(why), "event '%.100s' ignored", p.event);
		rc = srv_store_delivery(r->store, srv_forge_name(f), id, r->received, &err);
		out = rc ? srv_reply_enqueued(h, r, c, rc, 0, &err)
			 : srv_reply(r, c, MHD_HTTP_OK,
				     json_pack("{s:s, s:s}", "status", "ignored", "reason", why),
				     NULL);
		goto done;
	}
	if (srv_config_match(&a, &student, h->cfg, p.repository) < 0) {
		snprintf(why, sizeof(why), "repository '%.200s' belongs to no assignment",
			 p.repository);
		srv_log("push ignored: %s", why);
		out = srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, why);
		goto done;
	}
	if (h->roster && !roster_find(h->roster, student)) {
		snprintf(why, sizeof(why), "student '%.200s' is not in the roster", student);
		srv_log("push ignored: %s", why);
		out = srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, why);
		goto done;
	}
	snprintf(want, sizeof(want), "refs/heads/%s", a->branch);
	if (strcmp(p.ref, want)) {
		/* another branch: acknowledged, not graded */
		rc = srv_store_delivery(r->store, srv_forge_name(f), id, r->received, &err);
		snprintf(why, sizeof(why), "'%.200s' is not the graded branch '%.60s'", p.ref,
			 a->branch);
		out = rc ? srv_reply_enqueued(h, r, c, rc, 0, &err)
			 : srv_reply(r, c, MHD_HTTP_ACCEPTED,
				     json_pack("{s:s, s:s}", "status", "ignored", "reason", why),
				     NULL);
		goto done;
	}
	if (p.deleted) {
		out = srv_reply_error(r, c, MHD_HTTP_UNPROCESSABLE_CONTENT,
				      "the push deletes the branch: nothing to grade");
		goto done;
	}
	{
		struct srv_job_in in = {.assignment = a->name,
					.student = student,
					.kind = "push",
					.forge = srv_forge_name(f),
					.delivery = id,
					.repository = p.repository,
					.commit = p.after,
					.commit_time = p.commit_time,
					.received = r->received};

		rc = srv_store_enqueue(r->store, &in, NULL, 0, h->cfg->queue_max,
				       h->cfg->per_student, &job, &err);
		out = srv_reply_enqueued(h, r, c, rc, job, &err);
	}
done:
	free(student);
	srv_push_release(&p);
	return out;
}

int srv_reply_fd(struct srv_req *r, struct MHD_Connection *c, const char *type, int fd)
{
	struct MHD_Response *resp;
	struct stat sb;

	if (fstat(fd, &sb) < 0) {
		close(fd);
		return srv_reply_error(r, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read it");
	}
	/* libmicrohttpd sends the file as it goes and closes it */
	resp = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
	if (!resp)
		close(fd);
	return queue(r, c, MHD_HTTP_OK, resp, type, NULL);
}

/* Split "/api/v1/results/A/S" style paths: the n-th segment after `prefix`. */
static int segments(const char *url, const char *prefix, char *seg[], size_t n, char *buf,
		    size_t len)
{
	size_t plen = strlen(prefix), k = 0;
	char *save = NULL, *tok;

	if (strncmp(url, prefix, plen) || strlen(url + plen) >= len)
		return -1;
	strcpy(buf, url + plen);
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (k == n)
			return -1;
		seg[k++] = tok;
	}
	return k == n ? 0 : -1;
}

static int on_get(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c, const char *url)
{
	struct gr_err err = {0};
	const char *student = NULL;
	json_t *j = NULL;
	char buf[512], *seg[3], *end;
	int rc, who;

	if (!strcmp(url, "/healthz"))
		return srv_page_health(h, r, c);
	if (!strcmp(url, "/metrics"))
		return srv_page_metrics(h, r, c);
	if (!strcmp(url, "/")) {
		if (page_auth(h, c) == SRV_AUTH_ADMIN)
			return srv_page_index(h, r, c);
		return srv_reply_basic(r, c);
	}
	who = srv_auth(h, c, &student);
	if (who == SRV_AUTH_NONE)
		return srv_reply_error(r, c, MHD_HTTP_UNAUTHORIZED, "a valid token is required");
	if (!segments(url, "/api/v1/jobs/", seg, 1, buf, sizeof(buf))) {
		long long id = strtoll(seg[0], &end, 10);

		if (*end || id <= 0)
			return srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, "no such job");
		rc = srv_store_job_json(r->store, id, who == SRV_AUTH_STUDENT, &j, &err);
		if (!rc && student &&
		    strcmp(json_string_value(json_object_get(j, "student")), student)) {
			json_decref(j);
			return srv_reply_error(r, c, MHD_HTTP_FORBIDDEN, "not your job");
		}
	} else if (!segments(url, "/api/v1/results/", seg, 2, buf, sizeof(buf))) {
		if (!srv_config_assignment(h->cfg, seg[0]))
			return srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, "no such assignment");
		if (student && strcmp(seg[1], student))
			return srv_reply_error(r, c, MHD_HTTP_FORBIDDEN,
					       "a student token sees only its own results");
		rc = srv_store_result_json(r->store, seg[0], seg[1], who == SRV_AUTH_STUDENT, &j,
					   &err);
	} else if (!segments(url, "/api/v1/assignments/", seg, 2, buf, sizeof(buf)) &&
		   (!strcmp(seg[1], "gradebook") || !strcmp(seg[1], "export"))) {
		if (who != SRV_AUTH_ADMIN)
			return srv_reply_error(r, c, MHD_HTTP_FORBIDDEN,
					       "the gradebook needs the instructor token");
		if (!srv_config_assignment(h->cfg, seg[0]))
			return srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, "no such assignment");
		if (!strcmp(seg[1], "export"))
			return srv_page_export(h, r, c, seg[0]);
		return srv_page_gradebook(h, r, c, seg[0]);
	} else {
		return srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, "no such resource");
	}
	if (rc == GR_ENOTFOUND)
		return srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, err.msg);
	if (rc)
		return srv_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, "state unreadable");
	return srv_reply(r, c, MHD_HTTP_OK, j, NULL);
}

static const char *const hooks[] = {"/hooks/github", "/hooks/gitlab", "/hooks/gitea"};

/*
 * The headers are in: refuse now, before a byte of the body is read (and
 * held), what needs no body to refuse: another site's page changing state,
 * an upload without a valid token, a delivery to a forge that is off or
 * without a well-formed signature. -1 when none applies.
 */
static int gate(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c, const char *url,
		const char *method)
{
	static const char *const sig_h[] = {"X-Hub-Signature-256", "X-Gitlab-Token",
					    "X-Gitea-Signature"};
	const char *student = NULL;
	struct gr_err err = {0};
	int who;

	if (strcmp(method, "GET") && strcmp(method, "HEAD") && cross_site(c))
		return srv_reply_error(r, c, MHD_HTTP_FORBIDDEN, "cross-site request refused");
	if (strcmp(method, "POST"))
		return -1;
	if (!strcmp(url, "/api/v1/submissions")) {
		who = srv_auth(h, c, &student);
		if (who == SRV_AUTH_NONE)
			return srv_reply_error(r, c, MHD_HTTP_UNAUTHORIZED,
					       "a valid token is required");
		/*
		 * One upload in flight per student token (the instructor's: a
		 * few), refused before its body: one student holding uploads
		 * open cannot take the memory every other student's needs.
		 */
		r->uploader = who == SRV_AUTH_ADMIN ? NULL : student;
		if (srv_conns_upload_begin(&h->conns, r->uploader) < 0)
			return srv_reply(
			    r, c, MHD_HTTP_TOO_MANY_REQUESTS,
			    json_pack("{s:s}", "error",
				      "this token has an upload in flight: one at a time"),
			    "10");
		r->uploading = 1;
		srv_conns_phase(&h->conns, r->conn, SRV_BUSY);
		r->cap = SRV_UPLOAD_MAX;
		if (srv_upload_begin(r, c) < 0)
			return srv_reply_error(r, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
					       "an upload is multipart/form-data");
		return -1;
	}
	for (int f = 0; f < SRV_NFORGES; f++) {
		if (strcmp(url, hooks[f]))
			continue;
		if (!h->cfg->secret[f])
			return srv_reply_error(r, c, MHD_HTTP_NOT_FOUND,
					       "webhooks of this forge are off");
		if (srv_hook_precheck((enum srv_forge)f, h->cfg->secret[f],
				      MHD_lookup_connection_value(c, MHD_HEADER_KIND, sig_h[f]),
				      &err) < 0)
			return srv_reply_error(r, c, MHD_HTTP_UNAUTHORIZED, err.msg);
	}
	return -1;
}

/*
 * Count `n` more bytes held by `r` in its pool and, for a body not an
 * upload's (webhooks: unsigned until whole), in its address's share too:
 * a few addresses holding bodies open cannot take a real delivery's room.
 * 0 when over a cap (nothing counted then).
 */
static int hold(struct srv_http *h, struct srv_req *r, size_t n, unsigned long long cap)
{
	unsigned long long mine = (unsigned long long)h->cfg->hook_ip_mib << 20;

	if (atomic_fetch_add(r->pool, n) + n > cap) {
		atomic_fetch_sub(r->pool, n);
		return 0;
	}
	r->by_addr = !r->pp && r->addr;
	if (r->by_addr && atomic_fetch_add(&r->addr->hook, n) + n > mine) {
		atomic_fetch_sub(&r->addr->hook, n);
		atomic_fetch_sub(r->pool, n);
		return 0;
	}
	return 1;
}

/* Give back every byte `r` holds counted (the pool's and the address's). */
static void release(struct srv_req *r)
{
	if (r->pool)
		atomic_fetch_sub(r->pool, r->held);
	if (r->by_addr)
		atomic_fetch_sub(&r->addr->hook, r->held);
	r->held = 0;
}

/*
 * A piece of the body: parsed (an upload) or kept (a webhook), within the
 * request's cap and the cap of what all requests together hold in memory.
 */
static enum MHD_Result body_piece(struct srv_http *h, struct srv_req *r, const char *upload,
				  size_t n)
{
	/* uploads and webhooks each have their own share: held uploads never starve a push */
	unsigned long long cap =
	    r->pp ? (unsigned long long)h->cfg->buffer_mib << 20 : SRV_HOOK_BUFFER_MAX;

	/*
	 * The idle timeout alone lets a byte every few seconds hold a request
	 * open for ever: its whole time is bounded too (the connection is
	 * closed; a response cannot be queued mid-body).
	 */
	if (gr_now() - r->start > (double)h->cfg->request_seconds) {
		r->status = MHD_HTTP_REQUEST_TIMEOUT;
		return MHD_NO;
	}
	if (!r->too_big && r->seen + n > r->cap)
		r->too_big = 1;
	r->seen += n;
	if (r->too_big || r->busy || r->status)
		return MHD_YES; /* read and dropped: the answer is known */
	if (!r->pool)
		r->pool = r->pp ? &h->buffered : &h->hook_buffered;
	if (!hold(h, r, n, cap)) {
		/* what this request held goes now; it is answered 503 when its body ends */
		release(r);
		r->busy = 1;
		srv_upload_free(r);
		free(r->body.p);
		memset(&r->body, 0, sizeof(r->body));
		return MHD_YES;
	}
	r->held += n;
	if (r->pp) {
		if (MHD_post_process(r->pp, upload, n) != MHD_YES)
			r->bad_form = 1;
	} else if (gr_buf_put(&r->body, upload, n)) {
		return MHD_NO;
	}
	return MHD_YES;
}

static enum MHD_Result handle(struct srv_http *h, struct MHD_Connection *c, const char *url,
			      const char *method, const char *upload, size_t *upload_size,
			      void **con_cls)
{
	struct srv_req *r = *con_cls;
	int out;

	if (!r) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		const union MHD_ConnectionInfo *ci;
		struct srv_conn *k;

		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->start = gr_now();
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		k = ci ? ci->socket_context : NULL;
		r->conn = k;
		r->addr = k ? k->addr : NULL;
		/* an upload is proved by its token; any other body only once it is whole */
		srv_conns_phase(&h->conns, k, SRV_OPEN);
		snprintf(r->method, sizeof(r->method), "%s", method);
		snprintf(r->url, sizeof(r->url), "%s", url);
		*con_cls = r;
		r->cap = SRV_BODY_MAX;
		out = gate(h, r, c, url, method);
		if (out >= 0)
			return out;
		/* refuse an announced oversized body before reading a byte of it */
		if (cl && strtoull(cl, NULL, 10) > r->cap)
			r->too_big = 1;
		if (r->too_big)
			return srv_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE,
					       "request body too large");
		return MHD_YES;
	}
	if (*upload_size) {
		enum MHD_Result more = body_piece(h, r, upload, *upload_size);

		*upload_size = 0;
		return more;
	}
	if (r->status)
		return MHD_YES; /* answered already */
	/*
	 * Received means the whole request is in: lateness is judged by it, so
	 * an upload opened before the deadline and finished after it is late.
	 */
	r->received = srv_wall_now();
	srv_conns_phase(&h->conns, r->conn, SRV_BUSY);
	if (r->too_big)
		return srv_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	if (r->busy)
		return srv_reply(
		    r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    json_pack("{s:s}", "error", "too many requests at once, try again"), "10");
	if (r->bad_form)
		return srv_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "malformed form data");
	if (r->upload)
		return srv_upload_finish(h, r, c);
	if (!strcmp(method, "POST")) {
		for (int f = 0; f < SRV_NFORGES; f++)
			if (!strcmp(url, hooks[f]))
				return on_hook(h, r, c, (enum srv_forge)f);
		return srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, "no such resource");
	}
	if (!strcmp(method, "GET"))
		return on_get(h, r, c, url);
	return srv_reply_error(r, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
}

/* A database connection for this thread's call (NULL when none can be opened). */
static struct srv_store *pool_get(struct srv_http *h)
{
	struct srv_store *st = NULL;
	struct gr_err err = {0};

	pthread_mutex_lock(&h->lock);
	if (h->npool)
		st = h->pool[--h->npool];
	pthread_mutex_unlock(&h->lock);
	if (st)
		return st;
	if (srv_store_open(&st, h->cfg->state, &err) < 0) {
		srv_log("http side: %s", err.msg);
		return NULL;
	}
	srv_store_http_side(st);
	return st;
}

static void pool_put(struct srv_http *h, struct srv_store *st)
{
	pthread_mutex_lock(&h->lock);
	if (h->npool < SRV_STORE_POOL) {
		h->pool[h->npool++] = st;
		st = NULL;
	}
	pthread_mutex_unlock(&h->lock);
	srv_store_close(st);
}

/*
 * libmicrohttpd calls this from the connection's own thread: the call
 * borrows a database connection for as long as it runs.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct srv_http *h = cls;
	struct srv_store *st = NULL;
	struct srv_req *r;
	enum MHD_Result out;

	(void)version;
	r = *con_cls;
	/* the first call and the body's pieces need no database; the answer may */
	if (r && !*upload_size && !r->status) {
		st = pool_get(h);
		if (!st)
			return srv_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
					       "state unreadable");
		r->store = st;
	}
	out = handle(h, c, url, method, upload, upload_size, con_cls);
	if (st) {
		r->store = NULL;
		pool_put(h, st);
	}
	return out;
}

/* One line per request: method, path, status, job, milliseconds. No headers, no body. */
static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct srv_req *r = *con_cls;
	struct srv_http *h = cls;
	char job[32] = "";

	(void)c;
	if (!r)
		return;
	if (r->job)
		snprintf(job, sizeof(job), " job %lld", r->job);
	if (r->status >= 100 && r->status < 600)
		atomic_fetch_add(&h->requests[r->status / 100], 1);
	/* a space in the path would start a forged field: shown as '+' (srv_log escapes the rest)
	 */
	for (char *sp = strchr(r->url, ' '); sp; sp = strchr(sp, ' '))
		*sp = '+';
	for (char *sp = strchr(r->method, ' '); sp; sp = strchr(sp, ' '))
		*sp = '+';
	srv_log("%s %s %u%s %.1f ms%s", r->method, r->url, r->status, job,
		(gr_now() - r->start) * 1e3,
		toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	release(r);
	/* the connection may carry another request: its time to send one starts now */
	srv_conns_phase(&h->conns, r->conn, SRV_WAITING);
	if (r->uploading)
		srv_conns_upload_end(&h->conns, r->uploader);
	srv_upload_free(r);
	free(r->body.p);
	free(r);
	*con_cls = NULL;
}

int srv_http_main(const struct srv_config *cfg, int listen_fd, int wake, struct gr_err *err)
{
	struct srv_http h = {.cfg = cfg, .wake = wake};
	struct MHD_Daemon *d = NULL;
	struct srv_store *st = NULL;
	sigset_t set;
	int rc, sig = 0;

	pthread_mutex_init(&h.lock, NULL);
	pthread_mutex_init(&h.metrics.lock, NULL);
	pthread_mutex_init(&h.health.lock, NULL);
	for (size_t i = 0; i < sizeof(h.requests) / sizeof(h.requests[0]); i++)
		atomic_init(&h.requests[i], 0);
	atomic_init(&h.buffered, 0);
	atomic_init(&h.hook_buffered, 0);
	/* the header phase is bounded in total, within a request's whole time */
	srv_conns_init(&h.conns,
		       (double)(cfg->header_seconds < cfg->request_seconds ? cfg->header_seconds
									   : cfg->request_seconds));
	/* one connection now: a state folder that cannot be opened stops the side here */
	rc = srv_store_open(&st, cfg->state, err);
	if (!rc) {
		srv_store_http_side(st);
		h.pool[h.npool++] = st;
	}
	if (!rc && cfg->roster)
		rc = roster_load(&h.roster, cfg->roster, err);
	if (rc)
		goto done;
	/* the daemon's thread inherits the mask: signals come to sigwait below */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/*
	 * A thread per connection: an upload being unpacked or a gradebook
	 * request waiting for its file holds its own thread, never a webhook's.
	 */
	d = MHD_start_daemon(
	    MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC, 0, NULL,
	    NULL, on_request, &h, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_NOTIFY_COMPLETED,
	    on_done, &h, MHD_OPTION_NOTIFY_CONNECTION, srv_conns_notify, &h.conns,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)SRV_CONN_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->per_ip,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
	if (!d) {
		rc = gr_err_set(err, GR_EIO, "cannot start the HTTP daemon");
		goto done;
	}
	if (srv_conns_start(&h.conns) < 0) {
		rc = gr_err_set(err, GR_EIO, "cannot start the connections' sweeper");
		goto done;
	}
	srv_log("HTTP side ready as uid %d", (int)getuid());
	while (sigwait(&set, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
		;
done:
	if (d) {
		/*
		 * Stop accepting without letting the daemon shut the listening
		 * socket down: the grading side holds it for the next HTTP side.
		 */
		MHD_quiesce_daemon(d);
		MHD_stop_daemon(d);
	}
	srv_conns_stop(&h.conns);
	roster_free(h.roster);
	for (size_t i = 0; i < h.npool; i++)
		srv_store_close(h.pool[i]);
	pthread_mutex_destroy(&h.lock);
	pthread_mutex_destroy(&h.metrics.lock);
	pthread_mutex_destroy(&h.health.lock);
	free(h.metrics.text);
	free(h.health.text);
	srv_conns_release(&h.conns);
	return rc;
}
