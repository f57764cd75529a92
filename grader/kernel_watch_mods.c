/*
 * kernel_watch_mods.c - the monkeypatch watcher's view of modules (see
 * kernel_watch.c): which modules are the system's, judged from their own
 * dicts so that no student code runs; new and hand-made sys.modules entries;
 * submission files named like a system module; putting the system's module
 * back under a shadowed name before a grade cell.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel_py.h"

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
 * A spec's loader is the system's: a system class (or an instance of one
 * with no function of its own) that, when it loads from a file, loads from
 * the origin's file (a SourceFileLoader of /tmp/zz/x.py under a spec saying
 * /usr/lib/python3.11/x.py is not). No code of the loader's runs.
 */
static int system_loader(PyObject *spec, PyObject *origin)
{
	PyObject *loader = own_attr(spec, "loader"), *path;
	int r;

	if (!loader)
		return 1; /* no loader (a namespace package's portion) */
	path = PyType_Check(loader) ? NULL : own_attr(loader, "path");
	r = kguard_system_object(loader) &&
	    (!path || (PyUnicode_Check(path) && !PyUnicode_Compare(path, origin)));
	PyErr_Clear();
	Py_XDECREF(path);
	Py_DECREF(loader);
	return r;
}

/*
 * 1: the module was loaded from the system (built in, frozen, or a file under
 * /usr); 0: from somewhere else; -1: made in memory (no spec, no origin).
 */
