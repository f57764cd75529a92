/*
 * kernel_child.c - one notebook run, inside the sandbox: a copy of the zygote
 * made by fork. C drives everything after _prepare(): it evaluates each
 * cell's code objects in the fresh __main__, captures fds 1 and 2 (pipes,
 * kernel_capture.c), formats tracebacks from the traceback objects themselves,
 * takes the repr of a trailing expression, and writes one MAC'd record per
 * cell on the channel. A watchdog thread (plain C, no Python) interrupts a
 * cell at its deadline and kills the run after the grace period.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "kernel_py.h"

#define KSIG_TIMEOUT SIGUSR2
#define KEXIT_KILLED 124
/* Most bytes kept of a result's repr, an exception's name or message, a traceback. */
#define KFIELD_MAX (1u << 20)
/* Most bytes kept of stdout or stderr per cell, whatever the cap asked for. */
#define KSTREAM_MAX (KCHAN_MAX_PAYLOAD / 16)

struct kchild {
	struct krun *run;
	uint32_t seq;
	pthread_mutex_t wlock; /* one record at a time on the channel */
	pthread_mutex_t lock;  /* the watchdog's state below */
	pthread_cond_t cond;
	pthread_t main_thread;
	long cell; /* cell being worked on, -1 before the first */
	double soft, hard, nb_deadline;
	int fired;	     /* 0, 1 cell limit, 2 notebook limit: for `cell` */
	const char *src;     /* the running cell's text, for traceback lines */
	PyObject *out, *err; /* this cell's sys.stdout / sys.stderr */
	PyObject *builtins;  /* __main__'s __builtins__ as _prepare() set it */
	PyObject *sigmod;    /* the signal module, imported before student code */
	struct kcap cap;     /* fds 1 and 2 */
	pid_t pid;	     /* this process: a process it forks sends nothing */
	unsigned char *key;  /* the run's key, on a page wiped in any forked process */
	char cut[256];	     /* what of this cell's record was truncated, for its note */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Frame and send one record; a failure to send ends the run (the caller sees a cut). */
static void send_record(struct kchild *c, uint32_t type, const char *payload, size_t len)
{
	unsigned char *buf;
	int ok;

	/* a process student code forked returned here: it has no key, it says nothing */
	if (getpid() != c->pid)
		_exit(0);
	buf = malloc(kchan_size(len));
	pthread_mutex_lock(&c->wlock);
	ok = buf && kchan_encode(buf, c->key, c->seq, type, payload, len) == 0 &&
	     gr_write_all(KFD_REC, buf, kchan_size(len)) == 0;
	c->seq++;
	pthread_mutex_unlock(&c->wlock);
	free(buf);
	if (!ok)
		_exit(3);
}

static void send_json(struct kchild *c, uint32_t type, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	if (!s)
		_exit(3);
	send_record(c, type, s, strlen(s));
	free(s);
}

/*
 * A cell's record, always within what the channel carries: an honest result
 * is never taken for tampering. Only escaped control characters (six bytes
 * each in JSON) can push the capped fields past it; they are cut further.
 */
static void send_cell(struct kchild *c, json_t *res)
{
	static const char *const keys[] = {"stdout",	"stderr", "result",
					   "traceback", "evalue", NULL};
	char *s = json_dumps(res, JSON_COMPACT);

	if (s && strlen(s) > KCHAN_MAX_PAYLOAD - 4096) {
		const char *old = json_string_value(json_object_get(res, "note"));
		char *note = NULL;

		free(s);
		for (size_t k = 0; keys[k]; k++) {
			const char *v = json_string_value(json_object_get(res, keys[k]));

			if (v && strlen(v) > 65536) {
				char *cut = kernel_utf8_clean(v, 65536);

				json_object_set_new(res, keys[k], json_string(cut ? cut : ""));
				free(cut);
			}
		}
		if (asprintf(&note, "%s%srecord cut to fit the result channel", old ? old : "",
			     old ? "; " : "") >= 0)
			json_object_set_new(res, "note", json_string(note));
		free(note);
		s = json_dumps(res, JSON_COMPACT);
	}
	if (!s)
		_exit(3);
	send_record(c, KREC_CELL, s, strlen(s));
	free(s);
}

static void timespec_at(struct timespec *ts, double t)
{
	/* monotonic seconds to the condition variable's clock */
	ts->tv_sec = (time_t)t;
	ts->tv_nsec = (long)((t - floor(t)) * 1e9);
}

static void *watchdog(void *arg)
{
	struct kchild *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		double t = now(), next;

		if (c->cell < 0) {
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		if (!c->fired) {
			next = c->soft < c->nb_deadline ? c->soft : c->nb_deadline;
			if (t >= next) {
				c->fired = c->soft < c->nb_deadline ? 1 : 2;
				c->hard = t + c->run->grace;
				pthread_kill(c->main_thread, KSIG_TIMEOUT);
				continue;
			}
		} else {
			next = c->hard;
			if (t >= next) {
				char msg[128];
				int n = snprintf(msg, sizeof(msg), "{\"i\":%ld,\"reason\":\"%s\"}",
						 c->cell, c->fired == 2 ? "notebook" : "cell");

				send_record(c, KREC_KILLED, msg, (size_t)n);
				_exit(KEXIT_KILLED);
			}
		}
		{
			struct timespec ts;

			timespec_at(&ts, next);
			pthread_cond_timedwait(&c->cond, &c->lock, &ts);
		}
	}
	return NULL;
}

static void arm(struct kchild *c, long cell)
{
	pthread_mutex_lock(&c->lock);
	c->cell = cell;
	c->fired = 0;
	c->soft = now() + c->run->timeout_cell;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static int fired(struct kchild *c)
{
	int f;

	pthread_mutex_lock(&c->lock);
	f = c->fired;
	pthread_mutex_unlock(&c->lock);
	return f;
}

/* A usable stream object on `fd`: the one made before, unless student code closed it. */
static PyObject *stream(struct kchild *c, PyObject *cur, int fd)
{
	PyObject *closed, *kw, *args, *s = NULL;

	if (cur) {
		closed = PyObject_GetAttrString(cur, "closed");
		if (closed == Py_False) {
			Py_DECREF(closed);
			return cur;
		}
		Py_XDECREF(closed);
		PyErr_Clear();
		Py_DECREF(cur);
	}
	kw = Py_BuildValue("{s:O}", "closefd", Py_False);
	args = Py_BuildValue("(isiss)", fd, "w", 1, "utf-8", "backslashreplace");
	if (kw && args)
		s = PyObject_Call(c->run->z->io_open, args, kw);
	Py_XDECREF(kw);
	Py_XDECREF(args);
	PyErr_Clear();
	return s;
}

/*
 * Point fds 1 and 2 at fresh, empty captures and make sys.stdout/sys.stderr
 * our stream objects again (student code may have replaced or closed them).
 */
static void reset_streams(struct kchild *c)
{
	dup2(KFD_OUT, 1);
	dup2(KFD_ERR, 2);
	kcap_reset(&c->cap);
	c->out = stream(c, c->out, 1);
	c->err = stream(c, c->err, 2);
	if (c->out)
		PySys_SetObject("stdout", c->out);
	if (c->err)
		PySys_SetObject("stderr", c->err);
	PyErr_Clear();
}

static void flush_streams(struct kchild *c)
{
	PyObject *r;

	if (c->out && (r = PyObject_CallMethod(c->out, "flush", NULL)))
		Py_DECREF(r);
	PyErr_Clear();
	if (c->err && (r = PyObject_CallMethod(c->err, "flush", NULL)))
		Py_DECREF(r);
	PyErr_Clear();
}

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
static json_t *py_text_cap(struct kchild *c, PyObject *o, const char *what)
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
	/* a cut UTF-8 sequence at the end is dropped by kernel_utf8_clean */
	if (what && (size_t)n > field_cap(c)) {
		note_cut(c, what, field_cap(c), (size_t)n);
		n = (Py_ssize_t)field_cap(c);
	}
	clean = kernel_utf8_clean(s, (size_t)n);
	j = json_string(clean ? clean : "");
	free(clean);
	return j;
}

static json_t *py_text(PyObject *o)
{
	return py_text_cap(NULL, o, NULL);
}

static void append(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char **buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char tmp[1024];
	int n;
	char *nb;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	nb = realloc(*buf, *len + (size_t)n + 1);
	if (!nb)
		return;
	memcpy(nb + *len, tmp, (size_t)n + 1);
	*buf = nb;
	*len += (size_t)n;
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
	char *buf = NULL, line[512];
	size_t len = 0, hidden = 0;

	append(&buf, &len, "Traceback (most recent call last):\n");
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
				append(&buf, &len, "  [... %zu frame%s in library code]\n", hidden,
				       hidden > 1 ? "s" : "");
			hidden = 0;
			append(&buf, &len, "  File \"%s\", line %ld, in %s\n", file, lineno,
			       fn ? fn : "?");
			cell_line(c, number, lineno, line, sizeof(line));
			if (line[0])
				append(&buf, &len, "    %s\n", line);
		} else {
			hidden++;
		}
		Py_XDECREF(co);
	}
	if (hidden)
		append(&buf, &len, "  [... %zu frame%s in library code]\n", hidden,
		       hidden > 1 ? "s" : "");
	if (evalue && *evalue)
		append(&buf, &len, "%s: %s\n", ename, evalue);
	else
		append(&buf, &len, "%s\n", ename);
	return buf;
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
	clean = kernel_utf8_clean(text + n - cap, cap);
	if (clean && asprintf(&all, "[... %zu bytes of traceback cut]\n%s", n - cap, clean) < 0)
		all = NULL;
	j = json_string(all ? all : "[traceback cut]");
	free(clean);
	free(all);
	return j;
}

