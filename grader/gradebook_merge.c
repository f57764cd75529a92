/* gradebook_merge.c - put the partial gradebooks of a sharded run together. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grader/gradebook.h"

/* Load and validate one part; *out is its JSON (json_decref it). */
static int load_part(json_t **out, const char *path, struct gr_err *err)
{
	struct gb_gradebook *gb = NULL;
	struct gr_err inner = {0};
	json_error_t jerr;
	char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = gr_read_file(&data, &len, path, GB_FILE_MAX, err);
	if (rc < 0)
		return rc;
	*out = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	free(data);
	if (!*out)
		return gr_err_set(err, GR_EINVAL, "'%s': line %d column %d: %s", path, jerr.line,
				  jerr.column, jerr.text);
	rc = gb_from_json(&gb, *out, &inner);
	gb_free(gb);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
		return gr_err_set(err, rc, "'%s': %s", path, inner.msg);
	}
	return 0;
}

static const char *str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/*
 * Fold part `i` into the header: same assignments and grader, new students
 * added, each submission's (assignment, student) claimed by one part only.
 */
static int add_part(json_t *hdr, json_t *seen, json_t *part, const char *const *paths, size_t i,
		    struct gr_err *err)
{
	json_t *students = json_object_get(hdr, "students"), *ids = json_object_get(hdr, "_ids");
	json_t *v;
	size_t k;

	if (!json_equal(json_object_get(hdr, "assignments"), json_object_get(part, "assignments")))
		return gr_err_set(err, GR_EINVAL,
				  "'%s': assignments differ from '%s' (another rubric?)", paths[i],
				  paths[0]);
	if (strcmp(str_of(hdr, "generator"), str_of(part, "generator")))
		return gr_err_set(err, GR_EINVAL, "'%s': made by '%s', '%s' by '%s'", paths[i],
				  str_of(part, "generator"), paths[0], str_of(hdr, "generator"));
	json_array_foreach(json_object_get(part, "students"), k, v)
	{
		const char *id = str_of(v, "id");
		if (!json_object_get(ids, id) &&
		    (json_object_set_new(ids, id, json_true()) || json_array_append(students, v)))
			return gr_err_set(err, GR_ENOMEM, "out of memory");
	}
	json_array_foreach(json_object_get(part, "submissions"), k, v)
	{
		char *key = NULL;
		json_t *prev;
		int rc = 0;

		if (asprintf(&key, "%s/%s", str_of(v, "assignment"), str_of(v, "student_id")) < 0)
			return gr_err_set(err, GR_ENOMEM, "out of memory");
		prev = json_object_get(seen, key);
		if (prev)
			rc = gr_err_set(err, GR_EINVAL, "student '%s' is in both '%s' and '%s'",
					str_of(v, "student_id"), paths[json_integer_value(prev)],
					paths[i]);
		else if (json_object_set_new(seen, key, json_integer((json_int_t)i)))
			rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		free(key);
		if (rc)
			return rc;
	}
	return 0;
}

/* Name on `log` every expected student without a submission in any part. */
static size_t report_missing(json_t *hdr, json_t *seen, const char *const *expected, FILE *log)
{
	size_t missing = 0, k;
	json_t *a;

	if (!expected)
		return 0;
	json_array_foreach(json_object_get(hdr, "assignments"), k, a)
	{
		for (size_t i = 0; expected[i]; i++) {
			char *key = NULL;
			int found;

			if (asprintf(&key, "%s/%s", str_of(a, "name"), expected[i]) < 0)
				return missing + 1;
			found = json_object_get(seen, key) != NULL;
			free(key);
			if (found)
				continue;
			missing++;
			if (log)
				fprintf(log, "in no part: '%s' (%s)\n", expected[i],
					str_of(a, "name"));
		}
	}
	return missing;
}

int gb_merge(const char *out, const char *const *paths, size_t n, const char *const *expected,
	     int allow_missing, FILE *log, size_t *n_missing, struct gr_err *err)
{
	struct gb_gradebook *header = NULL;
	struct gb_writer *w = NULL;
	json_t *hdr = NULL, *seen = json_object(), *part = NULL, *v;
	size_t missing = 0, k;
	int rc = 0;

	if (!seen)
		return gr_err_set(err, GR_ENOMEM, "out of memory");
	/* pass 1: one part in memory at a time, only ids and the header kept */
	for (size_t i = 0; i < n && !rc; i++) {
		rc = load_part(&part, paths[i], err);
		if (rc)
			break;
		if (!hdr) {
			hdr = json_deep_copy(part);
			if (!hdr || json_object_set_new(hdr, "students", json_array()) ||
			    json_object_set_new(hdr, "_ids", json_object()) ||
			    json_object_set_new(hdr, "submissions", json_array()))
				rc = gr_err_set(err, GR_ENOMEM, "out of memory");
		}
		if (!rc)
			rc = add_part(hdr, seen, part, paths, i, err);
		json_decref(part);
		part = NULL;
	}
	if (rc)
		goto done;
	missing = report_missing(hdr, seen, expected, log);
	if (n_missing)
		*n_missing = missing;
	if (missing && !allow_missing) {
		rc = gr_err_set(err, GR_ENOTFOUND, "%zu student%s in no part: not written '%s'",
				missing, missing == 1 ? "" : "s", out);
		goto done;
	}
	json_object_del(hdr, "_ids");
	rc = gb_from_json(&header, hdr, err);
	if (!rc)
		rc = gb_writer_open(&w, out, header, err);
	/* pass 2: stream each part's submissions into the output */
	for (size_t i = 0; i < n && !rc; i++) {
		rc = load_part(&part, paths[i], err);
		json_array_foreach(rc ? NULL : json_object_get(part, "submissions"), k, v)
		{
			rc = gb_writer_add_json(w, v, err);
			if (rc)
				break;
		}
		json_decref(part);
		part = NULL;
	}
	if (!rc)
		rc = gb_writer_commit(w, err);
done:
	gb_writer_free(w);
	gb_free(header);
	json_decref(hdr);
	json_decref(seen);
	return rc;
}