int kwatch_module_origin(PyObject *mod)
{
	PyObject *spec, *origin = NULL, *path = NULL;
	int sys_ = -1;

	if (!PyModule_Check(mod))
		return 0;
	spec = own_attr(mod, "__spec__");
	origin = own_attr(spec, "origin");
	if (origin && PyUnicode_Check(origin)) {
		const char *o = kwatch_str(origin);

		sys_ = !strcmp(o, "built-in") || !strcmp(o, "frozen") || kwatch_trusted(o);
		/* the origin is a string anyone can write: the loader must be the system's */
		if (sys_ && !system_loader(spec, origin))
			sys_ = 0;
	} else if (spec && spec != Py_None) {
		sys_ = 0;
		/* a namespace package: every portion under /usr */
		path = own_attr(spec, "submodule_search_locations");
		if (path && PyList_Check(path) && PyList_GET_SIZE(path) > 0) {
			sys_ = 1;
			for (Py_ssize_t i = 0; sys_ && i < PyList_GET_SIZE(path); i++) {
				PyObject *p = PyList_GET_ITEM(path, i);

				sys_ = PyUnicode_Check(p) && kwatch_trusted(kwatch_str(p));
			}
		} else if (path) {
			/* importlib's _NamespacePath keeps its list in _path */
			PyObject *l = own_attr(path, "_path");

			if (l && PyList_Check(l) && PyList_GET_SIZE(l) > 0) {
				sys_ = 1;
				for (Py_ssize_t i = 0; sys_ && i < PyList_GET_SIZE(l); i++)
					sys_ = PyUnicode_Check(PyList_GET_ITEM(l, i)) &&
					       kwatch_trusted(kwatch_str(PyList_GET_ITEM(l, i)));
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

int kwatch_system_module(PyObject *mod)
{
	return kwatch_module_origin(mod) == 1;
}

/* The name of the module a callable comes from, read without running it (borrowed) or "". */
static const char *owner_of(PyObject *v, char *buf, size_t len)
{
	PyObject *m = NULL;
	PyTypeObject *t = PyType_Check(v) ? (PyTypeObject *)v : Py_TYPE(v);

	if (PyMethod_Check(v))
		v = PyMethod_GET_FUNCTION(v);
	if (PyFunction_Check(v)) {
		m = PyDict_GetItemString(((PyFunctionObject *)v)->func_globals, "__name__");
	} else if (PyCFunction_Check(v)) {
		PyObject *self = PyCFunction_GET_SELF(v);

		m = ((PyCFunctionObject *)v)->m_module;
		if ((!m || !PyUnicode_Check(m)) && self && PyModule_Check(self))
			m = PyDict_GetItemString(PyModule_GetDict(self), "__name__");
	} else if ((t->tp_flags & Py_TPFLAGS_HEAPTYPE) && t->tp_dict) {
		m = PyDict_GetItemString(t->tp_dict, "__module__");
	} else {
		const char *dot = strrchr(t->tp_name, '.');

		snprintf(buf, len, "%.*s", dot ? (int)(dot - t->tp_name) : 8,
			 dot ? t->tp_name : "builtins");
		return buf;
	}
	snprintf(buf, len, "%s", m && PyUnicode_Check(m) ? kwatch_str(m) : "");
	PyErr_Clear();
	return buf;
}

/*
 * A callable of the system's from the same top-level package as module
 * `mod`: what a library's own lazy set-up adds (concurrent.futures binding
 * its ProcessPoolExecutor on first use), not another module's tool put there
 * (`keyword.allclose = max`).
 */
int kwatch_own_callable(const char *mod, PyObject *v)
{
	char buf[256];
	const char *o = owner_of(v, buf, sizeof(buf));
	size_t n = strcspn(mod, ".");

	return kguard_system_object(v) && !strncmp(o, mod, n) && (!o[n] || o[n] == '.');
}

/* The module is still running its own import (its spec says so). */
int kwatch_initializing(PyObject *mod)
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
		if (parent && kwatch_system_module(parent))
			path = own_attr(parent, "__path__");
		if (!path)
			goto done;
	}
	spec = PyObject_CallFunction(w->find_spec, "sO", name, path);
	if (spec == Py_None)
		Py_CLEAR(spec);
	if (spec)
		origin = PyObject_GetAttrString(spec, "origin");
	if (spec && !(origin && PyUnicode_Check(origin) && kwatch_trusted(kwatch_str(origin)) &&
		      system_loader(spec, origin)))
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
	static const char *const forms[] = {
	    ".py", "/__init__.py", ".cpython-311-x86_64-linux-gnu.so", ".abi3.so", ".so", "", NULL};
	struct stat st;
	char path[4096];

	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(w->syspath); i++)
		for (size_t f = 0; forms[f]; f++) {
			snprintf(path, sizeof(path), "%s/%s%s",
				 kwatch_str(PyList_GET_ITEM(w->syspath, i)), name, forms[f]);
			if (!stat(path, &st) && (forms[f + 1] || S_ISDIR(st.st_mode)))
				return 1;
		}
	return 0;
}

/* `name` is the name of a module the system has (whether loaded or not). */
static int system_name(struct kwatch *w, PyObject *name)
{
	PyObject *spec;
	const char *n = kwatch_str(name);

	if (PySet_Contains(w->stdlib, name) == 1)
		return 1;
	PyErr_Clear();
	if (!strchr(n, '.'))
		return !strchr(n, '/') && n[0] != '.' && system_file(w, n);
	spec = system_spec(w, n);
	Py_XDECREF(spec);
	return spec != NULL;
}

int kwatch_system_name(struct kwatch *w, PyObject *name)
{
	return PyUnicode_Check(name) && system_name(w, name);
}

/*
 * New or changed sys.modules entries. Inside an import (w->depth > 0) a new
 * entry is the import system's work; outside, or replacing an entry seen
 * before, it was put there by hand.
 */
void kwatch_check_modules(struct kwatch *w, int flagging)
{
	PyObject *modules = PyImport_GetModuleDict(), *changed, *name, *mod, *prev;
	uint64_t v = kwatch_dict_version(modules);
	Py_ssize_t pos = 0;

	if (v && v == w->modules_version)
		return;
	/* a plain walk first: no reference taken, no page of the zygote's written */
	changed = PyList_New(0);
	while (changed && PyDict_Next(modules, &pos, &name, &mod)) {
		/* a key that is no plain str is kguard_keys' (its __hash__ would run here) */
		if (!PyUnicode_CheckExact(name))
			continue;
		prev = PyDict_GetItemWithError(w->known, name);
		if (prev != mod) {
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
		if (w->depth && PyModule_Check(mod) && kwatch_initializing(mod))
			continue;
		by_hand = !w->depth;
		sys_ = kwatch_module_origin(mod);
		prev = PyDict_GetItemWithError(w->known, name);
		Py_XINCREF(prev);
		if (PyDict_SetItem(w->known, name, mod) < 0) {
			Py_XDECREF(prev);
			break;
		}
		if (by_hand && flagging && system_name(w, name)) {
			kwatch_flag(w, "shadowed_module", kwatch_str(name),
				    "sys.modules['%s'] replaced by hand (cell %ld)",
				    kwatch_str(name), w->cell);
			PySet_Add(w->shadows, name);
			PySet_Add(w->forged, name);
			if (prev && kwatch_module_origin(prev) == 1 &&
			    !PyDict_GetItemWithError(w->originals, name))
				PyDict_SetItem(w->originals, name, prev);
		} else if (sys_ == 1 && (!by_hand || !flagging)) {
			/*
			 * the import system's (or the zygote's): a module put in by
			 * hand under a new name, its spec claiming a system file, is
			 * not watched as the system's (kernel_frames.c trusts the
			 * watched namespaces)
			 */
			kwatch_add_module(w, kwatch_str(name), mod);
		} else if (PyModule_Check(mod)) {
			w->nonsys += sys_ == 0;
			if (flagging && system_name(w, name)) {
				PyObject *file = own_attr(mod, "__file__");

				kwatch_flag(
				    w, "shadowed_module", kwatch_str(name),
				    "'%s' loaded from %s shadows the system module (cell %ld)",
				    kwatch_str(name),
				    file ? kwatch_str(file) : "a non-system place", w->cell);
				Py_XDECREF(file);
				PySet_Add(w->shadows, name);
			}
		}
		Py_XDECREF(prev);
	}
	PyErr_Clear();
	Py_XDECREF(changed);
	w->modules_version = kwatch_dict_version(modules);
}

/* Entries of the working directory looked at per scan: the scan runs before each grade cell. */
#define KW_SCAN_MAX 10000

/*
 * Files in directory `dir` ("." for the working directory) named like a
 * system module (NAME.py, NAME/__init__.py): flagged, and the name given its
 * system module before the grade cell (w->shadows).
 */
static void scan_dir(struct kwatch *w, const char *dir)
{
	struct stat st;
	struct dirent *e;
	long seen = 0;
	int box = !strcmp(dir, ".");
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		char mod[256], init[4500];
		size_t n = strlen(e->d_name);
		PyObject *name;

		if (++seen > KW_SCAN_MAX) {
			kwatch_flag(w, "shadowed_module", NULL,
				    "%s%s holds more than %d entries: the rest were not checked "
				    "for files shadowing a system module",
				    box ? "the working directory" : "sys.path's ", box ? "" : dir,
				    KW_SCAN_MAX);
			break;
		}
		/* a name with a dot can only be a module as NAME.py: no stat for data files */
		if (strchr(e->d_name, '.') && (n <= 3 || strcmp(e->d_name + n - 3, ".py")))
			continue;
		if (n > 3 && n < sizeof(mod) && !strcmp(e->d_name + n - 3, ".py")) {
			snprintf(mod, sizeof(mod), "%.*s", (int)(n - 3), e->d_name);
		} else {
			snprintf(init, sizeof(init), "%s/%s/__init__.py", dir, e->d_name);
			if (e->d_name[0] == '.' || n >= sizeof(mod) || stat(init, &st) < 0)
				continue;
			snprintf(mod, sizeof(mod), "%s", e->d_name);
		}
		name = PyUnicode_FromString(mod);
		if (name && system_name(w, name)) {
			if (box)
				kwatch_flag(w, "shadowed_module", mod,
					    "submission file '%s' shadows the system module '%s'",
					    e->d_name, mod);
			else
				kwatch_flag(
				    w, "shadowed_module", mod,
				    "'%.200s/%s' on sys.path shadows the system module '%s'", dir,
				    e->d_name, mod);
			PySet_Add(w->shadows, name);
		}
		Py_XDECREF(name);
		PyErr_Clear();
	}
	if (d)
		closedir(d);
}

/* Submission files in the working directory named like a system module. */
void kwatch_scan_box(struct kwatch *w)
{
	struct stat st;

	if (stat(".", &st) < 0 ||
	    (st.st_mtim.tv_sec == w->box.st_mtim.tv_sec &&
	     st.st_mtim.tv_nsec == w->box.st_mtim.tv_nsec && st.st_ino == w->box.st_ino))
		return;
	w->box = st;
	scan_dir(w, ".");
}

void kwatch_scan_path(struct kwatch *w)
{
	PyObject *path = PySys_GetObject("path"); /* borrowed */
	char cwd[4096];

	if (!path || !PyList_Check(path) || !getcwd(cwd, sizeof(cwd)))
		return;
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(path); i++) {
		PyObject *p = PyList_GET_ITEM(path, i);
		const char *dir = PyUnicode_Check(p) ? kwatch_str(p) : NULL;

		/* the system's entries, and the working directory (kwatch_scan_box);
		 * a str subclass is compared by no __eq__ of its own: it is scanned */
		if (!dir || !*dir || !strcmp(dir, ".") || !strcmp(dir, cwd) ||
		    (PyUnicode_CheckExact(p) && PySequence_Contains(w->syspath, p) == 1))
			continue;
		scan_dir(w, dir);
	}
	PyErr_Clear();
}

