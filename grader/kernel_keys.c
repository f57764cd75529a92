/*
 * kernel_keys.c - keys that are not plain strs (kguard_keys): in the
 * notebook's namespace, the builtins, sys.modules, every watched namespace
 * and the builtin types' dicts, flagged and removed after every cell and
 * before each grade cell. A dict found clean is not walked again until its
 * version tag moves (every change to a dict gives it a new, unique one), so a
 * cell that changed nothing costs a comparison per dict.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel_py.h"

/*
 * Remove from `d` every key that is not an exact str, flagging each with
 * `flag` and a reason naming it and `where`. Nothing of the keys' runs: the
 * dict is read with PyDict_Next and rebuilt from its plain-str entries (their
 * hash and equality are str's own); the removed entries are kept alive in
 * w->dropped, so no __del__ of theirs runs before the test.
 */
static int plain_keys(struct kwatch *w, PyObject *d, const char *flag, const char *where)
{
	PyObject *key, *v, *items;
	Py_ssize_t pos = 0;
	int bad = 0;

	while (PyDict_Next(d, &pos, &key, &v)) {
		const char *text;

		if (PyUnicode_CheckExact(key))
			continue;
		bad = 1;
		/* a str subclass's own text, read by C: no method of it runs */
		text = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
		PyErr_Clear();
		if (text)
			kwatch_flag(w, flag, text,
				    "%s holds a key of type %.60s equal to '%.60s', not a str "
				    "(cell %ld; removed)",
				    where, Py_TYPE(key)->tp_name, text, w->cell);
		else
			kwatch_flag(w, flag, NULL,
				    "%s holds a key of type %.60s, not a str (cell %ld; removed)",
				    where, Py_TYPE(key)->tp_name, w->cell);
	}
	if (!bad || (!w->dropped && !(w->dropped = PyList_New(0))))
		goto done;
	items = PyDict_Items(d);
	if (!items || PyList_Append(w->dropped, items) < 0) {
		Py_XDECREF(items);
		goto done;
	}
	Py_DECREF(items);
	PyDict_Clear(d);
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
		PyObject *t = PyList_GET_ITEM(items, i);

		if (PyUnicode_CheckExact(PyTuple_GET_ITEM(t, 0)))
			PyDict_SetItem(d, PyTuple_GET_ITEM(t, 0), PyTuple_GET_ITEM(t, 1));
	}
done:
	PyErr_Clear();
	return bad;
}

/* plain_keys on `d`, unless it is the dict `s` found clean, unchanged since. */
static int plain_keys_since(struct kwatch *w, struct kw_seen *s, PyObject *d, const char *flag,
			    const char *where)
{
	uint64_t v = kwatch_dict_version(d);
	int bad;

	if (v && s->dict == d && s->version == v)
		return 0;
	bad = plain_keys(w, d, flag, where);
	s->dict = d;
	s->version = kwatch_dict_version(d);
	return bad;
}

/* The builtin types among the builtins (static types with a dict), listed again when they moved. */
static void list_types(struct kwatch *w)
{
	PyObject *k, *t;
	Py_ssize_t pos = 0;
	uint64_t v = kwatch_dict_version(w->builtins);

	if (v && w->keys_types_of.dict == w->builtins && w->keys_types_of.version == v)
		return;
	w->ntypes = 0;
	w->keys_types_of.dict = NULL;
	while (PyDict_Next(w->builtins, &pos, &k, &t)) {
		PyTypeObject *tp = (PyTypeObject *)t;

		if (!PyType_Check(t) || (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) || !tp->tp_dict)
			continue;
		if (w->ntypes == w->captypes) {
			size_t ncap = w->captypes ? w->captypes * 2 : 128;
			void *p = realloc(w->types, ncap * sizeof(*w->types));
			void *q = p ? realloc(w->keys_types, ncap * sizeof(*w->keys_types)) : NULL;

			if (p)
				w->types = p;
			if (!q) {
				w->ntypes = 0;
				return; /* no list: every call walks them all */
			}
			w->keys_types = q;
			w->captypes = ncap;
		}
		w->types[w->ntypes] = tp;
		w->keys_types[w->ntypes].dict = NULL;
		w->ntypes++;
	}
	w->keys_types_of.dict = w->builtins;
	w->keys_types_of.version = v;
}

