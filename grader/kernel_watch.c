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
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel_py.h"

#define KW_DEPTH 64

struct kw_rec {
	PyObject *owner;      /* the module or the class (owned) */
	PyObject *dict;       /* its namespace (owned) */
	PyObject *snap;       /* the namespace as last accepted (owned copy) */
	PyTypeObject *type;   /* modules: the type when accepted */
	uint64_t version;
	char *name;           /* "numpy", "pandas.DataFrame" (heap) */
	int is_class;
};

struct kw_wrap {
	PyObject *fn, *wrapped; /* owned */
	char *name;
};

struct kwatch {
	struct kw_rec *recs;
	size_t nrecs, caprecs;
	struct kw_wrap *wraps;
	size_t nwraps, capwraps;
	PyObject *known;      /* sys.modules name -> module, every entry seen */
	PyObject *seen;       /* ids of the namespaces watched */
	PyObject *shadows;    /* names to give back their system module before a grade cell */
	PyObject *forged;     /* names whose sys.modules entry was put there by hand */
	PyObject *originals;  /* name -> the system's module a forged entry replaced */
	PyObject *builtins;   /* builtins.__dict__ */
	PyObject *stdlib;     /* sys.stdlib_module_names */
	PyObject *syspath;    /* the system's entries of sys.path (list) */
	PyObject *find_spec;  /* importlib.machinery.PathFinder.find_spec */
	PyObject *from_spec;  /* importlib.util.module_from_spec */
	PyObject *orig_load;  /* the import system's own _find_and_load */
	PyObject *wrapped_key; /* "__wrapped__", interned */
	PyObject *stack[KW_DEPTH];
	int depth;
	unsigned long nonsys; /* modules loaded from outside the system so far */
	uint64_t modules_version;
	const int *armed;     /* the audit hook's: student code may be running */
	long cell;            /* 1-based cell being run, 0 before the first */
	json_t *flags;        /* [{"flag", "reason", "name"}], every finding */
	size_t sent;          /* flags[0..sent) already reported */
	struct stat box;      /* the working directory when last scanned */
};

/* ---- findings ---- */

static void add_flag(struct kwatch *w, const char *flag, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_flag(struct kwatch *w, const char *flag, const char *name, const char *fmt, ...)
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
	json_array_foreach(w->flags, i, f)
		if (!strcmp(json_string_value(json_object_get(f, "flag")), flag) &&
		    !strcmp(json_string_value(json_object_get(f, "reason")), reason))
			return;
	if (json_array_size(w->flags) >= 200)
		return;
	f = json_pack("{s:s,s:s}", "flag", flag, "reason", reason);
	if (f && name)
		json_object_set_new(f, "name", json_string(name));
	if (f)
		json_array_append_new(w->flags, f);
}

static const char *utf8(PyObject *s)
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

static int trusted_file(const char *f)
{
	return starts(f, "/usr/lib/python3") || starts(f, "/usr/local/lib/python3");
}

static uint64_t dict_version(PyObject *d)
{
#if PY_VERSION_HEX < 0x030c0000
	return ((PyDictObject *)d)->ma_version_tag;
#else
	(void)d;
	return 0; /* no version tag: always compare */
#endif
}

/* ---- what is the system's ---- */

/*
 * An attribute of a module or of its spec, read from the instance's own dict:
 * a class with a lying __getattribute__ (student code) never runs here.
 * New reference or NULL.
 */
static PyObject *own_attr(PyObject *o, const char *name)
{
	PyObject *d, *v = NULL;

	if (!o || o == Py_None)
		return NULL;
	d = PyModule_Check(o) ? PyModule_GetDict(o) : PyObject_GenericGetDict(o, NULL);
	if (d && PyDict_Check(d))
		v = PyDict_GetItemString(d, name);
	Py_XINCREF(v);
	if (!PyModule_Check(o))
		Py_XDECREF(d);
	PyErr_Clear();
	return v;
}

/*
 * 1: the module was loaded from the system (built in, frozen, or a file under
 * /usr); 0: from somewhere else; -1: made in memory (no spec, no origin).
 */
