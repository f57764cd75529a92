/*
 * fetch_prov.c - what a fetch leaves behind besides the files: the
 * provenance document of each submission, the report, the markers' manifest
 * CSV, and the worker pool that produces them.
 */
#include "fetch_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

json_t *fetch_prov_json(const struct fetch_result *r, const char *assignment)
{
	json_t *doc = NULL, *files = NULL, *skips = NULL;
	char ts[32], fetched[32];

	gr_time_format(ts, sizeof(ts), r->time.sec, r->time.usec, GR_TIME_ISO);
	gr_time_format(fetched, sizeof(fetched), r->fetched_at.sec, r->fetched_at.usec,
		       GR_TIME_ISO);
	files = json_array();
	skips = json_array();
	if (!files || !skips)
		goto fail;
	for (size_t i = 0; i < r->nfiles; i++) {
		const struct fetch_file *f = &r->files[i];
		if (json_array_append_new(files, json_pack("{s:s, s:I, s:s, s:s, s:s?}", "path",
							   f->path, "size", (json_int_t)f->size,
							   "sha256", f->sha256, "origin", f->origin,
							   "name_encoding", f->name_encoding)) < 0)
			goto fail;
	}
	for (size_t i = 0; i < r->nskips; i++) {
		/* a name from an archive may not be UTF-8: jansson refuses those */
		const char *p = r->skips[i].path;
		json_t *path = json_string(p);
		if (!path) {
			char *hex = malloc(strlen(p) * 4 + 1), *q = hex;
			if (!hex)
				goto fail;
			for (const unsigned char *c = (const unsigned char *)p; *c; c++)
				q += *c >= 0x20 && *c < 0x7f ? sprintf(q, "%c", *c)
							     : sprintf(q, "\\x%02x", *c);
			path = json_string(hex);
			free(hex);
		}
		if (json_array_append_new(skips, json_pack("{s:o?, s:s}", "path", path, "reason",
							   r->skips[i].reason)) < 0)
			goto fail;
	}
	doc =
	    json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s?, s:b, s:s, s:O?, s:o, s:o}", "format",
		      "grader-provenance/1", "student_id", r->student_id, "assignment", assignment,
		      "timestamp", r->has_time ? ts : NULL, "timestamp_source", r->time_source,
		      "timestamp_note", r->time_note, "late", r->late, "fetched_at", fetched,
		      "source", r->source, "files", files, "skipped", skips);
	return doc;
fail:
	json_decref(files);
	json_decref(skips);
	return NULL;
}

static int cmp_result(const void *a, const void *b)
{
	const struct fetch_result *x = *(struct fetch_result *const *)a;
	const struct fetch_result *y = *(struct fetch_result *const *)b;
	return strcmp(x->student_id, y->student_id);
}

void fetch_report_finish(struct fetch_report *rep)
{
	qsort(rep->results, rep->count, sizeof(*rep->results), cmp_result);
	rep->fetched = rep->failed = rep->missing = 0;
	rep->skipped = rep->unreadable = 0;
	for (size_t i = 0; i <= rep->count; i++) {
		const struct fetch_result *res = i < rep->count ? rep->results[i] : rep->orphans;
		for (size_t k = 0; res && k < res->nskips; k++) {
			rep->skipped++;
			rep->unreadable += res->skips[k].unreadable != 0;
		}
	}
	for (size_t i = 0; i < rep->count; i++) {
		if (rep->results[i]->missing)
			rep->missing++;
		else if (rep->results[i]->failed)
			rep->failed++;
		else
			rep->fetched++;
	}
}

void fetch_report_free(struct fetch_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++)
		fetch_result_free(r->results[i]);
	fetch_result_free(r->orphans);
	free(r->results);
	free(r);
}

/*
 * Append one CSV field (RFC 4180 quoting). A field a spreadsheet would take
 * for a formula (leading = + - @) gets a leading apostrophe: file names come
 * from students and markers open this file in Excel.
 */
static void csv_field(FILE *f, const char *s, int last)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		fputc('"', f);
	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	if (quote)
		fputc('"', f);
	fputs(last ? "\r\n" : ",", f);
}

/* One row per skipped entry: `failed` when its name could not be read. */
static void manifest_skips(FILE *f, const struct fetch_result *res, const char *assignment,
			   const char *late, const char *ts)
{
	for (size_t k = 0; k < res->nskips; k++) {
		const struct fetch_skip *s = &res->skips[k];
		const char *name =
		    gr_utf8_valid(s->path, strlen(s->path)) ? s->path : "(name not UTF-8)";
		const char *row[] = {res->student_id,
				     assignment,
				     s->unreadable ? "failed" : "skipped",
				     late,
				     ts,
				     name,
				     "",
				     "",
				     s->reason};
		for (size_t c = 0; c < 9; c++)
			csv_field(f, row[c], c == 8);
	}
}

