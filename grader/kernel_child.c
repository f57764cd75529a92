/*
 * kernel_child.c - one notebook run, inside the sandbox: a copy of the zygote
 * made by fork. C drives everything after _prepare(): it evaluates each
 * cell's code objects in the fresh __main__, captures fds 1 and 2 (memfds the
 * zygote made), formats tracebacks from the traceback objects themselves,
 * takes the repr of a trailing expression, and writes one MAC'd record per
 * cell on the channel. A watchdog thread (plain C, no Python) interrupts a
 * cell at its deadline and kills the run after the grace period.
 */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel_py.h"

#define KSIG_TIMEOUT SIGUSR2
#define KEXIT_KILLED 124

struct kchild {
	struct krun *run;
	uint32_t seq;
	pthread_mutex_t wlock;   /* one record at a time on the channel */
	pthread_mutex_t lock;    /* the watchdog's state below */
	pthread_cond_t cond;
	pthread_t main_thread;
	long cell;               /* cell being worked on, -1 before the first */
	double soft, hard, nb_deadline;
	int fired;               /* 0, 1 cell limit, 2 notebook limit: for `cell` */
	size_t ncells;
	char **src;              /* transformed sources, for traceback lines */
	PyObject *out, *err;     /* this cell's sys.stdout / sys.stderr */
	PyObject *builtins;      /* __main__'s __builtins__ as _prepare() set it */
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
	unsigned char *buf = malloc(kchan_size(len));
	int ok;

