/*
 * kernel_child_rec.c - what a cell's record says, in the notebook child: its
 * text fields cut to the output cap, the traceback formatted from the
 * traceback objects, the display() calls and figures, the watcher's flags and
 * the notes. kernel_child.c runs the cell and sends the record.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_py.h"

static void note_cut(struct kchild *c, const char *what, size_t kept, size_t total)
{
	size_t n = strlen(c->cut);

	snprintf(c->cut + n, sizeof(c->cut) - n, "%s%s truncated to %zu of %zu bytes",
		 n ? "; " : "", what, kept, total);
}

/* Bytes a cell's text fields keep: the output cap, within bounds the channel can carry. */
static size_t field_cap(const struct kchild *c)
{
	size_t cap = c->run->cap < 4096 ? 4096 : c->run->cap;

	return cap < KFIELD_MAX ? cap : KFIELD_MAX;
}

/* str `o` as JSON, cut to field_cap() bytes (noted as `what`) when `what` is given. */
json_t *kchild_text(struct kchild *c, PyObject *o, const char *what)
{
	const char *s;
	Py_ssize_t n;
	char *clean;
	json_t *j;

	if (!o || !PyUnicode_Check(o))
		return json_null();
	s = PyUnicode_AsUTF8AndSize(o, &n);
	if (!s) {
		PyErr_Clear();
		return json_string("<unprintable>");
	}
	/* a cut UTF-8 sequence at the end is dropped by gr_utf8_clean */
	if (what && (size_t)n > field_cap(c)) {
		note_cut(c, what, field_cap(c), (size_t)n);
		n = (Py_ssize_t)field_cap(c);
	}
	clean = gr_utf8_clean(s, (size_t)n);
	j = json_string(clean ? clean : "");
	free(clean);
	return j;
}

static json_t *py_text(PyObject *o)
{
	return kchild_text(NULL, o, NULL);
}

/* Append printf-style text, each piece cut at 1023 bytes; out of memory drops the piece. */
static void put(struct gr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct gr_buf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[1024];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	gr_buf_put(b, tmp, (size_t)n);
}

/*
 * Line `lineno` (1-based) of cell `number`'s source, stripped, or "". Only the
 * running cell's: any code can name its frames "<cell N>", and a hidden test
 * cell's lines must not appear in another cell's traceback.
 */
