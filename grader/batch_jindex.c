/*
 * batch_jindex.c - what a long-lived caller keeps of a journal between
 * batch_run calls (grader serve's gradebook writer): the place of the last
 * final entry of each student and key, and how far the journal was read.
 * A run then reads only the lines appended since, so its cost follows the
 * new entries, not the journal's history. It matches exactly as
 * batch_journal_match does: the last final entry of the item's key wins, a
 * torn line (and what was appended right after it, on the same line) is
 * skipped.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch_int.h"

struct jent {
	char *student; /* NULL: a free slot */
	char key[65];
	off_t off;
	size_t len;
};

struct batch_jindex {
	dev_t dev;
	ino_t ino;
	off_t scanned; /* every complete line before it is indexed */
	struct jent *tab;
	size_t cap, n; /* cap: a power of two, at most half full */
};

int batch_jindex_new(struct batch_jindex **out, struct gr_err *err)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : gr_err_set(err, GR_ENOMEM, "out of memory");
}

static void clear(struct batch_jindex *x)
{
	for (size_t i = 0; i < x->cap; i++)
		free(x->tab[i].student);
	free(x->tab);
	x->tab = NULL;
	x->cap = x->n = 0;
	x->scanned = 0;
}

void batch_jindex_free(struct batch_jindex *x)
{
	if (!x)
		return;
	clear(x);
	free(x);
}

/* FNV-1a over the student id, a NUL and the key. */
static size_t slot_of(const struct batch_jindex *x, const char *student, const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = student;; p++) {
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		if (!*p)
			break;
	}
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)h & (x->cap - 1);
}

static struct jent *find(const struct batch_jindex *x, const char *student, const char *key)
{
	if (!x->cap)
		return NULL;
	for (size_t i = slot_of(x, student, key);; i = (i + 1) & (x->cap - 1)) {
		struct jent *e = &x->tab[i];

		if (!e->student)
			return e;
		if (!strcmp(e->student, student) && !strcmp(e->key, key))
			return e;
	}
}

static int grow(struct batch_jindex *x)
{
	struct batch_jindex big = *x;

	big.cap = x->cap ? 2 * x->cap : 256;
	big.tab = calloc(big.cap, sizeof(*big.tab));
	if (!big.tab)
		return GR_ENOMEM;
	for (size_t i = 0; i < x->cap; i++)
		if (x->tab[i].student)
			*find(&big, x->tab[i].student, x->tab[i].key) = x->tab[i];
	free(x->tab);
	x->tab = big.tab;
	x->cap = big.cap;
	return 0;
}

/* Record the final entry of (student, key) at off (a later one replaces it). */
static int put(struct batch_jindex *x, const char *student, const char *key, off_t off, size_t len)
{
	struct jent *e;

	if (2 * (x->n + 1) > x->cap && grow(x))
		return GR_ENOMEM;
	e = find(x, student, key);
	if (!e->student) {
		if (!(e->student = strdup(student)))
			return GR_ENOMEM;
		snprintf(e->key, sizeof(e->key), "%s", key);
		x->n++;
	}
	e->off = off;
	e->len = len;
	return 0;
}

/* Index the complete lines of buf (the journal from x->scanned on). */
static int index_lines(struct batch_jindex *x, const char *buf, size_t len)
{
	size_t start = 0;

	while (start < len) {
		const char *nl = memchr(buf + start, '\n', len - start);
		size_t end;
		json_t *entry;

		if (!nl)
			break; /* a torn or unfinished line: read again next time */
		end = (size_t)(nl - buf);
		entry = json_loadb(buf + start, end - start, 0, NULL);
		if (entry) {
			const char *id = json_string_value(json_object_get(entry, "student_id"));
			const char *key = json_string_value(json_object_get(entry, "key"));
			/* an entry without "final" (older journals) counts as final */
			json_t *final = json_object_get(entry, "final");
			int rc = 0;

			if (id && key && strlen(key) == 64 && !json_is_false(final))
				rc = put(x, id, key, x->scanned + (off_t)start, end - start);
			json_decref(entry);
			if (rc)
				return rc;
		}
		start = end + 1;
	}
	x->scanned += (off_t)start;
	return 0;
}

int batch_jindex_match(struct batch_jindex *x, struct batch_journal *j, struct batch_plan *plan,
		       struct gr_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t len;
	ssize_t got;
	int rc = 0;

	if (fstat(j->fd, &st) < 0)
		return gr_err_sys(err, GR_EIO, errno, "cannot read journal '%s'", j->path);
	/* another file, or one truncated (--force): read it from the start */
	if (st.st_dev != x->dev || st.st_ino != x->ino || st.st_size < x->scanned) {
		clear(x);
		x->dev = st.st_dev;
		x->ino = st.st_ino;
	}
	len = (size_t)(st.st_size - x->scanned);
	if (len && !(buf = malloc(len)))
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	got = len ? pread(j->fd, buf, len, x->scanned) : 0;
	if (got < 0)
		rc = gr_err_sys(err, GR_EIO, errno, "cannot read journal '%s'", j->path);
	else if (index_lines(x, buf, (size_t)got))
		rc = gr_err_set(err, GR_ENOMEM, "out of memory");
	free(buf);
	for (size_t i = 0; !rc && i < plan->n; i++) {
		struct batch_item *it = &plan->items[i];
		const struct jent *e = find(x, it->student_id, it->key);

		if (e && e->student) {
			it->done = 1;
			it->journal_off = e->off;
			it->journal_len = e->len;
		}
	}
	return rc;
}
