/*
 * kernel_trace_attr.c - the checkpoints' view of attributes (see
 * kernel_trace.c): the modules a grade cell's names lead to and the system
 * classes they hold, noted as the cell starts; an attribute the test's
 * instruction is about to read, compared with what the cell accepted; the
 * test's own stores into them; and its own imports, checked against the
 * modules the watcher knows as the system's.
 */
#include <stdio.h>

#include "kernel_py.h"

#ifdef KTRACE_ON

static const char *mod_name(PyObject *m)
{
	PyObject *n = PyUnicode_InternFromString("__name__"),
		 *v = n ? ktrace_get(PyModule_GetDict(m), n) : NULL;

	Py_XDECREF(n); /* interned: the interpreter keeps it */
	PyErr_Clear();
	return v && PyUnicode_CheckExact(v) ? kwatch_str(v) : "?";
}

/*
 * The class that gives `owner` (a class or an instance) its attribute `name`,
 * found along the MRO without running code, into *cls; its value (borrowed).
 */
static PyObject *class_attr(PyObject *owner, PyObject *name, PyObject **cls)
{
	PyTypeObject *tp = PyType_Check(owner) ? (PyTypeObject *)owner : Py_TYPE(owner);
	PyObject *mro = tp->tp_mro, *v;

	for (Py_ssize_t i = 0; mro && PyTuple_Check(mro) && i < PyTuple_GET_SIZE(mro); i++) {
		PyObject *b = PyTuple_GET_ITEM(mro, i);

		if (PyType_Check(b) && (v = ktrace_get(((PyTypeObject *)b)->tp_dict, name))) {
			*cls = b;
			return v;
		}
	}
	return NULL;
}

/* A class of a system module, whose namespace the watcher snapshots (a Python class). */
static int system_class(const struct ktrace *t, PyObject *cls)
{
	PyObject *id;
	int r;

	if (!PyType_Check(cls) || !(((PyTypeObject *)cls)->tp_flags & Py_TPFLAGS_HEAPTYPE) ||
	    !t->w->seen)
		return 0;
	id = PyLong_FromVoidPtr(((PyTypeObject *)cls)->tp_dict);
	r = id ? PySet_Contains(t->w->seen, id) == 1 : 0;
	Py_XDECREF(id);
	PyErr_Clear();
	return r;
}

/* What the cell last accepted as module or class m's attribute `name` (borrowed), or NULL. */
static PyObject *attr_get(const struct ktrace *t, PyObject *m, PyObject *name)
{
	PyObject *id = PyLong_FromVoidPtr(m), *k = id ? PyTuple_Pack(2, id, name) : NULL, *r;

	r = k ? PyDict_GetItemWithError(t->attrs, k) : NULL;
	Py_XDECREF(k);
	Py_XDECREF(id);
	PyErr_Clear();
	return r && PyTuple_GET_ITEM(r, 0) == m ? PyTuple_GET_ITEM(r, 1) : NULL;
}

/* Accept `v` (NULL: none) as module m's attribute `name`; keys are ids, never the notebook's hash.
 */
static void attr_set(struct ktrace *t, PyObject *m, PyObject *name, PyObject *v)
{
	PyObject *id = PyLong_FromVoidPtr(m), *k = id ? PyTuple_Pack(2, id, name) : NULL;
	PyObject *old = k ? PyDict_GetItemWithError(t->attrs, k) : NULL, *val;

	Py_XINCREF(old); /* released by ktrace_drop(): its value's finalizer must not run here */
	val = v ? PyTuple_Pack(2, m, v) : NULL;
	if (k && (val	? PyDict_SetItem(t->attrs, k, val)
		  : old ? PyDict_DelItem(t->attrs, k)
			: 0) < 0)
		PyErr_Clear();
	Py_XDECREF(val);
	Py_XDECREF(k);
	Py_XDECREF(id);
	ktrace_drop(t, old);
	PyErr_Clear();
}

/* A system class a module the cell reaches holds: its attributes the cell's code names. */
static void note_class(struct ktrace *t, PyObject *v)
{
	PyObject *key, *ix, *cls, *a;
	Py_ssize_t pos = 0;

	if (!system_class(t, v))
		return;
	while (PyDict_Next(t->index, &pos, &key, &ix))
		if ((a = class_attr(v, key, &cls)) && system_class(t, cls) &&
		    !attr_get(t, cls, key))
			attr_set(t, cls, key, a);
}

/*
 * The modules the cell's names lead to (`np`, `np.linalg`, a module the test
 * imports itself: sys.modules), and the value of each of their attributes the
 * cell's code names, as they are when the cell starts.
 */