/* Fill ename/evalue/traceback from the pending exception (cleared). */
static void describe_exception(struct kchild *c, json_t *res)
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
	jn = name ? py_text_cap(c, name, "ename") : json_string("Exception");
	jv = str ? py_text_cap(c, str, "evalue") : json_string("<unprintable>");
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

static void expose_cap_pos(struct kchild *c)
{
	PyObject *cap = PyCapsule_New(&c->cap, "grader.kcap", NULL);
	PyObject *f = cap ? PyCFunction_New(&cap_pos_def, cap) : NULL;

	if (f)
		PyDict_SetItemString(c->run->z->pub, "_cap_pos", f);
	Py_XDECREF(f);
	Py_XDECREF(cap);
	PyErr_Clear();
}

/* Show the figures the cell left open, as IPython's inline backend does after a cell. */
static void flush_figures(struct kchild *c)
{
	PyObject *f = PyDict_GetItemString(c->run->z->pub, "_flush_figures"), *r;

	if (f && (r = PyObject_CallNoArgs(f)))
		Py_DECREF(r);
	PyErr_Clear();
}

/*
 * The cell's display() calls and figures, oldest first, as
 * [{"out", "err", "post", "data"}] (byte offsets into the captures when it was
 * shown; "post": after the result), then forgotten. Shown, never scored.
 */
