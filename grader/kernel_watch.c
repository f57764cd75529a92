/*
 * kernel_watch.c - the monkeypatch watcher: what student code did to the
 * system's modules (standard library, Debian's packages), which the test
 * cells trust as their tools.
 *
 * Every module the import system loads from the system is watched from the
 * moment its own import completes, whoever imported it: the zygote snapshots
 * what it preloaded, and a C wrapper around the import system's
 * _find_and_load (the one function every import statement, __import__ and
 * importlib.import_module go through) snapshots each new system module when
 * its load returns. A snapshot is a copy of the module's namespace and of the
 * namespaces of the classes it defines (every name, leading underscore
 * included) plus the module's type; it is compared only when the dict's
 * version tag moved, so an untouched module costs one read. Function objects
 * are not copied at all: assigning __code__, __defaults__ or __kwdefaults__
 * raises the audit event object.__setattr__, which the audit hook hands here,
 * and so does assigning a module's __class__; __wrapped__ (a plain attribute)
 * is compared for the functions that have one.
 *
 * Changes made by a library while it is being imported (pandas rebinds
 * time.tzname) are the library's: the namespaces are compared before an
 * import starts, to charge the student with what came before, and re-taken
 * after a load during which only system modules were loaded.
 *
 * The comparison runs after every cell and right before each grade cell;
 * before a grade cell it also flags Python threads still running, and puts
 * the system's module back in sys.modules where a submission file or a
 * hand-made entry shadows it. Every finding is a flag with a one-line reason.
 * Which modules are the system's, sys.modules and the box: kernel_watch_mods.c.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel_py.h"

/* ---- findings ---- */