/* Make sys.modules[name] the system's module, loading it from the system's path. */
void kwatch_restore(struct kwatch *w, PyObject *name)
{
	PyObject *modules = PyImport_GetModuleDict();
	PyObject *cur = PyDict_GetItemWithError(modules, name), *spec = NULL, *mod = NULL;
	PyObject *loader = NULL, *r;

	if (cur && kwatch_system_module(cur) && PySet_Contains(w->forged, name) != 1)
		return; /* the import system's, from the system */
	/* the very module the forgery replaced, if there was one */
	mod = PyDict_GetItemWithError(w->originals, name);
	if (mod) {
		Py_INCREF(mod);
		if (PyDict_SetItem(w->known, name, mod) == 0 &&
		    PyDict_SetItem(modules, name, mod) == 0)
			PySet_Discard(w->forged, name);
		goto done;
	}
	spec = system_spec(w, kwatch_str(name));
	loader = spec ? PyObject_GetAttrString(spec, "loader") : NULL;
	if (!loader)
		goto done;
	mod = PyObject_CallOneArg(w->from_spec, spec);
	/* known first: the imports it makes while it runs must not take it for a forgery */
	if (!mod || PyDict_SetItem(w->known, name, mod) < 0 ||
	    PyDict_SetItem(modules, name, mod) < 0)
		goto done;
	r = PyObject_CallMethod(loader, "exec_module", "O", mod);
	if (!r) {
		PyDict_DelItem(modules, name);
		goto done;
	}
	Py_DECREF(r);
	PySet_Discard(w->forged, name);
	kwatch_add_module(w, kwatch_str(name), mod);
done:
	PyErr_Clear();
	Py_XDECREF(loader);
	Py_XDECREF(mod);
	Py_XDECREF(spec);
}
