/* batch_journal.c - the append-only record of finished submissions (crash-safe resume). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch_int.h"

int batch_journal_open(struct batch_journal *j, const char *path, int truncate, struct gr_err *err)
{
	struct stat st;

	j->fd = -1;
	j->size = 0;
	j->prof = NULL;
	j->path = strdup(path);
	if (!j->path)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	j->fd =
	    open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0600);
	if (j->fd < 0 || fstat(j->fd, &st) < 0) {
		int e = errno;
		batch_journal_close(j);
		return gr_err_sys(err, GR_EIO, e, "cannot open journal '%s'", path);
	}
	j->size = st.st_size;
	return 0;
}

static int cmp_item_id(const void *key, const void *elem)
{
	return strcmp(key, ((const struct batch_item *)elem)->student_id);
}

int batch_journal_match(struct batch_journal *j, struct batch_plan *plan, struct gr_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	rc = gr_read_file(&data, &len, j->path, 0, err);
	if (rc)
		return rc;
	for (size_t start = 0; start < len;) {
		char *nl = memchr(data + start, '\n', len - start);
		size_t end;
		json_t *entry;

		if (!nl)
			break; /* torn last line of a killed run: graded again */
		end = (size_t)(nl - data);
		entry = json_loadb(data + start, end - start, 0, NULL);
		if (entry) {
			const char *id = json_string_value(json_object_get(entry, "student_id"));
			const char *key = json_string_value(json_object_get(entry, "key"));
			struct batch_item *it = id ? bsearch(id, plan->items, plan->n,
							     sizeof(*plan->items), cmp_item_id)
						   : NULL;

			/* an entry without "final" (older journals) counts as final */
			json_t *final = json_object_get(entry, "final");

			if (it && key && !strcmp(key, it->key) && !json_is_false(final)) {
				it->done = 1;
				it->journal_off = (off_t)start;
				it->journal_len = end - start;
			}
			json_decref(entry);
		}
		start = end + 1;
	}
	free(data);
	return 0;
}

int batch_journal_write(struct batch_journal *j, struct batch_item *it, json_t *submission,
			int final, struct gr_err *err)
{
	json_t *entry = NULL;
	char *line = NULL;
	size_t len;
	off_t end;
	double t = batch_prof_now(j->prof);
	int rc = 0;

	entry = json_pack("{s:s, s:s, s:b, s:O}", "key", it->key, "student_id", it->student_id,
			  "final", final, "submission", submission);
	line = entry ? json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!line) {
		rc =
		    gr_err_set(err, GR_ENOMEM, "cannot record '%s': out of memory", it->student_id);
		goto done;
	}
	len = strlen(line);
	line[len] = '\n'; /* replaces the NUL: written as one line */
	if (gr_write_all(j->fd, line, len + 1) < 0) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write journal '%s'", j->path);
		goto done;
	}
	batch_prof_add(j->prof, BATCH_PH_JOURNAL, t);
	/* O_APPEND: the line ends where the offset is now, whoever else appended before */
	end = lseek(j->fd, 0, SEEK_CUR);
	if (end < (off_t)len + 1) {
		rc = gr_err_sys(err, GR_EIO, errno, "cannot write journal '%s'", j->path);
		goto done;
	}
	it->journal_off = end - (off_t)len - 1;
	it->journal_len = len;
	it->done = 1;
	j->size = end;
done:
	free(line);
	json_decref(entry);
	return rc;
}

int batch_journal_sync(struct batch_journal *j, struct gr_err *err)
{
	double t = batch_prof_now(j->prof);

	if (fdatasync(j->fd) < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot sync journal '%s'", j->path);
	batch_prof_add(j->prof, BATCH_PH_SYNC, t);
	return 0;
}

int batch_journal_append(struct batch_journal *j, struct batch_item *it, json_t *submission,
			 int final, struct gr_err *err)
{
	int rc = batch_journal_write(j, it, submission, final, err);

	return rc ? rc : batch_journal_sync(j, err);
}

int batch_journal_read(struct batch_journal *j, const struct batch_item *it, json_t **out,
		       struct gr_err *err)
{
	char *buf = NULL;
	json_t *entry = NULL, *sub;
	json_error_t jerr;
	ssize_t n;
	int rc = 0;

	buf = malloc(it->journal_len + 1);
	if (!buf) {
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		goto done;
	}
	n = pread(j->fd, buf, it->journal_len, it->journal_off);
	if (n != (ssize_t)it->journal_len) {
		rc = gr_err_sys(err, GR_EIO, n < 0 ? errno : EIO, "cannot read journal '%s'",
				j->path);
		goto done;
	}
	entry = json_loadb(buf, it->journal_len, 0, &jerr);
	sub = entry ? json_object_get(entry, "submission") : NULL;
	if (!sub) {
		rc = gr_err_set(err, GR_EINVAL, "journal '%s': bad entry for '%s'", j->path,
				it->student_id);
		goto done;
	}
	*out = json_incref(sub);
done:
	json_decref(entry);
	free(buf);
	return rc;
}

void batch_journal_close(struct batch_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	free(j->path);
	j->path = NULL;
}
