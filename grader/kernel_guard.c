/*
 * kernel_guard.c - what the child does right before a grade cell, beyond
 * the watcher (kernel_watch.c): names the test reads that the notebook bound
 * over a builtin or over a module (a fake `math`, `np`), and signal handlers
 * or interval timers student code left armed (a handler can install a fake
 * only while the test's frames run and take it away before the check after
 * the cell). Each is flagged with a reason; handlers are set to ignore and
 * timers cleared, so nothing of the student's runs between the check and the
 * test's own code; a module name bound to a fake is given its module back.
 */
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "kernel_py.h"

/* Every name `code` and the code nested in it read (globals and attributes) into `names`. */
static void code_names(PyObject *code, PyObject *names, int depth)
{
	PyCodeObject *co = (PyCodeObject *)code;

	for (Py_ssize_t i = 0; co->co_names && i < PyTuple_GET_SIZE(co->co_names); i++)
		PySet_Add(names, PyTuple_GET_ITEM(co->co_names, i));
	for (Py_ssize_t i = 0; depth < 32 && co->co_consts && i < PyTuple_GET_SIZE(co->co_consts);
	     i++)
		if (PyCode_Check(PyTuple_GET_ITEM(co->co_consts, i)))
			code_names(PyTuple_GET_ITEM(co->co_consts, i), names, depth + 1);
}

/* The names conventionally bound to a library's module, read by tests as that module. */
static const char *alias_of(const char *n)
{
	static const char *const aliases[][2] = {{"np", "numpy"},
						 {"pd", "pandas"},
						 {"plt", "matplotlib.pyplot"},
						 {"mpl", "matplotlib"},
						 {"sns", "seaborn"},
						 {"nx", "networkx"},
						 {"sm", "statsmodels.api"},
						 {"smf", "statsmodels.formula.api"},
						 {NULL, NULL}};

	for (size_t i = 0; aliases[i][0]; i++)
		if (!strcmp(n, aliases[i][0]))
			return aliases[i][1];
	return NULL;
}

/* A module the import system loaded from the system (its namespace is watched), or sys. */
static int system_module(struct kwatch *w, PyObject *v)
{
	PyObject *id;
	int r;

	if (!PyModule_Check(v))
		return 0;
	if (v == PyDict_GetItemString(PyImport_GetModuleDict(), "sys") && kwatch_system_module(v))
		return 1;
	id = PyLong_FromVoidPtr(PyModule_GetDict(v));
	r = id ? PySet_Contains(w->seen, id) == 1 : 0;
	Py_XDECREF(id);
	PyErr_Clear();
	return r;
}

/* A Python function of the student's (not of a system file) defining `slot` in tp's MRO. */
static int student_hook(PyTypeObject *tp, const char *slot)
{
	PyObject *name = PyUnicode_FromString(slot);
	PyObject *f = name && tp->tp_dict ? _PyType_Lookup(tp, name) : NULL; /* borrowed */
	int r = f && PyFunction_Check(f) &&
		!kwatch_trusted(kwatch_str(((PyCodeObject *)PyFunction_GET_CODE(f))->co_filename));

	Py_XDECREF(name);
	PyErr_Clear();
	return r;
}

/*
 * `v`, not a module, stands in for module `mod` (NULL: not loaded) for a test
 * reading `names`: it makes up attributes with a __getattr__ of the
 * student's, or it has (without running any of its code), or may make up (a
 * class with its own attribute lookup: unittest.mock's, a proxy), an
 * attribute the test reads that the module has too.
 */
static int stands_in(PyObject *v, PyObject *mod, PyObject *self, PyObject *names)
{
	PyObject **dp = _PyObject_GetDictPtr(v), *it = PyObject_GetIter(names), *a;
	int made_up = Py_TYPE(v)->tp_getattro != PyObject_GenericGetAttr;
	int r =
	    student_hook(Py_TYPE(v), "__getattr__") || student_hook(Py_TYPE(v), "__getattribute__");

	PyErr_Clear();
	while (!r && it && (a = PyIter_Next(it))) {
		int mine = PyUnicode_Compare(a, self) != 0 &&
			   (made_up ||
			    (dp && *dp && PyDict_Check(*dp) && PyDict_GetItemWithError(*dp, a)) ||
			    _PyType_Lookup(Py_TYPE(v), a));

		r = mine && (!mod || PyDict_GetItemWithError(PyModule_GetDict(mod), a));
		PyErr_Clear();
		Py_DECREF(a);
	}
	Py_XDECREF(it);
	PyErr_Clear();
	return r;
}