static void cell_line(struct kchild *c, long number, long lineno, char *out, size_t len)
{
	const char *p;
	const char *e;

	out[0] = 0;
	if (number != c->cell + 1 || !c->src || lineno < 1)
		return;
	p = c->src;
	for (long l = 1; l < lineno && p; l++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return;
	while (*p == ' ' || *p == '\t')
		p++;
	e = strchr(p, '\n');
	snprintf(out, len, "%.*s", (int)(e ? (size_t)(e - p) : strlen(p)), p);
}

/*
 * The traceback restricted to frames of cells ("<cell N>"), formatted from the
 * traceback objects by C: student code cannot hide it by replacing
 * sys.excepthook or the traceback module.
 */
static char *format_tb(struct kchild *c, PyObject *tb, const char *ename, const char *evalue)
{
	struct gr_buf b = {0};
	char line[512];
	size_t hidden = 0;

	put(&b, "Traceback (most recent call last):\n");
	for (PyObject *t = tb; t && PyTraceBack_Check(t);
	     t = (PyObject *)((PyTracebackObject *)t)->tb_next) {
		PyFrameObject *f = ((PyTracebackObject *)t)->tb_frame;
		PyCodeObject *co = f ? PyFrame_GetCode(f) : NULL;
		PyObject *lo = PyObject_GetAttrString(t, "tb_lineno");
		long lineno = lo ? PyLong_AsLong(lo) : -1, number = 0;
		const char *file = co ? PyUnicode_AsUTF8(co->co_filename) : NULL;
		const char *fn = co ? PyUnicode_AsUTF8(co->co_name) : NULL;

		Py_XDECREF(lo);
		PyErr_Clear();
		if (file && sscanf(file, "<cell %ld>", &number) == 1) {
			if (hidden)
				put(&b, "  [... %zu frame%s in library code]\n", hidden,
				    hidden > 1 ? "s" : "");
			hidden = 0;
			put(&b, "  File \"%s\", line %ld, in %s\n", file, lineno, fn ? fn : "?");
			cell_line(c, number, lineno, line, sizeof(line));
			if (line[0])
				put(&b, "    %s\n", line);
		} else {
			hidden++;
		}
		Py_XDECREF(co);
	}
	if (hidden)
		put(&b, "  [... %zu frame%s in library code]\n", hidden, hidden > 1 ? "s" : "");
	if (evalue && *evalue)
		put(&b, "%s: %s\n", ename, evalue);
	else
		put(&b, "%s\n", ename);
	return b.p;
}

/* A traceback within field_cap(): its end kept (the failing frames, the error). */
static json_t *tb_json(struct kchild *c, const char *text)
{
	size_t n = text ? strlen(text) : 0, cap = field_cap(c);
	char *clean, *all = NULL;
	json_t *j;

	if (!text)
		return json_null();
	if (n <= cap)
		return json_string(text);
	note_cut(c, "traceback", cap, n);
	/* a sequence cut at the start becomes U+FFFD */
	clean = gr_utf8_clean(text + n - cap, cap);
	if (clean && asprintf(&all, "[... %zu bytes of traceback cut]\n%s", n - cap, clean) < 0)
		all = NULL;
	j = json_string(all ? all : "[traceback cut]");
	free(clean);
	free(all);
	return j;
}

/* Fill ename/evalue/traceback from the pending exception (cleared). */
void kchild_exception(struct kchild *c, json_t *res)
{
	PyObject *type = NULL, *value = NULL, *tb = NULL, *name = NULL, *str = NULL;
	json_t *jn, *jv;
	char *text;

	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (type && PyType_Check(type))
		name = PyType_GetName((PyTypeObject *)type);
	PyErr_Clear();
	if (value)
		str = PyObject_Str(value);
	PyErr_Clear();
	jn = name ? kchild_text(c, name, "ename") : json_string("Exception");
	jv = str ? kchild_text(c, str, "evalue") : json_string("<unprintable>");
	text = format_tb(c, tb, json_string_value(jn) ? json_string_value(jn) : "Exception",
			 json_string_value(jv));
	json_object_set_new(res, "ename", jn);
	json_object_set_new(res, "evalue", jv);
	json_object_set_new(res, "traceback", tb_json(c, text));
	free(text);
	Py_XDECREF(name);
	Py_XDECREF(str);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
}

#define KDISPLAY_MAX ((size_t)8 << 20)
/* Displays kept per cell: each is a JSON object in the record, empty ones included. */
#define KDISPLAY_COUNT 10000

/* _cap_pos(): (stdout, stderr) bytes captured so far in this cell, for display records. */
static PyObject *cap_pos(PyObject *self, PyObject *unused)
{
	struct kcap *k = PyCapsule_GetPointer(self, "grader.kcap");

	(void)unused;
	if (!k)
		return NULL;
	return Py_BuildValue("(nn)", (Py_ssize_t)kcap_pos(k, 0), (Py_ssize_t)kcap_pos(k, 1));
}

static PyMethodDef cap_pos_def = {"_cap_pos", cap_pos, METH_NOARGS, NULL};

void kchild_expose_cap_pos(struct kchild *c)
{
	PyObject *cap = PyCapsule_New(&c->cap, "grader.kcap", NULL);
	PyObject *f = cap ? PyCFunction_New(&cap_pos_def, cap) : NULL;

	if (f)
		PyDict_SetItemString(c->run->z->pub, "_cap_pos", f);
	Py_XDECREF(f);
	Py_XDECREF(cap);
	PyErr_Clear();
}

/*
 * The cell's display() calls and figures, oldest first, as
 * [{"out", "err", "post", "data"}] (byte offsets into the captures when it was
 * shown; "post": after the result), then forgotten. Shown, never scored.
 */
json_t *kchild_displays(struct kchild *c, size_t *bytes)
{
	PyObject *list = PyDict_GetItemString(c->run->z->pub, "_displays");
	json_t *arr = json_array();
	size_t total = 0;

	for (Py_ssize_t k = 0; list && PyList_Check(list) && k < PyList_GET_SIZE(list); k++) {
		PyObject *t = PyList_GET_ITEM(list, k), *key, *val;
		Py_ssize_t pos = 0;
		json_t *d, *data;

		if (k == KDISPLAY_COUNT) {
			size_t n = strlen(c->cut);

			snprintf(c->cut + n, sizeof(c->cut) - n,
				 "%s%zd displays, %d kept (a cell's displays are capped)",
				 n ? "; " : "", PyList_GET_SIZE(list), KDISPLAY_COUNT);
			break;
		}
		if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 4 ||
		    !PyDict_Check(PyTuple_GET_ITEM(t, 3)))
			continue;
		d = json_object();
		data = json_object();
		json_object_set_new(d, "out",
				    json_integer(PyLong_AsLongLong(PyTuple_GET_ITEM(t, 0))));
		json_object_set_new(d, "err",
				    json_integer(PyLong_AsLongLong(PyTuple_GET_ITEM(t, 1))));
		json_object_set_new(d, "post", json_boolean(PyTuple_GET_ITEM(t, 2) == Py_True));
		while (PyDict_Next(PyTuple_GET_ITEM(t, 3), &pos, &key, &val)) {
			json_t *jk = py_text(key);

			/* a cell's displays stay well inside one record (KCHAN_MAX_PAYLOAD) */
			if (json_string_value(jk) && PyUnicode_Check(val)) {
				total += (size_t)PyUnicode_GET_LENGTH(val);
				json_object_set_new(
				    data, json_string_value(jk),
				    total <= KDISPLAY_MAX
					? py_text(val)
					: json_string("[display dropped: a cell's "
						      "displays are capped at 8 MiB]"));
			}
			json_decref(jk);
		}
		json_object_set_new(d, "data", data);
		json_array_append_new(arr, d);
	}
	*bytes = total;
	if (list && PyList_Check(list))
		PyList_SetSlice(list, 0, PyList_GET_SIZE(list), NULL);
	PyErr_Clear();
	return arr;
}