void kwatch_flag(struct kwatch *w, const char *flag, const char *name, const char *fmt, ...)
{
	char reason[300];
	va_list ap;
	size_t i;
	json_t *f;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	/* names chosen by student code (a class's) reach a terminal: no control characters */
	for (char *p = reason; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	json_array_foreach(
	    w->flags, i,
	    f) if (!strcmp(json_string_value(json_object_get(f, "flag")), flag) &&
		   !strcmp(json_string_value(json_object_get(f, "reason")), reason)) return;
	if (json_array_size(w->flags) >= 200)
		return;
	f = json_pack("{s:s,s:s}", "flag", flag, "reason", reason);
	if (f && name)
		json_object_set_new(f, "name", json_string(name));
	if (f)
		json_array_append_new(w->flags, f);
}

const char *kwatch_str(PyObject *s)
{
	const char *p = s && PyUnicode_Check(s) ? PyUnicode_AsUTF8(s) : NULL;

	if (!p)
		PyErr_Clear();
	return p ? p : "?";
}

static int starts(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

int kwatch_trusted(const char *f)
{
	return starts(f, "/usr/lib/python3") || starts(f, "/usr/local/lib/python3");
}

uint64_t kwatch_dict_version(PyObject *d)
{
#if PY_VERSION_HEX < 0x030c0000
	return ((PyDictObject *)d)->ma_version_tag;
#else
	(void)d;
	return 0; /* no version tag: always compare */
#endif
}

/* ---- snapshots ---- */

static int add_rec(struct kwatch *w, PyObject *owner, PyObject *dict, const char *name,
		   int is_class)
{
	PyObject *id = PyLong_FromVoidPtr(dict);
	struct kw_rec *r;
	int have = id ? PySet_Contains(w->seen, id) : -1;

	if (have != 0 || PySet_Add(w->seen, id) < 0) {
		Py_XDECREF(id);
		PyErr_Clear();
		return have == 1 ? 0 : GR_ENOMEM;
	}
	Py_DECREF(id);
	if (w->nrecs == w->caprecs) {
		size_t ncap = w->caprecs ? w->caprecs * 2 : 1024;
		void *p = realloc(w->recs, ncap * sizeof(*w->recs));

		if (!p)
			return GR_ENOMEM;
		w->recs = p;
		w->caprecs = ncap;
	}
	r = &w->recs[w->nrecs];
	r->snap = PyDict_Copy(dict);
	r->name = strdup(name);
	if (!r->snap || !r->name) {
		Py_XDECREF(r->snap);
		free(r->name);
		PyErr_Clear();
		return GR_ENOMEM;
	}
	r->owner = owner;
	r->dict = dict;
	Py_INCREF(owner);
	Py_INCREF(dict);
	r->type = Py_TYPE(owner);
	r->version = kwatch_dict_version(dict);
	r->keys_version = 0;
	r->is_class = is_class;
	w->nrecs++;
	return 0;
}

static void add_wrap(struct kwatch *w, PyObject *fn, PyObject *wrapped, const char *name)
{
	struct kw_wrap *x;

	if (w->nwraps == w->capwraps) {
		size_t ncap = w->capwraps ? w->capwraps * 2 : 256;
		void *p = realloc(w->wraps, ncap * sizeof(*w->wraps));

		if (!p)
			return;
		w->wraps = p;
		w->capwraps = ncap;
	}
	x = &w->wraps[w->nwraps];
	x->name = strdup(name);
	if (!x->name)
		return;
	x->fn = fn;
	x->wrapped = wrapped;
	x->dict = NULL;
	x->version = 0;
	Py_INCREF(fn);
	Py_INCREF(wrapped);
	w->nwraps++;
}

/*
 * A library function's closure cells (numpy's dispatchers keep the
 * implementation in one): a cell's contents can be set from Python without
 * an audit event, so they are snapshotted, once per function.
 */
static void add_closure(struct kwatch *w, PyObject *fn, const char *name)
{
	PyObject *cl = ((PyFunctionObject *)fn)->func_closure, *id, *snap, *entry;

	if (!cl || !PyTuple_Check(cl) || !w->closures || !w->closure_seen)
		return;
	id = PyLong_FromVoidPtr(fn);
	if (!id || PySet_Contains(w->closure_seen, id) != 0 || PySet_Add(w->closure_seen, id) < 0) {
		Py_XDECREF(id);
		PyErr_Clear();
		return;
	}
	Py_DECREF(id);
	snap = PyTuple_New(PyTuple_GET_SIZE(cl));
	for (Py_ssize_t i = 0; snap && i < PyTuple_GET_SIZE(cl); i++) {
		PyObject *c = PyTuple_GET_ITEM(cl, i);
		PyObject *v = PyCell_Check(c) ? PyCell_GET(c) : NULL;

		PyTuple_SET_ITEM(snap, i, Py_NewRef(v ? v : Py_None));
	}
	entry = snap ? Py_BuildValue("(OOs)", cl, snap, name) : NULL;
	if (entry)
		PyList_Append(w->closures, entry);
	Py_XDECREF(entry);
	Py_XDECREF(snap);
	PyErr_Clear();
}

/* Watch a system module: its namespace, the classes it defines, its wrapped functions. */
void kwatch_add_module(struct kwatch *w, const char *mname, PyObject *mod)
{
	PyObject *dict = PyModule_GetDict(mod), *key, *val;
	Py_ssize_t pos = 0;
	char name[512];

	if (!dict || !strcmp(mname, "sys") || !strcmp(mname, "__main__") ||
	    add_rec(w, mod, dict, mname, 0) < 0) {
		PyErr_Clear();
		return;
	}
	while (PyDict_Next(dict, &pos, &key, &val)) {
		if (!PyUnicode_Check(key))
			continue;
		snprintf(name, sizeof(name), "%s.%s", mname, kwatch_str(key));
		if (PyType_Check(val) && (((PyTypeObject *)val)->tp_flags & Py_TPFLAGS_HEAPTYPE) &&
		    ((PyTypeObject *)val)->tp_dict) {
			PyObject *owner =
			    PyDict_GetItemString(((PyTypeObject *)val)->tp_dict, "__module__");

			if (owner && PyUnicode_Check(owner) &&
			    !PyUnicode_CompareWithASCIIString(owner, mname))
				add_rec(w, val, ((PyTypeObject *)val)->tp_dict, name, 1);
		} else if (PyFunction_Check(val)) {
			PyObject *fd = ((PyFunctionObject *)val)->func_dict;
			PyObject *wr = fd ? PyDict_GetItemString(fd, "__wrapped__") : NULL;

			if (wr)
				add_wrap(w, val, wr, name);
			add_closure(w, val, name);
			if (wr && PyFunction_Check(wr))
				add_closure(w, wr, name);
		}
	}
	PyErr_Clear();
}

/* ---- comparing ---- */

static int is_tool(PyObject *o)
{
	return PyCallable_Check(o) || PyModule_Check(o);
}

/*
 * Rebindings that are not an attack on a tool: filling a name that was None
 * (lazy set-up: tempfile.tempdir), or a private data global (a cache).
 */
static int harmless(const char *k, PyObject *old, PyObject *cur)
{
	(void)cur;
	if (old == Py_None)
		return 1;
	return k[0] == '_' && k[1] != '_' && !is_tool(old);
}

static int skip_key(const char *k, int is_class)
{
	static const char *const skip[] = {"__doc__",
					   "__module__",
					   "__dict__",
					   "__weakref__",
					   "__qualname__",
					   "__annotations__",
					   "__slots__",
					   "__abstractmethods__",
					   "__parameters__",
					   "__orig_bases__",
					   "__match_args__",
					   "__signature__",
					   NULL};

	if (!is_class)
		return !strcmp(k, "__doc__");
	for (size_t i = 0; skip[i]; i++)
		if (!strcmp(k, skip[i]))
			return 1;
	return 0;
}

/*
 * A name added to a namespace that changes what existing code finds, or a
 * tool added to a system module under a public name (a test reading another
 * module's attribute through it: `keyword.isclose = f; math = keyword`). A
 * module bound under its own name (a submodule, bound by its import), a
 * system module, and the package's own callables (kwatch_own_callable) are
 * not.
 */
static const char *shadowing(struct kwatch *w, struct kw_rec *r, PyObject *key, PyObject *val)
{
	if (!r->is_class && PyModule_Check(val) && PyUnicode_CheckExact(key) &&
	    kwatch_str(key)[0] != '_' && kwatch_module_origin(val) != 1) {
		const char *mn = PyModule_GetName(val);
		size_t n = strlen(r->name);

		PyErr_Clear();
		if (!mn || strncmp(mn, r->name, n) || mn[n] != '.' ||
		    strcmp(mn + n + 1, kwatch_str(key)))
			return "a module not from the system, added by the notebook";
		return NULL;
	}
	if (!PyCallable_Check(val))
		return NULL;
	if (!r->is_class && PyDict_GetItemWithError(w->builtins, key))
		return "shadows the builtin";
	if (!r->is_class)
		return PyUnicode_CheckExact(key) && kwatch_str(key)[0] != '_' &&
			       !kwatch_own_callable(r->name, val)
			   ? "a callable that is not the module's own"
			   : NULL;
	for (Py_ssize_t i = 1; i < PyTuple_GET_SIZE(((PyTypeObject *)r->owner)->tp_mro); i++) {
		PyTypeObject *b =
		    (PyTypeObject *)PyTuple_GET_ITEM(((PyTypeObject *)r->owner)->tp_mro, i);

		if (b->tp_dict && PyDict_GetItemWithError(b->tp_dict, key))
			return "overrides an inherited attribute";
	}
	return NULL;
}

/* Compare one namespace with its snapshot; `flagging` 0 accepts every change. */
static void check_rec(struct kwatch *w, struct kw_rec *r, int flagging)
{
	uint64_t v = kwatch_dict_version(r->dict);
	PyObject *key, *old, *cur, *copy, *drop = NULL;
	Py_ssize_t pos = 0;
	int moved = 0;
	/*
	 * The import system's own tools (its modules and classes): what student
	 * code rebinds or adds there is undone at once, so that the tests'
	 * imports run on the system's finders and loaders.
	 */
	int machinery;

	if (!r->is_class && Py_TYPE(r->owner) != r->type) {
		if (flagging)
			kwatch_flag(w, "replaced_builtins", r->name,
				    "module %s given the class %s (cell %ld)", r->name,
				    Py_TYPE(r->owner)->tp_name, w->cell);
		r->type = Py_TYPE(r->owner);
	}
	if (v && v == r->version)
		return;
	machinery =
	    flagging && (starts(r->name, "importlib") || starts(r->name, "_frozen_importlib") ||
			 starts(r->name, "zipimport"));
	while (PyDict_Next(r->snap, &pos, &key, &old)) {
		const char *k = kwatch_str(key);

		cur = PyDict_GetItemWithError(r->dict, key);
		if (cur == old)
			continue;
		moved = 1;
		if (!flagging || skip_key(k, r->is_class) || harmless(k, old, cur))
			continue;
		{
			char name[600];
			int back = machinery;

			snprintf(name, sizeof(name), "%s.%s", r->name, k);
			kwatch_flag(w, "replaced_builtins", name, "%s %s (cell %ld%s)", name,
				    cur ? "rebound" : "deleted", w->cell,
				    back ? "; put back for the tests" : "");
			if (back && PyDict_SetItem(r->dict, key, old) == 0 && r->is_class)
				PyType_Modified((PyTypeObject *)r->owner);
		}
	}
	pos = 0;
	while (PyDict_Next(r->dict, &pos, &key, &cur)) {
		const char *why;

		if (PyDict_Contains(r->snap, key) == 1)
			continue;
		moved = 1;
		why = flagging && PyUnicode_Check(key) ? shadowing(w, r, key, cur) : NULL;
		if (why) {
			char name[600];

			snprintf(name, sizeof(name), "%s.%s", r->name, kwatch_str(key));
			kwatch_flag(w, "replaced_builtins", name, "%s added: %s (cell %ld%s)", name,
				    why, w->cell, machinery ? "; removed for the tests" : "");
			if (machinery && (drop || (drop = PyList_New(0))))
				PyList_Append(drop, key);
		}
	}
	for (Py_ssize_t i = 0; drop && i < PyList_GET_SIZE(drop); i++)
		PyDict_DelItem(r->dict, PyList_GET_ITEM(drop, i));
	if (drop && r->is_class)
		PyType_Modified((PyTypeObject *)r->owner);
	Py_XDECREF(drop);
	PyErr_Clear();
	if (moved && (copy = PyDict_Copy(r->dict)))
		Py_SETREF(r->snap, copy);
	PyErr_Clear();
	r->version = v;
}

static void check_wraps(struct kwatch *w, int flagging)
{
	for (size_t i = 0; i < w->nwraps; i++) {
		struct kw_wrap *x = &w->wraps[i];
		PyObject *d = ((PyFunctionObject *)x->fn)->func_dict, *cur;
		uint64_t v = d ? kwatch_dict_version(d) : 0;

		/* the same __dict__ at the same version: __wrapped__ did not move */
		if (v && d == x->dict && v == x->version)
			continue;
		cur = d ? PyDict_GetItemWithError(d, w->wrapped_key) : NULL;
		x->dict = d;
		x->version = v;
		if (cur == x->wrapped)
			continue;
		if (flagging)
			kwatch_flag(w, "replaced_builtins", x->name,
				    "%s.__wrapped__ replaced (cell %ld)", x->name, w->cell);
		Py_XINCREF(cur);
		Py_XSETREF(x->wrapped, cur);
		if (!cur)
			x->wrapped = Py_NewRef(Py_None);
	}
}

/*
 * A closure cell that held a tool (a callable, a module) and now holds
 * something else: flagged and put back. A cell filled later (None before)
 * or holding data is the library's own state.
 */
static void check_closures(struct kwatch *w, int flagging)
{
	for (Py_ssize_t i = 0; w->closures && i < PyList_GET_SIZE(w->closures); i++) {
		PyObject *e = PyList_GET_ITEM(w->closures, i);
		PyObject *cl = PyTuple_GET_ITEM(e, 0), *snap = PyTuple_GET_ITEM(e, 1);
		const char *name = kwatch_str(PyTuple_GET_ITEM(e, 2));

		for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(cl); j++) {
			PyObject *c = PyTuple_GET_ITEM(cl, j), *old = PyTuple_GET_ITEM(snap, j);
			PyObject *cur = PyCell_Check(c) ? PyCell_GET(c) : NULL;

			if (cur == old || !cur)
				continue;
			if (flagging && old != Py_None && is_tool(old)) {
				kwatch_flag(w, "replaced_builtins", name,
					    "a closure cell of %s replaced (cell %ld; put back)",
					    name, w->cell);
				PyCell_Set(c, old);
				continue;
			}
			/* accepted: the library's own state (the tuple is ours alone) */
			PyTuple_SET_ITEM(snap, j, Py_NewRef(cur));
			Py_DECREF(old);
		}
	}
	PyErr_Clear();
}

static void check_all(struct kwatch *w, int flagging)
{
	kwatch_check_modules(w, flagging);
	for (size_t i = 0; i < w->nrecs; i++)
		check_rec(w, &w->recs[i], flagging);
	check_wraps(w, flagging);
	check_closures(w, flagging);
	PyErr_Clear();
}

/* ---- the import wrapper ---- */

/* Code of the notebook's: a cell, a magic's body, a file that is not the system's, __main__. */
static int student_frame(PyFrameObject *f)
{
	PyCodeObject *co = PyFrame_GetCode(f);
	const char *file = kwatch_str(co->co_filename);
	PyObject *g, *main;
	int r;

	if (!strncmp(file, "<cell ", 6) || !strcmp(file, "<magic>"))
		r = 1;
	else if (file[0] == '<')
		r = 0;
	else
		r = !kwatch_trusted(file);
	Py_DECREF(co);
	if (r)
		return 1;
	g = PyFrame_GetGlobals(f);
	main = PyDict_GetItemString(PyImport_GetModuleDict(), "__main__");
	r = g && main && PyModule_Check(main) && g == PyModule_GetDict(main);
	Py_XDECREF(g);
	return r;
}

/*
 * The profile function of an import (C, not Python's sys.setprofile): a call
 * into the notebook's code while a module is being imported (a finder of its
 * own, a codec search function, a finalizer) makes the import's changes the
 * notebook's.
 */
static int on_call(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
	struct kwatch *w = PyCapsule_GetPointer(obj, "grader.kwatch");

	(void)arg;
	if (w && what == PyTrace_CALL && !w->student_ran && f && student_frame(f))
		w->student_ran = 1;
	PyErr_Clear();
	return 0;
}

static void profile(struct kwatch *w, PyObject *self, int on)
{
	PyObject *type, *value, *tb;

	PyErr_Fetch(&type, &value, &tb);
	w->profiling = 1; /* the audit hook lets this one through */
	PyEval_SetProfile(on ? on_call : NULL, on ? self : NULL);
	w->profiling = 0;
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
}

static PyObject *load_hook(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	struct kwatch *w = PyCapsule_GetPointer(self, "grader.kwatch");
	unsigned long nonsys0 = w ? w->nonsys : 0;
	PyObject *r, *mod;
	int charge, outer;

	if (!w)
		return NULL;
	/*
	 * An import student code asked for: finalizers that were pending run
	 * now, not during it; a hook of the notebook's in place, or code of the
	 * notebook's called while it runs, makes its changes the notebook's.
	 */
	outer = !w->depth && *w->armed;
	if (outer) {
		PyGC_Collect();
		w->student_ran = kguard_foreign_hooks(w, 0, 0);
	}
	/* what came before this import is not the import's doing (unless a system module's) */
	charge = !w->depth;
	if (!charge && w->depth <= KW_DEPTH) {
		mod = PyDict_GetItemWithError(PyImport_GetModuleDict(), w->stack[w->depth - 1]);
		charge = !mod || !kwatch_system_module(mod);
	}
	if (charge)
		check_all(w, *w->armed);
	if (w->depth < KW_DEPTH && nargs > 0)
		w->stack[w->depth] = args[0];
	w->depth++;
	if (outer)
		profile(w, self, 1);
	r = PyObject_Vectorcall(w->orig_load, args, (size_t)nargs, NULL);
	if (outer)
		profile(w, self, 0);
	{
		PyObject *type, *value, *tb;

		PyErr_Fetch(&type, &value, &tb);
		kwatch_check_modules(w, *w->armed);
		mod = nargs > 0 ? PyDict_GetItemWithError(PyImport_GetModuleDict(), args[0]) : NULL;
		/* a load during which only the system's code ran: its changes are accepted */
		check_all(w, *w->armed && !(w->nonsys == nonsys0 && !w->student_ran && mod &&
					    kwatch_system_module(mod)));
		PyErr_Restore(type, value, tb);
	}
	w->depth--;
	if (outer)
		w->student_ran = 0;
	return r;
}

static PyMethodDef load_def = {"_find_and_load", (PyCFunction)(void (*)(void))load_hook,
			       METH_FASTCALL, NULL};

/* ---- audit events ---- */

/*
 * The library's own set-up: an import is running and the innermost Python
 * frame is a system file (numpy renames its dispatchers' __code__ on import).
 */
static int library_import(struct kwatch *w)
{
	PyFrameObject *f = PyEval_GetFrame(); /* borrowed */
	PyCodeObject *co = f ? PyFrame_GetCode(f) : NULL;
	int r = w->depth > 0 && co && kwatch_trusted(kwatch_str(co->co_filename));

	Py_XDECREF(co);
	return r;
}

int kwatch_on_setattr(struct kwatch *w, void *argp)
{
	PyObject *args = argp, *obj, *name;
	const char *n;

	if (!w || !PyTuple_Check(args) || PyTuple_GET_SIZE(args) < 2)
		return 0;
	obj = PyTuple_GET_ITEM(args, 0);
	name = PyTuple_GET_ITEM(args, 1);
	n = kwatch_str(name);
	if (PyFunction_Check(obj) && (!strcmp(n, "__code__") || !strcmp(n, "__defaults__") ||
				      !strcmp(n, "__kwdefaults__"))) {
		PyFunctionObject *f = (PyFunctionObject *)obj;
		PyObject *mname = PyDict_GetItemString(f->func_globals, "__name__");
		PyObject *mod =
		    mname ? PyDict_GetItemWithError(PyImport_GetModuleDict(), mname) : NULL;
		char full[600];

		if (!kwatch_trusted(kwatch_str(((PyCodeObject *)f->func_code)->co_filename)) ||
		    kwatch_initializing(mod) || library_import(w))
			return 0; /* not a library's function, or the library's own set-up */
		snprintf(full, sizeof(full), "%s.%s.%s", mname ? kwatch_str(mname) : "?",
			 kwatch_str(f->func_qualname), n);
		kwatch_flag(w, "replaced_builtins", full, "%s replaced (cell %ld)", full, w->cell);
	} else if (PyModule_Check(obj) && !strcmp(n, "__class__") && kwatch_system_module(obj) &&
		   !kwatch_initializing(obj) && !library_import(w)) {
		PyObject *to = PyTuple_GET_SIZE(args) > 2 ? PyTuple_GET_ITEM(args, 2) : NULL;
		const char *mn = PyModule_GetName(obj);

		kwatch_flag(w, "replaced_builtins", mn, "module %s given the class %s (cell %ld)",
			    mn ? mn : "?",
			    to && PyType_Check(to) ? ((PyTypeObject *)to)->tp_name : "?", w->cell);
	}
	PyErr_Clear();
	return 0;
}

/* ---- before a grade cell ---- */

/* Python threads other than this one; `names` gets their classes (no student code runs). */
static long other_threads(char *names, size_t len)
{
	PyThreadState *me = PyThreadState_Get();
	PyObject *threading = PyDict_GetItemString(PyImport_GetModuleDict(), "threading");
	PyObject *active = threading && PyModule_Check(threading)
			       ? PyDict_GetItemString(PyModule_GetDict(threading), "_active")
			       : NULL;
	PyObject *key, *t;
	Py_ssize_t pos = 0;
	size_t used = 0;
	long n = 0;

	for (PyThreadState *ts = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(me));
	     ts; ts = PyThreadState_Next(ts))
		n += ts != me;
	names[0] = 0;
	while (n && active && PyDict_Check(active) && PyDict_Next(active, &pos, &key, &t)) {
		if (PyLong_Check(key) && PyLong_AsUnsignedLong(key) == PyThread_get_thread_ident())
			continue;
		if (used + strlen(Py_TYPE(t)->tp_name) + 3 >= len)
			break;
		used += (size_t)snprintf(names + used, len - used, "%s%s", used ? ", " : "",
					 Py_TYPE(t)->tp_name);
	}
	PyErr_Clear();
	return n;
}

