/*
 * srv_callback.c - after a job: the commit status on the forge (GitHub and
 * Gitea `POST /repos/{repo}/statuses/{sha}`, GitLab `POST
 * /projects/{id}/statuses/{sha}`) and a JSON POST to the course's own URL,
 * signed like GitHub signs webhooks. Each is a row of the state database,
 * written with the job's outcome and sent by the grading side until it is
 * answered (retried with backoff, resent after a restart). Calls go through
 * libcurl with a short timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/rand.h>

#include "srv_int.h"

#define CALL_TIMEOUT 10L

static size_t discard(char *data, size_t size, size_t n, void *payload)
{
	(void)data;
	(void)payload;
	return size * n;
}

/* POST `body` to `url` with the extra headers; 0 on a 2xx answer. */
static int post(const char *url, const char *body, struct curl_slist *hdr, char *why, size_t len)
{
	CURL *curl = curl_easy_init();
	long status = 0;
	CURLcode cc;

	if (!curl) {
		snprintf(why, len, "cannot start libcurl");
		return -1;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, CALL_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "grader/" GRADER_VERSION);
	cc = curl_easy_perform(curl);
	if (cc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(hdr);
	if (cc != CURLE_OK)
		snprintf(why, len, "%s", curl_easy_strerror(cc));
	else if (status < 200 || status > 299)
		snprintf(why, len, "answered %ld", status);
	return cc == CURLE_OK && status >= 200 && status <= 299 ? 0 : -1;
}

/* The body of the forge's commit status of a finished push (heap). */
static char *status_body(const struct srv_assignment *a, const char *state, double score,
			 double max)
{
	const struct srv_status *st = &a->status;
	int gitlab = st->forge == SRV_GITLAB, ok = !strcmp(state, "done");
	char desc[141], *body;
	json_t *j;

	if (ok)
		snprintf(desc, sizeof(desc), "grader: %g of %g points", score, max);
	else
		snprintf(desc, sizeof(desc), "grader: could not grade this commit");
	j = json_pack("{s:s, s:s, s:s}", "state",
		      ok       ? "success"
		      : gitlab ? "failed"
			       : "error",
		      "description", desc, gitlab ? "name" : "context", st->context);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return body;
}

/* The course's callback body (heap). */
static char *callback_body(const struct srv_job *job, const char *state, const char *error,
			   double score, double max)
{
	char *body;
	json_t *j;

	j = json_pack("{s:I, s:s, s:s, s:s, s:s*, s:s, s:s*}", "job", (json_int_t)job->id,
		      "assignment", job->assignment, "student", job->student, "kind", job->kind,
		      "commit", job->commit, "state", state, "error", error);
	if (j && !strcmp(state, "done")) {
		json_object_set_new(j, "score", json_real(score));
		json_object_set_new(j, "max_score", json_real(max));
	}
	body = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return body;
}

/*
 * The MAC binding a call's job, kind and body, and the job's assignment,
 * repository and commit the status URL is made of at send time (read from
 * the job's row, which the HTTP side's user can rewrite), under the grading
 * side's key. NULL strings count as "", as the store reads them back.
 */
static void call_mac(char out[65], const char *key, long long job, const char *kind,
		     const char *body, const char *assignment, const char *repository,
		     const char *commit)
{
	char *text = NULL;

	out[0] = '\0';
	if (asprintf(&text, "%lld\n%s\n%s\n%s\n%s\n%s", job, kind, assignment ? assignment : "",
		     repository ? repository : "", commit ? commit : "", body) < 0)
		return;
	srv_hmac_sha256_hex(out, key, text, strlen(text));
	free(text);
}

int srv_callback_build(const struct srv_config *cfg, const char *key, const struct srv_job *job,
		       const char *state, const char *error, double score, double max,
		       struct srv_call_in out[2], size_t *n)
{
	const struct srv_assignment *a = srv_config_assignment(cfg, job->assignment);
	char *body;

	*n = 0;
	if (a && a->status.api && job->commit && job->repository) {
		body = status_body(a, state, score, max);
		if (!body)
			return GR_ENOMEM;
		out[*n].kind = "status";
		out[*n].body = body;
		call_mac(out[*n].mac, key, job->id, "status", body, job->assignment,
			 job->repository, job->commit);
		(*n)++;
	}
	if (cfg->callback_url) {
		body = callback_body(job, state, error, score, max);
		if (!body) {
			srv_callback_free(out, *n);
			*n = 0;
			return GR_ENOMEM;
		}
		out[*n].kind = "callback";
		out[*n].body = body;
		call_mac(out[*n].mac, key, job->id, "callback", body, job->assignment,
			 job->repository, job->commit);
		(*n)++;
	}
	return 0;
}

void srv_callback_free(struct srv_call_in *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)c[i].body);
}

/*
 * POST one commit status: the URL from the config's API and the job's
 * repository and commit, the token from the config (never from the database).
 */
static int send_status(const struct srv_assignment *a, const struct srv_call *c, char *why,
		       size_t len)
{
	const struct srv_status *st = &a->status;
	int gitlab = st->forge == SRV_GITLAB, rc = -1;
	char *url = NULL, *auth = NULL, *esc = NULL;
	struct curl_slist *hdr = NULL;

	if (gitlab) {
		esc = curl_easy_escape(NULL, c->repository, 0);
		if (esc &&
		    asprintf(&url, "%s/projects/%s/statuses/%s", st->api, esc, c->commit) < 0)
			url = NULL;
		if (asprintf(&auth, "PRIVATE-TOKEN: %s", st->token) < 0)
			auth = NULL;
	} else {
		if (asprintf(&url, "%s/repos/%s/statuses/%s", st->api, c->repository, c->commit) <
		    0)
			url = NULL;
		if (asprintf(&auth, "Authorization: %s %s",
			     st->forge == SRV_GITEA ? "token" : "Bearer", st->token) < 0)
			auth = NULL;
	}
	if (url && auth) {
		hdr = curl_slist_append(NULL, auth);
		if (st->forge == SRV_GITHUB)
			hdr = curl_slist_append(hdr, "Accept: application/vnd.github+json");
		rc = post(url, c->body, hdr, why, len);
	} else {
		snprintf(why, len, "out of memory");
	}
	if (auth)
		explicit_bzero(auth, strlen(auth));
	curl_free(esc);
	free(url);
	free(auth);
	return rc;
}