static int module_origin(PyObject *mod)
{
	PyObject *spec, *origin = NULL, *path = NULL;
	int sys_ = -1;

	if (!PyModule_Check(mod))
		return 0;
	spec = own_attr(mod, "__spec__");
	origin = own_attr(spec, "origin");
	if (origin && PyUnicode_Check(origin)) {
		const char *o = utf8(origin);

		sys_ = !strcmp(o, "built-in") || !strcmp(o, "frozen") || trusted_file(o);
	} else if (spec && spec != Py_None) {
		sys_ = 0;
		/* a namespace package: every portion under /usr */
		path = own_attr(spec, "submodule_search_locations");
		if (path && PyList_Check(path) && PyList_GET_SIZE(path) > 0) {
			sys_ = 1;
			for (Py_ssize_t i = 0; sys_ && i < PyList_GET_SIZE(path); i++) {
				PyObject *p = PyList_GET_ITEM(path, i);

				sys_ = PyUnicode_Check(p) && trusted_file(utf8(p));
			}
		} else if (path) {
			/* importlib's _NamespacePath keeps its list in _path */
			PyObject *l = own_attr(path, "_path");

			if (l && PyList_Check(l) && PyList_GET_SIZE(l) > 0) {
				sys_ = 1;
				for (Py_ssize_t i = 0; sys_ && i < PyList_GET_SIZE(l); i++)
					sys_ = PyUnicode_Check(PyList_GET_ITEM(l, i)) &&
					       trusted_file(utf8(PyList_GET_ITEM(l, i)));
			}
			Py_XDECREF(l);
		}
	}
	PyErr_Clear();
	Py_XDECREF(path);
	Py_XDECREF(origin);
	Py_XDECREF(spec);
	return sys_;
}

static int system_module(PyObject *mod)
{
	return module_origin(mod) == 1;
}

/* The module is still running its own import (its spec says so). */
static int initializing(PyObject *mod)
{
	PyObject *spec = PyModule_Check(mod) ? own_attr(mod, "__spec__") : NULL;
	PyObject *v = own_attr(spec, "_initializing");
	int r = v == Py_True;

	Py_XDECREF(v);
	Py_XDECREF(spec);
	return r;
}

/* The system's spec for `name` (new reference, trusted origin) or NULL. */
static PyObject *system_spec(struct kwatch *w, const char *name)
{
	const char *dot = strrchr(name, '.');
	PyObject *path = w->syspath, *parent = NULL, *spec = NULL, *origin = NULL;

	Py_INCREF(path);
	if (dot) {
		PyObject *pn = PyUnicode_FromStringAndSize(name, dot - name);

		parent = pn ? PyDict_GetItemWithError(w->known, pn) : NULL; /* borrowed */
		Py_XDECREF(pn);
		Py_CLEAR(path);
		if (parent && system_module(parent))
			path = own_attr(parent, "__path__");
		if (!path)
			goto done;
	}
	spec = PyObject_CallFunction(w->find_spec, "sO", name, path);
	if (spec == Py_None)
		Py_CLEAR(spec);
	if (spec)
		origin = PyObject_GetAttrString(spec, "origin");
	if (spec && !(origin && PyUnicode_Check(origin) && trusted_file(utf8(origin))))
		Py_CLEAR(spec);
done:
	PyErr_Clear();
	Py_XDECREF(origin);
	Py_XDECREF(path);
	return spec;
}

/* A top-level module `name` in one of the system's directories, by stat() alone. */
static int system_file(struct kwatch *w, const char *name)
{
	/* the last: a namespace package (a bare directory) */
	static const char *const forms[] = { ".py", "/__init__.py",
		".cpython-311-x86_64-linux-gnu.so", ".abi3.so", ".so", "", NULL };
	struct stat st;
	char path[4096];

	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(w->syspath); i++)
		for (size_t f = 0; forms[f]; f++) {
			snprintf(path, sizeof(path), "%s/%s%s", utf8(PyList_GET_ITEM(w->syspath, i)),
				 name, forms[f]);
			if (!stat(path, &st) && (forms[f + 1] || S_ISDIR(st.st_mode)))
				return 1;
		}
	return 0;
}

/* `name` is the name of a module the system has (whether loaded or not). */
static int system_name(struct kwatch *w, PyObject *name)
{
	PyObject *spec;
	const char *n = utf8(name);

	if (PySet_Contains(w->stdlib, name) == 1)
		return 1;
	PyErr_Clear();
	if (!strchr(n, '.'))
		return !strchr(n, '/') && n[0] != '.' && system_file(w, n);
	spec = system_spec(w, n);
	Py_XDECREF(spec);
	return spec != NULL;
}

