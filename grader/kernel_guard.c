/*
 * kernel_guard.c - what the child does right before a grade cell, beyond
 * the watcher (kernel_watch.c): names the test reads that the notebook bound
 * over a builtin, and signal handlers or interval timers student code left
 * armed (a handler can install a fake only while the test's frames run and
 * take it away before the check after the cell). Each is flagged with a
 * reason; handlers are set to ignore and timers cleared, so nothing of the
 * student's runs between the check and the test's own code.
 */
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "kernel_py.h"

/* Flag every name `code` (and the code nested in it) reads that `ns` binds
 * to a callable other than the builtin of that name. */
static void shadowed(struct kwatch *w, PyObject *code, PyObject *ns, PyObject *bdict, long cell,
		     int depth)
{
	PyCodeObject *co = (PyCodeObject *)code;
	PyObject *names = co->co_names, *consts = co->co_consts;

	for (Py_ssize_t i = 0; names && i < PyTuple_GET_SIZE(names); i++) {
		PyObject *n = PyTuple_GET_ITEM(names, i);
		PyObject *mine = PyDict_GetItemWithError(ns, n);
		PyObject *real = mine ? PyDict_GetItemWithError(bdict, n) : NULL;

		if (mine && real && mine != real && PyCallable_Check(mine))
			kwatch_flag(w, "replaced_builtins", PyUnicode_AsUTF8(n),
				    "the notebook binds '%s' over builtins.%s, and grade cell %ld "
				    "reads it",
				    PyUnicode_AsUTF8(n), PyUnicode_AsUTF8(n), cell);
		PyErr_Clear();
	}
	for (Py_ssize_t i = 0; depth < 32 && consts && i < PyTuple_GET_SIZE(consts); i++)
		if (PyCode_Check(PyTuple_GET_ITEM(consts, i)))
			shadowed(w, PyTuple_GET_ITEM(consts, i), ns, bdict, cell, depth + 1);
}

/* Python handlers on any signal but ours, and interval timers: off, and flagged. */
static void signals(struct kwatch *w, PyObject *sigmod, long cell, int own)
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

		if (s == own || s == SIGKILL || s == SIGSTOP)
			continue;
		h = PyObject_CallFunction(getsig, "i", s);
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

void kguard_signals(struct kwatch *w, PyObject *sigmod, long cell, int own_signal)
{
	PyObject *type, *value, *tb;

	if (!w || !sigmod)
		return;
	PyErr_Fetch(&type, &value, &tb);
	signals(w, sigmod, cell, own_signal);
	PyErr_Restore(type, value, tb);
}

void kguard_shadowed(struct kwatch *w, PyObject *code, PyObject *ns, long cell)
{
	PyObject *type, *value, *tb;

	if (!w || !code || !PyCode_Check(code))
		return;
	PyErr_Fetch(&type, &value, &tb);
	shadowed(w, code, ns, PyEval_GetBuiltins(), cell, 0);
	PyErr_Clear();
	PyErr_Restore(type, value, tb);
}