/*
 * The system module the notebook's own import statements bound `n` to
 * (borrowed), or NULL; *natural: the statement named it by its own last part
 * (`from numpy import random`, not `import keyword as math`). Read from
 * sys.modules and the parent's dict: no code of the notebook's runs.
 */
static PyObject *imported_as(struct kwatch *w, PyObject *n, int *natural)
{
	PyObject *t = w->nsimports ? PyDict_GetItemWithError(w->nsimports, n) : NULL;
	PyObject *mods = PyImport_GetModuleDict(), *m = NULL;
	const char *full, *dot;

	*natural = 0;
	if (!t || !PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 2)
		goto done;
	full = kwatch_str(PyTuple_GET_ITEM(t, 0));
	*natural = PyTuple_GET_ITEM(t, 1) == Py_True;
	m = PyDict_GetItemString(mods, full);
	dot = strrchr(full, '.');
	if (!m && dot) {
		/* `from P import x`, x a module P binds but sys.modules does not name so */
		PyObject *pn = PyUnicode_FromStringAndSize(full, dot - full);
		PyObject *parent = pn ? PyDict_GetItemWithError(mods, pn) : NULL;

		Py_XDECREF(pn);
		if (parent && PyModule_Check(parent))
			m = PyDict_GetItemString(PyModule_GetDict(parent), dot + 1);
	}
	if (m && !system_module(w, m))
		m = NULL;
done:
	PyErr_Clear();
	return m;
}

void kguard_note_imports(struct kwatch *w, const char *lines)
{
	char name[256], mod[512];
	int natural, used;

	if (!w || !lines || (!w->nsimports && !(w->nsimports = PyDict_New())))
		return;
	while (sscanf(lines, "%255s %511s %d%n", name, mod, &natural, &used) == 3) {
		PyObject *t = Py_BuildValue("(sO)", mod, natural ? Py_True : Py_False);

		if (t)
			PyDict_SetItemString(w->nsimports, name, t);
		Py_XDECREF(t);
		lines += used;
	}
	PyErr_Clear();
}

/*
 * What the test should get under name `n`, and how firmly: the module a
 * plain `import n` gives for a system module's name; for a conventional
 * alias the module the notebook's own import statement bound it to, else
 * the library the alias names (both firm: another system module there is
 * flagged); else the system module the notebook bound it to first (any
 * system module then passes). *expect is the module (borrowed) when loaded,
 * *what its name. 0 when the name is no module's.
 */
static int expected(struct kwatch *w, PyObject *n, PyObject **expect, const char **what, int *firm)
{
	PyObject *m;
	const char *alias = alias_of(kwatch_str(n));
	int natural;

	*expect = NULL;
	*firm = 1;
	if (kwatch_system_name(w, n)) {
		*what = kwatch_str(n);
	} else if (alias && (m = imported_as(w, n, &natural))) {
		*expect = m;
		*what = PyModule_GetName(m);
	} else if (alias) {
		*what = alias;
	} else if ((m = PyDict_GetItemWithError(w->nsmods, n))) {
		*expect = m;
		*what = PyModule_GetName(m);
		*firm = 0;
	} else {
		PyErr_Clear();
		return 0;
	}
	if (!*what) {
		PyErr_Clear();
		return 0;
	}
	if (!*expect) {
		m = PyDict_GetItemString(PyImport_GetModuleDict(), *what);
		*expect = m && system_module(w, m) ? m : NULL;
	}
	PyErr_Clear();
	return 1;
}

/*
 * A system module `v` under a system module's name `n` that a plain `import
 * n` would not give, but honestly the notebook's: one whose own name ends in
 * `n` (`from numpy import random`, `random = np.random`), or one the
 * notebook's import statement named naturally (`from os import path`).
 */
static int natural_module(struct kwatch *w, PyObject *n, PyObject *v)
{
	const char *mn = PyModule_GetName(v), *last;
	int natural;

	PyErr_Clear();
	last = mn ? strrchr(mn, '.') : NULL;
	if (mn && !strcmp(last ? last + 1 : mn, kwatch_str(n)))
		return 1;
	return imported_as(w, n, &natural) == v && natural;
}