void ktrace_note_modules(struct ktrace *t)
{
	PyObject *mods[KT_MODS], *sysmods = PyImport_GetModuleDict(), *key, *ix;
	int n = 0;
	Py_ssize_t pos = 0;

	while (PyDict_Next(t->index, &pos, &key, &ix)) {
		PyObject *v = ktrace_lookup(t, key);

		if (!v || !PyModule_Check(v))
			v = ktrace_get(sysmods, key);
		if (v && PyModule_Check(v) && n < KT_MODS)
			mods[n++] = v;
	}
	for (int m = 0; m < n; m++) {
		PyObject *d = PyModule_GetDict(mods[m]);

		pos = 0;
		while (d && PyDict_Next(t->index, &pos, &key, &ix)) {
			PyObject *v = ktrace_get(d, key);

			if (!v)
				continue;
			attr_set(t, mods[m], key, v);
			note_class(t, v);
			if (PyModule_Check(v) && n < KT_MODS) {
				int seen = 0;

				for (int j = 0; j < n; j++)
					seen |= mods[j] == v;
				if (!seen)
					mods[n++] = v;
			}
		}
	}
}

/* "module.Class" of a class, for a reason. */
static void class_name(PyObject *cls, char *buf, size_t len)
{
	PyObject *k = PyUnicode_InternFromString("__module__");
	PyObject *m = k ? ktrace_get(((PyTypeObject *)cls)->tp_dict, k) : NULL;
	PyObject *q = ((PyHeapTypeObject *)cls)->ht_qualname;

	snprintf(buf, len, "%s.%s", m && PyUnicode_CheckExact(m) ? kwatch_str(m) : "?",
		 q && PyUnicode_CheckExact(q) ? kwatch_str(q) : "?");
	Py_XDECREF(k);
	PyErr_Clear();
}

/*
 * An attribute about to be read by the test's instruction: of a module, or
 * of a system class (through the class or one of its instances).
 */
void ktrace_check_attr(struct ktrace *t, PyObject *owner, PyObject *name)
{
	PyObject *cur, *rec, *cls = NULL;
	char what[200];

	if (!owner)
		return;
	if (PyModule_Check(owner)) {
		cur = ktrace_get(PyModule_GetDict(owner), name);
		cls = owner;
	} else if (!(cur = class_attr(owner, name, &cls)) || !system_class(t, cls)) {
		return;
	}
	rec = attr_get(t, cls, name);
	if (rec == cur)
		return;
	if (rec && ktrace_tool(rec)) {
		if (cls == owner && PyModule_Check(owner))
			snprintf(what, sizeof(what), "%s", mod_name(owner));
		else
			class_name(cls, what, sizeof(what));
		kwatch_flag(t->w, "replaced_builtins", what,
			    "%s.%s, read by grade cell %ld, was replaced while the test ran", what,
			    kwatch_str(name), t->cell);
	}
	/* a value first set during the test (lazy set-up) is taken as it is first read */
	attr_set(t, cls, name, cur);
}

/* The test's own store into a module's attribute: what it stores is what it reads after. */
void ktrace_own_attr(struct ktrace *t, PyObject *owner, PyObject *name, PyObject *v)
{
	if (owner && (PyModule_Check(owner) || system_class(t, owner)))
		attr_set(t, owner, name, v);
}

/*
 * The test's own `import name` is about to run: each module on the dotted
 * path must be the one the watcher knows as the system's under that name
 * (sys.modules swapped, or emptied, while the test ran: a fake the import
 * would return, or re-import through a finder of the student's). A
 * different entry is flagged and the system's module put back first.
 */
void ktrace_check_import(struct ktrace *t, PyObject *name)
{
	PyObject *sysmods = PyImport_GetModuleDict(), *known, *cur, *part, *id;
	Py_ssize_t len = PyUnicode_GET_LENGTH(name), end = 0;

	while (end < len && t->w->known && t->w->seen) {
		Py_ssize_t dot = PyUnicode_FindChar(name, '.', end, len, 1);

		end = dot < 0 ? len : dot;
		part = PyUnicode_Substring(name, 0, end);
		end++;
		/* the system's module a forged entry replaced, else the last entry accepted */
		known = part ? ktrace_get(t->w->originals, part) : NULL;
		if (!known && part)
			known = ktrace_get(t->w->known, part);
		cur = part ? ktrace_get(sysmods, part) : NULL;
		id = known && PyModule_Check(known) ? PyLong_FromVoidPtr(PyModule_GetDict(known))
						    : NULL;
		if (known && cur != known && id && PySet_Contains(t->w->seen, id) == 1) {
			kwatch_flag(t->w, "shadowed_module", kwatch_str(part),
				    "sys.modules['%s'] %s while grade cell %ld ran (the test's "
				    "import gets the system's module)",
				    kwatch_str(part), cur ? "replaced" : "removed", t->cell);
			Py_XINCREF(cur); /* a module of the student's dies after the cell */
			if (PyDict_SetItem(sysmods, part, known) < 0)
				PyErr_Clear();
			if (cur && t->grave && PyList_Append(t->grave, cur) < 0)
				PyErr_Clear();
			Py_XDECREF(cur);
		}
		Py_XDECREF(id);
		Py_XDECREF(part);
		PyErr_Clear();
	}
}

#endif /* KTRACE_ON */