	pthread_mutex_lock(&c->wlock);
	ok = buf && kchan_encode(buf, c->run->key, c->seq, type, payload, len) == 0 &&
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
	if (ftruncate(KFD_OUT, 0) < 0 || ftruncate(KFD_ERR, 0) < 0)
		return;
	lseek(KFD_OUT, 0, SEEK_SET);
	lseek(KFD_ERR, 0, SEEK_SET);
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

static json_t *read_capture(int fd, size_t cap, size_t *dropped)
{
	struct stat st;
	size_t n = 0;
	char *buf = NULL, *clean;
	json_t *j;

	*dropped = 0;
	if (!fstat(fd, &st) && st.st_size > 0) {
		n = (size_t)st.st_size < cap ? (size_t)st.st_size : cap;
		*dropped = (size_t)st.st_size - n;
		buf = malloc(n + 1);
		if (buf) {
			ssize_t r = pread(fd, buf, n, 0);

			n = r > 0 ? (size_t)r : 0;
		} else {
			n = 0;
		}
	}
	clean = kernel_utf8_clean(buf ? buf : "", n);
	free(buf);
	j = json_string(clean ? clean : "");
	free(clean);
	return j;
}

static json_t *py_text(PyObject *o)
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
	clean = kernel_utf8_clean(s, (size_t)n);
	j = json_string(clean ? clean : "");
	free(clean);
	return j;
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

/* Line `lineno` (1-based) of cell `number`'s source, stripped, or NULL. */
static void cell_line(struct kchild *c, long number, long lineno, char *out, size_t len)
{
	const char *p;
	const char *e;

	out[0] = 0;
	if (number < 1 || (size_t)number > c->ncells || !c->src[number - 1] || lineno < 1)
		return;
	p = c->src[number - 1];
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
	for (PyObject *t = tb; t && PyTraceBack_Check(t); t = (PyObject *)((PyTracebackObject *)t)->tb_next) {
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
		append(&buf, &len, "  [... %zu frame%s in library code]\n", hidden, hidden > 1 ? "s" : "");
	if (evalue && *evalue)
		append(&buf, &len, "%s: %s\n", ename, evalue);
	else
		append(&buf, &len, "%s\n", ename);
	return buf;
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
	jn = name ? py_text(name) : json_string("Exception");
	jv = str ? py_text(str) : json_string("<unprintable>");
	text = format_tb(c, tb, json_string_value(jn) ? json_string_value(jn) : "Exception",
			 json_string_value(jv));
	json_object_set_new(res, "ename", jn);
	json_object_set_new(res, "evalue", jv);
	json_object_set_new(res, "traceback", text ? json_string(text) : json_null());
	free(text);
	Py_XDECREF(name);
	Py_XDECREF(str);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
}

/* Run cell i; its record goes out before the next cell starts. */
static void run_cell(struct kchild *c, PyObject *ns, PyObject *cell, long i, json_t *replaced,
		     PyObject *notes)
{
	PyObject *body = PyTuple_GET_ITEM(cell, 0), *expr = PyTuple_GET_ITEM(cell, 1);
	PyObject *note = PyTuple_GET_ITEM(cell, 2), *synerr = PyTuple_GET_ITEM(cell, 3);
	PyObject *r = NULL, *v = NULL, *repr = NULL;
	json_t *res = json_object(), *jnotes = json_array();
	size_t dout, derr;
	double t0;
	int f, failed = 0;

	reset_streams(c);
	if (PyDict_GetItemString(ns, "__builtins__") != c->builtins) {
		PyDict_SetItemString(ns, "__builtins__", c->builtins);
		json_array_append_new(replaced, json_string("__main__.__builtins__"));
	}
	c->run->z->audit.blocked[0] = 0;
	arm(c, i);
	/* an interrupt meant for the previous cell, delivered late, is dropped here */
	if (PyErr_CheckSignals() < 0)
		PyErr_Clear();
	t0 = now();
	if (synerr != Py_None) {
		failed = 1;
		json_object_set_new(res, "ename", py_text(PyTuple_GET_ITEM(synerr, 0)));
		json_object_set_new(res, "evalue", py_text(PyTuple_GET_ITEM(synerr, 1)));
		json_object_set_new(res, "traceback", py_text(PyTuple_GET_ITEM(synerr, 2)));
	} else {
		r = PyEval_EvalCode(body, ns, ns);
		if (r && expr != Py_None) {
			v = PyEval_EvalCode(expr, ns, ns);
			if (v && v != Py_None) {
				repr = PyObject_Repr(v);
				if (repr)
					PyDict_SetItemString(ns, "_", v);
			}
		}
		if (!r || (expr != Py_None && (!v || (v != Py_None && !repr)))) {
			failed = 1;
			describe_exception(c, res);
		} else if (repr) {
			json_object_set_new(res, "result", py_text(repr));
		}
	}
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
	json_object_set_new(res, "stdout", read_capture(KFD_OUT, c->run->cap, &dout));
	json_object_set_new(res, "stderr", read_capture(KFD_ERR, c->run->cap, &derr));
	json_object_set_new(res, "stdout_dropped", json_integer((json_int_t)dout));
	json_object_set_new(res, "stderr_dropped", json_integer((json_int_t)derr));
	if (note != Py_None)
		json_array_append_new(jnotes, py_text(note));
	if (PyList_Check(notes)) {
		for (Py_ssize_t k = 0; k < PyList_GET_SIZE(notes); k++)
			json_array_append_new(jnotes, py_text(PyList_GET_ITEM(notes, k)));
		PyList_SetSlice(notes, 0, PyList_GET_SIZE(notes), NULL);
	}
	if (c->run->z->audit.blocked[0]) {
		char msg[200];

		snprintf(msg, sizeof(msg), "refused: %s", c->run->z->audit.blocked);
		json_array_append_new(jnotes, json_string(msg));
	}
	if (json_array_size(jnotes)) {
		char *all = NULL;
		size_t len = 0;

		for (size_t k = 0; k < json_array_size(jnotes); k++)
			append(&all, &len, "%s%s", k ? "; " : "",
			       json_string_value(json_array_get(jnotes, k)));
		json_object_set_new(res, "note", all ? json_string(all) : json_null());
		free(all);
	}
	ksnap_check(&c->run->z->snap, replaced);
	PyErr_Clear();
	send_json(c, KREC_CELL, res);
	json_decref(res);
	json_decref(jnotes);
	Py_XDECREF(repr);
	Py_XDECREF(v);
	Py_XDECREF(r);
}

static int opt_code(PyObject *o)
{
	return o == Py_None || PyCode_Check(o);
}

static int opt_str(PyObject *o)
{
	return o == Py_None || PyUnicode_Check(o);
}

/*
 * What _prepare() gave back has the shape C relies on (a bug in the helper
 * must end the run with a message, not read past a tuple): (dict, list of
 * (code, code|None, str|None, (str, str, str)|None, str), list).
 */
static int prepared_ok(PyObject *ret)
{
	PyObject *cells;

	if (!ret || !PyTuple_Check(ret) || PyTuple_GET_SIZE(ret) != 3 ||
	    !PyDict_Check(PyTuple_GET_ITEM(ret, 0)) || !PyList_Check(PyTuple_GET_ITEM(ret, 1)) ||
	    !PyList_Check(PyTuple_GET_ITEM(ret, 2)))
		return 0;
	cells = PyTuple_GET_ITEM(ret, 1);
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(cells); i++) {
		PyObject *t = PyList_GET_ITEM(cells, i), *e;

		if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 5 ||
		    !opt_code(PyTuple_GET_ITEM(t, 0)) || !opt_code(PyTuple_GET_ITEM(t, 1)) ||
		    !opt_str(PyTuple_GET_ITEM(t, 2)) || !PyUnicode_Check(PyTuple_GET_ITEM(t, 4)))
			return 0;
		e = PyTuple_GET_ITEM(t, 3);
		if (e == Py_None ? PyTuple_GET_ITEM(t, 0) == Py_None
				 : !PyTuple_Check(e) || PyTuple_GET_SIZE(e) != 3)
			return 0;
	}
	return 1;
}