/*
 * A notebook's outputs are capped as a whole (KNB_BUDGET): once a notebook's
 * cells have carried that much, later cells keep their status, not their
 * outputs, so the grader holding every record stays small.
 */
void kchild_budget(struct kchild *c, json_t *res, size_t displays, size_t budget)
{
	static const char *const fields[] = {"stdout", "stderr", "result", NULL};
	size_t n = displays;

	for (size_t i = 0; fields[i]; i++)
		n += json_string_length(json_object_get(res, fields[i]));
	if (c->spent + n <= budget) {
		c->spent += n;
		return;
	}
	c->spent = budget;
	json_object_set_new(res, "stdout", json_string(""));
	json_object_set_new(res, "stderr", json_string(""));
	json_object_set_new(res, "displays", json_array());
	json_object_del(res, "result");
	n = strlen(c->cut);
	snprintf(c->cut + n, sizeof(c->cut) - n,
		 "%soutputs dropped: the notebook's outputs passed %zu MiB", n ? "; " : "",
		 budget >> 20);
}

/*
 * The watcher's new findings into the cell's record ("flags"), and the names
 * they concern into `replaced` (no duplicates).
 */
void kchild_flags(struct kchild *c, json_t *res, json_t *replaced)
{
	json_t *flags = kwatch_take(c->run->z->watch, 0), *f;
	size_t k, j;

	json_array_foreach(flags, k, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));

		if (!name ||
		    strcmp(json_string_value(json_object_get(f, "flag")), "replaced_builtins"))
			continue;
		for (j = 0; j < json_array_size(replaced); j++)
			if (!strcmp(json_string_value(json_array_get(replaced, j)), name))
				break;
		if (j == json_array_size(replaced) && j < 200)
			json_array_append_new(replaced, json_string(name));
	}
	if (json_array_size(flags))
		json_object_set(res, "flags", flags);
	json_decref(flags);
}

/* [A-Za-z0-9_.]+, optionally "...", and what follows: a name _word() made. */
static const char *note_word(const char *p)
{
	size_t k = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.");

	if (k && !strncmp(p + k, "...", 3))
		k += 3;
	return k ? p + k : NULL;
}

/*
 * A note the helper's shell may add: a magic not run, an extension that wants
 * a real IPython shell. The shell is within reach of student code (its list,
 * its functions' globals), so anything else there is not taken as a note: it
 * would pass for the engine's ("refused: ...").
 */
static int shell_note(const char *s)
{
	static const char *const ends[] = {" not run", " not run (no network in the box)", NULL};
	const char *e;

	if (!strncmp(s, "extension ", 10)) {
		e = note_word(s + 10);
		return e && !strcmp(e, ": not an IPython shell");
	}
	if (*s != '%')
		return 0;
	e = note_word(s + (s[1] == '%' ? 2 : 1));
	for (size_t k = 0; e && ends[k]; k++)
		if (!strcmp(e, ends[k]))
			return 1;
	return 0;
}

/*
 * The cell's "note": the helper's, IPython services' (in their own forms
 * only), the audit hook's refusal (a library's only when the cell failed:
 * matplotlib falls back without ctypes), what was cut.
 */
void kchild_notes(struct kchild *c, json_t *res, const char *note, PyObject *notes)
{
	json_t *jnotes = json_array();
	const char *status = json_string_value(json_object_get(res, "status"));
	const char *lib = c->run->z->audit.lib_blocked;
	size_t dropped = 0;

	if (note)
		json_array_append_new(jnotes, json_string(note));
	if (PyList_Check(notes)) {
		for (Py_ssize_t k = 0; k < PyList_GET_SIZE(notes); k++) {
			json_t *t = py_text(PyList_GET_ITEM(notes, k));

			if (json_string_value(t) && shell_note(json_string_value(t))) {
				json_array_append_new(jnotes, t);
			} else {
				json_decref(t);
				dropped++;
			}
		}
		PyList_SetSlice(notes, 0, PyList_GET_SIZE(notes), NULL);
	}
	if (dropped) {
		char msg[80];

		snprintf(msg, sizeof(msg), "%zu note%s written by the notebook's code dropped",
			 dropped, dropped > 1 ? "s" : "");
		json_array_append_new(jnotes, json_string(msg));
	}
	if (c->run->z->audit.blocked[0] || (lib[0] && status && strcmp(status, "ok"))) {
		char msg[200];

		snprintf(msg, sizeof(msg), "refused: %s",
			 c->run->z->audit.blocked[0] ? c->run->z->audit.blocked : lib);
		json_array_append_new(jnotes, json_string(msg));
	}
	if (c->cut[0])
		json_array_append_new(jnotes, json_string(c->cut));
	if (json_array_size(jnotes)) {
		struct gr_buf all = {0};

		for (size_t k = 0; k < json_array_size(jnotes); k++)
			put(&all, "%s%s", k ? "; " : "",
			    json_string_value(json_array_get(jnotes, k)));
		json_object_set_new(res, "note", all.p ? json_string(all.p) : json_null());
		free(all.p);
	}
	json_decref(jnotes);
}
