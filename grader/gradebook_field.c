/*
 * gradebook_field.c - the field readers and builders every gradebook*.c file
 * shares: one-line errors naming the path of a bad field, typed reads of
 * jansson objects, and builders that turn NULL and NAN into null.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradebook_int.h"

int gb_bad(struct gr_err *err, const char *where, const char *key, const char *fmt, ...)
{
	char msg[GR_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (where && *where && key)
		return gr_err_set(err, GR_EINVAL, "%s.%s: %s", where, key, msg);
	if (where && *where)
		return gr_err_set(err, GR_EINVAL, "%s: %s", where, msg);
	return gr_err_set(err, GR_EINVAL, "%s: %s", key ? key : "(top)", msg);
}

/* ---- reading helpers ---------------------------------------------------- */

int gb_json_object(json_t *j, const char *where, const char *key, struct gr_err *err)
{
	if (!json_is_object(j))
		return gb_bad(err, where, key, "expected an object");
	return 0;
}

/* Refuse keys outside `allowed` (NULL-terminated): typos should not pass silently. */
int gb_json_keys(json_t *o, const char *where, const char *const *allowed, struct gr_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		size_t i;

		for (i = 0; allowed[i]; i++)
			if (!strcmp(allowed[i], key))
				break;
		if (!allowed[i])
			return gb_bad(err, where, key, "unknown field");
	}
	return 0;
}

/* A string field; absent or null gives NULL unless `required`. */
int gb_json_str(json_t *o, const char *key, const char *where, bool required, char **out,
		struct gr_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		if (required)
			return gb_bad(err, where, key, "missing (expected a string)");
		return gb_set_str(out, NULL);
	}
	if (!json_is_string(v))
		return gb_bad(err, where, key, "expected a string");
	if (required && !*json_string_value(v))
		return gb_bad(err, where, key, "must not be empty");
	if (memchr(json_string_value(v), '\0', json_string_length(v)))
		return gb_bad(err, where, key, "contains a NUL character");
	return gb_set_str(out, json_string_value(v)) < 0
		   ? gr_err_set(err, GR_ENOMEM, "out of memory")
		   : 0;
}

/* A number field; absent or null gives `dflt` (NAN for optional ones). */
int gb_json_num(json_t *o, const char *key, const char *where, double dflt, bool nullable,
		double *out, struct gr_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		if (v && !nullable)
			return gb_bad(err, where, key, "expected a number, not null");
		*out = dflt;
		return 0;
	}
	if (!json_is_number(v))
		return gb_bad(err, where, key, "expected a number");
	*out = json_number_value(v);
	return 0;
}

int gb_json_bool(json_t *o, const char *key, const char *where, bool *out, struct gr_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		*out = false;
		return 0;
	}
	if (!json_is_boolean(v))
		return gb_bad(err, where, key, "expected true or false");
	*out = json_is_true(v);
	return 0;
}

int gb_json_array(json_t *o, const char *key, const char *where, json_t **out, struct gr_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		*out = NULL;
		return 0;
	}
	if (!json_is_array(v))
		return gb_bad(err, where, key, "expected an array");
	*out = v;
	return 0;
}

int gb_json_time(json_t *o, const char *key, const char *where, char **out, struct gr_err *err)
{
	int64_t sec;
	int rc = gb_json_str(o, key, where, false, out, err);

	if (rc < 0)
		return rc;
	if (*out && gr_time_parse(&sec, NULL, *out, GR_TIME_NAIVE_UTC, NULL) < 0)
		return gb_bad(err, where, key, "'%s' is not an ISO 8601 date-time", *out);
	return 0;
}

/* ---- writing helpers ---------------------------------------------------- */

json_t *gb_jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *gb_jnum(double x)
{
	return gb_isset(x) ? json_real(x) : json_null();
}

/* json_object_set_new that remembers a failure in *ok. */
void gb_jput(json_t *o, const char *key, json_t *v, bool *ok)
{
	if (!v || json_object_set_new(o, key, v) < 0)
		*ok = false;
}

void gb_jappend(json_t *a, json_t *v, bool *ok)
{
	if (!v || json_array_append_new(a, v) < 0)
		*ok = false;
}