int fetch_manifest_write(const struct fetch_report *r, const char *assignment, const char *path,
			 struct gr_err *err)
{
	static const char *const header[] = {"student_id", "assignment", "status",
					     "late",	   "timestamp",	 "file",
					     "size",	   "sha256",	 "note"};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	f = open_memstream(&buf, &len);
	if (!f)
		return gr_err_sys(err, GR_ENOMEM, errno, "cannot write manifest '%s'", path);
	for (size_t i = 0; i < 9; i++)
		csv_field(f, header[i], i == 8);
	for (size_t i = 0; i < r->count; i++) {
		const struct fetch_result *res = r->results[i];
		char ts[32] = "", size[32];
		const char *late = res->late ? "yes" : "no";
		if (!res->failed && !res->missing && res->has_time)
			gr_time_format(ts, sizeof(ts), res->time.sec, res->time.usec, GR_TIME_ISO);
		if (res->missing) {
			const char *row[] = {
			    res->student_id, assignment, "missing", "", "", "", "", "", ""};
			for (size_t k = 0; k < 9; k++)
				csv_field(f, row[k], k == 8);
			continue;
		}
		if (res->failed) {
			const char *row[] = {res->student_id,
					     assignment,
					     "failed",
					     "",
					     "",
					     "",
					     "",
					     "",
					     res->error ? res->error : ""};
			for (size_t k = 0; k < 9; k++)
				csv_field(f, row[k], k == 8);
			manifest_skips(f, res, assignment, "", "");
			continue;
		}
		for (size_t k = 0; k < res->nfiles; k++) {
			const struct fetch_file *ff = &res->files[k];
			snprintf(size, sizeof(size), "%llu", (unsigned long long)ff->size);
			const char *row[] = {res->student_id, assignment, "ok",	      late, ts,
					     ff->path,	      size,	  ff->sha256, ""};
			for (size_t c = 0; c < 9; c++)
				csv_field(f, row[c], c == 8);
		}
		manifest_skips(f, res, assignment, late, ts);
	}
	if (r->orphans)
		manifest_skips(f, r->orphans, assignment, "", "");
	if (fclose(f) != 0) {
		free(buf);
		return gr_err_set(err, GR_ENOMEM, "cannot write manifest '%s': out of memory",
				  path);
	}
	rc = gr_write_file_atomic(path, buf, len, err);
	free(buf);
	return rc;
}

struct pool {
	pthread_mutex_t lock;
	size_t next, n;
	void (*fn)(void *ctx, size_t i);
	void *ctx;
};

static void *pool_worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t i;
		pthread_mutex_lock(&p->lock);
		i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		p->fn(p->ctx, i);
	}
}

int fetch_pool_run(unsigned jobs, size_t n, void (*fn)(void *ctx, size_t i), void *ctx,
		   struct gr_err *err)
{
	struct pool p = {.next = 0, .n = n, .fn = fn, .ctx = ctx};
	pthread_t *threads = NULL;
	unsigned started = 0;
	int rc = 0;

	if (jobs <= 1 || n <= 1) {
		for (size_t i = 0; i < n; i++)
			fn(ctx, i);
		return 0;
	}
	if (jobs > n)
		jobs = (unsigned)n;
	pthread_mutex_init(&p.lock, NULL);
	threads = calloc(jobs, sizeof(*threads));
	if (!threads) {
		rc = gr_err_set(err, GR_ENOMEM, "cannot start workers: out of memory");
		goto done;
	}
	for (; started < jobs; started++) {
		int e = pthread_create(&threads[started], NULL, pool_worker, &p);
		if (e) {
			if (started == 0)
				rc = gr_err_sys(err, GR_ESYS, e, "cannot start workers");
			break;
		}
	}
	/* with fewer threads than asked the work still gets done; with none, here */
	if (started == 0 && rc == 0)
		pool_worker(&p);
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
done:
	free(threads);
	pthread_mutex_destroy(&p.lock);
	return rc;
}

static int dup_member(char **out, json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	*out = v ? strdup(v) : NULL;
	return v && !*out ? GR_ENOMEM : 0;
}

int fetch_origin_read(struct fetch_origin *out, const char *dir, struct gr_err *err)
{
	struct fetch_origin o = {0};
	char *path = gr_path_join(dir, FETCH_PROVENANCE_NAME);
	json_t *doc = NULL, *src;
	json_error_t jerr;
	int rc = 0;

	if (!path)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	if (access(path, F_OK) != 0) {
		rc = gr_err_set(err, GR_ENOTFOUND, "'%s': no provenance", dir);
		goto done;
	}
	doc = json_load_file(path, 0, &jerr);
	src = json_object_get(doc, "source");
	if (!json_is_object(src) || !json_is_string(json_object_get(src, "kind"))) {
		rc = gr_err_set(err, GR_EINVAL, "'%s': not a provenance file", path);
		goto done;
	}
	if ((rc = dup_member(&o.kind, src, "kind")) ||
	    (rc = dup_member(&o.commit, src, "commit")) ||
	    (rc = dup_member(&o.location, src, "url")))
		goto oom;
	if (!o.location && (rc = dup_member(&o.location, src, "archive")))
		goto oom;
	o.late = json_is_true(json_object_get(doc, "late"));
	if ((rc = dup_member(&o.time_note, doc, "timestamp_note")))
		goto oom;
	*out = o;
	memset(&o, 0, sizeof(o));
	goto done;
oom:
	rc = gr_err_set(err, GR_ENOMEM, "out of memory");
done:
	fetch_origin_release(&o);
	json_decref(doc);
	free(path);
	return rc;
}

void fetch_origin_release(struct fetch_origin *o)
{
	if (!o)
		return;
	free(o->kind);
	free(o->location);
	free(o->commit);
	free(o->time_note);
	memset(o, 0, sizeof(*o));
}
