/*
 * srv_upload.c - POST /api/v1/submissions: a student (their token) or the
 * instructor (naming the student) sends an assignment's files as
 * multipart/form-data, parsed by libmicrohttpd's post processor; the files
 * go into the state database with the job, in one transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "grader/fetch.h"
#include "grader/roster.h"
#include "srv_http_int.h"

#define FIELD_MAX 256
#define FILES_MAX 32

struct srv_upload {
	struct gr_buf assignment, student;
	struct srv_file *files;
	size_t nfiles;
	int bad; /* a field too long or too many files */
};

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *filename, const char *type, const char *enc,
				const char *data, uint64_t off, size_t size)
{
	struct srv_upload *u = cls;
	struct gr_buf *b = NULL;
	int is_file = 0;

	(void)kind;
	(void)type;
	(void)enc;
	/* a part without a name (or with one libmicrohttpd cannot read): a malformed form */
	if (!key) {
		u->bad = 1;
		return MHD_YES;
	}
	if (!strcmp(key, "file") && filename) {
		if (off == 0) {
			struct srv_file *more;

			if (u->nfiles == FILES_MAX) {
				u->bad = 1;
				return MHD_YES;
			}
			more = realloc(u->files, (u->nfiles + 1) * sizeof(*more));
			if (!more)
				return MHD_NO;
			u->files = more;
			memset(&more[u->nfiles], 0, sizeof(*more));
			more[u->nfiles].name = strdup(filename);
			if (!more[u->nfiles++].name)
				return MHD_NO;
		}
		b = &u->files[u->nfiles - 1].data;
		is_file = 1;
	} else if (!strcmp(key, "assignment")) {
		b = &u->assignment;
	} else if (!strcmp(key, "student")) {
		b = &u->student;
	}
	if (!b)
		return MHD_YES; /* other fields are ignored */
	if (!is_file && b->len + size > FIELD_MAX) {
		u->bad = 1;
		return MHD_YES;
	}
	return gr_buf_put(b, data, size) ? MHD_NO : MHD_YES;
}

int srv_upload_begin(struct srv_req *r, struct MHD_Connection *c)
{
	r->upload = calloc(1, sizeof(*r->upload));
	if (!r->upload)
		return -1;
	r->pp = MHD_create_post_processor(c, 64 * 1024, on_field, r->upload);
	return r->pp ? 0 : -1;
}

void srv_upload_free(struct srv_req *r)
{
	if (r->pp)
		MHD_destroy_post_processor(r->pp);
	if (r->upload) {
		free(r->upload->assignment.p);
		free(r->upload->student.p);
		srv_files_free(r->upload->files, r->upload->nfiles);
		free(r->upload);
	}
	r->pp = NULL;
	r->upload = NULL;
}

/* Every file a plain, safe name; a zip comes alone; no other archives. */
static const char *check_files(const struct srv_upload *u)
{
	if (!u->nfiles)
		return "no 'file' field in the upload";
	for (size_t i = 0; i < u->nfiles; i++) {
		const char *n = u->files[i].name, *dot = strrchr(n, '.');

		/* the grading side's writer applies the same rule */
		if (!srv_file_name_ok(n))
			return "a file name is not a plain, safe name (timestamp.txt and .grader-* "
			       "are the grader's)";
		if (srv_archive_is_zip(n) && u->nfiles > 1)
			return "a zip comes alone: send one zip, or the files themselves";
		if (dot && (!strcmp(dot, ".gz") || !strcmp(dot, ".tar") || !strcmp(dot, ".tgz") ||
			    !strcmp(dot, ".7z") || !strcmp(dot, ".xz") || !strcmp(dot, ".bz2")))
			return "archives but zip are not accepted: send a zip or the files";
		for (size_t k = 0; k < i; k++)
			if (!strcmp(u->files[k].name, n))
				return "a file name is sent twice";
	}
	return NULL;
}

int srv_upload_finish(struct srv_http *h, struct srv_req *r, struct MHD_Connection *c)
{
	struct srv_upload *u = r->upload;
	const char *student = NULL, *why;
	const struct srv_assignment *a;
	struct gr_err err = {0};
	long long id = 0;
	int who, rc;

	who = srv_auth(h, c, &student);
	if (who == SRV_AUTH_NONE)
		return srv_reply_error(r, c, MHD_HTTP_UNAUTHORIZED, "a valid token is required");
	if (u->bad)
		return srv_reply_error(r, c, MHD_HTTP_BAD_REQUEST,
				       "a field is too long or there are too many files");
	if (who == SRV_AUTH_ADMIN)
		student = u->student.p;
	else if (u->student.p && strcmp(u->student.p, student))
		return srv_reply_error(r, c, MHD_HTTP_FORBIDDEN,
				       "a student token submits only its own work");
	if (!student || !fetch_name_is_safe(student))
		return srv_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "no valid 'student' field");
	if (h->roster && !roster_find(h->roster, student))
		return srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, "student is not in the roster");
	a = srv_config_assignment(h->cfg, u->assignment.p);
	if (!a)
		return srv_reply_error(r, c, MHD_HTTP_NOT_FOUND, "no such assignment");
	why = check_files(u);
	if (why)
		return srv_reply_error(r, c,
				       strstr(why, "archives") ? MHD_HTTP_UNSUPPORTED_MEDIA_TYPE
							       : MHD_HTTP_BAD_REQUEST,
				       why);
	/* a zip is unpacked once here, as the grading side will, so a bad one queues nothing */
	if (srv_archive_is_zip(u->files[0].name)) {
		char zwhy[300];

		rc = srv_archive_unpack(&u->files[0], NULL, a->name, student, zwhy, sizeof(zwhy),
					&err);
		if (rc < 0)
			return srv_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
					       "cannot read the zip now");
		if (rc > 0)
			return srv_reply_error(r, c, MHD_HTTP_UNPROCESSABLE_CONTENT, zwhy);
	}
	{
		struct srv_job_in in = {.assignment = a->name,
					.student = student,
					.kind = "upload",
					.received = r->received};

		rc = srv_store_enqueue(r->store, &in, u->files, u->nfiles, h->cfg->queue_max,
				       h->cfg->per_student, &id, &err);
	}
	return srv_reply_enqueued(h, r, c, rc, id, &err);
}