static json_t *take_displays(struct kchild *c)
{
	PyObject *list = PyDict_GetItemString(c->run->z->pub, "_displays");
	json_t *arr = json_array();
	size_t total = 0;

	for (Py_ssize_t k = 0; list && PyList_Check(list) && k < PyList_GET_SIZE(list); k++) {
		PyObject *t = PyList_GET_ITEM(list, k), *key, *val;
		Py_ssize_t pos = 0;
		json_t *d, *data;

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
	if (list && PyList_Check(list))
		PyList_SetSlice(list, 0, PyList_GET_SIZE(list), NULL);
	PyErr_Clear();
	return arr;
}

/*
 * The watcher's new findings into the cell's record ("flags"), and the names
 * they concern into `replaced` (no duplicates).
 */
static void put_flags(struct kchild *c, json_t *res, json_t *replaced)
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

/*
 * A helper function around the cell (_pre_cell, _post_cell): what IPython does
 * between cells. It runs as student code does (event handlers a notebook
 * registered run inside it) and decides nothing: its errors are dropped, its
 * output is the cell's. `f` is the zygote's own reference (struct kzy).
 */
static void call_hook(PyObject *f, PyObject *arg)
{
	PyObject *r = NULL;

	if (f)
		r = arg ? PyObject_CallOneArg(f, arg) : PyObject_CallNoArgs(f);
	Py_XDECREF(r);
	PyErr_Clear();
}

/* Evaluate one code object; a top-level-await cell's coroutine runs on the loop. */
static PyObject *eval_code(struct kchild *c, PyObject *code, PyObject *ns)
{
	PyObject *r = PyEval_EvalCode(code, ns, ns), *v;

	if (!r || !PyCode_Check(code) || !(((PyCodeObject *)code)->co_flags & CO_COROUTINE))
		return r;
	v = kloop_run(&c->run->z->loop, c->run->z->watch, r);
	Py_DECREF(r);
	return v;
}

/* Compile cell i's texts (C memory) now, right before it runs; NULL with an exception set. */
static PyObject *compile_cell(const struct kcell *k, long i, PyObject **expr)
{
	/* top-level await, as IPython's autoawait: eval_code runs the coroutine */
	PyCompilerFlags flags = {PyCF_ALLOW_TOP_LEVEL_AWAIT, PY_MINOR_VERSION};
	char name[32];
	PyObject *body;

	snprintf(name, sizeof(name), "<cell %ld>", i + 1);
	*expr = NULL;
	body = Py_CompileStringExFlags(k->body ? k->body : "", name, Py_file_input, &flags, -1);
	if (body && k->expr) {
		*expr = Py_CompileStringExFlags(k->expr, name, Py_eval_input, &flags, -1);
		if (!*expr)
			Py_CLEAR(body);
	}
	return body;
}

/* Evaluate cell i in ns: 1 when it failed (res filled), else 0; *repr the trailing value's. */
static int eval_cell(struct kchild *c, PyObject *ns, const struct kcell *k, long i, json_t *res,
		     PyObject **repr)
{
	PyObject *body, *expr = NULL, *r = NULL, *v = NULL;
	int failed = 0, uses_async;

	*repr = NULL;
	if (k->ename) {
		json_object_set_new(res, "ename", json_string(k->ename));
		json_object_set_new(res, "evalue", json_string(k->evalue));
		json_object_set_new(res, "traceback", json_string(k->tb));
		kwatch_enter(c->run->z->watch, i + 1, 0); /* it does not run */
		return 1;
	}
	uses_async = k->code && (strstr(k->code, "async") || strstr(k->code, "await"));
	/* the loop counts as running from the first cell that uses asyncio on */
	if (uses_async || c->run->z->loop.loop)
		kloop_mark(&c->run->z->loop, 1);
	call_hook(c->run->z->pre_cell, uses_async ? Py_True : Py_False);
	/*
	 * Right before a grade cell, after every piece of student code that runs
	 * ahead of it (the pre-cell events a notebook registered included): what
	 * student code changed, and threads still running.
	 */
	if (c->run->grade && c->run->grade[i])
		kguard_signals(c->run->z->watch, c->sigmod, i + 1, KSIG_TIMEOUT);
	kwatch_enter(c->run->z->watch, i + 1, c->run->grade && c->run->grade[i]);
	body = compile_cell(k, i, &expr);
	if (body && c->run->grade && c->run->grade[i]) {
		kguard_shadowed(c->run->z->watch, body, ns, i + 1);
		kguard_shadowed(c->run->z->watch, expr, ns, i + 1);
	}
	if (body)
		r = eval_code(c, body, ns);
	if (r && expr) {
		v = eval_code(c, expr, ns);
		if (v && v != Py_None) {
			*repr = PyObject_Repr(v);
			if (*repr)
				PyDict_SetItemString(ns, "_", v);
		}
	}
	if (!r || (expr && (!v || (v != Py_None && !*repr)))) {
		failed = 1;
		describe_exception(c, res);
	}
	call_hook(c->run->z->post_cell, NULL);
	Py_XDECREF(v);
	Py_XDECREF(r);
	Py_XDECREF(expr);
	Py_XDECREF(body);
	return failed;
}

/* [A-Za-z0-9_.] then `end`, or "..." then `end`: a name _word() made. */
static const char *note_word(const char *p, size_t *n)
{
	size_t k = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.");

	*n = k;
	if (k && !strncmp(p + k, "...", 3))
		*n = k + 3;
	return k ? p + *n : NULL;
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
	const char *p = s, *e;
	size_t n;

	if (!strncmp(p, "extension ", 10)) {
		e = note_word(p + 10, &n);
		return e && !strcmp(e, ": not an IPython shell");
	}
	if (*p != '%')
		return 0;
	p += p[1] == '%' ? 2 : 1;
	e = note_word(p, &n);
	for (size_t k = 0; e && ends[k]; k++)
		if (!strcmp(e, ends[k]))
			return 1;
	return 0;
}

/*
 * The cell's "note": the helper's, IPython services', the audit hook's
 * refusal (a library's only when the cell failed: matplotlib falls back
 * without ctypes), what was cut.
 */
static void add_notes(struct kchild *c, json_t *res, const char *note, PyObject *notes)
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
		char *all = NULL;
		size_t len = 0;

		for (size_t k = 0; k < json_array_size(jnotes); k++)
			append(&all, &len, "%s%s", k ? "; " : "",
			       json_string_value(json_array_get(jnotes, k)));
		json_object_set_new(res, "note", all ? json_string(all) : json_null());
		free(all);
	}
	json_decref(jnotes);
}

