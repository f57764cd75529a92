/*
 * notebook_dump.c - writing notebooks byte for byte as Jupyter does.
 *
 * Jupyter (nbformat) writes with Python's json.dumps(indent=1,
 * sort_keys=True, ensure_ascii=False) after splitting the likely multi-line
 * strings (cell sources, stream text, text-like mime data) into lists of
 * lines with str.splitlines(keepends=True). jansson's own dumper differs in
 * escapes (uppercase \u hex) and floats (%.17g), so the serializer is ours;
 * a notebook Jupyter wrote comes back out identical.
 */
#include "grader/notebook.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	struct gr_buf b;
	int oom;
};

/* Where in a notebook a value sits: decides which strings become line lists. */
enum ctx {
	CTX_PLAIN,   /* any JSON, written as is */
	CTX_ROOT,    /* the notebook object */
	CTX_CELLS,   /* root.cells */
	CTX_CELL,    /* one cell */
	CTX_OUTPUTS, /* a code cell's outputs */
	CTX_OUTPUT,  /* one output */
	CTX_ATTACH,  /* a cell's attachments: name -> mime bundle */
	CTX_BUNDLE,  /* a mime bundle: mime type -> data */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (gr_buf_put(&o->b, s, n))
		o->oom = 1;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void newline(struct out *o, int depth)
{
	static const char spaces[] = "                                ";
	int n;

	put(o, "\n", 1);
	while (depth > 0) {
		n = depth < 32 ? depth : 32;
		put(o, spaces, (size_t)n);
		depth -= n;
	}
}

/* A JSON string with Python's escapes: named ones, else \u00xx in lowercase. */
static void put_string(struct out *o, const char *s, size_t n)
{
	size_t i, run = 0;
	char esc[8];

	put(o, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(o, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			rep = "\\\"";
			break;
		case '\\':
			rep = "\\\\";
			break;
		case '\n':
			rep = "\\n";
			break;
		case '\r':
			rep = "\\r";
			break;
		case '\t':
			rep = "\\t";
			break;
		case '\b':
			rep = "\\b";
			break;
		case '\f':
			rep = "\\f";
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			rep = esc;
		}
		puts_(o, rep);
	}
	put(o, s + run, n - run);
	put(o, "\"", 1);
}

/* Python's repr(float): shortest round-trip digits, exponent outside 1e-4..1e16. */
static void put_real(struct out *o, double v)
{
	char res[32];

	if (isnan(v)) {
		puts_(o, "NaN");
		return;
	}
	if (isinf(v)) {
		puts_(o, v < 0 ? "-Infinity" : "Infinity");
		return;
	}
	gr_py_float_repr(res, v);
	puts_(o, res);
}

/*
 * Length of the line starting at s (up to n bytes) including its terminator,
 * with Python's str.splitlines boundaries: \n, \r, \r\n, \v, \f, \x1c-\x1e,
 * U+0085, U+2028, U+2029.
 */
static size_t line_len(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e))
			return i + 1;
		if (c == '\r')
			return (i + 1 < n && s[i + 1] == '\n') ? i + 2 : i + 1;
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0x85)
			return i + 2;
		if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9))
			return i + 3;
	}
	return n;
}

/* A string written as Jupyter writes multi-line text: a list of its lines. */
static void put_lines(struct out *o, const char *s, size_t n, int depth)
{
	size_t l;
	int first = 1;

	if (!n) {
		puts_(o, "[]");
		return;
	}
	put(o, "[", 1);
	while (n) {
		l = line_len(s, n);
		if (!first)
			put(o, ",", 1);
		first = 0;
		newline(o, depth + 1);
		put_string(o, s, l);
		s += l;
		n -= l;
	}
	newline(o, depth);
	put(o, "]", 1);
}

static int keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_split_mime(const char *key)
{
	return !strncmp(key, "text/", 5) || !strcmp(key, "application/javascript") ||
	       !strcmp(key, "image/svg+xml");
}

static void put_value(struct out *o, const json_t *v, int depth, enum ctx ctx);

