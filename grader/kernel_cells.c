/*
 * kernel_cells.c - the zygote's cache of prepared cells. The rubric's own
 * cells (its tests and locked cells, spliced into every submission) are the
 * same text in every notebook of a batch: each is transformed and split once
 * per zygote (about 0.2 ms a cell) rather than once per notebook. Only those
 * are kept: a student's cell is never cached, so nothing of one student's
 * notebook stays in the zygote's memory, which the next student's child
 * inherits. Entries are C strings in a jansson object, never Python objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_py.h"

/* What the cache may hold, keys and texts; past it, it starts again empty. */
#define KCACHE_MAX_BYTES (8u << 20)

/* The key: what the answer depends on (kind, position, IPython or not) and the text. */
static char *key_of(char kind, size_t n, int ipython, json_t *src, size_t *len)
{
	char head[48];
	int h = snprintf(head, sizeof(head), "%c%zu,%d:", kind, n, ipython);
	size_t sl = json_string_length(src);
	char *k = malloc((size_t)h + sl + 1);

	if (!k)
		return NULL;
	memcpy(k, head, (size_t)h);
	memcpy(k + h, json_string_value(src), sl);
	k[h + sl] = 0;
	*len = (size_t)h + sl;
	return k;
}

static json_t *lookup(struct kzy *z, char kind, size_t n, int ipython, json_t *src)
{
	size_t len;
	char *k = z->cells ? key_of(kind, n, ipython, src, &len) : NULL;
	json_t *e = k ? json_object_getn(z->cells, k, len) : NULL;

	free(k);
	return e;
}

static void store(struct kzy *z, char kind, size_t n, int ipython, json_t *src, json_t *v,
		  size_t bytes)
{
	size_t len;
	char *k;

	if (!z->cells)
		z->cells = json_object();
	k = z->cells && v ? key_of(kind, n, ipython, src, &len) : NULL;
	if (!k) {
		json_decref(v);
		return;
	}
	bytes += len;
	if (z->cells_bytes + bytes > KCACHE_MAX_BYTES) {
		json_object_clear(z->cells);
		z->cells_bytes = 0;
	}
	if (json_object_setn_new(z->cells, k, len, v) == 0)
		z->cells_bytes += bytes;
	free(k);
}

int kcache_needs(struct kzy *z, json_t *src)
{
	json_t *e = lookup(z, 'i', 0, 0, src);

	return e ? json_is_true(e) : -1;
}

void kcache_set_needs(struct kzy *z, json_t *src, int needs)
{
	store(z, 'i', 0, 0, src, json_boolean(needs), 1);
}

static json_t *text(const char *s, size_t *bytes)
{
	if (!s)
		return json_null();
	*bytes += strlen(s);
	return json_string(s);
}

static int untext(char **out, json_t *v)
{
	*out = NULL;
	if (json_is_null(v))
		return 0;
	*out = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
	return *out ? 0 : -1;
}

void kcache_put(struct kzy *z, size_t n, int ipython, json_t *src, const struct kcell *c)
{
	size_t bytes = 0;
	json_t *v = json_array();

	/* json_string refuses what is not UTF-8: such a cell is simply not cached */
	if (!v || json_array_append_new(v, text(c->code, &bytes)) < 0 ||
	    json_array_append_new(v, text(c->body, &bytes)) < 0 ||
	    json_array_append_new(v, text(c->expr, &bytes)) < 0 ||
	    json_array_append_new(v, text(c->note, &bytes)) < 0 ||
	    json_array_append_new(v, text(c->ename, &bytes)) < 0 ||
	    json_array_append_new(v, text(c->evalue, &bytes)) < 0 ||
	    json_array_append_new(v, text(c->tb, &bytes)) < 0 ||
	    json_array_append_new(v, text(c->imports, &bytes)) < 0) {
		json_decref(v);
		return;
	}
	store(z, 't', n, ipython, src, v, bytes);
}

int kcache_get(struct kzy *z, size_t n, int ipython, json_t *src, struct kcell *c)
{
	json_t *v = lookup(z, 't', n, ipython, src);

	if (!v || json_array_size(v) != 8)
		return 0;
	if (untext(&c->code, json_array_get(v, 0)) < 0 ||
	    untext(&c->body, json_array_get(v, 1)) < 0 ||
	    untext(&c->expr, json_array_get(v, 2)) < 0 ||
	    untext(&c->note, json_array_get(v, 3)) < 0 ||
	    untext(&c->ename, json_array_get(v, 4)) < 0 ||
	    untext(&c->evalue, json_array_get(v, 5)) < 0 ||
	    untext(&c->tb, json_array_get(v, 6)) < 0 ||
	    untext(&c->imports, json_array_get(v, 7)) < 0) {
		kpy_cell_clear(c);
		return 0;
	}
	return 1;
}
