/*
 * srv_callback.c - after a job: the commit status on the forge (GitHub and
 * Gitea `POST /repos/{repo}/statuses/{sha}`, GitLab `POST
 * /projects/{id}/statuses/{sha}`) and a JSON POST to the course's own URL,
 * signed like GitHub signs webhooks. Both are best effort: a failed call is
 * logged, the result stands. Calls go through libcurl with a short timeout.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

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

/* The forge's commit status of a finished push. */
static void commit_status(const struct srv_assignment *a, const struct srv_job *job,
			  const char *state, double score, double max)
{
	const struct srv_status *st = &a->status;
	int gitlab = st->forge == SRV_GITLAB, ok = !strcmp(state, "done");
	char desc[141], why[256], *url = NULL, *auth = NULL, *body = NULL, *esc = NULL;
	struct curl_slist *hdr = NULL;
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
	if (gitlab) {
		esc = curl_easy_escape(NULL, job->repository, 0);
		if (esc &&
		    asprintf(&url, "%s/projects/%s/statuses/%s", st->api, esc, job->commit) < 0)
			url = NULL;
		if (asprintf(&auth, "PRIVATE-TOKEN: %s", st->token) < 0)
			auth = NULL;
	} else {
		if (asprintf(&url, "%s/repos/%s/statuses/%s", st->api, job->repository,
			     job->commit) < 0)
			url = NULL;
		if (asprintf(&auth, "Authorization: %s %s",
			     st->forge == SRV_GITEA ? "token" : "Bearer", st->token) < 0)
			auth = NULL;
	}
	if (body && url && auth) {
		hdr = curl_slist_append(NULL, auth);
		if (st->forge == SRV_GITHUB)
			hdr = curl_slist_append(hdr, "Accept: application/vnd.github+json");
		if (post(url, body, hdr, why, sizeof(why)) < 0)
			srv_log("job %lld: commit status not set: %s", job->id, why);
	}
	if (auth)
		explicit_bzero(auth, strlen(auth));
	curl_free(esc);
	free(url);
	free(auth);
	free(body);
}

void srv_callback_job(const struct srv_config *cfg, const struct srv_job *job, const char *state,
		      const char *error, double score, double max)
{
	const struct srv_assignment *a = srv_config_assignment(cfg, job->assignment);
	char mac[65], sig[128], why[256], *body = NULL;
	json_t *j;

	if (a && a->status.api && job->commit && job->repository)
		commit_status(a, job, state, score, max);
	if (!cfg->callback_url)
		return;
	j = json_pack("{s:I, s:s, s:s, s:s, s:s*, s:s, s:s*}", "job", (json_int_t)job->id,
		      "assignment", job->assignment, "student", job->student, "kind", job->kind,
		      "commit", job->commit, "state", state, "error", error);
	if (j && !strcmp(state, "done")) {
		json_object_set_new(j, "score", json_real(score));
		json_object_set_new(j, "max_score", json_real(max));
	}
	body = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (!body)
		return;
	srv_hmac_sha256_hex(mac, cfg->callback_secret, body, strlen(body));
	snprintf(sig, sizeof(sig), "X-Grader-Signature-256: sha256=%s", mac);
	if (post(cfg->callback_url, body, curl_slist_append(NULL, sig), why, sizeof(why)) < 0)
		srv_log("job %lld: callback not delivered: %s", job->id, why);
	free(body);
}