/* The cell that gave `n` its current value (0: unknown). */
static long bound_in(struct kwatch *w, PyObject *n, PyObject *v)
{
	PyObject *t = PyDict_GetItemWithError(w->nsbind, n);
	long cell = 0;

	if (t && PyTuple_Check(t) && PyTuple_GET_SIZE(t) == 2 &&
	    PyLong_AsVoidPtr(PyTuple_GET_ITEM(t, 0)) == (void *)v)
		cell = PyLong_AsLong(PyTuple_GET_ITEM(t, 1));
	PyErr_Clear();
	return cell;
}

/* A name the test reads, bound by the notebook to a fake of the module it names. */
static void fake_module(struct kwatch *w, PyObject *ns, PyObject *n, PyObject *v, PyObject *names,
			long cell)
{
	PyObject *mod;
	const char *what = NULL;
	char since[40] = "", desc[160];
	int firm, sys_ = system_module(w, v);
	long at;

	if (!expected(w, n, &mod, &what, &firm))
		return;
	if (sys_ && (!firm || v == mod || natural_module(w, n, v)))
		return;
	if (!PyModule_Check(v) && !stands_in(v, mod, n, names))
		return;
	/* the module the test should read, loaded for it if need be (a system import) */
	if (!mod && firm && (mod = PyImport_ImportModule(what))) {
		Py_DECREF(mod); /* sys.modules holds it */
		if (!system_module(w, mod))
			mod = NULL;
	}
	PyErr_Clear();
	at = bound_in(w, n, v);
	if (at > 0)
		snprintf(since, sizeof(since), " by cell %ld", at);
	if (sys_) {
		const char *mn = PyModule_GetName(v);

		PyErr_Clear();
		snprintf(desc, sizeof(desc), "another system module '%.60s'", mn ? mn : "?");
	} else if (PyModule_Check(v)) {
		const char *mn = PyModule_GetName(v);

		PyErr_Clear();
		snprintf(desc, sizeof(desc), "a module '%.60s' (%.40s) not from the system",
			 mn ? mn : "?", Py_TYPE(v)->tp_name);
	} else {
		snprintf(desc, sizeof(desc), "an object of type %.60s", Py_TYPE(v)->tp_name);
	}
	kwatch_flag(w, "shadowed_module", kwatch_str(n),
		    "'%s', read by grade cell %ld, is bound%s to %s, not the system module "
		    "'%s'%s",
		    kwatch_str(n), cell, since, desc, what,
		    mod ? " (the test gets the system's)" : "");
	if (mod)
		PyDict_SetItem(ns, n, mod);
	PyErr_Clear();
}

/*
 * Flag every name `code` (and the code nested in it) reads that `ns` binds to
 * a callable other than the builtin of that name, or to a fake of a module.
 */
static void shadowed(struct kwatch *w, PyObject *code, PyObject *ns, PyObject *bdict, long cell)
{
	PyObject *names = PySet_New(NULL), *list, *n;

	if (!names)
		return;
	code_names(code, names, 0);
	list = PySequence_List(names);
	for (Py_ssize_t i = 0; list && i < PyList_GET_SIZE(list); i++) {
		PyObject *mine, *real;

		n = PyList_GET_ITEM(list, i);
		mine = PyDict_GetItemWithError(ns, n);
		real = mine ? PyDict_GetItemWithError(bdict, n) : NULL;
		if (mine && real && mine != real && PyCallable_Check(mine))
			kwatch_flag(w, "replaced_builtins", PyUnicode_AsUTF8(n),
				    "the notebook binds '%s' over builtins.%s, and grade cell %ld "
				    "reads it",
				    PyUnicode_AsUTF8(n), PyUnicode_AsUTF8(n), cell);
		else if (mine && PyUnicode_Check(n))
			fake_module(w, ns, n, mine, names, cell);
		else if (!mine && PyUnicode_Check(n) && (real = PyDict_GetItemWithError(bdict, n)))
			fake_module(w, ns, n, real, names, cell); /* builtins.math = fake */
		PyErr_Clear();
	}
	Py_XDECREF(list);
	Py_DECREF(names);
	PyErr_Clear();
}