/* POST the course's callback, signed with its secret; the call's id lets it drop repeats. */
static int send_callback(const struct srv_config *cfg, const struct srv_call *c, char *why,
			 size_t len)
{
	char mac[65], sig[128], id[64];
	struct curl_slist *hdr;

	srv_hmac_sha256_hex(mac, cfg->callback_secret, c->body, strlen(c->body));
	snprintf(sig, sizeof(sig), "X-Grader-Signature-256: sha256=%s", mac);
	snprintf(id, sizeof(id), "X-Grader-Delivery: %lld", c->id);
	hdr = curl_slist_append(NULL, sig);
	hdr = curl_slist_append(hdr, id);
	return post(cfg->callback_url, c->body, hdr, why, len);
}

/* A status goes to the job's own repository (the config's pattern) and to a commit id. */
static int status_target_ok(const struct srv_config *cfg, const struct srv_call *c)
{
	const struct srv_assignment *a = NULL;
	char *student = NULL;
	size_t n = c->commit ? strlen(c->commit) : 0;
	int ok = n == 40 && strspn(c->commit, "0123456789abcdef") == 40 && c->repository &&
		 srv_config_match(&a, &student, cfg, c->repository) == 0 &&
		 !strcmp(a->name, c->assignment);

	free(student);
	return ok;
}

static void send_one(const struct srv_config *cfg, const char *key, struct srv_store *st,
		     const struct srv_call *c)
{
	const struct srv_assignment *a = srv_config_assignment(cfg, c->assignment);
	int status = !strcmp(c->kind, "status"), tries = c->attempts + 1, rc;
	const char *what = status ? "commit status" : "callback";
	char mac[65], why[256] = "";
	struct gr_err err = {0};
	double wait;

	call_mac(mac, key, c->job, c->kind, c->body, c->assignment, c->repository, c->commit);
	if (!mac[0] || strcmp(mac, c->mac) || (status && !status_target_ok(cfg, c))) {
		/* not written by a worker: never sent with the config's token or secret */
		srv_log("job %lld: %s %lld refused: not the grading side's", c->job, what, c->id);
		srv_store_call_update(st, c->id, "failed", tries, 0, "not the grading side's",
				      NULL);
		return;
	}
	if (status && !(a && a->status.api)) {
		srv_store_call_update(st, c->id, "failed", tries, 0, "no status in the config",
				      NULL);
		return;
	}
	if (!status && !cfg->callback_url) {
		srv_store_call_update(st, c->id, "failed", tries, 0, "no callback in the config",
				      NULL);
		return;
	}
	rc = status ? send_status(a, c, why, sizeof(why)) : send_callback(cfg, c, why, sizeof(why));
	if (rc == 0) {
		if (srv_store_call_update(st, c->id, "sent", tries, 0, NULL, &err) < 0)
			srv_log("%s", err.msg);
		if (tries > 1)
			srv_log("job %lld: %s delivered (try %d)", c->job, what, tries);
		return;
	}
	wait = tries >= 8 ? 300 : (double)(2 << tries);
	if (wait > 300)
		wait = 300;
	if (tries >= SRV_CALL_TRIES) {
		srv_log("job %lld: %s not delivered, given up after %d tries: %s", c->job, what,
			tries, why);
		srv_store_call_update(st, c->id, "failed", tries, 0, why, NULL);
		return;
	}
	srv_log("job %lld: %s not delivered (try %d, again in %.0f s): %s", c->job, what, tries,
		wait, why);
	if (srv_store_call_update(st, c->id, "pending", tries, srv_wall_now() + wait, why, &err) <
	    0)
		srv_log("%s", err.msg);
}

void srv_callback_send_due(const struct srv_config *cfg, const char *key, struct srv_store *st)
{
	struct srv_call *c = NULL;
	struct gr_err err = {0};
	double t0 = gr_now();
	size_t n = 0;

	if (srv_store_calls_due(st, srv_wall_now(), 8, &c, &n, &err) < 0) {
		srv_log("%s", err.msg);
		return;
	}
	/* a slow receiver holds up the loop at most a few seconds at a time */
	for (size_t i = 0; i < n && gr_now() - t0 < 3; i++)
		send_one(cfg, key, st, &c[i]);
	srv_calls_free(c, n);
}

int srv_callback_key(char key[65], const char *state, struct gr_err *err)
{
	unsigned char raw[32];
	char *path = gr_path_join(state, "calls.key"), *text = NULL;
	size_t len = 0;
	int rc = 0, fd;

	if (!path)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	if (gr_read_file(&text, &len, path, 128, NULL) == 0 && len >= 64) {
		memcpy(key, text, 64);
		key[64] = '\0';
		goto done;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		rc = gr_err_set(err, GR_ESYS, "no random bytes for '%s'", path);
		goto done;
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		sprintf(key + 2 * i, "%02x", raw[i]);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || gr_write_all(fd, key, 64) < 0 || fsync(fd) < 0)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", path);
	if (fd >= 0)
		close(fd);
done:
	if (text)
		explicit_bzero(text, len);
	free(text);
	free(path);
	return rc;
}