/* The context of member `key` of an object in context `ctx`; -1: split the string. */
static int member_ctx(const json_t *obj, const char *key, enum ctx ctx)
{
	const char *t;

	switch (ctx) {
	case CTX_ROOT:
		return !strcmp(key, "cells") ? CTX_CELLS : CTX_PLAIN;
	case CTX_CELL:
		if (!strcmp(key, "source"))
			return -1;
		if (!strcmp(key, "attachments"))
			return CTX_ATTACH;
		t = json_string_value(json_object_get(obj, "cell_type"));
		if (!strcmp(key, "outputs") && t && !strcmp(t, "code"))
			return CTX_OUTPUTS;
		return CTX_PLAIN;
	case CTX_OUTPUT:
		t = json_string_value(json_object_get(obj, "output_type"));
		if (!t)
			return CTX_PLAIN;
		if (!strcmp(key, "data") &&
		    (!strcmp(t, "execute_result") || !strcmp(t, "display_data")))
			return CTX_BUNDLE;
		if (!strcmp(key, "text") && !strcmp(t, "stream"))
			return -1;
		return CTX_PLAIN;
	case CTX_ATTACH:
		return CTX_BUNDLE;
	case CTX_BUNDLE:
		return is_split_mime(key) ? -1 : CTX_PLAIN;
	default:
		return CTX_PLAIN;
	}
}

static void put_object(struct out *o, const json_t *v, int depth, enum ctx ctx)
{
	const char **keys;
	void *it;
	const json_t *val;
	size_t n = json_object_size(v), i = 0;
	int mctx;

	if (!n) {
		puts_(o, "{}");
		return;
	}
	keys = malloc(n * sizeof(*keys));
	if (!keys) {
		o->oom = 1;
		return;
	}
	for (it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it))
		keys[i++] = json_object_iter_key(it);
	qsort(keys, n, sizeof(*keys), keycmp);
	put(o, "{", 1);
	for (i = 0; i < n; i++) {
		val = json_object_get(v, keys[i]);
		if (i)
			put(o, ",", 1);
		newline(o, depth + 1);
		put_string(o, keys[i], strlen(keys[i]));
		put(o, ": ", 2);
		mctx = member_ctx(v, keys[i], ctx);
		if (mctx < 0 && json_is_string(val))
			put_lines(o, json_string_value(val), json_string_length(val), depth + 1);
		else
			put_value(o, val, depth + 1, mctx < 0 ? CTX_PLAIN : (enum ctx)mctx);
	}
	free(keys);
	newline(o, depth);
	put(o, "}", 1);
}

static void put_value(struct out *o, const json_t *v, int depth, enum ctx ctx)
{
	size_t i, n;
	char num[32];
	enum ctx item = ctx == CTX_CELLS ? CTX_CELL : ctx == CTX_OUTPUTS ? CTX_OUTPUT : CTX_PLAIN;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		put_object(o, v, depth, ctx);
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		if (!n) {
			puts_(o, "[]");
			break;
		}
		put(o, "[", 1);
		for (i = 0; i < n; i++) {
			if (i)
				put(o, ",", 1);
			newline(o, depth + 1);
			put_value(o, json_array_get(v, i), depth + 1, item);
		}
		newline(o, depth);
		put(o, "]", 1);
		break;
	case JSON_STRING:
		put_string(o, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		puts_(o, num);
		break;
	case JSON_REAL:
		put_real(o, json_real_value(v));
		break;
	case JSON_TRUE:
		puts_(o, "true");
		break;
	case JSON_FALSE:
		puts_(o, "false");
		break;
	case JSON_NULL:
		puts_(o, "null");
		break;
	}
}

static int finish(char **out, size_t *len, struct out *o, const char *what, struct gr_err *err)
{
	if (o->oom || !o->b.p) {
		free(o->b.p);
		return gr_err_set(err, GR_ENOMEM, "cannot write '%s': out of memory", what);
	}
	*out = o->b.p;
	if (len)
		*len = o->b.len;
	return 0;
}

int nb_json_dump(char **out, size_t *len, const json_t *value, struct gr_err *err)
{
	struct out o = {0};

	put_value(&o, value, 0, CTX_PLAIN);
	return finish(out, len, &o, "<json>", err);
}

int nb_dump(char **out, const struct nb_notebook *nb, struct gr_err *err)
{
	struct out o = {0};

	put_value(&o, nb->root, 0, CTX_ROOT);
	put(&o, "\n", 1);
	return finish(out, NULL, &o, nb->path, err);
}

int nb_write_file(const struct nb_notebook *nb, const char *path, struct gr_err *err)
{
	char *data = NULL;
	int rc;

	if ((rc = nb_dump(&data, nb, err)))
		return rc;
	rc = gr_write_file_atomic(path, data, strlen(data), err);
	free(data);
	return rc;
}