/* Python handlers on any signal but ours, and interval timers: off, and flagged. */
static void signals(struct kwatch *w, PyObject *sigmod, long cell, int own, PyObject *own_handler)
{
	static const int timers[] = {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF};
	static const struct itimerval off = {{0, 0}, {0, 0}};
	PyObject *getsig = PyObject_GetAttrString(sigmod, "getsignal");
	PyObject *setsig = PyObject_GetAttrString(sigmod, "signal");
	PyObject *dflt_int = PyObject_GetAttrString(sigmod, "default_int_handler");

	for (int t = 0; t < 3; t++) {
		struct itimerval old;

		if (getitimer(timers[t], &old) == 0 &&
		    (old.it_value.tv_sec || old.it_value.tv_usec)) {
			setitimer(timers[t], &off, NULL);
			kwatch_flag(w, "replaced_builtins", "itimer",
				    "an interval timer was armed when grade cell %ld started",
				    cell);
		}
	}
	for (int s = 1; getsig && setsig && s < NSIG; s++) {
		PyObject *h;

		if (s == SIGKILL || s == SIGSTOP)
			continue;
		h = PyObject_CallFunction(getsig, "i", s);
		if (s == own) {
			/* the engine's own signal keeps the engine's handler, nothing else */
			if (h && own_handler && h != own_handler) {
				PyObject *r = PyObject_CallFunction(setsig, "iO", s, own_handler);

				Py_XDECREF(r);
				kwatch_flag(w, "replaced_builtins", "signal",
					    "the handler of signal %d (the engine's) was replaced "
					    "when grade cell %ld started (put back)",
					    s, cell);
			}
			Py_XDECREF(h);
			PyErr_Clear();
			continue;
		}
		if (h && PyCallable_Check(h) && h != dflt_int) {
			PyObject *r =
			    PyObject_CallFunction(setsig, "ii", s, (int)(intptr_t)SIG_IGN);

			Py_XDECREF(r);
			kwatch_flag(w, "replaced_builtins", "signal",
				    "a Python handler of signal %d was set when grade cell %ld "
				    "started (now ignored)",
				    s, cell);
		}
		Py_XDECREF(h);
		PyErr_Clear();
	}
	Py_XDECREF(getsig);
	Py_XDECREF(setsig);
	Py_XDECREF(dflt_int);
	PyErr_Clear();
}

void kguard_signals(struct kwatch *w, PyObject *sigmod, long cell, int own_signal,
		    PyObject *own_handler, int collect)
{
	PyObject *type, *value, *tb;

	if (!w || !sigmod)
		return;
	PyErr_Fetch(&type, &value, &tb);
	/* finalizers that are due run now, before the checks, not during the test */
	if (collect)
		PyGC_Collect();
	PyErr_Clear();
	signals(w, sigmod, cell, own_signal, own_handler);
	PyErr_Restore(type, value, tb);
}

void kguard_shadowed(struct kwatch *w, PyObject *code, PyObject *ns, long cell)
{
	PyObject *type, *value, *tb;

	if (!w || !code || !PyCode_Check(code))
		return;
	PyErr_Fetch(&type, &value, &tb);
	shadowed(w, code, ns, PyEval_GetBuiltins(), cell);
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
}

void kguard_note_ns(struct kwatch *w, PyObject *ns, long cell)
{
	PyObject *type, *value, *tb, *key, *v;
	Py_ssize_t pos = 0;

	if (!w || !ns || !PyDict_Check(ns))
		return;
	PyErr_Fetch(&type, &value, &tb);
	while (PyDict_Next(ns, &pos, &key, &v)) {
		PyObject *t, *id;

		/* before any lookup with it: a crafted key's __hash__ would run */
		if (!PyUnicode_CheckExact(key))
			continue;
		t = PyDict_GetItemWithError(w->nsbind, key);
		if (PyModule_Check(v) && !PyDict_GetItemWithError(w->nsmods, key) &&
		    system_module(w, v))
			PyDict_SetItem(w->nsmods, key, v);
		if (t && PyTuple_Check(t) && PyLong_AsVoidPtr(PyTuple_GET_ITEM(t, 0)) == (void *)v)
			continue;
		id = PyLong_FromVoidPtr(v);
		t = id ? Py_BuildValue("(Nl)", id, cell) : NULL;
		if (t)
			PyDict_SetItem(w->nsbind, key, t);
		Py_XDECREF(t);
	}
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
}

/* ---- import hooks and collector callbacks the notebook added ---- */

/* Code of the system's Python or of the import system itself. */
static int trusted_code(PyObject *code)
{
	const char *f = PyCode_Check(code) ? kwatch_str(((PyCodeObject *)code)->co_filename) : "";

	return kwatch_trusted(f) || !strncmp(f, "<frozen ", 8);
}

