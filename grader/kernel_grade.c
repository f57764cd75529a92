/*
 * kernel_grade.c - a grade cell's own builtins. Student code can run during
 * a grade cell without a frame of its own on the stack when the pre-test
 * check runs (a garbage-collector callback, a finalizer fired by a refcount
 * inside the test) and undo what it did before the check after the cell: a
 * comparison of values cannot see that. So the grade cell's code reads its
 * builtins from a fresh copy of the builtins the child had before any student
 * code ran, and the dictionary's version tag (bumped by CPython on every
 * write) tells whether the copy or the real builtins were written while the
 * test ran, even when the write was undone. The functions locked cells define
 * (the instructor's helpers) are noted as they were made and compared right
 * before each grade cell and at its checkpoints (kernel_trace.c).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel_py.h"

PyObject *kgrade_pristine(PyObject *builtins_mod)
{
	PyObject *d = builtins_mod && PyModule_Check(builtins_mod) ? PyModule_GetDict(builtins_mod)
								   : builtins_mod;
	PyObject *copy = d && PyDict_Check(d) ? PyDict_Copy(d) : NULL;

	PyErr_Clear();
	return copy;
}

void kgrade_begin(struct kgrade *g, PyObject *pristine, PyObject *builtins_mod, PyObject *ns)
{
	PyObject *real =
	    builtins_mod && PyModule_Check(builtins_mod) ? PyModule_GetDict(builtins_mod) : NULL;

	g->fresh = pristine ? PyDict_Copy(pristine) : NULL;
	if (g->fresh && PyDict_SetItemString(ns, "__builtins__", g->fresh) < 0)
		Py_CLEAR(g->fresh);
	PyErr_Clear();
	g->v_fresh = g->fresh ? kwatch_dict_version(g->fresh) : 0;
	g->v_real = real ? kwatch_dict_version(real) : 0;
}

void kgrade_trace(struct kgrade *g, struct kchild *c, PyObject *ns, PyObject *body, PyObject *expr,
		  long cell)
{
	g->armed = &c->run->z->audit.armed;
	kfuncs_check(&c->funcs, c->run->z->watch, "found before grade cell", cell);
	g->trace = ktrace_start(c->run->z->watch, g->armed, &c->test_codes, &c->funcs, ns, g->fresh,
				body, expr, cell);
}

void kgrade_end(struct kgrade *g, struct kwatch *w, PyObject *builtins_mod, PyObject *ns, long cell)
{
	PyObject *real =
	    builtins_mod && PyModule_Check(builtins_mod) ? PyModule_GetDict(builtins_mod) : NULL;
	PyObject *type, *value, *tb;
	int written;

	PyErr_Fetch(&type, &value, &tb);
	ktrace_free(g->trace, g->armed);
	g->trace = NULL;
	/* no version tag (CPython 3.12+ reads 0): nothing to compare, the copy still holds */
	written = (g->fresh && kwatch_dict_version(g->fresh) != g->v_fresh) ||
		  (real && kwatch_dict_version(real) != g->v_real);
	if (w && written)
		kwatch_flag(w, "replaced_builtins", "builtins",
			    "builtins written during grade cell %ld", cell);
	if (g->fresh && PyDict_GetItemString(ns, "__builtins__") == g->fresh)
		PyDict_SetItemString(ns, "__builtins__", builtins_mod);
	Py_CLEAR(g->fresh);
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
}

