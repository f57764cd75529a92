/*
 * srv_client.c - the client side of the service (libcurl): upload a
 * submission and read a job back, for `grader submit`.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "grader/serve.h"

#define REPLY_MAX ((size_t)64 << 20)

static size_t on_data(char *data, size_t size, size_t n, void *payload)
{
	struct gr_buf *b = payload;

	if (b->len + size * n > REPLY_MAX || gr_buf_put(b, data, size * n))
		return 0;
	return size * n;
}

/* Perform `curl` (its URL and body set) and parse the JSON reply. */
static int perform(json_t **out, long *status, CURL *curl, const char *token, const char *url,
		   struct gr_err *err)
{
	struct curl_slist *hdr = NULL;
	struct gr_buf body = {0};
	char *auth = NULL;
	json_error_t jerr;
	CURLcode cc;
	int rc = 0;

	if (asprintf(&auth, "Authorization: Bearer %s", token) < 0)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	hdr = curl_slist_append(hdr, auth);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	cc = curl_easy_perform(curl);
	if (cc != CURLE_OK) {
		rc = gr_err_set(err, GR_EIO, "cannot reach '%s': %s", url, curl_easy_strerror(cc));
		goto done;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	*out = json_loadb(body.p ? body.p : "", body.len, 0, &jerr);
	if (!*out)
		rc = gr_err_set(err, GR_EINVAL, "'%s' answered %ld without JSON", url, *status);
done:
	curl_slist_free_all(hdr);
	free(auth);
	free(body.p);
	return rc;
}

int srv_client_submit(json_t **out, long *status, const char *server, const char *token,
		      const char *assignment, const char *student, char *const *files,
		      size_t nfiles, struct gr_err *err)
{
	CURL *curl = curl_easy_init();
	curl_mime *form = NULL;
	curl_mimepart *part;
	char *url = NULL;
	int rc = 0;

	if (!curl)
		return gr_err_set(err, GR_ENOMEM, "cannot start libcurl");
	form = curl_mime_init(curl);
	part = curl_mime_addpart(form);
	curl_mime_name(part, "assignment");
	curl_mime_data(part, assignment, CURL_ZERO_TERMINATED);
	if (student) {
		part = curl_mime_addpart(form);
		curl_mime_name(part, "student");
		curl_mime_data(part, student, CURL_ZERO_TERMINATED);
	}
	for (size_t i = 0; i < nfiles; i++) {
		part = curl_mime_addpart(form);
		curl_mime_name(part, "file");
		if (curl_mime_filedata(part, files[i]) != CURLE_OK) {
			rc = gr_err_set(err, GR_ENOTFOUND, "cannot read '%s'", files[i]);
			goto done;
		}
	}
	if (asprintf(&url, "%s/api/v1/submissions", server) < 0) {
		url = NULL;
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	curl_easy_setopt(curl, CURLOPT_MIMEPOST, form);
	rc = perform(out, status, curl, token, url, err);
done:
	free(url);
	curl_mime_free(form);
	curl_easy_cleanup(curl);
	return rc;
}

int srv_client_get(json_t **out, long *status, const char *server, const char *token,
		   const char *path, struct gr_err *err)
{
	CURL *curl = curl_easy_init();
	char *url = NULL;
	int rc;

	if (!curl)
		return gr_err_set(err, GR_ENOMEM, "cannot start libcurl");
	if (asprintf(&url, "%s%s", server, path) < 0) {
		curl_easy_cleanup(curl);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	rc = perform(out, status, curl, token, url, err);
	free(url);
	curl_easy_cleanup(curl);
	return rc;
}
