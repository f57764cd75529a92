/*
 * srv_journal.c - the grading side compacts each assignment's journal when
 * the service starts, before any worker or gradebook writer runs: of every
 * student only the last final entry is kept, the one their folder holds
 * (a job places the folder, then appends its entry; no two jobs of one
 * student run at once). The older ones are results of earlier pushes no
 * write uses again; dropping one can only cost a grading again (the
 * journal is a cache of results by key). The compact journal is written
 * beside the old one, synced and renamed over it, so a kill -9 at any
 * point leaves the one or the other, whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "srv_int.h"

struct line {
	char *student;
	size_t off, len; /* the line, without its newline */
};

static int by_student_then_place(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	int c = strcmp(x->student, y->student);

	return c ? c : (x->off > y->off) - (x->off < y->off);
}

static int by_place(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	return (x->off > y->off) - (x->off < y->off);
}

/* Drop the first n lines' student ids and the array. */
static void lines_free(struct line *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].student);
	free(v);
}

/* Add line [start, end) of `id` to v (k of cap used). */
static int add_line(struct line **v, size_t *k, size_t *cap, const char *id, size_t start,
		    size_t end)
{
	if (*k == *cap) {
		struct line *more = realloc(*v, (*cap = *cap ? 2 * *cap : 256) * sizeof(**v));
		if (!more)
			return GR_ENOMEM;
		*v = more;
	}
	if (!((*v)[*k].student = strdup(id)))
		return GR_ENOMEM;
	(*v)[*k].off = start;
	(*v)[(*k)++].len = end - start;
	return 0;
}

/* The final entries of data, one struct line each (*n of them; *total lines in all). */
static int final_lines(struct line **out, size_t *n, size_t *total, const char *data, size_t len)
{
	struct line *v = NULL;
	size_t k = 0, cap = 0;
	int rc = 0;

	*total = 0;
	for (size_t start = 0; !rc && start < len;) {
		const char *nl = memchr(data + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - data) : len;
		json_t *e = json_loadb(data + start, end - start, 0, NULL);
		const char *id = json_string_value(json_object_get(e, "student_id"));

		(*total)++;
		/* a torn last line (no newline) is never read: dropped */
		if (nl && id && !json_is_false(json_object_get(e, "final")))
			rc = add_line(&v, &k, &cap, id, start, end);
		json_decref(e);
		start = end + 1;
	}
	if (rc) {
		lines_free(v, k);
		return rc;
	}
	*out = v;
	*n = k;
	return 0;
}

/* Write the kept lines to a private file beside `path`, synced, and rename it over path. */
static int replace_with(const char *path, const char *tmp, const char *data,
			const struct line *keep, size_t n, struct gr_err *err)
{
	int fd = -1, rc = 0;

	/* the journal holds hidden tests' output: root's alone, as the journal itself */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot create '%s'", tmp);
		goto done;
	}
	for (size_t i = 0; !rc && i < n; i++)
		if (gr_write_all(fd, data + keep[i].off, keep[i].len + 1) < 0)
			rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", tmp);
	if (!rc && fsync(fd) < 0)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write '%s'", tmp);
	close(fd);
	if (!rc && rename(tmp, path) < 0)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot replace '%s'", path);
	if (!rc) {
		/* the rename itself made durable */
		char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
		int dfd;

		if (slash)
			*slash = '\0';
		dfd = slash ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(dir);
	}
done:
	if (rc)
		unlink(tmp);
	return rc;
}

int srv_journal_compact(const char *path, size_t *kept, size_t *total, struct gr_err *err)
{
	struct line *v = NULL;
	char *data = NULL, *tmp = NULL;
	size_t len = 0, n = 0, u = 0;
	int rc;

	*kept = *total = 0;
	if (asprintf(&tmp, "%s.compact", path) < 0)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	/* a copy a compaction killed midway left: the journal itself is whole */
	unlink(tmp);
	rc = gr_read_file(&data, &len, path, 0, err);
	if (rc == GR_ENOTFOUND)
		rc = 0;
	if (rc || !data) {
		free(tmp);
		return rc;
	}
	if (final_lines(&v, &n, total, data, len)) {
		free(data);
		free(tmp);
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	/* the last final line of each student, in the journal's order */
	qsort(v, n, sizeof(*v), by_student_then_place);
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && !strcmp(v[i].student, v[i + 1].student)) {
			free(v[i].student);
			continue;
		}
		v[u++] = v[i];
	}
	qsort(v, u, sizeof(*v), by_place);
	*kept = u;
	if (u < *total)
		rc = replace_with(path, tmp, data, v, u, err);
	lines_free(v, u);
	free(data);
	free(tmp);
	return rc;
}