/* Every Python function in `dict` (and staticmethod/classmethod wrappers) is the system's. */
static int trusted_dict(PyObject *dict)
{
	PyObject *key, *v;
	Py_ssize_t pos = 0;

	while (dict && PyDict_Check(dict) && PyDict_Next(dict, &pos, &key, &v)) {
		/* borrowed where it can be (no code runs): no reference count written */
		PyObject *own = NULL, *f = v;
		int bad;

		if (!PyFunction_Check(v) &&
		    (Py_IS_TYPE(v, &PyStaticMethod_Type) || Py_IS_TYPE(v, &PyClassMethod_Type)))
			f = own = PyObject_GetAttrString(v, "__func__");
		PyErr_Clear();
		bad = f && PyFunction_Check(f) && !trusted_code(PyFunction_GET_CODE(f));
		Py_XDECREF(own);
		if (bad)
			return 0;
	}
	return 1;
}

static int trusted_type(PyTypeObject *t)
{
	PyObject *mro = t->tp_mro;

	for (Py_ssize_t i = 0; mro && i < PyTuple_GET_SIZE(mro); i++) {
		PyTypeObject *b = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);

		if ((b->tp_flags & Py_TPFLAGS_HEAPTYPE) && !trusted_dict(b->tp_dict))
			return 0;
	}
	return 1;
}

/*
 * A finder, path hook or collector callback of the system's: a function of a
 * system file, a builtin, a class whose methods are all the system's or an
 * instance of one with no function of its own. Anything else (a partial of
 * setattr, a lambda of a cell) is the notebook's. No code of it runs.
 */
int kguard_system_object(PyObject *o)
{
	PyObject **dp;

	if (PyFunction_Check(o))
		return trusted_code(PyFunction_GET_CODE(o));
	if (PyCFunction_Check(o)) {
		PyObject *self = PyCFunction_GET_SELF(o);

		return !self || PyModule_Check(self);
	}
	if (PyMethod_Check(o))
		return kguard_system_object(PyMethod_GET_FUNCTION(o)) &&
		       kguard_system_object(PyMethod_GET_SELF(o));
	if (PyType_Check(o))
		return trusted_type((PyTypeObject *)o);
	if (!(Py_TYPE(o)->tp_flags & Py_TPFLAGS_HEAPTYPE))
		return !PyCallable_Check(o); /* a C object, not callable: data */
	dp = _PyObject_GetDictPtr(o);
	PyErr_Clear();
	return trusted_type(Py_TYPE(o)) && (!dp || !*dp || trusted_dict(*dp));
}

/* A finder's `path` is the directory its sys.path_importer_cache key names. */
static int finder_of(PyObject *key, PyObject *path)
{
	char cwd[4096], want[8300];
	const char *k = PyUnicode_Check(key) ? kwatch_str(key) : NULL;
	const char *p = PyUnicode_Check(path) ? kwatch_str(path) : NULL;

	if (!k || !p)
		return !k; /* a key that is no path: not ours to judge */
	if (k[0] == '/')
		return !strcmp(k, p);
	/* a relative entry: the finder holds it joined to the working directory */
	if (!getcwd(cwd, sizeof(cwd)))
		return 0;
	snprintf(want, sizeof(want), "%s%s%s", cwd, *k && strcmp(k, ".") ? "/" : "",
		 *k && strcmp(k, ".") ? k : "");
	return !strcmp(want, p);
}

/* The lists a notebook can hook imports and collections with, by where they live. */
static PyObject *hook_list(int which)
{
	PyObject *gc;

	if (which < 2)
		return PySys_GetObject(which ? "path_hooks" : "meta_path"); /* borrowed */
	gc = PyDict_GetItemString(PyImport_GetModuleDict(), "gc");
	return gc && PyModule_Check(gc) ? PyDict_GetItemString(PyModule_GetDict(gc), "callbacks")
					: NULL;
}

static const char *const hook_names[] = {"sys.meta_path", "sys.path_hooks", "gc.callbacks"};

/*
 * Whether `o` itself is an item of the tuple `t`: by identity, never by an
 * __eq__, which an object of the notebook's may define to equal anything.
 */
static int holds_itself(PyObject *t, PyObject *o)
{
	for (Py_ssize_t i = 0; t && PyTuple_Check(t) && i < PyTuple_GET_SIZE(t); i++)
		if (PyTuple_GET_ITEM(t, i) == o)
			return 1;
	return 0;
}

