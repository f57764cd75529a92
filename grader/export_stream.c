/*
 * export_stream.c - `grader export` from a gradebook file in the memory of
 * one submission: the file is opened as a gb_reader (checked whole, then
 * indexed), the selection is sorted once (export_sorted), and each exporter
 * reads the submissions it writes one at a time, writing as it goes into a
 * temporary file that is renamed into place once the export is complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export_int.h"

struct export_src {
	struct gb_reader *reader;
	struct gb_gradebook *pseudo; /* the pseudonymised header, or NULL */
	char *key;
	size_t keylen;
};

int export_src_open(struct export_src **out, const char *path, const char *keyfile,
		    struct gr_err *err)
{
	struct export_src *src = calloc(1, sizeof(*src));
	int rc;

	if (!src)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	rc = gb_reader_open(&src->reader, path, err);
	if (rc == 0 && keyfile) {
		rc = export_pseudo_key(&src->key, &src->keylen, keyfile, err);
		if (rc == 0)
			rc = export_pseudo_copy(&src->pseudo, gb_reader_header(src->reader),
						src->key, src->keylen, err);
	}
	if (rc < 0) {
		export_src_free(src);
		return rc;
	}
	*out = src;
	return 0;
}

void export_src_free(struct export_src *src)
{
	if (!src)
		return;
	gb_reader_free(src->reader);
	gb_free(src->pseudo);
	export_pseudo_key_free(src->key, src->keylen);
	free(src);
}

/*
 * Where a text export goes: stdout, a device or FIFO written in place
 * (renaming over /dev/stdout would replace the node), or a temporary file
 * beside `path` renamed over it by text_commit.
 */
struct text_out {
	FILE *f;
	const char *path;
	char *tmp;
};

static int text_open(struct text_out *t, const char *path, struct gr_err *err)
{
	struct stat st;
	int fd;

	*t = (struct text_out){.path = path};
	if (!path || !strcmp(path, "-")) {
		t->f = stdout;
		return 0;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		t->f = fopen(path, "w");
		return t->f ? 0 : gr_err_sys(err, GR_EIO, errno, "cannot open '%s'", path);
	}
	if (asprintf(&t->tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		t->tmp = NULL;
		return gr_err_set(err, GR_ENOMEM, "cannot write '%s': out of memory", path);
	}
	fd = open(t->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(t->f = fdopen(fd, "w"))) {
		int e = errno;

		if (fd >= 0) {
			close(fd);
			unlink(t->tmp);
		}
		return gr_err_sys(err, GR_EIO, e, "cannot create '%s'", t->tmp);
	}
	return 0;
}

/* Finish the export (ok: it is complete) or drop what was written. */
static int text_close(struct text_out *t, bool ok, struct gr_err *err)
{
	int rc = 0;

	if (t->f == stdout) {
		if (ok && fflush(stdout) != 0)
			rc = gr_err_sys(err, GR_EIO, errno, "cannot write to standard output");
	} else if (t->f) {
		if (ok &&
		    (fflush(t->f) != 0 || ferror(t->f) || (t->tmp && fsync(fileno(t->f)) < 0)))
			rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'",
					t->tmp ? t->tmp : t->path);
		if (fclose(t->f) != 0 && ok && rc == 0)
			rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'",
					t->tmp ? t->tmp : t->path);
		if (ok && rc == 0 && t->tmp && rename(t->tmp, t->path) < 0)
			rc = gr_err_sys(err, GR_EIO, errno, "cannot rename '%s' to '%s'", t->tmp,
					t->path);
	}
	if (t->tmp && (!ok || rc < 0))
		unlink(t->tmp);
	free(t->tmp);
	*t = (struct text_out){0};
	return rc;
}

static export_text_fn *text_fn(int fmt)
{
	switch (fmt) {
	case EXPORT_CSV:
		return export_csv_sel;
	case EXPORT_JUNIT:
		return export_junit_sel;
	case EXPORT_MARKDOWN:
		return export_markdown_sel;
	case EXPORT_ITEMS:
		return export_items_sel;
	default:
		return NULL;
	}
}

int export_src_write(struct export_src *src, int fmt, const char *out, const struct export_opts *o,
		     struct gr_err *err)
{
	const struct gb_gradebook *gb = src->pseudo ? src->pseudo : gb_reader_header(src->reader);
	struct export_sel sel;
	struct text_out t = {0};
	int rc;

	rc = export_sorted(&sel, gb, src->reader, o, err);
	if (rc < 0)
		return rc;
	sel.key = src->key;
	sel.keylen = src->keylen;
	if (fmt == EXPORT_NBGRADER_DB)
		rc = export_nbgrader_db_sel(out, &sel, o, err);
	else if (fmt == EXPORT_GRADESCOPE)
		rc = export_gradescope_sel(out, &sel, o, err);
	else if (!text_fn(fmt))
		rc = gr_err_set(err, GR_EINVAL, "unknown export format %d", fmt);
	else if ((rc = text_open(&t, out, err)) == 0) {
		rc = text_fn(fmt)(t.f, &sel, o, err);
		if (rc == 0 && ferror(t.f))
			rc = gr_err_set(err, GR_EIO, "cannot write '%s'", out ? out : "-");
		if (text_close(&t, rc == 0, rc == 0 ? err : &(struct gr_err){0}) < 0 && rc == 0)
			rc = GR_EIO;
	}
	export_sel_release(&sel);
	return rc;
}