void kwatch_enter(struct kwatch *w, long cell, int grade)
{
	if (!w)
		return;
	w->cell = cell;
	if (grade)
		kwatch_check(w, 1);
}

void kwatch_check(struct kwatch *w, int grade)
{
	PyObject *type, *value, *tb, *names;
	long cell = w ? w->cell : 0;

	if (!w)
		return;
	PyErr_Fetch(&type, &value, &tb);
	check_all(w, 1);
	kwatch_scan_box(w);
	if (grade) {
		char kinds[120];
		long n = other_threads(kinds, sizeof(kinds));

		if (n > 0)
			kwatch_flag(
			    w, "background_threads", NULL,
			    "%ld Python thread%s still running when grade cell %ld started%s%s%s",
			    n, n > 1 ? "s" : "", cell, kinds[0] ? " (" : "", kinds,
			    kinds[0] ? ")" : "");
		kguard_foreign_hooks(w, cell, 1);
		kwatch_scan_path(w);
		names = PySequence_List(w->shadows);
		for (Py_ssize_t i = 0; names && i < PyList_GET_SIZE(names); i++)
			kwatch_restore(w, PyList_GET_ITEM(names, i));
		Py_XDECREF(names);
		w->modules_version = 0;
		kwatch_check_modules(w, 0);
	}
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
}