/* Run cell i; its record goes out before the next cell starts. */
static void run_cell(struct kchild *c, PyObject *ns, struct kcell *kc, long i, json_t *replaced,
		     PyObject *notes)
{
	PyObject *repr = NULL;
	json_t *res = json_object();
	size_t dout, derr;
	double t0;
	int f, failed;

	reset_streams(c);
	if (PyDict_GetItemString(ns, "__builtins__") != c->builtins) {
		PyDict_SetItemString(ns, "__builtins__", c->builtins);
		json_array_append_new(replaced, json_string("__main__.__builtins__"));
	}
	c->run->z->audit.blocked[0] = 0;
	c->run->z->audit.lib_blocked[0] = 0;
	c->cut[0] = 0;
	c->src = kc->code;
	arm(c, i);
	/* an interrupt meant for the previous cell, delivered late, is dropped here */
	if (PyErr_CheckSignals() < 0)
		PyErr_Clear();
	t0 = now();
	failed = eval_cell(c, ns, kc, i, res, &repr);
	if (!failed && repr)
		json_object_set_new(res, "result", py_text_cap(c, repr, "result"));
	if (!kc->ename)
		flush_figures(c);
	flush_streams(c);
	/* a timeout signal that arrived as the cell ended must not hit the next one */
	if (PyErr_CheckSignals() < 0)
		PyErr_Clear();
	json_object_set_new(res, "time", json_real(now() - t0));
	f = fired(c);
	if (f) {
		char msg[160];

		snprintf(msg, sizeof(msg), "%s time limit of %g s exceeded",
			 f == 2 ? "notebook" : "cell",
			 f == 2 ? c->run->timeout : c->run->timeout_cell);
		json_object_set_new(res, "status", json_string("timeout"));
		json_object_set_new(res, "ename", json_string("TimeoutError"));
		json_object_set_new(res, "evalue", json_string(msg));
		if (!json_object_get(res, "traceback"))
			json_object_set_new(res, "traceback", json_string(msg));
	} else {
		json_object_set_new(res, "status", json_string(failed ? "error" : "ok"));
	}
	json_object_set_new(res, "i", json_integer(i));
	json_object_set_new(res, "stdout", kcap_take(&c->cap, 0, &dout));
	json_object_set_new(res, "stderr", kcap_take(&c->cap, 1, &derr));
	json_object_set_new(res, "stdout_dropped", json_integer((json_int_t)dout));
	json_object_set_new(res, "stderr_dropped", json_integer((json_int_t)derr));
	json_object_set_new(res, "displays", take_displays(c));
	add_notes(c, res, kc->note, notes);
	kwatch_check(c->run->z->watch, 0);
	kguard_note_ns(c->run->z->watch, ns, i + 1);
	put_flags(c, res, replaced);
	PyErr_Clear();
	send_cell(c, res);
	json_decref(res);
	Py_XDECREF(repr);
	c->src = NULL;
	kpy_cell_clear(kc);
}