void kgrade_processes(struct kwatch *w, long cell)
{
	struct dirent *e;
	pid_t self = getpid();
	long n = 0;
	DIR *d;

	if (!w || !(d = opendir("/proc")))
		return;
	while ((e = readdir(d))) {
		char path[64], buf[512], *p;
		long pid = strtol(e->d_name, &p, 10);
		ssize_t len;
		int fd;

		if (*p || pid <= 1 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue; /* gone meanwhile */
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* the state follows the command's closing parenthesis; a zombie runs nothing */
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X')
			n++;
	}
	closedir(d);
	if (n > 0)
		kwatch_flag(w, "background_processes", NULL,
			    "%ld other process%s of the box still running when grade cell %ld "
			    "started",
			    n, n > 1 ? "es" : "", cell);
}

/* The ids of `code` and of the code nested in it, into the set `ids`. */
static void code_ids(PyObject *code, PyObject *ids, int depth)
{
	PyObject *consts, *id;

	if (!code || !PyCode_Check(code) || depth > 32)
		return;
	id = PyLong_FromVoidPtr(code);
	if (!id || PySet_Add(ids, id) < 0)
		PyErr_Clear();
	Py_XDECREF(id);
	consts = ((PyCodeObject *)code)->co_consts;
	for (Py_ssize_t i = 0; consts && i < PyTuple_GET_SIZE(consts); i++)
		code_ids(PyTuple_GET_ITEM(consts, i), ids, depth + 1);
}

/* The contents of a closure's cells as a tuple (NULL: no closure). */
static PyObject *cell_contents(PyObject *closure)
{
	PyObject *t;

	if (!closure || !PyTuple_Check(closure))
		return NULL;
	t = PyTuple_New(PyTuple_GET_SIZE(closure));
	for (Py_ssize_t i = 0; t && i < PyTuple_GET_SIZE(closure); i++) {
		PyObject *c = PyTuple_GET_ITEM(closure, i),
			 *v = PyCell_Check(c) && PyCell_GET(c) ? PyCell_GET(c) : Py_None;

		Py_INCREF(v);
		PyTuple_SET_ITEM(t, i, v);
	}
	return t;
}

/* Fill `f` from function `fn` as it is now (references taken). */
static void snap_func(struct kfunc *f, PyObject *fn, long cell)
{
	f->fn = Py_NewRef(fn);
	f->code = Py_XNewRef(PyFunction_GET_CODE(fn));
	f->defaults = Py_XNewRef(PyFunction_GET_DEFAULTS(fn));
	f->kwdefaults = Py_XNewRef(PyFunction_GET_KW_DEFAULTS(fn));
	f->closure = Py_XNewRef(PyFunction_GET_CLOSURE(fn));
	f->cells = cell_contents(f->closure);
	f->cell = cell;
	f->flagged = 0;
	PyErr_Clear();
}

static int grow(struct kfuncs *fs)
{
	size_t cap = fs->cap ? fs->cap * 2 : 16;
	struct kfunc *p;

	if (fs->n < fs->cap)
		return 0;
	if (!(p = realloc(fs->f, cap * sizeof(*p))))
		return -1;
	fs->f = p;
	fs->cap = cap;
	return 0;
}

void kfuncs_note(struct kfuncs *fs, PyObject *ns, PyObject *body, long cell)
{
	PyObject *ids = PySet_New(NULL), *key, *v, *type, *value, *tb;
	Py_ssize_t pos = 0;

	PyErr_Fetch(&type, &value, &tb);
	code_ids(body, ids, 0);
	while (ids && PyDict_Next(ns, &pos, &key, &v)) {
		PyObject *id;
		size_t k = 0;

		if (!PyFunction_Check(v) || !(id = PyLong_FromVoidPtr(PyFunction_GET_CODE(v))))
			continue;
		while (PySet_Contains(ids, id) == 1 && k < fs->n && fs->f[k].fn != v)
			k++;
		/* a function noted before keeps what it was first made with */
		if (PySet_Contains(ids, id) == 1 && k == fs->n && grow(fs) == 0)
			snap_func(&fs->f[fs->n++], v, cell);
		Py_DECREF(id);
	}
	Py_XDECREF(ids);
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
}

/*
 * Whether the closure cells that held a callable or a module when noted (a
 * tool the helper calls) still do; a cell holding data is the helper's state.
 */
static int same_cells(const struct kfunc *f)
{
	PyObject *cl = PyFunction_GET_CLOSURE(f->fn);

	if (cl != f->closure)
		return 0;
	for (Py_ssize_t i = 0; f->cells && cl && i < PyTuple_GET_SIZE(cl); i++) {
		PyObject *c = PyTuple_GET_ITEM(cl, i), *was = PyTuple_GET_ITEM(f->cells, i);
		PyObject *v = PyCell_Check(c) && PyCell_GET(c) ? PyCell_GET(c) : Py_None;

		if (v != was && (PyCallable_Check(was) || PyModule_Check(was)))
			return 0;
	}
	return 1;
}

void kfuncs_check(struct kfuncs *fs, struct kwatch *w, const char *when, long cell)
{
	for (size_t i = 0; fs && w && i < fs->n; i++) {
		struct kfunc *f = &fs->f[i];
		const char *what = NULL;
		PyObject *qn;

		if (PyFunction_GET_CODE(f->fn) != f->code)
			what = "__code__";
		else if (PyFunction_GET_DEFAULTS(f->fn) != f->defaults)
			what = "__defaults__";
		else if (PyFunction_GET_KW_DEFAULTS(f->fn) != f->kwdefaults)
			what = "__kwdefaults__";
		else if (!same_cells(f))
			what = "__closure__";
		if (!what || f->flagged == cell)
			continue;
		f->flagged = cell;
		qn = ((PyFunctionObject *)f->fn)->func_qualname;
		kwatch_flag(w, "replaced_builtins", NULL,
			    "%s.%s, of a function locked cell %ld defined, replaced (%s %ld)",
			    qn && PyUnicode_CheckExact(qn) ? kwatch_str(qn) : "?", what, f->cell,
			    when, cell);
	}
}