/* ---- snapshots ---- */

static int add_rec(struct kwatch *w, PyObject *owner, PyObject *dict, const char *name, int is_class)
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
	r->version = dict_version(dict);
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
	Py_INCREF(fn);
	Py_INCREF(wrapped);
	w->nwraps++;
}

/* Watch a system module: its namespace, the classes it defines, its wrapped functions. */
static void add_module(struct kwatch *w, const char *mname, PyObject *mod)
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
		snprintf(name, sizeof(name), "%s.%s", mname, utf8(key));
		if (PyType_Check(val) && (((PyTypeObject *)val)->tp_flags & Py_TPFLAGS_HEAPTYPE) &&
		    ((PyTypeObject *)val)->tp_dict) {
			PyObject *owner = PyDict_GetItemString(((PyTypeObject *)val)->tp_dict,
							       "__module__");

			if (owner && PyUnicode_Check(owner) &&
			    !PyUnicode_CompareWithASCIIString(owner, mname))
				add_rec(w, val, ((PyTypeObject *)val)->tp_dict, name, 1);
		} else if (PyFunction_Check(val) && ((PyFunctionObject *)val)->func_dict) {
			PyObject *wr = PyDict_GetItemString(((PyFunctionObject *)val)->func_dict,
							    "__wrapped__");

			if (wr)
				add_wrap(w, val, wr, name);
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
	static const char *const skip[] = { "__doc__", "__module__", "__dict__", "__weakref__",
		"__qualname__", "__annotations__", "__slots__", "__abstractmethods__",
		"__parameters__", "__orig_bases__", "__match_args__", "__signature__", NULL };

	if (!is_class)
		return !strcmp(k, "__doc__");
	for (size_t i = 0; skip[i]; i++)
		if (!strcmp(k, skip[i]))
			return 1;
	return 0;
}

/* A name added to a namespace that changes what existing code finds. */
static const char *shadowing(struct kwatch *w, struct kw_rec *r, PyObject *key, PyObject *val)
{
	if (!PyCallable_Check(val))
		return NULL;
	if (!r->is_class)
		return PyDict_GetItemWithError(w->builtins, key) ? "shadows the builtin" : NULL;
	for (Py_ssize_t i = 1; i < PyTuple_GET_SIZE(((PyTypeObject *)r->owner)->tp_mro); i++) {
		PyTypeObject *b = (PyTypeObject *)PyTuple_GET_ITEM(((PyTypeObject *)r->owner)->tp_mro, i);

		if (b->tp_dict && PyDict_GetItemWithError(b->tp_dict, key))
			return "overrides an inherited attribute";
	}
	return NULL;
}

/* Compare one namespace with its snapshot; `flagging` 0 accepts every change. */
static void check_rec(struct kwatch *w, struct kw_rec *r, int flagging)
{
	uint64_t v = dict_version(r->dict);
	PyObject *key, *old, *cur, *copy;
	Py_ssize_t pos = 0;
	int moved = 0;

	if (!r->is_class && Py_TYPE(r->owner) != r->type) {
		if (flagging)
			add_flag(w, "replaced_builtins", r->name,
				 "module %s given the class %s (cell %ld)", r->name,
				 Py_TYPE(r->owner)->tp_name, w->cell);
		r->type = Py_TYPE(r->owner);
	}
	if (v && v == r->version)
		return;
	while (PyDict_Next(r->snap, &pos, &key, &old)) {
		const char *k = utf8(key);

		cur = PyDict_GetItemWithError(r->dict, key);
		if (cur == old)
			continue;
		moved = 1;
		if (!flagging || skip_key(k, r->is_class) || harmless(k, old, cur))
			continue;
		{
			char name[600];

			snprintf(name, sizeof(name), "%s.%s", r->name, k);
			add_flag(w, "replaced_builtins", name, "%s %s (cell %ld)", name,
				 cur ? "rebound" : "deleted", w->cell);
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

			snprintf(name, sizeof(name), "%s.%s", r->name, utf8(key));
			add_flag(w, "replaced_builtins", name, "%s added: %s (cell %ld)", name, why,
				 w->cell);
		}
	}
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
		PyObject *d = ((PyFunctionObject *)x->fn)->func_dict;
		PyObject *cur = d ? PyDict_GetItemWithError(d, w->wrapped_key) : NULL;

		if (cur == x->wrapped)
			continue;
		if (flagging)
			add_flag(w, "replaced_builtins", x->name, "%s.__wrapped__ replaced (cell %ld)",
				 x->name, w->cell);
		Py_XINCREF(cur);
		Py_XSETREF(x->wrapped, cur);
		if (!cur)
			x->wrapped = Py_NewRef(Py_None);
	}
}

