/*
 * kernel_loop.c - the notebook's asyncio event loop, held by C. Cells run as
 * in a kernel, inside a running loop (asyncio.run() says so), and a cell that
 * awaits at top level is a coroutine C runs to its end on that loop. Student
 * code can reach the loop (asyncio.get_running_loop()) and set attributes on
 * it: a run_until_complete of its own, a task factory handing back a finished
 * future, and the test's coroutine would never run. So the loop's class, and
 * the class's run_until_complete, are the zygote's references; before each
 * top-level await the loop's own attributes are compared with what they were
 * when it was made, and a loop student code changed is flagged and replaced by
 * a fresh one for the run. No Python state of the engine's takes part.
 */
#include <string.h>

#include "kernel_py.h"

int kloop_init(struct kloop *l)
{
	PyObject *asyncio = PyImport_ImportModule("asyncio");
	PyObject *events = asyncio ? PyObject_GetAttrString(asyncio, "events") : NULL;

	memset(l, 0, sizeof(*l));
	if (events) {
		l->cls = PyObject_GetAttrString(asyncio, "SelectorEventLoop");
		l->run = l->cls ? PyObject_GetAttrString(l->cls, "run_until_complete") : NULL;
		l->close = l->cls ? PyObject_GetAttrString(l->cls, "close") : NULL;
		l->set_running = PyObject_GetAttrString(events, "_set_running_loop");
		l->set_loop = PyObject_GetAttrString(events, "set_event_loop");
	}
	Py_XDECREF(events);
	Py_XDECREF(asyncio);
	if (!l->cls || !PyType_Check(l->cls) || !l->run || !l->close || !l->set_running ||
	    !l->set_loop) {
		PyErr_Clear();
		return -1;
	}
	return 0;
}

/* The instance's own namespace (borrowed), read without running its code. */
static PyObject *own_dict(PyObject *o)
{
	PyObject **dp = o ? _PyObject_GetDictPtr(o) : NULL;

	PyErr_Clear();
	return dp && *dp && PyDict_Check(*dp) ? *dp : NULL;
}

/* A new loop for the notebook: made from the zygote's class, its attributes remembered. */
static int fresh(struct kloop *l)
{
	PyObject *loop = PyObject_CallNoArgs(l->cls), *d, *r;

	if (!loop)
		return -1;
	d = own_dict(loop);
	Py_XSETREF(l->snap, d ? PyDict_Copy(d) : NULL);
	Py_XSETREF(l->loop, loop);
	l->type = Py_TYPE(loop);
	r = PyObject_CallOneArg(l->set_loop, loop);
	Py_XDECREF(r);
	PyErr_Clear();
	return l->snap ? 0 : -1;
}

void kloop_mark(struct kloop *l, int on)
{
	PyObject *d, *id, *r;

	if (!l->cls || (!l->loop && fresh(l) < 0)) {
		PyErr_Clear();
		return;
	}
	/* the thread id asyncio compares, written into the instance's own dict */
	d = own_dict(l->loop);
	id = on ? PyLong_FromUnsignedLong(PyThread_get_thread_ident()) : Py_NewRef(Py_None);
	if (d && id)
		PyDict_SetItemString(d, "_thread_id", id);
	Py_XDECREF(id);
	r = PyObject_CallOneArg(l->set_running, on ? l->loop : Py_None);
	Py_XDECREF(r);
	PyErr_Clear();
}

/* Values a loop changes as it runs (flags, counters, times) or fills once (an executor). */
static int plain(PyObject *old, PyObject *cur)
{
	if (old == Py_None)
		return !PyCallable_Check(cur);
	return PyBool_Check(old) || PyLong_Check(old) || PyFloat_Check(old);
}

/* 1 when student code changed the loop since it was made (each change flagged). */
static int tampered(struct kloop *l, struct kwatch *w)
{
	PyObject *d = own_dict(l->loop), *key, *cur, *old;
	Py_ssize_t pos = 0;
	int bad = 0;

	if (Py_TYPE(l->loop) != l->type) {
		kwatch_flag(w, "replaced_builtins", "asyncio loop",
			    "the notebook's event loop was given the class %.60s (found before "
			    "cell %ld)",
			    Py_TYPE(l->loop)->tp_name, w ? w->cell : 0);
		return 1;
	}
	while (d && PyDict_Next(d, &pos, &key, &cur)) {
		const char *k = kwatch_str(key);

		old = PyDict_GetItemWithError(l->snap, key);
		if (!old && _PyType_Lookup(l->type, key)) {
			kwatch_flag(w, "replaced_builtins", "asyncio loop",
				    "the event loop's %.60s replaced on the instance (found before "
				    "cell %ld)",
				    k, w ? w->cell : 0);
			bad = 1;
		} else if (old && old != cur && !plain(old, cur)) {
			kwatch_flag(w, "replaced_builtins", "asyncio loop",
				    "the event loop's %.60s replaced (found before cell %ld)", k,
				    w ? w->cell : 0);
			bad = 1;
		}
	}
	PyErr_Clear();
	return bad;
}

/*
 * A grade cell's coroutine runs on a loop of its own, made now from the
 * zygote's class: the tasks and callbacks the notebook left on its loop do
 * not run while the test does (one could install a fake while the test
 * awaits and take it away before the check after the cell).
 */
static PyObject *run_alone(struct kloop *l, PyObject *coro)
{
	PyObject *own = PyObject_CallNoArgs(l->cls), *r, *x, *type, *value, *tb;

	if (!own)
		return NULL;
	r = PyObject_CallOneArg(l->set_running, Py_None);
	Py_XDECREF(r);
	r = PyObject_CallFunctionObjArgs(l->run, own, coro, NULL);
	PyErr_Fetch(&type, &value, &tb);
	x = PyObject_CallOneArg(l->close, own);
	Py_XDECREF(x);
	Py_DECREF(own);
	PyErr_Clear();
	kloop_mark(l, 1);
	PyErr_Restore(type, value, tb);
	return r;
}

PyObject *kloop_run(struct kloop *l, struct kwatch *w, PyObject *coro, int grade)
{
	PyObject *r, *type, *value, *tb;

	if (!l->cls) {
		PyErr_SetString(PyExc_RuntimeError, "no event loop for a top-level await");
		return NULL;
	}
	/* a loop student code changed is not trusted to run anything: a fresh one does */
	if ((!l->loop || tampered(l, w)) && fresh(l) < 0)
		return NULL;
	if (grade)
		return run_alone(l, coro);
	kloop_mark(l, 0);
	r = PyObject_CallFunctionObjArgs(l->run, l->loop, coro, NULL);
	/* the cell's exception, if any, is what the cell raised */
	PyErr_Fetch(&type, &value, &tb);
	kloop_mark(l, 1);
	PyErr_Restore(type, value, tb);
	return r;
}