/* What _prepare() gave back has the shape C relies on: (dict, list). */
static int prepared_ok(PyObject *ret)
{
	return ret && PyTuple_Check(ret) && PyTuple_GET_SIZE(ret) == 2 &&
	       PyDict_Check(PyTuple_GET_ITEM(ret, 0)) && PyList_Check(PyTuple_GET_ITEM(ret, 1));
}

#if defined(__SANITIZE_ADDRESS__)
/*
 * A sanitized build's allocator answers an allocation over the data limit
 * (limit_data) with NULL, as glibc's does, rather than ending the process:
 * the notebook then sees its MemoryError in both builds.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}
#endif

/* Private writable memory mapped now (VmData), in bytes; 0 when unknown. */
static unsigned long long data_now(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmData: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/*
 * A cell that asks for more memory than the run may have gets a MemoryError
 * in that cell, as on a machine that is full, and the notebook goes on: the
 * data limit (what malloc and numpy map) stops new memory a little under the
 * cgroup's limit, which stays the last resort (page cache, kernel memory).
 * Counted from what the child inherits, so a sanitizer's reservations or the
 * zygote's heap do not count.
 */
static void limit_data(size_t mem_mb)
{
	unsigned long long lim = (unsigned long long)mem_mb << 20, margin = lim / 8, base;
	struct rlimit rl;

	if (!mem_mb)
		return;
	if (margin < (32ull << 20))
		margin = 32ull << 20;
	base = data_now();
	if (!base || margin >= lim || getrlimit(RLIMIT_DATA, &rl) < 0)
		return;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur <= base + lim - margin)
		return;
	rl.rlim_cur = base + lim - margin;
	setrlimit(RLIMIT_DATA, &rl);
}