/*
 * New or changed sys.modules entries. Inside an import (w->depth > 0) a new
 * entry is the import system's work; outside, or replacing an entry seen
 * before, it was put there by hand.
 */
static void check_modules(struct kwatch *w, int flagging)
{
	PyObject *modules = PyImport_GetModuleDict(), *changed, *name, *mod, *prev;
	uint64_t v = dict_version(modules);
	Py_ssize_t pos = 0;

	if (v && v == w->modules_version)
		return;
	/* a plain walk first: no reference taken, no page of the zygote's written */
	changed = PyList_New(0);
	while (changed && PyDict_Next(modules, &pos, &name, &mod)) {
		prev = PyDict_GetItemWithError(w->known, name);
		if (prev != mod && PyUnicode_Check(name)) {
			PyObject *t = PyTuple_Pack(2, name, mod);

			if (!t || PyList_Append(changed, t) < 0)
				Py_CLEAR(changed);
			Py_XDECREF(t);
		}
	}
	for (Py_ssize_t i = 0; changed && i < PyList_GET_SIZE(changed); i++) {
		int by_hand, sys_;

		name = PyTuple_GET_ITEM(PyList_GET_ITEM(changed, i), 0);
		mod = PyTuple_GET_ITEM(PyList_GET_ITEM(changed, i), 1);
		/* still running its own import: taken once that is over */
		if (w->depth && PyModule_Check(mod) && initializing(mod))
			continue;
		by_hand = !w->depth;
		sys_ = module_origin(mod);
		prev = PyDict_GetItemWithError(w->known, name);
		Py_XINCREF(prev);
		if (PyDict_SetItem(w->known, name, mod) < 0) {
			Py_XDECREF(prev);
			break;
		}
		if (by_hand && flagging && system_name(w, name)) {
			add_flag(w, "shadowed_module", utf8(name),
				 "sys.modules['%s'] replaced by hand (cell %ld)", utf8(name), w->cell);
			PySet_Add(w->shadows, name);
			PySet_Add(w->forged, name);
			if (prev && module_origin(prev) == 1 && !PyDict_GetItemWithError(w->originals, name))
				PyDict_SetItem(w->originals, name, prev);
		} else if (sys_ == 1) {
			add_module(w, utf8(name), mod);
		} else if (PyModule_Check(mod)) {
			w->nonsys += sys_ == 0;
			if (flagging && system_name(w, name)) {
				PyObject *file = own_attr(mod, "__file__");

				add_flag(w, "shadowed_module", utf8(name),
					 "'%s' loaded from %s shadows the system module (cell %ld)",
					 utf8(name), file ? utf8(file) : "a non-system place", w->cell);
				Py_XDECREF(file);
				PySet_Add(w->shadows, name);
			}
		}
		Py_XDECREF(prev);
	}
	PyErr_Clear();
	Py_XDECREF(changed);
	w->modules_version = dict_version(modules);
}

static void check_all(struct kwatch *w, int flagging)
{
	check_modules(w, flagging);
	for (size_t i = 0; i < w->nrecs; i++)
		check_rec(w, &w->recs[i], flagging);
	check_wraps(w, flagging);
	PyErr_Clear();
}

/* ---- the import wrapper ---- */