static void finish(struct kchild *c, json_t *replaced, int timed_out, const char *error)
{
	json_t *done = json_object();

	json_object_set(done, "replaced", replaced);
	json_object_set_new(done, "timed_out", json_boolean(timed_out));
	if (error)
		json_object_set_new(done, "error", json_string(error));
	send_json(c, KREC_DONE, done);
	_exit(0);
}

int kernel_child_main(void *arg)
{
	struct kchild c;
	PyObject *prepare, *ret = NULL, *ns, *cells, *notes;
	json_t *replaced = json_array();
	pthread_t wd;
	pthread_condattr_t ca;
	char msg[300];

	memset(&c, 0, sizeof(c));
	c.run = arg;
	c.cell = -1;
	prctl(PR_SET_DUMPABLE, 0);
	PyOS_AfterFork_Child();
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
	reset_streams(&c);

	prepare = PyDict_GetItemString(c.run->z->ns, "_prepare");
	if (prepare)
		ret = PyObject_CallFunction(prepare, "Oili", c.run->sources, c.run->ipython,
					    c.run->seed, KSIG_TIMEOUT);
	if (!ret) {
		kpy_exc_message(msg, sizeof(msg));
		finish(&c, replaced, 0, msg);
	}
	if (!prepared_ok(ret))
		finish(&c, replaced, 0, "the kernel helper returned a malformed preparation");
	ns = PyTuple_GET_ITEM(ret, 0);
	cells = PyTuple_GET_ITEM(ret, 1);
	notes = PyTuple_GET_ITEM(ret, 2);
	c.builtins = PyDict_GetItemString(ns, "__builtins__");
	c.ncells = (size_t)PyList_GET_SIZE(cells);
	c.src = calloc(c.ncells ? c.ncells : 1, sizeof(*c.src));
	for (size_t i = 0; c.src && i < c.ncells; i++) {
		const char *s = PyUnicode_AsUTF8(PyTuple_GET_ITEM(PyList_GET_ITEM(cells, i), 4));

		c.src[i] = s ? strdup(s) : NULL;
	}
	PyErr_Clear();
	/* Without a watchdog the sandbox's wall clock still ends the run. */
	if (pthread_create(&wd, NULL, watchdog, &c) != 0)
		fprintf(stderr, "grader: no watchdog thread\n");
	c.run->z->audit.armed = 1;
	for (long i = 0; i < (long)c.ncells; i++) {
		if (now() >= c.nb_deadline)
			finish(&c, replaced, 1, NULL);
		run_cell(&c, ns, PyList_GET_ITEM(cells, i), i, replaced, notes);
		if (fired(&c) == 2)
			finish(&c, replaced, 1, NULL);
	}
	ksnap_check(&c.run->z->snap, replaced);
	finish(&c, replaced, 0, NULL);
	return 0;
}
