/*
 * gradebook_write.c - writing gradebook files: whole (gb_write_file) or
 * streamed one submission at a time (gb_writer). Both produce the same
 * bytes: the top-level keys in a fixed order, then one line per assignment,
 * student and submission, so files diff and grep well and are written
 * without holding every submission in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gradebook_int.h"

/* Dump `j` (stolen) as one line; 0 or GR_ENOMEM/GR_EIO. */
static int emit(FILE *f, json_t *j)
{
	int rc = 0;

	if (!j)
		return GR_ENOMEM;
	if (json_dumpf(j, f, GB_DUMP_FLAGS) < 0)
		rc = GR_EIO;
	json_decref(j);
	return rc;
}

static int emit_header(FILE *f, const struct gb_gradebook *gb)
{
	int rc = 0;

	fprintf(f, "{\"format\": \"%s\", \"format_version\": %d, \"generator\": ", GB_FORMAT,
		GB_FORMAT_VERSION);
	rc = emit(f, gb->generator ? json_string(gb->generator) : json_null());
	fputs(",\n\"assignments\": [\n", f);
	for (size_t i = 0; rc == 0 && i < gb->n_assignments; i++) {
		rc = emit(f, gb_assignment_to_json(gb->assignments[i]));
		fputs(i + 1 < gb->n_assignments ? ",\n" : "\n", f);
	}
	fputs("],\n\"students\": [\n", f);
	for (size_t i = 0; rc == 0 && i < gb->n_students; i++) {
		rc = emit(f, gb_student_to_json(gb->students[i]));
		fputs(i + 1 < gb->n_students ? ",\n" : "\n", f);
	}
	fputs("],\n\"submissions\": [", f);
	return rc;
}

static int emit_submission(FILE *f, const struct gb_submission *sub, bool first, struct gr_err *err)
{
	json_t *j = NULL;
	int rc = gb_submission_to_json(&j, sub, err);

	if (rc < 0)
		return rc;
	fputs(first ? "\n" : ",\n", f);
	return emit(f, j);
}

static const char footer[] = "\n]}\n";

int gb_write_file(const struct gb_gradebook *gb, const char *path, struct gr_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return gr_err_sys(err, GR_ENOMEM, errno, "cannot write '%s'", path);
	rc = emit_header(f, gb);
	for (size_t i = 0; rc == 0 && i < gb->n_submissions; i++)
		rc = emit_submission(f, gb->submissions[i], i == 0, err);
	fputs(footer, f);
	if (fclose(f) != 0 && rc == 0)
		rc = GR_ENOMEM;
	if (rc < 0) {
		free(buf);
		return gr_err_set(err, rc, "cannot write '%s': %s", path,
				  rc == GR_ENOMEM ? "out of memory" : "serialisation failed");
	}
	rc = gr_write_file_atomic(path, buf, len, err);
	free(buf);
	return rc;
}

struct gb_writer {
	const struct gb_gradebook *header;
	char *path, *tmp;
	FILE *f;
	struct gb_seen *seen;
	size_t count;
	bool failed;
};

int gb_writer_open(struct gb_writer **out, const char *path, const struct gb_gradebook *header,
		   struct gr_err *err)
{
	struct gb_writer *w = calloc(1, sizeof(*w));
	const char *slash = strrchr(path, '/');
	int fd = -1, rc;

	if (!w || !(w->path = strdup(path))) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	w->header = header;
	if ((rc = gb_check_header(header, err)) < 0)
		goto done;
	if ((rc = gb_seen_new(&w->seen, err)) < 0)
		goto done;
	/* The temporary file sits next to the target so that rename() is atomic. */
	if ((slash ? asprintf(&w->tmp, "%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1)
		   : asprintf(&w->tmp, ".%s.XXXXXX", path)) < 0) {
		w->tmp = NULL;
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	fd = mkstemp(w->tmp);
	if (fd < 0) {
		free(w->tmp);
		w->tmp = NULL;
		rc =
		    gr_err_sys(err, GR_EIO, errno, "cannot create a temporary file for '%s'", path);
		goto done;
	}
	(void)fchmod(fd, 0644);
	w->f = fdopen(fd, "w");
	if (!w->f) {
		close(fd);
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", w->tmp);
		goto done;
	}
	if ((rc = emit_header(w->f, header)) < 0) {
		gr_err_set(err, rc, "cannot write '%s'", path);
		goto done;
	}
	*out = w;
	w = NULL;
done:
	gb_writer_free(w);
	return rc;
}

int gb_writer_add(struct gb_writer *w, const struct gb_submission *sub, struct gr_err *err)
{
	char where[64];
	int rc;

	if (w->failed)
		return gr_err_set(err, GR_EIO, "cannot write '%s': an earlier write failed",
				  w->path);
	snprintf(where, sizeof(where), "submissions[%zu]", w->count);
	if ((rc = gb_submission_validate(w->header, sub, where, err)) < 0)
		return rc;
	if ((rc = gb_seen_add(w->seen, sub, where, err)) < 0)
		return rc;
	if ((rc = emit_submission(w->f, sub, w->count == 0, err)) < 0 || ferror(w->f)) {
		w->failed = true;
		return gr_err_set(err, rc < 0 ? rc : GR_EIO, "cannot write '%s'", w->path);
	}
	w->count++;
	return 0;
}

int gb_writer_add_json(struct gb_writer *w, json_t *j, struct gr_err *err)
{
	struct gb_submission *sub = NULL;
	char where[64];
	int rc;

	snprintf(where, sizeof(where), "submissions[%zu]", w->count);
	rc = gb_submission_from_json(&sub, j, where, err);
	if (rc == 0)
		rc = gb_writer_add(w, sub, err);
	gb_submission_free(sub);
	return rc;
}

int gb_writer_commit(struct gb_writer *w, struct gr_err *err)
{
	FILE *f = w->f;
	int fd, rc = 0;

	if (w->failed || !f)
		return gr_err_set(err, GR_EIO, "cannot write '%s': an earlier write failed",
				  w->path);
	w->f = NULL;
	fputs(footer, f);
	fd = fileno(f);
	if (fflush(f) != 0 || ferror(f) || fsync(fd) != 0)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", w->path);
	if (fclose(f) != 0 && rc == 0)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", w->path);
	if (rc == 0 && rename(w->tmp, w->path) != 0)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot rename '%s' to '%s'", w->tmp, w->path);
	if (rc == 0) {
		free(w->tmp);
		w->tmp = NULL; /* nothing left to remove */
	}
	w->failed = rc < 0;
	return rc;
}

void gb_writer_free(struct gb_writer *w)
{
	if (!w)
		return;
	if (w->f)
		fclose(w->f);
	if (w->tmp) {
		unlink(w->tmp);
		free(w->tmp);
	}
	gb_seen_free(w->seen);
	free(w->path);
	free(w);
}
