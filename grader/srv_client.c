/*
 * srv_client.c - the client side of the service (libcurl): upload a
 * submission and read a job back, for `grader submit`.
 */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>

#include "grader/serve.h"
#include "grader/util.h"
#include "srv_int.h"

#define REPLY_MAX ((size_t)64 << 20)
/* A folder zipped for upload is at most this big (the server takes 16 MiB). */
#define ZIP_MAX ((size_t)16 << 20)

static la_ssize_t zip_out(struct archive *a, void *payload, const void *data, size_t n)
{
	struct gr_buf *b = payload;

	(void)a;
	if (b->len + n > ZIP_MAX || gr_buf_put(b, data, n))
		return -1;
	return (la_ssize_t)n;
}

/* Add the regular file `path` to the zip as `rel`. */
static int zip_one(struct archive *a, const char *path, const char *rel, const struct stat *st,
		   struct gr_err *err)
{
	struct archive_entry *e = NULL;
	char buf[64 * 1024];
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	e = archive_entry_new();
	if (fd < 0 || !e) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot read '%s'", path);
		goto done;
	}
	archive_entry_set_pathname_utf8(e, rel);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, st->st_size);
	archive_entry_set_mtime(e, st->st_mtime, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		rc = gr_err_set(err, GR_ELIMIT, "cannot zip '%s': %s", path,
				archive_error_string(a));
		goto done;
	}
	while (!rc && (n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(a, buf, (size_t)n) != n)
			rc = gr_err_set(err, GR_ELIMIT,
					"cannot zip '%s': the folder is over %zu MiB", path,
					ZIP_MAX >> 20);
	if (!rc && n < 0)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot read '%s'", path);
done:
	archive_entry_free(e);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Tell `left_out` that the file or folder `rel` stays out of the zip, and why. */
static void say_left_out(srv_problem_fn left_out, void *payload, const char *rel)
{
	char *shown = gr_term_escape(rel), *line = NULL;

	if (left_out && shown &&
	    asprintf(&line, "left out '%s': a name the service keeps for its own files or refuses",
		     shown) >= 0)
		left_out(payload, line);
	free(line);
	free(shown);
}

/*
 * Zip the regular files under `dir` (paths relative to it) into *out;
 * hidden files and folders (.git, .ipynb_checkpoints), links and special
 * files stay out, and so do the names the service refuses (timestamp.txt,
 * which a collected folder holds, and the rest of srv_file_name_ok's
 * rule): each of those is named to `left_out`.
 */
static int zip_dir(struct gr_buf *out, const char *path, srv_problem_fn left_out, void *payload,
		   struct gr_err *err)
{
	char *dir = strdup(path), *roots[] = {dir, NULL};
	struct archive *a = archive_write_new();
	FTS *fts = NULL;
	FTSENT *f;
	size_t len;
	int rc = 0;

	if (!a || !dir) {
		free(dir);
		archive_write_free(a);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	for (len = strlen(dir); len > 1 && dir[len - 1] == '/'; len--)
		dir[len - 1] = '\0';
	if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_open2(a, out, NULL, zip_out, NULL, NULL) != ARCHIVE_OK) {
		rc = gr_err_set(err, GR_EIO, "cannot zip '%s': %s", dir, archive_error_string(a));
		goto done;
	}
	fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	if (!fts) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot read '%s'", dir);
		goto done;
	}
	while (!rc && (f = fts_read(fts))) {
		if (f->fts_level > 0 && f->fts_name[0] == '.') {
			if (f->fts_info == FTS_D)
				fts_set(fts, f, FTS_SKIP);
			continue;
		}
		if (f->fts_level > 0 && f->fts_info != FTS_DP && f->fts_info != FTS_SL &&
		    !srv_file_name_ok(f->fts_name)) {
			say_left_out(left_out, payload, f->fts_path + len + 1);
			if (f->fts_info == FTS_D)
				fts_set(fts, f, FTS_SKIP);
			continue;
		}
		if (f->fts_info == FTS_DNR || f->fts_info == FTS_ERR)
			rc = gr_err_sys(err, GR_EIO, f->fts_errno, "cannot read '%s'", f->fts_path);
		else if (f->fts_info == FTS_F && S_ISREG(f->fts_statp->st_mode))
			rc = zip_one(a, f->fts_path, f->fts_path + len + 1, f->fts_statp, err);
	}
	if (!rc && archive_write_close(a) != ARCHIVE_OK)
		rc = gr_err_set(err, GR_EIO, "cannot zip '%s': %s", dir, archive_error_string(a));
done:
	if (fts)
		fts_close(fts);
	archive_write_free(a);
	free(dir);
	return rc;
}

/* One FILE argument as a part: a file as it is, a folder as FOLDER.zip. */
static int add_file(curl_mime *form, struct gr_buf *zip, const char *path, srv_problem_fn left_out,
		    void *payload, struct gr_err *err)
{
	curl_mimepart *part = curl_mime_addpart(form);
	struct stat st;
	int rc;

	curl_mime_name(part, "file");
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		const char *end = path + strlen(path), *base;
		char name[300];

		while (end > path + 1 && end[-1] == '/')
			end--;
		for (base = end; base > path && base[-1] != '/'; base--)
			;
		snprintf(name, sizeof(name), "%.*s.zip", (int)(end - base), base);
		rc = zip_dir(zip, path, left_out, payload, err);
		if (rc)
			return rc;
		curl_mime_data(part, zip->p ? zip->p : "", zip->len);
		curl_mime_filename(part, name);
		return 0;
	}
	if (curl_mime_filedata(part, path) != CURLE_OK)
		return gr_err_set(err, GR_ENOTFOUND, "cannot read '%s'", path);
	return 0;
}

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
		      size_t nfiles, srv_problem_fn left_out, void *payload, struct gr_err *err)
{
	CURL *curl = curl_easy_init();
	curl_mime *form = NULL;
	curl_mimepart *part;
	struct gr_buf zip = {0};
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
	for (size_t i = 0; !rc && i < nfiles; i++)
		rc = add_file(form, &zip, files[i], left_out, payload, err);
	if (rc)
		goto done;
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
	free(zip.p);
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