static PyObject *load_hook(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	struct kwatch *w = PyCapsule_GetPointer(self, "grader.kwatch");
	unsigned long nonsys0 = w ? w->nonsys : 0;
	PyObject *r, *mod;
	int charge;

	if (!w)
		return NULL;
	/* what came before this import is not the import's doing (unless a system module's) */
	charge = !w->depth;
	if (!charge && w->depth <= KW_DEPTH) {
		mod = PyDict_GetItemWithError(PyImport_GetModuleDict(), w->stack[w->depth - 1]);
		charge = !mod || !system_module(mod);
	}
	if (charge)
		check_all(w, *w->armed);
	if (w->depth < KW_DEPTH && nargs > 0)
		w->stack[w->depth] = args[0];
	w->depth++;
	r = PyObject_Vectorcall(w->orig_load, args, (size_t)nargs, NULL);
	{
		PyObject *type, *value, *tb;

		PyErr_Fetch(&type, &value, &tb);
		check_modules(w, *w->armed);
		mod = nargs > 0 ? PyDict_GetItemWithError(PyImport_GetModuleDict(), args[0]) : NULL;
		/* a load during which only the system's code ran: its changes are accepted */
		check_all(w, *w->armed && !(w->nonsys == nonsys0 && mod && system_module(mod)));
		PyErr_Restore(type, value, tb);
	}
	w->depth--;
	return r;
}

static PyMethodDef load_def = { "_find_and_load", (PyCFunction)(void (*)(void))load_hook,
				METH_FASTCALL, NULL };

/* ---- audit events ---- */

/*
 * The library's own set-up: an import is running and the innermost Python
 * frame is a system file (numpy renames its dispatchers' __code__ on import).
 */