int kguard_foreign_hooks(struct kwatch *w, long cell, int remove)
{
	int found = 0;

	for (int which = 0; which < 3; which++) {
		PyObject *l = hook_list(which), *keep;

		if (!l || !PyList_Check(l) || !(keep = PyList_New(0)))
			continue;
		for (Py_ssize_t i = 0; i < PyList_GET_SIZE(l); i++) {
			PyObject *o = PyList_GET_ITEM(l, i);
			int base = holds_itself(w->base_hooks[which], o);

			if (base || kguard_system_object(o)) {
				PyList_Append(keep, o);
				continue;
			}
			found = 1;
			if (remove)
				kwatch_flag(w, "replaced_builtins", hook_names[which],
					    "%s held a %.60s of the notebook's when grade cell %ld "
					    "started (removed)",
					    hook_names[which],
					    PyType_Check(o) ? ((PyTypeObject *)o)->tp_name
							    : Py_TYPE(o)->tp_name,
					    cell);
		}
		if (remove && found && PyList_GET_SIZE(keep) != PyList_GET_SIZE(l))
			PyList_SetSlice(l, 0, PyList_GET_SIZE(l), keep);
		Py_DECREF(keep);
	}
	/* what threading.setprofile()/settrace() leave for threads started later */
	for (int k = 0; remove && k < 2; k++) {
		PyObject *th = PyDict_GetItemString(PyImport_GetModuleDict(), "threading");
		const char *name = k ? "_trace_hook" : "_profile_hook";
		PyObject *d = th && PyModule_Check(th) ? PyModule_GetDict(th) : NULL;
		PyObject *h = d ? PyDict_GetItemString(d, name) : NULL;

		if (h && h != Py_None) {
			kwatch_flag(w, "replaced_builtins", name,
				    "threading.%s%s was set when grade cell %ld started (removed)",
				    k ? "settrace" : "setprofile", "()", cell);
			PyDict_SetItemString(d, name, Py_None);
		}
	}
	/*
	 * The finders cached for sys.path entries: one of the notebook's (its
	 * own class, or one its hooks made), or a system finder for another
	 * directory than its key (a FileFinder of /tmp/zz under the standard
	 * library's path), would serve a module of its own to the test's import.
	 * Before a grade cell each is flagged and dropped (the import system
	 * makes the system's again); inside an import it makes the import the
	 * notebook's.
	 */
	{
		PyObject *cache = PySys_GetObject("path_importer_cache"), *key, *v, *drop;
		Py_ssize_t pos = 0;
		char first[300] = "";

		drop = cache && PyDict_Check(cache) ? PyList_New(0) : NULL;
		while (drop && PyDict_Next(cache, &pos, &key, &v)) {
			PyObject **dp = v != Py_None ? _PyObject_GetDictPtr(v) : NULL;
			PyObject *path = dp && *dp && PyDict_Check(*dp)
					     ? PyDict_GetItemString(*dp, "path")
					     : NULL;

			if (v == Py_None)
				continue;
			if (kguard_system_object(v) && (!path || finder_of(key, path)))
				continue;
			PyErr_Clear();
			if (remove && !PyList_GET_SIZE(drop))
				snprintf(first, sizeof(first), "a %.60s for '%.200s'",
					 Py_TYPE(v)->tp_name, kwatch_str(key));
			PyList_Append(drop, key);
		}
		if (remove && drop && PyList_GET_SIZE(drop) > 0)
			kwatch_flag(w, "shadowed_module", "sys.path_importer_cache",
				    "sys.path_importer_cache held %s%s when grade cell %ld started "
				    "(removed)",
				    first, PyList_GET_SIZE(drop) > 1 ? " and others" : "", cell);
		found |= drop && PyList_GET_SIZE(drop) > 0;
		for (Py_ssize_t i = 0; remove && drop && i < PyList_GET_SIZE(drop); i++)
			PyDict_DelItem(cache, PyList_GET_ITEM(drop, i));
		Py_XDECREF(drop);
	}
	PyErr_Clear();
	return found;
}

void kguard_hooks_base(struct kwatch *w)
{
	for (int which = 0; which < 3; which++) {
		PyObject *l = hook_list(which);

		w->base_hooks[which] = l && PyList_Check(l) ? PySequence_Tuple(l) : NULL;
	}
	PyErr_Clear();
}