static void finish(struct kchild *c, json_t *replaced, int timed_out, const char *error)
{
	json_t *done = json_object();

	json_object_set(done, "replaced", replaced);
	json_object_set_new(done, "flags", kwatch_take(c->run->z->watch, 1));
	json_object_set_new(done, "timed_out", json_boolean(timed_out));
	if (error)
		json_object_set_new(done, "error", json_string(error));
	send_json(c, KREC_DONE, done);
	_exit(0);
}

/*
 * In any process forked from the child (os.fork, multiprocessing): the result
 * channel is closed, and so are the capture's read ends; the key's page was
 * wiped by the kernel (MADV_WIPEONFORK).
 */
static void forked(void)
{
	close(KFD_REC);
	close(KFD_OUT_R);
	close(KFD_ERR_R);
}

/* Move the key to its own page that no forked process gets; 0, or GR_ESYS (fork then refused). */
static int guard_key(struct kchild *c)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int rc = 0;

	if (p == MAP_FAILED) {
		c->key = c->run->key; /* no page: the key stays, and fork is refused */
		return GR_ESYS;
	}
	if (madvise(p, 4096, MADV_WIPEONFORK) < 0 || madvise(p, 4096, MADV_DONTDUMP) < 0)
		rc = GR_ESYS;
	c->key = p;
	memcpy(c->key, c->run->key, KCHAN_KEY_LEN);
	OPENSSL_cleanse(c->run->key, KCHAN_KEY_LEN);
	return rc;
}

int kernel_child_main(void *arg)
{
	struct kchild c;
	PyObject *prepare, *ret = NULL, *ns, *notes;
	json_t *replaced = json_array();
	pthread_t wd;
	pthread_condattr_t ca;
	char msg[300];

	memset(&c, 0, sizeof(c));
	c.run = arg;
	c.cell = -1;
	prctl(PR_SET_DUMPABLE, 0);
	PyOS_AfterFork_Child();
	c.pid = getpid();
	/* the sandbox hands KFD_REC over without FD_CLOEXEC: no program run from here gets it */
	fcntl(KFD_REC, F_SETFD, FD_CLOEXEC);
	c.run->z->audit.allow_fork = guard_key(&c) == 0 && pthread_atfork(NULL, NULL, forked) == 0;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	/* a crash is the child's death by that signal, even under a sanitizer's handler */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	pthread_mutex_init(&c.wlock, NULL);
	pthread_mutex_init(&c.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c.cond, &ca);
	c.main_thread = pthread_self();
	c.out = c.run->z->out;
	c.err = c.run->z->err;
	Py_XINCREF(c.out);
	Py_XINCREF(c.err);
	c.nb_deadline = now() + c.run->timeout;
	if (kcap_start(&c.cap, c.run->cap < KSTREAM_MAX ? c.run->cap : KSTREAM_MAX) < 0)
		finish(&c, replaced, 0, "cannot set up the capture");
	expose_cap_pos(&c);
	reset_streams(&c);
	limit_data(c.run->z->opts->mem_mb);

	prepare = PyDict_GetItemString(c.run->z->ns, "_prepare");
	if (prepare)
		ret = PyObject_CallFunction(prepare, "ili", c.run->ipython, c.run->seed,
					    KSIG_TIMEOUT);
	if (!ret) {
		kpy_exc_message(msg, sizeof(msg));
		finish(&c, replaced, 0, msg);
	}
	if (!prepared_ok(ret))
		finish(&c, replaced, 0, "the kernel helper returned a malformed preparation");
	ns = PyTuple_GET_ITEM(ret, 0);
	notes = PyTuple_GET_ITEM(ret, 1);
	c.builtins = PyDict_GetItemString(ns, "__builtins__");
	c.sigmod = PyImport_ImportModule("signal");
	PyErr_Clear();
	/* Without a watchdog the sandbox's wall clock still ends the run. */
	if (pthread_create(&wd, NULL, watchdog, &c) != 0)
		fprintf(stderr, "grader: no watchdog thread\n");
	c.run->z->audit.armed = 1;
	for (long i = 0; i < (long)c.run->ncells; i++) {
		if (now() >= c.nb_deadline)
			finish(&c, replaced, 1, NULL);
		run_cell(&c, ns, &c.run->cells[i], i, replaced, notes);
		if (fired(&c) == 2)
			finish(&c, replaced, 1, NULL);
	}
	finish(&c, replaced, 0, NULL);
	return 0;
}