static int library_import(struct kwatch *w)
{
	PyFrameObject *f = PyEval_GetFrame(); /* borrowed */
	PyCodeObject *co = f ? PyFrame_GetCode(f) : NULL;
	int r = w->depth > 0 && co && trusted_file(utf8(co->co_filename));

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
	n = utf8(name);
	if (PyFunction_Check(obj) &&
	    (!strcmp(n, "__code__") || !strcmp(n, "__defaults__") || !strcmp(n, "__kwdefaults__"))) {
		PyFunctionObject *f = (PyFunctionObject *)obj;
		PyObject *mname = PyDict_GetItemString(f->func_globals, "__name__");
		PyObject *mod = mname ? PyDict_GetItemWithError(PyImport_GetModuleDict(), mname) : NULL;
		char full[600];

		if (!trusted_file(utf8(((PyCodeObject *)f->func_code)->co_filename)) ||
		    initializing(mod) || library_import(w))
			return 0; /* not a library's function, or the library's own set-up */
		snprintf(full, sizeof(full), "%s.%s.%s", mname ? utf8(mname) : "?",
			 utf8(f->func_qualname), n);
		add_flag(w, "replaced_builtins", full, "%s replaced (cell %ld)", full, w->cell);
	} else if (PyModule_Check(obj) && !strcmp(n, "__class__") && system_module(obj) &&
		   !initializing(obj) && !library_import(w)) {
		PyObject *to = PyTuple_GET_SIZE(args) > 2 ? PyTuple_GET_ITEM(args, 2) : NULL;
		const char *mn = PyModule_GetName(obj);

		add_flag(w, "replaced_builtins", mn, "module %s given the class %s (cell %ld)",
			 mn ? mn : "?", to && PyType_Check(to) ? ((PyTypeObject *)to)->tp_name : "?",
			 w->cell);
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

	for (PyThreadState *ts = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(me)); ts;
	     ts = PyThreadState_Next(ts))
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

/* Submission files in the working directory named like a system module. */
static void scan_box(struct kwatch *w)
{
	struct stat st;
	struct dirent *e;
	DIR *d;

	if (stat(".", &st) < 0 || (st.st_mtim.tv_sec == w->box.st_mtim.tv_sec &&
				   st.st_mtim.tv_nsec == w->box.st_mtim.tv_nsec &&
				   st.st_ino == w->box.st_ino))
		return;
	w->box = st;
	d = opendir(".");
	while (d && (e = readdir(d))) {
		char mod[256], init[300];
		size_t n = strlen(e->d_name);
		PyObject *name;

		if (n > 3 && n < sizeof(mod) && !strcmp(e->d_name + n - 3, ".py")) {
			snprintf(mod, sizeof(mod), "%.*s", (int)(n - 3), e->d_name);
		} else {
			snprintf(init, sizeof(init), "%s/__init__.py", e->d_name);
			if (e->d_name[0] == '.' || n >= sizeof(mod) || stat(init, &st) < 0)
				continue;
			snprintf(mod, sizeof(mod), "%s", e->d_name);
		}
		name = PyUnicode_FromString(mod);
		if (name && system_name(w, name)) {
			add_flag(w, "shadowed_module", mod,
				 "submission file '%s' shadows the system module '%s'", e->d_name, mod);
			PySet_Add(w->shadows, name);
		}
		Py_XDECREF(name);
		PyErr_Clear();
	}
	if (d)
		closedir(d);
}

/* Make sys.modules[name] the system's module, loading it from the system's path. */
static void restore_module(struct kwatch *w, PyObject *name)
{
	PyObject *modules = PyImport_GetModuleDict();
	PyObject *cur = PyDict_GetItemWithError(modules, name), *spec = NULL, *mod = NULL;
	PyObject *loader = NULL, *r;

	if (cur && system_module(cur) && PySet_Contains(w->forged, name) != 1)
		return; /* the import system's, from the system */
	/* the very module the forgery replaced, if there was one */
	mod = PyDict_GetItemWithError(w->originals, name);
	if (mod) {
		Py_INCREF(mod);
		if (PyDict_SetItem(w->known, name, mod) == 0 && PyDict_SetItem(modules, name, mod) == 0)
			PySet_Discard(w->forged, name);
		goto done;
	}
	spec = system_spec(w, utf8(name));
	loader = spec ? PyObject_GetAttrString(spec, "loader") : NULL;
	if (!loader)
		goto done;
	mod = PyObject_CallOneArg(w->from_spec, spec);
	/* known first: the imports it makes while it runs must not take it for a forgery */
	if (!mod || PyDict_SetItem(w->known, name, mod) < 0 || PyDict_SetItem(modules, name, mod) < 0)
		goto done;
	r = PyObject_CallMethod(loader, "exec_module", "O", mod);
	if (!r) {
		PyDict_DelItem(modules, name);
		goto done;
	}
	Py_DECREF(r);
	PySet_Discard(w->forged, name);
	add_module(w, utf8(name), mod);
done:
	PyErr_Clear();
	Py_XDECREF(loader);
	Py_XDECREF(mod);
	Py_XDECREF(spec);
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
	scan_box(w);
	if (grade) {
		char kinds[120];
		long n = other_threads(kinds, sizeof(kinds));

		if (n > 0)
			add_flag(w, "background_threads", NULL,
				 "%ld Python thread%s still running when grade cell %ld started%s%s%s",
				 n, n > 1 ? "s" : "", cell, kinds[0] ? " (" : "", kinds,
				 kinds[0] ? ")" : "");
		names = PySequence_List(w->shadows);
		for (Py_ssize_t i = 0; names && i < PyList_GET_SIZE(names); i++)
			restore_module(w, PyList_GET_ITEM(names, i));
		Py_XDECREF(names);
		w->modules_version = 0;
		check_modules(w, 0);
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
	w->flags = json_array();
	w->builtins = PyEval_GetBuiltins();
	Py_XINCREF(w->builtins);
	w->stdlib = PySys_GetObject("stdlib_module_names");
	Py_XINCREF(w->stdlib);
	w->syspath = PyList_New(0);
	for (Py_ssize_t i = 0; path && w->syspath && i < PyList_Size(path); i++) {
		PyObject *p = PyList_GET_ITEM(path, i);

		if (PyUnicode_Check(p) && trusted_file(utf8(p)))
			PyList_Append(w->syspath, p);
	}
	pf = attr("importlib.machinery", "PathFinder");
	w->find_spec = pf ? PyObject_GetAttrString(pf, "find_spec") : NULL;
	Py_XDECREF(pf);
	w->from_spec = attr("importlib.util", "module_from_spec");
	w->orig_load = attr("_frozen_importlib", "_find_and_load");
	w->wrapped_key = PyUnicode_InternFromString("__wrapped__");
	if (!w->known || !w->seen || !w->shadows || !w->forged || !w->originals || !w->flags || !w->builtins || !w->stdlib ||
	    !w->syspath || !w->find_spec || !w->from_spec || !w->orig_load || !w->wrapped_key)
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
	check_modules(w, 0); /* everything loaded so far is the zygote's */
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