json_t *kwatch_take(struct kwatch *w, int all)
{
	json_t *out = json_array();

	for (size_t i = all ? 0 : w->sent; w && out && i < json_array_size(w->flags); i++)
		json_array_append(out, json_array_get(w->flags, i));
	if (w)
		w->sent = json_array_size(w->flags);
	return out;
}

/* ---- start ---- */

static PyObject *attr(const char *module, const char *name)
{
	PyObject *m = PyImport_ImportModule(module);
	PyObject *a = m ? PyObject_GetAttrString(m, name) : NULL;

	Py_XDECREF(m);
	return a;
}

static int init_refs(struct kwatch *w)
{
	PyObject *path = PySys_GetObject("path"), *pf;

	w->known = PyDict_New();
	w->seen = PySet_New(NULL);
	w->shadows = PySet_New(NULL);
	w->forged = PySet_New(NULL);
	w->originals = PyDict_New();
	w->nsmods = PyDict_New();
	w->nsbind = PyDict_New();
	w->closures = PyList_New(0);
	w->closure_seen = PySet_New(NULL);
	w->flags = json_array();
	w->builtins = PyEval_GetBuiltins();
	Py_XINCREF(w->builtins);
	w->stdlib = PySys_GetObject("stdlib_module_names");
	Py_XINCREF(w->stdlib);
	w->syspath = PyList_New(0);
	for (Py_ssize_t i = 0; path && w->syspath && i < PyList_Size(path); i++) {
		PyObject *p = PyList_GET_ITEM(path, i);

		if (PyUnicode_Check(p) && kwatch_trusted(kwatch_str(p)))
			PyList_Append(w->syspath, p);
	}
	pf = attr("importlib.machinery", "PathFinder");
	w->find_spec = pf ? PyObject_GetAttrString(pf, "find_spec") : NULL;
	Py_XDECREF(pf);
	w->from_spec = attr("importlib.util", "module_from_spec");
	w->orig_load = attr("_frozen_importlib", "_find_and_load");
	w->wrapped_key = PyUnicode_InternFromString("__wrapped__");
	if (!w->known || !w->seen || !w->shadows || !w->forged || !w->originals || !w->nsmods ||
	    !w->nsbind || !w->closures || !w->closure_seen || !w->flags || !w->builtins ||
	    !w->stdlib || !w->syspath || !w->find_spec || !w->from_spec || !w->orig_load ||
	    !w->wrapped_key)
		return -1;
	return 0;
}

