/*
 * srv_archive.c - a zip uploaded to POST /api/v1/submissions, unpacked by
 * fetch's own archive reader (fetch_archive_run with `owner`: the same
 * checks of every entry, the same name decoding, the same bomb limits and
 * the same safe writer). The HTTP side unpacks it once into a temporary
 * folder to refuse a bad zip before anything is queued; the grading side
 * unpacks the stored zip into STATE/submitted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grader/fetch.h"
#include "srv_int.h"

/* What fetch said about a refused archive, without the temporary path. */
struct why_log {
	char *why;
	size_t len;
};

static void why_line(void *payload, const char *line)
{
	struct why_log *w = payload;
	const char *r = strstr(line, ": refused: ");

	if (r && !w->why[0]) {
		const char *end = strstr(r, "; nothing from it");
		r += strlen(": refused: ");
		snprintf(w->why, w->len, "the zip is refused: %.*s",
			 end ? (int)(end - r) : (int)strlen(r), r);
	}
}

int srv_archive_is_zip(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && !strcasecmp(dot, ".zip");
}

/* The first reason the report refuses the upload for, into why; 0 when it is whole. */
static int judge(const struct fetch_report *rep, const char *student, char *why, size_t len)
{
	const struct fetch_result *res = NULL;

	for (size_t i = 0; rep && i < rep->count; i++)
		if (!strcmp(rep->results[i]->student_id, student))
			res = rep->results[i];
	if (why[0])
		return 1; /* the archive was refused whole (why_line) */
	if (rep && rep->orphans && rep->orphans->nskips) {
		snprintf(why, len, "the zip has an entry that cannot be read: %s",
			 rep->orphans->skips[0].reason);
		return 1;
	}
	if (!res || res->nfiles == 0) {
		snprintf(why, len, "the zip holds no file");
		return 1;
	}
	if (res->failed) {
		snprintf(why, len, "the zip is refused: %s", res->error ? res->error : "failed");
		return 1;
	}
	/* an upload is all or nothing: a link or an unsafe path refuses the whole zip */
	if (res->nskips) {
		char shown[80];
		size_t k = 0;

		/* the entry's name as printable ASCII: it is the student's, and goes into JSON */
		const char *path = res->skips[0].path;

		if (!strncmp(path, "upload.zip!", 11))
			path += 11; /* the temporary file's name is nothing to the student */
		for (const char *s = path; *s && k + 1 < sizeof(shown); s++)
			shown[k++] = (*s >= 0x20 && *s < 0x7f && *s != '\'') ? *s : '?';
		shown[k] = '\0';
		snprintf(why, len, "the zip's entry '%s' is refused: %s", shown,
			 res->skips[0].reason);
		return 1;
	}
	return 0;
}

int srv_archive_unpack(const struct srv_file *zip, const char *dest, const char *assignment,
		       const char *student, char *why, size_t whylen, struct gr_err *err)
{
	char tmp[] = "/tmp/grader-upload.XXXXXX", *path = NULL;
	struct fetch_report *rep = NULL;
	struct why_log wl = {why, whylen};
	struct fetch_opts o;
	int rc;

	why[0] = '\0';
	if (!mkdtemp(tmp))
		return gr_err_sys(err, GR_EIO, errno, "cannot make a folder in /tmp");
	path = gr_path_join(tmp, "upload.zip");
	rc = path ? gr_write_file_atomic(path, zip->data.p ? zip->data.p : "", zip->data.len, err)
		  : gr_err_set(err, GR_ENOMEM, "out of memory");
	if (rc)
		goto done;
	fetch_opts_init(&o);
	o.dest = dest ? dest : tmp;
	o.assignment = assignment;
	o.owner = student;
	o.log = why_line;
	o.log_payload = &wl;
	/* what it unpacks to is held to a push's caps: every gradebook write reads it */
	o.limits.max_file_size = SRV_PUSH_MAX;
	o.limits.max_total_size = SRV_PUSH_MAX;
	o.limits.max_archive_size = SRV_PUSH_MAX;
	o.limits.max_files = 1000;
	o.limits.max_entries = 1000;
	o.limits.max_depth = 1;
	{
		char *files[] = {path};
		rc = fetch_archive_run(&rep, &o, files, 1, err);
	}
	if (!rc && judge(rep, student, why, whylen))
		rc = 1;
done:
	fetch_report_free(rep);
	free(path);
	gr_rm_rf(tmp, NULL);
	return rc;
}