void kguard_keys(struct kwatch *w, PyObject *ns)
{
	PyObject *type, *value, *tb, *k, *t;
	Py_ssize_t pos;

	if (!w)
		return;
	PyErr_Fetch(&type, &value, &tb);
	if (ns && PyDict_Check(ns))
		plain_keys_since(w, &w->keys_ns, ns, "replaced_builtins",
				 "the notebook's namespace");
	if (w->builtins && PyDict_Check(w->builtins))
		plain_keys_since(w, &w->keys_builtins, w->builtins, "replaced_builtins",
				 "builtins");
	plain_keys_since(w, &w->keys_modules, PyImport_GetModuleDict(), "shadowed_module",
			 "sys.modules");
	for (size_t i = 0; i < w->nrecs; i++) {
		struct kw_rec *r = &w->recs[i];
		uint64_t v = kwatch_dict_version(r->dict);
		char where[560];

		if (v && v == r->keys_version)
			continue;
		snprintf(where, sizeof(where), "%s %s", r->is_class ? "class" : "module", r->name);
		/* a class's lookups are cached by name: the cache forgets the key too */
		if (plain_keys(w, r->dict, "replaced_builtins", where) && r->is_class)
			PyType_Modified((PyTypeObject *)r->owner);
		r->keys_version = kwatch_dict_version(r->dict);
	}
	/* the builtin types' own dicts (gc.get_referents(str.__dict__) reaches them) */
	if (w->builtins && PyDict_Check(w->builtins))
		list_types(w);
	if (w->keys_types_of.dict) {
		for (size_t i = 0; i < w->ntypes; i++) {
			PyTypeObject *tp = w->types[i];
			struct kw_seen *s = &w->keys_types[i];
			uint64_t v = tp->tp_dict ? kwatch_dict_version(tp->tp_dict) : 0;
			char where[120];

			if (!tp->tp_dict || (v && s->dict == tp->tp_dict && s->version == v))
				continue;
			snprintf(where, sizeof(where), "the builtin type %.60s", tp->tp_name);
			if (plain_keys_since(w, s, tp->tp_dict, "replaced_builtins", where))
				PyType_Modified(tp);
		}
		goto done;
	}
	pos = 0;
	while (w->builtins && PyDict_Check(w->builtins) && PyDict_Next(w->builtins, &pos, &k, &t)) {
		PyTypeObject *tp = (PyTypeObject *)t;
		char where[120];

		if (!PyType_Check(t) || (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) || !tp->tp_dict)
			continue;
		snprintf(where, sizeof(where), "the builtin type %.60s", tp->tp_name);
		if (plain_keys(w, tp->tp_dict, "replaced_builtins", where))
			PyType_Modified(tp);
	}
done:
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
}

/* Only exact strs as keys in `d` (read by C: no method of a key runs). */
static int all_plain(PyObject *d)
{
	PyObject *key, *v;
	Py_ssize_t pos = 0;

	while (PyDict_Next(d, &pos, &key, &v))
		if (!PyUnicode_CheckExact(key))
			return 0;
	return 1;
}

static void prime(struct kw_seen *s, PyObject *d)
{
	if (d && PyDict_Check(d) && all_plain(d)) {
		s->dict = d;
		s->version = kwatch_dict_version(d);
	}
}

void kguard_keys_prime(struct kwatch *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->nrecs; i++)
		if (all_plain(w->recs[i].dict))
			w->recs[i].keys_version = kwatch_dict_version(w->recs[i].dict);
	prime(&w->keys_modules, PyImport_GetModuleDict());
	if (!w->builtins || !PyDict_Check(w->builtins))
		return;
	prime(&w->keys_builtins, w->builtins);
	list_types(w);
	for (size_t i = 0; w->keys_types_of.dict && i < w->ntypes; i++)
		prime(&w->keys_types[i], w->types[i]->tp_dict);
}