int kwatch_start(struct kwatch **out, const int *armed)
{
	struct kwatch *w = calloc(1, sizeof(*w));
	PyObject *cap = NULL, *fn = NULL, *bootstrap = NULL, *gc, *r;
	int rc = -1;

	if (!w)
		return GR_ENOMEM;
	w->armed = armed;
	if (init_refs(w) < 0)
		goto done;
	kwatch_check_modules(w, 0); /* everything loaded so far is the zygote's */
	kguard_hooks_base(w);
	cap = PyCapsule_New(w, "grader.kwatch", NULL);
	fn = cap ? PyCFunction_New(&load_def, cap) : NULL;
	bootstrap = PyImport_ImportModule("_frozen_importlib");
	if (!fn || !bootstrap || PyObject_SetAttrString(bootstrap, "_find_and_load", fn) < 0)
		goto done;
	/* the wrapper itself is now a watched name of _frozen_importlib */
	check_all(w, 0);
	/* like the rest of the zygote's objects: children's collections never walk the copies */
	gc = PyImport_ImportModule("gc");
	r = gc ? PyObject_CallMethod(gc, "freeze", NULL) : NULL;
	Py_XDECREF(r);
	Py_XDECREF(gc);
	rc = 0;
	*out = w;
	w = NULL;
done:
	PyErr_Clear();
	Py_XDECREF(bootstrap);
	Py_XDECREF(fn);
	Py_XDECREF(cap);
	free(w); /* on failure: the references stay with the interpreter, which is ending */
	return rc;
}
